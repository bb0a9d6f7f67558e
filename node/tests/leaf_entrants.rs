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

/// The id of node `handle` of `ring` (handle `i`, id `i · 1024`).
fn ring_id(handle: u32) -> u16 {
    u16::try_from(handle * 1024).unwrap()
}

/// A joining node merges its would-be leaf set before its other candidates. Merged first, into
/// the still empty state, the routing-table and neighborhood candidates would each enter the
/// leaf set by the rule above and get a `LeafProbe`: at 10,000 nodes that doubled the
/// `LeafProbe`s of a join (41 to 122 per join) before the table candidates' merge was held
/// back until the leaf set's had run. The answers' leaf sets wait for it too.
#[test]
fn a_joining_nodes_table_candidates_answering_first_get_no_leaf_probe() {
    use pastry_kernel::Row;
    use pastry_node::message::{JoinGather, JoinReply};
    let ring = ring();
    let x = NodeRef::new(41_300u16, 100u32); // nearest to node 40 (40,960)
    let mut n: TestNode = Node::new(cfg(), x, NoEstimate, 3).unwrap();
    n.join(0, Some(0)).unwrap();
    let seq = sent(&mut n)
        .iter()
        .find_map(|(_, _, b)| match b {
            Body::JoinRequest(r) => Some(r.seq),
            _ => None,
        })
        .expect("a join request");
    // The route: node 0 (row 0 and its neighborhood), then the root, node 40 (row 1).
    let zero = NodeState::from_ring(cfg().routing, ring[0], &ring, |_| 1, 1);
    let root = NodeState::from_ring(cfg().routing, ring[40], &ring, |_| 1, 1);
    let reply = JoinReply {
        gather: JoinGather {
            route: vec![ring[0], ring[40]],
            next_row: 2,
            rows: vec![
                (Row(0), zero.table().clone()),
                (Row(1), root.table().clone()),
            ],
            neighborhood: Some(zero.neighborhood().clone()),
        },
        leaf_set: root.leaf_set().clone(),
    };
    n.handle(
        0,
        40,
        Message {
            from: ring[40],
            id: seq,
            body: Body::JoinReply(reply),
        },
    );
    let out = sent(&mut n);
    let mut with_x = ring.clone();
    with_x.insert(41, x);
    let truth = NodeState::from_ring(cfg().routing, x, &with_x, |_| 1, 1);
    let leaf: Vec<u16> = truth.leaf_set().iter().map(|m| m.id).collect();
    let probes: Vec<(u32, u64)> = out
        .iter()
        .filter(|(_, _, b)| matches!(b, Body::LeafProbe(_)))
        .map(|(to, id, _)| (*to, *id))
        .collect();
    let pings: Vec<(u32, u64)> = out
        .iter()
        .filter(|(_, _, b)| matches!(b, Body::Ping))
        .map(|(to, id, _)| (*to, *id))
        .collect();
    assert_eq!(probes.len(), leaf.len(), "the would-be leaf set is probed");
    assert!(
        pings.len() >= 10,
        "the table candidates are pinged: {pings:?}"
    );
    // Every table candidate answers before any would-be leaf-set member.
    let mut late = Vec::new();
    for (to, id) in &pings {
        let from = ring[*to as usize];
        n.handle(
            1_000,
            *to,
            Message {
                from,
                id: *id,
                body: Body::Pong,
            },
        );
        late.extend(sent(&mut n));
    }
    let after_pongs = late.len();
    for (to, id) in &probes {
        let m = ring[*to as usize];
        let theirs = NodeState::from_ring(cfg().routing, m, &with_x, |_| 1, 1);
        let info = LeafInfo {
            leaf_set: theirs.leaf_set().clone(),
            active: true,
            failed: Vec::new(),
        };
        n.handle(
            2_000,
            *to,
            Message {
                from: m,
                id: *id,
                body: Body::LeafProbeReply(info),
            },
        );
        late.extend(sent(&mut n));
    }
    // Nothing is sent on the `Pong`s, and no node outside the true leaf set gets a
    // `LeafProbe`: neither the pinged candidates nor the nodes beyond the leaf set that the
    // members' answers name (nodes 45 to 47 and 34 to 35, which would be would-be members of
    // the empty state; their merges wait for the leaf set's merge too).
    assert!(
        late[..after_pongs].is_empty(),
        "sent on the Pongs: {:?}",
        &late[..after_pongs]
    );
    let extra: Vec<u32> = late
        .iter()
        .filter(|(to, _, b)| matches!(b, Body::LeafProbe(_)) && !leaf.contains(&ring_id(*to)))
        .map(|(to, _, _)| *to)
        .collect();
    assert_eq!(
        extra,
        Vec::<u32>::new(),
        "nodes outside the leaf set given a LeafProbe"
    );
    // Both merges ran: the leaf set is the true one, and the pinged candidates are in the table.
    let mut got: Vec<u16> = n.state().leaf_set().iter().map(|m| m.id).collect();
    let mut want = leaf.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    assert!(n.state().table().row(Row(0)).count() >= 10);
}
