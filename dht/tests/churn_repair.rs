//! Leaf-set repair under DHT traffic with fast timers (the settings of the libp2p host's test
//! network: heartbeat 2 s, probe timeout 1 s).
//!
//! `leaf_sets_repair_under_dht_traffic` (release only, CI runs it): 100 DHT nodes store 200
//! values, then a tenth of them crash; every leaf set is the true one again within 30 s — the
//! detection bound (2·T_ls + T_o + the probes, 12 s) plus two rounds of repair. Found by the
//! libp2p host: a merge planned before a failure and run after the failed node's entry had left
//! the recently-failed list (two heartbeat periods, 4 s here, shorter than the probes a merge
//! waits for) offered the dead node again, and some leaf sets held it for good.

use std::time::Duration;

use pastry_dht::testnet::{add, DhtNet};
use pastry_dht::DhtConfig;
use pastry_node::testnet::Schedule;

#[test]
#[ignore]
fn leaf_sets_repair_under_dht_traffic() {
    let cfg = DhtConfig::default();
    for seed in 1..=2u64 {
        let mut net: DhtNet<u64> = DhtNet::new(Schedule::reliable(), seed);
        let mut c = pastry_node::NodeConfig::default();
        c.heartbeat = Duration::from_secs(2);
        c.rto_min = Duration::from_secs(1);
        net.config = c;
        let mut x = seed;
        for i in 0..100 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            add(&mut net, u128::from(x), cfg);
            net.join(i, (i > 0).then_some(0));
            net.run_until_quiet(60_000_000);
        }
        assert_eq!(net.wrong_leaf_sets(), 0);
        for k in 0..200u64 {
            let key = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            net.call((k % 100) as usize, |d, now| d.put(now, key, vec![1; 16]));
        }
        let t = net.now + 5_000_000;
        net.run_until(t);
        net.crash_random(10, x);
        let repaired = net.run_until_leaf_sets_true(500_000, 120_000_000);
        let repaired = repaired.expect("every leaf set true again within 120 s");
        println!(
            "seed {seed}: leaf sets true {:.1} s after the crashes",
            repaired as f64 / 1e6
        );
        assert!(
            repaired <= 30_000_000,
            "repair took {} s",
            repaired / 1_000_000
        );
    }
}
