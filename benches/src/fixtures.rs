//! Seeded inputs shared by the benchmarks: rings of N nodes, sample node states taken from them,
//! and key sets that take each path of `route`.
//!
//! Everything is deterministic: the same seed gives the same ring, states and keys on every run.

use std::fmt;

use pastry_kernel::{Config, Guid, LeafSet, NodeRef, NodeState, Route, Via};

/// The host handle the benchmarks use: the node's index in its ring.
pub type Handle = u32;

/// A node reference as the benchmarks hold it.
pub type Node = NodeRef<Handle, Guid>;

/// Keys routed per timed iteration of a `route/*` benchmark.
pub const KEYS_PER_ITER: usize = 4096;

/// Sample nodes taken from each network; each routes `KEYS_PER_ITER / SAMPLES` keys.
pub const SAMPLES: usize = 4;

/// Network sizes of the `route/*` groups.
pub const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// The project's seeded generator.
pub use pastry_kernel::seeded::SplitMix;

/// A network of `n` nodes with uniform random ids, sorted by id, without duplicates; handles are
/// indices into the returned vector. The ids depend only on `n` and `seed`.
#[must_use]
pub fn ring(n: usize, seed: u64) -> Vec<Node> {
    let mut rng = SplitMix::new(seed ^ (n as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut ids: Vec<Guid> = (0..n).map(|_| rng.guid()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| NodeRef::new(id, i as Handle))
        .collect()
}

/// A deterministic proximity figure for a node (a hash of its handle), so the table's choice
/// among several candidates for a slot does not follow the id order.
#[must_use]
pub fn proximity(node: &Node) -> u32 {
    let mut x = u64::from(node.handle).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    (x % 1000) as u32
}

/// Candidates offered per routing-table slot when building states with `from_ring`.
pub const CANDIDATES_PER_SLOT: usize = 2;

/// The state of `ring[index]`, built from global knowledge of the ring.
#[must_use]
pub fn state_of(ring: &[Node], index: usize, config: Config) -> NodeState<Handle> {
    let own = ring[index % ring.len()];
    NodeState::from_ring(config, own, ring, proximity, CANDIDATES_PER_SLOT)
}

/// `count` sample nodes of the ring, spread over it by the seed.
#[must_use]
pub fn sample_indices(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix::new(seed);
    (0..count).map(|_| rng.below(n)).collect()
}

/// The shape of a network: digit width b, leaf-set size L and node count N. Its `Display` is the
/// benchmark parameter, e.g. `b4-L16-N1e5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Bits per digit.
    pub b: u32,
    /// Leaf-set size.
    pub leaf: usize,
    /// Number of nodes.
    pub n: usize,
}

impl Shape {
    /// The kernel configuration: b, L and |M| = 32.
    ///
    /// # Panics
    /// When b or L is out of the kernel's range (the shapes below are all valid).
    #[must_use]
    pub fn config(&self) -> Config {
        Config::new(self.b, self.leaf, 32).expect("valid shape")
    }

    /// The shapes of the `route/*` groups: b = 4 with L = 16 and L = 24 at every N, and
    /// b = 1, 2, 8 with L = 16 at N = 10^5.
    #[must_use]
    pub fn route_shapes() -> Vec<Shape> {
        let mut shapes = Vec::new();
        for n in SIZES {
            for leaf in [16, 24] {
                shapes.push(Shape { b: 4, leaf, n });
            }
        }
        for b in [1, 2, 8] {
            shapes.push(Shape {
                b,
                leaf: 16,
                n: 100_000,
            });
        }
        shapes
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = (self.n as f64).log10().round();
        if 10f64.powf(exp) as usize == self.n {
            write!(f, "b{}-L{}-N1e{}", self.b, self.leaf, exp as u32)
        } else {
            write!(f, "b{}-L{}-N{}", self.b, self.leaf, self.n)
        }
    }
}

/// The key sets of the `route/*` groups: which path of `route` the keys take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySet {
    /// Keys covered by the leaf set (step 1: Deliver or Forward via the leaf set).
    Leaf,
    /// Keys not covered whose routing-table slot is occupied (step 2), spread over every occupied
    /// slot, deep rows included.
    Table,
    /// Keys not covered whose slot is empty, on states whose tables were thinned (step 3).
    Rare,
    /// Uniform random keys, whatever path they take.
    Uniform,
}

