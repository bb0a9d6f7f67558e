//! A peer can send anything: every single-byte corruption, truncation, extension, insertion
//! and deletion of valid encodings gives a typed error or a valid state (one that passes its
//! invariants and re-encodes to the very same bytes), never a panic. And each rule of the byte
//! layout, broken on purpose, gives the error that names it.

use std::fmt::Debug;
use std::net::SocketAddr;

use pastry_kernel::codec::{DecodeError, Kind, Part, WireHandle};
use pastry_kernel::fuzzing::{check_decode, check_decode_as, RoundtripInput, RoundtripStep};
use pastry_kernel::{
    Config, ConfigError, Guid, LeafSet, NeighborhoodSet, NodeRef, NodeState, RingWord,
    RoutingTable, Row,
};
use proptest::prelude::*;

mod common;

/// The encodings of a state and of each of its parts (every row up to one past the last stored
/// one).
fn encodings<H: WireHandle, W: RingWord>(s: &NodeState<H, W>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut push = |len: usize, enc: &dyn Fn(&mut [u8]) -> usize| {
        let mut buf = vec![0u8; len];
        assert_eq!(enc(&mut buf), len);
        out.push(buf);
    };
    push(s.encoded_len(), &|b| s.encode(b).unwrap());
    push(s.leaf_set().encoded_len(), &|b| {
        s.leaf_set().encode(b).unwrap()
    });
    let own = s.id();
    push(s.neighborhood().encoded_len(own), &|b| {
        s.neighborhood().encode(own, b).unwrap()
    });
    let stored = s.table().iter().last().map_or(0, |(r, _, _)| r.index() + 1);
    for r in 0..(stored + 1).min(s.table().row_count()) {
        let row = Row(r as u8);
        push(s.table().encoded_row_len(row), &|b| {
            s.table().encode_row(row, b).unwrap()
        });
    }
    out
}

/// Guid ids, u32 handles; b = 4, L = 2, |M| = 2; nodes in rows 0, 1 and 2.
fn guid_fixture() -> NodeState<u32> {
    let input = RoundtripInput {
        config: Config::new(4, 2, 2).unwrap(),
        own: 0x4000 << 112,
        steps: vec![
            RoundtripStep::Learn {
                id: 0x5000 << 112,
                handle: 1,
                proximity: 9,
            },
            RoundtripStep::Learn {
                id: 0x2000 << 112,
                handle: 2,
                proximity: 3,
            },
            RoundtripStep::LearnNear {
                shared: 4,
                id: 0x0100 << 112,
                handle: 3,
                proximity: 5,
            },
            RoundtripStep::LearnNear {
                shared: 8,
                id: 0x0090 << 112,
                handle: 4,
                proximity: 5,
            },
        ],
    };
    input.state(|h| h)
}

/// 16-bit ids, socket-address handles; b = 2, L = 6, |M| = 4; few nodes, so the leaf set
/// knows the whole ring and shares members between its sides.
fn narrow_fixture() -> NodeState<SocketAddr, u16> {
    let input = RoundtripInput {
        config: Config::new(2, 6, 4).unwrap(),
        own: 0x1234 << 112,
        steps: (0..5u128)
            .map(|i| RoundtripStep::Learn {
                id: (0x1234 + 0x3111 * (i + 1)) << 112,
                handle: 0x0a00_0001 + i as u32,
                proximity: 7 - i as u32,
            })
            .collect(),
    };
    input.state(|h| SocketAddr::from(([10, 0, (h >> 8) as u8, h as u8], 4000)))
}

/// 8-bit ids, no handles; b = 8 (one row of 255 columns), L = 2, |M| = 2.
fn byte_fixture() -> NodeState<(), u8> {
    let input = RoundtripInput {
        config: Config::new(8, 2, 2).unwrap(),
        own: 0x80 << 120,
        steps: [0x10u128, 0x7f, 0x81, 0xf0]
            .iter()
            .enumerate()
            .map(|(i, id)| RoundtripStep::Learn {
                id: id << 120,
                handle: 0,
                proximity: i as u32,
            })
            .collect(),
    };
    input.state(|_| ())
}

