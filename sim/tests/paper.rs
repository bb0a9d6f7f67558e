//! The simulator's acceptance runs beside the paper's figures (`src/paper.rs`), at the paper's
//! sizes, seed 1, the defaults of the command line. Release builds only:
//! `cargo test --release -p pastry-sim -- --include-ignored` (CI runs them).
//!
//! Every figure here is deterministic for the seed; the tolerances are those the project set
//! for itself before measuring, not fitted to the results.

use pastry_kernel::{Config, DigitWidth};
use pastry_sim::experiment::{self, Build, Setup, Stats};
use pastry_sim::network::JoinProtocol;
use pastry_sim::paper;
use pastry_sim::progress::Progress;
use pastry_sim::quality::table_quality;
use pastry_sim::trace;

fn setup(build: Build) -> Setup {
    Setup {
        config: Config::PAPER,
        seed: 1,
        build,
        progress: Progress::quiet(),
    }
}

/// Every lookup ended at the brute-force root, with no loop and no runaway.
fn all_at_root(s: &Stats) {
    assert_eq!(s.at_root, s.lookups, "{}", s.correctness_line());
    assert_eq!((s.loops, s.runaways), (0, 0));
}

/// `measured` lies within `tolerance` of the paper's `expected`.
fn near(what: &str, measured: f64, expected: f64, tolerance: f64) {
    assert!(
        (measured - expected).abs() <= tolerance,
        "{what}: measured {measured}, paper {expected}, tolerance {tolerance}"
    );
}

const JOIN: Build = Build::Join {
    protocol: JoinProtocol::Full,
};

const ORACLE: Build = Build::Oracle {
    candidates_per_slot: None,
};

/// Figures 4 and 5 at 100,000 nodes built by joins, and the run's trace checked by the
/// independent verifier: every path ends at the root and every hop makes progress.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn figures_4_and_5_at_100000_nodes_by_join_and_the_trace_verifies() {
    let (results, last) = experiment::sizes_experiment(&setup(JOIN), &[100_000], 200_000, true);
    let s = &results[0].stats;
    all_at_root(s);
    assert_eq!(s.over_hop_bound, 0);
    let fig4 = paper::fig4_hops(100_000).unwrap();
    near("mean hops", s.mean_hops, fig4, 0.15);
    for (h, p) in paper::FIG5_DISTRIBUTION.iter().enumerate() {
        near(&format!("fraction of {h} hops"), s.fraction(h), *p, 0.03);
    }

    let dir = std::env::temp_dir().join(format!("pastry-sim-paper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (net, outcomes) = last.unwrap();
    let (t, n) = (dir.join("routes.jsonl"), dir.join("nodes.txt"));
    trace::write_trace(&t, &net, &outcomes).unwrap();
    trace::write_nodes(&n, &net).unwrap();
    let v = trace::verify(&n, &t, DigitWidth::B4).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(v.all_good(), "{v}");
    assert_eq!(v.lookups, 200_000);
}

/// Figure 4 at 100,000 nodes built from global knowledge: the tighter tolerance.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn figure_4_at_100000_nodes_by_oracle() {
    let (results, _) = experiment::sizes_experiment(&setup(ORACLE), &[100_000], 200_000, false);
    let s = &results[0].stats;
    all_at_root(s);
    near(
        "mean hops",
        s.mean_hops,
        paper::fig4_hops(100_000).unwrap(),
        0.05,
    );
}

/// Figure 6 at 10,000 nodes: both readings of "route distance over direct distance" (the mean
/// of the per-route ratios, and total route distance over total direct distance) lie between
/// 1.2 and 1.5.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn figure_6_stretch_at_10000_nodes() {
    let (results, _) = experiment::sizes_experiment(&setup(JOIN), &[10_000], 200_000, false);
    let s = &results[0].stats;
    all_at_root(s);
    for stretch in [s.stretch_mean.unwrap(), s.stretch_total.unwrap()] {
        assert!((1.2..=1.5).contains(&stretch), "stretch {stretch}");
    }
}

/// Figure 7 after 5,000 joins: row 0 holds about 14.4 proximity-best entries of 15, and every
/// row fewer than one entry that is not the proximity-best choice. The protocol without its
/// last step (told nodes merging the new state) is measurably worse.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn figure_7_table_quality_after_5000_joins() {
    let measure = |protocol| {
        let (net, _) = setup(Build::Join { protocol }).network(paper::FIG7_NODES);
        table_quality(&net, 4, paper::FIG7_NODES)
    };
    let full = measure(JoinProtocol::Full);
    assert_eq!(full.measured, paper::FIG7_NODES);
    assert!(
        full.rows[0].optimal >= paper::FIG7_ROW0_OPTIMAL - 0.5,
        "{full:?}"
    );
    for r in &full.rows {
        assert!(r.non_optimal < paper::FIG7_NON_OPTIMAL_MAX, "{r:?}");
        assert!(r.dead == 0.0, "{r:?}");
    }
    let partial = measure(JoinProtocol::SecondStage);
    assert!(partial.rows[1].optimal < full.rows[1].optimal);
}

/// Figure 10 at 5,000 nodes: delivery at the live root in every phase, and the hops after the
/// failures within ±0.2 of the paper's 2.96 (no table repair) and 2.74 (repaired).
///
/// The paper's no-failure figure, 2.73, is 0.22 below its own figure 4 at the same size and
/// parameters (2.954); this simulator matches figure 4 there, so the no-failure phase is held
/// to figure 4 (±0.05) instead, and the gap is reported, not hidden.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn figure_10_failures_at_5000_nodes() {
    let (r, _, _) =
        experiment::failure_experiment(&setup(JOIN), paper::FIG10_NODES, 0.1, 200_000, false);
    for s in [&r.before, &r.without_table_repair, &r.with_table_repair] {
        all_at_root(s);
    }
    let (_, after, repaired) = paper::FIG10_HOPS;
    near(
        "no table repair",
        r.without_table_repair.mean_hops,
        after,
        0.2,
    );
    near(
        "tables repaired",
        r.with_table_repair.mean_hops,
        repaired,
        0.2,
    );
    let fig4 = paper::fig4_hops(paper::FIG10_NODES).unwrap();
    near(
        "no failure, against figure 4",
        r.before.mean_hops,
        fig4,
        0.05,
    );
}
