//! The word abstraction that ring and prefix arithmetic is written against.
//!
//! Every definition of the ring (cw, dist, closer) and prefix arithmetic (digit, shl) of
//! docs/design.md is
//! written once, in [`crate::arith`], generic over [`Word`]. The trait is deliberately small —
//! xor, wrapping add and subtract, unsigned compare, equality, shifts, leading zeros and a
//! branch-free select — so that the *same* code can be instantiated on
//!
//! * machine words (`u8`, `u16`, `u32`, `u64`, `u128` and [`Guid`](crate::Guid)), where it
//!   compiles to a handful of instructions, and on narrow words for exhaustive checks;
//! * symbolic bit-vectors (the `pastry-proofs` crate implements [`Word`] for Z3 terms), where the
//!   very functions the router calls are proved for all 2^128 inputs.
//!
//! Comparisons return [`Word::Bool`], which is `bool` for machine words and a solver term for
//! symbolic words. [`RingWord`] adds what the routing structures need on top: a concrete word
//! with `bool` comparisons, `Copy`, `Ord` and conversions.

use core::fmt::Debug;
use core::hash::Hash;

/// A boolean as produced by word comparisons.
///
/// `bool` for machine words; a solver term for symbolic words. Only the three connectives the
/// arithmetic needs are required.
pub trait Boolean: Clone {
    /// Logical and.
    #[must_use]
    fn and(&self, other: &Self) -> Self;
    /// Logical or.
    #[must_use]
    fn or(&self, other: &Self) -> Self;
    /// Logical not.
    #[must_use]
    fn not(&self) -> Self;
}

impl Boolean for bool {
    #[inline(always)]
    fn and(&self, other: &Self) -> Self {
        *self & *other
    }
    #[inline(always)]
    fn or(&self, other: &Self) -> Self {
        *self | *other
    }
    #[inline(always)]
    fn not(&self) -> Self {
        !*self
    }
}

/// An unsigned word of [`Word::BITS`] bits: the minimal operation set that ring and prefix
/// arithmetic is written against.
///
/// Semantics every implementation must follow (these are exactly the SMT-LIB bit-vector
/// semantics, so a Z3 term implements them directly):
///
/// * arithmetic is modulo 2^`BITS`;
/// * [`Word::ult`] is the unsigned order;
/// * shifts by an amount `>= BITS` give zero;
/// * [`Word::leading_zeros`] of zero is `BITS`;
/// * [`Word::constant`] truncates to the low `BITS` bits.
pub trait Word: Clone + Debug {
    /// The result type of comparisons.
    type Bool: Boolean;
    /// Width in bits; a multiple of 8.
    const BITS: u32;

    /// The word with value `v mod 2^BITS`.
    fn constant(v: u128) -> Self;
    /// Bitwise exclusive or.
    #[must_use]
    fn xor(&self, other: &Self) -> Self;
    /// Addition modulo 2^`BITS`.
    #[must_use]
    fn wrapping_add(&self, other: &Self) -> Self;
    /// Subtraction modulo 2^`BITS`.
    #[must_use]
    fn wrapping_sub(&self, other: &Self) -> Self;
    /// Unsigned less-than.
    fn ult(&self, other: &Self) -> Self::Bool;
    /// Equality.
    fn equal(&self, other: &Self) -> Self::Bool;
    /// Logical shift left by `n` bits (zero when `n >= BITS`).
    #[must_use]
    fn shl_by(&self, n: &Self) -> Self;
    /// Logical shift right by `n` bits (zero when `n >= BITS`).
    #[must_use]
    fn shr_by(&self, n: &Self) -> Self;
    /// The number of leading zero bits, as a word (`BITS` for zero).
    #[must_use]
    fn leading_zeros(&self) -> Self;
    /// `if cond { a } else { b }` without a branch on the value.
    fn select(cond: &Self::Bool, a: &Self, b: &Self) -> Self;
}

/// A concrete machine word usable as a ring id by the routing structures.
///
/// Implemented for `u8`, `u16`, `u32`, `u64`, `u128` and [`Guid`](crate::Guid). Narrow words
/// let tests enumerate whole rings; `Guid` is the 128-bit id of docs/design.md, *Ring*.
pub trait RingWord:
    Word<Bool = bool> + Copy + Eq + Ord + Hash + Debug + Send + Sync + 'static
{
    /// The low `BITS` bits of `v`.
    fn from_u128(v: u128) -> Self;
    /// The value, zero-extended.
    fn to_u128(self) -> u128;
}

macro_rules! impl_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            type Bool = bool;
            const BITS: u32 = <$t>::BITS;
            #[inline(always)]
            #[allow(clippy::cast_possible_truncation)]
            fn constant(v: u128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn xor(&self, other: &Self) -> Self {
                *self ^ *other
            }
            #[inline(always)]
            fn wrapping_add(&self, other: &Self) -> Self {
                <$t>::wrapping_add(*self, *other)
            }
            #[inline(always)]
            fn wrapping_sub(&self, other: &Self) -> Self {
                <$t>::wrapping_sub(*self, *other)
            }
            #[inline(always)]
            fn ult(&self, other: &Self) -> bool {
                *self < *other
            }
            #[inline(always)]
            fn equal(&self, other: &Self) -> bool {
                *self == *other
            }
            #[inline(always)]
            fn shl_by(&self, n: &Self) -> Self {
                u32::try_from(*n).ok().and_then(|n| self.checked_shl(n)).unwrap_or(0)
            }
            #[inline(always)]
            fn shr_by(&self, n: &Self) -> Self {
                u32::try_from(*n).ok().and_then(|n| self.checked_shr(n)).unwrap_or(0)
            }
            #[inline(always)]
            #[allow(clippy::cast_possible_truncation)]
            fn leading_zeros(&self) -> Self {
                // At most BITS <= 128, which fits every width from u8 up.
                <$t>::leading_zeros(*self) as $t
            }
            #[inline(always)]
            fn select(cond: &bool, a: &Self, b: &Self) -> Self {
                if *cond { *a } else { *b }
            }
        }

        impl RingWord for $t {
            #[inline(always)]
            #[allow(clippy::cast_possible_truncation)]
            fn from_u128(v: u128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_u128(self) -> u128 {
                u128::from(self)
            }
        }
    )*};
}

impl_word!(u8, u16, u32, u64, u128);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_past_width_give_zero() {
        assert_eq!(0xffu8.shl_by(&8), 0);
        assert_eq!(0xffu8.shr_by(&200), 0);
        assert_eq!(1u128.shl_by(&127), 1u128 << 127);
        assert_eq!(u128::MAX.shr_by(&128), 0);
        assert_eq!(u128::MAX.shr_by(&127), 1);
    }

    #[test]
    fn leading_zeros_of_zero_is_width() {
        assert_eq!(Word::leading_zeros(&0u8), 8);
        assert_eq!(Word::leading_zeros(&0u16), 16);
        assert_eq!(Word::leading_zeros(&0u128), 128);
        assert_eq!(Word::leading_zeros(&1u128), 127);
    }

    #[test]
    fn constant_truncates() {
        assert_eq!(<u8 as Word>::constant(0x1ff), 0xff);
        assert_eq!(<u16 as Word>::constant(0x1_0001), 1);
    }

    #[test]
    fn select_is_if_then_else() {
        assert_eq!(<u32 as Word>::select(&true, &1, &2), 1);
        assert_eq!(<u32 as Word>::select(&false, &1, &2), 2);
    }
}
