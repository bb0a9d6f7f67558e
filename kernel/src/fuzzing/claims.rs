//! The laws of the ring and prefix arithmetic (docs/design.md) as **claims**: each law written
//! once, generic over [`Word`], as a function that builds the law's truth value (a
//! [`Word::Bool`]) for given words.
//!
//! One claim, two uses:
//!
//! * on machine words (`u8` … `u128`, [`Guid`](crate::Guid)) the claim is a `bool`: the property
//!   tests, the quickcheck tests and the `arith` fuzz target evaluate it through
//!   [`laws`](super::laws), which asserts that it is true and names the law when it is not;
//! * on symbolic words (the `pastry-proofs` crate implements [`Word`] for Z3 terms) the claim is
//!   a formula over free variables, and the proofs ask Z3 to prove it for every input.
//!
//! Every claim is stated over an [`Arith`], the arithmetic under test: [`Kernel`] is the kernel's
//! own [`crate::arith`]; the proofs crate adds deliberately wrong variants (a planted bug each)
//! and shows that Z3 refutes the claims that would catch them. Hypotheses are part of the claim
//! (`hypothesis ⇒ conclusion`), so a claim holds for *every* input and the tests may evaluate
//! it on any words.
//!
//! Where a law needs an independent description of a digit, the claim takes it as a parameter
//! (`digit_spec`: digit number `i` of a word, for `i < BITS / b`) instead of reading digits with
//! the kernel's shifts: the proofs pass a bit-vector *extract*, the tests
//! [`reference::digit`](super::reference::digit), which reads the bits one at a time. Where a
//! law speaks of cw as the design defines it ((k − a) mod 2^BITS), the claim writes that with
//! [`Word::wrapping_sub`] rather than calling [`Arith::cw`], so that a wrong cw cannot vouch for
//! itself.
//!
//! # What is shared, and what is not
//!
//! Shared (each a claim here, asserted by [`laws`](super::laws) and proved by
//! `pastry_proofs::theorems` under the same name):
//!
//! | family | claims |
//! |---|---|
//! | ring distance | [`ring_distance_identity`], [`ring_distance_symmetry`], [`ring_distance_at_most_half`], [`ring_distance_triangle_inequality`], [`clockwise_distances_sum_to_zero`], [`clockwise_distance_reaches_key`], [`ring_wraparound`], [`ring_translation`], [`in_arc_matches_definition`] |
//! | closer | [`closer_is_irreflexive`], [`closer_is_asymmetric`], [`closer_is_transitive`], [`closer_is_total`], [`closer_matches_design`], [`closer_ties_go_clockwise`], [`root_of_a_set_is_unique`] |
//! | shl and digit | [`shl_of_self_is_digit_count`], [`shl_symmetry`], [`shl_ultrametric`], [`shl_is_at_most_digit_count`], [`digits_differ_at_shl`], [`shl_matches_digit_by_digit`] and [`digit_matches_extract`] (both with the digit specification as a parameter) |
//! | routing table | [`slot_satisfies_design`] (digit specification as a parameter), [`slot_of_self_is_past_last_row`] |
//! | progress | [`table_next_hop_extends_prefix`], [`rare_case_choice_makes_progress`], [`rare_case_preference_is_a_strict_total_order`], [`progress_is_a_strict_order`] |
//!
//! Not shared:
//!
//! * **Leaf-set coverage** (`leaf_set_coverage_l4`, `_l8` in the proofs) is a claim about a
//!   leaf set — ids in ring order on both sides of a node, a root chosen among them — not about
//!   a few free words: random words almost never meet its hypotheses, so evaluating it in a
//!   property test would test nothing. The kernel checks coverage on real leaf sets against a
//!   brute-force model (`check_leaf_set_ops`, `check_route`); the proof states it over symbolic
//!   leaf sets.
//! * **The leading-zeros encoding** (`leading_zeros_meets_its_specification` in the proofs) is
//!   a claim about the proofs' own encoding of [`Word::leading_zeros`] for Z3 terms (their
//!   trusted base), not a law of the kernel.
//! * The laws over **sets and states** (leaf set, routing table, neighborhood set, whole
//!   networks: `check_leaf_set_ops`, `check_route`, `check_network`, …) stay property checks
//!   in [`fuzzing`](super); the proofs crate checks routing on whole narrow networks
//!   exhaustively instead.
//! * The comparisons of [`crate::arith`] with the slow [`reference`](super::reference)
//!   definitions (in [`laws`](super::laws) and `check_arith`) are tests of the kernel against a
//!   second implementation on machine words, not claims over [`Word`]; the proofs' counterpart
//!   is the claims above that take a digit specification or spell cw out.
//!
//! ```
//! use pastry_kernel::arith::DigitWidth;
//! use pastry_kernel::fuzzing::claims::{self, Kernel};
//!
//! // On machine words a claim is a bool.
//! assert!(claims::ring_distance_triangle_inequality::<Kernel, u8>(&0x10, &0x90, &0xf0));
//! assert!(claims::closer_ties_go_clockwise::<Kernel, u16>(&0xfff0, &0x20));
//! assert!(claims::shl_ultrametric::<Kernel, u32>(&0x1234, &0x1243, &0x1200, DigitWidth::B4));
//! ```

