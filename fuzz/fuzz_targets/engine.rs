//! Arbitrary bytes through the whole engine: no panic, and whatever it
//! forwards still parses as a message.
#![no_main]

use std::sync::LazyLock;

use courtesy::engine::{self, Disposition, EngineOptions};
use courtesy::envelope::Envelope;
use courtesy::policy::{self, Policy};
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> = LazyLock::new(|| policy::example().policy);

/// libFuzzer aborts on every panic, before `engine::process` can catch it.
/// mail-parser 0.11 has a debug assertion ("Invalid part ID") that input
/// reaches; release builds compile it out, and the engine turns it into an
/// engine failure in debug builds (`tests/fuzz_regressions.rs`). Let only
/// that crate's panics unwind to the engine's guard; ours still abort.
static HOOK: LazyLock<()> = LazyLock::new(|| {
    let fuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_parser = info.location().is_some_and(|l| l.file().contains("/mail-parser-"));
        if !in_parser {
            fuzzer_hook(info);
        }
    }));
});

fuzz_target!(|data: &[u8]| {
    LazyLock::force(&HOOK);
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
