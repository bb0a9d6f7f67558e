//! Ring and prefix arithmetic: `digit`, `shl`, `cw`, `dist` and `closer` as docs/design.md
//! defines them (*Digits*, *shl*, *cw and dist*, *closer*).
//!
//! Each definition is one generic function over [`Word`], so the router, the exhaustive
//! narrow-ring checks and the Z3 proofs all run this very code. Nothing here branches on a
//! value: conditionals go through [`Word::select`] and [`Boolean`] connectives.
//!
//! ```
//! use pastry_kernel::arith::{closer, cw, dist, shl, DigitWidth};
//!
//! let (a, k) = (0x12u8, 0x1fu8);
//! assert_eq!(cw(&a, &k), 0x0d);
//! assert_eq!(cw(&k, &a), 0xf3);
//! assert_eq!(dist(&a, &k), 0x0d);
//! assert_eq!(shl(&a, &k, DigitWidth::B4), 1); // one shared hex digit
//! // 0x20 and 0x1e are both 1 away from k = 0x1f: the tie goes to the clockwise one (k + d).
//! assert!(closer(&0x1fu8, &0x20, &0x1e));
//! assert!(!closer(&0x1fu8, &0x1e, &0x20));
//! ```

use crate::word::{Boolean, RingWord, Word};

/// The number of bits per digit, b ∈ {1, 2, 4, 8}.
///
/// Ids of `W::BITS` bits have `W::BITS / b` digits; digit 0 is the most significant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DigitWidth {
    /// One bit per digit (binary digits).
    B1,
    /// Two bits per digit (base 4).
    B2,
    /// Four bits per digit (hex digits; the paper's and FreePastry's default).
    B4,
    /// Eight bits per digit (base 256).
    B8,
}

impl DigitWidth {
    /// Every width, narrowest first.
    pub const ALL: [DigitWidth; 4] = [
        DigitWidth::B1,
        DigitWidth::B2,
        DigitWidth::B4,
        DigitWidth::B8,
    ];

    /// The width for `b` bits per digit, if `b` ∈ {1, 2, 4, 8}.
    #[must_use]
    pub const fn from_bits(b: u32) -> Option<DigitWidth> {
        match b {
            1 => Some(DigitWidth::B1),
            2 => Some(DigitWidth::B2),
            4 => Some(DigitWidth::B4),
            8 => Some(DigitWidth::B8),
            _ => None,
        }
    }

    /// b, the number of bits per digit.
    #[must_use]
    pub const fn bits(self) -> u32 {
        1 << self.log2()
    }

    /// log2(b).
    #[must_use]
    pub const fn log2(self) -> u32 {
        match self {
            DigitWidth::B1 => 0,
            DigitWidth::B2 => 1,
            DigitWidth::B4 => 2,
            DigitWidth::B8 => 3,
        }
    }

    /// 2^b, the number of digit values (routing-table columns).
    #[must_use]
    pub const fn columns(self) -> usize {
        1 << self.bits()
    }

    /// `W::BITS / b`, the number of digits of an id (routing-table rows).
    #[must_use]
    pub const fn digits<W: Word>(self) -> u32 {
        W::BITS >> self.log2()
    }
}

/// A routing-table row index: an integer in `[0, W::BITS / b)`.
///
/// Row `r` holds the nodes that share exactly `r` leading digits with the local node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Row(pub u8);

/// A digit value: an integer in `[0, 2^b)`. It is also the column index of a routing-table
/// slot (see [`Column`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Digit(pub u8);

/// A routing-table column index: the digit value in `[0, 2^b)` at the row's position.
pub type Column = Digit;

impl Row {
    /// The index as `usize`.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl Digit {
    /// The value as `usize`.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// **cw(a, k)** = (k − a) mod 2^BITS: the clockwise distance from `a` to `k`.
#[inline(always)]
pub fn cw<W: Word>(a: &W, k: &W) -> W {
    k.wrapping_sub(a)
}

/// **dist(a, k)** = min(cw(a, k), cw(k, a)): the ring distance, at most 2^(BITS − 1).
#[inline(always)]
pub fn dist<W: Word>(a: &W, k: &W) -> W {
    let forward = cw(a, k);
    let backward = cw(k, a);
    W::select(&forward.ult(&backward), &forward, &backward)
}

/// **closer(k, x, y)**: `x` is nearer to `k` than `y`.
///
/// dist(x, k) < dist(y, k); or the distances are equal, x ≠ y, and x is the clockwise one
/// (x = k + d, y = k − d: FreePastry's rule). A strict total order on distinct ids, so every
/// non-empty set has exactly one closest member, the *root* of `k`.
#[inline(always)]
pub fn closer<W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
    closer_by_dist(k, x, &dist(x, k), y, &dist(y, k))
}

