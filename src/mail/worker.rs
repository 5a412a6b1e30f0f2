//! The outbox worker: claim due letters, compose and send each, record what happened.
//!
//! One worker per process sends one letter at a time, at most `per_second` a second: SMTP
//! relays throttle bulk senders, and a certificate run is hours of letters, not seconds, so
//! more parallelism would buy little and risk a block. Several processes may run workers on
//! one database; claiming in the store makes sure each letter goes to one of them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use super::letters::{
    AGAIN, APPEAL, CERTIFICATE, LINK, RELINK, WELCOME, again_letter, appeal_letter,
    certificate_letter, link_letter, relink_letter, welcome_letter,
};
use super::smtp::SendFailure;
use super::{Inner, Mailer};
use crate::domain::mask::scrub_addresses;
use crate::domain::time::{Millis, SECOND};
use crate::ids::{new_token, token_hash};
use crate::reports::certificate::{self, render_pdf};
use crate::store::OutboxRow;

/// Wait before attempt `attempt + 1` after `attempt` failed (1-based): `base`, doubled each
/// time, at most `max`.
pub fn backoff(attempt: u32, base: Millis, max: Millis) -> Millis {
    let doubled = base.saturating_mul(1_i64 << attempt.saturating_sub(1).min(30));
    doubled.min(max).max(0)
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

impl Mailer {
    /// Runs rounds until `stop` turns true: after each poll interval, or at once when letters
    /// are queued. A letter being sent when the stop comes is finished; letters claimed but
    /// not started are handed back to the queue.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.inner.settings.poll_ms.max(10));
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                break;
            }
            // A failed round (the store away) is logged and retried: after the poll interval,
            // doubled with each failure in a row up to a minute, so the worker outlives any
            // outage without a wall of errors. A letter whose sending was recorded is safe;
            // one claimed but not recorded is taken back by the stale-claim sweep.
            let wait = match self.round(&stop).await {
                Ok(_) => {
                    failures = 0;
                    poll
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures.is_power_of_two() {
                        tracing::error!(error = format!("{e:#}"), failures, "mail round failed");
                    }
                    poll.saturating_mul(1 << failures.min(16))
                        .min(Duration::from_secs(60))
                }
            };
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("mail worker stopped");
    }

    /// One round: take back stale claims, claim a batch of due letters, send them.
    pub async fn round(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<Round> {
        let i = &self.inner;
        let forum = i.forum().id.clone();
        let forum = forum.as_str();
        let now = i.clock.now();
        // A claim older than this belongs to a worker that died mid-letter.
        let lease = (i.settings.timeout_secs as i64 * 4 * SECOND).max(10 * 60 * SECOND);
        if now.saturating_sub(i.last_sweep.load(Ordering::Relaxed)) >= 60 * SECOND {
            i.last_sweep.store(now, Ordering::Relaxed);
            let stale = i.store.requeue_stale_mail(forum, now - lease, now).await?;
            if stale > 0 {
                tracing::warn!(letters = stale, "mail: stale claims queued again");
            }
        }
        if !i.store.mail_due(forum, now).await? {
            return Ok(Round::default());
        }
        let batch = i
            .store
            .claim_mail(forum, &i.worker, now, i.settings.batch.max(1))
            .await?;
        let gap = Duration::from_millis(1000 / u64::from(i.settings.per_second.max(1)));
        let mut round = Round::default();
        for (k, letter) in batch.iter().enumerate() {
            if *stop.borrow() {
                for rest in &batch[k..] {
                    i.store
                        .release_mail(rest.id, &i.worker, i.clock.now())
                        .await?;
                }
                break;
            }
            if k > 0 {
                tokio::time::sleep(gap).await;
            }
            let result = deliver(i, letter).await;
            let now = i.clock.now();
            match result {
                Ok(()) => {
                    i.store.mail_sent(letter.id, &i.worker, now).await?;
                    tracing::info!(id = letter.id, kind = %letter.kind, viewer = %letter.viewer, "letter sent");
                    round.sent += 1;
                }
                Err(f) => {
                    let attempts = letter.attempts.max(1) as u32;
                    let retry = (!f.permanent && attempts < i.settings.max_attempts).then(|| {
                        now + backoff(
                            attempts,
                            i.settings.retry_base_secs as i64 * SECOND,
                            i.settings.retry_max_secs as i64 * SECOND,
                        )
                    });
                    i.store
                        .mail_failed(letter.id, &i.worker, &f.message, retry, now)
                        .await?;
                    tracing::warn!(id = letter.id, kind = %letter.kind, viewer = %letter.viewer,
                        attempts, retry_at = ?retry, error = %scrub_addresses(&f.message),
                        cause = %scrub_addresses(&f.cause), "letter not sent");
                    if retry.is_some() {
                        round.retrying += 1;
                    } else {
                        round.failed += 1;
                    }
                }
            }
        }
        Ok(round)
    }
}

