//! The algebraic laws of the ring and prefix arithmetic (docs/design.md), one function per law,
//! each generic over the word and panicking with the law's name when [`crate::arith`] breaks it.
//!
//! The property tests call them on [`Guid`](crate::Guid) (proptest) and on every word width (quickcheck).
//! A law that the Z3 proofs (`proofs/src/theorems.rs`) also prove for every input has the
//! theorem's name here and in the tests (`closer_is_transitive`, `root_of_a_set_is_unique`,
//! `shl_of_self_is_digit_count`, ...), so one name finds the claim in all three places.

use super::reference as r;
use crate::arith;
use crate::arith::DigitWidth;
use crate::word::RingWord;

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
pub fn ring_distance_at_most_half<W: RingWord>(a: W, k: W) {
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
pub fn ring_distance_triangle_inequality<W: RingWord>(a: W, k: W, x: W) {
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
pub fn shl_of_self_is_digit_count<W: RingWord>(a: W, b: DigitWidth) {
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
pub fn shl_matches_digit_by_digit<W: RingWord>(a: W, k: W, b: DigitWidth) {
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
pub fn closer_is_irreflexive<W: RingWord>(k: W, x: W) {
    assert!(!closer(k, x, x), "irreflexive: closer({k:?}, {x:?}, {x:?})");
}

/// **Asymmetric**: closer(k, x, y) and closer(k, y, x) are never both true.
pub fn closer_is_asymmetric<W: RingWord>(k: W, x: W, y: W) {
    assert!(
        !(closer(k, x, y) && closer(k, y, x)),
        "asymmetric: {x:?} and {y:?} are each closer to {k:?}"
    );
}

/// **Transitive**: closer(k, x, y) and closer(k, y, z) imply closer(k, x, z).
pub fn closer_is_transitive<W: RingWord>(k: W, x: W, y: W, z: W) {
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
/// every other member, and it is the brute-force [`reference::root`](crate::fuzzing::reference::root).
pub fn root_of_a_set_is_unique<W: RingWord>(k: W, ids: &[W]) {
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
pub fn progress_is_a_strict_order<W: RingWord>(k: W, a: W, t: W, b: DigitWidth) {
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
