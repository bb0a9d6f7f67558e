//! The one bench binary: every area's `benchmarks` function, under the suite's criterion
//! configuration ([`pastry_benches::criterion`]).

use criterion::{criterion_group, criterion_main};

criterion_group! {
    name = benches;
    config = pastry_benches::criterion();
    targets = pastry_benches::benchmarks
}
criterion_main!(benches);
