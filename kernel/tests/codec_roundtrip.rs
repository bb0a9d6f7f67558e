//! Round-trip and canonical-encoding laws of the state codec, the handle encodings, and the
//! documented byte layout.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use pastry_kernel::codec::{
    peek_header, DecodeError, EncodeError, HandleError, Kind, WireHandle, MAGIC, VERSION,
};
use pastry_kernel::fuzzing::{
    check_decode_as, check_roundtrip, check_state_roundtrip, RoundtripInput, RoundtripStep,
};
use pastry_kernel::{strategies, Config, Guid, NodeRef, NodeState, RingWord, RoutingTable, Row};
use proptest::prelude::*;

mod common;

/// Small local generator: a configuration (small leaf sets and neighborhoods most of the time,
/// so that sides fill and evict), an id, and learn / learn-near / forget steps.
fn input() -> impl Strategy<Value = RoundtripInput> {
    let config = prop_oneof![
        3 => (0usize..4, 1usize..=4, 0usize..=8),
        1 => (0usize..4, 1usize..=32, 0usize..=256),
    ]
    .prop_map(|(b, half, m)| Config::new([1, 2, 4, 8][b], 2 * half, m).unwrap_or(Config::PAPER));
    let step = prop_oneof![
        3 => (any::<u128>(), any::<u32>(), 0u32..16)
            .prop_map(|(id, handle, proximity)| RoundtripStep::Learn { id, handle, proximity }),
        3 => (any::<u8>(), any::<u128>(), any::<u32>(), 0u32..16).prop_map(
            |(shared, id, handle, proximity)| RoundtripStep::LearnNear { shared, id, handle, proximity }
        ),
        1 => any::<u16>().prop_map(|pick| RoundtripStep::Forget { pick }),
    ];
    (config, any::<u128>(), prop::collection::vec(step, 0..60))
        .prop_map(|(config, own, steps)| RoundtripInput { config, own, steps })
}

proptest! {
    #![proptest_config(common::seeded(96, "proptest-regressions/codec_roundtrip.txt"))]

    /// decode(encode(s)) == s for the state and each part, with u32 handles on Guid ids and
    /// socket addresses on 16-bit ids; re-encoding gives the same bytes; a short buffer is
    /// refused and left unchanged.
    #[test]
    fn decode_inverts_encode(input in input()) {
        check_roundtrip(&input);
    }

    /// The same law on states from the shared strategies (clustered ids), Guid and u16 rings.
    #[test]
    fn decode_inverts_encode_on_clustered_states(
        g in strategies::node_state::<Guid>(strategies::config(), 0..60),
        n in strategies::node_state::<u16>(strategies::config(), 0..60),
    ) {
        check_state_roundtrip(&g);
        check_state_roundtrip(&n);
    }

    /// Other id widths and handle types: u8 ids with no handle, u32 ids with byte-array
    /// handles, u64 ids with usize handles, Guid ids with IPv6 socket addresses.
    #[test]
    fn decode_inverts_encode_for_every_width_and_handle(input in input()) {
        check_state_roundtrip(&input.state::<(), u8>(|_| ()));
        check_state_roundtrip(&input.state::<[u8; 6], u32>(|h| {
            let [a, b, c, d] = h.to_be_bytes();
            [a, b, c, d, a ^ 0x5a, d]
        }));
        check_state_roundtrip(&input.state::<usize, u64>(|h| h as usize));
        check_state_roundtrip(&input.state::<SocketAddr, Guid>(|h| {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(u128::from(h) << 64), h as u16, h, !h))
        }));
    }

    /// Every handle encoding round-trips and takes `encoded_len` bytes within its bounds.
    #[test]
    fn handle_encodings_roundtrip(v in any::<u128>(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        handle_roundtrip(v as u8, &tail);
        handle_roundtrip(v as u16, &tail);
        handle_roundtrip(v as u32, &tail);
        handle_roundtrip(v as u64, &tail);
        handle_roundtrip(v, &tail);
        handle_roundtrip(v as usize, &tail);
        handle_roundtrip((), &tail);
        handle_roundtrip((v as u64).to_be_bytes(), &tail);
        let v4 = SocketAddrV4::new(Ipv4Addr::from(v as u32), (v >> 32) as u16);
        let v6 = SocketAddrV6::new(Ipv6Addr::from(v), (v >> 7) as u16, (v >> 40) as u32, (v >> 90) as u32);
        handle_roundtrip(v4, &tail);
        handle_roundtrip(v6, &tail);
        handle_roundtrip(SocketAddr::V4(v4), &tail);
        handle_roundtrip(SocketAddr::V6(v6), &tail);
    }
}

