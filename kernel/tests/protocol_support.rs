//! The kernel pieces a message-level protocol needs: leaf-set holes that only repair can close,
//! admission queries for probing before learning, a joiner's state from the parts its join
//! message gathered, and the codec's embedded pieces.
//!
//! * `holed_side_takes_no_node_beyond_its_farthest`, `learn_does_not_pad_a_holed_side`: the
//!   hole rule (LeafSet **Holes**), and the defect it fixes.
//! * `admits_agrees_with_learn` (proptest): `admits(id, p).any()` is `learn(id, p).added()`,
//!   with no change to the state; `admits(id, 0)` covers every figure.
//! * `join_from_parts_equals_join` (proptest): the state built from the rows gathered hop by
//!   hop (as [`NodeState::join_rows`] names them, carried as row pieces) equals the state built
//!   from whole snapshots.
//! * `pieces_round_trip`, `piece_lists_are_canonical`, `piece_errors_carry_offsets`,
//!   `hole_flags_round_trip_and_are_checked`: the embedding API of the codec.

mod common;

use std::collections::BTreeSet;

use pastry_kernel::codec::{DecodeError, Decoder, EncodeError, Encoder, Part};
use pastry_kernel::{Config, JoinParts, LeafSet, NodeRef, NodeState, RoutingTable, Row};
use proptest::prelude::*;

type Node = NodeRef<usize, u16>;
type State = NodeState<usize, u16>;

fn prox(from: usize) -> impl Fn(&Node) -> u32 + Copy {
    move |n: &Node| (from.abs_diff(n.handle) as u32).wrapping_mul(2_654_435_761) >> 20
}

/// A ring of `n` nodes spaced 1000 apart on a 16-bit ring, handles in id order.
fn spaced(n: usize) -> Vec<Node> {
    (0..n).map(|i| NodeRef::new(i as u16 * 1000, i)).collect()
}

#[test]
fn holed_side_takes_no_node_beyond_its_farthest() {
    let ring = spaced(60);
    let mut me: State = NodeState::from_ring(Config::PAPER, ring[30], &ring, |_| 1, 1);
    assert!(!me.leaf_set().holes().any());
    me.forget(ring[31].id).expect("other id");
    assert!(me.leaf_set().holes().successor);
    assert!(!me.leaf_set().holes().predecessor);
    assert_eq!(me.leaf_set_shortfall(), (1, 0));
    // A node beyond the farthest successor (38) is not appended ...
    assert!(!me.admits(ring[39].id, 0).leaf_set);
    me.learn(ring[39], 1).expect("other id");
    assert_eq!(me.leaf_set().successors().len(), 7);
    // ... but one inside the side's arc is, and fills the side: the hole is closed.
    let between = NodeRef::new(31_500, 99);
    assert!(me.admits(between.id, 0).leaf_set);
    me.learn(between, 1).expect("other id");
    assert_eq!(me.leaf_set().successors().len(), 8);
    assert!(!me.leaf_set().holes().any());
    assert_eq!(me.leaf_set_shortfall(), (0, 0));
}

#[test]
fn learn_does_not_pad_a_holed_side() {
    // The defect a downstream host met: after a failure, nodes learned from rows and
    // neighborhood sets padded the short side with far nodes; the side looked full,
    // `leaf_set_shortfall` said (0, 0), repair never ran and the arc covered keys whose roots
    // were unknown. With the hole, nothing beyond the farthest member enters the side, so the
    // shortfall stays until repair.
    let ring = spaced(60);
    let mut me: State = NodeState::from_ring(Config::PAPER, ring[30], &ring, |_| 1, 1);
    me.forget(ring[31].id).expect("other id");
    for n in ring.iter().filter(|n| n.handle != 31 && n.handle != 30) {
        me.learn(*n, 5).expect("other id");
    }
    assert_eq!(me.leaf_set_shortfall(), (1, 0));
    let far = me.leaf_set().farthest_successor().map(|n| n.handle);
    assert_eq!(far, Some(38), "the arc did not stretch");
    // Repair from the farthest successor closes it.
    let them: State = NodeState::from_ring(Config::PAPER, ring[38], &ring, |_| 1, 1);
    me.repair_leaf_set(&ring[38], them.leaf_set(), |n: &Node| {
        (n.handle != 31).then_some(1u32)
    })
    .expect("their own leaf set");
    assert_eq!(me.leaf_set_shortfall(), (0, 0));
    assert!(!me.leaf_set().holes().any());
    let live: Vec<Node> = ring.iter().filter(|n| n.handle != 31).copied().collect();
    let truth: State = NodeState::from_ring(Config::PAPER, ring[30], &live, |_| 1, 1);
    assert_eq!(me.leaf_set(), truth.leaf_set());
}

