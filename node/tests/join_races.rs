//! Regression tests for join races that model checking (`tests/model.rs`) found, each replayed
//! on real nodes with hand-made messages, on a `u8` ring with one leaf-set member per side
//! (L = 2). A node's handle is its id.

use pastry_kernel::{Config, LeafSet, NeighborhoodSet, NodeRef, NodeState};
use pastry_node::message::{JoinGather, JoinReply, LeafInfo};
use pastry_node::{Body, Message, NoEstimate, Node, NodeConfig, Transmit};

type N = NodeRef<u8, u8>;

fn routing() -> Config {
    Config::new(2, 2, 0).expect("a valid configuration")
}

fn node(id: u8) -> N {
    NodeRef::new(id, id)
}

/// A leaf set of `own` holding `members`.
fn leaf_set(own: u8, members: &[u8]) -> LeafSet<u8, u8> {
    let mut set = LeafSet::new(own, &routing());
    for m in members {
        set.insert(node(*m)).expect("not the owner");
    }
    set
}

fn info(own: u8, members: &[u8], active: bool) -> LeafInfo<u8, u8> {
    LeafInfo {
        leaf_set: leaf_set(own, members),
        active,
        failed: Vec::new(),
    }
}

/// An active node with the true state among `ring`.
fn active(own: u8, ring: &[u8]) -> Node<u8, u8> {
    let mut ring: Vec<N> = ring.iter().map(|i| node(*i)).collect();
    ring.sort_by_key(|n| n.id);
    let state = NodeState::from_ring(routing(), node(own), &ring, |_| 1, 1);
    Node::active_with_state(0, NodeConfig::new(routing()), state, NoEstimate, 1).expect("valid")
}

fn sent(n: &mut Node<u8, u8>) -> Vec<Transmit<u8, u8>> {
    std::iter::from_fn(|| n.poll_transmit()).collect()
}

fn leaf_ids(set: &LeafSet<u8, u8>) -> Vec<u8> {
    set.iter().map(|n| n.id).collect()
}

/// The leaf set in the first `LeafProbeReply` among `out`.
fn answered(out: &[Transmit<u8, u8>]) -> Vec<u8> {
    out.iter()
        .find_map(|t| match &t.message.body {
            Body::LeafProbeReply(i) => Some(leaf_ids(&i.leaf_set)),
            _ => None,
        })
        .expect("an answer to the probe")
}

/// The message id of the probe sent to `to` among `out`.
fn probe_to(out: &[Transmit<u8, u8>], to: u8, leaf: bool) -> Option<u64> {
    out.iter().find_map(|t| match t.message.body {
        Body::LeafProbe(_) if leaf && t.to == to => Some(t.message.id),
        Body::Ping if !leaf && t.to == to => Some(t.message.id),
        _ => None,
    })
}

fn msg(from: u8, id: u64, body: Body<u8, u8>) -> Message<u8, u8> {
    Message {
        from: node(from),
        id,
        body,
    }
}

/// 0x70 joins through 0x90 while 0x20 joins too: the root answers with its leaf set [0x20 |
/// 0x10]. 0x70's nearest member below is then 0x20, still joining; the active node below it,
/// 0x10, has heard of neither. Had 0x70 turned active on the answers of its two members, it
/// and 0x10 would both have delivered the keys between 0x48 and 0x50. It must first have
/// 0x10 answer a `LeafProbe` (which makes 0x10 take it in).
#[test]
fn a_joining_node_waits_for_the_active_node_beyond_a_joining_neighbour() {
    let mut y =
        Node::<u8, u8>::new(NodeConfig::new(routing()), node(0x70), NoEstimate, 1).expect("valid");
    y.join(0, Some(0x90)).expect("idle");
    let out = sent(&mut y);
    let seq = match &out[0].message.body {
        Body::JoinRequest(r) => r.seq,
        other => panic!("a join request, not {other:?}"),
    };
    let gather = JoinGather {
        route: vec![node(0x90)],
        next_row: 4,
        rows: Vec::new(),
        neighborhood: Some(NeighborhoodSet::new(0x90, 0)),
    };
    let reply = JoinReply {
        gather,
        leaf_set: leaf_set(0x90, &[0x20, 0x10]),
    };
    y.handle(0, 0x90, msg(0x90, seq, Body::JoinReply(reply)));
    let out = sent(&mut y);
    let to_20 = probe_to(&out, 0x20, true).expect("0x20 is probed");
    let to_90 = probe_to(&out, 0x90, true).expect("0x90 is probed");
    let to_10 = probe_to(&out, 0x10, false).expect("0x10 is pinged");
    y.handle(
        0,
        0x20,
        msg(
            0x20,
            to_20,
            Body::LeafProbeReply(info(0x20, &[0x70], false)),
        ),
    );
    y.handle(
        0,
        0x90,
        msg(
            0x90,
            to_90,
            Body::LeafProbeReply(info(0x90, &[0x70, 0x10], true)),
        ),
    );
    y.handle(0, 0x10, msg(0x10, to_10, Body::Pong));
    assert!(!y.is_active(), "0x10 has not taken 0x70 in yet");
    let out = sent(&mut y);
    let to_10 = probe_to(&out, 0x10, true).expect("0x10 is asked to take 0x70 in");
    y.handle(
        0,
        0x10,
        msg(
            0x10,
            to_10,
            Body::LeafProbeReply(info(0x10, &[0x90, 0x70], true)),
        ),
    );
    assert!(y.is_active());
}

/// 0x10 holds 0x70 (active) as its successor when 0x20, joining, probes it: 0x20 is nearer, so
/// it pushes 0x70 out. The answer must name 0x70, to this probe and to every later attempt
/// while 0x20 joins (an earlier answer may be late): otherwise 0x20 can turn active knowing
/// only 0x10 and 0x90, and deliver keys of 0x70.
#[test]
fn answers_to_a_joining_node_name_the_member_it_pushed_out() {
    let mut z = active(0x10, &[0x10, 0x70, 0x90]);
    let probe = || Body::LeafProbe(info(0x20, &[], false));
    z.handle(0, 0x20, msg(0x20, 1, probe()));
    assert_eq!(leaf_ids(z.state().leaf_set()), [0x20, 0x90]);
    assert_eq!(answered(&sent(&mut z)), [0x70, 0x90]);
    z.handle(1_000_000, 0x20, msg(0x20, 2, probe()));
    assert_eq!(answered(&sent(&mut z)), [0x70, 0x90], "a retried probe");
    // Once 0x20 says it is active, the answers show the leaf set as it is.
    z.handle(
        2_000_000,
        0x20,
        msg(0x20, 3, Body::LeafProbe(info(0x20, &[0x10, 0x70], true))),
    );
    assert_eq!(answered(&sent(&mut z)), [0x20, 0x90]);
}
