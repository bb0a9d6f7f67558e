//! [proptest](mod@proptest) strategies for the kernel's types, so that downstream crates (and the kernel's own
//! tests) can generate ids, configurations, node references and populated states.
//!
//! Uniformly random 128-bit ids almost never share a prefix, never tie and never crowd a leaf
//! set, so the id strategies mix uniform ids with ids *clustered* around a centre: ids sharing a
//! random number of leading bits with it, and its ring neighbours at small offsets (which give
//! exact ties for the key at the centre). Every strategy is generic over [`RingWord`], so the
//! same generators drive narrow `u8`/`u16` rings.
//!
//! ```
//! use pastry_kernel::strategies;
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::deterministic();
//! let state = strategies::node_state::<pastry_kernel::Guid>(strategies::config(), 0..40)
//!     .new_tree(&mut runner)
//!     .unwrap()
//!     .current();
//! assert!(state.leaf_set().len() <= state.config().leaf_set_len());
//! ```

use std::vec::Vec;

use proptest::prelude::*;

use crate::arith::DigitWidth;
use crate::config::Config;
use crate::guid::Guid;
use crate::node::{NodeRef, Proximity};
use crate::state::NodeState;
use crate::word::RingWord;

/// The largest value of a `W`.
fn top<W: RingWord>() -> u128 {
    u128::MAX >> (128 - W::BITS)
}

/// Any id of the ring of `W`: uniform, or one of the edge values 0, 1, 2^(BITS−1) − 1,
/// 2^(BITS−1), 2^BITS − 1.
pub fn word<W: RingWord>() -> BoxedStrategy<W> {
    let half = 1u128 << (W::BITS - 1);
    prop_oneof![
        4 => any::<u128>().prop_map(W::from_u128),
        1 => prop::sample::select(vec![0, 1, half - 1, half, top::<W>()]).prop_map(W::from_u128),
    ]
    .boxed()
}

/// Any [`Guid`]: uniform or an edge value (see [`word`]).
pub fn guid() -> BoxedStrategy<Guid> {
    word::<Guid>()
}

/// An id near `center`: uniform anywhere, sharing a random number of leading bits with it, or
/// at a small ring offset from it.
pub fn near<W: RingWord>(center: W) -> BoxedStrategy<W> {
    let c = center.to_u128();
    prop_oneof![
        1 => any::<u128>().prop_map(W::from_u128),
        3 => (any::<u128>(), 0..W::BITS)
            .prop_map(move |(r, keep)| W::from_u128(c ^ ((r & top::<W>()) >> keep))),
        2 => (-40i64..=40).prop_map(move |d| W::from_u128(c.wrapping_add(d as u128))),
    ]
    .boxed()
}

/// A centre and ids clustered around it ([`near`]), `len` of them.
pub fn clustered<W: RingWord>(len: core::ops::Range<usize>) -> BoxedStrategy<(W, Vec<W>)> {
    word::<W>()
        .prop_flat_map(move |c| (Just(c), prop::collection::vec(near(c), len.clone())))
        .boxed()
}

/// A digit width b ∈ {1, 2, 4, 8}.
pub fn digit_width() -> BoxedStrategy<DigitWidth> {
    prop::sample::select(DigitWidth::ALL.to_vec()).boxed()
}

/// Any valid [`Config`], with small leaf sets (L ≤ 8) and neighborhoods weighted up so that full
/// sides and evictions are common.
pub fn config() -> BoxedStrategy<Config> {
    let small = (digit_width(), 1usize..=4, 0usize..=8);
    let any = (
        digit_width(),
        1usize..=32,
        0usize..=Config::MAX_NEIGHBORHOOD,
    );
    prop_oneof![3 => small, 1 => any]
        .prop_map(|(b, half, m)| Config::new(b.bits(), 2 * half, m).unwrap_or(Config::PAPER))
        .boxed()
}

/// Parameters `(b, L, |M|)` that [`Config::new`] must reject.
pub fn invalid_config_params() -> BoxedStrategy<(u32, usize, usize)> {
    let bad_b = any::<u32>().prop_filter("b must be bad", |b| ![1, 2, 4, 8].contains(b));
    let bad_l =
        any::<usize>().prop_filter("L must be bad", |l| !(2..=64).contains(l) || l % 2 == 1);
    let bad_m = (Config::MAX_NEIGHBORHOOD + 1)..usize::MAX;
    prop_oneof![
        (bad_b, 0usize..100, 0usize..300),
        (Just(4u32), bad_l, 0usize..300),
        (Just(4u32), (1usize..=32).prop_map(|h| 2 * h), bad_m),
    ]
    .boxed()
}