use crate::arith::{self, DigitWidth};
use crate::word::{Boolean, Word};

// ---------------------------------------------------------------------------------------------
// The arithmetic under test.
// ---------------------------------------------------------------------------------------------

/// The ring and prefix definitions a claim is stated over (the contract of docs/design.md).
///
/// The default methods are the kernel's functions in [`crate::arith`]; [`Kernel`] keeps all of
/// them. An implementation that overrides one method is a *variant* of the kernel with that
/// definition changed (the proofs crate plants bugs this way).
pub trait Arith {
    /// A short name shown in verdicts.
    const NAME: &'static str;

    /// cw(a, k).
    fn cw<W: Word>(a: &W, k: &W) -> W {
        arith::cw(a, k)
    }
    /// dist(a, k).
    fn dist<W: Word>(a: &W, k: &W) -> W {
        arith::dist(a, k)
    }
    /// closer(k, x, y).
    fn closer<W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
        arith::closer(k, x, y)
    }
    /// digit(a, row).
    fn digit<W: Word>(a: &W, row: &W, b: DigitWidth) -> W {
        arith::digit(a, row, b)
    }
    /// shl(a, k).
    fn shl<W: Word>(a: &W, k: &W, b: DigitWidth) -> W {
        arith::shl(a, k, b)
    }
    /// The routing-table slot (row, column) of `node` in the table of `own`.
    fn slot<W: Word>(own: &W, node: &W, b: DigitWidth) -> (W, W) {
        arith::slot(own, node, b)
    }
    /// Whether `k` is on the clockwise arc `start ..= end`.
    fn in_arc<W: Word>(start: &W, end: &W, k: &W) -> W::Bool {
        arith::in_arc(start, end, k)
    }
    /// The progress rule for a hop `from → to` towards `k`.
    fn makes_progress<W: Word>(k: &W, from: &W, to: &W, b: DigitWidth) -> W::Bool {
        arith::makes_progress(k, from, to, b)
    }
    /// Whether routing step 3 at `own` may choose `t` for `k`.
    fn rare_case_admissible<W: Word>(k: &W, own: &W, t: &W, b: DigitWidth) -> W::Bool {
        arith::rare_case_admissible(k, own, t, b)
    }
    /// Whether step 3 prefers `x` to `y` for `k`.
    fn rare_case_prefers<W: Word>(k: &W, x: &W, y: &W, b: DigitWidth) -> W::Bool {
        arith::rare_case_prefers(k, x, y, b)
    }
}

/// The kernel's definitions, unchanged: what the tests check and the proofs prove.
#[derive(Clone, Copy, Debug)]
pub struct Kernel;

