//! The properties the fuzz targets `node_decode` and `node_inputs` run (feature `fuzzing`),
//! also run by the tests: each target is a one-line call of a function here.
//!
//! * [`check_decode`]: any bytes decode to a typed error or to the one message they encode;
//!   a decoded message handled by an active node never panics and keeps the invariants.
//! * [`check_inputs`]: an arbitrary sequence of messages (well-formed ones built from
//!   [`MessageSpec`] and raw bytes), timeouts and application calls into one node never panics,
//!   keeps every invariant after every input and every queue within its cap.

use alloc::vec::Vec;

use arbitrary::Arbitrary;
use pastry_kernel::{Config, LeafSet, NodeRef, NodeState, RoutingTable, Row};

use crate::config::{NodeConfig, Time};
use crate::message::{Body, JoinGather, JoinReply, Kind, LeafInfo, Message, Routed};
use crate::node::{NoEstimate, Node};

/// The handle of peer `i` in these properties: `i` itself.
type Handle = u16;
/// Ids on a 16-bit ring, so arbitrary inputs hit the same nodes often.
type Id = u16;

/// The id of peer `i`: spread over the ring.
fn peer_id(i: u16) -> Id {
    i.wrapping_mul(40_503).wrapping_add(977)
}

fn peer(i: u16) -> NodeRef<Handle, Id> {
    NodeRef::new(peer_id(i), i)
}

/// Decodes `bytes` as a message; if it decodes, it must re-encode to the same bytes, and an
/// active node must handle it without panicking and keep its invariants.
///
/// # Panics
/// When a property fails (that is its purpose).
#[allow(clippy::panic, clippy::expect_used)]
pub fn check_decode(bytes: &[u8]) {
    let max = 64 * 1024;
    let Ok(m) = Message::<Handle, Id>::decode(bytes, max) else {
        return;
    };
    let again = m.to_vec(max).expect("a decoded message encodes");
    assert_eq!(again, bytes, "decoding is not canonical");
    assert_eq!(m.encoded_len(), bytes.len(), "encoded_len disagrees");
    let mut node = active_node(Config::new(2, 4, 4).expect("valid"), 0xffff);
    let from = m.from.handle;
    node.handle(0, from, m);
    node.invariants();
}

/// The committed seeds of the `node_decode` target (`fuzz/seeds/node_decode/`): one
/// well-formed encoding of each message kind, named `<kind>.msg`, so a fuzz run starts past
/// the header and mutates real bodies. The seed-replay test holds the committed files to this
/// list.
///
/// # Panics
/// If a built message does not encode (a bug in [`MessageSpec::build`]).
#[allow(clippy::expect_used)]
#[must_use]
pub fn decode_seeds() -> Vec<(alloc::string::String, Vec<u8>)> {
    use alloc::string::ToString;
    let routing = Config::new(2, 4, 4).expect("valid");
    Kind::ALL
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let spec = MessageSpec {
                kind: u8::try_from(k).unwrap_or(0),
                from: 3,
                id: 9,
                nodes: alloc::vec![1, 2, 4, 5, 7, 8, 11, 13],
                row: 1,
                active: true,
                key: 5,
                payload: 6,
                hops: 2,
            };
            let bytes = spec.build(routing).to_vec(64 * 1024).expect("encodable");
            (alloc::format!("{}.msg", kind.name()).to_string(), bytes)
        })
        .collect()
}

/// An active node on a 16-bit ring that knows a few peers.
#[allow(clippy::expect_used)]
fn active_node(routing: Config, handle: Handle) -> Node<Handle, Id, NoEstimate> {
    let own = NodeRef::new(peer_id(handle), handle);
    let mut state = NodeState::new(routing, own);
    for i in 0..8 {
        let _ = state.learn(peer(i), 1000 + u32::from(i));
    }
    Node::active_with_state(0, NodeConfig::new(routing), state, NoEstimate, 1)
        .expect("a valid configuration")
}

