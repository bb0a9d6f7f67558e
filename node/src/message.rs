//! The messages nodes exchange ([`Message`], [`Body`]) and their strict, canonical codec.
//!
//! Every message carries the protocol version (in the encoding), the sender's [`NodeRef`] and
//! an `id` that matches replies to requests: a reply carries the id of its request; a routed
//! message's [`Ack`](Body::Ack) carries the id of the hop it acknowledges.
//!
//! | body | sent by | answered by |
//! |---|---|---|
//! | [`Body::JoinRequest`] | the joiner to its contact, then hop by hop towards the joiner's id | [`Body::Ack`] per hop; the root answers the joiner with [`Body::JoinReply`] or [`Body::JoinBusy`] |
//! | [`Body::LeafProbe`] | a joiner to its would-be leaf-set members; a node to a node it would add to its leaf set; a repairing node to the node it asks | [`Body::LeafProbeReply`] |
//! | [`Body::Heartbeat`] | every `T_ls` to both immediate leaf-set neighbours; to the whole leaf set after declaring a member failed | — |
//! | [`Body::RowRequest`] | second join stage, table repair, row maintenance | [`Body::RowReply`] |
//! | [`Body::NeighborhoodRequest`] | second join stage, neighborhood repair | [`Body::NeighborhoodReply`] |
//! | [`Body::StateAnnounce`] | a new node to the nodes of its state (the paper's last join step), and to its leaf set on activation | — |
//! | [`Body::Route`] | `route` hop by hop | [`Body::Ack`] per hop |
//! | [`Body::Ping`] | liveness and round-trip probes | [`Body::Pong`] |
//! | [`Body::Leave`] | a leaving node to its leaf set | — |

use alloc::vec::Vec;

use pastry_kernel::{Guid, LeafSet, NeighborhoodSet, NodeRef, NodeState, RoutingTable, Row};

pub use crate::codec::{MessageDecodeError, MessageEncodeError};

/// The largest payload the wire format carries: 16 MiB (a node's own cap,
/// [`NodeConfig::max_payload`](crate::NodeConfig::max_payload), is at most this).
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// A message between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message<H, W = Guid> {
    /// The sender.
    pub from: NodeRef<H, W>,
    /// Matches replies to requests (see the [module docs](self)).
    pub id: u64,
    /// What the message says.
    pub body: Body<H, W>,
}

/// What a [`Message`] says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body<H, W = Guid> {
    /// A join request, routed towards the joiner's id; each hop adds its part.
    JoinRequest(Routed<JoinGather<H, W>, H, W>),
    /// The root's answer to a joiner: everything the join gathered and the root's leaf set.
    JoinReply(JoinReply<H, W>),
    /// The root serves another joining node on the joiner's side; try again later.
    JoinBusy,
    /// "Here is my leaf set; add me if I belong in yours, and send me yours."
    LeafProbe(LeafInfo<H, W>),
    /// The answer to a [`Body::LeafProbe`]: the leaf set after adding the prober.
    LeafProbeReply(LeafInfo<H, W>),
    /// Periodic keep-alive with the sender's leaf set.
    Heartbeat(LeafInfo<H, W>),
    /// "Send me row `0` of your routing table."
    RowRequest(Row),
    /// The asked row: the sender's table holding only that row.
    RowReply(Row, RoutingTable<H, W>),
    /// "Send me your neighborhood set."
    NeighborhoodRequest,
    /// The sender's neighborhood set.
    NeighborhoodReply(NeighborhoodSet<H, W>),
    /// A new node's whole state, for the nodes in it to merge (the paper's last join step).
    StateAnnounce(NodeState<H, W>),
    /// An application message routed towards `key` (Common API `route`).
    Route(Routed<Vec<u8>, H, W>),
    /// The next hop received the routed message with this message's id.
    Ack,
    /// Are you there?
    Ping,
    /// I am here (the answer to [`Body::Ping`]).
    Pong,
    /// The sender leaves the overlay; its leaf set helps the receivers repair.
    Leave(LeafSet<H, W>),
}

/// A message routed hop by hop towards `key`: the envelope of [`Body::Route`] and
/// [`Body::JoinRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Routed<T, H, W = Guid> {
    /// The key it goes to.
    pub key: W,
    /// The node that sent it first.
    pub origin: NodeRef<H, W>,
    /// The origin's number for it; (origin id, seq) identifies it for duplicate suppression.
    pub seq: u64,
    /// Hops taken so far.
    pub hops: u8,
    /// What it carries.
    pub body: T,
}

/// What a join request gathers on its route ([`pastry_kernel::JoinParts`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JoinGather<H, W = Guid> {
    /// The route's nodes so far, the contact first.
    pub route: Vec<NodeRef<H, W>>,
    /// The number of rows taken so far: the next hop supplies rows from this one on.
    pub next_row: u8,
    /// The rows supplied, each as its hop's table holding only that row, in route order.
    pub rows: Vec<(Row, RoutingTable<H, W>)>,
    /// The contact's neighborhood set (absent until the contact adds it).
    pub neighborhood: Option<NeighborhoodSet<H, W>>,
}

