//! Symbolic words: the kernel's [`Word`] and [`Boolean`] traits implemented for Z3 terms.
//!
//! [`SymWord<N>`] wraps a Z3 bit-vector of `N` bits and [`SymBool`] a Z3 boolean. Every
//! [`Word`] operation maps to one SMT-LIB bit-vector operation whose semantics is exactly the
//! one the trait documents (arithmetic modulo 2^N, unsigned order, shifts by `>= N` give zero),
//! except [`Word::leading_zeros`], which SMT-LIB lacks and which is encoded here by a binary
//! search (see [`SymWord::leading_zeros_encoding`]). The encodings are the proofs' trusted base;
//! `tests/trusted_base.rs` checks each of them against the machine-word implementation and
//! `leading_zeros_meets_its_specification` proves the leading-zeros encoding correct.
//!
//! [`IntWord<N>`] is a second symbolic word for the theorems about the ring alone (cw, dist,
//! closer, in_arc), which use only addition, subtraction, comparison and select: it represents
//! an `N`-bit word by a Z3 *integer* in `[0, 2^N)` and wrapping arithmetic by linear terms
//! (`a + b − 2^N` when the sum reaches `2^N`, `a − b + 2^N` when the difference is negative), so
//! Z3's linear-arithmetic solver decides those theorems at N = 128 in milliseconds, where
//! bit-blasting 128-bit adders takes minutes. Both encodings are in the trusted base and tested
//! against `u128`; the ring theorems are also checked with bit-vectors at N = 8 and 16.

use core::fmt;

use pastry_kernel::word::{Boolean, Word};
use z3::ast::{Bool, Int, BV};

/// A symbolic boolean: a Z3 `Bool` term.
#[derive(Clone, Debug)]
pub struct SymBool(pub Bool);

impl SymBool {
    /// The constant `v`.
    #[must_use]
    pub fn constant(v: bool) -> SymBool {
        SymBool(Bool::from_bool(v))
    }

    /// Logical implication `self ⇒ other`.
    #[must_use]
    pub fn implies(&self, other: &SymBool) -> SymBool {
        SymBool(self.0.implies(&other.0))
    }

    /// Logical equivalence `self ⇔ other`.
    #[must_use]
    pub fn iff(&self, other: &SymBool) -> SymBool {
        SymBool(self.0.iff(&other.0))
    }

    /// The conjunction of all `terms` (true when there is none).
    #[must_use]
    pub fn all(terms: &[SymBool]) -> SymBool {
        terms
            .iter()
            .fold(SymBool::constant(true), |acc, t| acc.and(t))
    }

    /// The disjunction of all `terms` (false when there is none).
    #[must_use]
    pub fn any(terms: &[SymBool]) -> SymBool {
        terms
            .iter()
            .fold(SymBool::constant(false), |acc, t| acc.or(t))
    }

    /// The value after constant folding, when the term is closed (has no variables).
    #[must_use]
    pub fn value(&self) -> Option<bool> {
        use z3::ast::Ast;
        self.0.simplify().as_bool()
    }
}

impl Boolean for SymBool {
    fn and(&self, other: &Self) -> Self {
        SymBool(Bool::and(&[&self.0, &other.0]))
    }
    fn or(&self, other: &Self) -> Self {
        SymBool(Bool::or(&[&self.0, &other.0]))
    }
    fn not(&self) -> Self {
        SymBool(self.0.not())
    }
}

/// A symbolic unsigned word of `N` bits: a Z3 bit-vector term.
///
/// `N` must be a power of two and a multiple of 8 (8, 16, 32, 64 or 128): the kernel's
/// [`Word`] contract asks for a multiple of 8, and the leading-zeros encoding halves the width.
#[derive(Clone)]
pub struct SymWord<const N: u32>(pub BV);

impl<const N: u32> fmt::Debug for SymWord<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SymWord<{N}>({})", self.0)
    }
}

impl<const N: u32> SymWord<N> {
    const WIDTH_IS_SUPPORTED: () = assert!(
        N.is_power_of_two() && N >= 8 && N <= 128,
        "SymWord needs N in 8, 16, 32, 64 or 128"
    );

    /// Wraps a bit-vector term of width `N`.
    ///
    /// # Panics
    /// When the term's width is not `N` (a bug in the caller).
    #[must_use]
    pub fn new(bv: BV) -> Self {
        let () = Self::WIDTH_IS_SUPPORTED;
        assert_eq!(bv.get_size(), N, "bit-vector of the wrong width");
        SymWord(bv)
    }

    /// A free variable named `name`.
    #[must_use]
    pub fn var(name: &str) -> Self {
        Self::new(BV::new_const(name, N))
    }

    /// The unsigned comparison `self <= other`.
    #[must_use]
    pub fn ule(&self, other: &Self) -> SymBool {
        SymBool(self.0.bvule(&other.0))
    }