/// A well-formed message, described by small arbitrary fields.
#[derive(Arbitrary, Clone, Debug)]
pub struct MessageSpec {
    /// Which kind (modulo the number of kinds).
    pub kind: u8,
    /// The sender (a peer index).
    pub from: u8,
    /// The message id (small, so replies can match requests).
    pub id: u8,
    /// Peer indices: the nodes the message's parts name.
    pub nodes: Vec<u8>,
    /// A row number.
    pub row: u8,
    /// The active flag of leaf-set messages.
    pub active: bool,
    /// A key, for routed messages.
    pub key: u16,
    /// Payload length of a routed message.
    pub payload: u8,
    /// Hops so far of a routed message.
    pub hops: u8,
}

impl MessageSpec {
    /// The message: its parts are states of the sender that learned the named peers.
    #[must_use]
    pub fn build(&self, routing: Config) -> Message<Handle, Id> {
        let from = peer(u16::from(self.from % 16));
        let mut state = NodeState::new(routing, from);
        for n in &self.nodes {
            let _ = state.learn(peer(u16::from(*n % 16)), u32::from(*n));
        }
        let leaf: LeafSet<Handle, Id> = state.leaf_set().clone();
        let info = LeafInfo {
            leaf_set: leaf.clone(),
            active: self.active,
            failed: {
                let mut f: Vec<Id> = self
                    .nodes
                    .iter()
                    .take(3)
                    .map(|n| peer_id(u16::from(*n % 16)))
                    .collect();
                f.sort_unstable();
                f.dedup();
                f
            },
        };
        let rows = routing.digit_width().digits::<Id>();
        let row = Row(self.row % u8::try_from(rows).unwrap_or(u8::MAX).max(1));
        let gather = JoinGather {
            route: alloc::vec![from],
            next_row: self.row % 4,
            rows: if row.index() < state.table().row_count() {
                alloc::vec![(row, state.table().only_row(row))]
            } else {
                Vec::new()
            },
            neighborhood: Some(state.neighborhood().clone()),
        };
        let origin = peer(self.key % 16);
        let body = match Kind::ALL
            .get(usize::from(self.kind) % Kind::ALL.len())
            .copied()
        {
            Some(Kind::JoinRequest) => Body::JoinRequest(Routed {
                key: origin.id,
                origin,
                seq: u64::from(self.id),
                hops: self.hops,
                body: gather,
            }),
            Some(Kind::JoinReply) => Body::JoinReply(JoinReply {
                gather,
                leaf_set: leaf,
            }),
            Some(Kind::JoinBusy) => Body::JoinBusy,
            Some(Kind::LeafProbe) => Body::LeafProbe(info),
            Some(Kind::LeafProbeReply) => Body::LeafProbeReply(info),
            Some(Kind::Heartbeat) => Body::Heartbeat(info),
            Some(Kind::RowRequest) => Body::RowRequest(Row(self.row)),
            Some(Kind::RowReply) => {
                let t: RoutingTable<Handle, Id> = state.table().only_row(row);
                Body::RowReply(row, t)
            }
            Some(Kind::NeighborhoodRequest) => Body::NeighborhoodRequest,
            Some(Kind::NeighborhoodReply) => Body::NeighborhoodReply(state.neighborhood().clone()),
            Some(Kind::StateAnnounce) => Body::StateAnnounce(state.clone()),
            Some(Kind::Route) => Body::Route(Routed {
                key: self.key,
                origin,
                seq: u64::from(self.id),
                hops: self.hops,
                body: alloc::vec![0xab; usize::from(self.payload)],
            }),
            Some(Kind::Ack) => Body::Ack,
            Some(Kind::Ping) => Body::Ping,
            Some(Kind::Pong) => Body::Pong,
            Some(Kind::Leave) | None => Body::Leave(leaf),
        };
        Message {
            from,
            id: u64::from(self.id),
            body,
        }
    }
}

