//! What the letters say: plain functions from a forum and a participant to a subject, a text
//! body and an attachment. No SMTP here, so the wording is tested on its own.

use sha2::{Digest, Sha256};

use crate::domain::forum::Forum;
use crate::reports::certificate::{Certificate, INSTRUCTION};
use crate::reports::{forum_dates, forum_zone_label};

/// The kinds of letter, as stored in the outbox: the organiser's mailing of personal links
/// and of certificates, and the three letters of self-registration (queued by the store).
pub const LINK: &str = "link";
pub const CERTIFICATE: &str = "certificate";
/// The organiser's answer to a viewer's appeal (dedup: the appeal's id).
pub const APPEAL: &str = "appeal";
pub use crate::store::letter_kinds::{AGAIN, RELINK, WELCOME};

/// Every kind, for checking a filter.
pub const KINDS: [&str; 6] = [WELCOME, AGAIN, RELINK, LINK, CERTIFICATE, APPEAL];

/// A letter ready for any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub text: String,
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What every letter with a link says about it.
fn about_the_link(forum: &Forum, link: &str) -> String {
    format!(
        "Ваша личная ссылка для просмотра трансляции:\n{link}\n\n\
         По этой ссылке система учитывает ваше присутствие для баллов НМО, поэтому не \
         передавайте её другим. Время подключения и отключения фиксируется автоматически; \
         во время трансляции периодически появляется кнопка «Подтвердить участие» — \
         нажимайте её, иначе баллы не будут начислены. Расписание указано по времени {zone}.\n\n\
         Ссылка из этого письма действует наравне с ранее полученными.\n",
        zone = forum_zone_label(forum),
    )
}

fn letter_with_link(
    forum: &Forum,
    name: &str,
    email: &str,
    subject: &str,
    intro: &str,
    link: &str,
) -> Letter {
    Letter {
        to_name: name.to_owned(),
        to_email: email.to_owned(),
        subject: format!("{subject}: {}", forum.title),
        text: format!(
            "Здравствуйте, {name}!\n\n{intro}\n\n{}",
            about_the_link(forum, link)
        ),
        attachment: None,
    }
}

/// The personal viewing link, sent before the forum.
pub fn link_letter(forum: &Forum, name: &str, email: &str, link: &str) -> Letter {
    let intro = format!(
        "Вы зарегистрированы на {} ({}).",
        forum.title,
        forum_dates(forum)
    );
    letter_with_link(forum, name, email, "Ваша персональная ссылка", &intro, link)
}

/// To a new registrant: the link, which the registration page no longer shows.
pub fn welcome_letter(forum: &Forum, name: &str, email: &str, link: &str) -> Letter {
    let intro = format!(
        "Вы зарегистрировались на {} ({}). Сохраните это письмо: ссылка из него понадобится \
         в дни форума.\n\nЕсли вы не регистрировались, ничего не делайте: без ссылки \
         участие не учитывается.",
        forum.title,
        forum_dates(forum)
    );
    letter_with_link(forum, name, email, "Вы зарегистрированы", &intro, link)
}

/// To a registered address that filled in the registration form again.
pub fn again_letter(forum: &Forum, name: &str, email: &str, link: &str) -> Letter {
    let intro = format!(
        "С вашим адресом снова заполнили форму регистрации на {} ({}). Вы уже \
         зарегистрированы — повторная регистрация не нужна, вот ваша ссылка.\n\nДанные \
         из повторной формы не сохранены: если в ФИО или специальности ошибка, напишите \
         организатору форума. Если форму заполняли не вы, ничего делать не нужно.",
        forum.title,
        forum_dates(forum)
    );
    letter_with_link(forum, name, email, "Вы уже зарегистрированы", &intro, link)
}

/// «Прислать ссылку ещё раз».
pub fn relink_letter(forum: &Forum, name: &str, email: &str, link: &str) -> Letter {
    let intro = format!(
        "Вы попросили прислать ссылку на {} ({}) ещё раз. Если вы ничего не запрашивали, \
         ничего делать не нужно.",
        forum.title,
        forum_dates(forum)
    );
    letter_with_link(forum, name, email, "Ваша ссылка ещё раз", &intro, link)
}

