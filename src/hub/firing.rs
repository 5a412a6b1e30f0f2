//! An organiser's prompt fired in a hall: checked, recorded durably, then published so every
//! node (this one too, through its listener) shows it to its viewers of that hall; and the
//! day's prompts loaded from the store at first need.

use serde::Serialize;

use super::bus::BusEvent;
use super::{Hub, HubError};
use crate::domain::live::day_bounds;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;
use crate::store::StoreError;

/// A fired prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptInfo {
    pub id: String,
    pub hall: String,
    pub ts: Millis,
    pub closes: Millis,
}

impl Hub {
    /// Fires a prompt in `hall`, open for `window_ms` from now: records it durably, then
    /// publishes it so every node shows it to its viewers of that hall.
    pub async fn fire_prompt(
        &self,
        hall: &str,
        window_ms: Millis,
        prompt_id: Option<String>,
    ) -> Result<PromptInfo, HubError> {
        if self.is_stopping() {
            return Err(HubError::ShuttingDown);
        }
        if self.forum().hall(hall).is_none() {
            return Err(HubError::UnknownHall(hall.to_owned()));
        }
        if window_ms <= 0 {
            return Err(HubError::BadWindow);
        }
        self.ensure_prompts().await?;
        let id = prompt_id.unwrap_or_else(|| crate::ids::random_hex(8));
        if self.lock_prompts().get(&id).is_some() {
            return Err(HubError::DuplicatePrompt(id));
        }
        let ts = self.now();
        let info = PromptInfo {
            id,
            hall: hall.to_owned(),
            ts,
            closes: ts + window_ms,
        };
        let event = Event::new(
            ts,
            EventBody::Prompt {
                prompt: info.id.as_str().into(),
                hall: info.hall.as_str().into(),
                closes: info.closes,
            },
        );
        self.writer().record_durable(event).await?;
        metrics::counter!("yavka_prompts_fired_total", "forum" => self.forum().id.clone())
            .increment(1);
        tracing::info!(prompt = %info.id, hall, closes = info.closes, "prompt fired");
        self.publish(&BusEvent::Prompt {
            prompt: info.id.clone(),
            hall: info.hall.clone(),
            ts: info.ts,
            closes: info.closes,
        })?;
        Ok(info)
    }

    /// Today's prompt events (in the forum's time zone), from the store.
    pub(super) async fn day_prompts(&self) -> Result<Vec<Event>, StoreError> {
        let forum = self.forum();
        let (day_start, _) = day_bounds(&forum, self.now());
        self.store().prompts_since(&forum.id, day_start).await
    }

    /// Loads the day's prompts from the store, once.
    pub(super) async fn ensure_prompts(&self) -> Result<(), StoreError> {
        self.0
            .prompts_loaded
            .get_or_try_init(|| async {
                let events = self.day_prompts().await?;
                self.lock_prompts().merge(&events);
                let corrections = self.store().corrections(&self.forum().id).await?;
                self.set_corrections(corrections);
                Ok(())
            })
            .await
            .map(|_| ())
    }
}
