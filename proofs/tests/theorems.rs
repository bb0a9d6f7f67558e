//! The laws of docs/design.md, proved by Z3 about the kernel's own `arith` functions for every
//! input. Each theorem (but leaf-set coverage and the leading-zeros encoding) proves the claim
//! of the same name in `pastry_kernel::fuzzing::claims`, the function the kernel's property
//! tests assert on machine words.
//!
//! * Ring theorems (cw, dist, closer, leaf-set coverage) do not involve b. They are proved at
//!   N = 128 with the linear-integer encoding of words (`IntWord<128>`) and cross-checked with
//!   the bit-vector encoding at N = 8 (leaf-set coverage: integer encoding only).
//! * Prefix theorems (shl, digit, slot, progress) are proved with 128-bit bit-vectors for each
//!   b ∈ {1, 2, 4, 8}, and cross-checked at N = 8 and 16.
//!
//! Each test prints one line per proof with its solver time; a failure prints Z3's
//! counterexample.

use pastry_kernel::arith::DigitWidth;
use pastry_proofs::sym::IntWord;
use pastry_proofs::theorems as t;
use pastry_proofs::{Kernel, SymWord, Verdict};

/// Prints every verdict, then fails listing those that are not proofs.
fn all_proved(verdicts: Vec<Verdict>) {
    for v in &verdicts {
        println!("{v}");
    }
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.is_proved())
        .map(ToString::to_string)
        .collect();
    assert!(failed.is_empty(), "not proved:\n{}", failed.join("\n"));
}

/// A ring theorem: proved at N = 128 (integer encoding), cross-checked at N = 8 (bit-vectors).
macro_rules! ring_theorem {
    ($name:ident) => {
        #[test]
        #[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
        fn $name() {
            all_proved(vec![
                t::$name::<Kernel, IntWord<128>>(),
                t::$name::<Kernel, SymWord<8>>(),
            ]);
        }
    };
}

/// A prefix theorem: proved at N = 128 for each b, cross-checked at N = 8, 16.
macro_rules! prefix_theorem {
    ($name:ident) => {
        #[test]
        #[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
        fn $name() {
            let mut verdicts = Vec::new();
            for b in DigitWidth::ALL {
                verdicts.push(t::$name::<Kernel, 128>(b));
                verdicts.push(t::$name::<Kernel, 16>(b));
                verdicts.push(t::$name::<Kernel, 8>(b));
            }
            all_proved(verdicts);
        }
    };
}

// Ring distance.
ring_theorem!(ring_distance_identity);
ring_theorem!(ring_distance_symmetry);
ring_theorem!(ring_distance_at_most_half);
ring_theorem!(ring_distance_triangle_inequality);
ring_theorem!(clockwise_distances_sum_to_zero);
ring_theorem!(clockwise_distance_reaches_key);
ring_theorem!(ring_wraparound);
ring_theorem!(ring_translation);
ring_theorem!(in_arc_matches_definition);

// closer.
ring_theorem!(closer_is_irreflexive);
ring_theorem!(closer_is_asymmetric);
ring_theorem!(closer_is_transitive);
ring_theorem!(closer_is_total);
ring_theorem!(closer_matches_design);
ring_theorem!(closer_ties_go_clockwise);
ring_theorem!(root_of_a_set_is_unique);

// shl and digit.
prefix_theorem!(shl_of_self_is_digit_count);
prefix_theorem!(shl_symmetry);
prefix_theorem!(shl_ultrametric);
prefix_theorem!(shl_is_at_most_digit_count);
prefix_theorem!(digits_differ_at_shl);
prefix_theorem!(shl_matches_digit_by_digit);
prefix_theorem!(digit_matches_extract);

// Routing-table placement.
prefix_theorem!(slot_satisfies_design);
prefix_theorem!(slot_of_self_is_past_last_row);

// Progress.
prefix_theorem!(table_next_hop_extends_prefix);
prefix_theorem!(rare_case_choice_makes_progress);
prefix_theorem!(rare_case_preference_is_a_strict_total_order);
prefix_theorem!(progress_is_a_strict_order);

// Leaf-set coverage, L = 4 and L = 8.
#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn leaf_set_coverage_l4() {
    all_proved(vec![t::leaf_set_coverage::<Kernel, IntWord<128>>(2)]);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn leaf_set_coverage_l8() {
    all_proved(vec![t::leaf_set_coverage::<Kernel, IntWord<128>>(4)]);
}

// The trusted leading-zeros encoding, at every width the proofs use.
#[test]
#[cfg_attr(debug_assertions, ignore = "solver-heavy: run with --release")]
fn leading_zeros_meets_its_specification() {
    all_proved(vec![
        t::leading_zeros_meets_its_specification::<8>(),
        t::leading_zeros_meets_its_specification::<16>(),
        t::leading_zeros_meets_its_specification::<128>(),
    ]);
}
