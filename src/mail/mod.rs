//! E-mail: the personal link when a viewer registers (and again on request), personal
//! viewing links before the forum, certificates after it.
//!
//! Nothing is sent from a request handler. "Send links" and "send certificates" only queue
//! letters in the store's outbox (see `store/mail.rs`: unique per recipient and content, so a
//! second click queues nothing); a [`Mailer`] worker claims due letters, composes each one at
//! send time (a fresh link token, the certificate PDF from the codes issued by then), sends it
//! over SMTP at a bounded rate, and records the result. Registration letters are queued by
//! the store itself (`store/links.rs`), in the registration's own transaction. Transient
//! failures are retried with doubling waits up to `max_attempts`, then the letter is `failed`
//! with the last error; permanent ones (5xx) fail at once. The outbox rows are the delivery
//! log the dashboard shows.
//!
//! - [`letters`]: the wording (pure).
//! - [`smtp`]: the lettre transport and the dashboard's check of the server.
//! - [`faults`]: SMTP failures in Russian.
//! - [`worker`]: claiming, sending, retrying.

pub mod faults;
pub mod letters;
pub mod smtp;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::settings::MailSettings;
use crate::store::{NewLetter, Store, StoreResult};
use letters::{CERTIFICATE, LINK, certificate_dedup};

/// The mail side of the server; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Replaced when the forum is saved (its title and dates are in the letters). A std
    /// lock: never held across await.
    forum: std::sync::RwLock<Arc<Forum>>,
    clock: Arc<dyn Clock>,
    settings: MailSettings,
    smtp: smtp::Smtp,
    public_url: String,
    /// This worker's name in `claimed_by`; unique per process.
    worker: String,
    /// Wakes the worker when letters are queued, instead of waiting for the next poll.
    wake: Notify,
    /// When stale claims were last looked for (they are rare: a worker died mid-letter).
    last_sweep: AtomicI64,
}

/// What a "send" action queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Queued {
    /// Recipients the action applies to.
    pub recipients: u64,
    /// Letters newly queued (the others were queued or sent before).
    pub queued: u64,
}

impl Inner {
    fn forum(&self) -> Arc<Forum> {
        self.forum.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Mailer {
    pub fn new(
        store: Store,
        forum: Arc<Forum>,
        clock: Arc<dyn Clock>,
        settings: MailSettings,
        public_url: String,
    ) -> anyhow::Result<Mailer> {
        let smtp = smtp::Smtp::new(&settings)?;
        let worker = format!("{}-{}", std::process::id(), &crate::ids::new_token()[..8]);
        Ok(Mailer {
            inner: Arc::new(Inner {
                store,
                forum: std::sync::RwLock::new(forum),
                clock,
                settings,
                smtp,
                public_url,
                worker,
                wake: Notify::new(),
                last_sweep: AtomicI64::new(i64::MIN),
            }),
        })
    }

    /// Writes letters about `forum` from now on (a saved version of the same forum).
    pub fn replace_forum(&self, forum: Arc<Forum>) {
        *self.inner.forum.write().unwrap_or_else(|e| e.into_inner()) = forum;
    }

    /// Queues a personal-link letter for every registered viewer who has none yet.
    pub async fn queue_links(&self) -> StoreResult<Queued> {
        let letters = self.link_letters().await?;
        self.queue(letters).await
    }

    /// Queues a certificate letter for every viewer holding codes, unless the same codes were
    /// queued for them before.
    pub async fn queue_certificates(&self) -> StoreResult<Queued> {
        let letters = self.certificate_letters().await?;
        self.queue(letters).await
    }

    /// What [`Mailer::queue_links`] (`kind` = `link`) or [`Mailer::queue_certificates`]
    /// would queue now, without queueing anything: the dashboard asks before it sends.
    pub async fn preview(&self, kind: &str) -> StoreResult<Queued> {
        let letters = if kind == CERTIFICATE {
            self.certificate_letters().await?
        } else {
            self.link_letters().await?
        };
        let i = &self.inner;
        let queued_before = i.store.mail_keys(&i.forum().id, kind).await?;
        let new = letters
            .iter()
            .filter(|l| !queued_before.contains(&(l.viewer.clone(), l.dedup.clone())))
            .count();
        Ok(Queued {
            recipients: letters.len() as u64,
            queued: new as u64,
        })
    }

    /// Whether the SMTP server can take letters now (see [`smtp::Smtp::check`]).
    pub async fn check_smtp(&self) -> smtp::SmtpCheck {
        self.inner.smtp.check().await
    }

    async fn link_letters(&self) -> StoreResult<Vec<NewLetter>> {
        let i = &self.inner;
        let viewers = i.store.viewers(&i.forum().id).await?;
        Ok(viewers
            .into_iter()
            .map(|v| NewLetter {
                viewer: v.id,
                kind: LINK.into(),
                dedup: String::new(),
                email: v.email,
            })
            .collect())
    }

    async fn certificate_letters(&self) -> StoreResult<Vec<NewLetter>> {
        let i = &self.inner;
        let codes = i.store.certified_issued_codes(&i.forum().id).await?;
        let mut by_viewer: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for (session, holders) in codes {
            for (viewer, code) in holders {
                by_viewer
                    .entry(viewer)
                    .or_default()
                    .push((session.clone(), code));
            }
        }
        let emails: std::collections::HashMap<String, String> = i
            .store
            .viewers(&i.forum().id)
            .await?
            .into_iter()
            .map(|v| (v.id, v.email))
            .collect();
        Ok(by_viewer
            .into_iter()
            .filter_map(|(viewer, codes)| {
                let email = emails.get(&viewer)?.clone();
                Some(NewLetter {
                    dedup: certificate_dedup(&codes),
                    viewer,
                    kind: CERTIFICATE.into(),
                    email,
                })
            })
            .collect())
    }

    async fn queue(&self, letters: Vec<NewLetter>) -> StoreResult<Queued> {
        let i = &self.inner;
        let queued = i
            .store
            .enqueue_mail(&i.forum().id, &letters, i.clock.now())
            .await?;
        if queued > 0 {
            i.wake.notify_one();
        }
        Ok(Queued {
            recipients: letters.len() as u64,
            queued,
        })
    }

    /// Queues one letter again (the organiser's explicit resend) and wakes the worker.
    pub async fn resend(&self, id: i64) -> StoreResult<Option<crate::store::OutboxRow>> {
        let i = &self.inner;
        let row = i
            .store
            .resend_mail(&i.forum().id, id, i.clock.now())
            .await?;
        if row.is_some() {
            i.wake.notify_one();
        }
        Ok(row)
    }

    /// Wakes the worker: letters were queued elsewhere (registration queues its letter in the
    /// store, in the same transaction as the registration).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub fn settings(&self) -> &MailSettings {
        &self.inner.settings
    }
}