/// A [`NodeRef`] with a [`Guid`] and a handle from `handle`.
pub fn node_ref<H: core::fmt::Debug + Clone + 'static>(
    handle: impl Strategy<Value = H> + 'static,
) -> BoxedStrategy<NodeRef<H>> {
    (guid(), handle)
        .prop_map(|(id, h)| NodeRef::new(id, h))
        .boxed()
}

/// A small proximity figure (0..16), so that ties between candidates are common.
pub fn proximity() -> BoxedStrategy<Proximity> {
    (0u32..16).boxed()
}

/// The state of a node that learned `len` nodes clustered around its own id, each at a random
/// [`proximity`], under a configuration from `config`. The local node has handle `u32::MAX` and
/// the i-th learned node handle `i`.
pub fn node_state<W: RingWord>(
    config: impl Strategy<Value = Config> + 'static,
    len: core::ops::Range<usize>,
) -> BoxedStrategy<NodeState<u32, W>> {
    (config, word::<W>())
        .prop_flat_map(move |(config, own)| {
            let nodes = prop::collection::vec((near(own), proximity()), len.clone());
            (Just(config), Just(own), nodes)
        })
        .prop_map(|(config, own, nodes)| {
            let mut state = NodeState::new(config, NodeRef::new(own, u32::MAX));
            for (i, (id, p)) in nodes.into_iter().enumerate() {
                // Only the local id is refused; the state is then unchanged.
                let _ = state.learn(NodeRef::new(id, i as u32), p);
            }
            state
        })
        .boxed()
}

/// Strategies for the inputs of the [`fuzzing`](crate::fuzzing) properties.
#[cfg(feature = "fuzzing")]
pub mod inputs {
    use super::*;
    use crate::fuzzing::{
        ArithInput, LeafOp, LeafSetInput, NeighborhoodInput, NeighborhoodOp, NetworkInput,
        RouteInput, StateOp, StateOpsInput, TableInput, TableOp,
    };

    /// An [`ArithInput`] whose ids are clustered (shared prefixes, near ties) half the time.
    pub fn arith() -> BoxedStrategy<ArithInput> {
        (word::<u128>(), digit_width())
            .prop_flat_map(|(k, b)| (Just(k), near(k), near(k), near(k), Just(b)))
            .prop_map(|(k, a, x, y, b)| ArithInput { a, k, x, y, b })
            .boxed()
    }

    /// A [`RouteInput`] with up to `max_nodes` nodes clustered around the local id and a key
    /// near it.
    pub fn route<W: RingWord>(max_nodes: usize) -> BoxedStrategy<RouteInput<W>> {
        (config(), word::<W>())
            .prop_flat_map(move |(config, own)| {
                (
                    Just(config),
                    Just(own),
                    prop::collection::vec((near(own), 0u8..16), 0..max_nodes),
                    prop::collection::vec(any::<u8>(), 0..4),
                    near(own),
                )
            })
            .prop_map(|(config, own, nodes, forgets, key)| RouteInput {
                config,
                own,
                nodes,
                forgets,
                key,
            })
            .boxed()
    }

    /// A [`LeafSetInput`] of up to `max_ops` operations around the owner.
    pub fn leaf_set<W: RingWord>(max_ops: usize) -> BoxedStrategy<LeafSetInput<W>> {
        (config(), word::<W>())
            .prop_flat_map(move |(config, own)| {
                let op = prop_oneof![
                    6 => near(own).prop_map(LeafOp::Insert),
                    1 => near(own).prop_map(LeafOp::Remove),
                    2 => any::<u8>().prop_map(LeafOp::RemoveMember),
                ];
                (
                    Just(config),
                    Just(own),
                    prop::collection::vec(op, 0..max_ops),
                    prop::collection::vec(near(own), 0..4),
                )
            })
            .prop_map(|(config, own, ops, keys)| LeafSetInput {
                config,
                own,
                ops,
                keys,
            })
            .boxed()
    }

    /// A [`LeafSetInput`] of inserts only.
    pub fn leaf_set_inserts<W: RingWord>(max_ops: usize) -> BoxedStrategy<LeafSetInput<W>> {
        (
            config(),
            clustered::<W>(0..max_ops),
            prop::collection::vec(word::<W>(), 0..4),
        )
            .prop_map(|(config, (own, ids), keys)| LeafSetInput {
                config,
                own,
                ops: ids.into_iter().map(LeafOp::Insert).collect(),
                keys,
            })
            .boxed()
    }