/// Every single-byte corruption of `bytes` (all 255 other values at every position), decoded
/// with the fixture's types; returns how many were accepted.
fn corrupt_every_byte<H: WireHandle + Eq + Debug, W: RingWord>(bytes: &[u8]) -> usize {
    let mut accepted = 0;
    let mut c = bytes.to_vec();
    for pos in 0..bytes.len() {
        for v in 0..=255u8 {
            if v == bytes[pos] {
                continue;
            }
            c[pos] = v;
            let result = check_decode_as::<H, W>(&c);
            match pos {
                0 | 1 => assert_eq!(result, Err(DecodeError::BadMagic)),
                2 => assert_eq!(result, Err(DecodeError::UnsupportedVersion(v))),
                4 => {
                    assert!(matches!(result, Err(DecodeError::IdWidth { found, .. }) if found == v))
                }
                _ => {}
            }
            accepted += usize::from(result.is_ok());
        }
        c[pos] = bytes[pos];
    }
    accepted
}

/// Every strict prefix is `Truncated`; every one-byte extension is `TrailingBytes` at the end;
/// every insertion and deletion of one byte is a typed error or a canonical value.
fn cut_and_extend<H: WireHandle + Eq + Debug, W: RingWord>(bytes: &[u8]) {
    for cut in 0..bytes.len() {
        let result = check_decode_as::<H, W>(&bytes[..cut]);
        assert!(
            matches!(result, Err(DecodeError::Truncated { .. })),
            "cut {cut}: {result:?}"
        );
    }
    let mut long = bytes.to_vec();
    for v in 0..=255u8 {
        long.push(v);
        assert_eq!(
            check_decode_as::<H, W>(&long),
            Err(DecodeError::TrailingBytes {
                offset: bytes.len()
            })
        );
        long.pop();
    }
    for pos in 0..=bytes.len() {
        for v in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut c = bytes.to_vec();
            c.insert(pos, v);
            let _ = check_decode_as::<H, W>(&c);
            check_decode(&c);
        }
        if pos < bytes.len() {
            let mut c = bytes.to_vec();
            c.remove(pos);
            let _ = check_decode_as::<H, W>(&c);
            check_decode(&c);
        }
    }
}

/// All 255 other values at every position of each fixture's state encoding (whose bytes hold
/// every kind of field the parts have too).
#[test]
fn every_single_byte_corruption_is_typed_or_valid_guid() {
    corrupt_every_byte::<u32, Guid>(&encodings(&guid_fixture())[0]);
}

#[test]
fn every_single_byte_corruption_is_typed_or_valid_narrow() {
    corrupt_every_byte::<SocketAddr, u16>(&encodings(&narrow_fixture())[0]);
    corrupt_every_byte::<(), u8>(&encodings(&byte_fixture())[0]);
}

/// Every position of every encoding (the state and each part message), with nine values per
/// position, checked against every handle and id type the fuzz target uses.
#[test]
fn every_single_byte_corruption_under_the_fuzz_property() {
    for bytes in encodings(&guid_fixture())
        .into_iter()
        .chain(encodings(&narrow_fixture()))
        .chain(encodings(&byte_fixture()))
    {
        let mut c = bytes.clone();
        for pos in 0..bytes.len() {
            for v in [0u8, 1, 2, 0x10, 0x7f, 0x80, 0xfe, 0xff, bytes[pos] ^ 1] {
                c[pos] = v;
                check_decode(&c);
            }
            c[pos] = bytes[pos];
        }
    }
}

#[test]
fn every_truncation_and_extension_is_typed_or_valid() {
    for bytes in encodings(&guid_fixture()) {
        cut_and_extend::<u32, Guid>(&bytes);
    }
    for bytes in encodings(&narrow_fixture()) {
        cut_and_extend::<SocketAddr, u16>(&bytes);
    }
    for bytes in encodings(&byte_fixture()) {
        cut_and_extend::<(), u8>(&bytes);
    }
}

/// The corruptions of a byte-id state that are accepted are exactly the valid states: each of
/// them re-encodes to the corrupted bytes (checked inside `check_decode_as`), and there are
/// some (changing a node's id to a free one in the same slot), so the check is not vacuous.
#[test]
fn accepted_corruptions_are_canonical_states() {
    let bytes = &encodings(&byte_fixture())[0];
    assert!(corrupt_every_byte::<(), u8>(bytes) > 0);
}

