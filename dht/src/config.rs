//! [`DhtConfig`]: the replication factor, the timers and every cap of a DHT node.

use core::fmt;
use core::time::Duration;

use pastry_node::{NodeConfig, Time};

use crate::message::RECORD_OVERHEAD;

/// The replication factor, timers and caps of a DHT node. [`DhtConfig::default`] gives the
/// protocol's defaults; each field says where its default comes from.
///
/// Every table and queue of the engine has a cap here; reaching one is a counted drop
/// ([`DhtCounters`](crate::DhtCounters)) or a typed error at the caller, never growth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DhtConfig {
    /// k: a value lives on the k nodes of its key's replica set, the root and the next k − 1
    /// closest (default 5, PAST's k; at most L/2 + 1 of the node's leaf set).
    pub replicas: usize,
    /// `T_rep`: every node exchanges summaries with its replica-set neighbours this often
    /// (default 60 s).
    pub replication_period: Duration,
    /// A round of replica maintenance also runs this long after a leaf-set change (default
    /// 1 s; a burst of changes gives one round).
    pub update_delay: Duration,
    /// `T_gc`: a tombstone is kept this long after a node stores it, then collected (default
    /// 24 h; it must exceed `T_rep` by far, so that every replica has seen it first).
    pub tombstone_lifetime: Duration,
    /// The largest value (default 64 KiB, as libp2p-kad's memory store); a larger one is a
    /// typed error at the caller.
    pub max_value: usize,
    /// The most records (values and tombstones) a node stores (default 65,536); a full store
    /// refuses new keys with a typed status and never evicts.
    pub max_records: usize,
    /// An optional write quorum w (1..=k): a put or remove reports success only when at least
    /// w replicas hold it, and a get then waits for k − w + 1 replies, so that it overlaps
    /// every quorum write (default none: a put succeeds when one replica holds it, a get is
    /// answered by the root alone when it has the key).
    pub write_quorum: Option<u8>,
    /// The caller's wait for the answer to a put, get or remove before it asks again
    /// (default 10 s).
    pub request_timeout: Duration,
    /// Attempts of one put, get or remove before [`FailReason::Timeout`](crate::FailReason)
    /// (default 3; retries carry the same version, so they are idempotent).
    pub request_attempts: u8,
    /// The root's wait for the other replicas' answers to a store or fetch (default 4 s;
    /// below `request_timeout`).
    pub replica_timeout: Duration,
    /// Cap of the caller's operations waiting for an answer (default 1024).
    pub max_ops: usize,
    /// Cap of the stores and fetches a root coordinates at once (default 1024).
    pub max_coordinations: usize,
    /// Entries of one summary message (default 256; at most
    /// [`MAX_ENTRIES`](crate::message::MAX_ENTRIES)).
    pub summary_entries: usize,
    /// Records visited by one round of replica maintenance (default 4096): a node holding
    /// more covers its store in several rounds, so a round's work and messages stay bounded.
    pub scan_per_round: usize,
    /// Cap of the keys a node tracks while handing them off (default 4096).
    pub max_handoffs: usize,
    /// Cap of the queue of events waiting for [`Dht::poll_event`](crate::Dht::poll_event)
    /// (default 4096).
    pub max_events: usize,
    /// Cap of the remembered numbers of this node's own routed DHT messages, to keep their
    /// route failures from the application (default 4096).
    pub max_sent: usize,
    /// For tests of the checks only: a known bug to plant (default none).
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

/// A known bug, planted in a DHT node to show that the checks find it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlantedBug {
    /// A store keeps the older of two versions (the version order reversed).
    OlderWins,
    /// A remove deletes the record instead of keeping a tombstone.
    NoTombstone,
}

impl DhtConfig {
    /// The defaults.
    #[must_use]
    pub const fn new() -> Self {
        DhtConfig {
            replicas: 5,
            replication_period: Duration::from_secs(60),
            update_delay: Duration::from_secs(1),
            tombstone_lifetime: Duration::from_secs(24 * 3600),
            max_value: 64 * 1024,
            max_records: 65_536,
            write_quorum: None,
            request_timeout: Duration::from_secs(10),
            request_attempts: 3,
            replica_timeout: Duration::from_secs(4),
            max_ops: 1024,
            max_coordinations: 1024,
            summary_entries: 256,
            scan_per_round: 4096,
            max_handoffs: 4096,
            max_events: 4096,
            max_sent: 4096,
            planted: None,
        }
    }

    /// The node payload cap this configuration needs: the largest value plus a message's
    /// framing. Give every node of the overlay a
    /// [`NodeConfig::max_payload`](pastry_node::NodeConfig::max_payload) of at least this
    /// ([`DhtConfig::node_config`] does).
    #[must_use]
    pub const fn required_payload(&self) -> usize {
        self.max_value.saturating_add(RECORD_OVERHEAD)
    }

