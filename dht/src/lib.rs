//! # pastry-dht
//!
//! The essential API of a distributed hash table — `put(key, value)`, `value = get(key)`,
//! `remove(key)` — with k-fold replication, over a Pastry overlay: PAST's design as a
//! sans-I/O application engine on [`pastry-node`](pastry_node). A [`Dht`] owns one
//! [`Node`](pastry_node::Node) and is driven like it (messages in, timers, transmits and events
//! polled out); every host — the simulator, a libp2p host, the test network — drives the same
//! engine.
//!
//! * Values live on the k nodes of the key's replica set (default k = 5). Writes carry a
//!   [`Version`]; the greater wins everywhere. A remove is a versioned tombstone.
//! * Replica maintenance runs every `T_rep` and on every leaf-set change: summaries between
//!   replica-set neighbours, pulls and pushes of what differs, hand-off of keys a node is no
//!   longer responsible for. Messages and the work per message stay bounded however many
//!   records a node holds.
//! * `no_std` + `alloc`, `#![forbid(unsafe_code)]`, no clock, no randomness, no I/O; never
//!   panics on any input; every table has a cap in [`DhtConfig`].
//!
//! ```
//! use pastry_dht::{Dht, DhtConfig, DhtEvent};
//! use pastry_kernel::{Config, Guid, NodeRef};
//! use pastry_node::{NodeConfig, NoEstimate, Node};
//!
//! // One node that starts its own overlay: it is the root and the only replica of every key.
//! let cfg = DhtConfig::default();
//! let node_cfg = cfg.node_config(NodeConfig::new(Config::PAPER));
//! let node = Node::new(node_cfg, NodeRef::new(Guid::new(7), 0u32), NoEstimate, 1)?;
//! let mut dht = Dht::new(cfg, node)?;
//! dht.join(0, None)?;
//! let key = Guid::new(42);
//! let put = dht.put(1, key, b"hello".to_vec())?;
//! let get = dht.get(2, key)?;
//! let events: Vec<_> = std::iter::from_fn(|| dht.poll_event()).collect();
//! assert!(events.iter().any(|e| matches!(e, DhtEvent::PutDone { op, stored: 1, .. } if *op == put)));
//! assert!(events.iter().any(|e| matches!(e, DhtEvent::GetDone { op, value: Some(v), .. }
//!     if *op == get && v == b"hello")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(any(test, feature = "fuzzing")), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

extern crate alloc;

mod config;
mod engine;
mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod message;
mod record;
#[cfg(feature = "testnet")]
pub mod testnet;

#[doc(hidden)]
pub use config::PlantedBug;
pub use config::{DhtConfig, DhtConfigError};
pub use engine::Dht;
pub use event::{DhtCounters, DhtDrops, DhtError, DhtEvent, FailReason, OpId};
pub use message::{DhtDecodeError, DhtEncodeError, DhtKind, DhtMessage, Status};
pub use record::{Applied, Record, Store, StoreError, Version};

/// The repository README's code blocks (the kernel's API tour, the DHT's example), compiled
/// and run as doctests here, in the crate that depends on every crate they use.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
