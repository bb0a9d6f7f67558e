//! The algebraic laws of the ring and prefix arithmetic (docs/design.md) on machine words: one
//! function per law, which evaluates the law's [claim](super::claims) for [`Kernel`] on the given
//! words and panics with the law's name and the inputs when it is false.
//!
//! The claim itself is written once, in [`claims`], generic over [`Word`](crate::Word); the Z3
//! proofs (`proofs/src/theorems.rs`) prove the very same function on symbolic words, under the
//! same name (`closer_is_transitive`, `root_of_a_set_is_unique`, `shl_of_self_is_digit_count`,
//! ...), so one name finds the law in the claims, the tests and the proofs. Claims that need an
//! independent description of a digit get [`reference::digit`](super::reference::digit) here
//! (the proofs pass a bit-vector extract).
//!
//! Some laws also compare the kernel with the slow [`reference`](super::reference) definitions
//! on the same inputs (plain integer arithmetic, not a claim over `Word`); those comparisons
//! stay here. The property tests call these functions on [`Guid`](crate::Guid) (proptest) and
//! on every word width (quickcheck), and [`check_arith`](super::check_arith) (the `arith` fuzz
//! target) calls all of them.

use core::fmt::Debug;

use super::claims::{self, Kernel};
use super::reference as r;
use crate::arith;
use crate::arith::DigitWidth;
use crate::word::RingWord;

/// Panics naming `law` and its inputs unless `holds`.
fn check(law: &str, holds: bool, words: &[(&str, &dyn Debug)], b: Option<DigitWidth>) {
    if !holds {
        let inputs: Vec<String> = words
            .iter()
            .map(|(name, value)| format!("{name} = {value:?}"))
            .collect();
        let b = b.map(|b| format!(", b = {}", b.bits())).unwrap_or_default();
        panic!("{law} is false for {}{b}", inputs.join(", "));
    }
}

/// Evaluates `claims::$law::<Kernel, _>` on the words (and `b`, and a digit specification) and
/// panics naming the law when it is false.
macro_rules! claim {
    ($law:ident($($w:ident),+)) => {
        check(
            stringify!($law),
            claims::$law::<Kernel, _>($(&$w),+),
            &[$((stringify!($w), &$w as &dyn Debug)),+],
            None,
        )
    };
    ($law:ident($($w:ident),+; $b:expr $(, $spec:expr)?)) => {
        check(
            stringify!($law),
            claims::$law::<Kernel, _>($(&$w),+, $b $(, $spec)?),
            &[$((stringify!($w), &$w as &dyn Debug)),+],
            Some($b),
        )
    };
}

/// The digit specification the claims take, on machine words: [`reference::digit`](r::digit),
/// which reads the `b` bits of a digit one at a time.
fn reference_digit<W: RingWord>(b: DigitWidth) -> impl Fn(&W, u32) -> W {
    move |w: &W, i: u32| {
        let digit = r::digit(*w, i, b).expect("claims read digits below BITS / b only");
        W::from_u128(u128::from(digit))
    }
}

// ---------------------------------------------------------------------------------------------
// Ring distance.
// ---------------------------------------------------------------------------------------------

/// [`claims::ring_distance_identity`]: dist(a, a) = 0, cw(a, a) = 0, and dist(a, k) = 0 only
/// for k = a.
pub fn ring_distance_identity<W: RingWord>(a: W, k: W) {
    claim!(ring_distance_identity(a, k));
}

/// [`claims::ring_distance_symmetry`]: dist(a, k) = dist(k, a).
pub fn ring_distance_symmetry<W: RingWord>(a: W, k: W) {
    claim!(ring_distance_symmetry(a, k));
}

/// [`claims::ring_distance_at_most_half`]: dist(a, k) ≤ 2^(BITS − 1), and dist is the smaller
/// of the two directions.
pub fn ring_distance_at_most_half<W: RingWord>(a: W, k: W) {
    claim!(ring_distance_at_most_half(a, k));
}

