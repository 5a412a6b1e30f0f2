//! The live states of the viewers connected to this node: the transport's map from a viewer to
//! their [`LiveViewer`] (the attendance core, `domain::live`), shared by all their tabs here.
//!
//! A state is filled from the store when this node first needs it and then kept current by
//! this node's own connections and by the broker's viewer events from other nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use crate::domain::live::LiveViewer;

/// The live states of the viewers connected to this node, one per viewer whatever their
/// number of tabs. A std mutex: never held across await.
#[derive(Default)]
pub(super) struct Viewers(Mutex<HashMap<String, Arc<Mutex<LiveViewer>>>>);

impl Viewers {
    /// The live state of a viewer connected here, if any.
    pub(super) fn get(&self, viewer: &str) -> Option<Arc<Mutex<LiveViewer>>> {
        self.0.lock().expect("viewers lock").get(viewer).cloned()
    }

    /// Every viewer's live state, a snapshot taken under the lock.
    pub(super) fn all(&self) -> Vec<(String, Arc<Mutex<LiveViewer>>)> {
        let map = self.0.lock().expect("viewers lock");
        map.iter().map(|(v, s)| (v.clone(), s.clone())).collect()
    }

    /// The viewer's live state, created if this is their first socket here.
    pub(super) fn enter(&self, viewer: &str) -> Arc<Mutex<LiveViewer>> {
        let mut map = self.0.lock().expect("viewers lock");
        let state = map
            .entry(viewer.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(LiveViewer::new(viewer))));
        state.lock().expect("viewer lock").local += 1;
        state.clone()
    }

    /// Drops the viewer's live state with their last socket here.
    pub(super) fn leave(&self, viewer: &str) {
        let mut map = self.0.lock().expect("viewers lock");
        if let Some(state) = map.get(viewer) {
            let mut st = state.lock().expect("viewer lock");
            st.local -= 1;
            if st.local == 0 {
                drop(st);
                map.remove(viewer);
            }
        }
    }
}
