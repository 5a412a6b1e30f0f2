//! Server settings: `config/yavka.toml` (optional; every key has a default), then environment
//! variables on top.
//!
//! `YAVKA__SECTION__KEY=value` overrides any key (`YAVKA__SERVER__PORT=9000`); the usual
//! `DATABASE_URL` and `REDIS_URL` are honoured too. A typo in a key is an error, not a silent
//! default, because a mistyped `max_connections` would otherwise go unnoticed until the day.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::hub::HubSettings;
use crate::store::{StoreOptions, WriterConfig};

mod evidence;
pub use evidence::{AddressMode, EvidenceSettings};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub forum: ForumSettings,
    pub hub: HubSettings,
    pub writer: WriterSettings,
    pub organiser: OrganiserSettings,
    pub broker: BrokerSettings,
    pub mail: MailSettings,
    pub registration: RegistrationSettings,
    pub limits: LimitsSettings,
    pub evidence: EvidenceSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    /// 0 asks the OS for a free port (tests).
    pub port: u16,
    /// How viewers reach the server, for personal links; defaults to `http://host:port`.
    pub public_url: Option<String>,
    /// Largest HTTP request body accepted, in bytes (CSV imports are the largest).
    pub max_body_bytes: usize,
    /// Seconds to wait for connections to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Connections of every kind held at once, websockets included; a connection beyond it is
    /// answered 503 and closed. Lowered at start-up to fit the process's open-file limit.
    pub max_connections: usize,
    /// A request's headers must arrive within this many seconds, and a kept-alive connection
    /// may wait this long for its next request.
    pub header_read_timeout_secs: u64,
    /// A connection on which nothing moves either way for this long is closed (websockets
    /// excepted: they have their own pings).
    pub idle_timeout_secs: u64,
    /// A request body must arrive whole within this many seconds.
    pub body_timeout_secs: u64,
    /// Behind a reverse proxy: the header carrying the client's address (`X-Forwarded-For`,
    /// of which the last address is taken, or `X-Real-IP`). Unset: the socket's peer address.
    /// Set it only when every request comes through that proxy, or anyone can forge it.
    pub trusted_proxy_header: Option<String>,
}

/// Throttles on what a script could repeat (sign-in, registration, lost-link letters), and
/// other limits on what one request may cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    /// Organiser sign-in attempts per login.
    pub login_per_account: Rate,
    /// Organiser sign-in attempts per client address.
    pub login_per_address: Rate,
    /// Registrations per client address (a hospital registers many doctors from one address).
    pub register_per_address: Rate,
    /// Lost-link letters asked for per client address (`POST /api/relink`).
    pub resend_per_address: Rate,
    /// Errors of a bad CSV import listed in the answer; all are counted.
    pub import_errors_shown: usize,
}

/// `burst` attempts at once, then one more every `60 / per_minute` seconds; `per_minute = 0`
/// turns the throttle off.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        LimitsSettings {
            login_per_account: Rate {
                per_minute: 10,
                burst: 10,
            },
            login_per_address: Rate {
                per_minute: 30,
                burst: 30,
            },
            register_per_address: Rate {
                per_minute: 10,
                burst: 20,
            },
            resend_per_address: Rate {
                per_minute: 2,
                burst: 5,
            },
            import_errors_shown: 100,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://data/yavka.db` (default) or `postgres://…`.
    pub url: String,
    /// How long a query waits for a database connection (reconnecting included) before it
    /// fails: while the database is away, requests fail after this instead of hanging.
    pub acquire_timeout_ms: u64,
    /// `/readyz` reports the store unreachable when a round trip takes longer.
    pub ping_timeout_ms: u64,
    /// Database connections of this node; 0: the backend's default (see `StoreOptions`).
    pub connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForumSettings {
    /// The forum configuration file.
    pub config: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriterSettings {
    pub queue: usize,
    pub max_batch: usize,
    pub max_delay_ms: u64,
    /// First pause after a failed batch, doubled after each failure up to `retry_max_ms`.
    pub retry_first_ms: u64,
    pub retry_max_ms: u64,
    /// A connect, confirm or prompt not committed within this is refused (and not recorded).
    pub give_up_ms: u64,
    /// With nothing to write this long, an empty batch checks the store can still commit.
    pub probe_ms: u64,
}

impl WriterSettings {
    pub fn config(&self) -> WriterConfig {
        WriterConfig {
            queue: self.queue,
            max_batch: self.max_batch,
            max_delay_ms: self.max_delay_ms,
            retry_first_ms: self.retry_first_ms,
            retry_max_ms: self.retry_max_ms,
            give_up_ms: self.give_up_ms,
            probe_ms: self.probe_ms,
        }
    }
}

impl StoreSettings {
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            acquire_timeout: Duration::from_millis(self.acquire_timeout_ms),
            connections: self.connections,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrganiserSettings {
    /// How long an organiser stays signed in.
    pub session_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    /// Unset: in-process messaging (one node). Set: Redis, shared by every node of the forum.
    pub redis_url: Option<String>,
    /// Messages buffered per subscriber before it counts as lagging.
    pub capacity: usize,
}

/// SMTP and the outbox worker. The password is never in the file: `password_env` names the
/// environment variable that holds it, so the settings can be printed and committed.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (plain SMTP, for a relay on the same host), `starttls` or `tls`.
    pub tls: String,
    /// Login for SMTP AUTH; empty: no authentication.
    pub user: String,
    /// Name of the environment variable holding the SMTP password.
    pub password_env: String,
    /// `Name <address>` the letters come from.
    pub from: String,
    /// Letters sent per second at most (SMTP relays throttle bulk senders).
    pub per_second: u32,
    /// Attempts before a letter is marked failed; transient SMTP errors are retried.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failed attempt.
    pub retry_base_secs: u64,
    /// Longest wait between retries.
    pub retry_max_secs: u64,
    /// Give up on one SMTP conversation after this long.
    pub timeout_secs: u64,
    /// How often the worker looks for due letters.
    pub poll_ms: u64,
    /// Letters claimed per round.
    pub batch: u32,
    /// Print letters on standard output instead of sending them (`serve --demo`: its
    /// addresses are nobody's). Not a settings-file key.
    #[serde(skip)]
    pub print_only: bool,
}

/// Self-registration and «Прислать ссылку ещё раз».
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationSettings {
    /// At most one letter with a personal link per e-mail address this often (a registration
    /// or a request for the link again), so nobody can flood a mailbox through the forum.
    pub letter_interval_minutes: u64,
    /// Registration and «send my link again» answer no sooner than this after the request
    /// arrived, so the few milliseconds of store work that differ between a new and a known
    /// address (or a known and an unknown one) do not show in the answer's timing.
    pub answer_floor_ms: u64,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        RegistrationSettings {
            letter_interval_minutes: 10,
            answer_floor_ms: 200,
        }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            tls: "none".into(),
            user: String::new(),
            password_env: "YAVKA_SMTP_PASSWORD".into(),
            from: "Явка <noreply@localhost>".into(),
            per_second: 5,
            max_attempts: 5,
            retry_base_secs: 60,
            retry_max_secs: 3_600,
            timeout_secs: 30,
            poll_ms: 1_000,
            batch: 20,
            print_only: false,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            host: "127.0.0.1".into(),
            port: 8080,
            public_url: None,
            max_body_bytes: 8 * 1024 * 1024,
            shutdown_grace_secs: 10,
            max_connections: 19_500,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            body_timeout_secs: 120,
            trusted_proxy_header: None,
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            url: "sqlite://data/yavka.db".into(),
            acquire_timeout_ms: 5_000,
            connections: 0,
            ping_timeout_ms: 2_000,
        }
    }
}

