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
//! * [`laws`]: the algebraic laws of the ring and prefix arithmetic, one function per law;
//! * brute-force models of the leaf set, routing table and neighborhood set that are replayed
//!   beside the kernel's structures ([`check_leaf_set_ops`], [`check_table_ops`],
//!   [`check_neighborhood_ops`], [`check_state_ops`]);
//! * [`Network`]: a whole network of states built from global knowledge, routed hop by hop and
//!   checked against the brute-force root.
//!
//! Everything is generic over [`RingWord`], so the same property runs on [`Guid`] and on `u8` or
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
//! | [`check_roundtrip`] | [`RoundtripInput`] | the codec: decode(encode(state)) = state |
//! | [`check_config_new`] | [`ConfigInput`] | `Config::new` accepts exactly the design's ranges |
//! | [`check_guid_parse`] | `&str` | typed parse errors, lowercase round trip |
//!
//! A fuzz target is the property applied to its input, e.g. for a 16-bit ring
//! `fuzz_target!(|input: RouteInput<u16>| check_route(&input));`. Each input type is generic
//! over the id word with [`Guid`] as the default.
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
// The properties report violations by panicking; that is their whole purpose.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::cmp::Reverse;
use core::fmt::Debug;
use std::collections::BTreeMap;
use std::vec::Vec;

use crate::arith::{self, Column, Digit, DigitWidth, Row};
use crate::config::{Config, ConfigError};
use crate::error::StateError;
use crate::guid::Guid;
use crate::leafset::{LeafRoot, LeafSet};
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef, Proximity};
use crate::route::{Route, Via};
use crate::state::NodeState;
use crate::table::{Placement, RoutingTable};
use crate::word::RingWord;

// ---------------------------------------------------------------------------------------------
// Reference definitions
// ---------------------------------------------------------------------------------------------

/// The definitions of docs/design.md written the slow, obvious way, as the oracle for
/// [`crate::arith`] and the routing structures.
///
/// Ids are read through [`RingWord::to_u128`]; nothing here calls the kernel's arithmetic.
pub mod reference {
    use super::*;

    /// 2^BITS − 1, the largest id of the ring of `W`.
    #[must_use]
    pub fn max<W: RingWord>() -> u128 {
        u128::MAX >> (128 - W::BITS)
    }

    /// Bit number `i` of `a`, counting from the most significant bit (bit 0).
    #[must_use]
    pub fn bit<W: RingWord>(a: W, i: u32) -> u32 {
        assert!(i < W::BITS, "bit index {i} past the word");
        u32::from((a.to_u128() >> (W::BITS - 1 - i)) & 1 == 1)
    }

    /// **digit(a, row)**: the `b` bits of digit number `row` (digit 0 is the most significant),
    /// read one bit at a time; `None` past the last digit.
    #[must_use]
    pub fn digit<W: RingWord>(a: W, row: u32, b: DigitWidth) -> Option<u32> {
        let bits = b.bits();
        if row >= W::BITS / bits {
            return None;
        }
        let mut value = 0;
        for i in 0..bits {
            value = 2 * value + bit(a, row * bits + i);
        }
        Some(value)
    }

    /// **shl(a, k)**: the number of leading digits that `a` and `k` share, counted digit by digit.
    #[must_use]
    pub fn shl<W: RingWord>(a: W, k: W, b: DigitWidth) -> u32 {
        let mut n = 0;
        while n < W::BITS / b.bits() && digit(a, n, b) == digit(k, n, b) {
            n += 1;
        }
        n
    }

    /// **cw(a, k)** = (k − a) mod 2^BITS, by cases instead of wrapping arithmetic.
    #[must_use]
    pub fn cw<W: RingWord>(a: W, k: W) -> u128 {
        let (a, k) = (a.to_u128(), k.to_u128());
        if k >= a {
            k - a
        } else {
            // Go from a up to the top of the ring, wrap to 0, go on up to k.
            (max::<W>() - a) + 1 + k
        }
    }

    /// **dist(a, k)** = min(cw(a, k), cw(k, a)).
    #[must_use]
    pub fn dist<W: RingWord>(a: W, k: W) -> u128 {
        cw(a, k).min(cw(k, a))
    }

    /// **closer(k, x, y)**, word for word: dist(x, k) < dist(y, k), or the distances are equal,
    /// x ≠ y and x is the clockwise one (x = k + d).
    #[must_use]
    pub fn closer<W: RingWord>(k: W, x: W, y: W) -> bool {
        let (dx, dy) = (dist(x, k), dist(y, k));
        dx < dy || (dx == dy && x != y && cw(k, x) == dx)
    }

    /// A sort key for nearness to `k`, a second formulation of [`closer`]: the distance, then
    /// `false` for the clockwise side before `true` for the counter-clockwise side. Sorting by it
    /// puts the root of `k` first.
    #[must_use]
    pub fn nearness<W: RingWord>(k: W, x: W) -> (u128, bool) {
        let d = dist(x, k);
        (d, cw(k, x) != d)
    }

    /// The **root** of `k` among `ids` by brute force: the id with the smallest [`nearness`].
    /// `None` for an empty set.
    pub fn root<W: RingWord>(k: W, ids: impl IntoIterator<Item = W>) -> Option<W> {
        ids.into_iter().min_by_key(|&x| nearness(k, x))
    }

    /// Whether a leaf set **knows the whole ring**: both sides empty, or a node on both sides
    /// (the reading documented on [`LeafSet`]).
    #[must_use]
    pub fn knows_whole_ring<H: Copy, W: RingWord>(leaf: &LeafSet<H, W>) -> bool {
        let (succ, pred) = (leaf.successors(), leaf.predecessors());
        (succ.is_empty() && pred.is_empty())
            || pred.iter().any(|p| succ.iter().any(|s| s.id == p.id))
    }

    /// Whether `key` is **covered** by `leaf`: on the arc from the farthest predecessor clockwise
    /// through the owner to the farthest successor, both ends included (a missing side ends the
    /// arc at the owner), or anywhere when the leaf set knows the whole ring.
    #[must_use]
    pub fn covered<H: Copy, W: RingWord>(leaf: &LeafSet<H, W>, key: W) -> bool {
        if knows_whole_ring(leaf) {
            return true;
        }
        let own = leaf.own();
        let low = leaf.predecessors().last().map_or(own, |n| n.id);
        let high = leaf.successors().last().map_or(own, |n| n.id);
        // The arc's length; an arc of 2^BITS or more wraps onto itself and covers every id.
        match cw(low, own).checked_add(cw(own, high)) {
            Some(span) if span <= max::<W>() => cw(low, key) <= span,
            _ => true,
        }
    }

    /// The true leaf set of `own` among `live` (duplicates and `own` ignored): the `half`
    /// nearest clockwise, nearest first, and the `half` nearest counter-clockwise.
    #[must_use]
    pub fn true_leaf_set<W: RingWord>(own: W, live: &[W], half: usize) -> (Vec<W>, Vec<W>) {
        let mut others: Vec<W> = live.iter().copied().filter(|&x| x != own).collect();
        others.sort();
        others.dedup();
        let mut succ = others.clone();
        succ.sort_by_key(|&x| cw(own, x));
        succ.truncate(half);
        let mut pred = others;
        pred.sort_by_key(|&x| cw(x, own));
        pred.truncate(half);
        (succ, pred)
    }

    /// The routing-table slot `(row, column)` of `node` in the table of `own`, or `None` for
    /// `own` itself.
    #[must_use]
    pub fn slot<W: RingWord>(own: W, node: W, b: DigitWidth) -> Option<(u32, u32)> {
        let row = shl(own, node, b);
        digit(node, row, b).map(|column| (row, column))
    }

    /// Step 3's order on candidates, as a sort key: longer shared prefix with `k` first, then
    /// nearer to `k`.
    #[must_use]
    pub fn rare_case_rank<W: RingWord>(k: W, t: W, b: DigitWidth) -> (Reverse<u32>, (u128, bool)) {
        (Reverse(shl(t, k, b)), nearness(k, t))
    }
}

use reference as r;

// ---------------------------------------------------------------------------------------------
// Laws of the arithmetic
// ---------------------------------------------------------------------------------------------

/// The algebraic laws of the ring and prefix arithmetic (docs/design.md), one function per law,
/// each generic over the word and panicking with the law's name when [`crate::arith`] breaks it.
///
/// The property tests call them on [`Guid`] (proptest) and on every word width (quickcheck).
pub mod laws {
    use super::*;

    fn dist<W: RingWord>(a: W, k: W) -> u128 {
        arith::dist(&a, &k).to_u128()
    }
    fn cw<W: RingWord>(a: W, k: W) -> u128 {
        arith::cw(&a, &k).to_u128()
    }
    fn shl<W: RingWord>(a: W, k: W, b: DigitWidth) -> u32 {
        arith::shl_len(a, k, b)
    }
    fn closer<W: RingWord>(k: W, x: W, y: W) -> bool {
        arith::closer(&k, &x, &y)
    }

    /// **Identity**: dist(a, a) = 0, cw(a, a) = 0, and dist(a, k) = 0 only for k = a.
    pub fn ring_distance_identity<W: RingWord>(a: W, k: W) {
        assert_eq!(dist(a, a), 0, "identity: dist({a:?}, itself) is not 0");
        assert_eq!(cw(a, a), 0, "identity: cw({a:?}, itself) is not 0");
        assert_eq!(
            dist(a, k) == 0,
            a == k,
            "identity: dist({a:?}, {k:?}) = 0 must mean equal ids"
        );
    }

    /// **Symmetry**: dist(a, k) = dist(k, a), and cw(a, k) + cw(k, a) ≡ 0 (mod 2^BITS).
    pub fn ring_distance_symmetry<W: RingWord>(a: W, k: W) {
        assert_eq!(dist(a, k), dist(k, a), "symmetry: dist({a:?}, {k:?})");
        assert_eq!(
            W::from_u128(cw(a, k).wrapping_add(cw(k, a))),
            W::from_u128(0),
            "cw({a:?}, {k:?}) + cw({k:?}, {a:?}) is not a multiple of 2^BITS"
        );
    }

    /// **Bound**: dist(a, k) ≤ 2^(BITS − 1), and dist is the smaller of the two directions.
    pub fn ring_distance_bounded<W: RingWord>(a: W, k: W) {
        let half = 1u128 << (W::BITS - 1);
        let d = dist(a, k);
        assert!(d <= half, "bound: dist({a:?}, {k:?}) = {d:#x} > 2^(BITS-1)");
        assert_eq!(
            d,
            cw(a, k).min(cw(k, a)),
            "dist({a:?}, {k:?}) is not min(cw)"
        );
    }