/// The root's answer to a joining node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JoinReply<H, W = Guid> {
    /// What the join gathered, the root's own part included (the root is the route's last
    /// node).
    pub gather: JoinGather<H, W>,
    /// The root's leaf set.
    pub leaf_set: LeafSet<H, W>,
}

/// A node's leaf set with what others need to know about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeafInfo<H, W = Guid> {
    /// The sender's leaf set.
    pub leaf_set: LeafSet<H, W>,
    /// Whether the sender is active (has finished joining).
    pub active: bool,
    /// Ids the sender recently found faulty, in increasing order; a receiver probes those it
    /// holds and forgets them only if they do not answer.
    pub failed: Vec<W>,
}

/// The kind of a message, one byte on the wire; used to count messages by type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Kind {
    /// [`Body::JoinRequest`].
    JoinRequest = 1,
    /// [`Body::JoinReply`].
    JoinReply = 2,
    /// [`Body::JoinBusy`].
    JoinBusy = 3,
    /// [`Body::LeafProbe`].
    LeafProbe = 4,
    /// [`Body::LeafProbeReply`].
    LeafProbeReply = 5,
    /// [`Body::Heartbeat`].
    Heartbeat = 6,
    /// [`Body::RowRequest`].
    RowRequest = 7,
    /// [`Body::RowReply`].
    RowReply = 8,
    /// [`Body::NeighborhoodRequest`].
    NeighborhoodRequest = 9,
    /// [`Body::NeighborhoodReply`].
    NeighborhoodReply = 10,
    /// [`Body::StateAnnounce`].
    StateAnnounce = 11,
    /// [`Body::Route`].
    Route = 12,
    /// [`Body::Ack`].
    Ack = 13,
    /// [`Body::Ping`].
    Ping = 14,
    /// [`Body::Pong`].
    Pong = 15,
    /// [`Body::Leave`].
    Leave = 16,
}

impl Kind {
    /// Every kind, in byte order.
    pub const ALL: [Kind; 16] = [
        Kind::JoinRequest,
        Kind::JoinReply,
        Kind::JoinBusy,
        Kind::LeafProbe,
        Kind::LeafProbeReply,
        Kind::Heartbeat,
        Kind::RowRequest,
        Kind::RowReply,
        Kind::NeighborhoodRequest,
        Kind::NeighborhoodReply,
        Kind::StateAnnounce,
        Kind::Route,
        Kind::Ack,
        Kind::Ping,
        Kind::Pong,
        Kind::Leave,
    ];

    /// The kind with this byte.
    #[must_use]
    pub fn from_byte(b: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(b).checked_sub(1)?).copied()
    }

    /// The byte of this kind.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        self as u8
    }

    /// A zero-based index, for tables of counters.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize - 1
    }

    /// The name of the kind, as in [`Body`].
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::JoinRequest => "JoinRequest",
            Kind::JoinReply => "JoinReply",
            Kind::JoinBusy => "JoinBusy",
            Kind::LeafProbe => "LeafProbe",
            Kind::LeafProbeReply => "LeafProbeReply",
            Kind::Heartbeat => "Heartbeat",
            Kind::RowRequest => "RowRequest",
            Kind::RowReply => "RowReply",
            Kind::NeighborhoodRequest => "NeighborhoodRequest",
            Kind::NeighborhoodReply => "NeighborhoodReply",
            Kind::StateAnnounce => "StateAnnounce",
            Kind::Route => "Route",
            Kind::Ack => "Ack",
            Kind::Ping => "Ping",
            Kind::Pong => "Pong",
            Kind::Leave => "Leave",
        }
    }

    /// Whether messages of this kind keep the overlay running rather than carry the
    /// application's data: every kind except [`Kind::Route`] and [`Kind::Ack`].
    #[must_use]
    pub const fn is_control(self) -> bool {
        !matches!(self, Kind::Route | Kind::Ack)
    }
}

impl<H, W> Body<H, W> {
    /// The kind of this body.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Body::JoinRequest(_) => Kind::JoinRequest,
            Body::JoinReply(_) => Kind::JoinReply,
            Body::JoinBusy => Kind::JoinBusy,
            Body::LeafProbe(_) => Kind::LeafProbe,
            Body::LeafProbeReply(_) => Kind::LeafProbeReply,
            Body::Heartbeat(_) => Kind::Heartbeat,
            Body::RowRequest(_) => Kind::RowRequest,
            Body::RowReply(..) => Kind::RowReply,
            Body::NeighborhoodRequest => Kind::NeighborhoodRequest,
            Body::NeighborhoodReply(_) => Kind::NeighborhoodReply,
            Body::StateAnnounce(_) => Kind::StateAnnounce,
            Body::Route(_) => Kind::Route,
            Body::Ack => Kind::Ack,
            Body::Ping => Kind::Ping,
            Body::Pong => Kind::Pong,
            Body::Leave(_) => Kind::Leave,
        }
    }
}
