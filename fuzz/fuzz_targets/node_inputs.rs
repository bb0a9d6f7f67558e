//! Arbitrary messages, bytes, timeouts and calls into one node: see
//! `pastry_node::fuzzing::check_inputs`.
#![no_main]
use pastry_node::fuzzing::{check_inputs, NodeInputs};
libfuzzer_sys::fuzz_target!(|input: NodeInputs| check_inputs(&input));
