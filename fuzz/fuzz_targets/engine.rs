//! Arbitrary bytes through the whole engine: no panic, and whatever it
//! forwards still parses as a message.
#![no_main]

use std::sync::LazyLock;

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Policy};
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> = LazyLock::new(|| policy::example().policy);

fuzz_target!(|data: &[u8]| {
    let envelope = Envelope::new("maarten@hoekstra-advies.nl", ["piet@bakkerij-degroot.nl"]);
    let outcome = engine::process(data, &envelope, &POLICY, &EngineOptions::default());
    if outcome.disposition == Disposition::Rewritten {
        let output = outcome.output(data);
        assert!(
            mail_parser::MessageParser::default().parse(output).is_some(),
            "a rewritten message must parse"
        );
    } else {
        assert_eq!(outcome.output(data), data, "untouched mail must be byte-identical");
    }
});