impl Arith for Kernel {
    const NAME: &'static str = "kernel";
}

// ---------------------------------------------------------------------------------------------
// Connectives over any `Word::Bool`.
// ---------------------------------------------------------------------------------------------

/// The constant true of `W`'s booleans (the trait has no constants: 0 = 0).
#[must_use]
pub fn truth<W: Word>() -> W::Bool {
    let zero = W::constant(0);
    zero.equal(&zero)
}

/// The conjunction of `terms` (true when there is none).
#[must_use]
pub fn all<W: Word>(terms: impl IntoIterator<Item = W::Bool>) -> W::Bool {
    terms.into_iter().fold(truth::<W>(), |acc, t| acc.and(&t))
}

/// The disjunction of `terms` (false when there is none).
#[must_use]
pub fn any<W: Word>(terms: impl IntoIterator<Item = W::Bool>) -> W::Bool {
    terms
        .into_iter()
        .fold(truth::<W>().not(), |acc, t| acc.or(&t))
}

/// `p ⇒ q`.
#[must_use]
pub fn implies<B: Boolean>(p: &B, q: &B) -> B {
    p.not().or(q)
}

/// `p ⇔ q`.
#[must_use]
pub fn iff<B: Boolean>(p: &B, q: &B) -> B {
    implies(p, q).and(&implies(q, p))
}

/// The unsigned comparison `x ≤ y`.
#[must_use]
pub fn le<W: Word>(x: &W, y: &W) -> W::Bool {
    y.ult(x).not()
}

/// The smaller of `x` and `y`.
#[must_use]
pub fn min<W: Word>(x: &W, y: &W) -> W {
    W::select(&x.ult(y), x, y)
}

/// The word with value `v`.
fn num<W: Word>(v: u32) -> W {
    W::constant(u128::from(v))
}

/// 2^(BITS − 1), half the ring.
fn half<W: Word>() -> W {
    W::constant(1u128 << (W::BITS - 1))
}

// ---------------------------------------------------------------------------------------------
// Ring distance: cw, dist and the covered arc.
// ---------------------------------------------------------------------------------------------

/// **Identity**: dist(a, a) = 0, cw(a, a) = 0, and dist(a, k) = 0 exactly when a = k.
#[must_use]
pub fn ring_distance_identity<A: Arith, W: Word>(a: &W, k: &W) -> W::Bool {
    let zero = W::constant(0);
    all::<W>([
        A::dist(a, a).equal(&zero),
        A::cw(a, a).equal(&zero),
        iff(&A::dist(a, k).equal(&zero), &a.equal(k)),
    ])
}

/// **Symmetry**: dist(a, k) = dist(k, a).
#[must_use]
pub fn ring_distance_symmetry<A: Arith, W: Word>(a: &W, k: &W) -> W::Bool {
    A::dist(a, k).equal(&A::dist(k, a))
}

/// **Bound**: dist(a, k) ≤ 2^(BITS − 1), and dist is the smaller of the two directions: it is
/// cw(a, k) or cw(k, a) and at most either.
#[must_use]
pub fn ring_distance_at_most_half<A: Arith, W: Word>(a: &W, k: &W) -> W::Bool {
    let d = A::dist(a, k);
    let (forward, backward) = (A::cw(a, k), A::cw(k, a));
    all::<W>([
        le(&d, &half::<W>()),
        le(&d, &forward),
        le(&d, &backward),
        d.equal(&forward).or(&d.equal(&backward)),
    ])
}

/// **Triangle inequality**: dist(a, x) ≤ dist(a, k) + dist(k, x), the sum taken without
/// wrapping: when the sum wraps past 2^BITS (a carry, sum < first term) it exceeds every
/// distance.
#[must_use]
pub fn ring_distance_triangle_inequality<A: Arith, W: Word>(a: &W, k: &W, x: &W) -> W::Bool {
    let (first, second) = (A::dist(a, k), A::dist(k, x));
    let sum = first.wrapping_add(&second);
    let carry = sum.ult(&first);
    carry.or(&le(&A::dist(a, x), &sum))
}

