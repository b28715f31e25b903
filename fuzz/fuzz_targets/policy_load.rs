//! Arbitrary text through the policy loader: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = courtesy::policy::load_str(text, "fuzz.yaml");
    }
});
