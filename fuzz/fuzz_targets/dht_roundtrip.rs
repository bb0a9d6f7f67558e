//! DHT messages through encode and decode: see `pastry_dht::fuzzing::check_roundtrip`.
#![no_main]
libfuzzer_sys::fuzz_target!(|m: pastry_dht::DhtMessage| pastry_dht::fuzzing::check_roundtrip(&m));
