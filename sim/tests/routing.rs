//! Small-N runs of the routing experiments: correctness figures asserted exactly, the others
//! against loose bounds.

use pastry_kernel::{Config, DigitWidth};
use pastry_sim::experiment::{self, Build, Setup};
use pastry_sim::progress::Progress;
use pastry_sim::trace;

fn oracle(seed: u64) -> Setup {
    Setup {
        config: Config::PAPER,
        seed,
        build: Build::Oracle {
            candidates_per_slot: Some(2),
        },
        progress: Progress::quiet(),
    }
}

#[test]
fn stable_oracle_network_delivers_every_lookup_at_the_root() {
    let (results, _) = experiment::sizes_experiment(&oracle(7), &[200, 800], 2000, false);
    for r in &results {
        let s = &r.stats;
        assert_eq!(s.lookups, 2000);
        assert_eq!(
            s.at_root,
            s.lookups,
            "N = {}: {}",
            r.nodes,
            s.correctness_line()
        );
        assert_eq!(
            (s.loops, s.runaways, s.over_hop_bound, s.timeouts),
            (0, 0, 0, 0)
        );
        assert!(
            s.mean_hops < r.log_n + 0.5,
            "N = {}: {} hops",
            r.nodes,
            s.mean_hops
        );
        assert!(
            s.mean_hops > r.log_n - 1.0,
            "N = {}: {} hops",
            r.nodes,
            s.mean_hops
        );
        let total: f64 = s.distribution.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}

#[test]
fn same_seed_same_results_other_seed_other_results() {
    let run = |seed| experiment::sizes_experiment(&oracle(seed), &[300], 1000, false).0;
    let (a, b, c) = (run(3), run(3), run(4));
    assert_eq!(a, b);
    assert_ne!(a[0].stats.histogram, c[0].stats.histogram);
}

#[test]
fn trace_of_a_run_verifies_independently() {
    let dir = std::env::temp_dir().join(format!("pastry-sim-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, last) = experiment::sizes_experiment(&oracle(11), &[300], 1000, true);
    let (net, outcomes) = last.unwrap();
    let (t, n) = (dir.join("t.jsonl"), dir.join("n.txt"));
    trace::write_trace(&t, &net, &outcomes).unwrap();
    trace::write_nodes(&n, &net).unwrap();
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
    std::fs::remove_dir_all(&dir).unwrap();
}
