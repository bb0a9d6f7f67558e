//! Small-N runs of the join build, the failure experiment and churn: delivery to the live root
//! asserted exactly where the protocol guarantees it, loose bounds elsewhere.

use pastry_kernel::{Config, Guid};
use pastry_sim::experiment::{self, Build, Setup, Stats};
use pastry_sim::network::{Handle, JoinProtocol, Network};
use pastry_sim::progress::Progress;

/// The oracle build keeps these debug-build tests fast; the join build is tested on its own.
const ORACLE: Build = Build::Oracle {
    candidates_per_slot: Some(2),
};

fn setup(seed: u64, build: Build) -> Setup {
    Setup {
        config: Config::PAPER,
        seed,
        build,
        progress: Progress::quiet(),
    }
}

fn check_join_build(n: usize, lookups: usize) {
    let run = || {
        let join = Build::Join {
            protocol: JoinProtocol::Full,
        };
        experiment::sizes_experiment(&setup(5, join), &[n], lookups, false).0
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b, "same seed, same results");
    let r = &a[0];
    let s = &r.stats;
    assert_eq!(s.at_root, s.lookups, "{}", s.correctness_line());
    assert_eq!((s.loops, s.runaways, s.over_hop_bound), (0, 0, 0));
    assert!(s.mean_hops < r.log_n + 0.5, "{} hops", s.mean_hops);
    let cost = r.join_cost_per_node.unwrap();
    assert!(cost.told > 0.0 && cost.state_requests > 1.0);
}

/// Small enough for debug builds, where the kernel checks its invariants after every change.
#[test]
fn join_built_network_delivers_every_lookup_at_the_root_deterministically() {
    check_join_build(64, 500);
}

/// The same at a size where routes use several table rows and the rare case; release builds
/// only (`cargo test --release -p pastry-sim`), as the debug invariant checks make it slow.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn join_built_network_of_3000_nodes_delivers_every_lookup_at_the_root() {
    check_join_build(3000, 20_000);
}

#[test]
fn failure_experiment_delivers_at_the_live_root_once_leaf_sets_are_repaired() {
    let (r, net, _) = experiment::failure_experiment(&setup(9, ORACLE), 200, 0.1, 1000, false);
    assert_eq!(r.failed, 20);
    assert_eq!(net.live_count(), 180);
    for s in [&r.before, &r.without_table_repair, &r.with_table_repair] {
        assert_eq!(s.at_root, s.lookups, "{}", s.correctness_line());
        assert_eq!((s.loops, s.runaways), (0, 0));
    }
    assert!(
        r.without_table_repair.timeouts > 0,
        "dead table entries are met"
    );
    assert_eq!(
        r.with_table_repair.timeouts, 0,
        "repair removed every dead entry"
    );
    assert!(r.table_repair.row_requests > 0);
    assert!(r.before.mean_hops < (200f64).log(16.0) + 0.5);
}

/// The `half` live successors and predecessors of `h`, nearest first, brute force.
fn true_leaf_set(net: &Network, h: Handle, half: usize) -> (Vec<Guid>, Vec<Guid>) {
    let ids: Vec<Guid> = net.live_ids().map(|(g, _)| g).collect();
    let me = net.nodes()[h as usize].id;
    let at = ids.iter().position(|g| *g == me).unwrap();
    let n = ids.len();
    (
        (1..=half).map(|i| ids[(at + i) % n]).collect(),
        (1..=half).map(|i| ids[(at + n - i) % n]).collect(),
    )
}

#[test]
fn fewer_than_half_a_leaf_set_of_adjacent_failures_are_repaired_exactly() {
    let mut net = setup(13, ORACLE).network(150).0;
    let half = Config::PAPER.leaf_set_half();
    let ring: Vec<Handle> = net.live_ids().map(|(_, h)| h).collect();
    // Three runs of L/2 - 1 adjacent nodes fail at once.
    for start in [0, 50, 100] {
        for h in &ring[start..start + half - 1] {
            net.fail(*h);
        }
    }
    net.repair_leaf_sets();
    for &h in net.live_handles() {
        let leaf = net.state(h).leaf_set();
        let succ: Vec<Guid> = leaf.successors().iter().map(|n| n.id).collect();
        let pred: Vec<Guid> = leaf.predecessors().iter().map(|n| n.id).collect();
        assert_eq!(
            (succ, pred),
            true_leaf_set(&net, h, half),
            "leaf set of node {h}"
        );
    }
    let mut r = experiment::rng(1, experiment::Stream::Lookups);
    let lookups = experiment::key_lookups(&net, 2000, &mut r);
    let s = Stats::of(&net, &net.lookups(&lookups, false, &Progress::quiet(), ""));
    assert_eq!(s.at_root, s.lookups, "{}", s.correctness_line());
}

#[test]
fn churn_keeps_delivering_to_the_live_root() {
    let r = experiment::churn_experiment(&setup(17, ORACLE), 150, 3, 0.04, 300);
    assert_eq!(r.rounds.len(), 3);
    for round in &r.rounds {
        assert_eq!((round.joins, round.failures), (6, 6));
        assert_eq!(round.live, 150);
    }
    assert_eq!(r.total.lookups, 900);
    assert_eq!((r.total.loops, r.total.runaways), (0, 0));
    assert!(
        r.total.at_root_fraction >= 0.99,
        "{}",
        r.total.correctness_line()
    );
}
