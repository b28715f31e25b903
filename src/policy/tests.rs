//! Tests of loading and validation: one per kind of finding, asserting the
//! exact position and message.

use super::*;
