//! 24 nodes on 127.0.0.1, joined over TCP: leaf sets true after the joins, 1,000 lookups at
//! the true root, 200 puts then gets from other nodes that all return the values, 10% of the
//! nodes killed, every leaf set true again within the configured detection time plus repair,
//! and then 1,000 lookups at the true root and every value returned again.

use std::time::Duration;

use pastry_net::testnet::{self, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_four_nodes_join_route_survive_a_kill_and_repair() {
    let mut opts = Options::new(24);
    opts.kill_percent = 10;
    opts.lookups = 1000;
    opts.seed = 7;
    let report = tokio::time::timeout(Duration::from_secs(900), testnet::run(&opts))
        .await
        .expect("the test network finishes within 15 minutes")
        .expect("every node starts and joins");
    eprintln!("{report:#?}");
    assert_eq!(report.joined, 24);
    assert_eq!(
        report.wrong_leaf_sets_before,
        Some(0),
        "leaf sets after the joins"
    );
    assert_eq!(report.before.lookups, 1000);
    assert_eq!(report.before.at_root, 1000, "lookups before the kill");
    let d = &report.dht_before;
    assert_eq!((d.puts, d.puts_ok), (200, 200), "puts");
    assert_eq!(
        (d.gets, d.gets_correct),
        (200, 200),
        "gets from other nodes"
    );
    assert_eq!(report.killed, 2);
    let repair = report
        .repair_seconds
        .expect("every leaf set is true again after the kill");
    let bound = report.repair_bound_seconds.expect("a bound for Pastry");
    assert!(
        repair <= bound,
        "repair took {repair:.2} s, over the bound of {bound:.2} s"
    );
    assert_eq!(report.wrong_leaf_sets_after, Some(0));
    let after = report.after.expect("a second measurement");
    assert_eq!(after.at_root, 1000, "lookups after the repair");
    let d = report.dht_after.expect("gets after the kill");
    assert_eq!((d.gets, d.gets_correct), (200, 200), "gets after the kill");
    assert_eq!(report.cut_off, 0, "no honest node is cut off");
}
