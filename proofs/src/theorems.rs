//! The theorems: the laws of ring and prefix arithmetic (docs/design.md), routing-table placement,
//! routing progress and leaf-set coverage, stated over an [`Arith`] and checked by Z3 for every
//! input of `N` bits.
//!
//! Each law that is a claim about a few words is written **once**, in the kernel
//! (`pastry_kernel::fuzzing::claims`, feature `laws`), generic over `Word` and an [`Arith`]; the
//! kernel's property tests evaluate that function on machine words and assert it, and the
//! theorem here of the same name declares free [`Sym`] words, builds the same function on them
//! (for [`crate::Kernel`], the kernel's own code run on symbolic words) and asks Z3 to prove it.
//! Where a claim needs an independent description of a digit, the theorem passes a bit-vector
//! *extract* ([`SymWord::extract_digit`]), never the kernel's shifts.
//!
//! Written here only, with the reason:
//!
//! * [`leaf_set_coverage`]: a claim about a whole leaf set (ids in ring order on both sides of
//!   a node, a root among them), whose hypotheses random words almost never meet; the kernel
//!   tests coverage on real leaf sets against a brute-force model instead;
//! * [`leading_zeros_meets_its_specification`]: about this crate's encoding of leading zeros
//!   for Z3 (the trusted base), not a law of the kernel.
//!
//! [`root_of_a_set_is_unique`], [`rare_case_preference_is_a_strict_total_order`] and
//! [`progress_is_a_strict_order`] prove the shared claim under lemmas (instances of the closer
//! laws, themselves proved for every input); the lemmas are a proof step, not part of the claim.
//!
//! Functions that take a [`DigitWidth`] are claims about prefixes and are checked for each
//! b ∈ {1, 2, 4, 8}; the others (ring distance, closer, leaf-set coverage) do not involve b.

use pastry_kernel::arith::DigitWidth;
use pastry_kernel::fuzzing::claims;
use pastry_kernel::word::{Boolean, Word};

use crate::prover::{Prover, Verdict};
use crate::sym::{Sym, SymBool, SymWord};
use crate::variants::Arith;

fn label<A: Arith, S: Sym>(name: &str, b: Option<DigitWidth>) -> String {
    match b {
        Some(b) => format!("{name} [{}, {}, b = {}]", A::NAME, S::encoding(), b.bits()),
        None => format!("{name} [{}, {}]", A::NAME, S::encoding()),
    }
}

fn c<const N: u32>(v: u128) -> SymWord<N> {
    SymWord::constant(v)
}

/// The digit specification the prefix claims take: digit `i` read by bit-vector extract.
fn extract<const N: u32>(b: DigitWidth) -> impl Fn(&SymWord<N>, u32) -> SymWord<N> {
    move |w: &SymWord<N>, i: u32| w.extract_digit(i, b.bits())
}

/// A ring theorem: the shared claim `claims::$name` built on free words (named as the claim's
/// parameters), proved for every `S`.
macro_rules! ring_theorem {
    ($(#[$doc:meta])* $name:ident($($v:ident),+)) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name<A: Arith, S: Sym>() -> Verdict {
            let mut p = Prover::new(label::<A, S>(stringify!($name), None));
            $(let $v = p.word::<S>(stringify!($v));)+
            p.prove(&claims::$name::<A, S>($(&$v),+))
        }
    };
}

