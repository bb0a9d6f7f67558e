//! Failures and churn through messages at small sizes: delivery at the root asserted exactly
//! where the protocol guarantees it, loose bounds elsewhere.

use pastry_kernel::Config;
use pastry_sim::churn::{self, Churn, ChurnSpec, Departure, Session};
use pastry_sim::experiment::{self, Build, Maintenance, Routing, Setup};
use pastry_sim::model::Latency;
use pastry_sim::overlay::SECOND;
use pastry_sim::progress::Progress;

fn setup(seed: u64, loss: f64) -> Setup {
    Setup {
        config: Config::PAPER,
        seed,
        build: Build::Oracle {
            candidates_per_slot: Some(2),
        },
        latency: Latency::WAN,
        loss,
        routing: Routing::Pastry,
        progress: Progress::quiet(),
    }
}

#[test]
fn failure_experiment_repairs_leaf_sets_and_delivers_at_the_root() {
    let (r, o, _) =
        experiment::failure_experiment(&setup(9, 0.0), 200, 0.1, 1000, 120 * SECOND, false)
            .unwrap();
    assert_eq!(r.failed, 20);
    assert_eq!(o.meter().active_handles().len(), 180);
    assert!(
        r.leaf_sets_repaired_after_s.is_some_and(|t| t < 120.0),
        "{r:?}"
    );
    for s in [&r.before, &r.without_table_repair, &r.with_table_repair] {
        assert_eq!(s.correct, s.lookups, "{}", s.correctness_line());
    }
    assert_eq!(r.before.timeouts, 0);
    assert!(
        r.without_table_repair.timeouts > 0,
        "dead table entries are met"
    );
    assert!(r.table_requests_per_failed > 0.0);
}

#[test]
fn fewer_than_half_a_leaf_set_of_adjacent_crashes_are_repaired_exactly() {
    let s = setup(13, 0.0);
    let (mut o, _) = s.overlay(150, Maintenance::Protocol).unwrap();
    let half = Config::PAPER.leaf_set_half();
    let ring: Vec<u32> = o.meter().active_ids().map(|(_, h)| h).collect();
    // Three runs of L/2 - 1 adjacent nodes crash at once.
    for start in [0, 50, 100] {
        for h in &ring[start..start + half - 1] {
            o.crash(*h);
        }
    }
    // Heartbeats every 20 s, three probes (1 + 2 + 4 s), then repair.
    let t = o.now() + 120 * SECOND;
    o.run_until(t);
    assert_eq!(o.wrong_leaf_sets(), (0, 150 - 3 * (half - 1)));
    let mut r = experiment::rng(1, experiment::Stream::Lookups);
    let lookups = experiment::key_lookups(&o, 1000, &mut r);
    let out = experiment::run_lookups(&mut o, &lookups, 1000, &Progress::quiet(), "");
    let st = experiment::Stats::of(o.population(), Latency::WAN, &out, 33);
    assert_eq!(st.correct, st.lookups, "{}", st.correctness_line());
}

fn spec(nodes: usize, session: Session, minutes: f64) -> ChurnSpec {
    ChurnSpec {
        nodes,
        churn: Churn::Sessions(session),
        departure: Departure::Crash,
        warmup_s: 60.0,
        duration_s: minutes * 60.0,
        lookup_rate: nodes as f64 / 10.0,
        sample_s: 60.0,
        drain_s: 60.0,
    }
}

#[test]
fn without_churn_or_loss_every_lookup_is_delivered_at_the_root() {
    let r = churn::churn_run(&setup(21, 0.0), &spec(150, Session::None, 5.0)).unwrap();
    let l = &r.lookups;
    assert!(l.lookups > 3500, "{}", l.lookups);
    assert_eq!((l.incorrect, l.lost), (0, 0), "{}", l.correctness_line());
    assert_eq!((r.arrivals, r.departures), (0, 0));
    assert_eq!(r.wrong_leaf_set_fraction, 0.0);
    assert!(r.control_per_node_s > 0.0 && r.control_per_node_s < 0.5);
    // One a minute: the warm-up, the five measured, the drain.
    assert_eq!(r.samples.len(), 7);
}

#[test]
fn churn_with_loss_keeps_delivering_at_the_root() {
    let s = setup(17, 0.05);
    let r = churn::churn_run(&s, &spec(150, Session::Exponential { mean_s: 600.0 }, 10.0)).unwrap();
    let l = &r.lookups;
    assert!(r.arrivals > 50 && r.departures > 50, "{r:?}");
    assert!(r.messages_lost > 0);
    assert!(
        l.correct as f64 >= 0.99 * l.lookups as f64,
        "{}",
        l.correctness_line()
    );
    assert!(r.joins.activated > 0 && r.joins.mean_s > 0.0);
    assert!(
        r.mean_live > 120.0 && r.mean_live < 180.0,
        "{}",
        r.mean_live
    );
}

#[test]
fn a_trace_drives_joins_and_graceful_leaves() {
    let dir = std::env::temp_dir().join(format!("pastry-sim-churn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trace.csv");
    let mut text = String::from("# time,id,join|leave\n");
    for i in 0..40 {
        text.push_str(&format!("{},n{i},join\n", i * 2));
    }
    for i in 0..10 {
        text.push_str(&format!("{},n{i},leave\n", 100 + i * 5));
    }
    std::fs::write(&file, &text).unwrap();
    let events = churn::read_trace(&file).unwrap();
    assert_eq!(events.len(), 50);
    let spec = ChurnSpec {
        nodes: 0,
        churn: Churn::Trace(events),
        departure: Departure::Leave,
        warmup_s: 90.0,
        duration_s: 120.0,
        lookup_rate: 5.0,
        sample_s: 30.0,
        drain_s: 30.0,
    };
    let r = churn::churn_run(&setup(4, 0.0), &spec).unwrap();
    assert_eq!(r.departures, 10);
    let l = &r.lookups;
    assert_eq!((l.incorrect, l.lost), (0, 0), "{}", l.correctness_line());

    // Bad lines are named with their file and line.
    std::fs::write(&file, "0,a,join\n5,b,leave\n").unwrap();
    let e = churn::read_trace(&file).unwrap_err().to_string();
    assert!(
        e.contains("trace.csv:2") && e.contains("not present"),
        "{e}"
    );
    std::fs::write(&file, "0,a,join\nsoon,b,join\n").unwrap();
    let e = churn::read_trace(&file).unwrap_err().to_string();
    assert!(e.contains("trace.csv:2"), "{e}");
    let e = churn::read_trace(&dir.join("none.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("none.csv"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
