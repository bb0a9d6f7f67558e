//! The kernel's properties, written once and shared by the property tests, the fuzz targets and
//! the proofs ("one property, three uses").
//!
//! Every `check_*` function takes an input (most are `#[derive(Arbitrary)]` structs, so a
//! cargo-fuzz target is a one-line shim over them; the `strategies` module builds the same inputs
//! for proptest), runs the kernel on it and **panics with a message naming the broken law** when
//! the kernel disagrees with a reference. The references here are deliberately slow and obvious:
//!
//! * [`reference`](mod@reference): digit, shl, cw, dist, closer, covered and root as
//!   docs/design.md defines them,
//!   written bit by bit or by brute force with plain integer arithmetic, independent of
//!   [`crate::arith`];
//! * [`paper_route`]: route(k) transcribed line by line from Table 1 of the Pastry paper, the
//!   lines quoted in comments, made total and deterministic exactly as docs/design.md, *Route*,
//!   says;
//! * [`claims`]: the laws of the ring and prefix arithmetic, each written once over any
//!   [`Word`](crate::Word) and an [`Arith`](claims::Arith) (the kernel's or a planted-bug
//!   variant), returning the law's truth value; the Z3 proofs prove the same functions;
//! * [`laws`]: one function per law that evaluates its claim on machine words and panics with
//!   the law's name when it is false, plus the comparisons with the reference;
//! * brute-force models of the leaf set, routing table and neighborhood set that are replayed
//!   beside the kernel's structures ([`check_leaf_set_ops`], [`check_table_ops`],
//!   [`check_neighborhood_ops`], [`check_state_ops`]);
//! * [`Network`]: a whole network of states built from global knowledge, routed hop by hop and
//!   checked against the brute-force root.
//!
//! Everything is generic over [`RingWord`](crate::RingWord), so the same property runs on [`Guid`](crate::Guid) and on `u8` or
//! `u16` rings, where small id spaces make collisions, ties and whole-ring leaf sets common.
//!
//! | property | input | what it holds the kernel to |
//! |---|---|---|
//! | [`check_arith`] | [`ArithInput`] | [`laws`] and the reference, on every word width |
//! | [`check_route`] | [`RouteInput`] | [`check_route_at`]: route = [`paper_route`], covered root, progress, Deliver rules, replica set |
//! | [`check_leaf_set_ops`] | [`LeafSetInput`] | leaf-set model, true leaf set, covers/root |
//! | [`check_table_ops`] | [`TableInput`] | table model, placements, slot correctness |
//! | [`check_neighborhood_ops`] | [`NeighborhoodInput`] | neighborhood model, the nearest by proximity kept |
//! | [`check_state_ops`] | [`StateOpsInput`] | all three models, own-id rejections, routes |
//! | [`check_network`] | [`NetworkInput`] | routes end at the brute-force root within BITS/b + 1 hops |
//! | [`check_join_merge_ops`] | [`JoinMergeInput`] | join and the four merges = learning their candidates; models, true leaf set |
//! | [`check_state_sequence`] | [`StateSequence`] | [`check_state_ops`] or [`check_join_merge_ops`] (the `state_ops` fuzz target) |
//! | [`check_decode`] | `&[u8]` | the codec: typed errors, invariants, canonical re-encoding |
//! | [`check_roundtrip`] | [`RoundtripInput`] | the codec: decode(encode(state)) = state, exact lengths, short buffers refused |
//! | [`check_config_new`] | [`ConfigInput`] | `Config::new` accepts exactly the design's ranges |
//! | [`check_guid_parse`] | `&str` | typed parse errors, lowercase round trip |
//!
//! A fuzz target is the property applied to its input, e.g. for a 16-bit ring
//! `fuzz_target!(|input: RouteInput<u16>| check_route(&input));`. Each input type is generic
//! over the id word with [`Guid`](crate::Guid) as the default.
//!
//! ```
//! use pastry_kernel::fuzzing::{check_route, RouteInput};
//! use pastry_kernel::Config;
//!
//! // What a fuzz target does with its input: build the state, route, compare with references.
//! check_route(&RouteInput::<u16> {
//!     config: Config::PAPER,
//!     own: 0x1234,
//!     nodes: vec![(0x1200, 3), (0x8000, 1), (0x1299, 3), (0x1234, 0)],
//!     forgets: vec![2],
//!     key: 0x12a0,
//! });
//! ```
//!
//! # Layout
//! One file per kind of property, everything re-exported here:
//!
//! | file | what |
//! |---|---|
//! | `reference.rs` | [`reference`](mod@reference): the slow, obvious definitions |
//! | `claims.rs` | [`claims`]: each law of the arithmetic once, generic over [`Word`](crate::Word), shared with the proofs (feature `laws`) |
//! | `laws.rs` | [`laws`]: the claims asserted on machine words, with the reference comparisons |
//! | `arith.rs` | [`check_arith`]: the arithmetic against the reference and the laws |
//! | `paper.rs` | [`paper_route`]: the paper's Table 1 |
//! | `route.rs` | the route properties of one state ([`check_route_at`], [`check_route`]) |
//! | `models.rs` | brute-force models of the three structures and their properties |
//! | `state_ops.rs` | learn, forget and route against the models ([`check_state_ops`]) |
//! | `join_merge.rs` | join and the merges against the models ([`check_join_merge_ops`]) |
//! | `network.rs` | whole networks routed hop by hop ([`Network`], [`check_network`]) |
//! | `rejected.rs` | input rejected with typed errors ([`check_config_new`], [`check_guid_parse`]) |
//! | `codec.rs` | the codec's properties ([`check_decode`], [`check_roundtrip`]) |
//! | `seeds.rs` | the names of the committed fuzz seeds ([`seed_names`]) |

