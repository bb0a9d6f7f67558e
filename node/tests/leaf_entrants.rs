//! A node enters another's leaf set only through a `LeafProbe` answered, never on a `Ping`:
//! the probed node adds the prober (if it belongs in its leaf set) before it answers, so two
//! neighbours know each other from the start. A merge that probed a candidate with a `Ping`
//! (a routing-table candidate) may find, when the `Pong` comes, that the leaf set has changed
//! and would now take the candidate; it then sends a `LeafProbe` instead of taking it.

use pastry_kernel::{NodeRef, NodeState};
use pastry_node::message::LeafInfo;
use pastry_node::{Body, Message, NoEstimate, Node};

type TestNode = Node<u32, u16, NoEstimate>;

mod small_ring;
use small_ring::{cfg, ring};

/// The bodies `n` sends, with their addressees and request ids.
fn sent(n: &mut TestNode) -> Vec<(u32, u64, Body<u32, u16>)> {
    let mut out = Vec::new();
    while let Some(t) = n.poll_transmit() {
        out.push((t.to, t.message.id, t.message.body));
    }
    while n.poll_event().is_some() {}
    out
}

#[test]
fn a_table_candidate_that_would_enter_the_leaf_set_by_the_time_it_answers_gets_a_leaf_probe() {
    let ring = ring();
    let g = NodeRef::new(4_608u16, 99u32); // between node 4 (4,096) and node 5 (5,120)
    let state = NodeState::from_ring(cfg().routing, ring[0], &ring, |_| 1, 1);
    let mut n = Node::active_with_state(0, cfg(), state, NoEstimate, 7).unwrap();
    // Node 1's heartbeat names G among its successors. Node 0's successor side is full
    // (nodes 1 to 4), so G would not enter its leaf set, only its routing table: a `Ping`.
    let mut with_g = ring.clone();
    with_g.insert(5, g);
    let one = NodeState::from_ring(cfg().routing, ring[1], &with_g, |_| 1, 1);
    assert!(one.leaf_set().contains(g.id));
    let info = LeafInfo {
        leaf_set: one.leaf_set().clone(),
        active: true,
        failed: Vec::new(),
    };
    n.handle(
        0,
        1,
        Message {
            from: ring[1],
            id: 1,
            body: Body::Heartbeat(info),
        },
    );
    let out = sent(&mut n);
    let ping = out
        .iter()
        .find(|(to, _, b)| *to == 99 && matches!(b, Body::Ping))
        .map(|(_, id, _)| *id)
        .expect("G is pinged");
    assert!(!out
        .iter()
        .any(|(to, _, b)| *to == 99 && matches!(b, Body::LeafProbe(_))));
    // Node 2 leaves: the successor side has room, and G is now nearer than any candidate.
    let two = NodeState::from_ring(cfg().routing, ring[2], &ring, |_| 1, 1);
    let leave = Body::Leave(two.leaf_set().clone());
    n.handle(
        1_000,
        2,
        Message {
            from: ring[2],
            id: 2,
            body: leave,
        },
    );
    let _ = sent(&mut n);
    // G answers the `Ping`. It is not taken on it: it gets a `LeafProbe`.
    n.handle(
        2_000,
        99,
        Message {
            from: g,
            id: ping,
            body: Body::Pong,
        },
    );
    let out = sent(&mut n);
    assert!(!n.state().leaf_set().contains(g.id), "G entered on a Ping");
    let probe = out
        .iter()
        .find(|(to, _, b)| *to == 99 && matches!(b, Body::LeafProbe(_)))
        .map(|(_, id, _)| *id)
        .expect("G gets a LeafProbe");
    // Its answer (G heard node 2's leave too, and added node 0 on the probe) brings it in.
    let after: Vec<NodeRef<u32, u16>> = with_g.iter().filter(|x| x.id != 2048).copied().collect();
    let gs = NodeState::from_ring(cfg().routing, g, &after, |_| 1, 1);
    assert!(gs.leaf_set().contains(0));
    let reply = LeafInfo {
        leaf_set: gs.leaf_set().clone(),
        active: true,
        failed: Vec::new(),
    };
    n.handle(
        3_000,
        99,
        Message {
            from: g,
            id: probe,
            body: Body::LeafProbeReply(reply),
        },
    );
    let _ = sent(&mut n);
    // (Once the merge of G's leaf set has run: it waits for the probes of the other nodes it
    // names, which nobody answers here.)
    while let Some(t) = n.poll_timeout().filter(|t| *t <= 12_000_000) {
        n.handle_timeout(t);
        let _ = sent(&mut n);
    }
    assert!(n.state().leaf_set().contains(g.id));
}
