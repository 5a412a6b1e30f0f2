use super::code::ALPHABET;
use super::*;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([42; 32])
}

fn viewers(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn code(text: &str) -> Code {
    Code::parse(text).unwrap()
}

/// Pool text of `n` distinct codes derived from `tag`.
fn pool_text(tag: char, n: usize) -> String {
    (0..n)
        .map(|i| format!("{tag}{i:011}\n"))
        .collect::<String>()
}

/// The guarantees that must hold after any sequence of operations.
fn check_invariants(book: &CodeBook) {
    let parts = book.to_parts();
    let mut codes = BTreeSet::new();
    for row in &parts.issued {
        assert!(codes.insert(row.code.clone()), "{} issued twice", row.code);
    }
    assert_eq!(CodeBook::from_parts(parts).unwrap(), *book);
}

#[test]
fn code_format() {
    assert_eq!(code(" ab12cd34ef56 ").as_str(), "AB12CD34EF56");
    assert_eq!(code("AB12CD34EF56").to_string(), "AB12CD34EF56");
    assert!(matches!(
        Code::parse("AB12CD34EF5"),
        Err(CodeError::Length { len: 11, .. })
    ));
    assert!(matches!(
        Code::parse("AB12CD34EF567"),
        Err(CodeError::Length { len: 13, .. })
    ));
    assert!(matches!(
        Code::parse("AB12-D34EF56"),
        Err(CodeError::Symbol { symbol: '-', .. })
    ));
    assert!(matches!(
        Code::parse("AB12 D34EF56"),
        Err(CodeError::Symbol { symbol: ' ', .. })
    ));
    // Cyrillic «А» in place of Latin A.
    let e = Code::parse("\u{0410}B12CD34EF56").unwrap_err();
    assert!(matches!(e, CodeError::Cyrillic { .. }));
    assert!(e.to_string().contains("кириллическая"), "{e}");
    assert!(Code::parse("").is_err());
    assert_eq!(
        serde_json::to_string(&code("AB12CD34EF56")).unwrap(),
        "\"AB12CD34EF56\""
    );
    assert!(serde_json::from_str::<Code>("\"short\"").is_err());
}

#[test]
fn generated_codes_are_valid_unique_and_use_every_symbol() {
    let mut rng = rng();
    let mut all = BTreeSet::new();
    let mut counts = [0u32; 36];
    for _ in 0..100_000 {
        let c = Code::generate(&mut rng);
        assert_eq!(Code::parse(c.as_str()).unwrap(), c);
        for b in c.as_str().bytes() {
            let i = ALPHABET.iter().position(|&a| a == b).unwrap();
            counts[i] += 1;
        }
        assert!(all.insert(c));
    }
    // 1.2M symbols, ~33 333 each; a bias of a few percent would show.
    let expected = 1_200_000.0 / 36.0;
    for (i, &n) in counts.iter().enumerate() {
        let dev = (f64::from(n) - expected).abs() / expected;
        assert!(
            dev < 0.02,
            "symbol {} deviates by {dev}",
            ALPHABET[i] as char
        );
    }
}

#[test]
fn generated_issuance_is_idempotent() {
    let mut book = CodeBook::new();
    let mut rng = rng();
    let first = book
        .issue("d1", &viewers(&["ann", "bob", "ann"]), &mut rng)
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|i| i.source == Source::Generated));
    let before = book.clone();

    let again = book
        .issue("d1", &viewers(&["bob", "ann"]), &mut rng)
        .unwrap();
    assert_eq!(book, before, "issuing again changes nothing");
    assert!(again.iter().all(|i| i.source == Source::Existing));
    assert_eq!(again[0].code, first[1].code);
    assert_eq!(again[1].code, first[0].code);

    let more = book
        .issue("d1", &viewers(&["ann", "cat"]), &mut rng)
        .unwrap();
    assert_eq!(more[0].source, Source::Existing);
    assert_eq!(more[1].source, Source::Generated);
    assert!(more[1].is_new());

    // The same viewer gets a different code for another session.
    let other = book.issue("d2", &viewers(&["ann"]), &mut rng).unwrap();
    assert_ne!(other[0].code, first[0].code);
    assert_eq!(book.code_for("ann", "d2"), Some(&other[0].code));
    assert_eq!(
        book.holder(&other[0].code),
        Some(Holder::Issued {
            session: "d2",
            viewer: "ann"
        })
    );
    assert_eq!(book.issued_in("d1").count(), 3);
    check_invariants(&book);
}