    /// **Triangle inequality**: dist(a, x) ≤ dist(a, k) + dist(k, x).
    pub fn ring_distance_triangle<W: RingWord>(a: W, k: W, x: W) {
        let direct = dist(a, x);
        // Each term is at most 2^127, so the sum only overflows past every distance.
        if let Some(via) = dist(a, k).checked_add(dist(k, x)) {
            assert!(
                direct <= via,
                "triangle: dist({a:?}, {x:?}) > dist via {k:?}"
            );
        }
    }

    /// **Wraparound at 0 / 2^BITS**: cw(a, a + d) = d for every d, in particular across 0;
    /// cw(2^BITS − 1, 0) = 1; dist(a, a + 2^(BITS−1)) = 2^(BITS−1).
    pub fn ring_wraparound<W: RingWord>(a: W, d: W) {
        let k = a.wrapping_add(&d);
        assert_eq!(
            cw(a, k),
            d.to_u128(),
            "wraparound: cw({a:?}, {a:?} + {d:?})"
        );
        assert_eq!(cw(k, a), r::cw(k, a), "wraparound: cw({k:?}, {a:?})");
        let top = W::from_u128(r::max::<W>());
        let zero = W::from_u128(0);
        assert_eq!(cw(top, zero), 1, "wraparound: cw(2^BITS - 1, 0) is not 1");
        assert_eq!(
            dist(top, zero),
            1,
            "wraparound: dist(2^BITS - 1, 0) is not 1"
        );
        assert_eq!(
            cw(zero, top),
            r::max::<W>(),
            "wraparound: cw(0, 2^BITS - 1)"
        );
        let half = 1u128 << (W::BITS - 1);
        let opposite = a.wrapping_add(&W::from_u128(half));
        assert_eq!(dist(a, opposite), half, "wraparound: the opposite point");
    }

    /// **Translation invariance**: cw(a + t, k + t) = cw(a, k) and dist likewise.
    pub fn ring_translation<W: RingWord>(a: W, k: W, t: W) {
        let (at, kt) = (a.wrapping_add(&t), k.wrapping_add(&t));
        assert_eq!(
            cw(at, kt),
            cw(a, k),
            "translation: cw({a:?}, {k:?}) by {t:?}"
        );
        assert_eq!(dist(at, kt), dist(a, k), "translation: dist by {t:?}");
    }

    /// **Identity**: shl(a, a) = BITS / b, the number of digits.
    pub fn shl_identity<W: RingWord>(a: W, b: DigitWidth) {
        assert_eq!(
            shl(a, a, b),
            b.digits::<W>(),
            "identity: shl({a:?}, itself)"
        );
    }

    /// **Symmetry**: shl(a, k) = shl(k, a).
    pub fn shl_symmetry<W: RingWord>(a: W, k: W, b: DigitWidth) {
        assert_eq!(shl(a, k, b), shl(k, a, b), "symmetry: shl({a:?}, {k:?})");
    }

    /// **Ultrametric inequality**: shl(a, x) ≥ min(shl(a, k), shl(k, x)).
    pub fn shl_ultrametric<W: RingWord>(a: W, k: W, x: W, b: DigitWidth) {
        let bound = shl(a, k, b).min(shl(k, x, b));
        assert!(
            shl(a, x, b) >= bound,
            "ultrametric: shl({a:?}, {x:?}) < min(shl via {k:?}) = {bound}"
        );
    }

    /// **Digit-by-digit definition**: shl(a, k) is the number of equal leading digits (read bit
    /// by bit), `digit` agrees with the reference on every row, and the first differing digit
    /// differs.
    pub fn shl_agrees_with_digits<W: RingWord>(a: W, k: W, b: DigitWidth) {
        let n = shl(a, k, b);
        assert_eq!(
            n,
            r::shl(a, k, b),
            "digit-by-digit: shl({a:?}, {k:?}) with {b:?}"
        );
        for row in 0..b.digits::<W>() {
            let want = r::digit(a, row, b);
            let got = arith::digit_at(a, row, b).map(|d| u32::from(d.0));
            assert_eq!(got, want, "digit({a:?}, {row}) with {b:?}");
            let word = arith::digit(&a, &W::from_u128(u128::from(row)), b).to_u128();
            assert_eq!(Some(word as u32), want, "generic digit({a:?}, {row})");
            if row < n {
                assert_eq!(
                    r::digit(a, row, b),
                    r::digit(k, row, b),
                    "shared digit {row}"
                );
            }
        }
        if n < b.digits::<W>() {
            assert_ne!(
                r::digit(a, n, b),
                r::digit(k, n, b),
                "digit {n} should differ"
            );
        }
        assert_eq!(
            arith::digit_at(a, b.digits::<W>(), b),
            None,
            "digit past the end"
        );
    }

    /// **Irreflexive**: closer(k, x, x) is false.
    pub fn closer_irreflexive<W: RingWord>(k: W, x: W) {
        assert!(!closer(k, x, x), "irreflexive: closer({k:?}, {x:?}, {x:?})");
    }

    /// **Asymmetric**: closer(k, x, y) and closer(k, y, x) are never both true.
    pub fn closer_asymmetric<W: RingWord>(k: W, x: W, y: W) {
        assert!(
            !(closer(k, x, y) && closer(k, y, x)),
            "asymmetric: {x:?} and {y:?} are each closer to {k:?}"
        );
    }

    /// **Transitive**: closer(k, x, y) and closer(k, y, z) imply closer(k, x, z).
    pub fn closer_transitive<W: RingWord>(k: W, x: W, y: W, z: W) {
        if closer(k, x, y) && closer(k, y, z) {
            assert!(
                closer(k, x, z),
                "transitive: {x:?} < {y:?} < {z:?} but not {x:?} < {z:?} for {k:?}"
            );
        }
    }

    /// **Total**: for x ≠ y exactly one of closer(k, x, y), closer(k, y, x) holds, and it is the
    /// one the reference says.
    pub fn closer_is_total<W: RingWord>(k: W, x: W, y: W) {
        let (xy, yx) = (closer(k, x, y), closer(k, y, x));
        if x != y {
            assert!(xy != yx, "total: {x:?}, {y:?} not ordered for {k:?}");
        }
        assert_eq!(
            xy,
            r::closer(k, x, y),
            "closer({k:?}, {x:?}, {y:?}) vs definition"
        );
        assert_eq!(
            xy,
            x != y && r::nearness(k, x) < r::nearness(k, y),
            "closer({k:?}, {x:?}, {y:?}) vs nearness"
        );
    }

    /// **Ties go clockwise**: k + d and k − d are equally far from k, and for d ∉ {0, 2^(BITS−1)}
    /// the one at clockwise distance dist (k + d for d < 2^(BITS−1), else k − d) is closer.
    pub fn closer_ties_go_clockwise<W: RingWord>(k: W, d: W) {
        let (mut plus, mut minus) = (k.wrapping_add(&d), k.wrapping_sub(&d));
        assert_eq!(
            dist(plus, k),
            dist(minus, k),
            "k ± {d:?} not equally far from {k:?}"
        );
        if d.to_u128() > 1u128 << (W::BITS - 1) {
            // k + d is then k − (2^BITS − d): the counter-clockwise one.
            core::mem::swap(&mut plus, &mut minus);
        }
        if plus != minus {
            assert!(
                closer(k, plus, minus),
                "tie: {plus:?} should beat {minus:?} for {k:?}"
            );
            assert!(
                !closer(k, minus, plus),
                "tie: {minus:?} beats {plus:?} for {k:?}"
            );
        }
    }

    /// **Exactly one root**: a non-empty set has exactly one member that is closer to `k` than
    /// every other member, and it is the brute-force [`reference::root`].
    pub fn closer_has_one_root<W: RingWord>(k: W, ids: &[W]) {
        let mut set = ids.to_vec();
        set.sort();
        set.dedup();
        let roots: Vec<W> = set
            .iter()
            .copied()
            .filter(|&x| set.iter().all(|&y| y == x || closer(k, x, y)))
            .collect();
        if set.is_empty() {
            assert!(roots.is_empty());
        } else {
            assert_eq!(
                roots.len(),
                1,
                "one root: {roots:?} for {k:?} among {set:?}"
            );
            assert_eq!(
                roots.first().copied(),
                r::root(k, set.iter().copied()),
                "root of {k:?}"
            );
        }
    }

    /// **Progress** is a strict order too: makes_progress(k, a, a) is false and
    /// makes_progress(k, a, t) agrees with "longer prefix, or as long and closer".
    pub fn progress_is_strict<W: RingWord>(k: W, a: W, t: W, b: DigitWidth) {
        let want = r::shl(t, k, b) > r::shl(a, k, b)
            || (r::shl(t, k, b) == r::shl(a, k, b) && r::closer(k, t, a));
        assert_eq!(
            arith::makes_progress(&k, &a, &t, b),
            want,
            "makes_progress({k:?}, {a:?}, {t:?})"
        );
        assert!(!arith::makes_progress(&k, &a, &a, b), "progress to oneself");
        let admissible = r::shl(t, k, b) >= r::shl(a, k, b) && r::closer(k, t, a);
        assert_eq!(
            arith::rare_case_admissible(&k, &a, &t, b),
            admissible,
            "rare_case_admissible({k:?}, {a:?}, {t:?})"
        );
    }

    /// **Arcs**: in_arc(s, e, k) holds exactly when cw(s, k) ≤ cw(s, e), so both ends are on the
    /// arc and an arc from a point to itself holds only that point.
    pub fn in_arc_matches_definition<W: RingWord>(s: W, e: W, k: W) {
        assert_eq!(
            arith::in_arc(&s, &e, &k),
            r::cw(s, k) <= r::cw(s, e),
            "in_arc({s:?}, {e:?}, {k:?})"
        );
        assert!(
            arith::in_arc(&s, &e, &s) && arith::in_arc(&s, &e, &e),
            "arc ends"
        );
        assert_eq!(arith::in_arc(&s, &s, &k), k == s, "degenerate arc");
    }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic against the reference
// ---------------------------------------------------------------------------------------------

/// Input of [`check_arith`]: four ids (truncated to each word width) and a digit width.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct ArithInput {
    /// A node id.
    pub a: u128,
    /// A key.
    pub k: u128,
    /// A second node.
    pub x: u128,
    /// A third node.
    pub y: u128,
    /// Bits per digit.
    pub b: DigitWidth,
}

/// Every arithmetic law and the reference comparison, on every word width (`u8` to `u128` and
/// [`Guid`]) for the input's ids truncated to that width.
pub fn check_arith(input: &ArithInput) {
    check_arith_on::<u8>(input);
    check_arith_on::<u16>(input);
    check_arith_on::<u32>(input);
    check_arith_on::<u64>(input);
    check_arith_on::<u128>(input);
    check_arith_on::<Guid>(input);
}

