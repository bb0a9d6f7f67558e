//! Arbitrary bytes into the node's message decoder: a typed error or a canonical message that
//! an active node handles: see `pastry_node::fuzzing::check_decode`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pastry_node::fuzzing::check_decode(data));
