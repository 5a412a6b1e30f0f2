//! The websocket protocol between the player page and the hub: message types both ways, error
//! codes with the Russian text the viewer reads, and close codes. `docs/protocol.md` is the
//! human version of this file; keep them in step.

use serde::{Deserialize, Serialize};

use crate::domain::live::confirm::Refusal;
use crate::domain::log::Hints;
use crate::domain::time::Millis;

/// Close codes the server uses. Codes 4xxx mirror the HTTP status with the same meaning.
pub mod close {
    /// The server is shutting down (or restarting): reconnect with backoff.
    pub const GOING_AWAY: u16 = 1001;
    /// Too many messages (rate limit) or repeated garbage: a broken or hostile client.
    pub const POLICY: u16 = 1008;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed (the store refused to record the connection): reconnect with backoff.
    pub const INTERNAL: u16 = 1011;
    /// Unknown, replaced or revoked personal link: do not reconnect, show the message.
    pub const UNAUTHORIZED: u16 = 4401;
    /// No such hall in this forum: do not reconnect.
    pub const UNKNOWN_HALL: u16 = 4404;
    /// No pong for `pong_timeout_ms`: the network or the device went away. Reconnect.
    pub const PONG_TIMEOUT: u16 = 4408;
    /// The client did not read its messages fast enough and its queue filled up. Reconnect.
    pub const TOO_SLOW: u16 = 4409;

    /// The reason sent with [`UNAUTHORIZED`] when a socket opens with a link that does not work.
    pub const BAD_LINK: &str = "ссылка недействительна: возможно, организатор выдал вам новую";
    /// The reason sent with [`GOING_AWAY`] to a socket that opens while the server stops.
    pub const RESTARTING: &str = "сервер перезапускается";
    /// The reason sent with [`UNKNOWN_HALL`].
    pub const NO_SUCH_HALL: &str = "такого зала нет";
    /// Sent before [`INTERNAL`] when the connect cannot be recorded (the close frame carries
    /// the first 123 bytes).
    pub const STORE_AWAY: &str =
        "Подключение не записано: база данных временно недоступна. Переподключимся автоматически.";

    /// Why the server closes a live socket: the close frame and the metric label.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct CloseReason {
        pub code: u16,
        pub reason: &'static str,
        pub metric: &'static str,
    }

    /// The client did not read fast enough: its outbound queue filled up.
    pub const SLOW: CloseReason = CloseReason {
        code: TOO_SLOW,
        reason: "клиент не успевает получать сообщения",
        metric: "slow_client",
    };
    /// More messages than the rate limit allows.
    pub const FLOOD: CloseReason = CloseReason {
        code: POLICY,
        reason: "слишком много сообщений",
        metric: "rate_limited",
    };
    /// Too many unreadable messages.
    pub const GARBAGE: CloseReason = CloseReason {
        code: POLICY,
        reason: "слишком много непонятных сообщений",
        metric: "bad_message",
    };
    /// A message over `max_message_bytes`.
    pub const OVERSIZE: CloseReason = CloseReason {
        code: TOO_BIG,
        reason: "сообщение слишком длинное",
        metric: "oversize",
    };
    /// No frame from the client for `pong_timeout_ms`.
    pub const SILENT: CloseReason = CloseReason {
        code: PONG_TIMEOUT,
        reason: "нет ответа на ping",
        metric: "pong_timeout",
    };
    /// The server stops: every socket is closed.
    pub const SHUTDOWN: CloseReason = CloseReason {
        code: GOING_AWAY,
        reason: RESTARTING,
        metric: "shutdown",
    };
    /// The viewer's link was replaced while the tab was open.
    pub const REVOKED: CloseReason = CloseReason {
        code: UNAUTHORIZED,
        reason: "Организатор выдал вам новую ссылку; эта больше не действует.",
        metric: "revoked",
    };
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// «Подтвердить участие» with the chosen answer of the prompt's challenge, and what the
    /// page saw of the answer (issue 15; hints only, kept as evidence, never judged).
    Confirm {
        prompt: String,
        answer: String,
        #[serde(default, deserialize_with = "lenient_hints")]
        hints: Option<Hints>,
    },
    /// Application-level ping (optional; the protocol ping/pong is what keeps the connection
    /// alive). Answered with `pong` carrying the server time.
    Ping,
}

/// Hints the page sent, or `None` when it sent none or sent them malformed: a confirm is
/// never refused over its hints, and a malformed set is no evidence of anything.
fn lenient_hints<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Hints>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// The id of a prompt message as written to a socket, `None` for any other message: the
/// socket's writer notes when each prompt went out, to time the answer (issue 15).
pub fn prompt_id_of(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    // Every server message starts with its tag (serde writes it first); only prompts are read.
    if !text.starts_with(r#"{"type":"prompt""#) {
        return None;
    }
    serde_json::from_str::<Id>(text).ok().map(|m| m.id)
}

/// What was wrong with a client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadInput {
    /// Longer than the limit: the connection is closed with [`close::TOO_BIG`].
    TooBig,
    /// Not JSON, or not a message we know: answered with an error.
    Garbage,
}

