//! A big array of rows written as pretty JSON, the rows serialised on every core.
//!
//! `serde_json::to_writer_pretty` of half a million verdicts took seconds on one thread, most of
//! `yavka evaluate`'s writing. The bytes are the same: each part of the rows is printed as an
//! array by the same printer, and its rows (one level in, as in the whole array) are joined.

use std::io::{self, Write};

use serde::Serialize;

/// Rows per part: a few hundred (about 400 KB of JSON), so that each thread's buffer stays in
/// its core's cache. Parts of tens of megabytes were slower than one thread: every byte went
/// out to memory and back before it was written.
const PART: usize = 512;

/// Writes `rows` exactly as `serde_json::to_writer_pretty(out, rows)` does.
pub fn write<W: Write, T: Serialize + Sync>(out: &mut W, rows: &[T]) -> io::Result<()> {
    if rows.is_empty() {
        return out.write_all(b"[]");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // A group of one part per thread at a time; each thread keeps its buffer from one group to
    // the next.
    let mut bufs: Vec<Vec<u8>> = (0..threads).map(|_| Vec::new()).collect();
    out.write_all(b"[\n")?;
    let mut first = true;
    for group in rows.chunks(PART * threads) {
        let parts: Vec<&[T]> = group.chunks(PART).collect();
        let done: Vec<io::Result<Vec<u8>>> = if parts.len() == 1 {
            vec![part_text(parts[0], std::mem::take(&mut bufs[0]))]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .iter()
                    .zip(bufs.iter_mut())
                    .map(|(p, buf)| {
                        let buf = std::mem::take(buf);
                        scope.spawn(move || part_text(p, buf))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a JSON writer thread panicked"))
                    .collect()
            })
        };
        for (text, slot) in done.into_iter().zip(bufs.iter_mut()) {
            let text = text?;
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            // The part printed as an array is "[\n", its rows at one level in, "\n]".
            out.write_all(&text[2..text.len() - 2])?;
            *slot = text;
        }
    }
    out.write_all(b"\n]")
}

/// The rows of one part (at least one) printed as a pretty JSON array into `buf`.
fn part_text<T: Serialize>(rows: &[T], mut buf: Vec<u8>) -> io::Result<Vec<u8>> {
    buf.clear();
    serde_json::to_writer_pretty(&mut buf, rows)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_bytes_are_those_of_the_pretty_printer() {
        let row = |n: usize| {
            json!({
                "viewer": format!("v-{n:016x}"),
                "reasons": (0..n % 4).map(|k| json!({"ok": k % 2 == 0, "text": "a\nb «в»"}))
                    .collect::<Vec<_>>(),
                "empty": [], "none": null, "nested": {"x": [1, {"y": {}}]},
            })
        };
        for n in [0, 1, 2, PART - 1, PART, PART + 1, 3 * PART + 7, 10_001] {
            let rows: Vec<_> = (0..n).map(row).collect();
            let mut got = Vec::new();
            write(&mut got, &rows).unwrap();
            let want = serde_json::to_vec_pretty(&rows).unwrap();
            assert!(got == want, "{n} rows differ");
        }
    }
}
