//! The DHT's pieces on their own: the codec (round trip, canonical decoding), the store
//! against a model, one node's operation sequences, typed errors that change nothing, the
//! configuration's checks, and hand-off when a closer node joins.

mod common;

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use pastry_dht::fuzzing::{check_decode, check_ops, check_roundtrip, OpsInput};
use pastry_dht::message::MAGIC;
use pastry_dht::testnet::{add, dht_net, replica_records, results};
use pastry_dht::{
    Applied, Dht, DhtConfig, DhtConfigError, DhtDecodeError, DhtError, DhtEvent, DhtMessage,
    FailReason, Record, Store, StoreError, Version,
};
use pastry_kernel::{Config, Guid, NodeRef};
use pastry_node::testnet::Schedule;
use pastry_node::{NoEstimate, Node, NodeConfig};
use proptest::prelude::*;

fn unstructured<T: for<'a> Arbitrary<'a>>(bytes: &[u8]) -> Option<T> {
    T::arbitrary(&mut Unstructured::new(bytes)).ok()
}

proptest! {
    #![proptest_config(common::seeded(512, "proptest-regressions/api.txt"))]

    #[test]
    fn codec_decode_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_decode(&bytes);
        // Also behind a valid header, where the body rules are reached.
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&[1, bytes.first().map_or(1, |b| b % 12), 2]);
        framed.extend_from_slice(&bytes);
        check_decode(&framed);
    }

    #[test]
    fn codec_roundtrip(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Some(m) = unstructured::<DhtMessage<Guid>>(&bytes) {
            check_roundtrip(&m);
        }
    }

    #[test]
    fn dht_invariants_hold_under_random_operation_sequences(
        bytes in prop::collection::vec(any::<u8>(), 0..2048)
    ) {
        if let Some(input) = unstructured::<OpsInput>(&bytes) {
            check_ops(&input);
        }
    }

    /// The store against a model map: the winner by `supersedes` per key, the cap refusing new
    /// keys, removes.
    #[test]
    fn store_matches_a_model(ops in prop::collection::vec((0u16..6, 0u64..5, any::<bool>(), 0u8..4), 0..60)) {
        let mut store = Store::<u16>::new(4);
        let mut model: BTreeMap<u16, Record<u16>> = BTreeMap::new();
        for (key, time, tomb, what) in ops {
            if what == 0 {
                prop_assert_eq!(store.remove(key), model.remove(&key).is_some());
                continue;
            }
            let r = Record {
                key,
                version: Version { time, writer: u16::from(what) },
                value: (!tomb).then(|| vec![what; usize::from(what)]),
            };
            let before = store.clone();
            let got = store.apply(r.clone(), 10, 100, false);
            let want = match model.get(&key) {
                Some(held) if r.supersedes(held) => Ok(Applied::Replaced),
                Some(_) => Ok(Applied::Kept),
                None if model.len() >= 4 => Err(StoreError::Full { cap: 4 }),
                None => Ok(Applied::Inserted),
            };
            prop_assert_eq!(got, want);
            match got {
                Ok(Applied::Kept) | Err(_) => prop_assert_eq!(&store, &before),
                Ok(_) => { model.insert(key, r); }
            }
            for (k, m) in &model {
                prop_assert_eq!(store.get(*k), Some(m.clone()));
            }
            prop_assert_eq!(store.len(), model.len());
        }
    }
}

#[test]
fn versions_order_by_time_then_writer_and_tombstones_lose_ties() {
    let v = |time, writer| Version { time, writer };
    assert!(v(2, 1u16) > v(1, 9));
    assert!(v(1, 2u16) > v(1, 1));
    let value = Record {
        key: 1u16,
        version: v(1, 1),
        value: Some(vec![]),
    };
    let tomb = Record {
        key: 1u16,
        version: v(1, 1),
        value: None,
    };
    assert!(value.supersedes(&tomb) && !tomb.supersedes(&value));
    let newer_tomb = Record {
        key: 1u16,
        version: v(2, 1),
        value: None,
    };
    assert!(newer_tomb.supersedes(&value));
}