/// [`closer`]`(k, x, y)` given `dx` = dist(x, k) and `dy` = dist(y, k), for callers that compare
/// one id against many and compute each distance once. The definition of [`closer`] lives here.
#[inline(always)]
pub fn closer_by_dist<W: Word>(k: &W, x: &W, dx: &W, y: &W, dy: &W) -> W::Bool {
    let strictly = dx.ult(dy);
    let tie = dx.equal(dy).and(&x.equal(y).not()).and(&cw(k, x).equal(dx));
    strictly.or(&tie)
}

/// **digit(a, r)**: digit number `r` of `a` (digit 0 is the most significant), as a word in
/// `[0, 2^b)`. Meant for rows below `BITS / b` ([`digit_at`] checks that bound); a row at or
/// past it gives 0 as long as `row · b` does not wrap around 2^BITS.
#[inline(always)]
pub fn digit<W: Word>(a: &W, row: &W, b: DigitWidth) -> W {
    let offset = row.shl_by(&W::constant(u128::from(b.log2())));
    a.shl_by(&offset)
        .shr_by(&W::constant(u128::from(W::BITS - b.bits())))
}

/// **shl(a, k)**: how many leading digits `a` and `k` share, in `0..=BITS / b`.
#[inline(always)]
pub fn shl<W: Word>(a: &W, k: &W, b: DigitWidth) -> W {
    a.xor(k)
        .leading_zeros()
        .shr_by(&W::constant(u128::from(b.log2())))
}

/// The routing-table slot `(row, column)` of `node` in the table of `own`:
/// row = shl(node, own), column = digit(node, row). For `node == own` the row is `BITS / b`,
/// one past the last row, so no slot holds the local node.
#[inline(always)]
pub fn slot<W: Word>(own: &W, node: &W, b: DigitWidth) -> (W, W) {
    let row = shl(own, node, b);
    let column = digit(node, &row, b);
    (row, column)
}

/// **Covered arc**: whether `k` lies on the clockwise arc from `start` to `end`, both ends
/// included (cw(start, k) ≤ cw(start, end)). The leaf set covers the union of the arcs
/// (farthest predecessor → own) and (own → farthest successor).
#[inline(always)]
pub fn in_arc<W: Word>(start: &W, end: &W, k: &W) -> W::Bool {
    cw(start, end).ult(&cw(start, k)).not()
}

/// **Progress** of a hop from `from` to `to` for key `k`: the shared prefix with `k` grows, or it
/// stays the same and `to` is closer to `k` (docs/design.md, *Progress*: every Forward of steps 2
/// and 3 does this).
#[inline(always)]
pub fn makes_progress<W: Word>(k: &W, from: &W, to: &W, b: DigitWidth) -> W::Bool {
    rare_case_prefers_ranked(k, &key_rank(k, to, b), &key_rank(k, from, b))
}

/// An id with its shared prefix and distance to a key `k`: `shl` = shl(id, k), `dist` =
/// dist(id, k). Built by [`key_rank`]; compared by [`rare_case_prefers_ranked`] and
/// [`rare_case_admissible_ranked`], so that a scan over many candidates computes each figure once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRank<W> {
    /// The id.
    pub id: W,
    /// shl(id, k).
    pub shl: W,
    /// dist(id, k).
    pub dist: W,
}

/// The [`KeyRank`] of `id` for the key `k`: shl(id, k) and dist(id, k).
#[inline(always)]
pub fn key_rank<W: Word>(k: &W, id: &W, b: DigitWidth) -> KeyRank<W> {
    KeyRank {
        id: id.clone(),
        shl: shl(id, k, b),
        dist: dist(id, k),
    }
}

/// Whether step 3 of route(k) at node `own` may choose `t`: shl(t, k) ≥ shl(own, k) and
/// closer(k, t, own).
#[inline(always)]
pub fn rare_case_admissible<W: Word>(k: &W, own: &W, t: &W, b: DigitWidth) -> W::Bool {
    rare_case_admissible_ranked(k, &key_rank(k, own, b), &key_rank(k, t, b))
}

