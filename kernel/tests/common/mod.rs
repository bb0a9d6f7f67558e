//! Settings shared by the property-test binaries.

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// proptest settings: a fixed seed (runs are reproducible and failures replayable), `cases`
/// cases, and failing cases persisted in `regressions` (a path under the kernel's
/// `proptest-regressions/`, relative to the crate root where `cargo test` runs the tests).
pub fn seeded(cases: u32, regressions: &'static str) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_2001),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}
