//! The DHT experiment at CI sizes: a `pastry-dht` engine on every node, keys stored, then
//! churn (and message loss) with gets, updates and removes. Release only: the debug build
//! checks every engine's invariants after every input, which is slow at hundreds of nodes.

use pastry_dht::DhtConfig;
use pastry_kernel::Config;
use pastry_sim::churn::Session;
use pastry_sim::dht::{dht_run, DhtNet, DhtResult, DhtSpec};
use pastry_sim::model::Latency;
use pastry_sim::progress::Progress;

fn run(nodes: usize, session: Session, loss: f64, hours: f64, seed: u64) -> DhtResult {
    let net = DhtNet {
        config: Config::PAPER,
        latency: Latency::WAN,
        loss,
        seed,
        progress: Progress::quiet(),
    };
    let spec = DhtSpec {
        nodes,
        keys: nodes * 10,
        session,
        duration_s: hours * 3600.0,
        get_rate: nodes as f64 / 60.0,
        write_rate: nodes as f64 / 600.0,
        remove_share: 0.1,
        value_bytes: 100,
        load_s: 60.0,
        drain_s: 120.0,
        dht: DhtConfig::default(),
    };
    dht_run(&net, &spec).unwrap()
}

/// Every acknowledged value is still held at the end, no removed key would come back, and
/// every initial put reached all k replicas.
fn no_value_lost(r: &DhtResult) {
    assert_eq!(r.puts.done, r.puts.issued, "{r:#?}");
    assert_eq!(r.puts.short, 0, "{r:#?}");
    assert_eq!(r.end.values_lost, 0, "{r:#?}");
    assert_eq!(r.end.removed_reappear, 0, "{r:#?}");
    assert_eq!(r.gets.reappeared, 0, "{r:#?}");
    assert!(r.end.live_keys > 0 && r.end.removed_keys > 0, "{r:#?}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn long_sessions_without_loss_lose_no_value_and_gets_return_the_newest_version() {
    let r = run(
        400,
        Session::Exponential {
            mean_s: 135.0 * 60.0,
        },
        0.0,
        0.5,
        1,
    );
    no_value_lost(&r);
    assert!(r.departures > 0 && r.arrivals > 0, "{r:#?}");
    assert!(r.gets.counted() > 5_000, "{r:#?}");
    assert!(r.newest_fraction >= 0.9999, "{r:#?}");
    // The k copies of every key, spread over the nodes.
    assert!((4.5..=6.0).contains(&r.end.copies_per_key), "{r:#?}");
    assert!(r.end.records_max_over_mean < 4.0, "{r:#?}");
    assert!(r.maintenance_bytes_per_node_s > 0.0, "{r:#?}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn short_sessions_and_five_percent_loss_lose_no_value() {
    let r = run(
        300,
        Session::Exponential {
            mean_s: 30.0 * 60.0,
        },
        0.05,
        0.5,
        2,
    );
    no_value_lost(&r);
    assert!(r.messages_lost > 0, "{r:#?}");
    assert!(r.newest_fraction >= 0.99, "{r:#?}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn the_same_seed_gives_the_same_measures() {
    let a = run(100, Session::Exponential { mean_s: 1800.0 }, 0.05, 0.1, 3);
    let b = run(100, Session::Exponential { mean_s: 1800.0 }, 0.05, 0.1, 3);
    let strip = |r: DhtResult| DhtResult { wall_s: 0.0, ..r };
    assert_eq!(strip(a), strip(b));
}