#[test]
fn pool_import_and_issuance_in_pool_order() {
    let mut book = CodeBook::new();
    let text = "\u{feff}AAAAAAAAAAA1\r\n\r\n  bbbbbbbbbbb2 \nCCCCCCCCCCC3\n";
    let imp = book.import_pool("d1", text).unwrap();
    assert_eq!(
        imp,
        PoolImport {
            added: 3,
            size: 3,
            left: 3
        }
    );
    assert_eq!(
        book.holder(&code("BBBBBBBBBBB2")),
        Some(Holder::Pooled { session: "d1" })
    );
    let got = book
        .issue("d1", &viewers(&["zed", "amy"]), &mut rng())
        .unwrap();
    assert_eq!(got[0].code, code("AAAAAAAAAAA1"));
    assert_eq!(got[1].code, code("BBBBBBBBBBB2"));
    assert_eq!(got[0].source, Source::Pool);
    assert_eq!(
        book.pool_status("d1"),
        Some(PoolStatus {
            size: 3,
            used: 2,
            left: 1
        })
    );
    assert_eq!(book.pool_status("d2"), None);
    check_invariants(&book);
}

#[test]
fn bad_pool_reports_every_line_and_imports_nothing() {
    let mut book = CodeBook::new();
    book.import_pool("d1", "AAAAAAAAAAA1\n").unwrap();
    let issued = book.issue("d2", &viewers(&["ann"]), &mut rng()).unwrap();
    let before = book.clone();

    let text = format!(
        "XXXXXXXXXXX1\nshort\n\nXXXXXXXXXXX1\nAAAAAAAAAAA1\n{}\nXXXX-XXXXXX2\nXXXXXXXXXXX3\n",
        issued[0].code
    );
    let err = book.import_pool("d3", &text).unwrap_err();
    assert_eq!(book, before, "nothing imported");
    let PoolError::Invalid { problems, .. } = &err else {
        panic!("{err:?}");
    };
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 4, 5, 6, 7]);
    assert!(problems[1].problem.contains("строке 1"), "{problems:?}");
    assert!(problems[2].problem.contains("пуле сессии «d1»"));
    assert!(problems[3].problem.contains("выдан в сессии «d2»"));
    let text = err.to_string();
    assert!(text.contains("Строка 2:"), "{text}");
    assert!(text.contains("ни один код не добавлен"), "{text}");

    assert!(matches!(
        book.import_pool("d3", "\n  \n"),
        Err(PoolError::Empty { .. })
    ));
    assert_eq!(book.pool_status("d3"), None);
}

#[test]
fn long_problem_lists_are_summarised() {
    let mut book = CodeBook::new();
    let text = "bad\n".repeat(30);
    let msg = book.import_pool("d1", &text).unwrap_err().to_string();
    assert!(msg.contains("Ошибки (30)"), "{msg}");
    assert!(msg.contains("…и ещё 10"), "{msg}");
}

#[test]
fn exhausted_pool_issues_nothing() {
    let mut book = CodeBook::new();
    book.import_pool("d1", &pool_text('A', 2)).unwrap();
    book.issue("d1", &viewers(&["ann"]), &mut rng()).unwrap();
    let before = book.clone();
    let err = book
        .issue("d1", &viewers(&["ann", "bob", "cat"]), &mut rng())
        .unwrap_err();
    assert_eq!(
        err,
        IssueError::PoolExhausted {
            session: "d1".into(),
            needed: 2,
            available: 1
        }
    );
    assert!(err.to_string().contains("ни один код не выдан"));
    assert_eq!(book, before);

    // A second import tops the pool up; its codes follow the earlier ones.
    let imp = book.import_pool("d1", &pool_text('B', 5)).unwrap();
    assert_eq!((imp.added, imp.size, imp.left), (5, 7, 6));
    let got = book
        .issue("d1", &viewers(&["ann", "bob", "cat"]), &mut rng())
        .unwrap();
    assert_eq!(got[1].code, code("A00000000001"));
    assert_eq!(got[2].code, code("B00000000000"));
    check_invariants(&book);
}