impl Default for ForumSettings {
    fn default() -> Self {
        ForumSettings {
            config: PathBuf::from("config/forum.toml"),
        }
    }
}

impl Default for WriterSettings {
    fn default() -> Self {
        let w = WriterConfig::default();
        WriterSettings {
            queue: w.queue,
            max_batch: w.max_batch,
            max_delay_ms: w.max_delay_ms,
            retry_first_ms: w.retry_first_ms,
            retry_max_ms: w.retry_max_ms,
            give_up_ms: w.give_up_ms,
            probe_ms: w.probe_ms,
        }
    }
}

impl Default for OrganiserSettings {
    fn default() -> Self {
        OrganiserSettings { session_hours: 12 }
    }
}

impl Default for BrokerSettings {
    fn default() -> Self {
        BrokerSettings {
            redis_url: None,
            capacity: 4_096,
        }
    }
}

impl Settings {
    /// The rules' parameters this installation judges with, at instant `as_of`, before the
    /// forum's corrections are added: the server, its exports and the command line all take
    /// them from here, so they cannot disagree.
    pub fn rules_params(&self, as_of: crate::domain::time::Millis) -> crate::domain::rules::Params {
        crate::domain::rules::Params {
            max_wrong_answers: self.hub.max_wrong_answers,
            as_of,
            corrections: Default::default(),
        }
    }

    /// Reads `path` if it exists, then applies the environment.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("не удалось прочитать {}", path.display()));
            }
        };
        Self::from_parts(&text, std::env::vars(), &path.display().to_string())
    }

    /// Settings from file text and an environment, for tests and for `load`.
    pub fn from_parts(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
        origin: &str,
    ) -> anyhow::Result<Settings> {
        let mut root: toml::Table =
            toml::from_str(text).with_context(|| format!("{origin}: ошибка TOML"))?;
        for (key, value) in env {
            let path: Vec<String> = if key == "DATABASE_URL" {
                vec!["store".into(), "url".into()]
            } else if key == "REDIS_URL" {
                vec!["broker".into(), "redis_url".into()]
            } else if let Some(rest) = key.strip_prefix("YAVKA__") {
                rest.split("__").map(str::to_lowercase).collect()
            } else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            set(&mut root, &path, &value).with_context(|| format!("переменная окружения {key}"))?;
        }
        let settings: Settings = toml::Value::Table(root)
            .try_into()
            .with_context(|| format!("{origin}: неверные настройки"))?;
        if settings.hub.max_wrong_answers == 0 {
            bail!(
                "{origin}: [hub] max_wrong_answers = 0 — так никто не сможет подтвердить участие; \
                 укажите 1 или больше (по умолчанию 3)"
            );
        }
        Ok(settings)
    }

    /// The address viewers use, for personal links.
    pub fn public_url(&self, bound_port: u16) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{bound_port}", self.server.host))
    }
}

/// Sets `path` in `root` to `value`, read as a TOML integer, float or boolean when it is one.
fn set(root: &mut toml::Table, path: &[String], value: &str) -> anyhow::Result<()> {
    let Some((last, parents)) = path.split_last() else {
        bail!("пустое имя настройки");
    };
    let mut table = root;
    for p in parents {
        let entry = table
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(t) = entry.as_table_mut() else {
            bail!("{p} не раздел");
        };
        table = t;
    }
    let parsed = if let Ok(i) = value.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = value.parse::<bool>() {
        toml::Value::Boolean(b)
    } else if let Ok(f) = value.parse::<f64>() {
        toml::Value::Float(f)
    } else {
        toml::Value::String(value.to_owned())
    };
    table.insert(last.clone(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests;
