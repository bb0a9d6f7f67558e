//! Criterion benchmarks of pastry-kernel's lookup path, against baselines on the same entries.
//!
//! One bench binary (`benches/pastry.rs`) runs [`benchmarks`], which gathers one
//! `pub fn benchmarks(c: &mut Criterion)` per area. Groups are named `area/op`; each benchmark is
//! `BenchmarkId::new(implementation, parameter)`; every group sets a `Throughput`; inputs come from
//! seeded generators ([`fixtures::SplitMix`]) and are built outside the timed loop; inputs and
//! outputs pass through `black_box`.
//!
//! * [`route`]: `NodeState::route` against `linear_scan`, `sorted_vec`, `btreemap` and `floor`
//!   ([`baselines`]) on node states of networks of 10^3 to 10^6 nodes.
//! * [`arith`]: the generic ring and prefix arithmetic against plain `u128` code.
//! * [`state`]: learn, forget, building a node state, join assembly and the codec.
//! * `peers` (feature `peers`, off by default; its own bench target, `--bench peers`): discv5's
//!   and libp2p-kad's closest-node lookups beside the kernel's route, on the same network and
//!   keys.
//! * [`sync`]: `route` through the shared state of `pastry_kernel::sync` against a plain state.
//! * [`node`]: the protocol engine's forwarding path and heartbeat round, beside the kernel
//!   lookup it is built on.
//!
//! Run everything: `cargo bench -p pastry-benches`; every benchmark once (CI):
//! `cargo bench -p pastry-benches -- --test`. `benches/report.sh` runs the suite and prints the
//! README's performance table (the `perf-table` binary reads criterion's `estimates.json` files).
//!
//! To add an area: a module with `pub fn benchmarks(c: &mut Criterion)`, declared below and called
//! from [`benchmarks`].

use std::time::Duration;

use criterion::Criterion;

pub mod arith;
pub mod baselines;
pub mod fixtures;
pub mod node;
#[cfg(feature = "peers")]
pub mod peers;
pub mod route;
pub mod state;
pub mod sync;

/// The suite's criterion configuration, sized for a 2-core machine: short warm-up and
/// measurement so the whole suite runs in a few minutes. Command-line options still apply.
#[must_use]
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(900))
        .sample_size(30)
}

/// Every area's benchmarks.
pub fn benchmarks(c: &mut Criterion) {
    arith::benchmarks(c);
    route::benchmarks(c);
    state::benchmarks(c);
    node::benchmarks(c);
    sync::benchmarks(c);
}