impl KeySet {
    /// Every key set.
    pub const ALL: [KeySet; 4] = [KeySet::Leaf, KeySet::Table, KeySet::Rare, KeySet::Uniform];

    /// The group name's second part.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeySet::Leaf => "leaf",
            KeySet::Table => "table",
            KeySet::Rare => "rare",
            KeySet::Uniform => "uniform",
        }
    }

    /// Whether the states of this key set have thinned routing tables.
    #[must_use]
    pub fn thinned(self) -> bool {
        self == KeySet::Rare
    }

    /// Whether `route`'s answer for a key of this set took the set's path.
    #[must_use]
    pub fn took_path(self, route: &Route<Handle>) -> bool {
        match (self, route) {
            (KeySet::Uniform, _) => true,
            (KeySet::Leaf, Route::Deliver) => true,
            (KeySet::Leaf, Route::Forward { via, .. }) => *via == Via::LeafSet,
            (KeySet::Table, Route::Forward { via, .. }) => *via == Via::Table,
            (KeySet::Rare, Route::Forward { via, .. }) => *via == Via::RareCase,
            // Deliver after step 3 (no closer node known): still the rare path.
            (KeySet::Rare, Route::Deliver) => true,
            _ => false,
        }
    }

    /// `count` keys of this set for `state`. Table and rare keys are drawn by rejection and
    /// checked with the leaf set's and table's own queries, not with `route`.
    ///
    /// # Panics
    /// When the state has no key of this kind (an empty table, or no empty slot for `Rare`).
    #[must_use]
    pub fn keys(self, state: &NodeState<Handle>, count: usize, rng: &mut SplitMix) -> Vec<Guid> {
        let leaf = state.leaf_set();
        let table = state.table();
        let own = state.id().get();
        let b = state.config().digit_width().bits();
        match self {
            KeySet::Uniform => (0..count).map(|_| rng.guid()).collect(),
            KeySet::Leaf => {
                let (lo, hi) = covered_arc(leaf);
                let span = hi.wrapping_sub(lo);
                (0..count)
                    .map(|_| Guid::new(lo.wrapping_add(rng.up_to(span))))
                    .collect()
            }
            KeySet::Table => {
                let slots: Vec<(u32, u32)> = table
                    .iter()
                    .map(|(r, c, _)| (u32::from(r.0), u32::from(c.0)))
                    .collect();
                assert!(!slots.is_empty(), "no table entry");
                let mut keys = Vec::with_capacity(count);
                let mut tries = 0usize;
                while keys.len() < count {
                    tries += 1;
                    assert!(tries < count * 1000, "no uncovered table key");
                    let (r, c) = slots[rng.below(slots.len())];
                    let k = Guid::new(with_prefix(own, r, c, b, rng.next_u128()));
                    if !leaf.covers(k) && table.next_hop(k).is_some() {
                        keys.push(k);
                    }
                }
                keys
            }
            KeySet::Rare => {
                let mut keys = Vec::with_capacity(count);
                let mut tries = 0usize;
                while keys.len() < count {
                    tries += 1;
                    assert!(tries < count * 10_000, "no empty slot");
                    let k = rng.guid();
                    if !leaf.covers(k) && table.next_hop(k).is_none() {
                        keys.push(k);
                    }
                }
                keys
            }
        }
    }
}

/// The covered arc of a leaf set as (farthest predecessor, farthest successor), both ends
/// included; the local node alone when a side is empty.
#[must_use]
pub fn covered_arc(leaf: &LeafSet<Handle>) -> (u128, u128) {
    let own = leaf.own().get();
    let lo = leaf.farthest_predecessor().map_or(own, |n| n.id.get());
    let hi = leaf.farthest_successor().map_or(own, |n| n.id.get());
    (lo, hi)
}

/// An id that shares the first `row` digits of `own`, has digit `column` at `row`, and takes
/// its remaining bits from `rest`.
#[must_use]
pub fn with_prefix(own: u128, row: u32, column: u32, b: u32, rest: u128) -> u128 {
    let fixed = row * b + b;
    let low = 128u32.saturating_sub(fixed);
    let low_mask = 1u128.checked_shl(low).map_or(u128::MAX, |p| p - 1);
    let top_mask = !(1u128
        .checked_shl(128 - row * b)
        .map_or(u128::MAX, |p| p - 1));
    let col = u128::from(column).checked_shl(low).unwrap_or(0);
    (own & top_mask) | col | (rest & low_mask)
}