/// [`check_arith`] on one word width.
pub fn check_arith_on<W: RingWord>(input: &ArithInput) {
    let [a, k, x, y] = [input.a, input.k, input.x, input.y].map(W::from_u128);
    let b = input.b;
    // The fast definitions against the slow ones.
    assert_eq!(arith::cw(&a, &k).to_u128(), r::cw(a, k), "cw({a:?}, {k:?})");
    assert_eq!(
        arith::dist(&a, &k).to_u128(),
        r::dist(a, k),
        "dist({a:?}, {k:?})"
    );
    assert_eq!(
        arith::closer(&k, &x, &y),
        r::closer(k, x, y),
        "closer({k:?}, {x:?}, {y:?})"
    );
    assert_eq!(
        arith::slot_of(a, x, b).map(|(row, c)| (u32::from(row.0), u32::from(c.0))),
        r::slot(a, x, b),
        "slot_of({a:?}, {x:?})"
    );
    // The laws.
    laws::ring_distance_identity(a, k);
    laws::ring_distance_symmetry(a, k);
    laws::ring_distance_bounded(a, k);
    laws::ring_distance_triangle(a, k, x);
    laws::ring_wraparound(a, k);
    laws::ring_translation(a, k, x);
    laws::shl_identity(a, b);
    laws::shl_symmetry(a, k, b);
    laws::shl_ultrametric(a, k, x, b);
    laws::shl_agrees_with_digits(a, k, b);
    laws::closer_irreflexive(k, x);
    laws::closer_asymmetric(k, x, y);
    laws::closer_transitive(k, x, y, a);
    laws::closer_is_total(k, x, y);
    laws::closer_ties_go_clockwise(k, x);
    laws::closer_has_one_root(k, &[a, x, y, k.wrapping_add(&x), k.wrapping_sub(&x)]);
    laws::progress_is_strict(k, a, x, b);
    laws::in_arc_matches_definition(a, x, k);
}

// ---------------------------------------------------------------------------------------------
// The paper's route
// ---------------------------------------------------------------------------------------------

/// route(D) at node A transcribed line by line from Table 1 of the Pastry paper (Rowstron &
/// Druschel, Middleware 2001), the reference the kernel's [`NodeState::route`] is held to.
///
/// The paper's notation: R_l^i is the routing-table entry at row l, column i; L_i the i-th closest
/// id in the leaf set, −⌊|L|/2⌋ ≤ i ≤ ⌊|L|/2⌋, negative indices for the predecessors, positive for
/// the successors; D_l the l-th digit of the key D; shl(A, B) the shared prefix length in digits.
/// docs/design.md, *Route*, makes the pseudo-code total and deterministic: the range test of line
/// (1) is "covered" on the ring, |x − y| is the ring distance with ties to the clockwise node
/// (`closer`), "forward to A" is delivery, and the rare case takes the best admissible node
/// (longest prefix, then closest) or delivers when there is none.
///
/// It uses only [`reference`](mod@reference) arithmetic and plain scans of the state's contents.
#[must_use]
pub fn paper_route<H: Copy, W: RingWord>(state: &NodeState<H, W>, key: W) -> Route<H, W> {
    let a = *state.own();
    let b = state.config().digit_width();
    let leaf = state.leaf_set();
    let d = key;

    // (1)  if (L_{-⌊|L|/2⌋} ≤ D ≤ L_{⌊|L|/2⌋}) {
    if r::covered(leaf, d) {
        // (2)    // D is within range of our leaf set
        // (3)    forward to L_i, s.th. |D − L_i| is minimal;
        //        (i runs over −⌊|L|/2⌋..=⌊|L|/2⌋; L_0 is A itself, and forwarding to A delivers)
        let l_i = core::iter::once(&a)
            .chain(leaf.predecessors())
            .chain(leaf.successors());
        let nearest = l_i.min_by_key(|n| r::nearness(d, n.id)).copied();
        return match nearest {
            Some(n) if n.id != a.id => Route::Forward {
                to: n,
                via: Via::LeafSet,
            },
            _ => Route::Deliver,
        };
    }
    // (4)  } else {
    // (5)    // use the routing table
    // (6)    Let l = shl(D, A);
    let l = r::shl(d, a.id, b);
    // (7)    if (R_l^{D_l} ≠ null) {
    let d_l = r::digit(d, l, b);
    let r_l_dl = state.table().iter().find(|(row, column, _)| {
        Some((u32::from(row.0), u32::from(column.0))) == d_l.map(|c| (l, c))
    });
    if let Some((_, _, entry)) = r_l_dl {
        // (8)      forward to R_l^{D_l};
        return Route::Forward {
            to: entry.node,
            via: Via::Table,
        };
    }
    // (9)    }
    // (10)   else {
    // (11)     // rare case
    // (12)     forward to T ∈ L ∪ R ∪ M, s.th.
    // (13)       shl(T, D) ≥ l,
    // (14)       |T − D| < |A − D|
    let l_r_m = leaf
        .successors()
        .iter()
        .chain(leaf.predecessors())
        .copied()
        .chain(state.table().iter().map(|(_, _, e)| e.node))
        .chain(state.neighborhood().entries().iter().map(|e| e.node));
    let t = l_r_m
        .filter(|t| r::shl(t.id, d, b) >= l) // (13)
        .filter(|t| r::closer(d, t.id, a.id)) // (14), with closer's tie rule
        .min_by_key(|t| r::rare_case_rank(d, t.id, b));
    // (15)   }
    // (16) }
    match t {
        Some(t) => Route::Forward {
            to: t,
            via: Via::RareCase,
        },
        None => Route::Deliver,
    }
}

// ---------------------------------------------------------------------------------------------
// Route properties on one state
// ---------------------------------------------------------------------------------------------

/// Every node `state` holds, from the leaf set, the routing table and the neighborhood set
/// (a node held by several structures appears several times).
#[must_use]
pub fn known_nodes<H: Copy, W: RingWord>(state: &NodeState<H, W>) -> Vec<NodeRef<H, W>> {
    let leaf = state.leaf_set();
    leaf.successors()
        .iter()
        .chain(leaf.predecessors())
        .copied()
        .chain(state.table().iter().map(|(_, _, e)| e.node))
        .chain(state.neighborhood().entries().iter().map(|e| e.node))
        .collect()
}

/// The brute-force root of `key` among the leaf set and the local node.
#[must_use]
pub fn leaf_root<H: Copy, W: RingWord>(state: &NodeState<H, W>, key: W) -> W {
    let leaf = state.leaf_set();
    let ids = core::iter::once(state.id())
        .chain(leaf.successors().iter().map(|n| n.id))
        .chain(leaf.predecessors().iter().map(|n| n.id));
    r::root(key, ids).unwrap_or(state.id())
}

/// `route(key)` equals [`paper_route`] exactly: same decision, next hop, handle and step.
pub fn check_route_matches_paper<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let fast = state.route(key);
    let paper = paper_route(state, key);
    assert_eq!(
        fast,
        paper,
        "route({key:?}) at {:?} differs from the paper's Table 1",
        state.id()
    );
}

/// A covered key goes to its brute-force root among the leaf set and the local node: Deliver
/// when that is the local node, else Forward to it via the leaf set. The leaf set's own
/// `covers` and `root` agree with the definitions.
pub fn check_route_finds_covered_root<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let leaf = state.leaf_set();
    let covered = r::covered(leaf, key);
    assert_eq!(
        leaf.covers(key),
        covered,
        "covers({key:?}) at {:?}",
        state.id()
    );
    let root = leaf_root(state, key);
    let leaf_answer = match leaf.root(key) {
        LeafRoot::NotCovered => None,
        LeafRoot::Own => Some(state.id()),
        LeafRoot::Member(n) => Some(n.id),
    };
    assert_eq!(
        leaf_answer,
        covered.then_some(root),
        "LeafSet::root({key:?}) at {:?}",
        state.id()
    );
    if covered {
        match state.route(key) {
            Route::Deliver => assert_eq!(
                root,
                state.id(),
                "delivered {key:?} but the root is {root:?}"
            ),
            Route::Forward { to, via } => {
                assert_eq!(to.id, root, "covered key {key:?} not sent to its root");
                assert_eq!(
                    via,
                    Via::LeafSet,
                    "covered key {key:?} not routed by the leaf set"
                );
            }
        }
    }
}

/// **Progress**: every Forward of steps 2 and 3 strictly lengthens the prefix shared with the
/// key, or keeps it and moves strictly closer to the key. A step-1 Forward goes to the root.
pub fn check_route_makes_progress<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let b = state.config().digit_width();
    let own = state.id();
    if let Route::Forward { to, via } = state.route(key) {
        assert_ne!(to.id, own, "forwarded {key:?} to itself");
        match via {
            Via::LeafSet => {
                assert_eq!(to.id, leaf_root(state, key), "leaf-set hop not to the root")
            }
            Via::Table | Via::RareCase => {
                let (before, after) = (r::shl(own, key, b), r::shl(to.id, key, b));
                assert!(
                    after > before || (after == before && r::closer(key, to.id, own)),
                    "{via:?} hop for {key:?} from {own:?} to {:?} makes no progress \
                     (shl {before} -> {after})",
                    to.id
                );
                if via == Via::Table {
                    assert!(after > before, "a table hop must lengthen the prefix");
                }
            }
        }
    }
}

/// Deliver only where route's steps allow it, each step only where it applies, and every next
/// hop is a node the state holds, with the handle it holds.
pub fn check_route_delivers_only_when_allowed<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let b = state.config().digit_width();
    let own = state.id();
    let covered = r::covered(state.leaf_set(), key);
    let l = r::shl(key, own, b);
    let slot = r::digit(key, l, b).and_then(|c| {
        state
            .table()
            .iter()
            .find(|(row, column, _)| (u32::from(row.0), u32::from(column.0)) == (l, c))
            .map(|(_, _, e)| e.node)
    });
    let known = known_nodes(state);
    let admissible: Vec<NodeRef<H, W>> = known
        .iter()
        .copied()
        .filter(|t| r::shl(t.id, key, b) >= l && r::closer(key, t.id, own))
        .collect();
    match state.route(key) {
        Route::Deliver => {
            if covered {
                assert_eq!(
                    leaf_root(state, key),
                    own,
                    "delivered a covered key it is not root of"
                );
            } else {
                assert!(
                    slot.is_none(),
                    "delivered {key:?} with a table entry for it"
                );
                assert!(
                    admissible.is_empty(),
                    "delivered {key:?} although {:?} is admissible",
                    admissible.first()
                );
            }
        }
        Route::Forward { to, via } => {
            assert!(
                known.contains(&to),
                "next hop {to:?} is not a node the state holds"
            );
            match via {
                Via::LeafSet => assert!(covered, "leaf-set hop for an uncovered key"),
                Via::Table => {
                    assert!(!covered, "table hop for a covered key");
                    assert_eq!(slot, Some(to), "table hop is not R[l][digit(k, l)]");
                }
                Via::RareCase => {
                    assert!(
                        !covered && slot.is_none(),
                        "rare case where step 1 or 2 applies"
                    );
                    let best = admissible
                        .iter()
                        .min_by_key(|t| r::rare_case_rank(key, t.id, b))
                        .copied();
                    assert_eq!(Some(to), best, "rare case did not take the best candidate");
                }
            }
        }
    }
}

