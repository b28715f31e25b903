//! Arbitrary client bytes through the SMTP session and DATA receiver:
//! no panic, every reply well-formed, limits held.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| courtesy::smtp::fuzzing::session(data));
