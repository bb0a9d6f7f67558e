//! The arithmetic against the reference and the laws (every claim of [`claims`](super::claims)),
//! on every word width: [`check_arith`].

use super::laws;
use super::reference as r;
use crate::arith;
use crate::arith::DigitWidth;
use crate::guid::Guid;
use crate::word::RingWord;

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
    laws::ring_distance_at_most_half(a, k);
    laws::ring_distance_triangle_inequality(a, k, x);
    laws::clockwise_distances_sum_to_zero(a, k);
    laws::clockwise_distance_reaches_key(a, k);
    laws::ring_wraparound(a, k);
    laws::ring_translation(a, k, x);
    laws::in_arc_matches_definition(a, x, k);
    laws::shl_of_self_is_digit_count(a, b);
    laws::shl_symmetry(a, k, b);
    laws::shl_ultrametric(a, k, x, b);
    laws::shl_is_at_most_digit_count(a, k, b);
    laws::digits_differ_at_shl(a, k, b);
    laws::shl_matches_digit_by_digit(a, k, b);
    laws::digit_matches_extract(a, y, b);
    laws::slot_satisfies_design(a, x, b);
    laws::slot_of_self_is_past_last_row(a, b);
    laws::closer_is_irreflexive(k, x);
    laws::closer_is_asymmetric(k, x, y);
    laws::closer_is_transitive(k, x, y, a);
    laws::closer_is_total(k, x, y);
    laws::closer_matches_design(k, x, y);
    laws::closer_ties_go_clockwise(k, x);
    laws::root_of_a_set_is_unique(k, &[a, x, y, k.wrapping_add(&x), k.wrapping_sub(&x)]);
    laws::table_next_hop_extends_prefix(a, k, x, b);
    laws::rare_case_choice_makes_progress(a, k, x, b);
    laws::rare_case_preference_is_a_strict_total_order(k, a, x, y, b);
    laws::progress_is_a_strict_order(k, a, x, y, b);
}
