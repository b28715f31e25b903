//! Every golden case through the milter, with body packets of several
//! sizes: applied the way the MTA applies them, the milter's changes must
//! give exactly `NAME.expected.eml` (in CRLF, as the MTA stores mail), and
//! mail that the golden file leaves alone must get no modification at all.

mod milter_support;

use milter_support::*;

/// Sender and recipients as the golden test derives them: From and To.
fn envelope_of(raw: &[u8]) -> (String, Vec<String>) {
    let headers = mail_parser::MessageParser::default().parse_headers(raw).expect("headers");
    let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|a| a.address()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let from = addresses(headers.from()).into_iter().next().unwrap_or_default();
    (from, addresses(headers.to()))
}

#[tokio::test]
async fn every_golden_case_in_several_chunk_sizes() {
    let dir = repo("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".eml") && !name.contains(".expected.") && !name.contains(".actual.")
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "golden folder is (nearly) empty: {cases:?}");

    let m = start(config).await;
    let (mut mta, _) = Mta::connect(m.addr, ALL_ACTIONS, POSTFIX_PROTOCOL).await;
    for case in &cases {
        let original = std::fs::read(case).unwrap();
        let expected = std::fs::read(case.with_extension("expected.eml")).unwrap();
        let (from, rcpts) = envelope_of(&original);
        let rcpts: Vec<&str> = rcpts.iter().map(String::as_str).collect();
        for chunk in [1usize, 17, 4096, 65535] {
            let end = mta.message_chunked(&from, &rcpts, &original, chunk).await;
            let label = format!("{} with body packets of {chunk} bytes", case.display());
            assert_eq!(end.last, Some(Reply::Continue), "{label}");
            if to_lf(&expected) == to_lf(&original) {
                assert_eq!(end.modifications, vec![], "{label}: unchanged mail was modified");
            } else {
                let delivered = apply(&original, &end, true);
                if delivered != to_crlf(&expected) {
                    let actual = case.with_extension("milter.actual.eml");
                    std::fs::write(&actual, &delivered).unwrap();
                    panic!("{label}: differs from the golden file; see {}", actual.display());
                }
            }
        }
    }
    mta.quit().await;
    m.stop().await;
}
