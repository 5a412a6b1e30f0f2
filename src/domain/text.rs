//! A person's free text as kept (an appeal, a decision's reason, a note on a flag): trimmed,
//! never empty, never longer than its limit — one rule, each caller with its own words.

/// `text` trimmed, or the Russian sentence that says what is wrong: `empty` when nothing is
/// left, `too_long(count)` when it has more than `max` characters.
pub fn kept(
    text: &str,
    max: usize,
    empty: &str,
    too_long: impl Fn(usize) -> String,
) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty.to_owned());
    }
    let n = text.chars().count();
    if n > max {
        return Err(too_long(n));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_required_and_counted_in_characters() {
        let long = |n| format!("{n} > 3");
        assert_eq!(kept("  абв ", 3, "пусто", long), Ok("абв".to_owned()));
        assert_eq!(kept(" \n ", 3, "пусто", long), Err("пусто".to_owned()));
        assert_eq!(kept("абвг", 3, "пусто", long), Err("4 > 3".to_owned()));
    }
}