    /// Digit number `i` of `self` for digits of `b` bits, digit 0 the most significant, read
    /// with a bit-vector *extract* of bits `N - 1 - i·b ..= N - (i + 1)·b` and zero-extended to
    /// `N` bits. This is the specification of a digit, independent of the kernel's shifts.
    ///
    /// # Panics
    /// When `(i + 1) · b > N`.
    #[must_use]
    pub fn extract_digit(&self, i: u32, b: u32) -> Self {
        assert!((i + 1) * b <= N, "digit {i} out of range");
        let hi = N - 1 - i * b;
        let lo = N - (i + 1) * b;
        Self::new(self.0.extract(hi, lo).zero_ext(N - b))
    }

    /// The value after constant folding, when the term is closed (has no variables).
    #[must_use]
    pub fn value(&self) -> Option<u128> {
        bv_value(&self.0)
    }

    /// The trusted encoding of [`Word::leading_zeros`]: a binary search over halves.
    ///
    /// With `n = 0` and `x = self`, for `s = N/2, N/4, …, 1`: if the top `s` bits of `x` are zero
    /// (a bit-vector *extract* compared with zero), add `s` to `n` and shift `x` left by `s`.
    /// Afterwards the top bit of `x` is set unless `self` is zero, in which case `n = N − 1` and
    /// one more is added, giving `N`.
    #[must_use]
    pub fn leading_zeros_encoding(&self) -> Self {
        let mut n = BV::from_u64(0, N);
        let mut x = self.0.clone();
        let mut s = N / 2;
        while s >= 1 {
            let top_is_zero = x.extract(N - 1, N - s).eq(BV::from_u64(0, s));
            n = top_is_zero.ite(&n.bvadd(BV::from_u64(u64::from(s), N)), &n);
            x = top_is_zero.ite(&x.bvshl(BV::from_u64(u64::from(s), N)), &x);
            s /= 2;
        }
        let all_zero = x.extract(N - 1, N - 1).eq(BV::from_u64(0, 1));
        Self::new(all_zero.ite(&n.bvadd(BV::from_u64(1, N)), &n))
    }
}

/// The unsigned value of a closed bit-vector term of at most 128 bits.
#[must_use]
pub fn bv_value(bv: &BV) -> Option<u128> {
    use z3::ast::Ast;
    let width = bv.get_size();
    if width > 128 {
        return None;
    }
    if width <= 64 {
        return bv.simplify().as_u64().map(u128::from);
    }
    let hi = bv.extract(width - 1, 64).simplify().as_u64()?;
    let lo = bv.extract(63, 0).simplify().as_u64()?;
    Some((u128::from(hi) << 64) | u128::from(lo))
}

impl<const N: u32> Word for SymWord<N> {
    type Bool = SymBool;
    const BITS: u32 = N;

    /// The numeral `v mod 2^N`, written in decimal.
    fn constant(v: u128) -> Self {
        let masked = if N >= 128 { v } else { v & ((1u128 << N) - 1) };
        let bv = BV::from_str(N, &masked.to_string());
        Self::new(bv.unwrap_or_else(|| unreachable!("a decimal numeral is always accepted")))
    }
    fn xor(&self, other: &Self) -> Self {
        SymWord(self.0.bvxor(&other.0))
    }
    fn wrapping_add(&self, other: &Self) -> Self {
        SymWord(self.0.bvadd(&other.0))
    }
    fn wrapping_sub(&self, other: &Self) -> Self {
        SymWord(self.0.bvsub(&other.0))
    }
    fn ult(&self, other: &Self) -> SymBool {
        SymBool(self.0.bvult(&other.0))
    }
    fn equal(&self, other: &Self) -> SymBool {
        SymBool(self.0.eq(&other.0))
    }
    /// SMT-LIB `bvshl`: zero for amounts `>= N`, as the trait asks.
    fn shl_by(&self, n: &Self) -> Self {
        SymWord(self.0.bvshl(&n.0))
    }
    /// SMT-LIB `bvlshr`: zero for amounts `>= N`, as the trait asks.
    fn shr_by(&self, n: &Self) -> Self {
        SymWord(self.0.bvlshr(&n.0))
    }
    /// [`SymWord::leading_zeros_encoding`].
    fn leading_zeros(&self) -> Self {
        self.leading_zeros_encoding()
    }
    /// SMT-LIB `ite`.
    fn select(cond: &SymBool, a: &Self, b: &Self) -> Self {
        SymWord(cond.0.ite(&a.0, &b.0))
    }
}

