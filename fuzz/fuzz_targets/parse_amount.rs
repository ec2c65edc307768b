#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks are shared with tests/fuzz_corpus.rs, which replays the corpus
// and every crash ever found on the stable toolchain.
include!("../checks.rs");

fuzz_target!(|data: &[u8]| check_parse_amount(data));
