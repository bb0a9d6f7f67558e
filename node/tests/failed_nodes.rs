//! What a node does once a node stops answering: messages waiting for it go another way at
//! once, and a node that failed its probes is not probed again for every merge that names it.
//!
//! Both were found by the simulator under churn (10,000 nodes, 135-minute sessions): a lookup
//! held for a dead root until the next doubled hop timer, lost when its holder crashed in
//! between; and a joining node that never turned active because heartbeats kept naming a dead
//! node from some routing table, so a merge was always waiting on a probe of it. A third
//! test pins that a joining node waits only for its would-be leaf set: a dead routing-table
//! candidate named by its join does not hold its activation (joins under churn took 7 s).

use pastry_kernel::{NodeRef, NodeState, Row};
use pastry_node::testnet::{Net, Schedule};
use pastry_node::{Body, Event, Message, NoEstimate, Node};

type TestNode = Node<u32, u16, NoEstimate>;

mod small_ring;
use small_ring::{cfg, ring};

/// Node `i` of `ring`, active, with its state from global knowledge.
fn node(ring: &[NodeRef<u32, u16>], i: usize) -> TestNode {
    let state = NodeState::from_ring(cfg().routing, ring[i], ring, |_| 1, 1);
    Node::active_with_state(0, cfg(), state, NoEstimate, 7).unwrap()
}

/// What a node sent and reported, with the time of each.
#[derive(Default)]
struct Log {
    sent: Vec<(u64, u32, Body<u32, u16>)>,
    events: Vec<(u64, Event<u32, u16>)>,
}

impl Log {
    fn drain(&mut self, n: &mut TestNode, now: u64) {
        while let Some(t) = n.poll_transmit() {
            self.sent.push((now, t.to, t.message.body));
        }
        while let Some(e) = n.poll_event() {
            self.events.push((now, e));
        }
    }
}

/// Runs `n`'s timers up to `until`, nobody answering.
fn run_silent(n: &mut TestNode, log: &mut Log, until: u64) {
    while let Some(t) = n.poll_timeout().filter(|t| *t <= until) {
        n.handle_timeout(t);
        log.drain(n, t);
    }
}

#[test]
fn messages_for_a_failed_root_are_rerouted_when_its_probes_fail() {
    let ring = ring();
    let mut n = node(&ring, 0);
    let mut log = Log::default();
    // Key 700 belongs to node 1 (id 1024), node 0's successor, which has crashed: nothing
    // it is sent is answered. Without node 1 the key is node 0's own.
    n.route(0, 700, b"lookup".to_vec()).unwrap();
    log.drain(&mut n, 0);
    run_silent(&mut n, &mut log, 60_000_000);
    let failed_at = log
        .events
        .iter()
        .find(|(_, e)| matches!(e, Event::Failed { node } if node.handle == 1))
        .map(|(t, _)| *t)
        .expect("node 1 is found faulty");
    let routes: Vec<(u64, u32)> = log
        .sent
        .iter()
        .filter(|(_, _, b)| matches!(b, Body::Route(_)))
        .map(|(t, to, _)| (*t, *to))
        .collect();
    // Until then the message goes to node 1 alone, again after each hop timeout (a suspected
    // root is tried again; delivering here could be delivering at the wrong node).
    assert!(routes.len() > 1 && routes.iter().all(|(t, to)| *to == 1 && *t < failed_at));
    // Once its probes fail, node 0 is the root and delivers at that moment, not at the next
    // (doubled) hop timer of the last copy sent to node 1.
    let delivered: Vec<u64> = log
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Deliver { key: 700, .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(delivered, vec![failed_at], "routes {routes:?}");
}

/// A heartbeat from node 1 whose leaf set holds a node with id 512 (handle 99) that node 0
/// does not know.
fn heartbeat_naming_512(ring: &[NodeRef<u32, u16>]) -> Message<u32, u16> {
    let mut with_d = ring.to_vec();
    with_d.insert(1, NodeRef::new(512, 99));
    let m = NodeState::from_ring(cfg().routing, ring[1], &with_d, |_| 1, 1);
    assert!(m.leaf_set().contains(512));
    Message {
        from: ring[1],
        id: 1,
        body: Body::Heartbeat(pastry_node::message::LeafInfo {
            leaf_set: m.leaf_set().clone(),
            active: true,
            failed: Vec::new(),
        }),
    }
}

#[test]
fn a_named_node_that_fails_its_probes_is_not_probed_again_at_once() {
    let ring = ring();
    let mut n = node(&ring, 0);
    let mut log = Log::default();
    let probes_of_d = |log: &Log| log.sent.iter().filter(|(_, to, _)| *to == 99).count();
    n.handle(0, 1, heartbeat_naming_512(&ring));
    log.drain(&mut n, 0);
    // Id 512 would enter node 0's leaf set: it is probed before it is taken.
    assert_eq!(probes_of_d(&log), 1);
    // It never answers: after every attempt it is remembered as failed, though it was never
    // in the state.
    run_silent(&mut n, &mut log, 10_000_000);
    let attempts = probes_of_d(&log);
    assert_eq!(attempts, usize::from(cfg().probe_attempts));
    assert!(n.recently_failed().any(|id| *id == 512));
    assert!(!n.state().knows(512));
    // Named again by the next heartbeat, it is not probed again (while remembered).
    n.handle(10_000_000, 1, heartbeat_naming_512(&ring));
    log.drain(&mut n, 10_000_000);
    assert_eq!(probes_of_d(&log), attempts);
}

#[test]
fn a_dead_routing_table_candidate_does_not_hold_the_activation() {
    let mut net = Net::<u16>::new(Schedule::reliable(), 5);
    for i in 0..64u16 {
        let k = net.add(i * 1024);
        net.join(k, (k > 0).then_some(0));
        net.run_until_quiet(120_000_000);
    }
    assert!(net.all_active());
    // The joining node X (id 41,472, first digit 10) joins through node 0 (first digit 0): the
    // request's first hop gives X node 0's row 0, one node for each other first digit. Its
    // node for digit 3 (ids 12,288 to 16,383) is far from X on the ring, not a would-be
    // leaf-set member (those are nodes 37 to 44), and crashes just before X joins.
    let dead = net.nodes[0]
        .state()
        .table()
        .row(Row(0))
        .map(|(_, e)| e.node)
        .find(|n| n.id / 4096 == 3)
        .expect("node 0 has a node with first digit 3");
    net.crash(dead.handle as usize);
    let x = net.add(41_472);
    let start = net.now;
    net.join(x, Some(0));
    net.run_until(start + 3_000_000);
    // Active within 3 s: before the dead candidate's probe has failed (1 + 2 + 4 s).
    let at = net.activated[x].expect("X is active within 3 s of its join");
    assert!(at - start < 1_000_000, "activated after {} us", at - start);
    // The other candidates are merged when their probes end: the dead one is not taken, the
    // live ones of node 0's row 0 are. (Past the dead one's three probe timeouts first: the
    // network can be quiet, no message in flight, while the last one runs.)
    net.run_until(start + 10_000_000);
    net.run_until_quiet(120_000_000);
    let state = net.nodes[x].state();
    assert!(!state.knows(dead.id));
    assert!(state.table().row(Row(0)).count() >= 12);
    let mut leaf: Vec<u16> = state.leaf_set().iter().map(|n| n.id).collect();
    leaf.sort_unstable();
    assert_eq!(leaf, (37..=44).map(|i| i * 1024).collect::<Vec<u16>>());
}
