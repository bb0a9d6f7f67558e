//! Small networks through messages: correctness asserted exactly, the other figures against
//! loose bounds. Debug builds check every node's invariants after every input, so the sizes
//! stay small here; `paper.rs` has the paper's sizes in release builds.

use pastry_kernel::{Config, DigitWidth};
use pastry_sim::experiment::{self, Build, Routing, Setup};
use pastry_sim::model::Latency;
use pastry_sim::progress::Progress;
use pastry_sim::trace;

fn setup(seed: u64, build: Build) -> Setup {
    Setup {
        config: Config::PAPER,
        seed,
        build,
        latency: Latency::WAN,
        loss: 0.0,
        routing: Routing::Pastry,
        progress: Progress::quiet(),
    }
}

const ORACLE: Build = Build::Oracle {
    candidates_per_slot: Some(2),
};

#[test]
fn stable_oracle_network_delivers_every_lookup_at_the_root() {
    let (results, _) =
        experiment::sizes_experiment(&setup(7, ORACLE), &[200, 500], 2000, false).unwrap();
    for r in &results {
        let s = &r.stats;
        assert_eq!(s.lookups, 2000);
        assert_eq!(
            s.correct,
            s.lookups,
            "N = {}: {}",
            r.nodes,
            s.correctness_line()
        );
        assert_eq!((s.over_hop_bound, s.timeouts, s.gave_up), (0, 0, 0));
        assert!(
            s.mean_hops < r.log_n + 0.5,
            "N = {}: {}",
            r.nodes,
            s.mean_hops
        );
        assert!(
            s.mean_hops > r.log_n - 1.0,
            "N = {}: {}",
            r.nodes,
            s.mean_hops
        );
        let total: f64 = s.distribution.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        // A message takes at least the direct latency: the delay penalty is at least 1.
        assert!(s.rdp_mean.unwrap() >= 1.0 && s.stretch_total.unwrap() >= 1.0);
    }
}

/// Joins one at a time through messages: every node active, every leaf set true, every lookup
/// at the root.
#[test]
fn join_built_network_delivers_every_lookup_at_the_root() {
    let s = setup(5, Build::Join);
    let (mut o, report) = s.overlay(120, experiment::Maintenance::Idle).unwrap();
    assert_eq!(o.meter().active_handles().len(), 120);
    assert_eq!(o.wrong_leaf_sets(), (0, 120));
    assert!(report.total_per_join > 10.0 && report.mean_join_ms > 0.0);
    let mut r = experiment::rng(5, experiment::Stream::Lookups);
    let lookups = experiment::key_lookups(&o, 1000, &mut r);
    let out = experiment::run_lookups(&mut o, &lookups, 1000, &Progress::quiet(), "");
    let st = experiment::Stats::of(o.population(), Latency::WAN, &out, 33);
    assert_eq!(st.correct, 1000, "{}", st.correctness_line());
    o.invariants();
}

#[test]
fn leaf_set_routing_is_correct_and_slower() {
    let leaf = Setup {
        routing: Routing::LeafSet,
        ..setup(8, ORACLE)
    };
    let (table, _) = experiment::sizes_experiment(&setup(8, ORACLE), &[300], 500, false).unwrap();
    let (ring, _) = experiment::sizes_experiment(&leaf, &[300], 500, false).unwrap();
    assert_eq!(
        ring[0].stats.correct,
        500,
        "{}",
        ring[0].stats.correctness_line()
    );
    // About N / (2L) hops: a key is N/4 nodes away on average and a hop moves L/2.
    assert!(ring[0].stats.mean_hops > 6.0, "{}", ring[0].stats.mean_hops);
    assert!(
        table[0].stats.mean_hops < 3.0,
        "{}",
        table[0].stats.mean_hops
    );
}

#[test]
fn same_seed_same_results_other_seed_other_results() {
    let run = |seed| {
        experiment::sizes_experiment(&setup(seed, ORACLE), &[150], 500, false)
            .unwrap()
            .0
            .into_iter()
            .map(|r| r.stats)
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert_eq!(a, b);
    assert_ne!(a[0].histogram, c[0].histogram);
}

#[test]
fn trace_of_a_run_verifies_independently() {
    let dir = std::env::temp_dir().join(format!("pastry-sim-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, last) = experiment::sizes_experiment(&setup(11, ORACLE), &[300], 1000, true).unwrap();
    let (o, outcomes) = last.unwrap();
    let (t, n) = (dir.join("t.jsonl"), dir.join("n.txt"));
    trace::write_trace(&t, o.population(), &outcomes).unwrap();
    trace::write_nodes(&n, &o).unwrap();
    let v = trace::verify(&n, &t, DigitWidth::B4).unwrap();
    assert!(v.all_good(), "{v}");
    assert_eq!(v.lookups, 1000);

    // A path cut short before the root is caught.
    let text = std::fs::read_to_string(&t).unwrap();
    let mut line: trace::TraceLine = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    while line.path.len() < 2 {
        line = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    }
    line.path.pop();
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, serde_json::to_string(&line).unwrap() + "\n").unwrap();
    let v = trace::verify(&n, &bad, DigitWidth::B4).unwrap();
    assert!(!v.all_good());
    assert_eq!(v.at_root, 0);
    // A missing file is named in the error.
    let e = trace::verify(&dir.join("missing.txt"), &t, DigitWidth::B4).unwrap_err();
    assert!(e.to_string().contains("missing.txt"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A join build grows one network through the sizes of a run; the network of each size is
/// the one a run of that size alone builds, and measures the same.
#[test]
fn a_grown_network_measures_as_one_built_alone() {
    let s = setup(6, Build::Join);
    let (grown, _) = experiment::sizes_experiment(&s, &[200, 80], 500, false).unwrap();
    let (alone, _) = experiment::sizes_experiment(&s, &[200], 500, false).unwrap();
    assert_eq!(grown.iter().map(|r| r.nodes).collect::<Vec<_>>(), [80, 200]);
    assert_eq!(grown[1].stats, alone[0].stats);
    assert_eq!(
        grown[1].build_report.messages_per_join,
        alone[0].build_report.messages_per_join
    );
}