#[derive(Clone, Debug)]
enum Op {
    Learn(u16, u32),
    Forget(u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (any::<u16>(), 0u32..40).prop_map(|(id, p)| Op::Learn(id, p)),
            1 => any::<u8>().prop_map(Op::Forget),
        ],
        0..120,
    )
}

fn small_config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![1u32, 2, 4]),
        prop::sample::select(vec![2usize, 4, 8]),
        0usize..6,
    )
        .prop_map(|(b, l, m)| Config::new(b, l, m).expect("valid"))
}

fn replay(config: Config, own: u16, ops: &[Op]) -> State {
    let mut s = NodeState::new(config, NodeRef::new(own, usize::MAX));
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Learn(id, p) if id != own => {
                s.learn(NodeRef::new(id, i), p).expect("other id");
            }
            Op::Learn(..) => {}
            Op::Forget(k) => {
                let known: Vec<u16> = s.members().map(|n| n.id).collect();
                if let Some(&id) = known.get(usize::from(k) % known.len().max(1)) {
                    s.forget(id).expect("other id");
                }
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(common::seeded(256, "proptest-regressions/protocol_support.txt"))]

    /// `admits` answers what `learn` would do, and changes nothing; `admits(id, 0)` covers
    /// every figure.
    #[test]
    fn admits_agrees_with_learn(
        config in small_config(),
        own in any::<u16>(),
        history in ops(),
        candidate in any::<u16>(),
        figure in 0u32..40,
    ) {
        let s = replay(config, own, &history);
        let before = s.clone();
        let asked = s.admits(candidate, figure);
        let best_case = s.admits(candidate, 0);
        prop_assert_eq!(&s, &before);
        prop_assert!(!asked.leaf_set || best_case.leaf_set);
        prop_assert!(!asked.table || best_case.table);
        prop_assert!(!asked.neighborhood || best_case.neighborhood);
        let mut t = s.clone();
        match t.learn(NodeRef::new(candidate, 7), figure) {
            Err(_) => prop_assert!(candidate == own && !asked.any()),
            Ok(learned) => {
                prop_assert_eq!(asked.any(), learned.added(), "learned: {:?}", learned);
                prop_assert_eq!(asked.neighborhood, learned.neighborhood);
                prop_assert_eq!(
                    asked.table,
                    matches!(
                        learned.table,
                        pastry_kernel::Placement::Added(..) | pastry_kernel::Placement::Replaced(..)
                    )
                );
            }
        }
    }

    /// The joiner's state from the parts gathered hop by hop equals the state from the route's
    /// snapshots.
    #[test]
    fn join_from_parts_equals_join(
        config in small_config(),
        ids in prop::collection::btree_set(any::<u16>(), 1..120),
        x in any::<u16>(),
        a in any::<usize>(),
    ) {
        prop_assume!(!ids.contains(&x));
        let ring: Vec<Node> = ids.iter().enumerate().map(|(h, &id)| NodeRef::new(id, h)).collect();
        let states: Vec<State> = ring
            .iter()
            .map(|n| NodeState::from_ring(config, *n, &ring, prox(n.handle), 2))
            .collect();
        let a = a % ring.len();
        let mut path = vec![a];
        while let Some(n) = states[*path.last().expect("non-empty")].route(x).next_hop() {
            path.push(n.handle);
            prop_assert!(path.len() < 40, "route loops");
        }
        let me = NodeRef::new(x, ring.len());
        let snaps: Vec<&State> = path.iter().map(|&h| &states[h]).collect();
        let joined = NodeState::join(config, me, &snaps, prox(me.handle)).expect("valid route");

        // Hop by hop, as a join message gathers them: each hop's rows as encoded row pieces.
        let mut bytes = Vec::new();
        let mut gathered = 0;
        let mut pieces = 0;
        for &h in &path {
            let rows = states[h].join_rows(x, gathered);
            for r in rows.clone() {
                let table = states[h].table();
                let row = Row(r as u8);
                if r < table.row_count() {
                    Encoder::new(&mut bytes).row(table, row).expect("encodable");
                    pieces += 1;
                }
            }
            gathered = rows.end;
        }
        let mut d = Decoder::new(&bytes);
        let decoded: Vec<(Row, RoutingTable<usize, u16>)> =
            (0..pieces).map(|_| d.row().expect("a row piece")).collect();
        d.finish().expect("all read");
        let rows: Vec<(Row, &RoutingTable<usize, u16>)> =
            decoded.iter().map(|(r, t)| (*r, t)).collect();
        let route: Vec<Node> = path.iter().map(|&h| ring[h]).collect();
        let z = &states[*path.last().expect("non-empty")];
        let parts = JoinParts {
            route: &route,
            rows: &rows,
            leaf_set: z.leaf_set(),
            neighborhood: states[a].neighborhood(),
        };
        let built = NodeState::join_from_parts(config, me, &parts, prox(me.handle))
            .expect("valid parts");
        prop_assert_eq!(built, joined);
    }
}