/// **Replica set**: the min(r, L/2 + 1) nodes of leaf set ∪ {self} closest to the key, closest
/// first, checked for several r.
pub fn check_replica_set<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let leaf = state.leaf_set();
    let mut all: Vec<NodeRef<H, W>> = core::iter::once(*state.own())
        .chain(leaf.successors().iter().copied())
        .chain(leaf.predecessors().iter().copied())
        .collect();
    all.sort_by_key(|n| r::nearness(key, n.id));
    all.dedup_by_key(|n| n.id);
    let cap = state.config().max_replicas();
    for want in [0, 1, 2, cap - 1, cap, cap + 1, usize::MAX] {
        let got: Vec<NodeRef<H, W>> = state.replica_set(key, want).iter().copied().collect();
        let expected: Vec<NodeRef<H, W>> = all.iter().copied().take(want.min(cap)).collect();
        assert_eq!(
            got,
            expected,
            "replica_set({key:?}, {want}) at {:?}",
            state.id()
        );
    }
}

/// All route properties of one state for one key: [`check_route_matches_paper`],
/// [`check_route_finds_covered_root`], [`check_route_makes_progress`],
/// [`check_route_delivers_only_when_allowed`] and [`check_replica_set`].
pub fn check_route_at<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    check_route_matches_paper(state, key);
    check_route_finds_covered_root(state, key);
    check_route_makes_progress(state, key);
    check_route_delivers_only_when_allowed(state, key);
    check_replica_set(state, key);
}

/// Input of [`check_route`]: a node that learned some nodes and forgot some of them.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct RouteInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The local node's id.
    pub own: W,
    /// Nodes offered to `learn`, in order, with the host's proximity figure (the handle of the
    /// i-th is `i`). The local id may appear; `learn` must refuse it.
    pub nodes: Vec<(W, u8)>,
    /// Indices into `nodes` (modulo its length) of nodes to `forget` afterwards.
    pub forgets: Vec<u8>,
    /// The key to route.
    pub key: W,
}

/// Builds the state of [`RouteInput`] and runs [`check_route_at`] for the key, its ring
/// neighbours, the local id and every offered id.
pub fn check_route<W: RingWord>(input: &RouteInput<W>) {
    let state = build_state(input);
    let one = W::from_u128(1);
    let keys = [
        input.key,
        input.key.wrapping_add(&one),
        input.key.wrapping_sub(&one),
        input.own,
    ];
    for key in keys.into_iter().chain(input.nodes.iter().map(|n| n.0)) {
        check_route_at(&state, key);
    }
}

/// The state a [`RouteInput`] describes (refused `learn`s of the local id are checked to leave
/// the state unchanged).
#[must_use]
pub fn build_state<W: RingWord>(input: &RouteInput<W>) -> NodeState<u32, W> {
    let mut state = NodeState::new(input.config, NodeRef::new(input.own, u32::MAX));
    for (i, &(id, p)) in input.nodes.iter().enumerate() {
        let node = NodeRef::new(id, i as u32);
        let before = state.clone();
        match state.learn(node, Proximity::from(p)) {
            Ok(_) => assert_ne!(id, input.own, "learned the local id"),
            Err(e) => {
                assert_eq!(
                    (e, id),
                    (StateError::OwnId, input.own),
                    "learn refused {id:?}"
                );
                assert_eq!(state, before, "a refused learn changed the state");
            }
        }
    }
    if !input.nodes.is_empty() {
        for &f in &input.forgets {
            let id = input.nodes[usize::from(f) % input.nodes.len()].0;
            if id != input.own {
                let _ = state.forget(id);
                assert!(!state.knows(id), "forgot {id:?} but still know it");
            }
        }
    }
    state
}

// ---------------------------------------------------------------------------------------------
// Brute-force models of the structures
// ---------------------------------------------------------------------------------------------

/// A brute-force leaf set: each side is a plain list re-sorted and cut to L/2 after each insert.
/// A side with a hole (a member removed while the sides shared no node) takes a new node only
/// when it sorts before the side's last member, until the side is full or the sides share a
/// node again (the type's **Holes**).
#[derive(Clone, Debug)]
struct LeafModel<W> {
    own: W,
    half: usize,
    succ: Vec<NodeRef<u32, W>>,
    pred: Vec<NodeRef<u32, W>>,
    holes: (bool, bool),
}

impl<W: RingWord> LeafModel<W> {
    fn new(own: W, half: usize) -> Self {
        LeafModel {
            own,
            half,
            succ: Vec::new(),
            pred: Vec::new(),
            holes: (false, false),
        }
    }

    /// Returns whether the node entered: it was on neither side before and is on one now.
    fn insert(&mut self, node: NodeRef<u32, W>) -> bool {
        self.insert_on(node, (true, true), false)
    }

    /// Offers the node to the chosen sides (a member's handle is refreshed on both); `repair`
    /// lets a holed side take it anywhere. Returns whether the node entered.
    fn insert_on(&mut self, node: NodeRef<u32, W>, sides: (bool, bool), repair: bool) -> bool {
        let member = |m: &Self| m.succ.iter().chain(&m.pred).any(|n| n.id == node.id);
        let was = member(self);
        let own = self.own;
        let half = self.half;
        let add = |side: &mut Vec<NodeRef<u32, W>>,
                   offered: bool,
                   holed: bool,
                   key: &dyn Fn(W) -> u128| {
            if let Some(m) = side.iter_mut().find(|m| m.id == node.id) {
                m.handle = node.handle;
                return;
            }
            if !offered
                || (holed && !repair && side.last().is_none_or(|l| key(node.id) > key(l.id)))
            {
                return;
            }
            side.push(node);
            side.sort_by_key(|m| key(m.id));
            side.truncate(half);
        };
        add(&mut self.succ, sides.0, self.holes.0, &|id| r::cw(own, id));
        add(&mut self.pred, sides.1, self.holes.1, &|id| r::cw(id, own));
        self.settle();
        !was && member(self)
    }

    fn remove(&mut self, id: W) -> (bool, bool) {
        let (s, p) = (self.succ.len(), self.pred.len());
        self.succ.retain(|m| m.id != id);
        self.pred.retain(|m| m.id != id);
        let removed = (s != self.succ.len(), p != self.pred.len());
        self.holes.0 |= removed.0;
        self.holes.1 |= removed.1;
        self.settle();
        removed
    }

    /// Clears the holes of full sides, and both when the sides share a node or are empty.
    fn settle(&mut self) {
        let whole = (self.succ.is_empty() && self.pred.is_empty())
            || self
                .pred
                .iter()
                .any(|p| self.succ.iter().any(|s| s.id == p.id));
        if whole || self.succ.len() == self.half {
            self.holes.0 = false;
        }
        if whole || self.pred.len() == self.half {
            self.holes.1 = false;
        }
    }

    fn compare(&self, leaf: &LeafSet<u32, W>) {
        assert_eq!(
            leaf.successors(),
            &self.succ[..],
            "successors differ from the model"
        );
        assert_eq!(
            (leaf.holes().successor, leaf.holes().predecessor),
            self.holes,
            "holes differ from the model"
        );
        assert_eq!(
            leaf.predecessors(),
            &self.pred[..],
            "predecessors differ from the model"
        );
    }
}

/// The sides of a leaf set are in ring order, nearest first, without duplicates, at most L/2
/// each, never hold the owner, and the whole-ring flag matches its definition.
pub fn check_leaf_set_sides<H: Copy + Debug, W: RingWord>(leaf: &LeafSet<H, W>) {
    let own = leaf.own();
    for (name, side, dist) in [
        (
            "successors",
            leaf.successors(),
            &(|id| r::cw(own, id)) as &dyn Fn(W) -> u128,
        ),
        ("predecessors", leaf.predecessors(), &|id| r::cw(id, own)),
    ] {
        assert!(
            side.len() <= leaf.half(),
            "{name}: {} > L/2 = {}",
            side.len(),
            leaf.half()
        );
        assert!(side.iter().all(|n| n.id != own), "{name} hold the owner");
        assert!(
            side.windows(2).all(|w| dist(w[0].id) < dist(w[1].id)),
            "{name} not strictly nearest first: {side:?}"
        );
    }
    assert_eq!(
        leaf.knows_whole_ring(),
        r::knows_whole_ring(leaf),
        "whole-ring flag"
    );
    let mut members: Vec<W> = leaf.iter().map(|n| n.id).collect();
    let n = members.len();
    members.sort();
    members.dedup();
    assert_eq!(members.len(), n, "iter() repeats a member");
    assert_eq!(leaf.len(), n, "len()");
}

/// One step of [`LeafSetInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum LeafOp<W = Guid> {
    /// Insert this id.
    Insert(W),
    /// Remove this id (usually not a member).
    Remove(W),
    /// Remove the member at this index (modulo the number of members), if any.
    RemoveMember(u8),
}

/// Input of [`check_leaf_set_ops`]: a sequence of inserts and removals on one leaf set.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct LeafSetInput<W = Guid> {
    /// Sizes the leaf set (L).
    pub config: Config,
    /// The owner.
    pub own: W,
    /// The operations, in order.
    pub ops: Vec<LeafOp<W>>,
    /// Keys whose coverage and root are checked after each step.
    pub keys: Vec<W>,
}

