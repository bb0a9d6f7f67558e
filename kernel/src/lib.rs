//! # pastry-kernel
//!
//! A sans-I/O routing core for [Pastry](https://doi.org/10.1007/3-540-45518-3_18) peer-to-peer
//! overlays (Rowstron & Druschel, Middleware 2001).
//!
//! The host — a network node, a simulator, a test — owns sockets, clocks, liveness detection and
//! randomness. The kernel owns one node's routing state and answers pure questions: where does a
//! message for key `k` go next ([`NodeState::route`]), which nodes hold the replicas of `k`
//! ([`NodeState::replica_set`]), what a node learns and forgets. It never does I/O, never reads a
//! clock, never draws randomness, never panics on any input and never allocates on the lookup
//! path.
//!
//! * [`arith`]: the ring and prefix arithmetic of docs/design.md (digit, shl, cw, dist, closer),
//!   written once over the [`Word`] trait so the same code runs on `u128`, on narrow words for
//!   exhaustive checks and on Z3 bit-vectors for proofs.
//! * [`Guid`], [`Config`], [`NodeRef`]: ids, run-time parameters b / L / |M|, node references.
//! * [`LeafSet`], [`RoutingTable`], [`NeighborhoodSet`], [`NodeState`]: the routing state, each
//!   with its invariants stated on the type and checked by `invariants()` in debug builds.
//! * [`seeded::SplitMix`]: the one seeded generator of the project's tests, benches, proofs,
//!   examples and test harnesses (the kernel itself draws nothing).
//! * [`codec`]: a strict, versioned encoding of a state and of the leaf sets, table rows and
//!   neighborhood sets that join and repair messages carry, into the caller's buffer.
//!
//! ```
//! use pastry_kernel::{Config, Guid, NodeRef, NodeState, Route};
//!
//! // A node with the paper's parameters (b = 4, L = 16, |M| = 32); handles are the host's.
//! let mut a = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(0xa0 << 120), 0u32));
//! for (i, top) in [0x10u128, 0x20, 0xb0, 0xc0].into_iter().enumerate() {
//!     a.learn(NodeRef::new(Guid::new(top << 120), i as u32 + 1), 5)?;
//! }
//! // The root of a key near 0xb0… is the node 0xb0…: the leaf set knows the whole ring.
//! let next = a.route(Guid::new(0xb1 << 120));
//! assert_eq!(next.next_hop().map(|n| n.handle), Some(3));
//! # Ok::<(), pastry_kernel::StateError>(())
//! ```
//!
//! ## Features
//! All additive; the default build is `#![no_std]` (it needs `alloc` for the state's storage).
//! `std` (the `sync` module: one writer, many readers sharing a state), `serde` (below),
//! `arbitrary`, `proptest` (strategies for downstream tests), `digest` (`Guid::digest`),
//! `fuzzing` (the properties the fuzz targets run), `laws` (only `fuzzing::claims`: the laws of
//! the arithmetic over any `Word`, shared by the property tests and the Z3 proofs).
//!
//! ## serde
//! With the feature `serde`, ids, configurations, node references and entries serialize as
//! plain values, and [`LeafSet`], [`RoutingTable`], [`NeighborhoodSet`] and [`NodeState`] as
//! their parts. Reading a structure back applies the rules the [`codec`] checks on bytes, so **a
//! deserialized value that would break an invariant of its type is an error, never a broken
//! value**: a side out of ring order, the owner among its own nodes, a table entry in the wrong
//! row, a neighborhood out of proximity order, a hole flag on a full side, an L or |M| out of
//! range. The error names the rule and the node, as a [`codec::DecodeError`] does. Unknown
//! fields are refused too.
//!
//! | type | fields |
//! |---|---|
//! | [`LeafSet`] | `own`, `leaf_set_len` (L), `successors` and `predecessors` (nearest first), `holes` ([`Sides`]) |
//! | [`RoutingTable`] | `own`, `b` ([`DigitWidth`]), `rows`: the stored rows 0, 1, …, each its entries in column order; the last stored row is not empty |
//! | [`NeighborhoodSet`] | `own`, `capacity` (\|M\|), `entries` (nearest first) |
//! | [`NodeState`] | `config`, `own` (a [`NodeRef`]), `successors`, `predecessors`, `holes`, `rows`, `neighborhood` (the entries); the sizes come from `config` |
//!
//! Nodes are [`NodeRef`]s (`id`, `handle`) and entries [`Entry`]s (`node`, `proximity`). A
//! [`Guid`] is 32 hex digits in human-readable formats and a `u128` otherwise. Deserializing
//! needs `H: PartialEq`: a node on both sides of a leaf set must carry the same handle on both.
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use pastry_kernel::{Config, Guid, NodeRef, NodeState};
//!
//! let mut state = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(7 << 120), 0u32));
//! state.learn(NodeRef::new(Guid::new(9 << 120), 1), 10).unwrap();
//! let json = serde_json::to_string(&state).unwrap();
//! assert_eq!(serde_json::from_str::<NodeState<u32>>(&json).unwrap(), state);
//! // A state whose successor is the owner itself is refused.
//! let bad = json.replace(&Guid::new(9 << 120).to_string(), &Guid::new(7 << 120).to_string());
//! let err = serde_json::from_str::<NodeState<u32>>(&bad).unwrap_err();
//! assert!(err.to_string().contains("successors: node 0 is the owner itself"));
//! # }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
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

pub mod arith;
pub mod codec;
mod common_api;
mod config;
mod error;
// `fuzzing` implies `laws`; with `laws` alone the module holds only `fuzzing::claims`.
#[cfg(feature = "laws")]
pub mod fuzzing;
mod global_knowledge;
mod guid;
mod join;
mod leafset;
mod neighborhood;
mod node;
mod repair;
mod route;
pub mod seeded;
#[cfg(feature = "serde")]
mod serde_impl;
mod state;
#[cfg(feature = "proptest")]
pub mod strategies;
#[cfg(feature = "std")]
pub mod sync;
mod table;
pub mod word;

pub use arith::{Column, Digit, DigitWidth, Row};
pub use common_api::{KeyRange, NeighborSet, ReplicaSet, MAX_REPLICAS};
pub use config::{Config, ConfigError};
pub use error::StateError;
pub use guid::{Guid, ParseGuidError};
pub use join::{JoinParts, Merged, Probe};
pub use leafset::{LeafRoot, LeafSet, Sides};
pub use neighborhood::NeighborhoodSet;
pub use node::{Entry, NodeRef, Proximity};
pub use repair::{RepairHint, Side};
pub use route::{Route, Via, RANDOMIZED_CHOICES};
pub use state::{Admission, Forgotten, Learned, NodeState};
pub use table::{Placement, RoutingTable};
pub use word::{Boolean, RingWord, Word};

// The README's code blocks run as doctests of pastry-dht, the crate that depends on every
// crate they use.