/// A prefix theorem: the shared claim `claims::$name` built on free `N`-bit words for one b
/// (`with extract`: the claim also takes the digit specification, read by extract).
macro_rules! prefix_theorem {
    ($(#[$doc:meta])* $name:ident($($v:ident),+) $($spec:ident)?) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
            let mut p = Prover::new(label::<A, SymWord<N>>(stringify!($name), Some(b)));
            $(let $v = p.word::<SymWord<N>>(stringify!($v));)+
            p.prove(&claims::$name::<A, SymWord<N>>($(&$v),+, b $(, $spec::<N>(b))?))
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Ring distance: cw, dist and the covered arc.
// ---------------------------------------------------------------------------------------------

ring_theorem!(
    /// [`claims::ring_distance_identity`]: dist(a, a) = 0, cw(a, a) = 0, and dist(a, k) = 0
    /// exactly when a = k.
    ring_distance_identity(a, k)
);
ring_theorem!(
    /// [`claims::ring_distance_symmetry`]: dist(a, k) = dist(k, a).
    ring_distance_symmetry(a, k)
);
ring_theorem!(
    /// [`claims::ring_distance_at_most_half`]: dist(a, k) ≤ 2^(N − 1), and dist is cw(a, k) or
    /// cw(k, a) and at most either.
    ring_distance_at_most_half(a, k)
);
ring_theorem!(
    /// [`claims::ring_distance_triangle_inequality`]: dist(a, x) ≤ dist(a, k) + dist(k, x), the
    /// sum taken without wrapping.
    ring_distance_triangle_inequality(a, k, x)
);
ring_theorem!(
    /// [`claims::clockwise_distances_sum_to_zero`]: cw(a, k) + cw(k, a) ≡ 0 (mod 2^N).
    clockwise_distances_sum_to_zero(a, k)
);
ring_theorem!(
    /// [`claims::clockwise_distance_reaches_key`]: a + cw(a, k) = k (docs/design.md:
    /// (k − a) mod 2^N).
    clockwise_distance_reaches_key(a, k)
);
ring_theorem!(
    /// [`claims::ring_wraparound`]: cw(a, a + d) = d, cw(2^N − 1, 0) = 1 = dist(2^N − 1, 0),
    /// cw(0, 2^N − 1) = 2^N − 1, dist(a, a + 2^(N − 1)) = 2^(N − 1).
    ring_wraparound(a, d)
);
ring_theorem!(
    /// [`claims::ring_translation`]: cw(a + t, k + t) = cw(a, k), and dist likewise.
    ring_translation(a, k, t)
);
ring_theorem!(
    /// [`claims::in_arc_matches_definition`]: in_arc(s, e, k) ⇔ (k − s) ≤ (e − s) mod 2^N; both
    /// ends on the arc; the arc from s to s holds only s.
    in_arc_matches_definition(s, e, k)
);

// ---------------------------------------------------------------------------------------------
// closer: a strict total order on distinct ids.
// ---------------------------------------------------------------------------------------------

ring_theorem!(
    /// [`claims::closer_is_irreflexive`]: ¬closer(k, x, x).
    closer_is_irreflexive(k, x)
);
ring_theorem!(
    /// [`claims::closer_is_asymmetric`]: ¬(closer(k, x, y) ∧ closer(k, y, x)).
    closer_is_asymmetric(k, x, y)
);
ring_theorem!(
    /// [`claims::closer_is_transitive`]: closer(k, x, y) ∧ closer(k, y, z) ⇒ closer(k, x, z).
    closer_is_transitive(k, x, y, z)
);
ring_theorem!(
    /// [`claims::closer_is_total`]: x ≠ y ⇒ closer(k, x, y) ∨ closer(k, y, x).
    closer_is_total(k, x, y)
);
ring_theorem!(
    /// [`claims::closer_matches_design`]: closer(k, x, y) ⇔ dist(x, k) < dist(y, k), or the
    /// distances are equal, x ≠ y and x = k + dist(x, k) (x is the clockwise one).
    closer_matches_design(k, x, y)
);
ring_theorem!(
    /// [`claims::closer_ties_go_clockwise`]: dist(k + d, k) = dist(k − d, k), and for
    /// 0 < d < 2^(N − 1), closer(k, k + d, k − d) and not the other way round (FreePastry's
    /// tie-break: the clockwise one wins).
    closer_ties_go_clockwise(k, d)
);

/// [`claims::root_of_a_set_is_unique`] for a set of four ids `m0` … `m3` (not necessarily
/// distinct): two members that are each closer to k than every other member are the same id,
/// and the set has such a member. Proved under the laws of closer as lemmas (see
/// `closer_laws`): with them the bit-vector cross-check takes milliseconds instead of seconds.
#[must_use]
pub fn root_of_a_set_is_unique<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("root_of_a_set_is_unique", None));
    let k = p.word::<S>("k");
    let m: Vec<S> = (0..4).map(|i| p.word::<S>(&format!("m{i}"))).collect();
    for law in closer_laws::<A, S>(&k, &m.iter().collect::<Vec<_>>()) {
        p.assume(&law);
    }
    p.prove(&claims::root_of_a_set_is_unique::<A, S>(&k, &m))
}

// ---------------------------------------------------------------------------------------------
// shl and digit.
// ---------------------------------------------------------------------------------------------

prefix_theorem!(
    /// [`claims::shl_of_self_is_digit_count`]: shl(a, a) = N / b.
    shl_of_self_is_digit_count(a)
);
prefix_theorem!(
    /// [`claims::shl_symmetry`]: shl(a, k) = shl(k, a).
    shl_symmetry(a, k)
);
prefix_theorem!(
    /// [`claims::shl_ultrametric`]: shl(a, x) ≥ min(shl(a, k), shl(k, x)).
    shl_ultrametric(a, k, x)
);
prefix_theorem!(
    /// [`claims::shl_is_at_most_digit_count`]: shl(a, k) ≤ N / b, with equality exactly when
    /// a = k.
    shl_is_at_most_digit_count(a, k)
);
prefix_theorem!(
    /// [`claims::digits_differ_at_shl`]: a ≠ k ⇒ digit(a, shl(a, k)) ≠ digit(k, shl(a, k)).
    digits_differ_at_shl(a, k)
);
prefix_theorem!(
    /// [`claims::shl_matches_digit_by_digit`]: shl(a, k) equals the number of positions i such
    /// that the digits 0..=i of a and k, read by extract, all agree.
    shl_matches_digit_by_digit(a, k) extract
);
prefix_theorem!(
    /// [`claims::digit_matches_extract`]: digit(a, r) is the r-th digit of a read by extract for
    /// r < N / b, and 0 for N / b ≤ r < 2^N / b.
    digit_matches_extract(a, r) extract
);

// ---------------------------------------------------------------------------------------------
// Routing-table placement.
// ---------------------------------------------------------------------------------------------

prefix_theorem!(
    /// [`claims::slot_satisfies_design`]: for node ≠ own, the slot (r, c) the kernel computes
    /// has r < N / b and c < 2^b, the first r digits of node and own agree, digit r of node is
    /// c, and digit r of own is not c (the own column stays empty). Digits are read by extract.
    slot_satisfies_design(own, node) extract
);
prefix_theorem!(
    /// [`claims::slot_of_self_is_past_last_row`]: slot(a, a) has row N / b, one past the last
    /// row: no slot holds the local node.
    slot_of_self_is_past_last_row(a)
);

/// Instances of the laws of closer — irreflexive, transitive, total on distinct ids — for every
/// ordered choice among `ids`, built from the shared claims. Each is an instance of a theorem
/// proved for all inputs ([`closer_is_irreflexive`], [`closer_is_transitive`],
/// [`closer_is_total`]), so assuming them is sound; it spares the bit-vector solver
/// re-deriving those laws through 128-bit adders.
fn closer_laws<A: Arith, S: Sym>(k: &S, ids: &[&S]) -> Vec<SymBool> {
    let mut laws = Vec::new();
    for x in ids {
        laws.push(claims::closer_is_irreflexive::<A, S>(k, x));
        for y in ids {
            laws.push(claims::closer_is_total::<A, S>(k, x, y));
            for z in ids {
                laws.push(claims::closer_is_transitive::<A, S>(k, x, y, z));
            }
        }
    }
    laws
}

// ---------------------------------------------------------------------------------------------
// Routing progress.
// ---------------------------------------------------------------------------------------------

prefix_theorem!(
    /// [`claims::table_next_hop_extends_prefix`]: at node own ≠ k with l = shl(k, own), a node
    /// sitting in the slot R\[l\]\[digit(k, l)\] of own's table shares a strictly longer prefix
    /// with k than own does, and the hop satisfies the progress rule.
    table_next_hop_extends_prefix(own, k, node)
);
prefix_theorem!(
    /// [`claims::rare_case_choice_makes_progress`]: any node the rare case may choose satisfies
    /// the progress rule.
    rare_case_choice_makes_progress(own, k, t)
);

/// [`claims::rare_case_preference_is_a_strict_total_order`]: step 3's preference is a strict
/// total order on distinct ids, so the best candidate is unique. Proved under the laws of
/// closer as lemmas (see `closer_laws`).
#[must_use]
pub fn rare_case_preference_is_a_strict_total_order<A: Arith, const N: u32>(
    b: DigitWidth,
) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "rare_case_preference_is_a_strict_total_order",
        Some(b),
    ));
    let (k, x) = (p.word::<SymWord<N>>("k"), p.word::<SymWord<N>>("x"));
    let (y, z) = (p.word::<SymWord<N>>("y"), p.word::<SymWord<N>>("z"));
    for law in closer_laws::<A, SymWord<N>>(&k, &[&x, &y, &z]) {
        p.assume(&law);
    }
    p.prove(&claims::rare_case_preference_is_a_strict_total_order::<
        A,
        SymWord<N>,
    >(&k, &x, &y, &z, b))
}

