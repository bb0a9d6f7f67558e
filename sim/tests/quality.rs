//! The routing-table quality measurement (figure 7) on networks whose answer is known.

use pastry_kernel::Config;
use pastry_sim::experiment::{Build, Maintenance, Routing, Setup};
use pastry_sim::model::Latency;
use pastry_sim::overlay::Overlay;
use pastry_sim::progress::Progress;
use pastry_sim::quality::{table_quality, TableQuality};

fn oracle(n: usize, candidates_per_slot: usize) -> Overlay {
    let setup = Setup {
        config: Config::PAPER,
        seed: 3,
        build: Build::Oracle {
            candidates_per_slot: Some(candidates_per_slot),
        },
        latency: Latency::WAN,
        loss: 0.0,
        routing: Routing::Pastry,
        progress: Progress::quiet(),
    };
    setup.overlay(n, Maintenance::Idle).unwrap().0
}

/// The four kinds of slot add up to the fillable slots, row by row.
fn consistent(q: &TableQuality) {
    for r in &q.rows {
        let sum = r.optimal + r.non_optimal + r.empty + r.dead;
        assert!((sum - r.fillable).abs() < 1e-9, "{r:?}");
    }
}

#[test]
fn every_entry_is_the_best_when_every_candidate_was_offered() {
    let net = oracle(600, usize::MAX);
    let q = table_quality(&net, 4, 600);
    consistent(&q);
    assert_eq!((q.nodes, q.measured), (600, 600));
    for r in &q.rows {
        assert_eq!(r.optimal, r.fillable, "{r:?}");
        assert_eq!((r.non_optimal, r.empty, r.dead), (0.0, 0.0, 0.0), "{r:?}");
    }
    // About 37 nodes per row-0 prefix: every one of the 15 slots can be filled.
    assert_eq!(q.rows[0].fillable, 15.0);
}

#[test]
fn one_arbitrary_candidate_per_slot_is_seldom_the_best() {
    let q = table_quality(&oracle(600, 1), 4, 600);
    consistent(&q);
    // One node of about 37 per row-0 slot: the nearest about once in 37.
    assert!(q.rows[0].optimal < 2.0, "{:?}", q.rows[0]);
    assert!(q.rows[0].non_optimal > 13.0, "{:?}", q.rows[0]);
}

#[test]
fn crashed_entries_count_as_dead_and_the_sample_is_respected() {
    let mut net = oracle(600, usize::MAX);
    let victims: Vec<_> = net
        .meter()
        .active_handles()
        .iter()
        .step_by(10)
        .copied()
        .collect();
    for h in victims {
        net.crash(h);
    }
    let q = table_quality(&net, 4, 100);
    consistent(&q);
    assert_eq!((q.nodes, q.measured), (540, 100));
    // A tenth of the nodes crashed, and nobody has noticed: about 1.5 of the 15 row-0 entries
    // are dead (a slot counts while an active node could fill it), the rest are still the best.
    assert!((0.5..3.0).contains(&q.rows[0].dead), "{:?}", q.rows[0]);
    assert_eq!(q.rows[0].non_optimal, 0.0, "{:?}", q.rows[0]);
}
