//! serde (feature `serde`): the routing structures round-trip through a human-readable format
//! (JSON) and a binary one (CBOR), and deserializing refuses every value that would break an
//! invariant of its type, naming the rule.

use pastry_kernel::{
    strategies, Config, Guid, LeafSet, NeighborhoodSet, NodeRef, NodeState, RoutingTable,
};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

mod common;

fn cbor<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("serialize to CBOR");
    ciborium::from_reader(bytes.as_slice()).expect("deserialize from CBOR")
}

fn json_round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let text = serde_json::to_string(value).expect("serialize to JSON");
    serde_json::from_str(&text).expect("deserialize from JSON")
}

/// Every structure of `state`, and the state, come back equal from JSON and from CBOR.
fn check_round_trips<W>(state: &NodeState<u32, W>)
where
    W: pastry_kernel::RingWord + Serialize + DeserializeOwned,
{
    assert_eq!(&json_round_trip(state), state);
    assert_eq!(&cbor(state), state);
    assert_eq!(&json_round_trip(state.leaf_set()), state.leaf_set());
    assert_eq!(&cbor(state.leaf_set()), state.leaf_set());
    assert_eq!(&json_round_trip(state.table()), state.table());
    assert_eq!(&cbor(state.table()), state.table());
    assert_eq!(&json_round_trip(state.neighborhood()), state.neighborhood());
    assert_eq!(&cbor(state.neighborhood()), state.neighborhood());
}

/// A state that learned nodes around its id and then forgot some of them (so sides may have
/// holes, table rows gaps and the neighborhood set room).
fn state<W: pastry_kernel::RingWord>() -> impl Strategy<Value = NodeState<u32, W>> {
    (
        strategies::node_state::<W>(strategies::config(), 0..80),
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    )
        .prop_map(|(mut state, forgets)| {
            for pick in forgets {
                let known: Vec<W> = state.members().map(|n| n.id).collect();
                if !known.is_empty() {
                    let _ = state.forget(known[pick.index(known.len())]);
                }
            }
            state
        })
}

proptest! {
    #![proptest_config(common::seeded(64, "proptest-regressions/serde.txt"))]

    /// decode(encode(x)) = x for the state and each of its structures, 128-bit ids.
    #[test]
    fn serde_round_trips(state in state::<Guid>()) {
        check_round_trips(&state);
    }

    /// The same on a 16-bit ring, where leaf sets often know the whole ring and hold a node on
    /// both sides.
    #[test]
    fn serde_round_trips_on_u16_ring(state in state::<u16>()) {
        check_round_trips(&state);
    }
}

/// A state on the 16-bit ring around 0x8000 with L = 4, |M| = 3: successors 0x8100, 0x8200,
/// predecessors 0x7f00, 0x7e00, table entries in rows 0 and 1, a full neighborhood set.
fn example() -> NodeState<u32, u16> {
    let config = Config::new(4, 4, 3).unwrap();
    let mut s = NodeState::new(config, NodeRef::new(0x8000, 0));
    for (i, (id, p)) in [
        (0x8100u16, 5u32),
        (0x8200, 7),
        (0x7f00, 3),
        (0x7e00, 9),
        (0x1000, 1),
        (0xc000, 2),
        (0x8900, 4),
    ]
    .into_iter()
    .enumerate()
    {
        s.learn(NodeRef::new(id, i as u32 + 1), p).unwrap();
    }
    s
}