#[test]
fn decode_errors_are_typed() {
    let m = DhtMessage::<u16>::Put {
        op: 1,
        record: Record {
            key: 5,
            version: Version { time: 1, writer: 2 },
            value: Some(vec![1; 10]),
        },
    };
    let bytes = m.to_vec(64).unwrap();
    assert_eq!(DhtMessage::<u16>::decode(&bytes, 64), Ok(m.clone()));
    assert_eq!(
        DhtMessage::<u16>::decode(&bytes, 9),
        Err(DhtDecodeError::ValueTooLarge { len: 10, max: 9 })
    );
    assert!(matches!(
        DhtMessage::<Guid>::decode(&bytes, 64),
        Err(DhtDecodeError::IdWidth { .. })
    ));
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(
        DhtMessage::<u16>::decode(&bad, 64),
        Err(DhtDecodeError::BadMagic)
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        DhtMessage::<u16>::decode(&trailing, 64),
        Err(DhtDecodeError::Part(_))
    ));
    // A summary out of key order has no encoding, and its bytes do not decode.
    let v = Version {
        time: 1,
        writer: 1u16,
    };
    let unsorted = DhtMessage::<u16>::Summary {
        entries: vec![(3, v), (2, v)],
    };
    assert!(unsorted.to_vec(64).is_err());
    let sorted = DhtMessage::<u16>::Summary {
        entries: vec![(2, v), (3, v)],
    };
    let mut b = sorted.to_vec(64).unwrap();
    let first = 7; // header 5, count 2
    b.swap(first, first + 12);
    b.swap(first + 1, first + 13);
    assert!(matches!(
        DhtMessage::<u16>::decode(&b, 64),
        Err(DhtDecodeError::Unsorted { .. })
    ));
}

fn lone(cfg: DhtConfig) -> Dht<u32, u16> {
    let node = Node::new(
        cfg.node_config(NodeConfig::new(Config::PAPER)),
        NodeRef::new(100u16, 0u32),
        NoEstimate,
        1,
    )
    .unwrap();
    let mut d = Dht::new(cfg, node).unwrap();
    d.join(0, None).unwrap();
    while d.poll_event().is_some() {}
    d
}

#[test]
fn refused_calls_are_typed_errors_and_change_nothing() {
    let mut cfg = DhtConfig::default();
    cfg.max_value = 8;
    cfg.max_ops = 1;
    let mut d = lone(cfg);
    let before = d.clone();
    assert_eq!(
        d.put(1, 5, vec![0; 9]),
        Err(DhtError::ValueTooLarge { len: 9, max: 8 })
    );
    assert_eq!(
        d.route(1, 5, MAGIC.to_vec()),
        Err(DhtError::ReservedPayload)
    );
    assert_eq!(
        d.route_to(1, NodeRef::new(100u16, 0u32), MAGIC.to_vec()),
        Err(DhtError::ReservedPayload)
    );
    assert!(d == before);
    // An idle (not joined) node refuses, unchanged.
    let node = Node::new(
        cfg.node_config(NodeConfig::new(Config::PAPER)),
        NodeRef::new(7u16, 0u32),
        NoEstimate,
        1,
    )
    .unwrap();
    let mut idle = Dht::new(cfg, node).unwrap();
    let before = idle.clone();
    assert!(matches!(idle.get(1, 5), Err(DhtError::Node(_))));
    assert!(idle == before);
}

#[test]
fn route_to_self_delivers_the_application_payload_here() {
    let mut d = lone(DhtConfig::default());
    let seq = d
        .route_to(1, NodeRef::new(100u16, 0u32), b"hi".to_vec())
        .unwrap();
    let events: Vec<_> = std::iter::from_fn(|| d.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        DhtEvent::Node(pastry_node::Event::Deliver { seq: s, payload, .. })
            if *s == seq && payload == b"hi"
    )));
}