fn small_config_input() -> impl Strategy<Value = RoundtripInput> {
    let config = (0usize..4, 1usize..=4, 0usize..=6)
        .prop_map(|(b, half, m)| Config::new([1, 2, 4, 8][b], 2 * half, m).unwrap());
    let step = prop_oneof![
        (any::<u128>(), any::<u32>(), 0u32..8).prop_map(|(id, handle, proximity)| {
            RoundtripStep::Learn {
                id,
                handle,
                proximity,
            }
        }),
        (any::<u8>(), any::<u128>(), any::<u32>(), 0u32..8).prop_map(
            |(shared, id, handle, proximity)| RoundtripStep::LearnNear {
                shared,
                id,
                handle,
                proximity
            }
        ),
        any::<u16>().prop_map(|pick| RoundtripStep::Forget { pick }),
    ];
    (config, any::<u128>(), prop::collection::vec(step, 0..24))
        .prop_map(|(config, own, steps)| RoundtripInput { config, own, steps })
}

proptest! {
    #![proptest_config(common::seeded(128, "proptest-regressions/codec_corruption.txt"))]

    /// Random states, several random byte edits, a random cut and a random tail: always a
    /// typed error or a canonical valid value.
    #[test]
    fn corrupted_encodings_never_panic(
        input in small_config_input(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..3),
    ) {
        let a = input.state::<u32, Guid>(|h| h);
        let b = input.state::<SocketAddr, u16>(|h| SocketAddr::from((h.to_be_bytes(), h as u16)));
        for bytes in encodings(&a).into_iter().chain(encodings(&b)) {
            let mut c = bytes.clone();
            for (at, v) in &edits {
                c[at.index(bytes.len())] = *v;
            }
            check_decode(&c);
            c.truncate(cut.index(bytes.len() + 1));
            check_decode(&c);
            c.extend_from_slice(&tail);
            check_decode(&c);
        }
    }

    /// Random bodies behind a valid header of each kind and width.
    #[test]
    fn random_bodies_never_panic(
        kind in 1u8..=4,
        width in prop::sample::select(vec![1u8, 2, 16]),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut c = vec![b'P', b'S', 1, kind, width];
        c.extend_from_slice(&body);
        check_decode(&c);
    }
}

// ---------------------------------------------------------------------------------------------
// One test per rule of the layout. Offsets follow the table in the codec's module docs for the
// state below: Guid ids (20-byte nodes with u32 handles, 24-byte entries).
// ---------------------------------------------------------------------------------------------

const OWN: usize = 9; // own id 9..25, own handle 25..29
const LEAF: usize = 29; // s, p; successors from 31, predecessors after them
const SUCC0: usize = 31;
const SUCC1: usize = 51;
const PRED0: usize = 71;
const PRED1: usize = 91;
const ROWS: usize = 111; // R; row 0's count at 112, its entries at 113 and 137
const ROW0_E0: usize = 113;
const ROW0_E1: usize = 137;
const ROW1: usize = 161; // row 1's count; its entry at 162
const ROW1_E0: usize = 162;
const HOOD: usize = 186; // n (2 bytes); entries at 188, 212, 236
const HOOD_E0: usize = 188;
const HOOD_E1: usize = 212;
const END: usize = 260;

/// b = 4, L = 4, |M| = 3, own 0x40…; successors 0x41…, 0x50…; predecessors 0x20…, 0x50…;
/// row 0: 0x20…, 0x50…; row 1: 0x41…; neighborhood 0x20… (3), 0x41… (5), 0x50… (9).
fn rule_state() -> (NodeState<u32>, Vec<u8>) {
    let id = |top: u128| Guid::new(top << 120);
    let mut s = NodeState::new(Config::new(4, 4, 3).unwrap(), NodeRef::new(id(0x40), 7));
    s.learn(NodeRef::new(id(0x50), 1), 9).unwrap();
    s.learn(NodeRef::new(id(0x20), 2), 3).unwrap();
    s.learn(NodeRef::new(id(0x41), 3), 5).unwrap();
    let mut buf = vec![0u8; s.encoded_len()];
    s.encode(&mut buf).unwrap();
    assert_eq!(buf.len(), END);
    (s, buf)
}

fn decode(bytes: &[u8]) -> Result<NodeState<u32>, DecodeError> {
    let r = NodeState::<u32>::decode(bytes);
    // Whatever the answer, the fuzz property agrees with it.
    assert_eq!(
        check_decode_as::<u32, Guid>(bytes).map(|_| ()),
        r.as_ref().map(|_| ()).map_err(|e| *e)
    );
    r
}

fn swap(buf: &mut [u8], a: usize, b: usize, len: usize) {
    for i in 0..len {
        buf.swap(a + i, b + i);
    }
}

