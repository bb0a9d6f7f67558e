//! The theorems: the laws of ring and prefix arithmetic (docs/design.md), routing-table placement,
//! routing progress and leaf-set coverage, stated over an [`Arith`] and checked by Z3 for every
//! input of `N` bits.
//!
//! Each function declares free words, states the claim with the [`Arith`]'s functions (for
//! [`crate::Kernel`], the kernel's own code run on [`SymWord`]s), and returns Z3's [`Verdict`].
//! Where a claim needs an independent description of a digit, it reads the digit with a
//! bit-vector *extract* ([`SymWord::extract_digit`]), never with the kernel's shifts.
//!
//! Functions that take a [`DigitWidth`] are claims about prefixes and are checked for each
//! b ∈ {1, 2, 4, 8}; the others (ring distance, closer, leaf-set coverage) do not involve b.

use pastry_kernel::arith::DigitWidth;
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

/// The number of digits of an `N`-bit id, N / b.
fn digit_count<const N: u32>(b: DigitWidth) -> u32 {
    N / b.bits()
}

fn min<const N: u32>(x: &SymWord<N>, y: &SymWord<N>) -> SymWord<N> {
    SymWord::select(&x.ult(y), x, y)
}

/// `prefix[i]` is true when the digits `0..i` of `a` and `k` agree (read by extract), for
/// `i` in `0..=N/b`; `prefix[0]` is true.
fn prefix_agreement<const N: u32>(a: &SymWord<N>, k: &SymWord<N>, b: DigitWidth) -> Vec<SymBool> {
    let mut out = vec![SymBool::constant(true)];
    for i in 0..digit_count::<N>(b) {
        let same = a
            .extract_digit(i, b.bits())
            .equal(&k.extract_digit(i, b.bits()));
        let next = out[i as usize].and(&same);
        out.push(next);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Ring distance: cw and dist.
// ---------------------------------------------------------------------------------------------

/// dist(a, a) = 0, and dist(a, k) = 0 only when a = k.
#[must_use]
pub fn ring_distance_identity<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("ring_distance_identity", None));
    let (a, k) = (p.word::<S>("a"), p.word::<S>("k"));
    let zero = S::constant(0);
    let claim = A::dist(&a, &a)
        .equal(&zero)
        .and(&A::dist(&a, &k).equal(&zero).implies(&a.equal(&k)));
    p.prove(&claim)
}

/// dist(a, k) = dist(k, a).
#[must_use]
pub fn ring_distance_symmetry<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("ring_distance_symmetry", None));
    let (a, k) = (p.word::<S>("a"), p.word::<S>("k"));
    p.prove(&A::dist(&a, &k).equal(&A::dist(&k, &a)))
}

/// dist(a, k) ≤ 2^(N − 1).
#[must_use]
pub fn ring_distance_at_most_half<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("ring_distance_at_most_half", None));
    let (a, k) = (p.word::<S>("a"), p.word::<S>("k"));
    p.prove(&A::dist(&a, &k).le(&S::constant(1 << (S::BITS - 1))))
}

/// dist(a, c) ≤ dist(a, k) + dist(k, c), the sum taken in N + 1 bits so that it cannot wrap.
#[must_use]
pub fn ring_distance_triangle_inequality<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("ring_distance_triangle_inequality", None));
    let (a, k, x) = (p.word::<S>("a"), p.word::<S>("k"), p.word::<S>("c"));
    p.prove(&A::dist(&a, &x).at_most_sum(&A::dist(&a, &k), &A::dist(&k, &x)))
}

/// cw(a, k) + cw(k, a) ≡ 0 (mod 2^N).
#[must_use]
pub fn clockwise_distances_sum_to_zero<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("clockwise_distances_sum_to_zero", None));
    let (a, k) = (p.word::<S>("a"), p.word::<S>("k"));
    p.prove(
        &A::cw(&a, &k)
            .wrapping_add(&A::cw(&k, &a))
            .equal(&S::constant(0)),
    )
}

/// a + cw(a, k) = k: cw is the clockwise step from a to k (docs/design.md: (k − a) mod 2^N).
#[must_use]
pub fn clockwise_distance_reaches_key<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("clockwise_distance_reaches_key", None));
    let (a, k) = (p.word::<S>("a"), p.word::<S>("k"));
    p.prove(&a.wrapping_add(&A::cw(&a, &k)).equal(&k))
}

// ---------------------------------------------------------------------------------------------
// closer: a strict total order on distinct ids.
// ---------------------------------------------------------------------------------------------

/// ¬closer(k, x, x).
#[must_use]
pub fn closer_is_irreflexive<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_is_irreflexive", None));
    let (k, x) = (p.word::<S>("k"), p.word::<S>("x"));
    p.prove(&A::closer(&k, &x, &x).not())
}