/// Encodes `h`, appends `tail`, and checks that decoding reads `h` back using exactly the
/// encoded length; every strict prefix is `Truncated`.
fn handle_roundtrip<H: WireHandle + PartialEq + std::fmt::Debug>(h: H, tail: &[u8]) {
    let len = h.encoded_len();
    assert!((H::MIN_LEN..=H::MAX_LEN).contains(&len));
    let mut buf = vec![0u8; len];
    h.encode(&mut buf);
    let mut long = buf.clone();
    long.extend_from_slice(tail);
    assert_eq!(H::decode(&long), Ok((h, len)));
    for cut in 0..len {
        assert_eq!(H::decode(&buf[..cut]), Err(HandleError::Truncated));
    }
}

/// The fixture used by the layout tests: Guid ids (top byte shown), u32 handles, b = 4, L = 4,
/// |M| = 3.
fn small_state() -> NodeState<u32> {
    let id = |top: u128| Guid::new(top << 120);
    let mut s = NodeState::new(Config::new(4, 4, 3).unwrap(), NodeRef::new(id(0x40), 7));
    s.learn(NodeRef::new(id(0x50), 1), 9).unwrap();
    s.learn(NodeRef::new(id(0x20), 2), 3).unwrap();
    s.learn(NodeRef::new(Guid::new(0x41 << 120), 3), 5).unwrap();
    s
}

fn guid_bytes(top: u8) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = top;
    b
}

/// The bytes of `small_state()`, assembled field by field from the table in the codec's module
/// documentation.
#[test]
fn layout_matches_the_documented_table() {
    let s = small_state();
    let mut want = Vec::new();
    // Header: magic, version, kind 1, id width 16.
    want.extend_from_slice(b"PS");
    want.extend_from_slice(&[1, 1, 16]);
    // b = 4, L = 4, |M| = 3.
    want.extend_from_slice(&[4, 4, 0, 3]);
    // Own node: id 0x40…, handle 7.
    want.extend_from_slice(&guid_bytes(0x40));
    want.extend_from_slice(&7u32.to_be_bytes());
    // Leaf set: 2 successors (0x41, 0x50), 2 predecessors (0x20, 0x50).
    want.extend_from_slice(&[2, 2]);
    for (top, h) in [(0x41u8, 3u32), (0x50, 1), (0x20, 2), (0x50, 1)] {
        want.extend_from_slice(&guid_bytes(top));
        want.extend_from_slice(&h.to_be_bytes());
    }
    // Table: 2 rows. Row 0 holds 0x20 (column 2) and 0x50 (column 5); row 1 holds 0x41.
    want.push(2);
    want.push(2);
    for (top, h, p) in [(0x20u8, 2u32, 3u32), (0x50, 1, 9)] {
        want.extend_from_slice(&guid_bytes(top));
        want.extend_from_slice(&h.to_be_bytes());
        want.extend_from_slice(&p.to_be_bytes());
    }
    want.push(1);
    want.extend_from_slice(&guid_bytes(0x41));
    want.extend_from_slice(&3u32.to_be_bytes());
    want.extend_from_slice(&5u32.to_be_bytes());
    // Neighborhood: 3 entries, nearest first.
    want.extend_from_slice(&3u16.to_be_bytes());
    for (top, h, p) in [(0x20u8, 2u32, 3u32), (0x41, 3, 5), (0x50, 1, 9)] {
        want.extend_from_slice(&guid_bytes(top));
        want.extend_from_slice(&h.to_be_bytes());
        want.extend_from_slice(&p.to_be_bytes());
    }
    let mut buf = vec![0u8; s.encoded_len()];
    assert_eq!(s.encode(&mut buf), Ok(want.len()));
    assert_eq!(buf, want);
    assert_eq!(&buf[..2], &MAGIC);
    assert_eq!(buf[2], VERSION);
    assert_eq!(peek_header(&buf), Ok((Kind::State, 16)));
}

