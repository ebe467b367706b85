//! Exponent fits of docs/theory.md §6, from the `inference` crate (interval regression over threshold intervals, with a stated joint level).

pub use inference::fit::*;
