//! What a DHT node hands its application: [`DhtEvent`]s, the errors of its calls, and its
//! counters.

use alloc::vec::Vec;
use core::fmt;

use pastry_kernel::Guid;
use pastry_node::{CallError, Event};

use crate::message::DhtKind;
use crate::record::Version;

/// The caller's number for a put, get or remove: the events about it carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u64);

/// The result of an operation, or a node event passed through.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DhtEvent<H, W = Guid> {
    /// A put finished: `stored` replicas hold the value (or a newer version), at least the
    /// write quorum when there is one.
    PutDone {
        /// The operation.
        op: OpId,
        /// The key.
        key: W,
        /// The version written.
        version: Version<W>,
        /// Replicas that hold it, the root included.
        stored: u8,
    },
    /// A get finished: the newest record among the replies the root waited for.
    GetDone {
        /// The operation.
        op: OpId,
        /// The key.
        key: W,
        /// The value; `None` when the key has none (never written, or removed).
        value: Option<Vec<u8>>,
        /// The version found: of the value, or of the tombstone of a removed key; `None` when
        /// no replica knew the key.
        version: Option<Version<W>>,
    },
    /// A remove finished: `stored` replicas hold its tombstone (or a newer version).
    RemoveDone {
        /// The operation.
        op: OpId,
        /// The key.
        key: W,
        /// The tombstone's version.
        version: Version<W>,
        /// Replicas that hold it, the root included.
        stored: u8,
    },
    /// An operation failed.
    Failed {
        /// The operation.
        op: OpId,
        /// The key.
        key: W,
        /// Why.
        reason: FailReason,
    },
    /// An event of the node that is not the DHT's (Common API up-calls, the node's life).
    Node(Event<H, W>),
}

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailReason {
    /// No answer after every attempt
    /// ([`DhtConfig::request_attempts`](crate::DhtConfig::request_attempts)).
    Timeout,
    /// Fewer replicas than the write quorum hold the write, after every attempt.
    Quorum {
        /// Replicas that hold it.
        stored: u8,
        /// The quorum.
        needed: u8,
    },
    /// No replica could store it: every one that answered was full.
    Full,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Timeout => f.write_str("no answer after every attempt"),
            FailReason::Quorum { stored, needed } => {
                write!(f, "{stored} replicas hold it, below the quorum of {needed}")
            }
            FailReason::Full => f.write_str("every replica that answered was full"),
        }
    }
}

/// Why a call was refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhtError {
    /// The value is over [`DhtConfig::max_value`](crate::DhtConfig::max_value).
    ValueTooLarge {
        /// The value's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// [`DhtConfig::max_ops`](crate::DhtConfig::max_ops) operations wait for answers.
    TooManyOps,
    /// An application payload starts with the DHT's [`MAGIC`](crate::message::MAGIC).
    ReservedPayload,
    /// The node refused (not active, a full queue, a payload over its cap).
    Node(CallError),
}

impl From<CallError> for DhtError {
    fn from(e: CallError) -> Self {
        DhtError::Node(e)
    }
}

impl fmt::Display for DhtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhtError::ValueTooLarge { len, max } => {
                write!(f, "a value of {len} bytes is over the cap of {max}")
            }
            DhtError::TooManyOps => f.write_str("too many operations wait for answers"),
            DhtError::ReservedPayload => {
                f.write_str("an application payload starts with the DHT's magic bytes")
            }
            DhtError::Node(e) => write!(f, "the node refused: {e}"),
        }
    }
}

impl core::error::Error for DhtError {}

/// What a DHT node did: messages by kind, bytes of replica maintenance, and every drop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DhtCounters {
    /// DHT messages sent, by [`DhtKind::index`].
    pub sent: [u64; DhtKind::ALL.len()],
    /// DHT messages received, by [`DhtKind::index`].
    pub received: [u64; DhtKind::ALL.len()],
    /// Payload bytes of replica-maintenance messages sent (summaries, their replies,
    /// pushes).
    pub maintenance_bytes: u64,
    /// Maintenance rounds run.
    pub rounds: u64,
    /// Records dropped after they were handed off.
    pub handed_off: u64,
    /// Tombstones collected.
    pub collected: u64,
    /// Records refused because the store was full.
    pub refused_full: u64,
    /// What was dropped, and why.
    pub dropped: DhtDrops,
}

/// Inputs and outputs a DHT node dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DhtDrops {
    /// Payloads that start with the DHT's magic but do not decode.
    pub malformed: u64,
    /// Messages that make no sense here (a reply to no pending operation, a record for
    /// another key, a push of keys this node is not responsible for).
    pub unexpected: u64,
    /// Messages the node would not take (its queue full): counted, not sent.
    pub not_sent: u64,
    /// Events dropped at the full event queue.
    pub events: u64,
    /// Coordinations refused at [`DhtConfig::max_coordinations`](crate::DhtConfig).
    pub coordinations: u64,
    /// Hand-offs not tracked at [`DhtConfig::max_handoffs`](crate::DhtConfig).
    pub handoffs: u64,
}
