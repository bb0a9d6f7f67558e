//! The `peers/closest` group alone (feature `peers`): the kernel's `route`, discv5's and
//! libp2p-kad's closest-node lookups on the same network and keys, measured in one run of one
//! binary ([`pastry_benches::peers`]). `benches/report.sh --peers` runs it and prints the table.

use criterion::{criterion_group, criterion_main};

criterion_group! {
    name = benches;
    config = pastry_benches::criterion();
    targets = pastry_benches::peers::benchmarks
}
criterion_main!(benches);