/// Replays [`LeafSetInput`] on a [`LeafSet`] and on a brute-force model, comparing after every
/// step: sides ([`check_leaf_set_sides`]), equality with the model, `covers` and `root` for the
/// keys. While nothing has been removed the leaf set is the true leaf set of every node inserted
/// (the model that knows every node); at the end, offering every live node again (repair)
/// restores the true leaf set among the live nodes.
pub fn check_leaf_set_ops<W: RingWord>(input: &LeafSetInput<W>) {
    let own = input.own;
    let half = input.config.leaf_set_half();
    let mut leaf: LeafSet<u32, W> = LeafSet::new(own, &input.config);
    let mut model = LeafModel::new(own, half);
    let mut live: Vec<W> = Vec::new();
    let mut removed_any = false;
    for (i, op) in input.ops.iter().enumerate() {
        let handle = i as u32;
        match *op {
            LeafOp::Insert(id) => {
                let before = leaf.clone();
                match leaf.insert(NodeRef::new(id, handle)) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "insert refused {id:?}");
                        assert_eq!(leaf, before, "a refused insert changed the leaf set");
                    }
                    Ok(changed) => {
                        assert_eq!(
                            changed,
                            model.insert(NodeRef::new(id, handle)),
                            "insert result"
                        );
                        if !live.contains(&id) {
                            live.push(id);
                        }
                    }
                }
            }
            LeafOp::Remove(_) | LeafOp::RemoveMember(_) => {
                let id = match *op {
                    LeafOp::RemoveMember(m) => {
                        let members: Vec<W> = leaf.iter().map(|n| n.id).collect();
                        match members.get(usize::from(m) % members.len().max(1)) {
                            Some(&id) => id,
                            None => continue,
                        }
                    }
                    LeafOp::Remove(id) => id,
                    LeafOp::Insert(_) => continue,
                };
                let sides = leaf.remove(id);
                let (s, p) = model.remove(id);
                assert_eq!(
                    (sides.successor, sides.predecessor),
                    (s, p),
                    "remove({id:?}) sides"
                );
                removed_any |= s || p;
                live.retain(|&x| x != id);
                assert!(!leaf.contains(id), "removed {id:?} still a member");
            }
        }
        check_leaf_set_sides(&leaf);
        model.compare(&leaf);
        if !removed_any {
            check_true_leaf_set(&leaf, &live);
            // The reading "a side is not full, or the two sides share a member" agrees with
            // the rule LeafSet keeps (docs/design.md, *Whole ring*) while nothing has been
            // removed.
            let (succ, pred) = (leaf.successors(), leaf.predecessors());
            let literal = succ.len() < half
                || pred.len() < half
                || pred.iter().any(|p| succ.iter().any(|q| q.id == p.id));
            assert_eq!(
                leaf.knows_whole_ring(),
                literal,
                "whole-ring readings differ"
            );
        }
        for &k in input.keys.iter().chain(live.iter().take(4)) {
            check_leaf_cover_and_root(&leaf, k);
        }
    }
    // Repair: offer every live node again to both sides, holes included (as a repair merge
    // does); the true leaf set comes back.
    for (i, &id) in live.iter().enumerate() {
        let _ = leaf.insert_on(NodeRef::new(id, u32::MAX - i as u32), crate::Sides::BOTH);
    }
    assert!(
        !leaf.holes().any(),
        "a hole left after every live node was offered"
    );
    check_leaf_set_sides(&leaf);
    check_true_leaf_set(&leaf, &live);
}

/// The leaf set equals the true leaf set of its owner among `live` (by id).
fn check_true_leaf_set<W: RingWord>(leaf: &LeafSet<u32, W>, live: &[W]) {
    let (succ, pred) = r::true_leaf_set(leaf.own(), live, leaf.half());
    let ids = |s: &[NodeRef<u32, W>]| s.iter().map(|n| n.id).collect::<Vec<W>>();
    assert_eq!(
        ids(leaf.successors()),
        succ,
        "successors are not the L/2 nearest clockwise"
    );
    assert_eq!(
        ids(leaf.predecessors()),
        pred,
        "predecessors are not the L/2 nearest counter-clockwise"
    );
}

fn check_leaf_cover_and_root<W: RingWord>(leaf: &LeafSet<u32, W>, k: W) {
    let covered = r::covered(leaf, k);
    assert_eq!(leaf.covers(k), covered, "covers({k:?})");
    let ids = core::iter::once(leaf.own()).chain(leaf.iter().map(|n| n.id));
    let root = r::root(k, ids);
    let got = match leaf.root(k) {
        LeafRoot::NotCovered => None,
        LeafRoot::Own => Some(leaf.own()),
        LeafRoot::Member(n) => Some(n.id),
    };
    assert_eq!(
        got,
        root.filter(|_| covered),
        "root({k:?}) among the leaf set"
    );
}

/// A brute-force routing table: a map from (row, column), computed by [`reference::slot`], to
/// the entry, with the replacement rule of docs/design.md, *Routing table*, written out.
#[derive(Clone, Debug)]
struct TableModel<W> {
    own: W,
    b: DigitWidth,
    slots: BTreeMap<(u32, u32), Entry<u32, W>>,
}

impl<W: RingWord> TableModel<W> {
    fn new(own: W, b: DigitWidth) -> Self {
        TableModel {
            own,
            b,
            slots: BTreeMap::new(),
        }
    }

    fn insert(&mut self, node: NodeRef<u32, W>, proximity: Proximity) -> Option<Placement<u32, W>> {
        let (row, column) = r::slot(self.own, node.id, self.b)?;
        let at = (Row(row as u8), Digit(column as u8));
        let candidate = Entry { node, proximity };
        Some(match self.slots.get(&(row, column)).copied() {
            None => {
                self.slots.insert((row, column), candidate);
                Placement::Added(at.0, at.1)
            }
            Some(e) if e.node.id == node.id => {
                self.slots.insert((row, column), candidate);
                Placement::Refreshed(at.0, at.1)
            }
            // Smaller is nearer; on a tie the incumbent stays.
            Some(e) if proximity < e.proximity => {
                self.slots.insert((row, column), candidate);
                Placement::Replaced(at.0, at.1, e)
            }
            Some(_) => Placement::Rejected(at.0, at.1),
        })
    }

    fn remove(&mut self, id: W) -> Option<(Row, Column, Entry<u32, W>)> {
        let (row, column) = r::slot(self.own, id, self.b)?;
        match self.slots.get(&(row, column)) {
            Some(e) if e.node.id == id => {
                let e = *e;
                self.slots.remove(&(row, column));
                Some((Row(row as u8), Digit(column as u8), e))
            }
            _ => None,
        }
    }

    fn compare(&self, table: &RoutingTable<u32, W>) {
        let got: Vec<((u32, u32), Entry<u32, W>)> = table
            .iter()
            .map(|(row, c, e)| ((u32::from(row.0), u32::from(c.0)), *e))
            .collect();
        let want: Vec<((u32, u32), Entry<u32, W>)> =
            self.slots.iter().map(|(k, e)| (*k, *e)).collect();
        assert_eq!(got, want, "routing table differs from the model");
    }
}

/// Every entry sits in its slot: row = shl(id, own), column = digit(id, row) (reference
/// definitions), so the owner's own column stays empty; no id twice; `len`, `get`, `find`,
/// `row` and `next_hop` agree with the entries.
pub fn check_table_slots<H: Copy + Eq + Debug, W: RingWord>(table: &RoutingTable<H, W>) {
    let own = table.own();
    let b = table.digit_width();
    let entries: Vec<(Row, Column, Entry<H, W>)> =
        table.iter().map(|(row, c, e)| (row, c, *e)).collect();
    assert_eq!(entries.len(), table.len(), "len()");
    assert_eq!(table.is_empty(), entries.is_empty(), "is_empty()");
    let mut ids: Vec<W> = entries.iter().map(|(_, _, e)| e.node.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "an id in two slots");
    for (row, column, e) in &entries {
        let id = e.node.id;
        let (rr, cc) = (u32::from(row.0), u32::from(column.0));
        assert_eq!(
            r::shl(id, own, b),
            rr,
            "{id:?} in row {rr}, but shl with the owner differs"
        );
        assert_eq!(
            r::digit(id, rr, b),
            Some(cc),
            "{id:?} in column {cc} of row {rr}"
        );
        assert_ne!(
            r::digit(own, rr, b),
            Some(cc),
            "the owner's own column is occupied"
        );
        assert!(cc < (1 << b.bits()), "column past 2^b");
        assert_eq!(
            table.get(*row, *column),
            Some(e),
            "get({row:?}, {column:?})"
        );
        assert_eq!(
            table.find(id).map(|(a, c, e)| (a, c, *e)),
            Some((*row, *column, *e)),
            "find"
        );
        assert_eq!(
            table.next_hop(id),
            Some(e),
            "next_hop({id:?}) is not its own slot"
        );
        assert!(
            table.row(*row).any(|(c, x)| c == *column && x == e),
            "row() misses {id:?}"
        );
    }
}

/// One step of [`TableInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum TableOp<W = Guid> {
    /// Offer this id at this proximity.
    Offer(W, u8),
    /// Remove this id.
    Remove(W),
    /// Remove the entry at this index (modulo the number of entries), if any.
    RemoveEntry(u8),
}

/// Input of [`check_table_ops`].
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct TableInput<W = Guid> {
    /// The owner.
    pub own: W,
    /// Bits per digit.
    pub b: DigitWidth,
    /// The operations, in order.
    pub ops: Vec<TableOp<W>>,
}

/// Replays [`TableInput`] on a [`RoutingTable`] and on the brute-force model: every
/// [`Placement`] (added, refreshed, replaced only by a strictly nearer node, rejected on a tie)
/// and every removal is the model's, the tables are equal after every step, and
/// [`check_table_slots`] holds.
pub fn check_table_ops<W: RingWord>(input: &TableInput<W>) {
    let mut table: RoutingTable<u32, W> = RoutingTable::new(input.own, input.b);
    let mut model = TableModel::new(input.own, input.b);
    for (i, op) in input.ops.iter().enumerate() {
        match *op {
            TableOp::Offer(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let before = table.clone();
                let got = table.insert(node, Proximity::from(p));
                match model.insert(node, Proximity::from(p)) {
                    Some(want) => assert_eq!(got, Ok(want), "placement of {id:?} at {p}"),
                    None => {
                        assert_eq!(got, Err(StateError::OwnId), "offering the owner");
                        assert_eq!(table, before, "a refused offer changed the table");
                    }
                }
            }
            TableOp::Remove(id) => assert_eq!(table.remove(id), model.remove(id), "remove({id:?})"),
            TableOp::RemoveEntry(m) => {
                let ids: Vec<W> = table.iter().map(|(_, _, e)| e.node.id).collect();
                if let Some(&id) = ids.get(usize::from(m) % ids.len().max(1)) {
                    let got = table.remove(id);
                    assert!(got.is_some(), "remove of a present entry failed");
                    assert_eq!(got, model.remove(id), "remove({id:?})");
                }
            }
        }
        model.compare(&table);
        // The model's slots come from the reference, so comparing with it checks every entry's
        // slot; the accessors are checked in full now and then and at the end.
        if i % 16 == 15 {
            check_table_slots(&table);
        }
    }
    check_table_slots(&table);
}

