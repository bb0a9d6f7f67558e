//! A proof can fail: for each family of theorems, a deliberately wrong variant of one kernel
//! definition (see `pastry_proofs::variants`) is refuted by Z3 with a counterexample, and the
//! counterexample is replayed on machine words to show it is real: by hand, and through the
//! shared claim itself (`pastry_kernel::fuzzing::claims`, the function the theorem proved and
//! the kernel's property tests assert), which is false on the counterexample for the variant and
//! true for the kernel.

use pastry_kernel::arith::DigitWidth;
use pastry_kernel::fuzzing::claims;
use pastry_proofs::sym::IntWord;
use pastry_proofs::theorems as t;
use pastry_proofs::variants::{
    ArcOneTooLong, CwOffByOne, RareCaseIgnoresDistance, ShlOneTooMany, TieBreakFlipped,
};
use pastry_proofs::{Arith, Counterexample, Kernel, SymWord, Verdict};

type Int128 = IntWord<128>;

/// Asserts that every verdict is a refutation and returns the counterexamples.
fn all_refuted(verdicts: Vec<Verdict>) -> Vec<Counterexample> {
    verdicts
        .iter()
        .map(|v| {
            v.assert_refuted();
            v.counterexample().cloned().unwrap_or_default()
        })
        .collect()
}

