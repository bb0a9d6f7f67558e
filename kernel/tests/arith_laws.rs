//! Law-named property tests of the ring and prefix arithmetic (docs/design.md) on 128-bit ids
//! (proptest), each calling the law's function in `pastry_kernel::fuzzing::laws`, which asserts
//! the law's claim in `pastry_kernel::fuzzing::claims` — the function the Z3 proofs prove.

mod common;

use pastry_kernel::fuzzing::{check_arith, laws};
use pastry_kernel::strategies::{self, digit_width, guid, near};
use pastry_kernel::Guid;
use proptest::prelude::*;

/// Three ids of which the last two are near the first (shared prefixes, ring neighbours, ties).
fn triple() -> impl Strategy<Value = (Guid, Guid, Guid)> {
    guid().prop_flat_map(|a| (Just(a), near(a), near(a)))
}

proptest! {
    #![proptest_config(common::seeded(512, "proptest-regressions/arith_laws.txt"))]

    #[test]
    fn ring_distance_identity((a, k, _) in triple()) {
        laws::ring_distance_identity(a, k);
    }

    #[test]
    fn ring_distance_symmetry((a, k, _) in triple()) {
        laws::ring_distance_symmetry(a, k);
    }

    #[test]
    fn ring_distance_at_most_half_the_ring((a, k, _) in triple()) {
        laws::ring_distance_at_most_half(a, k);
    }

    #[test]
    fn ring_distance_triangle_inequality((a, k, x) in triple()) {
        laws::ring_distance_triangle_inequality(a, k, x);
    }

    #[test]
    fn clockwise_distances_sum_to_zero((a, k, _) in triple()) {
        laws::clockwise_distances_sum_to_zero(a, k);
    }

    #[test]
    fn clockwise_distance_reaches_key((a, k, _) in triple()) {
        laws::clockwise_distance_reaches_key(a, k);
    }

    #[test]
    fn ring_wraparound_at_zero(a in guid(), d in guid()) {
        laws::ring_wraparound(a, d);
        // Across 0 from just below 2^128.
        laws::ring_wraparound(Guid::MAX, d);
    }

    #[test]
    fn ring_translation_invariance((a, k, t) in triple()) {
        laws::ring_translation(a, k, t);
    }

    #[test]
    fn shl_of_self_is_digit_count(a in guid(), b in digit_width()) {
        laws::shl_of_self_is_digit_count(a, b);
    }

    #[test]
    fn shl_symmetry((a, k, _) in triple(), b in digit_width()) {
        laws::shl_symmetry(a, k, b);
    }

    #[test]
    fn shl_ultrametric((a, k, x) in triple(), b in digit_width()) {
        laws::shl_ultrametric(a, k, x, b);
    }

    #[test]
    fn shl_is_at_most_digit_count((a, k, _) in triple(), b in digit_width()) {
        laws::shl_is_at_most_digit_count(a, k, b);
        laws::shl_is_at_most_digit_count(a, a, b);
    }

    #[test]
    fn digits_differ_at_shl((a, k, _) in triple(), b in digit_width()) {
        laws::digits_differ_at_shl(a, k, b);
    }

    #[test]
    fn shl_agrees_with_digit_by_digit((a, k, _) in triple(), b in digit_width()) {
        laws::shl_matches_digit_by_digit(a, k, b);
    }

    #[test]
    fn digit_matches_extract(a in guid(), r in guid(), b in digit_width()) {
        laws::digit_matches_extract(a, r, b);
    }

    #[test]
    fn slot_satisfies_design((own, node, _) in triple(), b in digit_width()) {
        laws::slot_satisfies_design(own, node, b);
        laws::slot_of_self_is_past_last_row(own, b);
    }

    #[test]
    fn closer_is_irreflexive(k in guid(), x in guid()) {
        laws::closer_is_irreflexive(k, x);
    }

    #[test]
    fn closer_is_asymmetric((k, x, y) in triple()) {
        laws::closer_is_asymmetric(k, x, y);
    }

    #[test]
    fn closer_is_transitive((k, x, y) in triple(), z in guid()) {
        laws::closer_is_transitive(k, x, y, z);
        laws::closer_is_transitive(k, y, z, x);
        laws::closer_is_transitive(k, z, x, y);
    }

    #[test]
    fn closer_is_total((k, x, y) in triple()) {
        laws::closer_is_total(k, x, y);
    }

    #[test]
    fn closer_matches_design((k, x, y) in triple()) {
        laws::closer_matches_design(k, x, y);
    }

    #[test]
    fn closer_ties_go_clockwise(k in guid(), d in guid()) {
        laws::closer_ties_go_clockwise(k, d);
    }

    #[test]
    fn closer_gives_exactly_one_root((k, ids) in strategies::clustered::<Guid>(1..12)) {
        laws::root_of_a_set_is_unique(k, &ids);
    }

    #[test]
    fn table_next_hop_extends_prefix((own, k, node) in triple(), b in digit_width()) {
        laws::table_next_hop_extends_prefix(own, k, node, b);
    }

    #[test]
    fn rare_case_choice_makes_progress((own, k, t) in triple(), b in digit_width()) {
        laws::rare_case_choice_makes_progress(own, k, t, b);
    }

    #[test]
    fn rare_case_preference_is_a_strict_total_order(
        (k, x, y) in triple(), z in guid(), b in digit_width(),
    ) {
        laws::rare_case_preference_is_a_strict_total_order(k, x, y, z, b);
        laws::rare_case_preference_is_a_strict_total_order(k, y, z, x, b);
    }

    #[test]
    fn progress_is_a_strict_order((k, a, t) in triple(), z in guid(), b in digit_width()) {
        laws::progress_is_a_strict_order(k, a, t, z, b);
        laws::progress_is_a_strict_order(k, t, z, a, b);
    }

    #[test]
    fn in_arc_matches_definition((s, e, k) in triple()) {
        laws::in_arc_matches_definition(s, e, k);
    }

    #[test]
    fn arith_matches_reference_on_every_width(input in strategies::inputs::arith()) {
        check_arith(&input);
    }
}

/// The tie rule at the edges of the ring, spelled out.
#[test]
fn ring_wraparound_examples() {
    use pastry_kernel::arith::{closer, cw, dist};
    assert_eq!(cw(&Guid::MAX, &Guid::ZERO), Guid::new(1));
    assert_eq!(dist(&Guid::ZERO, &Guid::MAX), Guid::new(1));
    let half = Guid::new(1 << 127);
    assert_eq!(dist(&Guid::ZERO, &half), half);
    // 1 and 2^128 - 1 are both 1 away from 0: the clockwise one (1) wins.
    assert!(closer(&Guid::ZERO, &Guid::new(1), &Guid::MAX));
    assert!(!closer(&Guid::ZERO, &Guid::MAX, &Guid::new(1)));
}