#[test]
fn example_state_has_its_documented_shape() {
    let s = example();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["config"],
        json!({"b": "B4", "leaf_set_len": 4, "neighborhood_len": 3})
    );
    assert_eq!(v["own"], json!({"id": 0x8000, "handle": 0}));
    let ids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&v["successors"]), [0x8100, 0x8200]);
    assert_eq!(ids(&v["predecessors"]), [0x7f00, 0x7e00]);
    assert_eq!(
        v["holes"],
        json!({"successor": false, "predecessor": false})
    );
    // Row 0: 0x1000 (digit 1), 0xc000 (digit c); row 1: 0x8100 … 0x8900 keep one per digit.
    let row = |r: usize| -> Vec<u64> {
        v["rows"][r]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(row(0), [0x1000, 0x7f00, 0xc000]);
    assert_eq!(row(1), [0x8100, 0x8200, 0x8900]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["neighborhood"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["proximity"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    check_round_trips(&s);
}

/// Deserializes `v` as `T` and returns the error message.
fn refused<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> String {
    serde_json::from_value::<T>(v)
        .expect_err("an invalid value was accepted")
        .to_string()
}

/// Each broken rule is an error naming it, for the state and for each part on its own.
#[test]
fn invalid_values_are_refused() {
    let s = example();
    let good = serde_json::to_value(&s).unwrap();
    assert_eq!(
        serde_json::from_value::<NodeState<u32, u16>>(good.clone()).unwrap(),
        s
    );
    let state_with = |edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        refused::<NodeState<u32, u16>>(v)
    };

    // Leaf set.
    let e = state_with(&|v| v["successors"].as_array_mut().unwrap().swap(0, 1));
    assert!(e.contains("successors: node 1 is out of order"), "{e}");
    let e = state_with(&|v| v["predecessors"][1]["id"] = json!(0x8000));
    assert!(
        e.contains("predecessors: node 1 is the owner itself"),
        "{e}"
    );
    let e = state_with(&|v| {
        v["successors"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": 0x8300, "handle": 9}))
    });
    assert!(
        e.contains("successors: 3 entries, more than the limit 2"),
        "{e}"
    );
    let e = state_with(&|v| v["holes"]["successor"] = json!(true));
    assert!(e.contains("successors: marked as having a hole"), "{e}");
    let e = state_with(&|v| v["config"]["leaf_set_len"] = json!(5));
    assert!(e.contains("leaf-set size must be even"), "{e}");

    // Routing table.
    let e = state_with(&|v| {
        let moved = v["rows"][1][0].clone();
        v["rows"][0].as_array_mut().unwrap().push(moved);
    });
    assert!(
        e.contains("row 0: entry 3 does not share exactly 0 digits"),
        "{e}"
    );
    let e = state_with(&|v| v["rows"][1].as_array_mut().unwrap().swap(0, 2));
    assert!(
        e.contains("routing-table row 1: node 1 is out of order"),
        "{e}"
    );
    let e = state_with(&|v| v["rows"].as_array_mut().unwrap().push(json!([])));
    assert!(
        e.contains("last stored routing-table row (2) is empty"),
        "{e}"
    );
    let e = state_with(&|v| v["rows"][0][0]["node"]["id"] = json!(0x8000));
    assert!(
        e.contains("routing-table row 0: node 0 is the owner itself"),
        "{e}"
    );

    // Neighborhood set.
    let e = state_with(&|v| v["neighborhood"].as_array_mut().unwrap().swap(0, 2));
    assert!(
        e.contains("neighborhood set: node 1 is out of order"),
        "{e}"
    );
    let e = state_with(&|v| v["neighborhood"][1]["node"] = v["neighborhood"][0]["node"].clone());
    assert!(
        e.contains("neighborhood set: node 1 repeats an earlier node"),
        "{e}"
    );
    let e = state_with(&|v| v["config"]["neighborhood_len"] = json!(2));
    assert!(
        e.contains("neighborhood set: 3 entries, more than the limit 2"),
        "{e}"
    );

    // Unknown fields, missing fields.
    let e = state_with(&|v| v["extra"] = json!(1));
    assert!(e.contains("unknown field `extra`"), "{e}");
    let e = state_with(&|v| {
        v.as_object_mut().unwrap().remove("holes");
    });
    assert!(e.contains("missing field `holes`"), "{e}");

    // The parts on their own.
    let leaf = serde_json::to_value(s.leaf_set()).unwrap();
    let mut v = leaf.clone();
    v["predecessors"][0]["id"] = json!(0x8100);
    v["predecessors"][0]["handle"] = json!(99);
    let e = refused::<LeafSet<u32, u16>>(v);
    assert!(e.contains("predecessors: node 1 is out of order"), "{e}");
    let mut v = leaf;
    v["leaf_set_len"] = json!(66);
    assert!(refused::<LeafSet<u32, u16>>(v).contains("not 66"));

    let table = serde_json::to_value(s.table()).unwrap();
    let mut v = table;
    v["b"] = json!("B8");
    assert!(refused::<RoutingTable<u32, u16>>(v).contains("does not share exactly"));

    let hood = serde_json::to_value(s.neighborhood()).unwrap();
    let mut v = hood.clone();
    v["capacity"] = json!(257);
    assert!(refused::<NeighborhoodSet<u32, u16>>(v).contains("at most 256, not 257"));
    let mut v = hood;
    v["entries"][2]["node"]["id"] = json!(0x8000);
    assert!(refused::<NeighborhoodSet<u32, u16>>(v).contains("node 2 is the owner itself"));
}

/// A node on both sides of a leaf set must carry one handle: two different ones are refused.
#[test]
fn a_node_with_two_handles_is_refused() {
    let config = Config::new(4, 4, 0).unwrap();
    let mut s: NodeState<u32, u16> = NodeState::new(config, NodeRef::new(0, 0));
    s.learn(NodeRef::new(0x8000, 7), 1).unwrap();
    let mut v = serde_json::to_value(s.leaf_set()).unwrap();
    assert_eq!(v["successors"][0]["id"], v["predecessors"][0]["id"]);
    assert_eq!(
        serde_json::from_value::<LeafSet<u32, u16>>(v.clone()).unwrap(),
        *s.leaf_set()
    );
    v["predecessors"][0]["handle"] = json!(8);
    let e = refused::<LeafSet<u32, u16>>(v);
    assert!(
        e.contains("predecessor 0 is also a successor but with a different handle"),
        "{e}"
    );
}

/// Ids are 32 hex digits in JSON and a `u128` in CBOR.
#[test]
fn guid_ids_are_hex_in_json() {
    let own = Guid::new(0xab << 120);
    let s: NodeState<u32> = NodeState::new(Config::PAPER, NodeRef::new(own, 1));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["own"]["id"], json!("ab000000000000000000000000000000"));
    assert_eq!(cbor(&s), s);
}