    /// `node` with its payload cap raised to [`DhtConfig::required_payload`] when below it.
    #[must_use]
    pub fn node_config(&self, mut node: NodeConfig) -> NodeConfig {
        node.max_payload = node.max_payload.max(self.required_payload());
        node
    }

    /// The read quorum: k − w + 1 with a write quorum w, else 1.
    #[must_use]
    pub fn read_quorum(&self) -> usize {
        match self.write_quorum {
            Some(w) => self.replicas.saturating_sub(usize::from(w)) + 1,
            None => 1,
        }
    }

    /// Checks the configuration against itself and against the node's.
    ///
    /// # Errors
    /// The first field out of range, as a [`DhtConfigError`].
    pub fn validate(&self, node: &NodeConfig) -> Result<(), DhtConfigError> {
        let max_k = node.routing.max_replicas();
        if self.replicas == 0 || self.replicas > max_k {
            return Err(DhtConfigError::Replicas {
                k: self.replicas,
                max: max_k,
            });
        }
        if let Some(w) = self.write_quorum {
            if w == 0 || usize::from(w) > self.replicas {
                return Err(DhtConfigError::Quorum {
                    w,
                    k: self.replicas,
                });
            }
        }
        let timers = [
            ("replication_period", self.replication_period),
            ("update_delay", self.update_delay),
            ("tombstone_lifetime", self.tombstone_lifetime),
            ("request_timeout", self.request_timeout),
            ("replica_timeout", self.replica_timeout),
        ];
        if let Some((name, _)) = timers.iter().find(|(_, d)| d.is_zero()) {
            return Err(DhtConfigError::ZeroTimer(name));
        }
        if self.tombstone_lifetime <= self.replication_period {
            return Err(DhtConfigError::Order(
                "tombstone_lifetime > replication_period",
            ));
        }
        if self.replica_timeout >= self.request_timeout {
            return Err(DhtConfigError::Order("replica_timeout < request_timeout"));
        }
        let caps = [
            ("max_records", self.max_records),
            ("request_attempts", usize::from(self.request_attempts)),
            ("max_ops", self.max_ops),
            ("max_coordinations", self.max_coordinations),
            ("summary_entries", self.summary_entries),
            ("scan_per_round", self.scan_per_round),
            ("max_handoffs", self.max_handoffs),
            ("max_events", self.max_events),
            ("max_sent", self.max_sent),
        ];
        if let Some((name, _)) = caps.iter().find(|(_, c)| *c == 0) {
            return Err(DhtConfigError::ZeroCap(name));
        }
        if self.summary_entries > crate::message::MAX_ENTRIES {
            return Err(DhtConfigError::ZeroCap(
                "summary_entries (over MAX_ENTRIES)",
            ));
        }
        if self.required_payload() > node.max_payload {
            return Err(DhtConfigError::PayloadCap {
                needed: self.required_payload(),
                node: node.max_payload,
            });
        }
        Ok(())
    }

    /// A duration in microseconds, saturating.
    pub(crate) fn micros(d: Duration) -> Time {
        u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
    }
}

impl Default for DhtConfig {
    fn default() -> Self {
        DhtConfig::new()
    }
}

/// Why a [`DhtConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhtConfigError {
    /// k is 0 or over L/2 + 1.
    Replicas {
        /// The replication factor asked for.
        k: usize,
        /// L/2 + 1 of the node's leaf set.
        max: usize,
    },
    /// The write quorum is 0 or over k.
    Quorum {
        /// The quorum asked for.
        w: u8,
        /// The replication factor.
        k: usize,
    },
    /// A timer is zero.
    ZeroTimer(&'static str),
    /// A cap is zero (or over its limit).
    ZeroCap(&'static str),
    /// Two timers are not in the order named.
    Order(&'static str),
    /// The node's payload cap cannot carry the largest value with its framing.
    PayloadCap {
        /// [`DhtConfig::required_payload`].
        needed: usize,
        /// The node's [`NodeConfig::max_payload`](pastry_node::NodeConfig::max_payload).
        node: usize,
    },
}

impl fmt::Display for DhtConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhtConfigError::Replicas { k, max } => {
                write!(f, "replicas {k} is not in 1..={max} (L/2 + 1)")
            }
            DhtConfigError::Quorum { w, k } => write!(f, "write quorum {w} is not in 1..={k}"),
            DhtConfigError::ZeroTimer(name) => write!(f, "timer {name} is zero"),
            DhtConfigError::ZeroCap(name) => write!(f, "cap {name} is zero or over its limit"),
            DhtConfigError::Order(rule) => write!(f, "timers out of order: need {rule}"),
            DhtConfigError::PayloadCap { needed, node } => write!(
                f,
                "the node's payload cap {node} is below the {needed} bytes the largest value needs"
            ),
        }
    }
}

impl core::error::Error for DhtConfigError {}