/// ¬(closer(k, x, y) ∧ closer(k, y, x)).
#[must_use]
pub fn closer_is_asymmetric<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_is_asymmetric", None));
    let (k, x, y) = (p.word::<S>("k"), p.word::<S>("x"), p.word::<S>("y"));
    p.prove(&A::closer(&k, &x, &y).and(&A::closer(&k, &y, &x)).not())
}

/// closer(k, x, y) ∧ closer(k, y, z) ⇒ closer(k, x, z).
#[must_use]
pub fn closer_is_transitive<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_is_transitive", None));
    let (k, x) = (p.word::<S>("k"), p.word::<S>("x"));
    let (y, z) = (p.word::<S>("y"), p.word::<S>("z"));
    let claim = A::closer(&k, &x, &y)
        .and(&A::closer(&k, &y, &z))
        .implies(&A::closer(&k, &x, &z));
    p.prove(&claim)
}

/// x ≠ y ⇒ closer(k, x, y) ∨ closer(k, y, x).
#[must_use]
pub fn closer_is_total<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_is_total", None));
    let (k, x, y) = (p.word::<S>("k"), p.word::<S>("x"), p.word::<S>("y"));
    let claim = x
        .equal(&y)
        .not()
        .implies(&A::closer(&k, &x, &y).or(&A::closer(&k, &y, &x)));
    p.prove(&claim)
}

/// The definition of docs/design.md: closer(k, x, y) ⇔ dist(x, k) < dist(y, k), or the distances
/// are equal, x ≠ y and x = k + dist(x, k) (x is the clockwise one).
#[must_use]
pub fn closer_matches_design<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_matches_design", None));
    let (k, x, y) = (p.word::<S>("k"), p.word::<S>("x"), p.word::<S>("y"));
    let (dx, dy) = (A::dist(&x, &k), A::dist(&y, &k));
    let design = dx.ult(&dy).or(&SymBool::all(&[
        dx.equal(&dy),
        x.equal(&y).not(),
        x.equal(&k.wrapping_add(&dx)),
    ]));
    p.prove(&A::closer(&k, &x, &y).iff(&design))
}

/// For 0 < d < 2^(N − 1): closer(k, k + d, k − d) and not the other way round (FreePastry's
/// tie-break: the clockwise one wins).
#[must_use]
pub fn closer_ties_go_clockwise<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("closer_ties_go_clockwise", None));
    let (k, d) = (p.word::<S>("k"), p.word::<S>("d"));
    p.assume(
        &S::constant(0)
            .ult(&d)
            .and(&d.ult(&S::constant(1 << (S::BITS - 1)))),
    );
    let (cwise, ccwise) = (k.wrapping_add(&d), k.wrapping_sub(&d));
    let claim = A::closer(&k, &cwise, &ccwise).and(&A::closer(&k, &ccwise, &cwise).not());
    p.prove(&claim)
}

/// The root of a set is unique: among four ids (not necessarily distinct), two members that are
/// each closer to k than every other member are the same id.
#[must_use]
pub fn root_of_a_set_is_unique<A: Arith, S: Sym>() -> Verdict {
    let mut p = Prover::new(label::<A, S>("root_of_a_set_is_unique", None));
    let k = p.word::<S>("k");
    let m: Vec<S> = (0..4).map(|i| p.word::<S>(&format!("m{i}"))).collect();
    let is_root = |r: &S| {
        SymBool::all(
            &m.iter()
                .map(|o| o.equal(r).or(&A::closer(&k, r, o)))
                .collect::<Vec<_>>(),
        )
    };
    let mut claims = Vec::new();
    for (i, x) in m.iter().enumerate() {
        for y in &m[i + 1..] {
            claims.push(is_root(x).and(&is_root(y)).implies(&x.equal(y)));
        }
    }
    p.prove(&SymBool::all(&claims))
}

// ---------------------------------------------------------------------------------------------
// shl and digit.
// ---------------------------------------------------------------------------------------------

/// shl(a, a) = N / b.
#[must_use]
pub fn shl_of_self_is_digit_count<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "shl_of_self_is_digit_count",
        Some(b),
    ));
    let a = p.word::<SymWord<N>>("a");
    let d = c::<N>(u128::from(digit_count::<N>(b)));
    p.prove(&A::shl(&a, &a, b).equal(&d))
}

/// shl(a, k) = shl(k, a).
#[must_use]
pub fn shl_symmetry<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>("shl_symmetry", Some(b)));
    let (a, k) = (p.word::<SymWord<N>>("a"), p.word::<SymWord<N>>("k"));
    p.prove(&A::shl(&a, &k, b).equal(&A::shl(&k, &a, b)))
}

