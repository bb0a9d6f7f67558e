//! # pastry-node
//!
//! One Pastry node as a sans-I/O protocol engine over
//! [`pastry-kernel`](pastry_kernel): the messages nodes exchange, the timers they keep, the
//! consistent join, failure detection and repair, per-hop acknowledgements with re-routing, and
//! the Common API up-calls as events. Every host — the simulator, a libp2p host, a test
//! network — drives the same engine; none of them holds protocol logic of its own.
//!
//! The protocol is described in the repository's `docs/protocol.md`; each part of this crate
//! says where it follows MSPastry or FreePastry where that description is silent.
//!
//! ```
//! use pastry_kernel::{Guid, NodeRef};
//! use pastry_node::{Event, Node, NodeConfig, NoEstimate};
//!
//! // Two nodes over an in-memory "network": handles are indices into `nodes`.
//! let ids = [Guid::new(1 << 120), Guid::new(9 << 120)];
//! let mut nodes: Vec<Node<u32>> = (0..2)
//!     .map(|i| Node::new(NodeConfig::default(), NodeRef::new(ids[i], i as u32), NoEstimate, i as u64))
//!     .collect::<Result<_, _>>()?;
//! let mut now = 0;
//! nodes[0].join(now, None)?; // the first node starts the overlay
//! nodes[1].join(now, Some(0))?; // the second joins through it
//! // Deliver every message at once and fire timers until both are active.
//! for _ in 0..10_000 {
//!     let mut idle = true;
//!     for i in 0..nodes.len() {
//!         while let Some(t) = nodes[i].poll_transmit() {
//!             idle = false;
//!             nodes[t.to as usize].handle(now, i as u32, t.message);
//!         }
//!     }
//!     if nodes.iter().all(|n| n.is_active()) && idle {
//!         break;
//!     }
//!     if idle {
//!         now = nodes.iter().filter_map(|n| n.poll_timeout()).min().unwrap_or(now);
//!         for n in &mut nodes {
//!             n.handle_timeout(now);
//!         }
//!     }
//! }
//! assert!(nodes.iter().all(|n| n.is_active()));
//! // A message for a key near node 1's id is delivered at node 1.
//! nodes[0].route(now, Guid::new((9 << 120) + 5), b"hello".to_vec())?;
//! while let Some(t) = nodes[0].poll_transmit() {
//!     nodes[t.to as usize].handle(now, 0, t.message);
//! }
//! let delivered = std::iter::from_fn(|| nodes[1].poll_event())
//!     .any(|e| matches!(e, Event::Deliver { ref payload, .. } if payload == b"hello"));
//! assert!(delivered);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(any(test, feature = "std")), no_std)]
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

mod codec;
mod config;
mod counters;
mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod message;
mod node;
#[cfg(feature = "testnet")]
pub mod testnet;

pub use codec::{MAGIC, MAX_FAILED, MAX_ROUTE, VERSION};
#[doc(hidden)]
pub use config::PlantedBug;
pub use config::{NodeConfig, NodeConfigError, Time};
pub use counters::{ByKind, Counters, Drops};
pub use event::{CallError, Event, Transmit};
pub use message::{Body, Kind, Message};
pub use node::{Estimator, NoEstimate, Node, Phase};
