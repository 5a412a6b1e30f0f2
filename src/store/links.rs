//! Self-registration and «Прислать ссылку ещё раз», done so that nobody can learn from the
//! answer whether an address is registered: the personal link only ever goes by e-mail, to the
//! registered address.
//!
//! Both paths run in one transaction that first takes the address's slot in `link_requests`
//! (at most one letter with a link per address per interval, registered or not, so the limit
//! itself reveals nothing and holds across server processes), then either registers the
//! viewer and queues a welcome letter, or queues a letter with a new link for the viewer
//! already registered — or, for an unknown address asking for its link, nothing at all. The
//! same transaction per path keeps the time an answer takes about the same either way.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::Row;

use super::mail::enqueue_in;
use super::viewers::insert_viewer_in;
use super::{NewLetter, Store, StoreError, StoreResult, ViewerRow, is_unique_violation};
use crate::domain::consent::ConsentVersions;
use crate::domain::registration::Registration;
use crate::domain::time::Millis;

/// Outbox kinds of the letters queued here (the mail worker composes them).
pub mod kinds {
    /// To a new registrant: «вы зарегистрированы, вот ваша ссылка».
    pub const WELCOME: &str = "welcome";
    /// To an address that registered again: «вы уже зарегистрированы, вот ваша ссылка».
    pub const AGAIN: &str = "again";
    /// «Прислать ссылку ещё раз».
    pub const RELINK: &str = "relink";
}

/// What a registration did. The API answers all three the same way except [`Limited`].
///
/// [`Limited`]: Registered::Limited
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new viewer; a welcome letter is queued.
    New(ViewerRow),
    /// The address was registered already (this viewer id); a letter with a link is queued
    /// and the form's other fields are ignored.
    Known(String),
    /// A letter with a link was asked for at this address less than the interval ago: nothing
    /// was done. Another may be asked for from `retry_at`.
    Limited { retry_at: Millis },
}

/// What «Прислать ссылку ещё раз» did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRequest {
    /// A letter is queued for this viewer.
    Queued(String),
    /// No viewer has this address; nothing is sent.
    Unknown,
    /// As in [`Registered::Limited`].
    Limited { retry_at: Millis },
}

/// The key of an address in `link_requests`: addresses of people who never registered are not
/// kept in the clear.
fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

impl Store {
    /// Registers `reg` unless its address is registered already (see [`Registered`]), with
    /// the versions of the consent texts accepted, at most one letter per `interval` per
    /// address.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_viewer(
        &self,
        forum: &str,
        id: &str,
        reg: &Registration,
        consents: ConsentVersions,
        token_hash: &str,
        now: Millis,
        interval: Millis,
    ) -> StoreResult<Registered> {
        // Two first registrations of one address at the same instant: the second finds the
        // first's row on its retry. (The limit's row lock normally serialises them already.)
        for attempt in 0..2 {
            let mut tx = self.begin_write().await?;
            if let Some(retry_at) = take_slot(&mut tx, forum, &reg.email, now, interval).await? {
                return Ok(Registered::Limited { retry_at });
            }
            if let Some(known) = viewer_with_email(&mut tx, forum, &reg.email).await? {
                let letter = letter(&known, kinds::AGAIN, &reg.email, now);
                enqueue_in(&mut tx, forum, &letter, now).await?;
                tx.commit().await?;
                return Ok(Registered::Known(known));
            }
            match insert_viewer_in(&mut tx, forum, id, reg, Some(consents), token_hash, now).await {
                Ok(row) => {
                    let letter = letter(&row.id, kinds::WELCOME, &row.email, now);
                    enqueue_in(&mut tx, forum, &letter, now).await?;
                    tx.commit().await?;
                    return Ok(Registered::New(row));
                }
                Err(StoreError::Db(e)) if is_unique_violation(&e) && attempt == 0 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!(
            "участник с идентификатором «{id}» или такой ссылкой уже есть"
        )))
    }

    /// «Прислать ссылку ещё раз» for `email`: a letter to the registered address only, at
    /// most one per `interval` per address (known or not).
    pub async fn request_link(
        &self,
        forum: &str,
        email: &str,
        now: Millis,
        interval: Millis,
    ) -> StoreResult<LinkRequest> {
        let email = email.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        if let Some(retry_at) = take_slot(&mut tx, forum, &email, now, interval).await? {
            return Ok(LinkRequest::Limited { retry_at });
        }
        let outcome = match viewer_with_email(&mut tx, forum, &email).await? {
            Some(viewer) => {
                let letter = letter(&viewer, kinds::RELINK, &email, now);
                enqueue_in(&mut tx, forum, &letter, now).await?;
                LinkRequest::Queued(viewer)
            }
            None => LinkRequest::Unknown,
        };
        // Committed either way: an unknown address's request counts towards its limit too.
        tx.commit().await?;
        Ok(outcome)
    }
}

/// A letter with a link; `dedup` is the request's time, so each granted request is a letter
/// of its own (the limit keeps them rare).
fn letter(viewer: &str, kind: &str, email: &str, now: Millis) -> NewLetter {
    NewLetter {
        viewer: viewer.to_owned(),
        kind: kind.to_owned(),
        dedup: if kind == kinds::WELCOME {
            String::new()
        } else {
            now.to_string()
        },
        email: email.trim().to_lowercase(),
    }
}

/// Takes the address's slot for a letter: `None` if granted (recorded at `now`), or when the
/// next one may be asked for.
async fn take_slot(
    tx: &mut AnyConnection,
    forum: &str,
    email: &str,
    now: Millis,
    interval: Millis,
) -> StoreResult<Option<Millis>> {
    let since = now.saturating_sub(interval.max(0));
    // Rows past the interval limit nothing any more; dropping them keeps the table as small as
    // the last interval's requests.
    sqlx::query("DELETE FROM link_requests WHERE forum = $1 AND requested_at < $2")
        .bind(forum)
        .bind(since)
        .execute(&mut *tx)
        .await?;
    let hash = email_hash(email);
    // Inserted, or updated if the last request is old enough; otherwise no row comes back.
    // On Postgres a concurrent request for the same address waits here for this one's commit.
    let granted = sqlx::query(
        "INSERT INTO link_requests (forum, email_hash, requested_at) VALUES ($1, $2, $3) \
         ON CONFLICT (forum, email_hash) DO UPDATE SET requested_at = excluded.requested_at \
         WHERE link_requests.requested_at <= $4 RETURNING requested_at",
    )
    .bind(forum)
    .bind(&hash)
    .bind(now)
    .bind(since)
    .fetch_optional(&mut *tx)
    .await?;
    if granted.is_some() {
        return Ok(None);
    }
    let last: i64 =
        sqlx::query("SELECT requested_at FROM link_requests WHERE forum = $1 AND email_hash = $2")
            .bind(forum)
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await?
            .try_get("requested_at")?;
    Ok(Some(last.saturating_add(interval)))
}

async fn viewer_with_email(
    tx: &mut AnyConnection,
    forum: &str,
    email: &str,
) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT id FROM viewers WHERE forum = $1 AND email = $2")
        .bind(forum)
        .bind(email.trim().to_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("id")?),
        None => None,
    })
}