/// cw(a, k) + cw(k, a) ≡ 0 (mod 2^BITS).
#[must_use]
pub fn clockwise_distances_sum_to_zero<A: Arith, W: Word>(a: &W, k: &W) -> W::Bool {
    A::cw(a, k)
        .wrapping_add(&A::cw(k, a))
        .equal(&W::constant(0))
}

/// a + cw(a, k) = k: cw is the clockwise step from a to k (docs/design.md: (k − a) mod 2^BITS).
#[must_use]
pub fn clockwise_distance_reaches_key<A: Arith, W: Word>(a: &W, k: &W) -> W::Bool {
    a.wrapping_add(&A::cw(a, k)).equal(k)
}

/// **Wraparound at 0 / 2^BITS**: cw(a, a + d) = d for every d, in particular across 0;
/// cw(2^BITS − 1, 0) = 1 = dist(2^BITS − 1, 0); cw(0, 2^BITS − 1) = 2^BITS − 1; and
/// dist(a, a + 2^(BITS − 1)) = 2^(BITS − 1) (the opposite point).
#[must_use]
pub fn ring_wraparound<A: Arith, W: Word>(a: &W, d: &W) -> W::Bool {
    let (zero, one, top) = (W::constant(0), W::constant(1), W::constant(u128::MAX));
    let opposite = a.wrapping_add(&half::<W>());
    all::<W>([
        A::cw(a, &a.wrapping_add(d)).equal(d),
        A::cw(&top, &zero).equal(&one),
        A::dist(&top, &zero).equal(&one),
        A::cw(&zero, &top).equal(&top),
        A::dist(a, &opposite).equal(&half::<W>()),
    ])
}

/// **Translation invariance**: cw(a + t, k + t) = cw(a, k), and dist likewise.
#[must_use]
pub fn ring_translation<A: Arith, W: Word>(a: &W, k: &W, t: &W) -> W::Bool {
    let (at, kt) = (a.wrapping_add(t), k.wrapping_add(t));
    A::cw(&at, &kt)
        .equal(&A::cw(a, k))
        .and(&A::dist(&at, &kt).equal(&A::dist(a, k)))
}

/// **Arcs**: in_arc(s, e, k) holds exactly when (k − s) ≤ (e − s) mod 2^BITS (cw spelled out,
/// not [`Arith::cw`]), so both ends are on the arc and an arc from a point to itself holds only
/// that point.
#[must_use]
pub fn in_arc_matches_definition<A: Arith, W: Word>(s: &W, e: &W, k: &W) -> W::Bool {
    let definition = le(&k.wrapping_sub(s), &e.wrapping_sub(s));
    all::<W>([
        iff(&A::in_arc(s, e, k), &definition),
        A::in_arc(s, e, s),
        A::in_arc(s, e, e),
        iff(&A::in_arc(s, s, k), &k.equal(s)),
    ])
}

// ---------------------------------------------------------------------------------------------
// closer: a strict total order on distinct ids.
// ---------------------------------------------------------------------------------------------

/// **Irreflexive**: ¬closer(k, x, x).
#[must_use]
pub fn closer_is_irreflexive<A: Arith, W: Word>(k: &W, x: &W) -> W::Bool {
    A::closer(k, x, x).not()
}

/// **Asymmetric**: ¬(closer(k, x, y) ∧ closer(k, y, x)).
#[must_use]
pub fn closer_is_asymmetric<A: Arith, W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
    A::closer(k, x, y).and(&A::closer(k, y, x)).not()
}

/// **Transitive**: closer(k, x, y) ∧ closer(k, y, z) ⇒ closer(k, x, z).
#[must_use]
pub fn closer_is_transitive<A: Arith, W: Word>(k: &W, x: &W, y: &W, z: &W) -> W::Bool {
    implies(
        &A::closer(k, x, y).and(&A::closer(k, y, z)),
        &A::closer(k, x, z),
    )
}