/// [`claims::ring_distance_triangle_inequality`]: dist(a, x) ≤ dist(a, k) + dist(k, x).
pub fn ring_distance_triangle_inequality<W: RingWord>(a: W, k: W, x: W) {
    claim!(ring_distance_triangle_inequality(a, k, x));
}

/// [`claims::clockwise_distances_sum_to_zero`]: cw(a, k) + cw(k, a) ≡ 0 (mod 2^BITS).
pub fn clockwise_distances_sum_to_zero<W: RingWord>(a: W, k: W) {
    claim!(clockwise_distances_sum_to_zero(a, k));
}

/// [`claims::clockwise_distance_reaches_key`]: a + cw(a, k) = k.
pub fn clockwise_distance_reaches_key<W: RingWord>(a: W, k: W) {
    claim!(clockwise_distance_reaches_key(a, k));
}

/// [`claims::ring_wraparound`]: cw(a, a + d) = d for every d, in particular across 0;
/// cw(2^BITS − 1, 0) = 1; dist(a, a + 2^(BITS−1)) = 2^(BITS−1). Also cw(a + d, a) against the
/// reference.
pub fn ring_wraparound<W: RingWord>(a: W, d: W) {
    claim!(ring_wraparound(a, d));
    let k = a.wrapping_add(&d);
    assert_eq!(
        arith::cw(&k, &a).to_u128(),
        r::cw(k, a),
        "wraparound: cw({k:?}, {a:?})"
    );
}

/// [`claims::ring_translation`]: cw(a + t, k + t) = cw(a, k) and dist likewise.
pub fn ring_translation<W: RingWord>(a: W, k: W, t: W) {
    claim!(ring_translation(a, k, t));
}

/// [`claims::in_arc_matches_definition`]: in_arc(s, e, k) holds exactly when cw(s, k) ≤
/// cw(s, e), so both ends are on the arc and an arc from a point to itself holds only that
/// point. Also against the reference cw.
pub fn in_arc_matches_definition<W: RingWord>(s: W, e: W, k: W) {
    claim!(in_arc_matches_definition(s, e, k));
    assert_eq!(
        arith::in_arc(&s, &e, &k),
        r::cw(s, k) <= r::cw(s, e),
        "in_arc({s:?}, {e:?}, {k:?}) vs the reference"
    );
}

// ---------------------------------------------------------------------------------------------
// closer.
// ---------------------------------------------------------------------------------------------

/// [`claims::closer_is_irreflexive`]: closer(k, x, x) is false.
pub fn closer_is_irreflexive<W: RingWord>(k: W, x: W) {
    claim!(closer_is_irreflexive(k, x));
}

/// [`claims::closer_is_asymmetric`]: closer(k, x, y) and closer(k, y, x) are never both true.
pub fn closer_is_asymmetric<W: RingWord>(k: W, x: W, y: W) {
    claim!(closer_is_asymmetric(k, x, y));
}

/// [`claims::closer_is_transitive`]: closer(k, x, y) and closer(k, y, z) imply closer(k, x, z).
pub fn closer_is_transitive<W: RingWord>(k: W, x: W, y: W, z: W) {
    claim!(closer_is_transitive(k, x, y, z));
}