#[test]
fn join_from_parts_refuses_bad_parts() {
    let config = Config::PAPER;
    let ring = spaced(20);
    let states: Vec<State> = ring
        .iter()
        .map(|n| NodeState::from_ring(config, *n, &ring, |_| 1, 1))
        .collect();
    let me = NodeRef::new(500, 99);
    let route = [ring[0], ring[1]];
    let rows: Vec<(Row, &RoutingTable<usize, u16>)> = vec![(Row(0), states[1].table())];
    let good = JoinParts {
        route: &route,
        rows: &rows,
        leaf_set: states[1].leaf_set(),
        neighborhood: states[0].neighborhood(),
    };
    assert!(NodeState::join_from_parts(config, me, &good, |_| 1u32).is_ok());
    let not_z = JoinParts {
        leaf_set: states[0].leaf_set(),
        ..good
    };
    assert_eq!(
        NodeState::join_from_parts(config, me, &not_z, |_| 1u32),
        Err(pastry_kernel::StateError::WrongOwner)
    );
    let alien = [(Row(0), states[5].table())];
    let not_on_route = JoinParts {
        rows: &alien,
        ..good
    };
    assert_eq!(
        NodeState::join_from_parts(config, me, &not_on_route, |_| 1u32),
        Err(pastry_kernel::StateError::WrongOwner)
    );
    let other = Config::new(4, 8, 32).expect("valid");
    assert_eq!(
        NodeState::join_from_parts(other, me, &good, |_| 1u32),
        Err(pastry_kernel::StateError::ConfigMismatch)
    );
    assert_eq!(
        NodeState::join_from_parts(config, ring[1], &good, |_| 1u32),
        Err(pastry_kernel::StateError::OwnId)
    );
}