/// [`claims::progress_is_a_strict_order`]: the progress rule is irreflexive and transitive, so
/// a chain of hops that each make progress never revisits a node. Proved under the laws of
/// closer as lemmas (see `closer_laws`).
#[must_use]
pub fn progress_is_a_strict_order<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "progress_is_a_strict_order",
        Some(b),
    ));
    let (k, x) = (p.word::<SymWord<N>>("k"), p.word::<SymWord<N>>("x"));
    let (y, z) = (p.word::<SymWord<N>>("y"), p.word::<SymWord<N>>("z"));
    for law in closer_laws::<A, SymWord<N>>(&k, &[&x, &y, &z]) {
        p.assume(&law);
    }
    p.prove(&claims::progress_is_a_strict_order::<A, SymWord<N>>(
        &k, &x, &y, &z, b,
    ))
}

// ---------------------------------------------------------------------------------------------
// Leaf-set coverage.
// ---------------------------------------------------------------------------------------------

/// Leaf-set coverage for a symbolic leaf set of `half` successors and `half` predecessors
/// (L = 2·half ids) of node `own`, in ring order:
///
/// * successors s1..sh with 0 < cw(own, s1) < … < cw(own, sh);
/// * predecessors p1..ph with 0 < cw(p1, own) < … < cw(ph, own);
/// * the two arcs do not meet (cw(own, sh) < cw(own, ph)): the leaf set does not know the
///   whole ring.
///
/// Claim: for a key k that is covered (on the arc ph → own or own → sh) and any id x outside
/// the covered arc, the root of k among the members and own — the one of them that is closer
/// to k than each of the others — is closer to k than x. So the leaf set alone decides the root
/// of a covered key among *all* live nodes, whatever lies outside the arc.
#[must_use]
pub fn leaf_set_coverage<A: Arith, S: Sym>(half: usize) -> Verdict {
    let name = format!("leaf_set_coverage_l{}", 2 * half);
    let mut p = Prover::new(label::<A, S>(&name, None));
    let own = p.word::<S>("own");
    let succ: Vec<S> = (1..=half).map(|i| p.word::<S>(&format!("s{i}"))).collect();
    let pred: Vec<S> = (1..=half).map(|i| p.word::<S>(&format!("p{i}"))).collect();
    let (k, x) = (p.word::<S>("k"), p.word::<S>("x"));
    let zero = S::constant(0);
    let mut prev = zero.clone();
    for s in &succ {
        let d = A::cw(&own, s);
        p.assume(&prev.ult(&d));
        prev = d;
    }
    let mut prev = zero;
    for q in &pred {
        let d = A::cw(q, &own);
        p.assume(&prev.ult(&d));
        prev = d;
    }
    let (far_s, far_p) = (&succ[half - 1], &pred[half - 1]);
    p.assume(&A::cw(&own, far_s).ult(&A::cw(&own, far_p)));
    let covered = |z: &S| A::in_arc(far_p, &own, z).or(&A::in_arc(&own, far_s, z));
    p.assume(&covered(&k));
    p.assume(&covered(&x).not());

    // The root: a member (or own) that is closer to k than every other one. closer is a strict
    // total order (closer_is_irreflexive, _transitive, _total), so exactly one exists.
    let root = p.word::<S>("root");
    let everyone: Vec<&S> = succ.iter().chain(pred.iter()).chain([&own]).collect();
    p.assume(&SymBool::any(
        &everyone.iter().map(|m| root.equal(m)).collect::<Vec<_>>(),
    ));
    for m in &everyone {
        p.assume(&m.equal(&root).or(&A::closer(&k, &root, m)));
    }
    p.prove(&A::closer(&k, &root, &x))
}

// ---------------------------------------------------------------------------------------------
// The trusted leading-zeros encoding.
// ---------------------------------------------------------------------------------------------

/// The bit-vector encoding of leading zeros ([`SymWord::leading_zeros_encoding`]) meets its
/// specification: lz(0) = N, and for x ≠ 0, n = lz(x) < N and x >> (N − 1 − n) = 1 (the highest
/// set bit is bit N − 1 − n).
#[must_use]
pub fn leading_zeros_meets_its_specification<const N: u32>() -> Verdict {
    let mut p = Prover::new(format!("leading_zeros_meets_its_specification [bv{N}]"));
    let x = p.word::<SymWord<N>>("x");
    let n = x.leading_zeros();
    let zero = c::<N>(0);
    let top = c::<N>(u128::from(N - 1)).wrapping_sub(&n);
    let claim = SymBool::all(&[
        x.equal(&zero).implies(&n.equal(&c::<N>(u128::from(N)))),
        x.equal(&zero).not().implies(
            &n.ult(&c::<N>(u128::from(N)))
                .and(&x.shr_by(&top).equal(&c::<N>(1))),
        ),
    ]);
    p.prove(&claim)
}