/// **Total**: x ≠ y ⇒ closer(k, x, y) ∨ closer(k, y, x).
#[must_use]
pub fn closer_is_total<A: Arith, W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
    implies(
        &x.equal(y).not(),
        &A::closer(k, x, y).or(&A::closer(k, y, x)),
    )
}

/// The definition of docs/design.md: closer(k, x, y) ⇔ dist(x, k) < dist(y, k), or the
/// distances are equal, x ≠ y and x = k + dist(x, k) (x is the clockwise one).
#[must_use]
pub fn closer_matches_design<A: Arith, W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
    let (dx, dy) = (A::dist(x, k), A::dist(y, k));
    let design = dx.ult(&dy).or(&all::<W>([
        dx.equal(&dy),
        x.equal(y).not(),
        x.equal(&k.wrapping_add(&dx)),
    ]));
    iff(&A::closer(k, x, y), &design)
}

/// **Ties go clockwise**: k + d and k − d are equally far from k, and for
/// 0 < d < 2^(BITS − 1), closer(k, k + d, k − d) and not the other way round (FreePastry's
/// tie-break). (For d > 2^(BITS − 1) the clockwise one is k − d: the claim for −d.)
#[must_use]
pub fn closer_ties_go_clockwise<A: Arith, W: Word>(k: &W, d: &W) -> W::Bool {
    let (cwise, ccwise) = (k.wrapping_add(d), k.wrapping_sub(d));
    let proper = W::constant(0).ult(d).and(&d.ult(&half::<W>()));
    let clockwise_wins = A::closer(k, &cwise, &ccwise).and(&A::closer(k, &ccwise, &cwise).not());
    A::dist(&cwise, k)
        .equal(&A::dist(&ccwise, k))
        .and(&implies(&proper, &clockwise_wins))
}

/// Whether `r` is a root of `k` among `ids`: closer to `k` than every member other than itself.
#[must_use]
pub fn is_root<A: Arith, W: Word>(k: &W, r: &W, ids: &[W]) -> W::Bool {
    all::<W>(ids.iter().map(|o| o.equal(r).or(&A::closer(k, r, o))))
}

/// **Exactly one root**: among `ids` (not necessarily distinct), two members that are each a
/// root of `k` ([`is_root`]) are the same id, and a non-empty set has a root.
#[must_use]
pub fn root_of_a_set_is_unique<A: Arith, W: Word>(k: &W, ids: &[W]) -> W::Bool {
    let roots: alloc::vec::Vec<W::Bool> = ids.iter().map(|r| is_root::<A, W>(k, r, ids)).collect();
    let mut claims = alloc::vec::Vec::new();
    for (i, (x, x_root)) in ids.iter().zip(&roots).enumerate() {
        for (y, y_root) in ids.iter().zip(&roots).skip(i + 1) {
            claims.push(implies(&x_root.and(y_root), &x.equal(y)));
        }
    }
    if !ids.is_empty() {
        claims.push(any::<W>(roots));
    }
    all::<W>(claims)
}

// ---------------------------------------------------------------------------------------------
// shl and digit.
// ---------------------------------------------------------------------------------------------

/// **Identity**: shl(a, a) = BITS / b, the number of digits.
#[must_use]
pub fn shl_of_self_is_digit_count<A: Arith, W: Word>(a: &W, b: DigitWidth) -> W::Bool {
    A::shl(a, a, b).equal(&num(b.digits::<W>()))
}

/// **Symmetry**: shl(a, k) = shl(k, a).
#[must_use]
pub fn shl_symmetry<A: Arith, W: Word>(a: &W, k: &W, b: DigitWidth) -> W::Bool {
    A::shl(a, k, b).equal(&A::shl(k, a, b))
}

/// **Ultrametric inequality**: shl(a, x) ≥ min(shl(a, k), shl(k, x)).
#[must_use]
pub fn shl_ultrametric<A: Arith, W: Word>(a: &W, k: &W, x: &W, b: DigitWidth) -> W::Bool {
    le(&min(&A::shl(a, k, b), &A::shl(k, x, b)), &A::shl(a, x, b))
}