/// Composes and sends one letter. A letter with a link mints a new link token first and
/// withdraws it if the letter does not go; a certificate is drawn from the codes issued by now.
async fn deliver(i: &Inner, letter: &OutboxRow) -> Result<(), SendFailure> {
    let store_error = |e: crate::store::StoreError| SendFailure {
        message: "Ошибка базы данных при подготовке письма; попробуем ещё раз".into(),
        permanent: false,
        cause: e.to_string(),
    };
    let Some(viewer) = i
        .store
        .viewer(&i.forum().id, &letter.viewer)
        .await
        .map_err(store_error)?
    else {
        return Err(SendFailure::permanent("Участника больше нет в базе"));
    };
    match letter.kind.as_str() {
        LINK | WELCOME | AGAIN | RELINK => {
            let compose = match letter.kind.as_str() {
                WELCOME => welcome_letter,
                AGAIN => again_letter,
                RELINK => relink_letter,
                _ => link_letter,
            };
            let token = new_token();
            let hash = token_hash(&token);
            i.store
                .add_viewer_token(&i.forum().id, &viewer.id, &hash, i.clock.now())
                .await
                .map_err(store_error)?;
            let link = format!("{}/watch?token={token}", i.public_url);
            let result = i
                .smtp
                .send(&compose(&i.forum(), &viewer.name, &viewer.email, &link))
                .await;
            if result.is_err()
                && let Err(e) = i.store.remove_viewer_token(&hash).await
            {
                tracing::error!(error = %e, "an undelivered link token was not withdrawn");
            }
            result
        }
        CERTIFICATE => {
            let Some(cert) =
                certificate::of_viewer(&i.store, &i.forum(), &viewer, i.clock.now(), &i.public_url)
                    .await
                    .map_err(store_error)?
            else {
                return Err(SendFailure::permanent("У участника нет выданных кодов"));
            };
            // Laying out and subsetting a font is CPU work: keep it off the async workers.
            let (cert, pdf) = tokio::task::spawn_blocking(move || {
                let pdf = render_pdf(&cert);
                (cert, pdf)
            })
            .await
            .map_err(|e| SendFailure {
                cause: e.to_string(),
                ..SendFailure::permanent("Свидетельство не собрано")
            })?;
            let pdf = pdf.map_err(|e| SendFailure {
                cause: e,
                ..SendFailure::permanent("Свидетельство не собрано")
            })?;
            i.smtp
                .send(&certificate_letter(&cert, &viewer.email, pdf))
                .await
        }
        APPEAL => {
            let appeal = match letter.dedup.parse::<i64>() {
                Ok(id) => i
                    .store
                    .appeal(&i.forum().id, id)
                    .await
                    .map_err(store_error)?,
                Err(_) => None,
            };
            let Some((appeal, answer)) = appeal.and_then(|a| a.answer.clone().map(|x| (a, x)))
            else {
                return Err(SendFailure::permanent("Обращения или ответа на него нет"));
            };
            let session = i
                .forum()
                .session(&appeal.session)
                .map_or(appeal.session.clone(), |s| s.title.clone());
            // The answer is read on the results page: a fresh token opens it, as a link letter's does.
            let token = new_token();
            let hash = token_hash(&token);
            i.store
                .add_viewer_token(&i.forum().id, &viewer.id, &hash, i.clock.now())
                .await
                .map_err(store_error)?;
            let link = format!("{}/my?token={token}", i.public_url);
            let result = i
                .smtp
                .send(&appeal_letter(
                    &i.forum(),
                    &viewer.name,
                    &viewer.email,
                    &session,
                    answer.grant,
                    &answer.reason,
                    &link,
                ))
                .await;
            if result.is_err()
                && let Err(e) = i.store.remove_viewer_token(&hash).await
            {
                tracing::error!(error = %e, "an undelivered link token was not withdrawn");
            }
            result
        }
        other => Err(SendFailure::permanent(format!(
            "Неизвестный вид письма «{other}»"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = SECOND;
        assert_eq!(backoff(1, 60 * s, 3600 * s), 60 * s);
        assert_eq!(backoff(2, 60 * s, 3600 * s), 120 * s);
        assert_eq!(backoff(3, 60 * s, 3600 * s), 240 * s);
        assert_eq!(backoff(10, 60 * s, 3600 * s), 3600 * s);
        assert_eq!(backoff(200, 60 * s, 3600 * s), 3600 * s);
    }
}