/// A brute-force neighborhood set: append, stable sort by proximity, cut to |M|.
#[derive(Clone, Debug)]
struct NeighborhoodModel<W> {
    capacity: usize,
    entries: Vec<Entry<u32, W>>,
}

impl<W: RingWord> NeighborhoodModel<W> {
    fn insert(&mut self, node: NodeRef<u32, W>, proximity: Proximity) -> bool {
        let known = self.entries.iter().any(|e| e.node.id == node.id);
        // Re-measured at the same figure: it keeps its place among equals.
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.node.id == node.id && e.proximity == proximity)
        {
            e.node = node;
            return false;
        }
        self.entries.retain(|e| e.node.id != node.id);
        self.entries.push(Entry { node, proximity });
        self.entries.sort_by_key(|e| e.proximity);
        self.entries.truncate(self.capacity);
        !known && self.entries.iter().any(|e| e.node.id == node.id)
    }

    fn remove(&mut self, id: W) -> Option<Entry<u32, W>> {
        let e = self.entries.iter().find(|e| e.node.id == id).copied();
        self.entries.retain(|e| e.node.id != id);
        e
    }
}

/// One step of [`NeighborhoodInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum NeighborhoodOp<W = Guid> {
    /// Offer (or re-measure) this id at this proximity.
    Offer(W, u8),
    /// Remove this id.
    Remove(W),
}

/// Input of [`check_neighborhood_ops`].
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct NeighborhoodInput<W = Guid> {
    /// The owner.
    pub own: W,
    /// |M| (taken modulo 65).
    pub capacity: u8,
    /// The operations, in order.
    pub ops: Vec<NeighborhoodOp<W>>,
}

/// Replays [`NeighborhoodInput`] on a [`NeighborhoodSet`] and on the brute-force model, equal
/// after every step. While every offer is of a new node the set is the |M| smallest figures of
/// all offered, earlier offers first among equals (ties keep the incumbents).
pub fn check_neighborhood_ops<W: RingWord>(input: &NeighborhoodInput<W>) {
    let capacity = usize::from(input.capacity % 65);
    let mut set: NeighborhoodSet<u32, W> = NeighborhoodSet::new(input.own, capacity);
    let mut model = NeighborhoodModel {
        capacity,
        entries: Vec::new(),
    };
    let mut offered: Vec<Entry<u32, W>> = Vec::new();
    let mut fresh_only = true;
    for (i, op) in input.ops.iter().enumerate() {
        match *op {
            NeighborhoodOp::Offer(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let p = Proximity::from(p);
                if id == input.own {
                    let before = set.clone();
                    assert_eq!(
                        set.insert(node, p),
                        Err(StateError::OwnId),
                        "offering the owner"
                    );
                    assert_eq!(set, before, "a refused offer changed the set");
                    continue;
                }
                fresh_only &= offered.iter().all(|e| e.node.id != id);
                offered.push(Entry { node, proximity: p });
                assert_eq!(
                    set.insert(node, p),
                    Ok(model.insert(node, p)),
                    "insert({id:?}, {p})"
                );
            }
            NeighborhoodOp::Remove(id) => {
                fresh_only = false;
                assert_eq!(set.remove(id), model.remove(id), "remove({id:?})");
            }
        }
        assert_eq!(
            set.entries(),
            &model.entries[..],
            "neighborhood differs from the model"
        );
        check_neighborhood_keeps_the_nearest(&set, if fresh_only { Some(&offered) } else { None });
    }
}

/// The set is at most |M| long, nearest first, without duplicates; given every offer (all of
/// distinct nodes), it holds exactly the |M| nearest, earlier offers first among equals.
pub fn check_neighborhood_keeps_the_nearest<W: RingWord>(
    set: &NeighborhoodSet<u32, W>,
    offered: Option<&[Entry<u32, W>]>,
) {
    let e = set.entries();
    assert!(e.len() <= set.capacity(), "over capacity");
    assert!(
        e.windows(2).all(|w| w[0].proximity <= w[1].proximity),
        "not nearest first"
    );
    if let Some(offered) = offered {
        let mut nearest = offered.to_vec();
        nearest.sort_by_key(|x| x.proximity);
        nearest.truncate(set.capacity());
        assert_eq!(e, &nearest[..], "the set is not the |M| nearest offered");
    }
}

// ---------------------------------------------------------------------------------------------
// Whole-state operations against the models
// ---------------------------------------------------------------------------------------------

/// One step of [`StateOpsInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum Op<W = Guid> {
    /// `learn` this id at this proximity.
    Learn(W, u8),
    /// `forget` this id.
    Forget(W),
    /// `forget` the known node at this index (modulo the number known), if any.
    ForgetKnown(u8),
    /// Route this key (and check every route property).
    Route(W),
}

/// Input of [`check_state_ops`]: a sequence of learns, forgets and routes on one node.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct StateOpsInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The local node.
    pub own: W,
    /// The operations, in order.
    pub ops: Vec<Op<W>>,
}

/// Replays [`StateOpsInput`] on a [`NodeState`] and on the brute-force models of its three
/// structures. After every step the structures equal their models; `learn` and `forget` report
/// exactly what changed; `learn`/`forget` of the local id return [`StateError::OwnId`] and leave
/// the whole state unchanged; every routed key passes [`check_route_at`].
pub fn check_state_ops<W: RingWord>(input: &StateOpsInput<W>) {
    let config = input.config;
    let own = input.own;
    let mut state: NodeState<u32, W> = NodeState::new(config, NodeRef::new(own, u32::MAX));
    let mut leaf = LeafModel::new(own, config.leaf_set_half());
    let mut table = TableModel::new(own, config.digit_width());
    let mut hood = NeighborhoodModel {
        capacity: config.neighborhood_len(),
        entries: Vec::new(),
    };
    for (i, op) in input.ops.iter().enumerate() {
        let before = state.clone();
        match *op {
            Op::Learn(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let p = Proximity::from(p);
                match state.learn(node, p) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "learn refused {id:?}");
                        assert_eq!(state, before, "a refused learn changed the state");
                    }
                    Ok(learned) => {
                        assert_eq!(learned.leaf_set, leaf.insert(node), "learn: leaf set");
                        assert_eq!(Some(learned.table), table.insert(node, p), "learn: table");
                        assert_eq!(
                            learned.neighborhood,
                            hood.insert(node, p),
                            "learn: neighborhood"
                        );
                    }
                }
            }
            Op::Forget(_) | Op::ForgetKnown(_) => {
                let id = match *op {
                    Op::Forget(id) => id,
                    Op::ForgetKnown(m) => {
                        let known = known_nodes(&state);
                        match known.get(usize::from(m) % known.len().max(1)) {
                            Some(n) => n.id,
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                match state.forget(id) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "forget refused {id:?}");
                        assert_eq!(state, before, "a refused forget changed the state");
                    }
                    Ok(f) => {
                        let was_known = before.knows(id);
                        let (s, p) = leaf.remove(id);
                        assert_eq!(
                            (f.leaf_set.successor, f.leaf_set.predecessor),
                            (s, p),
                            "forget: sides"
                        );
                        assert_eq!(
                            f.slot,
                            table.remove(id).map(|(a, c, _)| (a, c)),
                            "forget: slot"
                        );
                        assert_eq!(
                            f.neighborhood,
                            hood.remove(id).is_some(),
                            "forget: neighborhood"
                        );
                        assert_eq!(f.was_known(), was_known, "forget: was_known");
                        assert_eq!(
                            f.node.map(|n| n.id),
                            was_known.then_some(id),
                            "forget: node"
                        );
                        assert!(!state.knows(id), "forgotten {id:?} still known");
                    }
                }
            }
            Op::Route(key) => {
                let r = state.route(key);
                assert_eq!(state, before, "route changed the state");
                assert_eq!(r, state.route(key), "route is not a function of the state");
                check_route_at(&state, key);
            }
        }
        state.invariants();
        check_leaf_set_sides(state.leaf_set());
        leaf.compare(state.leaf_set());
        check_table_slots(state.table());
        table.compare(state.table());
        assert_eq!(
            state.neighborhood().entries(),
            &hood.entries[..],
            "neighborhood differs from the model"
        );
        assert_eq!(state.config(), &config, "config changed");
        assert_eq!(state.own().id, own, "own id changed");
    }
}

// ---------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------

/// A network of nodes whose states were built from global knowledge
/// ([`NodeState::from_ring`]): true leaf sets and every routing-table slot whose prefix holds a
/// node filled. Node `i` has the handle `i`.
#[derive(Clone, Debug)]
pub struct Network<W = Guid> {
    config: Config,
    /// States in handle order.
    states: Vec<NodeState<usize, W>>,
    /// Ids sorted, for the root.
    sorted: Vec<W>,
}

/// The end of one route through a [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The handle of the node that delivered.
    pub end: usize,
    /// The number of hops (0 when the source delivers).
    pub hops: u32,
    /// How many hops were chosen by step 3, the rare case.
    pub rare_case_hops: u32,
}