#[test]
fn pieces_round_trip() {
    let ring = spaced(50);
    let s: State = NodeState::from_ring(Config::PAPER, ring[10], &ring, |n| n.handle as u32, 2);
    let mut out = vec![0xee]; // the encoder appends after what is there
    let mut e = Encoder::new(&mut out);
    e.u8(7).expect("fits");
    e.u16(0x1234).expect("fits");
    e.u32(0xdead_beef).expect("fits");
    e.u64(u64::MAX - 1).expect("fits");
    e.word(0xabcdu16).expect("fits");
    e.node(s.own()).expect("encodable");
    e.leaf_set(s.leaf_set()).expect("encodable");
    e.row(s.table(), Row(1)).expect("encodable");
    e.neighborhood(s.neighborhood(), s.id()).expect("encodable");
    let members: BTreeSet<u16> = s.members().map(|n| n.id).collect();
    let mut nodes: Vec<Node> = s.members().copied().collect();
    nodes.sort_by_key(|n| n.id);
    e.nodes(&nodes).expect("sorted");
    let ids: Vec<u16> = members.iter().copied().collect();
    e.ids(&ids).expect("sorted");
    e.bytes(b"tail").expect("fits");
    let written = e.written();
    assert_eq!(written + 1, out.len());

    let mut d = Decoder::new(&out[1..]);
    assert_eq!(d.u8(), Ok(7));
    assert_eq!(d.u16(), Ok(0x1234));
    assert_eq!(d.u32(), Ok(0xdead_beef));
    assert_eq!(d.u64(), Ok(u64::MAX - 1));
    assert_eq!(d.word::<u16>(), Ok(0xabcd));
    assert_eq!(d.node::<usize, u16>().as_ref(), Ok(s.own()));
    assert_eq!(d.leaf_set::<usize, u16>().as_ref(), Ok(s.leaf_set()));
    let (row, table) = d.row::<usize, u16>().expect("row piece");
    assert_eq!(row, Row(1));
    assert!(table.row(Row(1)).eq(s.table().row(Row(1))));
    let (owner, hood) = d.neighborhood::<usize, u16>().expect("neighborhood piece");
    assert_eq!((owner, &hood), (s.id(), s.neighborhood()));
    assert_eq!(d.nodes::<usize, u16>(1000).as_ref(), Ok(&nodes));
    assert_eq!(d.ids::<u16>(1000).as_ref(), Ok(&ids));
    assert_eq!(d.bytes(4), Ok(&b"tail"[..]));
    assert_eq!(d.remaining(), 0);
    d.finish().expect("all read");

    // The same fields into a slice, and counted: the same bytes and length.
    let mut buf = vec![0u8; written];
    let mut e = Encoder::slice(&mut buf);
    e.u8(7).expect("fits");
    e.u16(0x1234).expect("fits");
    e.u32(0xdead_beef).expect("fits");
    e.u64(u64::MAX - 1).expect("fits");
    e.word(0xabcdu16).expect("fits");
    e.node(s.own()).expect("fits");
    e.leaf_set(s.leaf_set()).expect("fits");
    e.row(s.table(), Row(1)).expect("fits");
    e.neighborhood(s.neighborhood(), s.id()).expect("fits");
    e.nodes(&nodes).expect("fits");
    e.ids(&ids).expect("fits");
    e.bytes(b"tail").expect("fits");
    assert_eq!(e.written(), written);
    assert_eq!(&buf[..], &out[1..]);
    let mut small = vec![0u8; 3];
    let mut e = Encoder::slice(&mut small);
    e.u16(1).expect("fits");
    assert!(matches!(e.u16(2), Err(EncodeError::BufferTooSmall { .. })));
    let mut c = Encoder::counter();
    c.leaf_set(s.leaf_set()).expect("counted");
    c.state(&s).expect("counted");
    assert_eq!(
        c.written(),
        s.leaf_set().encoded_len() - 5 + s.encoded_len() - 5
    );

    // A state piece round-trips.
    let mut out = Vec::new();
    Encoder::new(&mut out).state(&s).expect("encodable");
    let mut d = Decoder::new(&out);
    assert_eq!(d.state::<usize, u16>().as_ref(), Ok(&s));
    d.finish().expect("all read");

    // The whole-message `to_vec` forms equal the slice encoders' output.
    let mut buf = vec![0u8; s.encoded_len()];
    let n = s.encode(&mut buf).expect("fits");
    assert_eq!(s.to_vec().expect("encodable"), &buf[..n]);
    let mut buf = vec![0u8; s.leaf_set().encoded_len()];
    let n = s.leaf_set().encode(&mut buf).expect("fits");
    assert_eq!(s.leaf_set().to_vec().expect("encodable"), &buf[..n]);
    let mut buf = vec![0u8; s.table().encoded_row_len(Row(0))];
    let n = s.table().encode_row(Row(0), &mut buf).expect("fits");
    assert_eq!(s.table().row_to_vec(Row(0)).expect("encodable"), &buf[..n]);
    let mut buf = vec![0u8; s.neighborhood().encoded_len(s.id())];
    let n = s.neighborhood().encode(s.id(), &mut buf).expect("fits");
    assert_eq!(
        s.neighborhood().to_vec(s.id()).expect("encodable"),
        &buf[..n]
    );
}

