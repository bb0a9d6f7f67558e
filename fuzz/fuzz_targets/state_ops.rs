//! Sequences of learn / forget / join / merge / route against brute-force models: see
//! `pastry_kernel::fuzzing::check_state_sequence`.
#![no_main]
use pastry_kernel::fuzzing::{check_state_sequence, StateSequence};
libfuzzer_sys::fuzz_target!(|input: StateSequence| check_state_sequence(&input));