/// The part messages follow their rows of the table: leaf set (kind 2), row (kind 3),
/// neighborhood (kind 4).
#[test]
fn part_layouts_match_the_documented_table() {
    let s = small_state();
    let mut buf = [0u8; 512];

    let n = s.leaf_set().encode(&mut buf).unwrap();
    assert_eq!(&buf[..6], &[b'P', b'S', 1, 2, 16, 4]);
    assert_eq!(&buf[6..22], &guid_bytes(0x40));
    assert_eq!(&buf[22..24], &[2, 2]);
    assert_eq!(n, 24 + 4 * 20);

    let n = s.table().encode_row(Row(1), &mut buf).unwrap();
    assert_eq!(&buf[..6], &[b'P', b'S', 1, 3, 16, 4]);
    assert_eq!(&buf[6..22], &guid_bytes(0x40));
    assert_eq!(&buf[22..24], &[1, 1]);
    assert_eq!(n, 24 + 24);

    let n = s.neighborhood().encode(s.id(), &mut buf).unwrap();
    assert_eq!(&buf[..7], &[b'P', b'S', 1, 4, 16, 0, 3]);
    assert_eq!(&buf[7..23], &guid_bytes(0x40));
    assert_eq!(&buf[23..25], &[0, 3]);
    assert_eq!(n, 25 + 3 * 24);
}

/// An empty row of a table encodes as a count of zero and decodes to an empty table; a row
/// past the last digit has no encoding.
#[test]
fn empty_and_out_of_range_rows() {
    let s = small_state();
    let mut buf = [0u8; 64];
    let n = s.table().encode_row(Row(31), &mut buf).unwrap();
    let (row, t) = RoutingTable::<u32>::decode_row(&buf[..n]).unwrap();
    assert_eq!(row, Row(31));
    assert!(t.is_empty());
    assert_eq!(
        s.table().encode_row(Row(32), &mut buf),
        Err(EncodeError::RowOutOfRange { row: 32, rows: 32 })
    );
    assert_eq!(s.table().encoded_row_len(Row(32)), 0);
}

/// A buffer of every length short of the encoding is refused with the exact figures and left
/// untouched; the exact length succeeds.
#[test]
fn short_buffer_is_refused_and_untouched() {
    let s = small_state();
    let len = s.encoded_len();
    for short in 0..len {
        let mut buf = vec![0x5cu8; short];
        assert_eq!(
            s.encode(&mut buf),
            Err(EncodeError::BufferTooSmall {
                needed: len,
                available: short
            })
        );
        assert!(buf.iter().all(|b| *b == 0x5c));
    }
    let mut buf = vec![0u8; len + 10];
    assert_eq!(s.encode(&mut buf), Ok(len));
    assert!(buf[len..].iter().all(|b| *b == 0));
}

