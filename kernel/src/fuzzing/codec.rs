//! The codec's properties as plain functions, shared by the fuzz targets, the tests and any
//! other harness (one property, many callers).
//!
//! Each function **panics** (through `assert!`) when a law of the codec is broken, and returns
//! normally otherwise; that is what a fuzzer looks for. They never panic on a typed decode
//! error: rejecting bad input is the codec's job.
//!
//! The fuzz targets are one-line shims (`fuzz/fuzz_targets/`):
//!
//! ```ignore
//! // codec_decode.rs
//! #![no_main]
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| pastry_kernel::fuzzing::check_decode(data));
//!
//! // codec_roundtrip.rs (needs the `arbitrary` feature, which `fuzzing` enables)
//! #![no_main]
//! use pastry_kernel::fuzzing::{check_roundtrip, RoundtripInput};
//! libfuzzer_sys::fuzz_target!(|input: RoundtripInput| check_roundtrip(&input));
//! ```
//!
//! * [`check_decode`]: any bytes, decoded as each kind with several handle and id types, give
//!   either a typed error or a value that passes its `invariants()` and re-encodes to exactly
//!   the input (canonical decoding).
//! * [`check_roundtrip`]: a state built from arbitrary learn / forget steps satisfies
//!   [`check_state_roundtrip`].
//! * [`check_state_roundtrip`]: for a state and each of its parts, `decode(encode(x)) == x`,
//!   `encode` writes exactly `encoded_len` bytes, and a buffer one byte short gives
//!   [`EncodeError::BufferTooSmall`] and is left unchanged.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::arith::Row;
use crate::codec::{DecodeError, EncodeError, Kind, WireHandle};
use crate::config::Config;
use crate::guid::Guid;
use crate::leafset::LeafSet;
use crate::neighborhood::NeighborhoodSet;
use crate::node::NodeRef;
use crate::state::NodeState;
use crate::table::{Placement, RoutingTable};
use crate::word::RingWord;

/// Decodes `bytes` as every kind of message, with `u32` and `SocketAddr` handles on
/// [`Guid`] ids and `u16` / `()` handles on 16- and 8-bit ids, and checks every value that
/// decodes with [`check_decode_as`].
///
/// # Panics
/// When a decoded value breaks its invariants or does not re-encode to `bytes`.
pub fn check_decode(bytes: &[u8]) {
    let _ = check_decode_as::<u32, Guid>(bytes);
    let _ = check_decode_as::<SocketAddr, Guid>(bytes);
    let _ = check_decode_as::<u16, u16>(bytes);
    let _ = check_decode_as::<(), u8>(bytes);
}

/// Decodes `bytes` as each of the four kinds with handles `H` and ids `W`. For the kind that
/// decodes (at most one: the kind byte decides), checks that the value passes its
/// `invariants()`, that `encoded_len` is `bytes.len()` and that encoding it gives `bytes`
/// back. Returns that kind, or the error of the decoder of the kind named in the header (of the
/// state decoder if the header names none).
///
/// # Panics
/// When a law above is broken.
pub fn check_decode_as<H: WireHandle + Eq + Debug, W: RingWord>(
    bytes: &[u8],
) -> Result<Kind, DecodeError> {
    let state = NodeState::<H, W>::decode(bytes).map(|s| {
        s.invariants();
        assert_reencodes(bytes, s.encoded_len(), |buf| s.encode(buf));
        Kind::State
    });
    let leaf = LeafSet::<H, W>::decode(bytes).map(|l| {
        l.invariants();
        assert_reencodes(bytes, l.encoded_len(), |buf| l.encode(buf));
        Kind::LeafSet
    });
    let row = RoutingTable::<H, W>::decode_row(bytes).map(|(r, t)| {
        t.invariants();
        assert!(
            t.iter().all(|(er, _, _)| er == r),
            "decoded row holds other rows"
        );
        assert_reencodes(bytes, t.encoded_row_len(r), |buf| t.encode_row(r, buf));
        Kind::TableRow
    });
    let hood = NeighborhoodSet::<H, W>::decode(bytes).map(|(own, m)| {
        m.invariants();
        assert_reencodes(bytes, m.encoded_len(own), |buf| m.encode(own, buf));
        Kind::Neighborhood
    });
    let all = [state, leaf, row, hood];
    assert!(
        all.iter().filter(|r| r.is_ok()).count() <= 1,
        "bytes decode as two kinds"
    );
    let named = bytes.get(3).and_then(|k| Kind::from_byte(*k));
    let pick = match named {
        Some(Kind::LeafSet) => 1,
        Some(Kind::TableRow) => 2,
        Some(Kind::Neighborhood) => 3,
        _ => 0,
    };
    if let Some(ok) = all.iter().find(|r| r.is_ok()) {
        return *ok;
    }
    all.get(pick).copied().unwrap_or(Err(DecodeError::BadMagic))
}

