//! Operation sequences into one DHT node: see `pastry_dht::fuzzing::check_ops`.
#![no_main]
libfuzzer_sys::fuzz_target!(
    |input: pastry_dht::fuzzing::OpsInput| pastry_dht::fuzzing::check_ops(&input)
);
