//! Exponent fits of docs/theory.md §6, from the `inference` crate.
//!
//! They are interval regressions over threshold intervals, with a stated joint level.

pub use inference::fit::*;