    /// A [`TableInput`] of up to `max_ops` operations around the owner.
    pub fn table<W: RingWord>(max_ops: usize) -> BoxedStrategy<TableInput<W>> {
        (word::<W>(), digit_width())
            .prop_flat_map(move |(own, b)| {
                let op = prop_oneof![
                    6 => (near(own), 0u8..6).prop_map(|(id, p)| TableOp::Offer(id, p)),
                    1 => near(own).prop_map(TableOp::Remove),
                    1 => any::<u8>().prop_map(TableOp::RemoveEntry),
                ];
                (Just(own), Just(b), prop::collection::vec(op, 0..max_ops))
            })
            .prop_map(|(own, b, ops)| TableInput { own, b, ops })
            .boxed()
    }

    /// A [`NeighborhoodInput`]; with `removals` false, only offers of distinct ids.
    pub fn neighborhood<W: RingWord>(
        max_ops: usize,
        removals: bool,
    ) -> BoxedStrategy<NeighborhoodInput<W>> {
        (word::<W>(), 0u8..12)
            .prop_flat_map(move |(own, capacity)| {
                let op = prop_oneof![
                    4 => (near(own), 0u8..8).prop_map(|(id, p)| NeighborhoodOp::Offer(id, p)),
                    1 => near(own).prop_map(NeighborhoodOp::Remove),
                ];
                (
                    Just(own),
                    Just(capacity),
                    prop::collection::vec(op, 0..max_ops),
                )
            })
            .prop_map(move |(own, capacity, mut ops)| {
                if !removals {
                    let mut seen = std::collections::BTreeSet::new();
                    ops.retain(|op| match op {
                        NeighborhoodOp::Offer(id, _) => seen.insert(*id),
                        NeighborhoodOp::Remove(_) => false,
                    });
                }
                NeighborhoodInput { own, capacity, ops }
            })
            .boxed()
    }

    /// A [`StateOpsInput`] of up to `max_ops` learns, forgets and routes around the local id.
    pub fn state_ops<W: RingWord>(max_ops: usize) -> BoxedStrategy<StateOpsInput<W>> {
        (config(), word::<W>())
            .prop_flat_map(move |(config, own)| {
                let op = prop_oneof![
                    8 => (near(own), 0u8..16).prop_map(|(id, p)| StateOp::Learn(id, p)),
                    1 => near(own).prop_map(StateOp::Forget),
                    2 => any::<u8>().prop_map(StateOp::ForgetKnown),
                    3 => near(own).prop_map(StateOp::Route),
                ];
                (
                    Just(config),
                    Just(own),
                    prop::collection::vec(op, 0..max_ops),
                )
            })
            .prop_map(|(config, own, ops)| StateOpsInput { config, own, ops })
            .boxed()
    }

    /// A [`NetworkInput`] of up to `max_nodes` clustered nodes and some lookups.
    pub fn network<W: RingWord>(max_nodes: usize) -> BoxedStrategy<NetworkInput<W>> {
        (config(), clustered::<W>(1..max_nodes))
            .prop_flat_map(|(config, (center, ids))| {
                let lookups = prop::collection::vec((any::<u16>(), near(center)), 1..8);
                (Just(config), Just(ids), lookups)
            })
            .prop_map(|(config, ids, lookups)| NetworkInput {
                config,
                ids,
                lookups,
            })
            .boxed()
    }
}

/// The proptest settings of every property test in the project: a fixed seed (runs are
/// reproducible and failures replayable), `cases` cases, and failing cases persisted in
/// `regressions`, a path relative to the crate root where `cargo test` runs the tests (under
/// the crate's `proptest-regressions/`, committed).
///
/// For a deeper search, `PROPTEST_CASES` replaces the number of cases and `PROPTEST_RNG_SEED`
/// the seed (e.g. `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test --release`).
///
/// ```
/// use pastry_kernel::strategies::seeded_config;
///
/// let config = seeded_config(64, "proptest-regressions/example.txt");
/// assert!(config.cases >= 1);
/// ```
#[must_use]
pub fn seeded_config(cases: u32, regressions: &'static str) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(cases),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5eed_2001)),
        failure_persistence: Some(alloc::boxed::Box::new(FileFailurePersistence::Direct(
            regressions,
        ))),
        ..Config::default()
    }
}