/// shl(a, c) ≥ min(shl(a, k), shl(k, c)).
#[must_use]
pub fn shl_ultrametric<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>("shl_ultrametric", Some(b)));
    let (a, k, x) = (
        p.word::<SymWord<N>>("a"),
        p.word::<SymWord<N>>("k"),
        p.word::<SymWord<N>>("c"),
    );
    let lower = min(&A::shl(&a, &k, b), &A::shl(&k, &x, b));
    p.prove(&lower.ule(&A::shl(&a, &x, b)))
}

/// shl(a, k) ≤ N / b, with equality exactly when a = k.
#[must_use]
pub fn shl_is_at_most_digit_count<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "shl_is_at_most_digit_count",
        Some(b),
    ));
    let (a, k) = (p.word::<SymWord<N>>("a"), p.word::<SymWord<N>>("k"));
    let s = A::shl(&a, &k, b);
    let d = c::<N>(u128::from(digit_count::<N>(b)));
    p.prove(&s.ule(&d).and(&s.equal(&d).iff(&a.equal(&k))))
}

/// a ≠ k ⇒ digit(a, shl(a, k)) ≠ digit(k, shl(a, k)).
#[must_use]
pub fn digits_differ_at_shl<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>("digits_differ_at_shl", Some(b)));
    let (a, k) = (p.word::<SymWord<N>>("a"), p.word::<SymWord<N>>("k"));
    p.assume(&a.equal(&k).not());
    let s = A::shl(&a, &k, b);
    p.prove(&A::digit(&a, &s, b).equal(&A::digit(&k, &s, b)).not())
}

/// shl(a, k) equals the digit-by-digit definition: the number of positions i such that the
/// digits 0..=i of a and k (read by extract) all agree.
#[must_use]
pub fn shl_matches_digit_by_digit<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "shl_matches_digit_by_digit",
        Some(b),
    ));
    let (a, k) = (p.word::<SymWord<N>>("a"), p.word::<SymWord<N>>("k"));
    let prefix = prefix_agreement(&a, &k, b);
    let (one, zero) = (c::<N>(1), c::<N>(0));
    let count = prefix[1..].iter().fold(c::<N>(0), |n, agree| {
        n.wrapping_add(&SymWord::select(agree, &one, &zero))
    });
    p.prove(&A::shl(&a, &k, b).equal(&count))
}

/// digit(a, r) is the r-th digit of a read by extract for r < N / b, and 0 for
/// N / b ≤ r < 2^N / b.
#[must_use]
pub fn digit_matches_extract<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>("digit_matches_extract", Some(b)));
    let (a, r) = (p.word::<SymWord<N>>("a"), p.word::<SymWord<N>>("r"));
    let got = A::digit(&a, &r, b);
    let d = digit_count::<N>(b);
    let mut claims: Vec<SymBool> = (0..d)
        .map(|i| {
            r.equal(&c::<N>(u128::from(i)))
                .implies(&got.equal(&a.extract_digit(i, b.bits())))
        })
        .collect();
    // Past the last row the digit is 0 — as long as row · b does not wrap, which holds for
    // every row the kernel asks for (at most N / b). For rows ≥ 2^N / b the shift amount
    // wraps and the digit need not be 0 (Z3 finds such rows when the bound is dropped).
    let mut past = c::<N>(u128::from(d)).ule(&r);
    if b.log2() > 0 {
        past = past.and(&r.ult(&c::<N>(1u128 << (N - b.log2()))));
    }
    claims.push(past.implies(&got.equal(&c::<N>(0))));
    p.prove(&SymBool::all(&claims))
}

// ---------------------------------------------------------------------------------------------
// Routing-table placement.
// ---------------------------------------------------------------------------------------------

/// The slot condition of docs/design.md, *Routing table*: for node ≠ own, the slot (r, c) the
/// kernel computes has r < N / b and c < 2^b, the first r digits of node and own agree, digit r of
/// node is c, and digit r of own is not c (the own column stays empty). Digits are read by extract.
#[must_use]
pub fn slot_satisfies_design<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>("slot_satisfies_design", Some(b)));
    let (own, node) = (p.word::<SymWord<N>>("own"), p.word::<SymWord<N>>("node"));
    p.assume(&own.equal(&node).not());
    let (row, column) = A::slot(&own, &node, b);
    let d = digit_count::<N>(b);
    let prefix = prefix_agreement(&own, &node, b);
    let mut claims = vec![row.ult(&c::<N>(u128::from(d)))];
    if b.bits() < N {
        // (When b = N every N-bit word is below 2^b.)
        claims.push(column.ult(&c::<N>(1 << b.bits())));
    }
    for i in 0..d {
        let at_i = SymBool::all(&[
            prefix[i as usize].clone(),
            node.extract_digit(i, b.bits()).equal(&column),
            own.extract_digit(i, b.bits()).equal(&column).not(),
        ]);
        claims.push(row.equal(&c::<N>(u128::from(i))).implies(&at_i));
    }
    p.prove(&SymBool::all(&claims))
}

