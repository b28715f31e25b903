//! The `courtesy` subcommands; `main.rs` only parses arguments and calls these.

pub mod audit;
pub mod check;
pub mod console;
pub mod directory;
pub mod dkim;
pub mod milter;
pub mod preview;
pub mod serve;

/// Exit code of a checking command that found problems in what it checked.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for bad arguments or a bad configuration of courtesy itself.
pub const EXIT_USAGE: u8 = 2;
