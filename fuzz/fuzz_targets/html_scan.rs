//! Arbitrary text as the HTML part of a rewrite: wherever the direct HTML
//! reader accepts it, it records what lol_html records.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    courtesy::rewrite::fuzzing::html_scan(data);
});
