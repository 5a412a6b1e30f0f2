//! A wrong answer to a prompt's challenge: recorded, told to the other nodes, and once the
//! viewer reaches `max_wrong_answers` for that prompt, the prompt is locked for them.

use super::Ctx;
use crate::domain::log::Event;
use crate::hub::protocol::close::SLOW;
use crate::hub::protocol::{ErrorCode, ServerMsg};

impl Ctx {
    /// Answers a wrong answer (already counted in the viewer's state): records it, tells the
    /// other nodes, and once the limit is reached says the prompt can no longer be confirmed,
    /// followed by a tally where its status says so.
    pub(super) async fn wrong_answer(
        &self,
        prompt: &str,
        event: Option<Event>,
        n: u32,
        locked: bool,
    ) -> Result<(), ErrorCode> {
        let hub = &self.hub;
        if let Some(event) = event {
            metrics::counter!("yavka_wrong_answers_total").increment(1);
            tracing::info!(viewer = %self.viewer, prompt, wrong = n, "wrong challenge answer");
            if let Err(e) = hub.writer().record_durable(event.clone()).await {
                tracing::error!(viewer = %self.viewer, prompt, error = %e, "could not record a wrong answer");
            }
            hub.publish_viewer_event(&self.viewer, event);
        }
        if !locked {
            return Err(ErrorCode::WrongAnswer);
        }
        tracing::warn!(viewer = %self.viewer, prompt, wrong = n, "prompt locked: too many wrong answers");
        self.reply(ServerMsg::error(ErrorCode::TooManyWrongAnswers));
        if let Some(t) = hub.tally_json(&self.state, &self.hall) {
            self.handle.offer(t.into(), SLOW);
        }
        Ok(())
    }
}