/// shl(a, k) ≤ BITS / b, with equality exactly when a = k.
#[must_use]
pub fn shl_is_at_most_digit_count<A: Arith, W: Word>(a: &W, k: &W, b: DigitWidth) -> W::Bool {
    let (s, d) = (A::shl(a, k, b), num::<W>(b.digits::<W>()));
    le(&s, &d).and(&iff(&s.equal(&d), &a.equal(k)))
}

/// a ≠ k ⇒ digit(a, shl(a, k)) ≠ digit(k, shl(a, k)): the first digit past the shared prefix
/// differs.
#[must_use]
pub fn digits_differ_at_shl<A: Arith, W: Word>(a: &W, k: &W, b: DigitWidth) -> W::Bool {
    let s = A::shl(a, k, b);
    implies(
        &a.equal(k).not(),
        &A::digit(a, &s, b).equal(&A::digit(k, &s, b)).not(),
    )
}

/// **Digit-by-digit definition**: shl(a, k) is the number of positions i such that digits
/// 0 ..= i of `a` and `k` all agree, the digits read by `digit_spec` (digit `i` of a word, for
/// `i < BITS / b`), an independent description of a digit.
#[must_use]
pub fn shl_matches_digit_by_digit<A: Arith, W: Word>(
    a: &W,
    k: &W,
    b: DigitWidth,
    digit_spec: impl Fn(&W, u32) -> W,
) -> W::Bool {
    let (one, zero) = (W::constant(1), W::constant(0));
    let mut agree = truth::<W>();
    let mut count = W::constant(0);
    for i in 0..b.digits::<W>() {
        agree = agree.and(&digit_spec(a, i).equal(&digit_spec(k, i)));
        count = count.wrapping_add(&W::select(&agree, &one, &zero));
    }
    A::shl(a, k, b).equal(&count)
}

/// digit(a, r) is digit `r` of `a` as `digit_spec` reads it for r < BITS / b, and 0 for
/// BITS / b ≤ r < 2^BITS / b.
///
/// The bound on r matters: for rows ≥ 2^BITS / b the shift amount r · b wraps and the digit
/// need not be 0 (Z3 finds such rows when the bound is dropped). The kernel never asks for such
/// a row (rows come from shl, at most BITS / b).
#[must_use]
pub fn digit_matches_extract<A: Arith, W: Word>(
    a: &W,
    r: &W,
    b: DigitWidth,
    digit_spec: impl Fn(&W, u32) -> W,
) -> W::Bool {
    let got = A::digit(a, r, b);
    let d = b.digits::<W>();
    let rows = (0..d).map(|i| implies(&r.equal(&num(i)), &got.equal(&digit_spec(a, i))));
    let mut past = le(&num::<W>(d), r);
    if b.log2() > 0 {
        past = past.and(&r.ult(&W::constant(1u128 << (W::BITS - b.log2()))));
    }
    let past = implies(&past, &got.equal(&W::constant(0)));
    all::<W>(rows.chain([past]))
}

// ---------------------------------------------------------------------------------------------
// Routing-table placement.
// ---------------------------------------------------------------------------------------------