#[test]
fn restore_refuses_broken_parts_and_serde_round_trips() {
    let mut book = CodeBook::new();
    book.import_pool("d1", &pool_text('A', 3)).unwrap();
    book.issue("d1", &viewers(&["ann", "bob"]), &mut rng())
        .unwrap();
    book.issue("d2", &viewers(&["ann"]), &mut rng()).unwrap();
    let json = serde_json::to_string(&book).unwrap();
    assert_eq!(serde_json::from_str::<CodeBook>(&json).unwrap(), book);

    let good = book.to_parts();
    let mut twice = good.clone();
    twice.issued.push(IssuedCode {
        session: "d2".into(),
        viewer: "cat".into(),
        code: good.issued[0].code.clone(),
    });
    assert!(matches!(
        CodeBook::from_parts(twice),
        Err(RestoreError::DuplicateCode { .. })
    ));

    let mut two_codes = good.clone();
    two_codes.issued.push(IssuedCode {
        session: "d1".into(),
        viewer: "ann".into(),
        code: code("ZZZZZZZZZZZZ"),
    });
    assert!(matches!(
        CodeBook::from_parts(two_codes),
        Err(RestoreError::TwoCodes { .. })
    ));

    let mut cross = good.clone();
    cross.pools.insert("d2".into(), vec![code("A00000000002")]);
    assert!(CodeBook::from_parts(cross).is_err());

    let mut pooled_elsewhere = good;
    pooled_elsewhere.issued.push(IssuedCode {
        session: "d2".into(),
        viewer: "dan".into(),
        code: code("A00000000002"),
    });
    let e = CodeBook::from_parts(pooled_elsewhere).unwrap_err();
    assert!(e.to_string().contains("пул сессии «d1»"), "{e}");
}

#[derive(Debug, Clone)]
enum Op {
    Import(u8, u8, u8),
    Issue(u8, Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 0u8..4, 0u8..6).prop_map(|(s, tag, n)| Op::Import(s, tag, n)),
        (0u8..3, proptest::collection::vec(0u8..8, 0..6)).prop_map(|(s, v)| Op::Issue(s, v)),
    ]
}

proptest! {
    #[test]
    fn no_code_for_two_people_and_issued_codes_never_change(
        ops in proptest::collection::vec(op(), 1..25),
        seed in any::<[u8; 32]>(),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut book = CodeBook::new();
        let mut ever: BTreeMap<(String, String), Code> = BTreeMap::new();
        for op in ops {
            let before = book.clone();
            match op {
                Op::Import(s, tag, n) => {
                    // Tags overlap on purpose, so some imports collide and must change nothing.
                    let text: String = (0..n).map(|i| format!("P{tag}{i:010}\n")).collect();
                    if book.import_pool(&format!("s{s}"), &text).is_err() {
                        prop_assert_eq!(&book, &before);
                    }
                }
                Op::Issue(s, vs) => {
                    let session = format!("s{s}");
                    let vs: Vec<String> = vs.iter().map(|v| format!("v{v}")).collect();
                    match book.issue(&session, &vs, &mut rng) {
                        Ok(out) => {
                            for i in out {
                                prop_assert_eq!(book.code_for(&i.viewer, &session), Some(&i.code));
                            }
                        }
                        Err(_) => prop_assert_eq!(&book, &before),
                    }
                }
            }
            for (session, viewers) in &book.issued {
                for (viewer, code) in viewers {
                    let key = (session.clone(), viewer.clone());
                    if let Some(old) = ever.get(&key) {
                        prop_assert_eq!(old, code, "issued code changed");
                    }
                    ever.insert(key, code.clone());
                }
            }
            check_invariants(&book);
        }
    }
}
