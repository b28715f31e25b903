//! The console's pages.

pub mod login;
pub mod policy;
pub mod preview;
pub mod rewrites;
