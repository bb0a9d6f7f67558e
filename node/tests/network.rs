//! Networks of nodes over the in-crate test network: joins one by one and at once, lookups at
//! the true root, failures and their repair, message loss and duplication.

use pastry_node::testnet::{Net, Schedule};
use pastry_node::Phase;

/// Well-spread 16-bit ids from a seed.
fn ids(n: usize, seed: u64) -> Vec<u16> {
    let mut out = Vec::new();
    let mut x = seed;
    while out.len() < n {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let id = (x >> 48) as u16;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn keys(n: usize, seed: u64) -> Vec<u16> {
    ids(n, seed ^ 0xabcd)
}

/// Joins `n` nodes one by one (each through node 0) and lets the network settle.
fn one_by_one(n: usize, seed: u64, schedule: Schedule) -> Net<u16> {
    let mut net = Net::new(schedule, seed);
    for (i, id) in ids(n, seed).into_iter().enumerate() {
        net.add(id);
        net.join(i, (i > 0).then_some(0));
        net.run_until_quiet(120_000_000);
    }
    net
}

fn check_lookups(net: &mut Net<u16>, count: usize, seed: u64) {
    let n = net.nodes.len();
    for (j, k) in keys(count, seed).into_iter().enumerate() {
        let from = (j * 7919) % n;
        if !net.is_alive(from) {
            continue;
        }
        let at = net.lookup(from, k);
        assert_eq!(at, net.true_root(k), "key {k:#06x} from node {from}");
    }
}

#[test]
fn nodes_joining_one_by_one_have_true_leaf_sets_and_route_to_the_root() {
    for (n, seed) in [(5, 1), (20, 2), (60, 3)] {
        let mut net = one_by_one(n, seed, Schedule::reliable());
        assert!(net.all_active(), "n = {n}: not every node is active");
        assert_eq!(net.wrong_leaf_sets(), 0, "n = {n}");
        check_lookups(&mut net, 200, seed);
        assert_eq!(net.max_deliveries(), 1);
    }
}

#[test]
fn nodes_joining_at_once_become_active_with_true_leaf_sets() {
    for (n, seed) in [(10, 4), (40, 5)] {
        let mut net = Net::new(Schedule::reliable(), seed);
        for (i, id) in ids(n, seed).into_iter().enumerate() {
            net.add(id);
            if i == 0 {
                net.join(0, None);
            }
        }
        for i in 1..n {
            net.join(i, Some(0));
        }
        net.run_until_quiet(600_000_000);
        assert!(
            net.all_active(),
            "n = {n}: phases {:?}",
            net.nodes.iter().map(|x| x.phase()).collect::<Vec<_>>()
        );
        // Heartbeats exchange leaf sets; give them a few periods.
        let t = net.now + 120_000_000;
        net.run_until(t);
        assert_eq!(net.wrong_leaf_sets(), 0, "n = {n}");
        check_lookups(&mut net, 200, seed);
    }
}

#[test]
fn crashed_nodes_are_detected_and_leaf_sets_repaired() {
    let mut net = one_by_one(40, 6, Schedule::reliable());
    for i in [3, 4, 5, 17, 30] {
        net.crash(i);
    }
    // Detection takes up to two heartbeat periods plus the probes; repair follows.
    let t = net.now + 180_000_000;
    net.run_until(t);
    assert_eq!(net.wrong_leaf_sets(), 0);
    check_lookups(&mut net, 200, 6);
    assert!(net.nodes.iter().map(|n| n.counters().failures).sum::<u64>() > 0);
}

#[test]
fn a_leaving_node_is_forgotten_at_once() {
    let mut net = one_by_one(20, 7, Schedule::reliable());
    net.leave(9);
    net.run_until_quiet(10_000_000);
    assert_eq!(net.nodes[9].phase(), Phase::Left);
    assert_eq!(net.wrong_leaf_sets(), 0);
    check_lookups(&mut net, 100, 7);
}

#[test]
fn lossy_duplicating_network_converges_once_quiet() {
    let lossy = Schedule {
        delay: (1_000, 50_000),
        loss: 0.2,
        duplicate: 0.1,
    };
    let mut net = one_by_one(30, 8, lossy);
    for i in [2, 11] {
        net.crash(i);
    }
    let t = net.now + 300_000_000;
    net.run_until(t);
    net.set_schedule(Schedule::reliable());
    let t = net.now + 200_000_000;
    net.run_until(t);
    assert!(net.all_active());
    assert_eq!(net.wrong_leaf_sets(), 0);
    check_lookups(&mut net, 200, 8);
    assert_eq!(net.max_deliveries(), 1);
}

/// 100 nodes with the protocol's default timers (T_ls = 20 s, T_o = 1 s) lose a tenth of their
/// number at once; every leaf set is the true one again within 70 s: detection takes at most
/// two heartbeat periods plus the probes (3 attempts from 1 s, doubling: 7 s), and repair a few
/// round trips after that. Release only (CI runs it): about 30 s in debug.
#[test]
#[ignore]
fn a_tenth_crashing_is_repaired_within_the_detection_bound() {
    for seed in 1..=2u64 {
        let mut net = Net::new(Schedule::reliable(), seed);
        net.config = pastry_node::NodeConfig::new(pastry_kernel::Config::PAPER);
        for (i, id) in ids(100, seed).into_iter().enumerate() {
            net.add(id);
            net.join(i, (i > 0).then_some(0));
            net.run_until_quiet(120_000_000);
        }
        assert_eq!(net.wrong_leaf_sets(), 0);
        net.crash_random(10, seed);
        let repaired = net.run_until_leaf_sets_true(1_000_000, 120_000_000);
        let repaired = repaired.expect("leaf sets true again within 120 s");
        println!(
            "seed {seed}: every leaf set true {} s after the crashes",
            repaired / 1_000_000
        );
        assert!(
            repaired <= 70_000_000,
            "repair took {} s",
            repaired / 1_000_000
        );
        check_lookups(&mut net, 500, seed);
    }
}

/// With leaf-set routing alone every lookup still ends at the true root, in more hops: each
/// hop moves at most L/2 nodes along the ring instead of fixing a digit.
#[test]
fn leaf_set_routing_alone_reaches_the_root_in_more_hops() {
    let mean_hops = |leaf_only: bool| {
        let mut net = Net::new(Schedule::reliable(), 9);
        net.config.leaf_set_routing = leaf_only;
        for (i, id) in ids(60, 9).into_iter().enumerate() {
            net.add(id);
            net.join(i, (i > 0).then_some(0));
            net.run_until_quiet(120_000_000);
        }
        assert!(net.all_active());
        check_lookups(&mut net, 200, 9);
        let hops: Vec<f64> = net
            .events
            .iter()
            .flatten()
            .filter_map(|(_, e)| match e {
                pastry_node::Event::Deliver { hops, .. } => Some(f64::from(*hops)),
                _ => None,
            })
            .collect();
        assert_eq!(hops.len(), 200);
        hops.iter().sum::<f64>() / hops.len() as f64
    };
    let (table, leaf) = (mean_hops(false), mean_hops(true));
    assert!(
        leaf > table + 1.0,
        "leaf-set routing {leaf} hops, with tables {table}"
    );
}

/// With message loss (and no failure) no message is delivered away from the true root: a node
/// whose next hop, the root, does not acknowledge sends it again rather than deliver it
/// itself (the root is suspected, not failed; its message or its ack was lost).
#[test]
fn lossy_network_delivers_only_at_the_root() {
    let mut net = one_by_one(40, 10, Schedule::reliable());
    net.set_schedule(Schedule {
        delay: (1_000, 50_000),
        loss: 0.05,
        duplicate: 0.0,
    });
    let n = net.nodes.len();
    let mut sent = Vec::new();
    for (j, k) in keys(600, 10).into_iter().enumerate() {
        if let Some(m) = net.route((j * 7919) % n, k, Vec::new()) {
            sent.push((m, k));
        }
        let t = net.now + 50_000;
        net.run_until(t);
    }
    let t = net.now + 120_000_000;
    net.run_until(t);
    assert_eq!(net.wrong_leaf_sets(), 0);
    let mut delivered = 0;
    for (m, k) in &sent {
        let root = net.true_root(*k);
        let fate = &net.fates[m];
        for (at, _, _) in &fate.delivered {
            assert_eq!(Some(*at), root, "key {k:#06x} delivered at node {at}");
        }
        delivered += usize::from(!fate.delivered.is_empty());
    }
    assert!(
        delivered >= sent.len() * 99 / 100,
        "{delivered} of {}",
        sent.len()
    );
    assert!(net.stats.lost > 0);
}