/// Parses one text frame of at most `max_bytes` bytes.
pub fn parse_client(text: &str, max_bytes: usize) -> Result<ClientMsg, BadInput> {
    if text.len() > max_bytes {
        return Err(BadInput::TooBig);
    }
    serde_json::from_str(text).map_err(|_| BadInput::Garbage)
}

/// Error codes of `{"type":"error"}` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    UnknownPrompt,
    PromptClosed,
    WrongHall,
    NotActive,
    AlreadyConfirmed,
    WrongAnswer,
    TooManyWrongAnswers,
    BadMessage,
    BinaryNotSupported,
    Unavailable,
    Unauthorized,
    UnknownHall,
    ShuttingDown,
}

impl From<Refusal> for ErrorCode {
    fn from(r: Refusal) -> ErrorCode {
        match r {
            Refusal::UnknownPrompt => ErrorCode::UnknownPrompt,
            Refusal::PromptClosed => ErrorCode::PromptClosed,
            Refusal::WrongHall => ErrorCode::WrongHall,
            Refusal::NotActive => ErrorCode::NotActive,
            Refusal::AlreadyConfirmed => ErrorCode::AlreadyConfirmed,
            Refusal::TooManyWrongAnswers => ErrorCode::TooManyWrongAnswers,
        }
    }
}

impl ErrorCode {
    /// What the viewer reads.
    pub fn message_ru(self) -> &'static str {
        match self {
            ErrorCode::UnknownPrompt => "Такого окна подтверждения нет.",
            ErrorCode::PromptClosed => "Окно подтверждения уже закрыто.",
            ErrorCode::WrongHall => "Это окно подтверждения относится к другому залу.",
            ErrorCode::NotActive => {
                "Трансляция этого зала приостановлена: вы смотрите другой зал. Нажмите «Смотреть здесь»."
            }
            ErrorCode::AlreadyConfirmed => "Участие уже подтверждено.",
            ErrorCode::WrongAnswer => "Выбран неверный ответ. Попробуйте ещё раз.",
            ErrorCode::TooManyWrongAnswers => {
                "Слишком много неверных ответов: это окно подтверждения уже не засчитать. Дождитесь следующего."
            }
            ErrorCode::BadMessage => "Непонятное сообщение от страницы. Обновите страницу.",
            ErrorCode::BinaryNotSupported => "Двоичные сообщения не поддерживаются.",
            ErrorCode::Unavailable => {
                "Не удалось сохранить подтверждение. Нажмите ещё раз через несколько секунд."
            }
            ErrorCode::Unauthorized => "Ссылка недействительна. Запросите новую ссылку.",
            ErrorCode::UnknownHall => "Такого зала нет.",
            ErrorCode::ShuttingDown => "Сервер перезапускается. Переподключение…",
        }
    }
}

/// The anti-auto-click task of a prompt: press the choice equal to `ask`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub ask: String,
    pub choices: Vec<String>,
}

/// The tally and its prompts are the live core's own types, sent as they are.
pub use crate::domain::live::{Tally, TallyPrompt};

/// A prompt as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptMsg {
    pub id: String,
    pub hall: String,
    pub ts: Millis,
    pub closes: Millis,
    pub challenge: Challenge,
    /// 0..4: the page varies the dialog's position and wording with it.
    pub variant: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerInfo {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallInfo {
    pub id: String,
    pub title: String,
    pub stream_url: String,
}

impl HallInfo {
    pub fn of(hall: &crate::domain::forum::Hall) -> HallInfo {
        HallInfo {
            id: hall.id.clone(),
            title: hall.title.clone(),
            stream_url: hall.stream_url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
    pub starts: Millis,
    pub ends: Millis,
    pub min_minutes: u32,
    pub prompts: u32,
    pub prompts_required: u32,
}

/// The first message on every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Welcome {
    pub conn: String,
    pub viewer: ViewerInfo,
    pub hall: HallInfo,
    /// The hall's session now, else its next one today, else its last one today.
    pub session: Option<SessionInfo>,
    /// The viewer's active hall (this one, as this connection is the newest).
    pub active_hall: Option<String>,
    /// An open prompt of this hall the viewer has not confirmed yet.
    pub prompt: Option<PromptMsg>,
    pub now: Millis,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Boxed: by far the largest message, sent once per connection.
    Welcome(Box<Welcome>),
    Tally(Tally),
    Prompt(PromptMsg),
    Confirmed {
        prompt: String,
    },
    Paused {
        active_hall: String,
    },
    Resumed,
    /// The hall's title or stream address changed while the tab was open (an organiser fixed
    /// a broken stream): the player switches to it without a reload.
    Hall {
        hall: HallInfo,
    },
    Pong {
        now: Millis,
    },
    Error {
        code: ErrorCode,
        message: &'static str,
    },
}

impl ServerMsg {
    pub fn error(code: ErrorCode) -> ServerMsg {
        ServerMsg::Error {
            code,
            message: code.message_ru(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialise")
    }
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
