//! A tiny SMTP server for tests: it speaks just enough of the protocol for lettre (EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it accepts, can be told to answer
//! the next N messages with a temporary failure (451) to exercise retries, and can stop
//! listening and come back on the same port (an outage).
//!
//! Viewers get their personal links by e-mail, so every test server has a sink and tests take
//! links from letters as a person does ([`SmtpSink::token_for`]); tests that drive a browser
//! read them over HTTP from [`SmtpSink::serve_mailbox`].
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! settings.mail.smtp_port = sink.port;
//! // ... the app sends ...
//! let letters = sink.wait_for(2).await;
//! ```

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body), dot-unstuffed.
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("a well-formed message")
    }

    pub fn subject(&self) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value("Subject")
            .unwrap_or_default()
    }

    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        let mail = self.parsed();
        find_part(&mail, "text/plain")
            .map(|p| p.get_body().expect("a decodable body"))
            .unwrap_or_default()
    }

    /// The personal-link token in the text, if the letter carries a link.
    pub fn token(&self) -> Option<String> {
        token_in(&self.text())
    }

    /// The decoded bytes of the first attachment with this MIME type.
    pub fn attachment(&self, mimetype: &str) -> Option<Vec<u8>> {
        let mail = self.parsed();
        find_part(&mail, mimetype).map(|p| p.get_body_raw().expect("a decodable attachment"))
    }
}

fn find_part<'a>(
    mail: &'a mailparse::ParsedMail<'a>,
    mimetype: &str,
) -> Option<&'a mailparse::ParsedMail<'a>> {
    if mail.ctype.mimetype == mimetype {
        return Some(mail);
    }
    mail.subparts.iter().find_map(|p| find_part(p, mimetype))
}

struct Shared {
    received: Mutex<Vec<Received>>,
    /// Messages still to refuse with 451 at MAIL FROM.
    fail_next: AtomicU32,
    /// Every MAIL FROM seen, refused or not.
    attempts: AtomicU32,
}

/// The token of the first personal link (`…/watch?token=…`) in a text.
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("/watch?token=")? + "/watch?token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (!token.is_empty()).then_some(token)
}

/// The server; stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    /// The accept loop; `None` while down.
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    mailbox: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let _ = session(socket, &shared).await;
            });
        }
    })
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            fail_next: AtomicU32::new(0),
            attempts: AtomicU32::new(0),
        });
        let task = accept_loop(listener, shared.clone());
        SmtpSink {
            port,
            shared,
            task: Mutex::new(Some(task)),
            mailbox: Mutex::new(None),
        }
    }

    /// Stops listening: connections to the port are refused until [`SmtpSink::come_back`].
    pub fn go_down(&self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn come_back(&self) {
        let mut listener = None;
        // The aborted loop drops its listener as the task winds down: retry a moment.
        for _ in 0..100 {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let listener = listener.expect("the sink's port is free again");
        *self.task.lock().unwrap() = Some(accept_loop(listener, self.shared.clone()));
    }

    /// Letters received for `email`, oldest first.
    pub fn letters_to(&self, email: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
            .collect()
    }

    /// Waits (up to ten seconds) until `email` has at least `n` letters; returns them all.
    pub async fn wait_for_letters_to(&self, email: &str, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.letters_to(email);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "{email} got {} letters, expected {n}",
            self.letters_to(email).len()
        );
    }

    /// The personal-link token of the newest letter to `email`, waiting for its letter number
    /// `n` (1-based) to arrive.
    pub async fn token_for(&self, email: &str, n: usize) -> String {
        let letters = self.wait_for_letters_to(email, n).await;
        letters
            .last()
            .and_then(Received::token)
            .unwrap_or_else(|| panic!("no personal link in the letter to {email}"))
    }

    /// Serves the letters over HTTP for scripts (the browser tests): `GET /letters?to=EMAIL`
    /// answers `[{"subject", "link"}]`, oldest first. Returns the base URL.
    pub async fn serve_mailbox(&self) -> String {
        use axum::extract::{Query, State};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route(
                "/letters",
                axum::routing::get(
                    |State(shared): State<Arc<Shared>>,
                     Query(q): Query<std::collections::HashMap<String, String>>| async move {
                        let to = q.get("to").cloned().unwrap_or_default();
                        let letters: Vec<serde_json::Value> = shared
                            .received
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|r| r.to.iter().any(|t| t.eq_ignore_ascii_case(&to)))
                            .map(|r| {
                                let text = r.text();
                                let link = text
                                    .lines()
                                    .find(|l| l.contains("/watch?token="))
                                    .map(str::trim);
                                serde_json::json!({"subject": r.subject(), "link": link})
                            })
                            .collect();
                        axum::Json(letters)
                    },
                ),
            )
            .with_state(self.shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.mailbox.lock().unwrap() = Some(task);
        base
    }

    /// Environment for a `yavka serve` process that mails through this sink, promptly.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("YAVKA__MAIL__SMTP_HOST".into(), "127.0.0.1".into()),
            ("YAVKA__MAIL__SMTP_PORT".into(), self.port.to_string()),
            ("YAVKA__MAIL__POLL_MS".into(), "100".into()),
            ("YAVKA__MAIL__PER_SECOND".into(), "1000".into()),
        ]
    }

    /// Answers the next `n` messages with "451 try again later".
    pub fn fail_next(&self, n: u32) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// MAIL FROM commands seen, including refused ones.
    pub fn attempts(&self) -> u32 {
        self.shared.attempts.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (up to ten seconds) until at least `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the SMTP sink got {} messages, expected {n}",
            self.received().len()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.go_down();
        if let Some(task) = self.mailbox.lock().unwrap().take() {
            task.abort();
        }
    }
}

/// A port on which nothing listens: an SMTP outage.
pub async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
    // The listener is dropped here, so connections to the port are refused.
}

async fn session(socket: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "HELO" => b"250 sink\r\n",
            "MAIL" => {
                shared.attempts.fetch_add(1, Ordering::SeqCst);
                let refuse = shared
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refuse {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = command[5..].trim().to_owned();
                    to.clear();
                    b"250 OK\r\n"
                }
            }
            "RCPT" => {
                to.push(address(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing: a leading ".." stands for ".".
                    let text = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(text.as_bytes());
                }
                shared.received.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 queued\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// `RCPT TO:<a@b>` → `a@b`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(String::new(), |(a, _)| a.to_owned())
}