fn get(cex: &Counterexample, name: &str) -> u128 {
    cex.get(name)
        .unwrap_or_else(|| panic!("no {name} in {cex}"))
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn cw_off_by_one_is_refuted() {
    let cex = all_refuted(vec![
        t::clockwise_distances_sum_to_zero::<CwOffByOne, Int128>(),
        t::clockwise_distance_reaches_key::<CwOffByOne, Int128>(),
        t::ring_distance_identity::<CwOffByOne, Int128>(),
        t::ring_distance_at_most_half::<CwOffByOne, Int128>(),
        t::ring_wraparound::<CwOffByOne, Int128>(),
        t::clockwise_distances_sum_to_zero::<CwOffByOne, SymWord<16>>(),
    ]);
    // Replay: the wrong cw does not sum to zero on these u128 inputs; the kernel's does.
    let (a, k) = (get(&cex[0], "a"), get(&cex[0], "k"));
    let wrong = CwOffByOne::cw(&a, &k).wrapping_add(CwOffByOne::cw(&k, &a));
    assert_ne!(wrong, 0);
    assert_eq!(Kernel::cw(&a, &k).wrapping_add(Kernel::cw(&k, &a)), 0);
    assert!(!claims::clockwise_distances_sum_to_zero::<CwOffByOne, u128>(&a, &k));
    assert!(claims::clockwise_distances_sum_to_zero::<Kernel, u128>(
        &a, &k
    ));
    let (a, d) = (get(&cex[4], "a"), get(&cex[4], "d"));
    assert!(!claims::ring_wraparound::<CwOffByOne, u128>(&a, &d));
    assert!(claims::ring_wraparound::<Kernel, u128>(&a, &d));
    // The 16-bit counterexample, on u16.
    let narrow = |name| u16::try_from(get(&cex[5], name)).expect("a 16-bit value");
    let (a, k) = (narrow("a"), narrow("k"));
    assert!(!claims::clockwise_distances_sum_to_zero::<CwOffByOne, u16>(
        &a, &k
    ));
    assert!(claims::clockwise_distances_sum_to_zero::<Kernel, u16>(
        &a, &k
    ));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn tie_break_flipped_is_refuted() {
    let cex = all_refuted(vec![
        t::closer_ties_go_clockwise::<TieBreakFlipped, Int128>(),
        t::closer_matches_design::<TieBreakFlipped, Int128>(),
        t::closer_ties_go_clockwise::<TieBreakFlipped, SymWord<8>>(),
    ]);
    let (k, d) = (get(&cex[0], "k"), get(&cex[0], "d"));
    let (cwise, ccwise) = (k.wrapping_add(d), k.wrapping_sub(d));
    assert!(!TieBreakFlipped::closer(&k, &cwise, &ccwise));
    assert!(Kernel::closer(&k, &cwise, &ccwise));
    assert!(!claims::closer_ties_go_clockwise::<TieBreakFlipped, u128>(
        &k, &d
    ));
    assert!(claims::closer_ties_go_clockwise::<Kernel, u128>(&k, &d));
    let narrow = |name| u8::try_from(get(&cex[2], name)).expect("an 8-bit value");
    let (k, d) = (narrow("k"), narrow("d"));
    assert!(!claims::closer_ties_go_clockwise::<TieBreakFlipped, u8>(
        &k, &d
    ));
    assert!(claims::closer_ties_go_clockwise::<Kernel, u8>(&k, &d));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn shl_one_too_many_is_refuted() {
    for b in DigitWidth::ALL {
        let mut verdicts = vec![
            t::shl_of_self_is_digit_count::<ShlOneTooMany, 128>(b),
            t::shl_is_at_most_digit_count::<ShlOneTooMany, 128>(b),
            t::digits_differ_at_shl::<ShlOneTooMany, 128>(b),
            t::shl_matches_digit_by_digit::<ShlOneTooMany, 128>(b),
            t::slot_satisfies_design::<ShlOneTooMany, 128>(b),
        ];
        // With b = 1 the wrong table step still makes progress: a node and the key both differ
        // from own in binary digit shl(k, own), so they agree there, and the off-by-one slot
        // then forces them to agree on the next digit too. Z3 proves that; for b >= 2 the
        // digits at that position may differ and Z3 finds a counterexample.
        let table_hop = t::table_next_hop_extends_prefix::<ShlOneTooMany, 128>(b);
        if b == DigitWidth::B1 {
            table_hop.assert_proved();
        } else {
            verdicts.push(table_hop);
        }
        let cex = all_refuted(verdicts);
        // Replay digits_differ_at_shl: with the wrong shl the digits at that position agree.
        let (a, k) = (get(&cex[2], "a"), get(&cex[2], "k"));
        let s = ShlOneTooMany::shl(&a, &k, b);
        assert_eq!(Kernel::digit(&a, &s, b), Kernel::digit(&k, &s, b));
        let s = Kernel::shl(&a, &k, b);
        assert_ne!(Kernel::digit(&a, &s, b), Kernel::digit(&k, &s, b));
        assert!(!claims::digits_differ_at_shl::<ShlOneTooMany, u128>(
            &a, &k, b
        ));
        assert!(claims::digits_differ_at_shl::<Kernel, u128>(&a, &k, b));
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn rare_case_ignoring_distance_is_refuted() {
    for b in DigitWidth::ALL {
        let cex = all_refuted(vec![t::rare_case_choice_makes_progress::<
            RareCaseIgnoresDistance,
            128,
        >(b)]);
        let (own, k, tt) = (get(&cex[0], "own"), get(&cex[0], "k"), get(&cex[0], "t"));
        assert!(RareCaseIgnoresDistance::rare_case_admissible(
            &k, &own, &tt, b
        ));
        assert!(!Kernel::makes_progress(&k, &own, &tt, b));
        assert!(!Kernel::rare_case_admissible(&k, &own, &tt, b));
        assert!(!claims::rare_case_choice_makes_progress::<
            RareCaseIgnoresDistance,
            u128,
        >(&own, &k, &tt, b));
        assert!(claims::rare_case_choice_makes_progress::<Kernel, u128>(
            &own, &k, &tt, b
        ));
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn arc_one_too_long_is_refuted() {
    let cex = all_refuted(vec![
        t::leaf_set_coverage::<ArcOneTooLong, Int128>(2),
        t::leaf_set_coverage::<ArcOneTooLong, Int128>(4),
        t::in_arc_matches_definition::<ArcOneTooLong, Int128>(),
        t::in_arc_matches_definition::<ArcOneTooLong, SymWord<8>>(),
    ]);
    // Replay: the wrongly covered key's root among the members is not closer than x.
    let (k, x, root) = (get(&cex[0], "k"), get(&cex[0], "x"), get(&cex[0], "root"));
    assert!(!Kernel::closer(&k, &root, &x));
    // The arc's definition, on u128 and on u8.
    let (s, e, k) = (get(&cex[2], "s"), get(&cex[2], "e"), get(&cex[2], "k"));
    assert!(!claims::in_arc_matches_definition::<ArcOneTooLong, u128>(
        &s, &e, &k
    ));
    assert!(claims::in_arc_matches_definition::<Kernel, u128>(
        &s, &e, &k
    ));
    let narrow = |name| u8::try_from(get(&cex[3], name)).expect("an 8-bit value");
    let (s, e, k) = (narrow("s"), narrow("e"), narrow("k"));
    assert!(!claims::in_arc_matches_definition::<ArcOneTooLong, u8>(
        &s, &e, &k
    ));
    assert!(claims::in_arc_matches_definition::<Kernel, u8>(&s, &e, &k));
}
