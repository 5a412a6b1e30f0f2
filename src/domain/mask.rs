//! Masked names: what the public `/verify` page shows next to a genuine code, and what a stored
//! name becomes once the retention period of `retention` has passed.
//!
//! Chosen form: «И***а А. С.» — the surname's first and last letters with the middle hidden,
//! then initials. Enough for the holder (or a commission that has the full list) to recognise
//! the match, too little for a stranger who found a code to learn whose it is: a full surname
//! plus initials is often unique in a specialty, a masked one is not. E-mail and phone are
//! never shown.
//!
//! [`scrub_addresses`] serves the server's own log: a mail server's answer often repeats the
//! recipient's address («550 ivanova@… unknown»), and the log records viewer ids, not people.

/// Masks a full name «Фамилия Имя Отчество» as «Ф***я И. О.».
///
/// Surnames of one or two letters keep only the first («Л*»); hyphenated surnames are masked
/// part by part («Р***а-К***в»); an empty name gives «участник».
pub fn mask_name(full: &str) -> String {
    let mut words = full.split_whitespace();
    let Some(surname) = words.next() else {
        return "участник".to_owned();
    };
    let masked: Vec<String> = surname.split('-').map(mask_word).collect();
    let mut out = masked.join("-");
    for w in words {
        if let Some(first) = w.chars().next() {
            out.push(' ');
            out.extend(first.to_uppercase());
            out.push('.');
        }
    }
    out
}

fn mask_word(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    match chars.as_slice() {
        [] => String::new(),
        [first] | [first, _] => format!("{}*", first.to_uppercase()),
        [first, .., last] => format!("{}***{last}", first.to_uppercase()),
    }
}

/// `text` with every e-mail address in it replaced by «(адрес)»; the rest kept as it was.
pub fn scrub_addresses(text: &str) -> String {
    let local = |c: char| c.is_alphanumeric() || "._%+-'!#$&*/=?^`{|}~".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let start = out.chars().rev().take_while(|c| local(*c)).count();
            let end = chars[i + 1..].iter().take_while(|c| domain(**c)).count();
            if start > 0 && end > 0 {
                let keep = out.chars().count() - start;
                out = out.chars().take(keep).collect();
                out.push_str("(адрес)");
                i += 1 + end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_surname_and_keeps_initials() {
        assert_eq!(mask_name("Иванова Мария Игоревна"), "И***а М. И.");
        assert_eq!(mask_name("  петров   пётр "), "П***в П.");
        assert_eq!(mask_name("Ли"), "Л*");
        assert_eq!(mask_name("Римская-Корсакова Анна"), "Р***я-К***а А.");
        assert_eq!(mask_name(""), "участник");
    }

    #[test]
    fn addresses_leave_a_mail_servers_answer() {
        assert_eq!(
            scrub_addresses("550 5.1.1 <ivanova.m+nmo@mail.example.ru>: user unknown"),
            "550 5.1.1 <(адрес)>: user unknown"
        );
        assert_eq!(
            scrub_addresses("RCPT TO:пётр@почта.рф refused; a@b"),
            "RCPT TO:(адрес) refused; (адрес)"
        );
        assert_eq!(scrub_addresses("no address @ here"), "no address @ here");
        assert_eq!(scrub_addresses(""), "");
    }

    #[test]
    fn nothing_of_the_middle_survives() {
        let masked = mask_name("Константинопольская Ольга Павловна");
        assert!(!masked.contains("онстантинопольска"), "{masked}");
        assert_eq!(masked.chars().filter(|c| *c == '*').count(), 3);
    }
}