impl<W: RingWord> Network<W> {
    /// The network of the distinct `ids` (duplicates dropped, first kept); node `i` of the result
    /// has handle `i` and id [`Network::id`]. `proximity(i, j)` is the host's figure from node
    /// `i` to node `j`; each slot is offered up to `candidates_per_slot` nodes.
    #[must_use]
    pub fn new(
        config: Config,
        ids: &[W],
        proximity: impl Fn(usize, usize) -> Proximity + Sync,
        candidates_per_slot: usize,
    ) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let distinct: Vec<W> = ids.iter().copied().filter(|&id| seen.insert(id)).collect();
        let sorted: Vec<W> = seen.into_iter().collect();
        let mut ring: Vec<NodeRef<usize, W>> = distinct
            .iter()
            .enumerate()
            .map(|(i, &id)| NodeRef::new(id, i))
            .collect();
        ring.sort_by_key(|n| n.id);
        let build = |i: usize, id: W| {
            NodeState::from_ring(
                config,
                NodeRef::new(id, i),
                &ring,
                |m| proximity(i, m.handle),
                candidates_per_slot,
            )
        };
        // The states are independent: build them on every available core, in order.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = distinct.len().div_ceil(threads).max(1);
        let states = std::thread::scope(|scope| {
            let workers: Vec<_> = distinct
                .chunks(chunk)
                .enumerate()
                .map(|(c, ids)| {
                    let build = &build;
                    scope.spawn(move || {
                        ids.iter()
                            .enumerate()
                            .map(|(j, &id)| build(c * chunk + j, id))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("building a state panicked"))
                .collect()
        });
        Network {
            config,
            states,
            sorted,
        }
    }

    /// The number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether the network has no node.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The id of node `i`.
    #[must_use]
    pub fn id(&self, i: usize) -> W {
        self.states[i].id()
    }

    /// The state of node `i`.
    #[must_use]
    pub fn state(&self, i: usize) -> &NodeState<usize, W> {
        &self.states[i]
    }

    /// The root of `key` among all nodes, by brute force over every id.
    #[must_use]
    pub fn root(&self, key: W) -> Option<W> {
        r::root(key, self.sorted.iter().copied())
    }

    /// Routes `key` from node `source` hop by hop, calling each node's `route`, until one
    /// delivers. Panics when a hop makes no progress (which also rules out loops).
    #[must_use]
    pub fn route(&self, source: usize, key: W) -> Trace {
        let b = self.config.digit_width();
        let mut at = source;
        let mut hops = 0;
        let mut rare_case_hops = 0;
        loop {
            let state = &self.states[at];
            match state.route(key) {
                Route::Deliver => {
                    return Trace {
                        end: at,
                        hops,
                        rare_case_hops,
                    }
                }
                Route::Forward { to, via } => {
                    let from = state.id();
                    let progress = r::shl(to.id, key, b) > r::shl(from, key, b)
                        || (r::shl(to.id, key, b) == r::shl(from, key, b)
                            && r::closer(key, to.id, from));
                    assert!(
                        via == Via::LeafSet || progress,
                        "hop {hops} for {key:?} from {from:?} to {:?} via {via:?} makes no progress",
                        to.id
                    );
                    assert!(hops as usize <= self.len(), "route for {key:?} loops");
                    rare_case_hops += u32::from(via == Via::RareCase);
                    hops += 1;
                    at = to.handle;
                }
            }
        }
    }

    /// Routes `key` from `source` and checks the promise of docs/design.md, *Progress*, for correct
    /// leaf sets: the route ends at the brute-force root of `key` among all nodes after at most
    /// `BITS / b + 1` hops.
    pub fn check_route(&self, source: usize, key: W) -> Trace {
        let trace = self.route(source, key);
        let root = self.root(key);
        assert_eq!(
            Some(self.id(trace.end)),
            root,
            "route for {key:?} from node {source} ended off the root"
        );
        let bound = self.config.digit_width().digits::<W>() + 1;
        assert!(
            trace.hops <= bound,
            "route for {key:?} took {} hops > BITS/b + 1 = {bound}",
            trace.hops
        );
        trace
    }
}

/// Input of [`check_network`]: a small network and some lookups.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct NetworkInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The node ids (duplicates are dropped).
    pub ids: Vec<W>,
    /// Lookups: a source (an index modulo the number of nodes) and a key.
    pub lookups: Vec<(u16, W)>,
}

/// Builds the [`Network`] of [`NetworkInput`] (proximity from the ids, one candidate per slot)
/// and runs [`Network::check_route`] for every lookup, and [`check_route_at`] at each source.
pub fn check_network<W: RingWord>(input: &NetworkInput<W>) {
    if input.ids.is_empty() {
        return;
    }
    let net = Network::new(
        input.config,
        &input.ids,
        |i, j| ((i * 7 + j * 13) % 31) as Proximity,
        2,
    );
    for &(source, key) in &input.lookups {
        let source = usize::from(source) % net.len();
        check_route_at(net.state(source), key);
        let _ = net.check_route(source, key);
    }
}

// ---------------------------------------------------------------------------------------------
// Rejected input
// ---------------------------------------------------------------------------------------------

/// Input of [`check_config_new`]: raw parameters.
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub struct ConfigInput {
    /// b.
    pub b: u32,
    /// L.
    pub leaf_set_len: usize,
    /// |M|.
    pub neighborhood_len: usize,
}

/// `Config::new` accepts exactly the design's ranges and otherwise names the first bad parameter.
pub fn check_config_new(input: &ConfigInput) {
    let ConfigInput {
        b,
        leaf_set_len: l,
        neighborhood_len: m,
    } = *input;
    let want = if ![1, 2, 4, 8].contains(&b) {
        Err(ConfigError::DigitBits(b))
    } else if !(2..=64).contains(&l) || l % 2 == 1 {
        Err(ConfigError::LeafSetLen(l))
    } else if m > Config::MAX_NEIGHBORHOOD {
        Err(ConfigError::NeighborhoodLen(m))
    } else {
        Ok((b, l, m))
    };
    let got = Config::new(b, l, m).map(|c| {
        (
            c.digit_width().bits(),
            c.leaf_set_len(),
            c.neighborhood_len(),
        )
    });
    assert_eq!(got, want, "Config::new({b}, {l}, {m})");
}

/// Parsing a string as a [`Guid`]: exactly 32 hex digits succeed and print back in lower case;
/// anything else is a typed error naming the wrong length or the first bad byte.
pub fn check_guid_parse(s: &str) {
    let bytes = s.as_bytes();
    let want = if bytes.len() != 32 {
        Err(crate::ParseGuidError::WrongLength { len: bytes.len() })
    } else if let Some(index) = bytes.iter().position(|c| !c.is_ascii_hexdigit()) {
        Err(crate::ParseGuidError::BadDigit { index })
    } else {
        Ok(s.to_ascii_lowercase())
    };
    let got = s.parse::<Guid>().map(|g| std::format!("{g}"));
    assert_eq!(got, want, "parse {s:?}");
}

// ---------------------------------------------------------------------------------------------
// The codec's properties, for the fuzz targets
// ---------------------------------------------------------------------------------------------

pub use crate::codec::fuzzing::{check_decode, check_roundtrip, RoundtripInput, Step};

/// The `arbitrary` crate the inputs derive `Arbitrary` from, for harnesses that decode fuzz
/// inputs (seed corpora, artifacts) with the same version.
pub use arbitrary;

// ---------------------------------------------------------------------------------------------
// Join and merges against the models
// ---------------------------------------------------------------------------------------------

/// The host's proximity figure for `id` in [`check_join_merge_ops`]: fixed per id, as a host's
/// measurement would be, and `None` (the probe refuses the node) for about one id in 31.
#[must_use]
pub fn join_merge_figure<W: RingWord>(id: W) -> Option<Proximity> {
    let x = id.to_u128();
    let f = (x ^ (x >> 7) ^ (x >> 61)) % 31;
    (f != 0).then_some(f as Proximity)
}

/// One step of [`JoinMergeInput`]. Peers are named by an index taken modulo the number of
/// peers; a step naming a peer does nothing when there is none.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum JoinMergeOp<W = Guid> {
    /// The local node learns this id at its [`join_merge_figure`] (0 when the probe refuses it).
    Learn(W),
    /// The local node forgets the known node at this index (modulo the number known), if any.
    ForgetKnown(u8),
    /// A peer learns this id.
    PeerLearn(u8, W),
    /// `merge_state` of a peer's whole state.
    MergeState(u8),
    /// `merge_leaf_set(from, their)`: `from` is the first peer, `their` the second peer's leaf
    /// set (another peer's set is [`StateError::WrongOwner`]).
    MergeLeafSet(u8, u8),
    /// `merge_row(from, their, row)`, peers as in `MergeLeafSet`; the row may be past the last.
    MergeRow(u8, u8, u8),
    /// `merge_neighborhood(from, their)`, peers as in `MergeLeafSet` (a set that holds `from`
    /// is [`StateError::WrongOwner`]).
    MergeNeighborhood(u8, u8),
    /// The local state is rebuilt by `NodeState::join` along the route of these peers (A first,
    /// Z last; an empty route starts a new ring).
    Join(Vec<u8>),
    /// Route this key (and check every route property).
    Route(W),
}

/// Input of [`check_join_merge_ops`]: a local node, some peers, and a sequence of joins, merges,
/// learns, forgets and routes.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct JoinMergeInput<W = Guid> {
    /// b, L and |M|, shared by every node.
    pub config: Config,
    /// The local node.
    pub own: W,
    /// The peers' ids (the local id may appear: merging from it is [`StateError::OwnId`]).
    pub peers: Vec<W>,
    /// The steps, in order.
    pub ops: Vec<JoinMergeOp<W>>,
}

/// The three brute-force models of one node's state.
#[derive(Clone, Debug)]
struct StateModel<W> {
    leaf: LeafModel<W>,
    table: TableModel<W>,
    hood: NeighborhoodModel<W>,
    /// Every id the state accepted since it was built, for the true leaf set.
    seen: Vec<W>,
    /// Whether anything was forgotten since (the true leaf set then no longer applies).
    forgot: bool,
}

impl<W: RingWord> StateModel<W> {
    fn new(config: Config, own: W) -> Self {
        StateModel {
            leaf: LeafModel::new(own, config.leaf_set_half()),
            table: TableModel::new(own, config.digit_width()),
            hood: NeighborhoodModel {
                capacity: config.neighborhood_len(),
                entries: Vec::new(),
            },
            seen: Vec::new(),
            forgot: false,
        }
    }

    /// What `offer` in join.rs does, on the models: skip the local node, ask the probe, learn.
    fn offer(&mut self, node: NodeRef<u32, W>, merged: &mut crate::Merged) {
        if node.id == self.leaf.own {
            return;
        }
        let Some(p) = join_merge_figure(node.id) else {
            merged.refused += 1;
            return;
        };
        let leaf = self.leaf.insert(node);
        let table = self.table.insert(node, p);
        let hood = self.hood.insert(node, p);
        merged.offered += 1;
        merged.added += usize::from(
            leaf || hood || matches!(table, Some(Placement::Added(..) | Placement::Replaced(..))),
        );
        if !self.seen.contains(&node.id) {
            self.seen.push(node.id);
        }
    }

    /// The state equals the models; while nothing was forgotten its leaf set is the true leaf
    /// set among every node it accepted.
    fn compare(&self, state: &NodeState<u32, W>) {
        state.invariants();
        check_leaf_set_sides(state.leaf_set());
        self.leaf.compare(state.leaf_set());
        check_table_slots(state.table());
        self.table.compare(state.table());
        assert_eq!(
            state.neighborhood().entries(),
            &self.hood.entries[..],
            "neighborhood differs from the model"
        );
        if !self.forgot {
            check_true_leaf_set(state.leaf_set(), &self.seen);
        }
    }
}