/// Asserts that a value decoded from `bytes` re-encodes to exactly `bytes`.
fn assert_reencodes(
    bytes: &[u8],
    len: usize,
    encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
) {
    assert_eq!(len, bytes.len(), "encoded_len of a decoded value");
    let mut buf = vec![0u8; len];
    assert_eq!(encode(&mut buf), Ok(len), "re-encoding a decoded value");
    assert_eq!(buf, bytes, "decoding is not canonical");
}

/// Checks the round trip of one value: `encode` writes `len` bytes and `decode` of them gives
/// `expected`; one byte less is [`EncodeError::BufferTooSmall`] and leaves the buffer as it was.
fn assert_roundtrip<T: PartialEq + Debug>(
    expected: &T,
    len: usize,
    encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    assert_eq!(encode(&mut buf), Ok(len), "encode writes encoded_len bytes");
    assert_eq!(
        decode(&buf).as_ref(),
        Ok(expected),
        "decode(encode(x)) == x"
    );
    if let Some(short) = len.checked_sub(1) {
        let mut small = vec![0xa5u8; short];
        assert_eq!(
            encode(&mut small),
            Err(EncodeError::BufferTooSmall {
                needed: len,
                available: short
            }),
            "a short buffer is refused"
        );
        assert!(
            small.iter().all(|b| *b == 0xa5),
            "a refused encode wrote to the buffer"
        );
    }
    buf
}

/// Checks the round-trip laws for `state` and each part join and repair messages carry: the
/// leaf set, every routing-table row (including empty ones) and the neighborhood set.
///
/// # Panics
/// When a law is broken.
pub fn check_state_roundtrip<H: WireHandle + Eq + Debug, W: RingWord>(state: &NodeState<H, W>) {
    let bytes = assert_roundtrip(
        state,
        state.encoded_len(),
        |b| state.encode(b),
        NodeState::decode,
    );
    assert_eq!(
        check_decode_as::<H, W>(&bytes),
        Ok(Kind::State),
        "state bytes"
    );

    let leaf = state.leaf_set();
    let bytes = assert_roundtrip(
        leaf,
        leaf.encoded_len(),
        |b| leaf.encode(b),
        LeafSet::decode,
    );
    assert_eq!(check_decode_as::<H, W>(&bytes), Ok(Kind::LeafSet));

    let own = state.id();
    let hood = state.neighborhood();
    let bytes = assert_roundtrip(
        &(own, hood.clone()),
        hood.encoded_len(own),
        |b| hood.encode(own, b),
        NeighborhoodSet::decode,
    );
    assert_eq!(check_decode_as::<H, W>(&bytes), Ok(Kind::Neighborhood));

    let table = state.table();
    for r in 0..table.row_count() {
        #[allow(clippy::cast_possible_truncation)] // at most 128 rows
        let row = Row(r as u8);
        let mut only = RoutingTable::new(own, table.digit_width());
        for (_, e) in table.row(row) {
            let placed = only.insert(e.node, e.proximity);
            assert!(matches!(placed, Ok(Placement::Added(..))), "row copy");
        }
        let bytes = assert_roundtrip(
            &(row, only),
            table.encoded_row_len(row),
            |b| table.encode_row(row, b),
            RoutingTable::decode_row,
        );
        assert_eq!(check_decode_as::<H, W>(&bytes), Ok(Kind::TableRow));
    }
}

