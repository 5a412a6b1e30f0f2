//! Flags over made-up logs: a script, a colleague clicking for others, a real person.

use super::*;

const T0: Millis = 1_775_000_000_000;

fn person() -> Option<Hints> {
    Some(Hints {
        trusted: true,
        input: Input::Pointer,
        visible: true,
        focused: true,
        rendered: true,
    })
}

fn answer(
    viewer: &str,
    prompt: &str,
    at: Millis,
    reaction: Millis,
    hints: Option<Hints>,
) -> Answer {
    Answer {
        viewer: viewer.into(),
        prompt: prompt.into(),
        conn: format!("{viewer}-c"),
        at,
        reaction_ms: Some(reaction),
        hints,
    }
}

fn conn(viewer: &str, device: &str, page: bool) -> Connection {
    Connection {
        viewer: viewer.into(),
        conn: format!("{viewer}-c"),
        device: Some(device.into()),
        page_loaded: Some(page),
    }
}

/// Prompt `k` of a forum, an hour apart.
fn at(k: i64) -> Millis {
    T0 + k * 3_600_000
}

#[test]
fn a_person_clicking_at_a_human_pace_is_not_flagged() {
    let answers: Vec<Answer> = (0..4)
        .map(|k| {
            answer(
                "anna",
                &format!("p{k}"),
                at(k) + 2_300,
                2_300 + k * 400,
                person(),
            )
        })
        .collect();
    let flags = flag(
        &answers,
        &[conn("anna", "dev-a", true)],
        &Settings::default(),
    );
    assert_eq!(flags, []);
}

#[test]
fn a_script_skipping_the_page_is_flagged_for_speed_hints_and_page() {
    let answers: Vec<Answer> = (0..3)
        .map(|k| answer("bot", &format!("p{k}"), at(k), k, None))
        .collect();
    let flags = flag(
        &answers,
        &[conn("bot", "dev-b", false)],
        &Settings::default(),
    );
    assert_eq!(flags.len(), 1);
    let kinds: Vec<&str> = flags[0].reasons.iter().map(Reason::kind).collect();
    assert_eq!(kinds, ["fast", "untrusted", "no_page"]);
    assert_eq!(
        flags[0].reasons[0],
        Reason::Fast {
            fast: 3,
            timed: 3,
            threshold_ms: 700,
            prompts: vec![("p0".into(), 0), ("p1".into(), 1), ("p2".into(), 2)],
        }
    );
    let words: Vec<String> = flags[0].reasons.iter().map(Reason::text_ru).collect();
    assert_eq!(
        words[0],
        "3 из 3 ответов быстрее 0,70 с после появления окна (измерено сервером): \
         p0 — 0,00 с, p1 — 0,00 с, p2 — 0,00 с"
    );
    assert!(words[1].starts_with("Страница ничего не сообщила об ответе: p0, p1, p2"));
    assert!(words[1].contains("подсказка"), "{}", words[1]);
    assert_eq!(words[2], "1 из 1 подключений открыты не со страницы плеера");
}

#[test]
fn one_quick_answer_among_slow_ones_is_not_consistent() {
    let mut answers: Vec<Answer> = (0..5)
        .map(|k| answer("olga", &format!("p{k}"), at(k), 3_000, person()))
        .collect();
    answers[2].reaction_ms = Some(200);
    answers[3].reaction_ms = Some(300);
    answers[4].reaction_ms = Some(400);
    // Three fast of five: 60 %, at the default share: flagged.
    assert_eq!(flag(&answers, &[], &Settings::default()).len(), 1);
    // Two fast of five is neither three nor 60 %.
    answers[4].reaction_ms = Some(3_000);
    assert_eq!(flag(&answers, &[], &Settings::default()), []);
    // Answers recorded before reactions were measured say nothing.
    let untimed: Vec<Answer> = answers
        .into_iter()
        .map(|a| Answer {
            reaction_ms: None,
            ..a
        })
        .collect();
    assert_eq!(flag(&untimed, &[], &Settings::default()), []);
}

#[test]
fn a_programmatic_click_or_an_undrawn_prompt_is_named() {
    let synthetic = Hints {
        trusted: false,
        input: Input::None,
        ..person().unwrap()
    };
    let hidden = Hints {
        rendered: false,
        ..person().unwrap()
    };
    let answers = vec![
        answer("ivan", "p0", at(0), 2_000, Some(synthetic)),
        answer("ivan", "p1", at(1), 2_000, Some(hidden)),
        answer("ivan", "p2", at(2), 2_000, person()),
    ];
    let flags = flag(&answers, &[], &Settings::default());
    assert_eq!(
        flags[0].reasons,
        [Reason::Untrusted {
            untrusted: vec!["p0".into()],
            not_rendered: vec!["p1".into()],
            no_hints: vec![],
        }]
    );
    assert_eq!(
        flags[0].reasons[0].text_ru(),
        "Без нажатия человеком: p0; окно не было показано на странице: p1 \
         (сведения от страницы участника — подсказка: программа в обход страницы может их подделать)"
    );
}

#[test]
fn a_colleague_answering_for_others_on_one_computer_is_seen_repeatedly_not_once() {
    let s = Settings::default();
    let conns = [
        conn("a", "10.0.0.7 Firefox", true),
        conn("b", "10.0.0.7 Firefox", true),
        conn("c", "10.0.0.7 Firefox", true),
        conn("d", "10.0.0.8 Chrome", true),
    ];
    let mut answers = Vec::new();
    for k in 0..3 {
        let p = format!("p{k}");
        answers.push(answer("a", &p, at(k) + 2_000, 2_000, person()));
        answers.push(answer("b", &p, at(k) + 5_000, 5_000, person()));
        // d answers together with them, but from another device.
        answers.push(answer("d", &p, at(k) + 5_500, 5_500, person()));
    }
    // c answered once with them (a shared office, once), then minutes later.
    answers.push(answer("c", "p0", at(0) + 6_000, 6_000, person()));
    answers.push(answer("c", "p1", at(1) + 300_000, 30_000, person()));
    let flags = flag(&answers, &conns, &s);
    let who: Vec<&str> = flags.iter().map(|f| f.viewer.as_str()).collect();
    assert_eq!(who, ["a", "b"]);
    assert_eq!(
        flags[0].reasons,
        [Reason::SharedDevice {
            others: vec!["b".into()],
            prompts: vec!["p0".into(), "p1".into(), "p2".into()],
            together_ms: 10_000,
        }]
    );
    assert_eq!(
        flags[1].reasons[0].text_ru(),
        "С того же адреса и браузера в пределах 10 с отвечали также: a — на окна p0, p1, p2"
    );
}

#[test]
fn missing_evidence_raises_no_flag() {
    let old = Connection {
        viewer: "v".into(),
        conn: "v-c".into(),
        device: None,
        page_loaded: None,
    };
    let answers = vec![Answer {
        reaction_ms: None,
        ..answer("v", "p0", at(0), 0, person())
    }];
    assert_eq!(flag(&answers, &[old], &Settings::default()), []);
}

#[test]
fn long_lists_are_cut_in_words_but_kept_whole() {
    let answers: Vec<Answer> = (0..8)
        .map(|k| answer("bot", &format!("p{k}"), at(k), 100, person()))
        .collect();
    let flags = flag(&answers, &[], &Settings::default());
    let Reason::Fast { prompts, .. } = &flags[0].reasons[0] else {
        panic!("{:?}", flags[0].reasons);
    };
    assert_eq!(prompts.len(), 8);
    assert!(flags[0].reasons[0].text_ru().ends_with(" и ещё 3"));
}
