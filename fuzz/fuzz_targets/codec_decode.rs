//! Arbitrary bytes into every decoder: see `pastry_kernel::fuzzing::check_decode`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pastry_kernel::fuzzing::check_decode(data));
