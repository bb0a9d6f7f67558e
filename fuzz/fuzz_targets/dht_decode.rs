//! Arbitrary bytes into the DHT message decoder: see `pastry_dht::fuzzing::check_decode`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pastry_dht::fuzzing::check_decode(data));