/// Thins a state's routing table for the rare case: forgets every second table entry (in
/// table order) that is not a leaf-set member, and returns the forgotten nodes.
pub fn thin(state: &mut NodeState<Handle>) -> Vec<Node> {
    let victims: Vec<Node> = state
        .table()
        .iter()
        .map(|(_, _, e)| e.node)
        .filter(|n| !state.leaf_set().contains(n.id))
        .step_by(2)
        .collect();
    for n in &victims {
        // Never the local node: table entries exclude it.
        let _ = state.forget(n.id);
    }
    victims
}

/// Every node the state holds (leaf set, routing table, neighborhood set) and the local node,
/// sorted by id without duplicates: the entries the baselines search.
#[must_use]
pub fn entries(state: &NodeState<Handle>) -> Vec<Node> {
    let mut v: Vec<Node> = std::iter::once(*state.own())
        .chain(state.leaf_set().iter().copied())
        .chain(state.table().iter().map(|(_, _, e)| e.node))
        .chain(state.neighborhood().entries().iter().map(|e| e.node))
        .collect();
    v.sort_unstable_by_key(|n| n.id);
    v.dedup_by_key(|n| n.id);
    v
}

/// One sample node of a network with the keys it routes.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The node's state (thinned for [`KeySet::Rare`]).
    pub state: NodeState<Handle>,
    /// The keys routed from this node, `KEYS_PER_ITER / SAMPLES` of them.
    pub keys: Vec<Guid>,
}

/// The samples of one network shape for one key set: `SAMPLES` nodes, `KEYS_PER_ITER` keys in all.
///
/// # Panics
/// When a key does not take the key set's path (a fixture bug).
#[must_use]
pub fn samples(ring: &[Node], shape: Shape, set: KeySet, seed: u64) -> Vec<Sample> {
    let config = shape.config();
    let mut rng = SplitMix::new(seed ^ u64::from(shape.b) << 32 ^ shape.leaf as u64);
    sample_indices(ring.len(), SAMPLES, seed)
        .into_iter()
        .map(|i| {
            let mut state = state_of(ring, i, config);
            if set.thinned() {
                thin(&mut state);
            }
            let keys = set.keys(&state, KEYS_PER_ITER / SAMPLES, &mut rng);
            for k in &keys {
                assert!(set.took_path(&state.route(*k)), "{set:?} key off its path");
            }
            Sample { state, keys }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_prefix_lands_in_its_slot() {
        let mut rng = SplitMix::new(7);
        for b in [1u32, 2, 4, 8] {
            let width = pastry_kernel::arith::DigitWidth::from_bits(b).unwrap();
            let own = rng.guid();
            for row in 0..(128 / b).min(20) {
                let own_digit = own.digit(row, width).unwrap().0 as u32;
                let column = (own_digit + 1) % (1 << b);
                let k = Guid::new(with_prefix(own.get(), row, column, b, rng.next_u128()));
                assert_eq!(k.shl(own, width), row);
                assert_eq!(k.digit(row, width).unwrap().0 as u32, column);
            }
        }
    }

    #[test]
    fn key_sets_take_their_paths() {
        let ring = ring(2_000, 11);
        for shape in [
            Shape {
                b: 4,
                leaf: 16,
                n: 2_000,
            },
            Shape {
                b: 1,
                leaf: 24,
                n: 2_000,
            },
            Shape {
                b: 8,
                leaf: 16,
                n: 2_000,
            },
        ] {
            for set in KeySet::ALL {
                // samples() asserts every key's path.
                let s = samples(&ring, shape, set, 5);
                assert_eq!(s.iter().map(|s| s.keys.len()).sum::<usize>(), KEYS_PER_ITER);
            }
        }
    }

    #[test]
    fn shape_names() {
        let s = Shape {
            b: 4,
            leaf: 16,
            n: 100_000,
        };
        assert_eq!(s.to_string(), "b4-L16-N1e5");
        assert_eq!(
            Shape {
                b: 2,
                leaf: 24,
                n: 1234
            }
            .to_string(),
            "b2-L24-N1234"
        );
    }

    #[test]
    fn rings_are_sorted_and_seeded() {
        let a = ring(500, 3);
        assert!(a.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(a, ring(500, 3));
        assert_ne!(a, ring(500, 4));
    }
}