// The links above name items that exist only with `fuzzing`.
#![cfg_attr(not(feature = "fuzzing"), allow(rustdoc::broken_intra_doc_links))]
// The properties report violations by panicking; that is their whole purpose.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

// With the feature `laws` alone (the proofs crate), only the claims; everything else needs
// `fuzzing`.
#[cfg(feature = "fuzzing")]
mod arith;
pub mod claims;
#[cfg(feature = "fuzzing")]
mod codec;
#[cfg(feature = "fuzzing")]
mod join_merge;
#[cfg(feature = "fuzzing")]
pub mod laws;
#[cfg(feature = "fuzzing")]
mod models;
#[cfg(feature = "fuzzing")]
mod network;
#[cfg(feature = "fuzzing")]
mod paper;
#[cfg(feature = "fuzzing")]
pub mod reference;
#[cfg(feature = "fuzzing")]
mod rejected;
#[cfg(feature = "fuzzing")]
mod route;
#[cfg(feature = "fuzzing")]
mod seeds;
#[cfg(feature = "fuzzing")]
mod state_ops;

#[cfg(feature = "fuzzing")]
pub use arith::{check_arith, check_arith_on, ArithInput};
#[cfg(feature = "fuzzing")]
pub use codec::{
    check_decode, check_decode_as, check_roundtrip, check_state_roundtrip, RoundtripInput,
    RoundtripStep,
};
#[cfg(feature = "fuzzing")]
pub use join_merge::{
    check_join_merge_ops, check_state_sequence, join_merge_figure, JoinMergeInput, JoinMergeOp,
    StateSequence,
};
#[cfg(feature = "fuzzing")]
pub use models::{
    check_leaf_set_ops, check_leaf_set_sides, check_neighborhood_keeps_the_nearest,
    check_neighborhood_ops, check_table_ops, check_table_slots, LeafOp, LeafSetInput,
    NeighborhoodInput, NeighborhoodOp, TableInput, TableOp,
};
#[cfg(feature = "fuzzing")]
pub use network::{check_network, Network, NetworkInput, Trace};
#[cfg(feature = "fuzzing")]
pub use paper::paper_route;
#[cfg(feature = "fuzzing")]
pub use rejected::{check_config_new, check_guid_parse, ConfigInput};
#[cfg(feature = "fuzzing")]
pub use route::{
    check_replica_set, check_route, check_route_at, check_route_delivers_only_when_allowed,
    check_route_finds_covered_root, check_route_makes_progress, check_route_matches_paper,
    known_nodes, leaf_root, RouteInput,
};
#[cfg(feature = "fuzzing")]
pub use seeds::{committed_seeds, seed_names, SEED_SHAPES, SEED_TARGETS};
#[cfg(feature = "fuzzing")]
pub use state_ops::{check_state_ops, StateOp, StateOpsInput};

/// The `arbitrary` crate the inputs derive `Arbitrary` from, for harnesses that decode fuzz
/// inputs (seed corpora, artifacts) with the same version.
#[cfg(feature = "fuzzing")]
pub use arbitrary;