/// Decoding with an id type of another width is refused by the header.
#[test]
fn id_width_must_match_the_type() {
    let s = small_state();
    let mut buf = vec![0u8; s.encoded_len()];
    s.encode(&mut buf).unwrap();
    assert_eq!(
        NodeState::<u32, u64>::decode(&buf),
        Err(DecodeError::IdWidth {
            expected: 8,
            found: 16
        })
    );
    // u128 and Guid are both 16 bytes wide and decode the same state.
    let as_u128 = NodeState::<u32, u128>::decode(&buf).unwrap();
    assert_eq!(as_u128.id().to_u128(), s.id().get());
}

/// A host handle type that accepts two spellings of one value: any non-zero byte means `true`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flag(bool);

impl WireHandle for Flag {
    const MIN_LEN: usize = 1;
    const MAX_LEN: usize = 1;
    fn encoded_len(&self) -> usize {
        1
    }
    fn encode(&self, out: &mut [u8]) {
        out[0] = u8::from(self.0);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        input
            .first()
            .map(|b| (Flag(*b != 0), 1))
            .ok_or(HandleError::Truncated)
    }
}

/// A host handle whose `encoded_len` breaks its own bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Liar;

impl WireHandle for Liar {
    const MIN_LEN: usize = 2;
    const MAX_LEN: usize = 2;
    fn encoded_len(&self) -> usize {
        3
    }
    fn encode(&self, out: &mut [u8]) {
        out.fill(9);
    }
    fn decode(_: &[u8]) -> Result<(Self, usize), HandleError> {
        Err(HandleError::Invalid)
    }
}

/// The codec re-encodes every handle it reads: a second spelling of a handle is rejected even
/// when the host's decoder accepts it, so decoding stays canonical.
#[test]
fn non_canonical_handle_is_rejected() {
    let mut s = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(1), Flag(true)));
    s.learn(NodeRef::new(Guid::new(2), Flag(false)), 1).unwrap();
    let mut buf = vec![0u8; s.encoded_len()];
    s.encode(&mut buf).unwrap();
    assert_eq!(NodeState::<Flag>::decode(&buf), Ok(s.clone()));
    let own_handle = 9 + 16;
    assert_eq!(buf[own_handle], 1);
    buf[own_handle] = 2;
    assert_eq!(
        NodeState::<Flag>::decode(&buf),
        Err(DecodeError::NonCanonicalHandle { offset: own_handle })
    );
    assert!(check_decode_as::<Flag, Guid>(&buf).is_err());
}

/// A handle that reports a length outside its bounds is refused before anything is written.
#[test]
fn handle_with_bad_length_is_refused_by_the_encoder() {
    let s = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(1), Liar));
    let mut buf = vec![0x11u8; 100];
    assert_eq!(
        s.encode(&mut buf),
        Err(EncodeError::HandleLength { len: 3 })
    );
    assert!(buf.iter().all(|b| *b == 0x11));
}

/// An unknown socket-address tag and a usize out of range are invalid handles.
#[test]
fn invalid_handle_bytes_are_typed() {
    assert_eq!(SocketAddr::decode(&[5; 30]), Err(HandleError::Invalid));
    assert_eq!(SocketAddr::decode(&[]), Err(HandleError::Truncated));
    assert_eq!(SocketAddr::decode(&[6, 0, 0]), Err(HandleError::Truncated));
    if usize::BITS < 64 {
        assert_eq!(
            usize::decode(&[1, 0, 0, 0, 0, 0, 0, 0]),
            Err(HandleError::Invalid)
        );
    }
}

/// The errors print what was wrong.
#[test]
fn errors_display_what_was_wrong() {
    let e = DecodeError::OutOfOrder {
        part: pastry_kernel::codec::Part::Row(3),
        index: 2,
    };
    assert_eq!(e.to_string(), "routing-table row 3: node 2 is out of order");
    let e = EncodeError::BufferTooSmall {
        needed: 10,
        available: 4,
    };
    assert_eq!(
        e.to_string(),
        "the encoding needs 10 bytes but the buffer holds 4"
    );
    let _: &dyn std::error::Error = &e;
    let _: &dyn std::error::Error = &DecodeError::BadMagic;
}