#[test]
fn piece_lists_are_canonical() {
    let a = NodeRef::new(5u16, 1usize);
    let b = NodeRef::new(9u16, 2usize);
    let mut out = Vec::new();
    // Out of order or repeated: refused, and the vector is left as it was.
    out.push(1);
    assert_eq!(
        Encoder::new(&mut out).nodes(&[b, a]),
        Err(EncodeError::Unsorted)
    );
    assert_eq!(
        Encoder::new(&mut out).nodes(&[a, a]),
        Err(EncodeError::Unsorted)
    );
    assert_eq!(
        Encoder::new(&mut out).ids(&[9u16, 5]),
        Err(EncodeError::Unsorted)
    );
    assert_eq!(out, [1]);
    // The decoder refuses the same lists written by hand.
    let mut raw = vec![0, 2];
    raw.extend_from_slice(&9u16.to_be_bytes());
    raw.extend_from_slice(&5u16.to_be_bytes());
    assert_eq!(
        Decoder::new(&raw).ids::<u16>(10),
        Err(DecodeError::Unsorted { offset: 4 })
    );
    // A count over the caller's limit is refused before anything is read.
    assert_eq!(
        Decoder::new(&raw).ids::<u16>(1),
        Err(DecodeError::OverLimit {
            offset: 0,
            found: 2,
            limit: 1
        })
    );
    // A count whose items cannot fit in the rest is truncated before allocating.
    assert_eq!(
        Decoder::new(&[0xff, 0xff, 1]).ids::<u16>(usize::MAX),
        Err(DecodeError::Truncated { offset: 2 })
    );
}

#[test]
fn piece_errors_carry_offsets() {
    let ring = spaced(30);
    let s: State = NodeState::from_ring(Config::PAPER, ring[3], &ring, |_| 1, 1);
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.u32(0).expect("fits");
    e.leaf_set(s.leaf_set()).expect("encodable");
    // Corrupt the first successor's id so the side is out of order: the error's offset is
    // counted from the start of the whole input.
    let first_node = 4 + 1 + 2 + 2; // u32, L, owner id, the two counts
    out[first_node] = 0xff;
    out[first_node + 1] = 0xff;
    let mut d = Decoder::new(&out);
    d.u32().expect("four bytes");
    let err = d.leaf_set::<usize, u16>().expect_err("corrupted");
    assert!(
        matches!(
            err,
            DecodeError::OutOfOrder {
                part: Part::Successors,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        DecodeError::Truncated { offset: 3 }.offset_by(10),
        DecodeError::Truncated { offset: 13 }
    );
}

#[test]
fn hole_flags_round_trip_and_are_checked() {
    let ring = spaced(40);
    let mut s: State = NodeState::from_ring(Config::PAPER, ring[20], &ring, |_| 1, 1);
    s.forget(ring[21].id).expect("other id");
    s.forget(ring[19].id).expect("other id");
    assert!(s.leaf_set().holes().successor && s.leaf_set().holes().predecessor);
    let bytes = s.to_vec().expect("encodable");
    assert_eq!(NodeState::<usize, u16>::decode(&bytes).as_ref(), Ok(&s));
    let leaf = s.leaf_set().to_vec().expect("encodable");
    let back = LeafSet::<usize, u16>::decode(&leaf).expect("valid");
    assert_eq!(back.holes(), s.leaf_set().holes());
    // The successor count byte follows the header (5), L (1) and the owner id (2).
    let at = 5 + 1 + 2;
    assert_eq!(leaf[at], 0x80 | 7);
    // A hole flag on a full side is refused.
    let full: State = NodeState::from_ring(Config::PAPER, ring[20], &ring, |_| 1, 1);
    let mut bad = full.leaf_set().to_vec().expect("encodable");
    bad[at] |= 0x80;
    assert_eq!(
        LeafSet::<usize, u16>::decode(&bad),
        Err(DecodeError::BadHole {
            part: Part::Successors,
            offset: at
        })
    );
    // ... and so is one on a leaf set that knows the whole ring.
    let few = spaced(4);
    let small: State = NodeState::from_ring(Config::PAPER, few[0], &few, |_| 1, 1);
    assert!(small.leaf_set().knows_whole_ring());
    let mut bad = small.leaf_set().to_vec().expect("encodable");
    bad[at + 1] |= 0x80;
    assert_eq!(
        LeafSet::<usize, u16>::decode(&bad),
        Err(DecodeError::BadHole {
            part: Part::Predecessors,
            offset: at + 1
        })
    );
}