/// Replays [`JoinMergeInput`] on the local [`NodeState`] and on brute-force models of its
/// structures. Every merge (`merge_state`, `merge_leaf_set`, `merge_row`, `merge_neighborhood`)
/// must act as offering its candidates one by one through `learn` at the host's figure, and
/// report that count of offered, added and refused nodes; a join must give the state that
/// learned, in order, each route node with the rows it supplies (row r from the first route
/// node sharing r digits with the local id), Z's leaf set and A's neighborhood set. A refused
/// merge or join (the local id, a wrong owner) returns its error and changes nothing. After
/// every step the invariants hold, the structures equal their models, and while nothing was
/// forgotten the leaf set is the true leaf set among all nodes accepted; routed keys pass
/// [`check_route_at`].
pub fn check_join_merge_ops<W: RingWord>(input: &JoinMergeInput<W>) {
    let config = input.config;
    let own = input.own;
    let b = config.digit_width();
    let probe = |n: &NodeRef<u32, W>| join_merge_figure(n.id);
    let mut peers: Vec<NodeState<u32, W>> = input
        .peers
        .iter()
        .enumerate()
        .map(|(j, &id)| NodeState::new(config, NodeRef::new(id, 1_000_000 + j as u32)))
        .collect();
    let peer_count = peers.len().max(1);
    let pick = move |i: u8| usize::from(i) % peer_count;
    let mut state: NodeState<u32, W> = NodeState::new(config, NodeRef::new(own, u32::MAX));
    let mut model = StateModel::new(config, own);
    for (i, op) in input.ops.iter().enumerate() {
        let before = state.clone();
        match op {
            JoinMergeOp::Learn(id) => {
                let node = NodeRef::new(*id, i as u32);
                if *id == own {
                    assert_eq!(state.learn(node, 0), Err(StateError::OwnId), "learn own id");
                    assert_eq!(state, before, "a refused learn changed the state");
                } else {
                    let p = join_merge_figure(*id).unwrap_or(0);
                    let learned = state.learn(node, p).expect("learn of another id");
                    let leaf = model.leaf.insert(node);
                    let table = model.table.insert(node, p);
                    let hood = model.hood.insert(node, p);
                    assert_eq!(
                        (learned.leaf_set, Some(learned.table), learned.neighborhood),
                        (leaf, table, hood),
                        "learn({id:?})"
                    );
                    if !model.seen.contains(id) {
                        model.seen.push(*id);
                    }
                }
            }
            JoinMergeOp::ForgetKnown(m) => {
                let known = known_nodes(&state);
                if let Some(n) = known.get(usize::from(*m) % known.len().max(1)) {
                    let f = state.forget(n.id).expect("forget of a known node");
                    assert_eq!(f.node.map(|x| x.id), Some(n.id), "forget reports the node");
                    let _ = model.leaf.remove(n.id);
                    let _ = model.table.remove(n.id);
                    let _ = model.hood.remove(n.id);
                    model.forgot = true;
                }
            }
            JoinMergeOp::PeerLearn(p, id) => {
                let p = pick(*p);
                if let Some(peer) = peers.get_mut(p) {
                    let handle = 2_000_000 + i as u32;
                    let _ = peer.learn(
                        NodeRef::new(*id, handle),
                        join_merge_figure(*id).unwrap_or(0),
                    );
                }
            }
            JoinMergeOp::MergeState(p) => {
                let Some(peer) = peers.get(pick(*p)) else {
                    continue;
                };
                let got = state.merge_state(peer, probe);
                if peer.id() == own {
                    assert_eq!(got, Err(StateError::OwnId), "merge_state from the own id");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    // The candidates: the peer, then each distinct node it holds.
                    let members: Vec<NodeRef<u32, W>> = peer.members().copied().collect();
                    let mut ids: Vec<W> = members.iter().map(|n| n.id).collect();
                    ids.sort();
                    ids.dedup();
                    assert_eq!(ids.len(), members.len(), "members() repeats a node");
                    let mut all: Vec<W> = known_nodes(peer).iter().map(|n| n.id).collect();
                    all.sort();
                    all.dedup();
                    assert_eq!(ids, all, "members() is not every node the state holds");
                    let mut want = crate::Merged::default();
                    for n in core::iter::once(*peer.own()).chain(members) {
                        model.offer(n, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_state from {:?}", peer.id());
                }
            }
            JoinMergeOp::MergeLeafSet(p, q) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let got = state.merge_leaf_set(from.own(), their.leaf_set(), probe);
                if from.id() == own {
                    assert_eq!(
                        got,
                        Err(StateError::OwnId),
                        "merge_leaf_set from the own id"
                    );
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if their.id() != from.id() {
                    assert_eq!(got, Err(StateError::WrongOwner), "another node's leaf set");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    for n in their.leaf_set().iter() {
                        model.offer(*n, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_leaf_set from {:?}", from.id());
                }
            }
            JoinMergeOp::MergeRow(p, q, row) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let row = Row(*row);
                let got = state.merge_row(from.own(), their.table(), row, probe);
                if from.id() == own {
                    assert_eq!(got, Err(StateError::OwnId), "merge_row from the own id");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if their.id() != from.id() {
                    assert_eq!(got, Err(StateError::WrongOwner), "another node's table");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    // The row's entries, read from the whole table by their slot.
                    for (_, _, e) in their.table().iter().filter(|(r, _, _)| *r == row) {
                        model.offer(e.node, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_row({row:?}) from {:?}", from.id());
                }
            }
            JoinMergeOp::MergeNeighborhood(p, q) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let set = their.neighborhood();
                let got = state.merge_neighborhood(from.own(), set, probe);
                if from.id() == own {
                    assert_eq!(
                        got,
                        Err(StateError::OwnId),
                        "merge_neighborhood from own id"
                    );
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if set.entries().iter().any(|e| e.node.id == from.id()) {
                    assert_eq!(got, Err(StateError::WrongOwner), "a set holding its sender");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    for e in set.entries() {
                        model.offer(e.node, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_neighborhood from {:?}", from.id());
                }
            }
            JoinMergeOp::Join(route) => {
                if peers.is_empty() && !route.is_empty() {
                    continue;
                }
                let route: Vec<&NodeState<u32, W>> =
                    route.iter().map(|&p| &peers[pick(p)]).collect();
                let me = NodeRef::new(own, u32::MAX);
                match NodeState::join(config, me, &route, probe) {
                    Err(e) => {
                        assert_eq!(e, StateError::OwnId, "join refused");
                        assert!(route.iter().any(|s| s.id() == own), "join refused {e:?}");
                    }
                    Ok(joined) => {
                        assert!(route.iter().all(|s| s.id() != own), "joined via itself");
                        let mut fresh = StateModel::new(config, own);
                        let mut merged = crate::Merged::default();
                        // Row r comes from the first route node N with shl(N, X) >= r.
                        let mut next_row = 0;
                        for s in &route {
                            fresh.offer(*s.own(), &mut merged);
                            let top = r::shl(s.id(), own, b);
                            for (row, _, e) in s.table().iter() {
                                let row = u32::from(row.0);
                                if row >= next_row && row <= top {
                                    fresh.offer(e.node, &mut merged);
                                }
                            }
                            next_row = next_row.max(top + 1);
                        }
                        if let Some(z) = route.last() {
                            for n in z.leaf_set().iter() {
                                fresh.offer(*n, &mut merged);
                            }
                        }
                        if let Some(a) = route.first() {
                            for e in a.neighborhood().entries() {
                                fresh.offer(e.node, &mut merged);
                            }
                        }
                        state = joined;
                        model = fresh;
                    }
                }
            }
            JoinMergeOp::Route(key) => {
                let _ = state.route(*key);
                assert_eq!(state, before, "route changed the state");
                check_route_at(&state, *key);
            }
        }
        model.compare(&state);
        assert_eq!(state.config(), &config, "config changed");
        assert_eq!(state.own().id, own, "own id changed");
    }
}

/// Input of the `state_ops` fuzz target: a sequence of state operations for one of the two
/// model-based properties, on 128-bit ids or on a 16-bit ring (where ties, collisions and
/// whole-ring leaf sets are common).
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum StateSequence {
    /// Learns, forgets and routes: [`check_state_ops`].
    LearnForget(StateOpsInput),
    /// Joins, merges, learns, forgets and routes: [`check_join_merge_ops`].
    JoinMerge(JoinMergeInput),
    /// Joins and merges on a 16-bit ring.
    JoinMergeU16(JoinMergeInput<u16>),
}

/// Runs the property that [`StateSequence`] names.
pub fn check_state_sequence(input: &StateSequence) {
    match input {
        StateSequence::LearnForget(i) => check_state_ops(i),
        StateSequence::JoinMerge(i) => check_join_merge_ops(i),
        StateSequence::JoinMergeU16(i) => check_join_merge_ops(i),
    }
}

// ---------------------------------------------------------------------------------------------
// The committed seeds
// ---------------------------------------------------------------------------------------------

/// The shapes of the committed fuzz seeds (`fuzz/README.md`, *Seeds*): a node that knows
/// nobody, a three-node ring, a full b = 4 state, ids at both ends of the ring and a key
/// equidistant from two nodes.
pub const SEED_SHAPES: [&str; 6] = [
    "empty_state",
    "three_node_ring",
    "full_b4_state",
    "ids_near_zero",
    "ids_near_max",
    "equidistant_tie",
];

/// The fuzz targets that have committed seeds.
pub const SEED_TARGETS: [&str; 5] = [
    "arith",
    "codec_decode",
    "codec_roundtrip",
    "route",
    "state_ops",
];

/// The names of the committed seeds of the fuzz target `target`, sorted: exactly the files
/// that `fuzz/examples/write_seeds.rs` writes to `fuzz/seeds/<target>/` and that the seed-replay
/// tests read back. Empty for a target that has no seeds.
///
/// ```
/// let names = pastry_kernel::fuzzing::seed_names("codec_decode");
/// assert_eq!(names.len(), 24);
/// assert!(names.contains(&"three_node_ring.leaf_set".to_string()));
/// ```
#[must_use]
pub fn seed_names(target: &str) -> Vec<String> {
    let per_shape = |patterns: &[&str]| -> Vec<String> {
        SEED_SHAPES
            .iter()
            .flat_map(|s| patterns.iter().map(move |p| p.replace("{}", s)))
            .collect()
    };
    let mut names = match target {
        "arith" => {
            let mut n = per_shape(&["{}.b1", "{}.b2", "{}.b4", "{}.b8"]);
            n.extend(
                ["tie_k_plus_minus_d", "opposite_point", "wrap_max_to_zero"].map(String::from),
            );
            n
        }
        "codec_decode" => per_shape(&["{}.state", "{}.leaf_set", "{}.neighborhood", "{}.row0"]),
        "codec_roundtrip" | "route" => per_shape(&["{}"]),
        "state_ops" => per_shape(&["{}", "join_merge.{}", "join_merge_u16.{}"]),
        _ => Vec::new(),
    };
    names.sort();
    names
}