/// The answer to an appeal about one session, with the reason and a link to the viewer's
/// results page, where the answer is shown too.
pub fn appeal_letter(
    forum: &Forum,
    name: &str,
    email: &str,
    session: &str,
    granted: bool,
    reason: &str,
    link: &str,
) -> Letter {
    let answer = if granted {
        "Организатор рассмотрел ваше обращение и засчитал вам сессию. Код НМО за неё \
         будет выдан вместе с остальными кодами."
    } else {
        "Организатор рассмотрел ваше обращение и не засчитал сессию."
    };
    Letter {
        to_name: name.to_owned(),
        to_email: email.to_owned(),
        subject: format!("Ответ на обращение: {}", forum.title),
        text: format!(
            "Здравствуйте, {name}!\n\nВы писали о сессии «{session}».\n\n{answer}\n\n\
             Причина: {reason}\n\nВаши итоги и ответ — на странице:\n{link}\n\n\
             Не передавайте эту ссылку другим: по ней открываются ваши личные данные.\n"
        ),
        attachment: None,
    }
}

/// The certificate with its codes, sent after the forum; the PDF is attached and the codes are
/// repeated in the text, so a reader that cannot open the attachment still has them.
pub fn certificate_letter(c: &Certificate, email: &str, pdf: Vec<u8>) -> Letter {
    let mut codes = String::new();
    for e in &c.entries {
        codes.push_str(&format!(
            "- {} {}, {}, «{}», {} ЗЕТ: {}\n",
            e.date, e.time, e.hall, e.title, e.credits, e.code
        ));
    }
    let steps: String = INSTRUCTION
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}\n", i + 1))
        .collect();
    let text = format!(
        "Здравствуйте, {name}!\n\n\
         Благодарим за участие в форуме {title}. Во вложении — ваше свидетельство с \
         индивидуальными кодами НМО. Вы выполнили условия в следующих сессиях \
         (время — {zone}):\n\n{codes}\nВсего: {total} ЗЕТ.\n\n\
         Как зачислить баллы:\n{steps}\nПроверить подлинность кода: {verify}<код>\n",
        name = c.participant.name,
        title = c.forum_title,
        zone = c.zone,
        total = c.total_credits(),
        verify = c.verify_base,
    );
    Letter {
        to_name: c.participant.name.clone(),
        to_email: email.to_owned(),
        subject: format!("Свидетельство и коды НМО: {}", c.forum_title),
        text,
        attachment: Some(Attachment {
            filename: "svidetelstvo-nmo.pdf".into(),
            content_type: "application/pdf",
            bytes: pdf,
        }),
    }
}

/// The outbox key of a certificate letter: it names the codes listed, so a second "send
/// certificates" queues a letter only for someone whose codes changed since.
pub fn certificate_dedup(codes: &[(String, String)]) -> String {
    let mut sorted: Vec<String> = codes.iter().map(|(s, c)| format!("{s}={c}")).collect();
    sorted.sort();
    hex::encode(&Sha256::digest(sorted.join(",").as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_letter_carries_the_link_and_the_zone() {
        let forum = crate::forum_file::load(std::path::Path::new("config/forum.toml"))
            .expect("the shipped forum");
        let l = link_letter(
            &forum,
            "Иванова Анна",
            "anna@example.org",
            "http://x/watch?token=t",
        );
        assert!(l.text.contains("http://x/watch?token=t"));
        assert!(l.text.contains("Europe/Moscow"));
        assert!(l.subject.contains(&forum.title));
        assert_eq!(l.to_email, "anna@example.org");
        for make in [welcome_letter, again_letter, relink_letter] {
            let l = make(
                &forum,
                "Иванова Анна",
                "anna@example.org",
                "http://x/watch?token=t",
            );
            assert!(l.text.starts_with("Здравствуйте, Иванова Анна!"));
            assert!(l.text.contains("http://x/watch?token=t"), "{}", l.text);
            assert!(l.subject.ends_with(&forum.title), "{}", l.subject);
        }
        let again = again_letter(&forum, "А", "a@b.c", "l");
        assert!(
            again.text.contains("уже зарегистрированы"),
            "{}",
            again.text
        );
    }

    #[test]
    fn dedup_depends_on_the_set_of_codes_only() {
        let a = vec![
            ("s1".to_owned(), "A".to_owned()),
            ("s2".to_owned(), "B".to_owned()),
        ];
        let b = vec![
            ("s2".to_owned(), "B".to_owned()),
            ("s1".to_owned(), "A".to_owned()),
        ];
        assert_eq!(certificate_dedup(&a), certificate_dedup(&b));
        assert_ne!(certificate_dedup(&a), certificate_dedup(&a[..1]));
    }
}
