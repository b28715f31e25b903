//! Arbitrary MTA bytes through the milter packet decoder and session:
//! errors end the conversation, never a panic or unbounded buffering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| courtesy::milter::fuzzing::frames(data));