/// [`claims::closer_is_total`]: for x ≠ y one of closer(k, x, y), closer(k, y, x) holds; and
/// closer(k, x, y) is what the reference and its nearness order say.
pub fn closer_is_total<W: RingWord>(k: W, x: W, y: W) {
    claim!(closer_is_total(k, x, y));
    let xy = arith::closer(&k, &x, &y);
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

/// [`claims::closer_matches_design`]: closer(k, x, y) is the design's definition (dist, then
/// the clockwise one).
pub fn closer_matches_design<W: RingWord>(k: W, x: W, y: W) {
    claim!(closer_matches_design(k, x, y));
}

/// [`claims::closer_ties_go_clockwise`] for `d` and for `−d`: k + d and k − d are equally far
/// from k, and of the two the one at clockwise distance dist is closer (unless they coincide).
pub fn closer_ties_go_clockwise<W: RingWord>(k: W, d: W) {
    let minus_d = W::from_u128(0).wrapping_sub(&d);
    claim!(closer_ties_go_clockwise(k, d));
    claim!(closer_ties_go_clockwise(k, minus_d));
}

/// [`claims::root_of_a_set_is_unique`]: `ids` has exactly one member that is closer to `k`
/// than every other member (when it is not empty), and it is the brute-force
/// [`reference::root`](crate::fuzzing::reference::root).
pub fn root_of_a_set_is_unique<W: RingWord>(k: W, ids: &[W]) {
    check(
        "root_of_a_set_is_unique",
        claims::root_of_a_set_is_unique::<Kernel, W>(&k, ids),
        &[("k", &k), ("ids", &ids)],
        None,
    );
    let root = ids
        .iter()
        .copied()
        .find(|x| claims::is_root::<Kernel, W>(&k, x, ids));
    assert_eq!(
        root,
        r::root(k, ids.iter().copied()),
        "root of {k:?} among {ids:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// shl and digit.
// ---------------------------------------------------------------------------------------------

/// [`claims::shl_of_self_is_digit_count`]: shl(a, a) = BITS / b.
pub fn shl_of_self_is_digit_count<W: RingWord>(a: W, b: DigitWidth) {
    claim!(shl_of_self_is_digit_count(a; b));
}

/// [`claims::shl_symmetry`]: shl(a, k) = shl(k, a).
pub fn shl_symmetry<W: RingWord>(a: W, k: W, b: DigitWidth) {
    claim!(shl_symmetry(a, k; b));
}

/// [`claims::shl_ultrametric`]: shl(a, x) ≥ min(shl(a, k), shl(k, x)).
pub fn shl_ultrametric<W: RingWord>(a: W, k: W, x: W, b: DigitWidth) {
    claim!(shl_ultrametric(a, k, x; b));
}

/// [`claims::shl_is_at_most_digit_count`]: shl(a, k) ≤ BITS / b, with equality exactly when
/// a = k.
pub fn shl_is_at_most_digit_count<W: RingWord>(a: W, k: W, b: DigitWidth) {
    claim!(shl_is_at_most_digit_count(a, k; b));
}

/// [`claims::digits_differ_at_shl`]: for a ≠ k the digits at position shl(a, k) differ.
pub fn digits_differ_at_shl<W: RingWord>(a: W, k: W, b: DigitWidth) {
    claim!(digits_differ_at_shl(a, k; b));
}

/// [`claims::shl_matches_digit_by_digit`] with the reference's digits: shl(a, k) is the number
/// of equal leading digits (read bit by bit). Also shl and every digit against the reference.
pub fn shl_matches_digit_by_digit<W: RingWord>(a: W, k: W, b: DigitWidth) {
    claim!(shl_matches_digit_by_digit(a, k; b, reference_digit(b)));
    assert_eq!(
        arith::shl_len(a, k, b),
        r::shl(a, k, b),
        "shl({a:?}, {k:?}) with {b:?} vs the reference"
    );
    for row in 0..b.digits::<W>() {
        let got = arith::digit_at(a, row, b).map(|d| u32::from(d.0));
        assert_eq!(got, r::digit(a, row, b), "digit({a:?}, {row}) with {b:?}");
    }
    assert_eq!(
        arith::digit_at(a, b.digits::<W>(), b),
        None,
        "digit past the end"
    );
}

/// [`claims::digit_matches_extract`] with the reference's digits, for the row `r` and for every
/// row `0 ..= BITS / b`: digit(a, r) is digit r read bit by bit, and 0 just past the last row.
pub fn digit_matches_extract<W: RingWord>(a: W, r: W, b: DigitWidth) {
    claim!(digit_matches_extract(a, r; b, reference_digit(b)));
    for row in 0..=b.digits::<W>() {
        let r = W::from_u128(u128::from(row));
        claim!(digit_matches_extract(a, r; b, reference_digit(b)));
    }
}

// ---------------------------------------------------------------------------------------------
// Routing-table placement and progress.
// ---------------------------------------------------------------------------------------------

/// [`claims::slot_satisfies_design`] with the reference's digits: the slot of `node` in the
/// table of `own` has the design's row and column.
pub fn slot_satisfies_design<W: RingWord>(own: W, node: W, b: DigitWidth) {
    claim!(slot_satisfies_design(own, node; b, reference_digit(b)));
}

/// [`claims::slot_of_self_is_past_last_row`]: slot(a, a) has row BITS / b.
pub fn slot_of_self_is_past_last_row<W: RingWord>(a: W, b: DigitWidth) {
    claim!(slot_of_self_is_past_last_row(a; b));
}

/// [`claims::table_next_hop_extends_prefix`] for `node`, and for the node that has `k`'s first
/// shl(k, own) + 1 digits and `node`'s other digits — one that sits in the slot the claim's
/// hypothesis asks for whenever own ≠ k, so that the conclusion is really tested.
pub fn table_next_hop_extends_prefix<W: RingWord>(own: W, k: W, node: W, b: DigitWidth) {
    claim!(table_next_hop_extends_prefix(own, k, node; b));
    let keep = (arith::shl_len(k, own, b) + 1) * b.bits();
    // The top `keep` bits of a word of W::BITS bits (all of them when keep >= W::BITS).
    let top = if keep >= W::BITS {
        u128::MAX
    } else {
        !(u128::MAX >> keep)
    };
    let high = top >> (128 - W::BITS);
    let in_slot = W::from_u128((k.to_u128() & high) | (node.to_u128() & !high));
    claim!(table_next_hop_extends_prefix(own, k, in_slot; b));
}

/// [`claims::rare_case_choice_makes_progress`]: a node step 3 may choose makes progress.
pub fn rare_case_choice_makes_progress<W: RingWord>(own: W, k: W, t: W, b: DigitWidth) {
    claim!(rare_case_choice_makes_progress(own, k, t; b));
}

/// [`claims::rare_case_preference_is_a_strict_total_order`]: step 3's preference is
/// irreflexive, transitive and total on distinct ids.
pub fn rare_case_preference_is_a_strict_total_order<W: RingWord>(
    k: W,
    x: W,
    y: W,
    z: W,
    b: DigitWidth,
) {
    claim!(rare_case_preference_is_a_strict_total_order(k, x, y, z; b));
}

/// [`claims::progress_is_a_strict_order`]: makes_progress is irreflexive and transitive. Also
/// makes_progress(k, x, y) against "longer prefix, or as long and closer" and
/// rare_case_admissible(k, x, y) against "at least as long and closer", by the reference.
pub fn progress_is_a_strict_order<W: RingWord>(k: W, x: W, y: W, z: W, b: DigitWidth) {
    claim!(progress_is_a_strict_order(k, x, y, z; b));
    let want = r::shl(y, k, b) > r::shl(x, k, b)
        || (r::shl(y, k, b) == r::shl(x, k, b) && r::closer(k, y, x));
    assert_eq!(
        arith::makes_progress(&k, &x, &y, b),
        want,
        "makes_progress({k:?}, {x:?}, {y:?})"
    );
    let admissible = r::shl(y, k, b) >= r::shl(x, k, b) && r::closer(k, y, x);
    assert_eq!(
        arith::rare_case_admissible(&k, &x, &y, b),
        admissible,
        "rare_case_admissible({k:?}, {x:?}, {y:?})"
    );
}