/// The slot condition of docs/design.md, *Routing table*: for node ≠ own, the slot (r, c) has
/// r < BITS / b and c < 2^b, the first r digits of node and own agree, digit r of node is c,
/// and digit r of own is not c (the own column stays empty). Digits are read by `digit_spec`.
#[must_use]
pub fn slot_satisfies_design<A: Arith, W: Word>(
    own: &W,
    node: &W,
    b: DigitWidth,
    digit_spec: impl Fn(&W, u32) -> W,
) -> W::Bool {
    let (row, column) = A::slot(own, node, b);
    let d = b.digits::<W>();
    let mut claims = alloc::vec![row.ult(&num(d))];
    if b.bits() < W::BITS {
        // (When b = BITS every word is below 2^b.)
        claims.push(column.ult(&W::constant(1u128 << b.bits())));
    }
    let mut prefix = truth::<W>();
    for i in 0..d {
        let (node_digit, own_digit) = (digit_spec(node, i), digit_spec(own, i));
        let at_i = all::<W>([
            prefix.clone(),
            node_digit.equal(&column),
            own_digit.equal(&column).not(),
        ]);
        claims.push(implies(&row.equal(&num(i)), &at_i));
        prefix = prefix.and(&node_digit.equal(&own_digit));
    }
    implies(&own.equal(node).not(), &all::<W>(claims))
}

/// slot(a, a) has row BITS / b, one past the last row: no slot holds the local node.
#[must_use]
pub fn slot_of_self_is_past_last_row<A: Arith, W: Word>(a: &W, b: DigitWidth) -> W::Bool {
    A::slot(a, a, b).0.equal(&num(b.digits::<W>()))
}

// ---------------------------------------------------------------------------------------------
// Routing progress.
// ---------------------------------------------------------------------------------------------

/// **Step 2 makes progress**: at node own ≠ k with l = shl(k, own), a node ≠ own sitting in
/// the slot R\[l\]\[digit(k, l)\] of own's table (slot(own, node) = (l, digit(k, l))) shares a
/// strictly longer prefix with k than own does, and the hop satisfies the progress rule.
#[must_use]
pub fn table_next_hop_extends_prefix<A: Arith, W: Word>(
    own: &W,
    k: &W,
    node: &W,
    b: DigitWidth,
) -> W::Bool {
    let l = A::shl(k, own, b);
    let (row, column) = A::slot(own, node, b);
    let hypothesis = all::<W>([
        own.equal(k).not(),
        own.equal(node).not(),
        row.equal(&l),
        column.equal(&A::digit(k, &l, b)),
    ]);
    let conclusion = l
        .ult(&A::shl(node, k, b))
        .and(&A::makes_progress(k, own, node, b));
    implies(&hypothesis, &conclusion)
}

/// **Step 3 makes progress**: any node the rare case may choose satisfies the progress rule.
#[must_use]
pub fn rare_case_choice_makes_progress<A: Arith, W: Word>(
    own: &W,
    k: &W,
    t: &W,
    b: DigitWidth,
) -> W::Bool {
    implies(
        &A::rare_case_admissible(k, own, t, b),
        &A::makes_progress(k, own, t, b),
    )
}

/// Step 3's preference is a **strict total order** on distinct ids (irreflexive, transitive,
/// total), so the best candidate is unique and does not depend on the order they are offered.
#[must_use]
pub fn rare_case_preference_is_a_strict_total_order<A: Arith, W: Word>(
    k: &W,
    x: &W,
    y: &W,
    z: &W,
    b: DigitWidth,
) -> W::Bool {
    let pref = |u: &W, v: &W| A::rare_case_prefers(k, u, v, b);
    strict_order::<W>(&pref, x, y, z).and(&implies(&x.equal(y).not(), &pref(x, y).or(&pref(y, x))))
}

/// `rel` is irreflexive at `x` and transitive on `x, y, z`: a strict order on these ids.
fn strict_order<W: Word>(rel: &impl Fn(&W, &W) -> W::Bool, x: &W, y: &W, z: &W) -> W::Bool {
    rel(x, x)
        .not()
        .and(&implies(&rel(x, y).and(&rel(y, z)), &rel(x, z)))
}

/// **Progress is a strict order** (irreflexive and transitive): a chain of hops that each make
/// progress never revisits a node.
#[must_use]
pub fn progress_is_a_strict_order<A: Arith, W: Word>(
    k: &W,
    x: &W,
    y: &W,
    z: &W,
    b: DigitWidth,
) -> W::Bool {
    strict_order::<W>(&|u: &W, v: &W| A::makes_progress(k, u, v, b), x, y, z)
}
