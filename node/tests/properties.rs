//! Property tests of the node: arbitrary inputs into one node, and networks of 5 to 60 nodes
//! under random schedules.
//!
//! * `node_inputs_keep_invariants` (proptest, the fuzz target `node_inputs`'s property): any
//!   sequence of messages, raw bytes, timeouts and calls into one node: no panic, every
//!   invariant after every input, every queue within its cap, refused calls change nothing.
//! * `node_invariants_hold_under_random_schedules` (proptest): 5 to 60 nodes join one by one
//!   or all at once over a network with random delays (so reordering), duplication, up to 20%
//!   loss, and crashes; every node checks its invariants after every input (debug builds);
//!   once the network is quiet (reliable again, a few heartbeat periods later), every node is
//!   active, every leaf set is the true one among the live nodes, every lookup ends at the
//!   true root, and no message was delivered twice.
//! * `joins_deliver_only_at_the_root` and `early_activation_is_caught`: lookups flowing while
//!   nodes join all at once are delivered only at the root among the active nodes; with the
//!   planted bug (a joiner active before its leaf set answered), some are not.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use pastry_node::fuzzing::{check_inputs, NodeInputs};
use pastry_node::testnet::{Net, Schedule};
use pastry_node::PlantedBug;
use proptest::prelude::*;

fn ids(n: usize, seed: u64) -> Vec<u16> {
    let mut out = Vec::new();
    let mut x = seed | 1;
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let id = (x >> 32) as u16;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

proptest! {
    #![proptest_config(common::seeded(512, "proptest-regressions/properties.txt"))]

    #[test]
    fn node_inputs_keep_invariants(seed in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mut u = Unstructured::new(&seed);
        if let Ok(input) = NodeInputs::arbitrary(&mut u) {
            check_inputs(&input);
        }
    }
}

/// A random schedule for a network run.
#[derive(Clone, Debug)]
struct Run {
    n: usize,
    at_once: bool,
    loss: f64,
    duplicate: f64,
    max_delay: u64,
    crashes: usize,
    seed: u64,
}

fn run() -> impl Strategy<Value = Run> {
    (
        5usize..=60,
        any::<bool>(),
        0u32..=20,
        0u32..=10,
        2u64..=80,
        0usize..=4,
        any::<u64>(),
    )
        .prop_map(|(n, at_once, loss, dup, delay, crashes, seed)| Run {
            n,
            at_once,
            loss: f64::from(loss) / 100.0,
            duplicate: f64::from(dup) / 100.0,
            max_delay: delay * 1000,
            crashes: crashes.min(n / 5),
            seed,
        })
}

fn play(r: &Run) -> Net<u16> {
    let schedule = Schedule {
        delay: (1_000, r.max_delay),
        loss: r.loss,
        duplicate: r.duplicate,
    };
    let mut net = Net::new(schedule, r.seed);
    for id in ids(r.n, r.seed) {
        net.add(id);
    }
    net.join(0, None);
    for i in 1..r.n {
        net.join(i, Some(if r.at_once { 0 } else { i - 1 }));
        if !r.at_once {
            net.run_until_quiet(60_000_000);
        }
    }
    let t = net.now + 60_000_000;
    net.run_until(t);
    for k in 0..r.crashes {
        net.crash(1 + (k * 7 + r.seed as usize) % (r.n - 1));
    }
    let t = net.now + 120_000_000;
    net.run_until(t);
    net.set_schedule(Schedule::reliable());
    let t = net.now + 240_000_000;
    net.run_until(t);
    net
}

proptest! {
    #![proptest_config(common::seeded(12, "proptest-regressions/properties.txt"))]

    #[test]
    fn node_invariants_hold_under_random_schedules(r in run()) {
        let mut net = play(&r);
        prop_assert!(net.all_active(), "not every live node is active");
        prop_assert_eq!(net.wrong_leaf_sets(), 0);
        let live: Vec<usize> = (0..r.n).filter(|i| net.is_alive(*i)).collect();
        for (j, key) in ids(50, r.seed ^ 0x5eed).into_iter().enumerate() {
            let from = live[j % live.len()];
            let at = net.lookup(from, key);
            prop_assert_eq!(at, net.true_root(key), "key {:#06x} from {}", key, from);
        }
        prop_assert!(net.max_deliveries() <= 1, "a message was delivered twice");
        for n in &net.nodes {
            n.invariants();
        }
    }
}

/// Nodes join all at once while lookups flow; returns the wrong deliveries and the lookups.
fn joins_with_lookups(planted: Option<PlantedBug>, seed: u64) -> (u64, usize) {
    let mut net = Net::new(Schedule::reliable(), seed);
    net.config.planted = planted;
    let n = 30;
    for id in ids(n, seed) {
        net.add(id);
    }
    net.join(0, None);
    net.run_until_quiet(1_000_000);
    for i in 1..n {
        net.join(i, Some(0));
    }
    // Lookups of keys near the joining nodes' ids, 100 every 0.1 s for 20 s.
    let joiners = ids(n, seed);
    let mut sent = 0;
    for round in 0..200u16 {
        for j in 0..100u16 {
            let from = usize::from(round.wrapping_mul(31).wrapping_add(j)) % n;
            let near = joiners[usize::from(j) % n].wrapping_add(j % 7);
            if net.nodes[from].is_active() && net.route(from, near, Vec::new()).is_some() {
                sent += 1;
            }
        }
        let t = net.now + 100_000;
        net.run_until(t);
    }
    net.run_until_quiet(120_000_000);
    (net.stats.wrong_deliveries, sent)
}

#[test]
fn joins_deliver_only_at_the_root() {
    for seed in 1..=3 {
        let (wrong, sent) = joins_with_lookups(None, seed);
        assert!(sent > 10_000, "{sent} lookups");
        assert_eq!(
            wrong, 0,
            "seed {seed}: {wrong} of {sent} lookups delivered off the root"
        );
    }
}

#[test]
fn early_activation_is_caught() {
    let wrong: u64 = (1..=3)
        .map(|seed| joins_with_lookups(Some(PlantedBug::EarlyActivation), seed).0)
        .sum();
    assert!(wrong > 0, "the planted bug went unnoticed");
}
