//! Why a letter did not go, in Russian, for the delivery log and the dashboard's SMTP check.
//!
//! lettre's errors are English and name its internals («Connection error: Connection refused
//! (os error 111)»). The organiser gets one sentence they can act on, naming the setting to
//! check; the raw error goes to the server log (the caller logs it with the letter's id).
//! [`Fault`] is what the sentence depends on, taken from lettre's error by [`Fault::of`], so
//! the wording is a plain function with tests of its own.

use std::io::ErrorKind;

/// The facts of one SMTP failure that decide its wording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// The server's reply code (4xx or 5xx), when it answered with one.
    pub code: Option<u16>,
    pub timeout: bool,
    pub tls: bool,
    /// The network error underneath, if any.
    pub io: Option<ErrorKind>,
    /// The server's name did not resolve.
    pub dns: bool,
    /// The server answered something that is not SMTP (a wrong port or TLS mode).
    pub protocol: bool,
}

impl Fault {
    pub fn of(e: &lettre::transport::smtp::Error) -> Fault {
        let mut fault = Fault {
            code: e.status().and_then(|c| c.to_string().parse().ok()),
            timeout: e.is_timeout(),
            tls: e.is_tls(),
            protocol: e.is_response(),
            ..Fault::default()
        };
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                fault.io.get_or_insert(io.kind());
            }
            // tokio's resolver reports «failed to lookup address information: …».
            let text = s.to_string();
            if text.contains("lookup address") || text.contains("Name or service not known") {
                fault.dns = true;
            }
            source = s.source();
        }
        fault
    }

    /// One Russian sentence, capitalised, without a final full stop.
    pub fn sentence(&self) -> String {
        if let Some(code) = self.code {
            return match code {
                530 | 534 | 535 => format!(
                    "Почтовый сервер не принял логин или пароль (код {code}): проверьте [mail] user \
                     и переменную с паролем"
                ),
                550 | 551 | 553 => format!(
                    "Почтовый сервер не принимает письма на этот адрес: ящика нет или адрес неверен \
                     (код {code})"
                ),
                552 => "Письмо слишком велико для почтового сервера (код 552)".into(),
                554 => "Почтовый сервер отклонил письмо (код 554): возможно, принял его за спам \
                        или не разрешает этого отправителя"
                    .into(),
                421 => {
                    "Почтовый сервер временно не принимает соединения (код 421); попробуем ещё раз"
                        .into()
                }
                400..=499 => format!(
                    "Почтовый сервер временно не принял письмо (код {code}); попробуем ещё раз"
                ),
                _ => format!("Почтовый сервер окончательно отказался принять письмо (код {code})"),
            };
        }
        if self.timeout || self.io == Some(ErrorKind::TimedOut) {
            return "Почтовый сервер не ответил вовремя".into();
        }
        if self.dns {
            return "Адрес почтового сервера не найден: проверьте [mail] smtp_host".into();
        }
        if self.tls {
            return "Не удалось установить защищённое соединение (TLS) с почтовым сервером: \
                    проверьте [mail] tls и smtp_port"
                .into();
        }
        match self.io {
            Some(ErrorKind::ConnectionRefused) => {
                "Почтовый сервер не принимает соединения (в соединении отказано): проверьте \
                 [mail] smtp_host и smtp_port и что сервер запущен"
                    .into()
            }
            Some(
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof,
            ) => "Почтовый сервер оборвал соединение".into(),
            Some(ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable) => {
                "Почтовый сервер недоступен по сети".into()
            }
            _ if self.protocol => "Почтовый сервер ответил не по протоколу SMTP: проверьте \
                                   [mail] smtp_port и tls"
                .into(),
            _ => "Не удалось связаться с почтовым сервером".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: u16) -> String {
        Fault {
            code: Some(code),
            ..Fault::default()
        }
        .sentence()
    }

    fn io(kind: ErrorKind) -> String {
        Fault {
            io: Some(kind),
            ..Fault::default()
        }
        .sentence()
    }

    #[test]
    fn reply_codes_say_what_to_do() {
        assert!(code(535).contains("логин или пароль"));
        assert!(code(550).contains("ящика нет"));
        assert!(code(554).contains("спам"));
        assert!(code(451).contains("временно") && code(451).contains("451"));
        assert!(code(421).contains("попробуем ещё раз"));
        assert!(code(500).contains("окончательно"));
    }

    #[test]
    fn network_failures_name_the_setting_to_check() {
        assert!(io(ErrorKind::ConnectionRefused).contains("в соединении отказано"));
        assert!(io(ErrorKind::ConnectionRefused).contains("smtp_port"));
        assert!(io(ErrorKind::TimedOut).contains("не ответил вовремя"));
        assert!(io(ErrorKind::ConnectionReset).contains("оборвал"));
        let dns = Fault {
            dns: true,
            io: Some(ErrorKind::Other),
            ..Fault::default()
        };
        assert!(dns.sentence().contains("smtp_host"));
        let tls = Fault {
            tls: true,
            ..Fault::default()
        };
        assert!(tls.sentence().contains("TLS"));
        assert!(Fault::default().sentence().starts_with("Не удалось"));
    }

    #[test]
    fn every_sentence_is_russian_and_capitalised() {
        let all = [
            code(535),
            code(550),
            code(552),
            code(554),
            code(421),
            code(452),
            code(599),
            io(ErrorKind::ConnectionRefused),
            io(ErrorKind::BrokenPipe),
            io(ErrorKind::HostUnreachable),
            Fault::default().sentence(),
        ];
        for s in all {
            let first = s.chars().next().unwrap();
            assert!(first.is_uppercase() && !first.is_ascii(), "{s}");
            assert!(!s.contains("error") && !s.contains("os "), "{s}");
        }
    }
}
