//! A confirm: the live core decides whether it may be judged (`LiveViewer::may_answer`), the
//! challenge whether the answer is right; a right one is recorded durably and only then
//! acknowledged.

use crate::domain::live::confirm::PromptWindow;
use crate::domain::log::{Event, EventBody, Evidence, Hints};
use crate::hub::challenge;
use crate::hub::protocol::close::SLOW;
use crate::hub::protocol::{ErrorCode, ServerMsg};
use compact_str::ToCompactString;

use super::Ctx;

impl Ctx {
    /// Checks a confirm, records it durably and only then acknowledges it.
    pub(super) async fn confirm(
        &self,
        prompt: &str,
        answer: &str,
        hints: Option<Hints>,
    ) -> Result<(), ErrorCode> {
        let hub = &self.hub;
        let now = hub.now();
        let mut entry = hub.lock_prompts().get(prompt).cloned();
        if entry.is_none() {
            // Fired on another node while the broker was away? The store knows every prompt.
            hub.catch_up_prompts(true).await;
            entry = hub.lock_prompts().get(prompt).cloned();
        }
        let window = entry.as_ref().map(|e| PromptWindow {
            hall: &e.hall,
            ts: e.ts,
            closes: e.closes,
        });
        let limit = hub.settings().max_wrong_answers;
        let wrong = {
            let mut st = self.state.lock().expect("viewer lock");
            // The decision is the live core's; the hub records and answers.
            st.may_answer(prompt, window, &self.hall, now, limit)?;
            let (challenge, _) = challenge::for_prompt(prompt);
            if challenge::is_right(&challenge, answer) {
                st.begin_confirm(prompt);
                None
            } else {
                // Counted here, under the lock, so answers racing in cannot pass the limit. An
                // identical one (same instant) changes nothing and is not recorded either.
                let event = Event::new(
                    now,
                    EventBody::WrongAnswer {
                        viewer: self.viewer.as_str().into(),
                        conn: self.conn.to_compact_string(),
                        prompt: prompt.into(),
                    },
                );
                let new = st.apply(&event);
                let n = st.wrong_answers(prompt);
                Some((new.then_some(event), n, n >= limit))
            }
        };
        if let Some((event, n, locked)) = wrong {
            return Box::pin(self.wrong_answer(prompt, event, n, locked)).await;
        }
        // Timed on this socket: a prompt seen on another tab, or before a reconnect, has no
        // time here, and none is better than a wrong one.
        let seen = Evidence {
            reaction_ms: self.written.at(prompt).map(|t| (now - t).max(0)),
            hints,
            ..Evidence::default()
        };
        let event = Event::with_evidence(
            now,
            EventBody::Confirm {
                viewer: self.viewer.as_str().into(),
                conn: self.conn.to_compact_string(),
                prompt: prompt.into(),
            },
            seen,
        );
        let recorded = hub.writer().record_durable(event.clone()).await;
        {
            let mut st = self.state.lock().expect("viewer lock");
            if recorded.is_ok() {
                st.apply(&event);
            }
            st.end_confirm(prompt);
        }
        if let Err(e) = recorded {
            tracing::error!(conn = %self.conn, prompt, error = %e, "could not record a confirm");
            return Err(ErrorCode::Unavailable);
        }
        hub.count_confirm();
        if let Some(p) = hub.lock_prompts().get_mut(prompt) {
            p.confirmed += 1;
        }
        hub.publish_viewer_event(&self.viewer, event);
        self.reply(ServerMsg::Confirmed {
            prompt: prompt.into(),
        });
        if let Some(t) = hub.tally_json(&self.state, &self.hall) {
            self.handle.offer(t.into(), SLOW);
        }
        hub.viewer_changed(&self.viewer, Some(&self.conn), Some(prompt));
        Ok(())
    }
}