/// A symbolic word the theorems can quantify over: [`SymWord`] (bit-vectors) or [`IntWord`]
/// (bounded integers).
pub trait Sym: Word<Bool = SymBool> + 'static {
    /// A short description of the encoding and width, shown in verdicts (`bv128`, `int128`).
    fn encoding() -> String;
    /// A free variable named `name`, and the hypotheses that keep it a word of `BITS` bits.
    fn fresh(name: &str) -> (Self, Vec<SymBool>);
    /// The value of this term under `model`, when it has one.
    fn eval(&self, model: &z3::Model) -> Option<u128>;
}

impl<const N: u32> Sym for SymWord<N> {
    fn encoding() -> String {
        format!("bv{N}")
    }
    fn fresh(name: &str) -> (Self, Vec<SymBool>) {
        (Self::var(name), Vec::new())
    }
    fn eval(&self, model: &z3::Model) -> Option<u128> {
        model.eval(&self.0, true).and_then(|v| bv_value(&v))
    }
}

/// A symbolic unsigned word of `N` bits (8 ≤ N ≤ 128) represented by a Z3 integer term in
/// `[0, 2^N)`.
///
/// Addition, subtraction, comparison, equality and select are linear; they are the only
/// operations the ring definitions (cw, dist, closer, in_arc) use. xor, the shifts and leading
/// zeros go through Z3's `int2bv`/`bv2int` conversions and the bit-vector operations; no
/// theorem instantiated with this type uses them.
#[derive(Clone)]
pub struct IntWord<const N: u32>(pub Int);

impl<const N: u32> fmt::Debug for IntWord<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IntWord<{N}>({})", self.0)
    }
}

impl<const N: u32> IntWord<N> {
    const WIDTH_IS_SUPPORTED: () = assert!(N >= 8 && N <= 128, "IntWord needs 8 <= N <= 128");

    /// 2^N as an integer term.
    fn modulus() -> Int {
        let () = Self::WIDTH_IS_SUPPORTED;
        use z3::ast::Ast;
        Int::mul(&[Int::from_u128(1u128 << (N - 1)), Int::from_u64(2)]).simplify()
    }

    /// The value after constant folding, when the term is closed (has no variables).
    #[must_use]
    pub fn value(&self) -> Option<u128> {
        use z3::ast::Ast;
        self.0.simplify().as_u128()
    }

    fn to_bv(&self) -> BV {
        BV::from_int(&self.0, N)
    }

    fn from_bv(bv: &BV) -> Self {
        IntWord(Int::from_bv(bv, false))
    }
}

impl<const N: u32> Word for IntWord<N> {
    type Bool = SymBool;
    const BITS: u32 = N;

    fn constant(v: u128) -> Self {
        let () = Self::WIDTH_IS_SUPPORTED;
        let masked = if N >= 128 { v } else { v & ((1u128 << N) - 1) };
        IntWord(Int::from_u128(masked))
    }
    fn xor(&self, other: &Self) -> Self {
        Self::from_bv(&self.to_bv().bvxor(other.to_bv()))
    }
    /// `a + b`, minus 2^N when that reaches 2^N.
    fn wrapping_add(&self, other: &Self) -> Self {
        let m = Self::modulus();
        let s = Int::add(&[&self.0, &other.0]);
        IntWord(s.ge(&m).ite(&Int::sub(&[&s, &m]), &s))
    }
    /// `a − b`, plus 2^N when that is negative.
    fn wrapping_sub(&self, other: &Self) -> Self {
        let m = Self::modulus();
        let d = Int::sub(&[&self.0, &other.0]);
        IntWord(d.lt(Int::from_u64(0)).ite(&Int::add(&[&d, &m]), &d))
    }
    fn ult(&self, other: &Self) -> SymBool {
        SymBool(self.0.lt(&other.0))
    }
    fn equal(&self, other: &Self) -> SymBool {
        SymBool(self.0.eq(&other.0))
    }
    fn shl_by(&self, n: &Self) -> Self {
        Self::from_bv(&self.to_bv().bvshl(n.to_bv()))
    }
    fn shr_by(&self, n: &Self) -> Self {
        Self::from_bv(&self.to_bv().bvlshr(n.to_bv()))
    }
    fn leading_zeros(&self) -> Self {
        Self::from_bv(&SymWord::<N>::new(self.to_bv()).leading_zeros_encoding().0)
    }
    fn select(cond: &SymBool, a: &Self, b: &Self) -> Self {
        IntWord(cond.0.ite(&a.0, &b.0))
    }
}

impl<const N: u32> Sym for IntWord<N> {
    fn encoding() -> String {
        format!("int{N}")
    }
    fn fresh(name: &str) -> (Self, Vec<SymBool>) {
        let v = IntWord(Int::new_const(name));
        let range = vec![
            SymBool(v.0.ge(Int::from_u64(0))),
            SymBool(v.0.lt(Self::modulus())),
        ];
        (v, range)
    }
    fn eval(&self, model: &z3::Model) -> Option<u128> {
        model.eval(&self.0, true).and_then(|v| v.as_u128())
    }
}
