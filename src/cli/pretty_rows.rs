//! A big array of rows written as pretty JSON, the rows serialised on every core.
//!
//! `serde_json::to_writer_pretty` of half a million verdicts took seconds on one thread, most of
//! `yavka evaluate`'s writing. The bytes are the same: each row is pretty-printed on its own and
//! indented one level, which is what the pretty printer does inside an array (a JSON string
//! never holds a raw line end, so every line end in a row is one the printer made).

use std::io::{self, Write};

use serde::Serialize;

/// Below this many rows a thread is not started: it costs more than it saves.
const MIN_PART: usize = 2_000;

/// Writes `rows` exactly as `serde_json::to_writer_pretty(out, rows)` does.
pub fn write<W: Write, T: Serialize + Sync>(out: &mut W, rows: &[T]) -> io::Result<()> {
    if rows.is_empty() {
        return out.write_all(b"[]");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Parts of a few thousand rows, handed out in turns so that memory holds a few parts at a
    // time, not a second copy of the whole output.
    let part = rows.len().div_ceil(threads * 8).max(MIN_PART);
    out.write_all(b"[\n")?;
    let mut first = true;
    for group in rows.chunks(part * threads) {
        let texts: Vec<io::Result<Vec<u8>>> = if group.len() <= part {
            vec![part_text(group)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = group
                    .chunks(part)
                    .map(|p| scope.spawn(move || part_text(p)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a JSON writer thread panicked"))
                    .collect()
            })
        };
        for text in texts {
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            out.write_all(&text?)?;
        }
    }
    out.write_all(b"\n]")
}

/// The rows of one part, each indented one level, separated as in an array.
fn part_text<T: Serialize>(rows: &[T]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    let mut one = Vec::with_capacity(1024);
    for (i, row) in rows.iter().enumerate() {
        one.clear();
        serde_json::to_writer_pretty(&mut one, row)?;
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(b"  ");
        for line in one.split_inclusive(|&c| c == b'\n') {
            out.extend_from_slice(line);
            if line.ends_with(b"\n") {
                out.extend_from_slice(b"  ");
            }
        }
    }
    Ok(out)
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
        for n in [0, 1, 2, MIN_PART - 1, MIN_PART, 3 * MIN_PART + 7, 40_001] {
            let rows: Vec<_> = (0..n).map(row).collect();
            let mut got = Vec::new();
            write(&mut got, &rows).unwrap();
            let want = serde_json::to_vec_pretty(&rows).unwrap();
            assert!(got == want, "{n} rows differ");
        }
    }
}
