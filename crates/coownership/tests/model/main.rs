//! The core without a database: the rule sets, rounding, property tests and
//! the fuzz corpus replayed. One test binary, one module per subject.

mod fuzz_corpus;
mod layers;
mod properties;
mod rounding;
mod rules;