/// One input into the node.
#[derive(Arbitrary, Clone, Debug)]
pub enum Step {
    /// A well-formed message.
    Message(MessageSpec),
    /// Raw bytes from peer `from`.
    Bytes {
        /// The sending peer's index.
        from: u8,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Time passes by this many milliseconds, then the timers fire.
    Advance(u16),
    /// The node's earliest timer fires.
    NextTimer,
    /// The application joins through a peer, or starts a ring.
    Join(Option<u8>),
    /// The application routes a payload of this length to this key.
    Route(u16, u16),
    /// The application sends a payload straight to a peer.
    RouteTo(u8),
    /// The application answers a forward up-call (by the low bits of its token).
    Forward(u8, bool),
    /// The application leaves.
    Leave,
    /// The node's messages are sent (the queue is emptied).
    Drain,
}

/// An arbitrary run of one node.
#[derive(Arbitrary, Clone, Debug)]
pub struct NodeInputs {
    /// Start active with a state that knows some peers (else idle).
    pub active: bool,
    /// Whether routed messages are shown to the application first.
    pub forward_upcall: bool,
    /// b = 1, 2 or 4 and L = 2, 4 or 8 by these values.
    pub shape: u8,
    /// The inputs.
    pub steps: Vec<Step>,
}

/// Replays [`NodeInputs`] into one node: no panic, the invariants after every step (debug
/// builds), the queues within their caps, and every transmitted message encodable.
///
/// # Panics
/// When a property fails.
#[allow(clippy::panic, clippy::expect_used)]
pub fn check_inputs(input: &NodeInputs) {
    let b = 1u32 << (input.shape % 3);
    let l = 2usize << ((input.shape / 3) % 3);
    let routing = Config::new(b, l, 4).expect("valid");
    let mut cfg = NodeConfig::new(routing);
    cfg.forward_upcall = input.forward_upcall;
    cfg.max_transmits = 64;
    cfg.max_events = 64;
    cfg.max_requests = 32;
    cfg.max_in_flight = 16;
    cfg.max_merges = 8;
    cfg.dedup_capacity = 16;
    cfg.max_peers = 16;
    cfg.max_failed = 4;
    let mut node = if input.active {
        let n = active_node(routing, 0xffff);
        let mut c = cfg;
        c.routing = routing;
        Node::active_with_state(0, c, n.state().clone(), NoEstimate, 7).expect("valid")
    } else {
        Node::new(cfg, NodeRef::new(peer_id(0xffff), 0xffff), NoEstimate, 7).expect("valid")
    };
    let mut now: Time = 0;
    let mut tokens: Vec<u64> = Vec::new();
    for step in input.steps.iter().take(256) {
        match step {
            Step::Message(spec) => {
                let m = spec.build(routing);
                let from = m.from.handle;
                node.handle(now, from, m);
            }
            Step::Bytes { from, bytes } => {
                let _ = node.handle_bytes(now, u16::from(*from % 16), bytes);
            }
            Step::Advance(ms) => {
                now += u64::from(*ms) * 1000;
                node.handle_timeout(now);
            }
            Step::NextTimer => {
                if let Some(t) = node.poll_timeout() {
                    now = now.max(t);
                    node.handle_timeout(now);
                }
            }
            Step::Join(contact) => {
                let before = node.clone();
                if node.join(now, contact.map(|c| u16::from(c % 16))).is_err() {
                    assert_eq!(node, before, "a refused join changed the node");
                }
            }
            Step::Route(key, len) => {
                let before = node.clone();
                if node
                    .route(now, *key, alloc::vec![1; usize::from(*len)])
                    .is_err()
                {
                    assert_eq!(node, before, "a refused route changed the node");
                }
            }
            Step::RouteTo(p) => {
                let _ = node.route_to(now, peer(u16::from(*p % 16)), alloc::vec![2; 3]);
            }
            Step::Forward(t, drop) => {
                if let Some(token) = tokens.get(usize::from(*t) % tokens.len().max(1)).copied() {
                    let _ = node.forward(now, token, (!drop).then(|| alloc::vec![3; 2]));
                }
            }
            Step::Leave => {
                let _ = node.leave(now);
            }
            Step::Drain => {
                while let Some(t) = node.poll_transmit() {
                    let bytes = t
                        .message
                        .to_vec(cfg.max_payload)
                        .expect("every transmitted message encodes");
                    let back = Message::<Handle, Id>::decode(&bytes, cfg.max_payload)
                        .expect("every transmitted message decodes");
                    assert_eq!(back, t.message, "a transmitted message does not round-trip");
                }
            }
        }
        while let Some(e) = node.poll_event() {
            if let crate::event::Event::Forward { token, .. } = e {
                tokens.push(token);
            }
        }
        node.invariants();
        assert!(
            node.state().heap_bytes() < 1 << 20,
            "the state grew past 1 MiB"
        );
    }
}
