//! quickcheck: the algebraic laws of the generic arithmetic on every word width (`u8`, `u16`,
//! `u32`, `u64`, `u128`, `Guid`) and every digit width b ∈ {1, 2, 4, 8}.
//!
//! Each property takes 128-bit values and truncates them to every width, so one generated case
//! exercises all widths; the generator is seeded.

use pastry_kernel::arith::DigitWidth;
use pastry_kernel::fuzzing::{check_arith, laws, ArithInput};
use pastry_kernel::{Guid, RingWord};
use quickcheck::{Gen, QuickCheck};

const SEED: u64 = 0x9a57_2001;
const TESTS: u64 = 2_000;

fn run<A: quickcheck::Testable>(seed: u64, property: A) {
    QuickCheck::new()
        .rng(Gen::from_size_and_seed(100, SEED ^ seed))
        .tests(TESTS)
        .quickcheck(property);
}

/// Runs `f` on every word width with the values truncated to it.
macro_rules! every_width {
    (|$($v:ident),*| $body:expr) => {{
        fn one<W: RingWord>($($v: u128),*) {
            let ($($v),*) = ($(W::from_u128($v)),*);
            $body
        }
        one::<u8>($($v),*);
        one::<u16>($($v),*);
        one::<u32>($($v),*);
        one::<u64>($($v),*);
        one::<u128>($($v),*);
        one::<Guid>($($v),*);
    }};
}

#[test]
fn quickcheck_ring_laws_on_every_width() {
    fn property(a: u128, k: u128, x: u128) {
        every_width!(|a, k, x| {
            laws::ring_distance_identity(a, k);
            laws::ring_distance_symmetry(a, k);
            laws::ring_distance_at_most_half(a, k);
            laws::ring_distance_triangle_inequality(a, k, x);
            laws::clockwise_distances_sum_to_zero(a, k);
            laws::clockwise_distance_reaches_key(a, k);
            laws::ring_wraparound(a, x);
            laws::ring_translation(a, k, x);
            laws::in_arc_matches_definition(a, x, k);
        });
    }
    run(1, property as fn(u128, u128, u128));
}

#[test]
fn quickcheck_shl_laws_on_every_width_and_b() {
    fn property(a: u128, k: u128, x: u128) {
        every_width!(|a, k, x| {
            for b in DigitWidth::ALL {
                laws::shl_of_self_is_digit_count(a, b);
                laws::shl_symmetry(a, k, b);
                laws::shl_ultrametric(a, k, x, b);
                laws::shl_is_at_most_digit_count(a, k, b);
                laws::digits_differ_at_shl(a, k, b);
                laws::shl_matches_digit_by_digit(a, k, b);
                laws::digit_matches_extract(a, x, b);
                laws::slot_satisfies_design(a, x, b);
                laws::slot_of_self_is_past_last_row(a, b);
                laws::table_next_hop_extends_prefix(a, k, x, b);
                laws::rare_case_choice_makes_progress(a, k, x, b);
                laws::rare_case_preference_is_a_strict_total_order(k, a, x, a.wrapping_add(&x), b);
                laws::progress_is_a_strict_order(k, a, x, a.wrapping_add(&x), b);
            }
        });
    }
    run(2, property as fn(u128, u128, u128));
}

#[test]
fn quickcheck_closer_laws_on_every_width() {
    fn property(k: u128, x: u128, y: u128, z: u128) {
        every_width!(|k, x, y, z| {
            laws::closer_is_irreflexive(k, x);
            laws::closer_is_asymmetric(k, x, y);
            laws::closer_is_transitive(k, x, y, z);
            laws::closer_is_total(k, x, y);
            laws::closer_matches_design(k, x, y);
            laws::closer_ties_go_clockwise(k, x);
            laws::root_of_a_set_is_unique(k, &[x, y, z, k.wrapping_add(&x), k.wrapping_sub(&x)]);
        });
    }
    run(3, property as fn(u128, u128, u128, u128));
}

#[test]
fn quickcheck_arith_matches_reference_on_every_width() {
    fn property(a: u128, k: u128, x: u128, y: u128, b: u8) {
        let b = DigitWidth::ALL[usize::from(b % 4)];
        check_arith(&ArithInput { a, k, x, y, b });
    }
    run(4, property as fn(u128, u128, u128, u128, u8));
}

/// Narrow words from the same seed: values that share high bits (x = a with low bits flipped)
/// are where shl and ties matter, and uniform u128 values rarely produce them.
#[test]
fn quickcheck_laws_on_near_values() {
    fn property(a: u128, flip: u128, shift: u8) {
        let x = a ^ (flip >> (shift % 128));
        every_width!(|a, x| {
            for b in DigitWidth::ALL {
                laws::shl_ultrametric(a, x, a.wrapping_add(&x), b);
                laws::shl_matches_digit_by_digit(a, x, b);
                laws::digits_differ_at_shl(a, x, b);
                laws::slot_satisfies_design(a, x, b);
                laws::table_next_hop_extends_prefix(a, x, a.wrapping_add(&x), b);
                laws::progress_is_a_strict_order(x, a, a.wrapping_add(&x), a.wrapping_sub(&x), b);
            }
            laws::closer_is_total(a, x, a.wrapping_sub(&x));
            laws::closer_ties_go_clockwise(a, x.wrapping_sub(&a));
        });
    }
    run(5, property as fn(u128, u128, u8));
}
