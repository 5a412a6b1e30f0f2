//! SMTP through lettre on tokio: plain SMTP for a relay on the same host (and the tests' sink),
//! STARTTLS or implicit TLS (rustls, Mozilla's roots) for anything else. Failures are worded
//! in Russian by [`super::faults`]; the raw error travels beside the wording for the server log.

use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use super::faults::Fault;
use super::letters::Letter;
use crate::settings::MailSettings;

/// How long the dashboard's check of the SMTP server may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a letter did not go, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// For the delivery log: one Russian sentence.
    pub message: String,
    /// A 5xx answer (no such mailbox, refused): retrying will not help.
    pub permanent: bool,
    /// The underlying error as its library said it, for the server log only.
    pub cause: String,
}

impl SendFailure {
    pub fn permanent(message: impl Into<String>) -> SendFailure {
        let message = message.into();
        SendFailure {
            cause: message.clone(),
            message,
            permanent: true,
        }
    }
}

/// What the dashboard shows about the SMTP server before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpCheck {
    /// `[mail] smtp_host` is set.
    pub configured: bool,
    /// The server answered and took the login, if one is set.
    pub ok: bool,
    /// «smtp.example.org:587, STARTTLS».
    pub server: String,
    /// One Russian sentence: all is well, or what is wrong.
    pub message: String,
    /// Things that do not stop the check but may stop letters arriving.
    pub warnings: Vec<String>,
}

/// A configured SMTP client; cheap to clone.
#[derive(Clone)]
pub struct Smtp {
    /// `None` prints letters instead (`[mail] print_only`, the demo).
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// The same server with a short timeout, for [`Smtp::check`]; `None` with `transport`.
    probe: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    server: String,
    configured: bool,
    warnings: Vec<String>,
}

impl Smtp {
    pub fn new(s: &MailSettings) -> anyhow::Result<Smtp> {
        let from: Mailbox = s
            .from
            .parse()
            .with_context(|| format!("[mail] from = «{}»: не адрес вида «Имя <адрес>»", s.from))?;
        if s.print_only {
            return Ok(Smtp {
                transport: None,
                probe: None,
                from,
                server: "печать в терминале сервера".into(),
                configured: true,
                warnings: Vec::new(),
            });
        }
        let mut warnings = Vec::new();
        let transport = |timeout: Duration| -> anyhow::Result<_> {
            let mut builder = match s.tls.as_str() {
                "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.smtp_host),
                "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.smtp_host)
                    .with_context(|| format!("[mail] smtp_host = «{}»", s.smtp_host))?,
                "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.smtp_host)
                    .with_context(|| format!("[mail] smtp_host = «{}»", s.smtp_host))?,
                other => bail!("[mail] tls = «{other}»: допустимы none, starttls, tls"),
            }
            .port(s.smtp_port)
            .timeout(Some(timeout));
            if !s.user.is_empty() {
                let password = std::env::var(&s.password_env).unwrap_or_default();
                builder = builder.credentials(Credentials::new(s.user.clone(), password));
            }
            Ok(builder.build())
        };
        if !s.user.is_empty()
            && std::env::var(&s.password_env)
                .unwrap_or_default()
                .is_empty()
        {
            tracing::warn!(variable = %s.password_env, "SMTP user set but its password variable is empty");
            warnings.push(format!(
                "Для входа на почтовый сервер указан логин {}, но переменная окружения {} с паролем пуста",
                s.user, s.password_env
            ));
        }
        if from.email.domain() == "localhost" {
            warnings.push(format!(
                "Адрес отправителя — {}: почтовые службы участников такие письма, скорее всего, \
                 отвергнут. Укажите настоящий адрес в [mail] from",
                from.email
            ));
        }
        let tls = match s.tls.as_str() {
            "starttls" => "STARTTLS",
            "tls" => "TLS",
            _ => "без шифрования",
        };
        Ok(Smtp {
            transport: Some(transport(Duration::from_secs(s.timeout_secs.max(1)))?),
            probe: Some(transport(
                CHECK_TIMEOUT.min(Duration::from_secs(s.timeout_secs.max(1))),
            )?),
            from,
            server: format!("{}:{}, {tls}", s.smtp_host, s.smtp_port),
            configured: !s.smtp_host.trim().is_empty(),
            warnings,
        })
    }

    /// Connects to the server (and signs in, if a login is set), then says goodbye: whether
    /// letters could go now. Takes at most about [`CHECK_TIMEOUT`]; sends nothing.
    pub async fn check(&self) -> SmtpCheck {
        let mut check = SmtpCheck {
            configured: self.configured,
            ok: false,
            server: self.server.clone(),
            message: String::new(),
            warnings: self.warnings.clone(),
        };
        let Some(probe) = &self.probe else {
            check.ok = true;
            check.message =
                "Демонстрация: письма не отправляются, а печатаются в терминале сервера".into();
            return check;
        };
        if !self.configured {
            check.message = "Почта не настроена: укажите почтовый сервер в config/yavka.toml, \
                             раздел [mail], ключ smtp_host"
                .into();
            return check;
        }
        // The transport's own timeout covers each read and write; this one also covers
        // resolving the name.
        let wait = CHECK_TIMEOUT + Duration::from_millis(500);
        check.message = match tokio::time::timeout(wait, probe.test_connection()).await {
            Ok(Ok(true)) => {
                check.ok = true;
                format!("Почтовый сервер {} на связи", self.server)
            }
            Ok(Ok(false)) => format!("Почтовый сервер {} не ответил на проверку", self.server),
            Ok(Err(e)) => {
                tracing::warn!(server = %self.server, error = %e, "SMTP check failed");
                format!("{} ({})", Fault::of(&e).sentence(), self.server)
            }
            Err(_) => format!(
                "Почтовый сервер {} не ответил за {} секунды",
                self.server,
                CHECK_TIMEOUT.as_secs()
            ),
        };
        check
    }

    pub async fn send(&self, letter: &Letter) -> Result<(), SendFailure> {
        let message = self.message(letter)?;
        let Some(transport) = &self.transport else {
            println!("{}", printed(letter));
            return Ok(());
        };
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendFailure {
                permanent: e.is_permanent(),
                message: Fault::of(&e).sentence(),
                cause: e.to_string(),
            }),
        }
    }

    fn message(&self, letter: &Letter) -> Result<Message, SendFailure> {
        let to = Mailbox::new(
            Some(letter.to_name.clone()),
            letter.to_email.parse().map_err(|_| {
                SendFailure::permanent(format!("Адрес «{}» неверен", letter.to_email))
            })?,
        );
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject.clone());
        let text = SinglePart::plain(letter.text.clone());
        let built = match &letter.attachment {
            None => builder.singlepart(text),
            Some(a) => {
                let content_type = ContentType::parse(a.content_type).map_err(|e| SendFailure {
                    cause: format!("attachment content type: {e}"),
                    ..SendFailure::permanent("Письмо не собрано: неверный тип вложения")
                })?;
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(
                    Attachment::new(a.filename.clone()).body(a.bytes.clone(), content_type),
                ))
            }
        };
        built.map_err(|e| SendFailure {
            cause: format!("message not built: {e}"),
            ..SendFailure::permanent("Письмо не собрано")
        })
    }
}

/// A letter as the demo prints it: who, what, and the lines a person acts on (links).
fn printed(letter: &Letter) -> String {
    let mut out = format!(
        "  письмо (демонстрация: не отправлено) для {}: «{}»",
        letter.to_email, letter.subject
    );
    for line in letter.text.lines().filter(|l| l.contains("://")) {
        out.push_str(&format!("\n    {}", line.trim()));
    }
    out
}
