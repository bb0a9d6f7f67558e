//! The definitions of docs/design.md written the slow, obvious way, as the oracle for
//! [`crate::arith`] and the routing structures.
//!
//! Ids are read through [`RingWord::to_u128`]; nothing here calls the kernel's arithmetic.

use crate::arith::DigitWidth;
use crate::leafset::LeafSet;
use crate::word::RingWord;
use core::cmp::Reverse;

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
    (succ.is_empty() && pred.is_empty()) || pred.iter().any(|p| succ.iter().any(|s| s.id == p.id))
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
