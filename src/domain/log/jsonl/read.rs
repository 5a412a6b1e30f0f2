//! Reading a whole log: a block at a time, each block's lines parsed on every core.

use std::io::{self, Read};

use super::line::parse_line;
use super::{LineError, OnError, ReadLog};
use crate::domain::log::Event;

/// Bytes read before their lines are parsed: big enough that the threads parsing one block
/// have work for a while, small enough that a log never sits in memory twice.
const BLOCK: usize = 32 << 20;

/// No thread is started for less than this: below it, starting one costs more than it saves.
const MIN_PART: usize = 1 << 20;

/// Reads a whole log. With [`OnError::Stop`] the first bad line is returned as the error.
///
/// The input is read a block at a time; each block's complete lines are parsed on every core
/// (lines are independent), and the events are kept in file order. A line that is not UTF-8 is
/// a bad line like any other.
pub fn read<R: Read>(input: R, on_error: OnError) -> io::Result<Result<ReadLog, LineError>> {
    read_in(input, on_error, BLOCK, MIN_PART)
}

/// [`read`] with the block size and the smallest part a thread is given (tests make both tiny).
pub(super) fn read_in<R: Read>(
    mut input: R,
    on_error: OnError,
    block_size: usize,
    min_part: usize,
) -> io::Result<Result<ReadLog, LineError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = ReadLog::default();
    let mut buf: Vec<u8> = Vec::new();
    // Lines before the start of `buf`.
    let mut lines_before = 0;
    loop {
        let want = block_size.max(buf.len());
        let got = (&mut input).take(want as u64).read_to_end(&mut buf)?;
        let eof = got < want;
        let end = match buf.iter().rposition(|&c| c == b'\n') {
            _ if eof => buf.len(),
            Some(i) => i + 1,
            // One line longer than a block: read on until it ends.
            None => continue,
        };
        let block = &buf[..end];
        match parse_block(block, lines_before, (threads, min_part), on_error, &mut out) {
            Ok(lines) => lines_before += lines,
            Err(e) => return Ok(Err(e)),
        }
        buf.drain(..end);
        if eof {
            return Ok(Ok(out));
        }
    }
}

/// Parses the lines of `block` (whole lines, the first of which is line `lines_before + 1`)
/// in `threads` parts, appending to `out` in file order. Returns the number of line ends in it.
fn parse_block(
    block: &[u8],
    lines_before: usize,
    (threads, min_part): (usize, usize),
    on_error: OnError,
    out: &mut ReadLog,
) -> Result<usize, LineError> {
    // Parts end at line ends, so no line is split between two threads.
    let mut parts: Vec<&[u8]> = Vec::with_capacity(threads);
    let mut rest = block;
    while !rest.is_empty() {
        let want = block.len().div_ceil(threads).max(min_part);
        let cut = if rest.len() <= want {
            rest.len()
        } else {
            rest[want..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |i| want + i + 1)
        };
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let mut first = lines_before;
    let mut starts = Vec::with_capacity(parts.len());
    for p in &parts {
        starts.push(first);
        first += p.iter().filter(|&&c| c == b'\n').count();
    }
    let results: Vec<(Vec<Event>, Vec<LineError>)> = if parts.len() <= 1 {
        parts
            .iter()
            .zip(&starts)
            .map(|(p, &s)| parse_part(p, s, on_error))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .zip(&starts)
                .map(|(p, &s)| scope.spawn(move || parse_part(p, s, on_error)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a log reader thread panicked"))
                .collect()
        })
    };
    for (events, mut skipped) in results {
        if on_error == OnError::Stop && !skipped.is_empty() {
            return Err(skipped.swap_remove(0));
        }
        if out.events.is_empty() {
            out.events = events;
        } else {
            out.events.extend(events);
        }
        out.skipped.extend(skipped);
    }
    Ok(first - lines_before)
}

/// The events and bad lines of `part`, whose first line is line `lines_before + 1`. With
/// [`OnError::Stop`] it stops at its first bad line.
fn parse_part(part: &[u8], lines_before: usize, on_error: OnError) -> (Vec<Event>, Vec<LineError>) {
    // About a hundred bytes a line: one allocation instead of a dozen doublings.
    let mut events = Vec::with_capacity(part.len() / 96);
    let mut skipped = Vec::new();
    if part.is_empty() {
        return (events, skipped);
    }
    let body = part.strip_suffix(b"\n").unwrap_or(part);
    for (i, line) in body.split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let parsed = std::str::from_utf8(line)
            .map_err(|_| "Строка не в кодировке UTF-8".to_owned())
            .and_then(parse_line);
        match parsed {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            Err(message) => {
                skipped.push(LineError {
                    line: lines_before + i + 1,
                    message,
                });
                if on_error == OnError::Stop {
                    break;
                }
            }
        }
    }
    (events, skipped)
}