/// [`rare_case_admissible`] on precomputed ranks: `own` and `t` are the [`key_rank`]s of the local
/// node and the candidate for the key `k`. The definition of step 3's admissibility lives here.
#[inline(always)]
pub fn rare_case_admissible_ranked<W: Word>(k: &W, own: &KeyRank<W>, t: &KeyRank<W>) -> W::Bool {
    t.shl
        .ult(&own.shl)
        .not()
        .and(&closer_by_dist(k, &t.id, &t.dist, &own.id, &own.dist))
}

/// Step 3's preference between two admissible candidates: `x` beats `y` when it shares a longer
/// prefix with `k`, or as long a prefix and is closer to `k`.
#[inline(always)]
pub fn rare_case_prefers<W: Word>(k: &W, x: &W, y: &W, b: DigitWidth) -> W::Bool {
    rare_case_prefers_ranked(k, &key_rank(k, x, b), &key_rank(k, y, b))
}

/// [`rare_case_prefers`] on precomputed ranks: `x` and `y` are [`key_rank`]s for the key `k`;
/// `x` beats `y` when x.shl > y.shl, or the two are equal and [`closer_by_dist`]`(k, x, y)`. The
/// definition of step 3's preference (and of [`makes_progress`], which is the same rule for a
/// hop `y → x`) lives here.
#[inline(always)]
pub fn rare_case_prefers_ranked<W: Word>(k: &W, x: &KeyRank<W>, y: &KeyRank<W>) -> W::Bool {
    y.shl.ult(&x.shl).or(&y
        .shl
        .equal(&x.shl)
        .and(&closer_by_dist(k, &x.id, &x.dist, &y.id, &y.dist)))
}

/// [`shl`] on a concrete word, as a count.
#[inline(always)]
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn shl_len<W: RingWord>(a: W, k: W, b: DigitWidth) -> u32 {
    // The value is at most BITS / b <= 128.
    shl(&a, &k, b).to_u128() as u32
}

/// [`digit`] on a concrete word; `None` when `row` is not below `W::BITS / b`.
#[inline(always)]
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn digit_at<W: RingWord>(a: W, row: u32, b: DigitWidth) -> Option<Digit> {
    if row >= b.digits::<W>() {
        return None;
    }
    // The value is below 2^b <= 256.
    Some(Digit(
        digit(&a, &W::from_u128(u128::from(row)), b).to_u128() as u8,
    ))
}

/// [`slot`] on a concrete word, as typed indices; `None` when `node == own`.
#[inline(always)]
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn slot_of<W: RingWord>(own: W, node: W, b: DigitWidth) -> Option<(Row, Column)> {
    let row = shl_len(own, node, b);
    // digit_at rejects row == BITS / b, the only value that does not fit a row.
    digit_at(node, row, b).map(|column| (Row(row as u8), column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_widths() {
        assert_eq!(DigitWidth::B4.digits::<u128>(), 32);
        assert_eq!(DigitWidth::B1.digits::<u128>(), 128);
        assert_eq!(DigitWidth::B8.digits::<u8>(), 1);
        assert_eq!(DigitWidth::B8.columns(), 256);
        for b in DigitWidth::ALL {
            assert_eq!(DigitWidth::from_bits(b.bits()), Some(b));
        }
        assert_eq!(DigitWidth::from_bits(3), None);
    }

    #[test]
    fn digits_of_a_known_value() {
        let a: u16 = 0xabcd;
        let got: [u16; 4] = core::array::from_fn(|r| digit(&a, &(r as u16), DigitWidth::B4));
        assert_eq!(got, [0xa, 0xb, 0xc, 0xd]);
        assert_eq!(digit(&a, &4, DigitWidth::B4), 0);
        assert_eq!(digit_at(a, 4, DigitWidth::B4), None);
        assert_eq!(digit_at(a, 0, DigitWidth::B1), Some(Digit(1)));
    }

    #[test]
    fn slot_of_self_is_none() {
        assert_eq!(slot_of(7u32, 7u32, DigitWidth::B4), None);
        assert_eq!(
            slot_of(0x1234u16, 0x1299, DigitWidth::B4),
            Some((Row(2), Digit(9)))
        );
    }

    #[test]
    fn wraparound_distances() {
        assert_eq!(cw(&u128::MAX, &0u128), 1);
        assert_eq!(dist(&u128::MAX, &0u128), 1);
        assert_eq!(dist(&0u128, &(1u128 << 127)), 1u128 << 127);
    }
}
