//! An arbitrary valid state, encoded and decoded: see
//! `pastry_kernel::fuzzing::check_roundtrip`.
#![no_main]
use pastry_kernel::fuzzing::{check_roundtrip, RoundtripInput};
libfuzzer_sys::fuzz_target!(|input: RoundtripInput| check_roundtrip(&input));
