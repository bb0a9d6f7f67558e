//! The lookup-path calls added for routing around trouble and the Common API never allocate:
//! `next_hops`, `route_avoiding`, `route_randomized`, `neighbor_set`, `range` and the repair
//! hints, measured with a counting global allocator (`allocation-counter`, installed as this
//! test binary's allocator, counting per thread).
//!
//! Its own test binary so that no other test shares the counting allocator.

use std::hint::black_box;

use pastry_kernel::seeded::SplitMix;
use pastry_kernel::{Config, Guid, NodeRef, NodeState, RepairHint};

#[test]
fn lookup_calls_never_allocate() {
    let mut rng = SplitMix::new(11);
    let mut ring: Vec<NodeRef<usize>> = (0..400).map(|i| NodeRef::new(rng.guid(), i)).collect();
    ring.sort_by_key(|n| n.id);
    let full = NodeState::from_ring(
        Config::PAPER,
        ring[0],
        &ring,
        |n| (n.handle * 37 % 101) as u32,
        3,
    );
    // A sparse state whose routes take the rare case, and one with holes to repair.
    let mut sparse = NodeState::new(Config::PAPER, ring[1]);
    for n in ring.iter().skip(2).step_by(17) {
        sparse.learn(*n, n.handle as u32).unwrap();
    }
    let mut holed = full.clone();
    let succ = holed.leaf_set().successors()[0].id;
    let gone = holed.forget(succ).unwrap();
    let entry = holed
        .table()
        .iter()
        .next()
        .map(|(_, _, e)| e.node.id)
        .unwrap();
    let gone_row = holed.forget(entry).unwrap();
    let keys: Vec<Guid> = (0..5_000).map(|_| rng.guid()).collect();

    let mut seen = 0usize;
    let info = allocation_counter::measure(|| {
        for state in [&full, &sparse, &holed] {
            let mut buf = [None; 16];
            for (i, &key) in keys.iter().enumerate() {
                seen += state.next_hops(black_box(key), &mut buf);
                let suspect = buf[0];
                let r = state.route_avoiding(black_box(key), |n| Some(*n) == suspect);
                seen += usize::from(r.next_hop().is_some());
                let r = state.route_randomized(black_box(key), i as u64 * 0x9e37_79b9);
                seen += usize::from(r.next_hop().is_some());
            }
            seen += state.neighbor_set(20).count();
            for rank in 0..10 {
                seen += usize::from(black_box(state.range(rank)).is_some());
            }
        }
        for f in [&gone, &gone_row] {
            seen += holed
                .repair_hints(f)
                .filter(|h| matches!(h, RepairHint::LeafSet { .. } | RepairHint::Row { .. }))
                .count();
        }
    });
    assert_eq!(info.count_total, 0, "a lookup call allocated: {info:?}");
    assert!(seen > keys.len());
}
