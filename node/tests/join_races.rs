//! Regression tests for join races that model checking (`tests/model.rs`) found, each replayed
//! on real nodes with hand-made messages, on a `u8` ring with one leaf-set member per side
//! (L = 2). A node's handle is its id.

use pastry_kernel::{Config, LeafSet, NeighborhoodSet, NodeRef};
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

fn sent(n: &mut Node<u8, u8>) -> Vec<Transmit<u8, u8>> {
    std::iter::from_fn(|| n.poll_transmit()).collect()
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