#[test]
fn rule_state_decodes() {
    let (s, buf) = rule_state();
    assert_eq!(decode(&buf), Ok(s));
}

#[test]
fn rejects_bad_header() {
    let (_, buf) = rule_state();
    let with = |at: usize, v: &[u8]| {
        let mut c = buf.clone();
        c[at..at + v.len()].copy_from_slice(v);
        decode(&c)
    };
    assert_eq!(with(0, b"QS"), Err(DecodeError::BadMagic));
    assert_eq!(with(2, &[2]), Err(DecodeError::UnsupportedVersion(2)));
    assert_eq!(
        with(3, &[9]),
        Err(DecodeError::WrongKind {
            expected: Some(Kind::State),
            found: 9,
            offset: 3
        })
    );
    assert_eq!(
        LeafSet::<u32>::decode(&buf),
        Err(DecodeError::WrongKind {
            expected: Some(Kind::LeafSet),
            found: 1,
            offset: 3
        })
    );
    assert_eq!(
        with(4, &[8]),
        Err(DecodeError::IdWidth {
            expected: 16,
            found: 8
        })
    );
    assert_eq!(
        with(5, &[3]),
        Err(DecodeError::Config(ConfigError::DigitBits(3)))
    );
    assert_eq!(
        with(6, &[5]),
        Err(DecodeError::Config(ConfigError::LeafSetLen(5)))
    );
    assert_eq!(
        with(6, &[66]),
        Err(DecodeError::Config(ConfigError::LeafSetLen(66)))
    );
    assert_eq!(
        with(7, &[1, 1]),
        Err(DecodeError::Config(ConfigError::NeighborhoodLen(257)))
    );
}

#[test]
fn rejects_leaf_set_rule_breaks() {
    let (_, buf) = rule_state();
    let mut c = buf.clone();
    c[LEAF] = 3;
    assert_eq!(
        decode(&c),
        Err(DecodeError::TooMany {
            part: Part::Successors,
            count: 3,
            limit: 2
        })
    );
    let mut c = buf.clone();
    c[LEAF + 1] = 9;
    assert_eq!(
        decode(&c),
        Err(DecodeError::TooMany {
            part: Part::Predecessors,
            count: 9,
            limit: 2
        })
    );
    let mut c = buf.clone();
    swap(&mut c, SUCC0, SUCC1, 20);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OutOfOrder {
            part: Part::Successors,
            index: 1
        })
    );
    let mut c = buf.clone();
    swap(&mut c, PRED0, PRED1, 20);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OutOfOrder {
            part: Part::Predecessors,
            index: 1
        })
    );
    let mut c = buf.clone();
    c.copy_within(OWN..OWN + 16, SUCC0);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OwnId {
            part: Part::Successors,
            index: 0
        })
    );
    let mut c = buf.clone();
    c.copy_within(OWN..OWN + 16, PRED1);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OwnId {
            part: Part::Predecessors,
            index: 1
        })
    );
    // Predecessor 1 (0x50…) is also successor 1: give it another handle on this side.
    let mut c = buf.clone();
    c[PRED1 + 19] ^= 0x80;
    assert_eq!(decode(&c), Err(DecodeError::HandleMismatch { index: 1 }));
    // The same edit in a leaf-set message.
    let (s, _) = rule_state();
    let mut m = vec![0u8; s.leaf_set().encoded_len()];
    s.leaf_set().encode(&mut m).unwrap();
    let last = m.len() - 1;
    m[last] ^= 0x80;
    assert_eq!(
        LeafSet::<u32>::decode(&m),
        Err(DecodeError::HandleMismatch { index: 1 })
    );
}

