//! Masked names: what the public `/verify` page shows next to a genuine code, and what a stored
//! name becomes once the retention period of `retention` has passed.
//!
//! Chosen form: «И***а А. С.» — the surname's first and last letters with the middle hidden,
//! then initials. Enough for the holder (or a commission that has the full list) to recognise
//! the match, too little for a stranger who found a code to learn whose it is: a full surname
//! plus initials is often unique in a specialty, a masked one is not. E-mail and phone are
//! never shown.

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
    fn nothing_of_the_middle_survives() {
        let masked = mask_name("Константинопольская Ольга Павловна");
        assert!(!masked.contains("онстантинопольска"), "{masked}");
        assert_eq!(masked.chars().filter(|c| *c == '*').count(), 3);
    }
}