/// slot(a, a) has row N / b, one past the last row: no slot holds the local node.
#[must_use]
pub fn slot_of_self_is_past_last_row<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "slot_of_self_is_past_last_row",
        Some(b),
    ));
    let a = p.word::<SymWord<N>>("a");
    let (row, _) = A::slot(&a, &a, b);
    p.prove(&row.equal(&c::<N>(u128::from(digit_count::<N>(b)))))
}

/// Instances of the laws of closer — irreflexive, transitive, total on distinct ids — for every
/// ordered choice among `ids`. Each is an instance of a theorem proved for all inputs
/// ([`closer_is_irreflexive`], [`closer_is_transitive`], [`closer_is_total`]), so assuming them
/// is sound; it spares the bit-vector solver re-deriving those laws through 128-bit adders.
fn closer_laws<A: Arith, S: Sym>(k: &S, ids: &[&S]) -> Vec<SymBool> {
    let mut laws = Vec::new();
    for x in ids {
        laws.push(A::closer(k, x, x).not());
        for y in ids {
            laws.push(
                x.equal(y)
                    .not()
                    .implies(&A::closer(k, x, y).or(&A::closer(k, y, x))),
            );
            for z in ids {
                laws.push(
                    A::closer(k, x, y)
                        .and(&A::closer(k, y, z))
                        .implies(&A::closer(k, x, z)),
                );
            }
        }
    }
    laws
}

// ---------------------------------------------------------------------------------------------
// Routing progress.
// ---------------------------------------------------------------------------------------------

/// Step 2 makes progress: at node own ≠ k with l = shl(k, own), a node sitting in the slot
/// R\[l\]\[digit(k, l)\] of own's table (slot(own, node) = (l, digit(k, l))) shares a strictly
/// longer prefix with k than own does, and the hop satisfies the progress rule.
#[must_use]
pub fn table_next_hop_extends_prefix<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "table_next_hop_extends_prefix",
        Some(b),
    ));
    let (own, k, node) = (
        p.word::<SymWord<N>>("own"),
        p.word::<SymWord<N>>("k"),
        p.word::<SymWord<N>>("node"),
    );
    p.assume(&own.equal(&k).not());
    p.assume(&own.equal(&node).not());
    let l = A::shl(&k, &own, b);
    let (row, column) = A::slot(&own, &node, b);
    p.assume(&row.equal(&l).and(&column.equal(&A::digit(&k, &l, b))));
    let claim = l
        .ult(&A::shl(&node, &k, b))
        .and(&A::makes_progress(&k, &own, &node, b));
    p.prove(&claim)
}

/// Step 3 makes progress: any node the rare case may choose satisfies the progress rule.
#[must_use]
pub fn rare_case_choice_makes_progress<A: Arith, const N: u32>(b: DigitWidth) -> Verdict {
    let mut p = Prover::new(label::<A, SymWord<N>>(
        "rare_case_choice_makes_progress",
        Some(b),
    ));
    let (own, k, t) = (
        p.word::<SymWord<N>>("own"),
        p.word::<SymWord<N>>("k"),
        p.word::<SymWord<N>>("t"),
    );
    let claim =
        A::rare_case_admissible(&k, &own, &t, b).implies(&A::makes_progress(&k, &own, &t, b));
    p.prove(&claim)
}

/// Step 3's preference is a strict total order on distinct ids (irreflexive, transitive,
/// total), so the best candidate is unique and does not depend on the order they are offered.
/// Uses the laws of closer as proved lemmas (see `closer_laws`).
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
    let pref = |u: &SymWord<N>, v: &SymWord<N>| A::rare_case_prefers(&k, u, v, b);
    let claim = SymBool::all(&[
        pref(&x, &x).not(),
        pref(&x, &y).and(&pref(&y, &z)).implies(&pref(&x, &z)),
        x.equal(&y).not().implies(&pref(&x, &y).or(&pref(&y, &x))),
    ]);
    p.prove(&claim)
}

/// The progress rule is a strict order (irreflexive and transitive): a chain of hops that each
/// make progress never revisits a node. Uses the laws of closer as proved lemmas (see
/// `closer_laws`).
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
    let prog = |u: &SymWord<N>, v: &SymWord<N>| A::makes_progress(&k, u, v, b);
    let claim = prog(&x, &x)
        .not()
        .and(&prog(&x, &y).and(&prog(&y, &z)).implies(&prog(&x, &z)));
    p.prove(&claim)
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
