//! Settings shared by the property-test binaries.

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// proptest settings: a fixed seed (runs are reproducible and failures replayable), `cases`
/// cases, and failing cases persisted in `regressions` (a path under the crate's
/// `proptest-regressions/`, relative to the crate root where `cargo test` runs the tests).
///
/// For a deeper search, `PROPTEST_CASES` replaces the number of cases and `PROPTEST_RNG_SEED`
/// the seed (e.g. `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test --release`).
pub fn seeded(cases: u32, regressions: &'static str) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES").map_or(cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5eed_2001)),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}
