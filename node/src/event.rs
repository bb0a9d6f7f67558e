//! What a node hands to its host: [`Transmit`]s to send, [`Event`]s for the application, and
//! the errors of its calls.

use alloc::vec::Vec;
use core::fmt;

use pastry_kernel::{Guid, NodeRef};

use crate::config::Time;
use crate::message::Message;

/// A message for the host to send to `to`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transmit<H, W = Guid> {
    /// The destination's handle.
    pub to: H,
    /// The message; encode it with [`Message::encode`].
    pub message: Message<H, W>,
}

/// Something the application should know (the Common API up-calls and the node's life).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event<H, W = Guid> {
    /// The join finished: the node is **active** (it delivers messages and serves joins).
    Activated {
        /// When.
        at: Time,
    },
    /// Every join attempt failed ([`NodeConfig::join_attempts`](crate::NodeConfig)); the node is
    /// idle again and may [`join`](crate::Node::join) once more.
    JoinFailed,
    /// Common API `deliver`: a routed message ends here, at the root of its key.
    Deliver {
        /// The key it was routed to.
        key: W,
        /// Who sent it.
        origin: NodeRef<H, W>,
        /// The origin's number for it.
        seq: u64,
        /// Hops it took.
        hops: u8,
        /// The application's payload.
        payload: Vec<u8>,
    },
    /// Common API `forward` (only with
    /// [`NodeConfig::forward_upcall`](crate::NodeConfig::forward_upcall)): a routed message is
    /// about to go to `next_hop`. It waits until the application calls
    /// [`Node::forward`](crate::Node::forward) with `token`, to send it on (possibly changed) or
    /// drop it.
    Forward {
        /// Names the held message in [`Node::forward`](crate::Node::forward).
        token: u64,
        /// The key it is routed to.
        key: W,
        /// Who sent it.
        origin: NodeRef<H, W>,
        /// The next hop chosen.
        next_hop: NodeRef<H, W>,
        /// The application's payload.
        payload: Vec<u8>,
    },
    /// A routed message could not be delivered: every re-route after hop timeouts failed
    /// ([`NodeConfig::route_retries`](crate::NodeConfig)), or no node could take it.
    RouteFailed {
        /// The key it was routed to.
        key: W,
        /// Who sent it.
        origin: NodeRef<H, W>,
        /// The origin's number for it.
        seq: u64,
    },
    /// Common API `update`: a node entered (`joined`) or left the leaf set.
    Update {
        /// The node.
        node: NodeRef<H, W>,
        /// Whether it entered (true) or left (false).
        joined: bool,
    },
    /// A node was declared failed (it did not answer the probes) and forgotten; repair runs.
    Failed {
        /// The node.
        node: NodeRef<H, W>,
    },
}

/// Why a call of the application was refused; the node is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// The node is not active: it has not joined yet, is still joining, or has left.
    NotActive,
    /// The node has already joined, is joining, or has left.
    AlreadyJoined,
    /// The payload is over [`NodeConfig::max_payload`](crate::NodeConfig::max_payload).
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The queue of outgoing messages is full; try after polling.
    QueueFull,
    /// No held message has this token (it was already answered or expired).
    UnknownToken,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotActive => f.write_str("the node is not active"),
            CallError::AlreadyJoined => f.write_str("the node has already joined or is joining"),
            CallError::PayloadTooLarge { len, max } => {
                write!(f, "the payload of {len} bytes is over the cap of {max}")
            }
            CallError::QueueFull => f.write_str("the queue of outgoing messages is full"),
            CallError::UnknownToken => f.write_str("no held message has this token"),
        }
    }
}

impl core::error::Error for CallError {}
