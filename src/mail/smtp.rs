//! SMTP through lettre on tokio: plain SMTP for a relay on the same host (and the tests' sink),
//! STARTTLS or implicit TLS (rustls, Mozilla's roots) for anything else.

use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::letters::Letter;
use crate::settings::MailSettings;

/// Why a letter did not go, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub message: String,
    /// A 5xx answer (no such mailbox, refused): retrying will not help.
    pub permanent: bool,
}

impl SendFailure {
    pub fn permanent(message: impl Into<String>) -> SendFailure {
        SendFailure {
            message: message.into(),
            permanent: true,
        }
    }
}

/// A configured SMTP client; cheap to clone.
#[derive(Clone)]
pub struct Smtp {
    /// `None` prints letters instead (`[mail] print_only`, the demo).
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
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
                from,
            });
        }
        let mut builder = match s.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.smtp_host),
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.smtp_host)
                .with_context(|| format!("[mail] smtp_host = «{}»", s.smtp_host))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.smtp_host)
                .with_context(|| format!("[mail] smtp_host = «{}»", s.smtp_host))?,
            other => bail!("[mail] tls = «{other}»: допустимы none, starttls, tls"),
        }
        .port(s.smtp_port)
        .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
        if !s.user.is_empty() {
            let password = std::env::var(&s.password_env).unwrap_or_default();
            if password.is_empty() {
                tracing::warn!(variable = %s.password_env, "SMTP user set but its password variable is empty");
            }
            builder = builder.credentials(Credentials::new(s.user.clone(), password));
        }
        Ok(Smtp {
            transport: Some(builder.build()),
            from,
        })
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
                message: smtp_error_ru(&e),
            }),
        }
    }

    fn message(&self, letter: &Letter) -> Result<Message, SendFailure> {
        let to = Mailbox::new(
            Some(letter.to_name.clone()),
            letter.to_email.parse().map_err(|_| {
                SendFailure::permanent(format!("адрес «{}» неверен", letter.to_email))
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
                let content_type = ContentType::parse(a.content_type)
                    .map_err(|e| SendFailure::permanent(format!("тип вложения: {e}")))?;
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(
                    Attachment::new(a.filename.clone()).body(a.bytes.clone(), content_type),
                ))
            }
        };
        built.map_err(|e| SendFailure::permanent(format!("письмо не собрано: {e}")))
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

/// The error for the delivery log: what happened in Russian, then the server's own words.
fn smtp_error_ru(e: &lettre::transport::smtp::Error) -> String {
    let what = if e.is_timeout() {
        "SMTP-сервер не ответил вовремя"
    } else if e.is_permanent() {
        "SMTP-сервер отказал окончательно"
    } else if e.is_transient() {
        "SMTP-сервер временно отказал"
    } else if e.is_tls() {
        "ошибка TLS при соединении с SMTP-сервером"
    } else {
        "не удалось связаться с SMTP-сервером"
    };
    // lettre's Display is one line and sometimes already quotes its source; add each cause
    // (io error, server text) only when it says something new.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(&format!(": {text}"));
        }
        source = s.source();
    }
    format!("{what} ({detail})")
}