#[test]
fn rejects_table_rule_breaks() {
    let (_, buf) = rule_state();
    let mut c = buf.clone();
    c[ROWS] = 33;
    assert_eq!(
        decode(&c),
        Err(DecodeError::TooMany {
            part: Part::Table,
            count: 33,
            limit: 32
        })
    );
    let mut c = buf.clone();
    c[ROWS + 1] = 16;
    assert_eq!(
        decode(&c),
        Err(DecodeError::TooMany {
            part: Part::Row(0),
            count: 16,
            limit: 15
        })
    );
    let mut c = buf.clone();
    swap(&mut c, ROW0_E0, ROW0_E1, 24);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OutOfOrder {
            part: Part::Row(0),
            index: 1
        })
    );
    let mut c = buf.clone();
    c.copy_within(OWN..OWN + 16, ROW0_E0);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OwnId {
            part: Part::Row(0),
            index: 0
        })
    );
    // Row 1's entry 0x41… becomes 0x51…, which shares no digit with 0x40….
    let mut c = buf.clone();
    c[ROW1_E0] = 0x51;
    assert_eq!(decode(&c), Err(DecodeError::WrongRow { row: 1, index: 0 }));
    // Row 1 emptied (count 0, its entry cut out): a trailing empty row is not canonical.
    let mut c = buf.clone();
    c[ROW1] = 0;
    c.drain(ROW1_E0..ROW1_E0 + 24);
    assert_eq!(decode(&c), Err(DecodeError::EmptyLastRow { row: 1 }));
    // A row message for a row past the last digit.
    let (s, _) = rule_state();
    let mut m = vec![0u8; s.table().encoded_row_len(Row(1))];
    s.table().encode_row(Row(1), &mut m).unwrap();
    m[22] = 32;
    assert_eq!(
        RoutingTable::<u32>::decode_row(&m),
        Err(DecodeError::RowOutOfRange { row: 32, rows: 32 })
    );
    // The row number says 2 but the entry shares only one digit.
    m[22] = 2;
    assert_eq!(
        RoutingTable::<u32>::decode_row(&m),
        Err(DecodeError::WrongRow { row: 2, index: 0 })
    );
}

#[test]
fn rejects_neighborhood_rule_breaks() {
    let (_, buf) = rule_state();
    let mut c = buf.clone();
    c[HOOD + 1] = 4;
    assert_eq!(
        decode(&c),
        Err(DecodeError::TooMany {
            part: Part::Neighborhood,
            count: 4,
            limit: 3
        })
    );
    let mut c = buf.clone();
    swap(&mut c, HOOD_E0, HOOD_E1, 24);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OutOfOrder {
            part: Part::Neighborhood,
            index: 1
        })
    );
    let mut c = buf.clone();
    c.copy_within(HOOD_E0..HOOD_E0 + 20, HOOD_E1);
    c[HOOD_E1 + 23] = 3; // same proximity as entry 0, so only the repeat is wrong
    assert_eq!(
        decode(&c),
        Err(DecodeError::Duplicate {
            part: Part::Neighborhood,
            index: 1
        })
    );
    let mut c = buf.clone();
    c.copy_within(OWN..OWN + 16, HOOD_E1);
    assert_eq!(
        decode(&c),
        Err(DecodeError::OwnId {
            part: Part::Neighborhood,
            index: 1
        })
    );
    // The same limit in a neighborhood message: |M| = 1 but two entries follow.
    let (s, _) = rule_state();
    let mut m = vec![0u8; s.neighborhood().encoded_len(s.id())];
    s.neighborhood().encode(s.id(), &mut m).unwrap();
    m[5..7].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(
        NeighborhoodSet::<u32>::decode(&m),
        Err(DecodeError::TooMany {
            part: Part::Neighborhood,
            count: 3,
            limit: 1
        })
    );
}

#[test]
fn rejects_truncated_and_trailing_input() {
    let (_, buf) = rule_state();
    // The leaf set announces four 20-byte nodes from byte 31; 100 bytes cannot hold them, and
    // that is found before anything is read or reserved for them.
    assert_eq!(
        decode(&buf[..100]),
        Err(DecodeError::Truncated { offset: SUCC0 })
    );
    assert_eq!(
        decode(&buf[..OWN + 3]),
        Err(DecodeError::Truncated { offset: OWN })
    );
    assert_eq!(decode(&buf[..1]), Err(DecodeError::Truncated { offset: 0 }));
    let mut c = buf.clone();
    c.push(0);
    assert_eq!(decode(&c), Err(DecodeError::TrailingBytes { offset: END }));
}

#[test]
fn rejects_bad_handles() {
    let s = narrow_fixture();
    let mut buf = vec![0u8; s.encoded_len()];
    s.encode(&mut buf).unwrap();
    // Own handle at 9 + 2 (16-bit id): its tag byte must be 4 or 6.
    assert_eq!(buf[11], 4);
    buf[11] = 5;
    assert_eq!(
        NodeState::<SocketAddr, u16>::decode(&buf),
        Err(DecodeError::BadHandle { offset: 11 })
    );
}