#[test]
fn a_full_store_refuses_with_a_typed_failure_and_keeps_what_it_holds() {
    let mut cfg = DhtConfig::default();
    cfg.max_records = 1;
    let mut d = lone(cfg);
    let a = d.put(1, 5, b"a".to_vec()).unwrap();
    let b = d.put(2, 6, b"b".to_vec()).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| d.poll_event()).collect();
    assert!(events
        .iter()
        .any(|e| matches!(e, DhtEvent::PutDone { op, stored: 1, .. } if *op == a)));
    assert!(events
        .iter()
        .any(|e| matches!(e, DhtEvent::Failed { op, reason: FailReason::Full, .. } if *op == b)));
    assert_eq!(d.store().get(5).and_then(|r| r.value), Some(b"a".to_vec()));
    assert_eq!(d.store().len(), 1);
    assert_eq!(d.counters().refused_full, 1);
}

#[test]
fn configurations_out_of_range_are_refused() {
    let node = NodeConfig::new(Config::new(4, 8, 8).unwrap());
    let mut c = DhtConfig::default();
    c.replicas = 6; // L = 8: at most 5
    assert_eq!(
        c.validate(&c.node_config(node)),
        Err(DhtConfigError::Replicas { k: 6, max: 5 })
    );
    let mut c = DhtConfig::default();
    c.write_quorum = Some(6);
    assert!(matches!(
        c.validate(&c.node_config(node)),
        Err(DhtConfigError::Quorum { .. })
    ));
    let c = DhtConfig::default();
    assert!(matches!(
        c.validate(&node),
        Err(DhtConfigError::PayloadCap { .. })
    ));
    assert_eq!(c.validate(&c.node_config(node)), Ok(()));
    let mut c = DhtConfig::default();
    c.tombstone_lifetime = c.replication_period;
    assert!(matches!(
        c.validate(&c.node_config(node)),
        Err(DhtConfigError::Order(_))
    ));
}

#[test]
fn a_closer_node_joining_takes_the_key_and_the_farthest_holder_hands_it_off() {
    let mut cfg = DhtConfig::default();
    cfg.replicas = 3;
    let ids = [1_000u16, 11_000, 21_000, 31_000, 41_000, 51_000, 61_000];
    let mut net = dht_net(Schedule::reliable(), 3, &ids, cfg);
    let key = 21_100u16;
    net.call(0, |d, now| d.put(now, key, b"v".to_vec()))
        .unwrap()
        .unwrap();
    net.run_until_quiet(30_000_000);
    let before: Vec<usize> = replica_records(&net, key, 3)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert!(replica_records(&net, key, 3)
        .iter()
        .all(|(_, r)| r.is_some()));
    // A node right next to the key joins: it becomes the root; one old holder leaves the k.
    let new = add(&mut net, 21_101u16, cfg);
    net.join(new, Some(0));
    let t = net.now + 300_000_000;
    net.run_until(t);
    let after = replica_records(&net, key, 3);
    assert_eq!(after[0].0, new);
    assert!(after
        .iter()
        .all(|(_, r)| r.as_ref().and_then(|r| r.value.clone()) == Some(b"v".to_vec())));
    let dropped: Vec<usize> = before
        .into_iter()
        .filter(|i| !after.iter().any(|(j, _)| j == i))
        .collect();
    assert_eq!(dropped.len(), 1);
    assert!(
        net.nodes[dropped[0]].store().get(key).is_none(),
        "the old holder kept the key"
    );
    assert_eq!(net.nodes[dropped[0]].counters().handed_off, 1);
    // And a get from anywhere finds the value.
    let op = net.call(5, |d, now| d.get(now, key)).unwrap().unwrap();
    net.run_until_quiet(30_000_000);
    assert!(results(&net, 5).any(
        |e| matches!(e, DhtEvent::GetDone { op: o, value: Some(v), .. } if *o == op && v == b"v")
    ));
}

/// The committed `dht_decode` seeds are exactly `decode_seeds()` (run `cargo run --example
/// write_seeds` in `fuzz/` after changing the messages), and each passes the fuzz property.
#[test]
fn decode_seeds_are_committed_and_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/dht_decode");
    let committed = pastry_kernel::fuzzing::committed_seeds(&dir);
    let mut expected = pastry_dht::fuzzing::decode_seeds();
    expected.sort();
    assert!(expected.len() >= 8, "only {} seeds", expected.len());
    assert_eq!(committed, expected, "fuzz/seeds/dht_decode is stale");
    for (_, bytes) in &expected {
        check_decode(bytes);
    }
}