/// An arbitrary state, as a fuzzer generates it: a configuration, the local id and a list of
/// steps that build the state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RoundtripInput {
    /// The configuration.
    pub config: Config,
    /// The local node's id (its top bits for narrow ids).
    pub own: u128,
    /// The steps that build the state.
    pub steps: Vec<RoundtripStep>,
}

/// One step of [`RoundtripInput`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum RoundtripStep {
    /// Learn the node `id` (top bits for narrow ids).
    Learn {
        /// The id.
        id: u128,
        /// The handle (the `u32` itself, or an IPv4 address).
        handle: u32,
        /// The proximity figure.
        proximity: u32,
    },
    /// Learn a node sharing its first `shared % 128` bits with the local node (and the rest
    /// from `id`): it lands in a deep routing-table row.
    LearnNear {
        /// The number of leading bits shared with the local node.
        shared: u8,
        /// The remaining bits.
        id: u128,
        /// The handle.
        handle: u32,
        /// The proximity figure.
        proximity: u32,
    },
    /// Forget the `pick % n`-th of the `n` nodes learned so far.
    Forget {
        /// Which node.
        pick: u16,
    },
}

/// The ids the steps name, shared bits applied.
fn step_id(own: u128, step: &RoundtripStep) -> Option<(u128, u32, u32)> {
    match *step {
        RoundtripStep::Learn {
            id,
            handle,
            proximity,
        } => Some((id, handle, proximity)),
        RoundtripStep::LearnNear {
            shared,
            id,
            handle,
            proximity,
        } => {
            let shared = u32::from(shared % 128);
            let mask = u128::MAX.checked_shl(128 - shared).unwrap_or(0);
            Some(((own & mask) | (id & !mask), handle, proximity))
        }
        RoundtripStep::Forget { .. } => None,
    }
}

impl RoundtripInput {
    /// The state this input describes, with handles `handle(h)` and ids of `W` taken from the top
    /// bits.
    #[must_use]
    pub fn state<H: Copy, W: RingWord>(&self, handle: impl Fn(u32) -> H) -> NodeState<H, W> {
        let input = self;
        let top = |v: u128| W::from_u128(v.checked_shr(128 - W::BITS).unwrap_or(0));
        let own = NodeRef::new(top(input.own), handle(0));
        let mut state = NodeState::new(input.config, own);
        let mut learned: Vec<W> = Vec::new();
        for step in &input.steps {
            if let Some((id, h, proximity)) = step_id(input.own, step) {
                let id = top(id);
                if state.learn(NodeRef::new(id, handle(h)), proximity).is_ok() {
                    learned.push(id);
                }
            } else if let RoundtripStep::Forget { pick } = step {
                if !learned.is_empty() {
                    let id = learned.swap_remove(usize::from(*pick) % learned.len());
                    let _ = state.forget(id);
                }
            }
        }
        state
    }
}

/// Builds the state of `input` with `u32` handles on [`Guid`] ids, and with IPv4 socket
/// addresses on 16-bit ids, and checks [`check_state_roundtrip`] on both.
///
/// # Panics
/// When a law is broken.
pub fn check_roundtrip(input: &RoundtripInput) {
    check_state_roundtrip(&input.state::<u32, Guid>(|h| h));
    let addr = |h: u32| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(h), (h >> 16) as u16));
    check_state_roundtrip(&input.state::<SocketAddr, u16>(addr));
}
