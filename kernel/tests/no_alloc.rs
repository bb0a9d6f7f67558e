//! `route` and `replica_set` never allocate: a counting global allocator (the
//! `allocation-counter` crate, which installs itself as this test binary's global allocator and
//! counts per thread) sees zero allocations across 10,000 calls of each on a populated state.
//!
//! This file is its own test binary so that no other test shares the counting allocator.

use pastry_kernel::fuzzing::Network;
use pastry_kernel::seeded::SplitMix;
use pastry_kernel::{Config, Guid, NodeRef, NodeState, Route};

#[test]
fn route_and_replica_set_never_allocate() {
    let mut rng = SplitMix::new(7);
    let ids: Vec<Guid> = (0..300).map(|_| rng.guid()).collect();
    let net = Network::new(
        Config::PAPER,
        &ids,
        |i, j| (i * 31 + j * 17) as u32 % 100,
        1,
    );
    // A populated state: a full leaf set, table rows 0-1, a full neighborhood set; plus a state
    // that learned nodes one by one (its table misses slots, so routes take the rare case too).
    let populated = net.state(0);
    let mut sparse: NodeState<usize> = NodeState::new(Config::PAPER, NodeRef::new(ids[1], 1));
    for (i, id) in ids.iter().enumerate().skip(2).step_by(13) {
        sparse.learn(NodeRef::new(*id, i), i as u32).unwrap();
    }
    assert!(populated.leaf_set().is_full() && populated.table().len() > 15);
    let keys: Vec<Guid> = (0..10_000).map(|_| rng.guid()).collect();

    let mut delivered = 0;
    let mut forwarded = 0;
    let mut replicas = 0;
    let info = allocation_counter::measure(|| {
        for state in [populated, &sparse] {
            for &key in &keys {
                match std::hint::black_box(state.route(std::hint::black_box(key))) {
                    Route::Deliver => delivered += 1,
                    Route::Forward { .. } => forwarded += 1,
                }
                let set = std::hint::black_box(state.replica_set(key, 9));
                replicas += set.len();
            }
        }
    });
    assert_eq!(
        info.count_total, 0,
        "route or replica_set allocated: {info:?}"
    );
    assert_eq!(delivered + forwarded, 20_000);
    assert!(forwarded > 0 && replicas == 20_000 * 9);

    // The counter does count: a control that allocates is seen.
    let control = allocation_counter::measure(|| {
        std::hint::black_box(vec![0u8; 16]);
    });
    assert_eq!(control.count_total, 1);
}
