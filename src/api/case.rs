//! One viewer's case: everything the rules need to judge one viewer, read from the store the
//! same way by every page that shows it (the viewer's own results, the organiser's evidence
//! panel, the printable report, the appeal queue), so no page can judge from a different log,
//! other parameters, or without the organisers' decisions.

use super::AppState;
use super::error::ApiResult;
use super::results::rules_params;
use crate::domain::decided::InForce;
use crate::domain::log::Event;
use crate::domain::rules::Params;

pub(super) struct Case {
    /// The viewer's own events and every prompt of the forum (the rules need the prompts of
    /// the halls the viewer was not in to say why a prompt was not shown).
    pub events: Vec<Event>,
    /// The server's parameters with the forum's corrections.
    pub params: Params,
    /// The organisers' decisions on this viewer.
    pub decided: InForce,
}

impl Case {
    pub async fn load(state: &AppState, viewer: &str) -> ApiResult<Case> {
        let forum = &state.forum.id;
        let mut events = state.store.viewer_events(forum, viewer).await?;
        events.extend(state.store.prompts_since(forum, i64::MIN).await?);
        Ok(Case {
            events,
            params: rules_params(state).await?,
            decided: InForce::new(state.store.viewer_decisions(forum, viewer).await?),
        })
    }
}
