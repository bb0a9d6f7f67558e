//! A strict, versioned binary codec for [`NodeState`] snapshots and the parts that join and
//! repair messages carry: a [`LeafSet`], one routing-table row and a [`NeighborhoodSet`].
//!
//! * **No allocation when encoding.** `encode` writes into the caller's `&mut [u8]` and returns
//!   the number of bytes written, or [`EncodeError::BufferTooSmall`] without touching the buffer;
//!   `encoded_len` sizes the buffer beforehand.
//! * **Strict decoding.** Every invariant of the decoded type is checked on the bytes, and the
//!   first one broken is reported as a [`DecodeError`] that says what and where. A decoded value
//!   passes its `invariants()`.
//! * **Canonical.** Every value has exactly one encoding: `decode(encode(x)) == x`, and any input
//!   that decodes re-encodes to the very same bytes. Inputs that another encoder could have
//!   produced for the same value (entries out of order, a handle spelled two ways, trailing
//!   bytes) are rejected.
//! * **Host handles** travel through the [`WireHandle`] trait, implemented here for `()`, the
//!   unsigned integers, `usize`, `[u8; N]` (N ≤ [`MAX_HANDLE_LEN`]) and the `core::net` socket
//!   addresses. **Ids** are any [`RingWord`]: [`Guid`](crate::Guid) (16 bytes big-endian) and the
//!   narrow words, whose width is in the header.
//!
//! ```
//! use pastry_kernel::codec::DecodeError;
//! use pastry_kernel::{Config, Guid, NodeRef, NodeState};
//!
//! let mut state = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(7 << 120), 0u32));
//! state.learn(NodeRef::new(Guid::new(9 << 120), 1), 10)?;
//! let mut buf = [0u8; 512];
//! let n = state.encode(&mut buf)?;
//! assert_eq!(n, state.encoded_len());
//! let back = NodeState::<u32>::decode(&buf[..n])?;
//! assert_eq!(back, state);
//! // One byte more is not a state.
//! assert_eq!(
//!     NodeState::<u32>::decode(&buf[..n + 1]),
//!     Err(DecodeError::TrailingBytes { offset: n })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Byte layout (format version 1)
//!
//! All integers are big-endian. `w` is the id width in bytes (`W::BITS / 8`: 16 for
//! [`Guid`](crate::Guid), 1, 2, 4 or 8 for the narrow words); an id is its value in `w` bytes.
//! A handle is its [`WireHandle`] encoding, between `H::MIN_LEN` and `H::MAX_LEN` bytes.
//!
//! Every message starts with the same 5-byte header:
//!
//! | offset | size | field | rule |
//! |-------:|-----:|-------|------|
//! | 0 | 2 | magic `50 53` (`"PS"`) | [`MAGIC`], else [`DecodeError::BadMagic`] |
//! | 2 | 1 | format version | [`VERSION`] = 1, else [`DecodeError::UnsupportedVersion`] |
//! | 3 | 1 | kind: 1 state, 2 leaf set, 3 table row, 4 neighborhood set | [`Kind`]; the one asked for, else [`DecodeError::WrongKind`] |
//! | 4 | 1 | `w`, id width in bytes | `W::BITS / 8`, else [`DecodeError::IdWidth`] |
//!
//! The rest depends on the kind:
//!
//! | kind | offset | size | field | rule |
//! |------|-------:|-----:|-------|------|
//! | 1 state | 5 | 1 | b, bits per digit | 1, 2, 4 or 8 ([`DecodeError::Config`]) |
//! | | 6 | 1 | L, leaf-set size | even, 2..=64 ([`DecodeError::Config`]) |
//! | | 7 | 2 | \|M\|, neighborhood size | ≤ 256 ([`DecodeError::Config`]) |
//! | | 9 | w | own id | |
//! | | 9 + w | h | own handle | |
//! | | … | | leaf-set body, then table body, then neighborhood body | see below |
//! | 2 leaf set | 5 | 1 | L | even, 2..=64 |
//! | | 6 | w | owner id | |
//! | | 6 + w | | leaf-set body | |
//! | 3 table row | 5 | 1 | b | 1, 2, 4 or 8 |
//! | | 6 | w | owner id | |
//! | | 6 + w | 1 | row r | r < `W::BITS / b` ([`DecodeError::RowOutOfRange`]) |
//! | | 7 + w | | row body of row r | |
//! | 4 neighborhood | 5 | 2 | \|M\| | ≤ 256 |
//! | | 7 | w | owner id | |
//! | | 7 + w | | neighborhood body | |
//!
//! The bodies, where a *node* is `id (w) ‖ handle` and an *entry* is
//! `node ‖ proximity (4, u32)`:
//!
//! | body | field | rule |
//! |------|-------|------|
//! | leaf set | `s` (1), `p` (1) | low 7 bits: the side's count, ≤ L/2 ([`DecodeError::TooMany`]); bit 7: the side has a hole awaiting repair ([`LeafSet::holes`]), only on a side with fewer than L/2 nodes and only when no node is on both sides ([`DecodeError::BadHole`]) |
//! | | `s` successor nodes, nearest first | strictly increasing cw(owner, id) ([`DecodeError::OutOfOrder`]); not the owner ([`DecodeError::OwnId`]) |
//! | | `p` predecessor nodes, nearest first | strictly increasing cw(id, owner); not the owner; a node on both sides has the same handle on both ([`DecodeError::HandleMismatch`]) |
//! | table | `R` (1), the number of stored rows | ≤ `W::BITS / b`; row `R − 1` not empty ([`DecodeError::EmptyLastRow`]) |
//! | | `R` row bodies, rows 0, 1, … | |
//! | row r | `n` (1) | ≤ 2^b − 1 |
//! | | `n` entries in column order | shl(id, owner) = r ([`DecodeError::WrongRow`]); strictly increasing digit(id, r) ([`DecodeError::OutOfOrder`]); not the owner |
//! | neighborhood | `n` (2) | ≤ \|M\| |
//! | | `n` entries, in the set's order | non-decreasing proximity ([`DecodeError::OutOfOrder`]); no id twice ([`DecodeError::Duplicate`]); not the owner |
//!
//! After the last field the input must end ([`DecodeError::TrailingBytes`]); an input that ends
//! inside a field gives [`DecodeError::Truncated`] with the offset of that field. Handles must
//! decode ([`DecodeError::BadHandle`]) and re-encode to the bytes they were read from
//! ([`DecodeError::NonCanonicalHandle`]).
//!
//! # Bounds
//! The decoder never panics and never reads past the input. It allocates only the storage of the
//! value it returns, and only after the counts that size it have been checked against the
//! configuration in the header and against the bytes left (a count whose entries cannot fit in
//! the rest of the input is [`DecodeError::Truncated`] before anything is reserved): the two
//! leaf-set sides (L/2 nodes each), one vector per stored table row holding exactly its
//! entries plus the row vector itself, and the neighborhood set (|M| entries). For a
//! configuration this is at most [`decode_alloc_bound`] bytes, and over all configurations at
//! most [`max_decode_alloc`] bytes. With `u32` handles and [`Guid`](crate::Guid) ids on a 64-bit
//! target these are 26,880 bytes for [`Config::PAPER`] and 211,072 bytes in all (b = 8: 16 rows
//! of 255 entries). Nothing is allocated when decoding fails in the header. Encoding and
//! `encoded_len` allocate nothing.
//!
//! # Fuzzing
//! The `codec::fuzzing` module (feature `fuzzing`) holds the properties that the fuzz targets
//! `codec_decode` and `codec_roundtrip` run (each target is a one-line call) and that the tests
//! call too.

use alloc::vec::Vec;
use core::fmt;
use core::mem::size_of;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::arith::{cw, slot_of, Column, DigitWidth, Row};
use crate::config::{Config, ConfigError};
use crate::leafset::{LeafSet, Sides};
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef};
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

/// The first two bytes of every message: `"PS"`.
pub const MAGIC: [u8; 2] = *b"PS";
/// The format version this module writes and reads.
pub const VERSION: u8 = 1;
/// The largest [`WireHandle::MAX_LEN`] the codec accepts (checked at compile time).
pub const MAX_HANDLE_LEN: usize = 64;
/// The length of the common header: magic, version, kind, id width.
pub const HEADER_LEN: usize = 5;
/// Bit 7 of a leaf-set side's count byte: the side has a hole awaiting repair.
const HOLE_BIT: u8 = 0x80;

/// What a message holds (byte 3 of the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A whole [`NodeState`].
    State = 1,
    /// A [`LeafSet`].
    LeafSet = 2,
    /// One routing-table row.
    TableRow = 3,
    /// A [`NeighborhoodSet`].
    Neighborhood = 4,
}

impl Kind {
    /// The kind with this byte.
    #[must_use]
    pub const fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::State),
            2 => Some(Kind::LeafSet),
            3 => Some(Kind::TableRow),
            4 => Some(Kind::Neighborhood),
            _ => None,
        }
    }

    /// The byte of this kind.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::State => "node state",
            Kind::LeafSet => "leaf set",
            Kind::TableRow => "routing-table row",
            Kind::Neighborhood => "neighborhood set",
        })
    }
}

/// The kind and id width of a message, read from its header without decoding the rest
/// (for a host that dispatches on the kind).
///
/// # Errors
/// [`DecodeError::Truncated`], [`DecodeError::BadMagic`] or [`DecodeError::UnsupportedVersion`];
/// an unknown kind byte is [`DecodeError::WrongKind`] with `expected: None`.
pub fn peek_header(bytes: &[u8]) -> Result<(Kind, u8), DecodeError> {
    let mut r = Reader::new(bytes);
    r.magic_and_version()?;
    let at = r.pos;
    let k = r.u8()?;
    let kind = Kind::from_byte(k).ok_or(DecodeError::WrongKind {
        expected: None,
        found: k,
        offset: at,
    })?;
    Ok((kind, r.u8()?))
}

// ---------------------------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------------------------

/// Why [`WireHandle::decode`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleError {
    /// The input ends before the handle does.
    Truncated,
    /// The bytes are not the encoding of any handle.
    Invalid,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::Truncated => "the input ends inside a handle",
            HandleError::Invalid => "the bytes are not a valid handle",
        })
    }
}

impl core::error::Error for HandleError {}

/// A host handle type that the codec can carry: a self-delimiting encoding of bounded length.
///
/// The host implements this for its handle type (a socket address, an index, a key…).
///
/// # Contract
/// * `MIN_LEN <= encoded_len() <= MAX_LEN <= MAX_HANDLE_LEN` (the last is checked at compile
///   time; a handle whose `encoded_len` breaks the first two is refused by the encoder with
///   [`EncodeError::HandleLength`]);
/// * `encode` writes exactly `encoded_len()` bytes into `out`, which the codec passes with
///   exactly that length;
/// * `decode` reads one handle from the front of `input` (which may go on with other data) and
///   returns it with the number of bytes it used, without panicking on any input.
///
/// The codec re-encodes every decoded handle and rejects input whose bytes differ
/// ([`DecodeError::NonCanonicalHandle`]), so canonical decoding holds even for an
/// implementation that accepts several spellings of one handle.
pub trait WireHandle: Copy {
    /// The fewest bytes an encoding takes.
    const MIN_LEN: usize;
    /// The most bytes an encoding takes; at most [`MAX_HANDLE_LEN`].
    const MAX_LEN: usize;
    /// The length of this handle's encoding.
    fn encoded_len(&self) -> usize;
    /// Writes the encoding into `out`, whose length is `self.encoded_len()`.
    fn encode(&self, out: &mut [u8]);
    /// Reads one handle from the front of `input`; returns it and the bytes used.
    ///
    /// # Errors
    /// [`HandleError::Truncated`] when `input` ends too early, [`HandleError::Invalid`] when the
    /// bytes are no handle's encoding.
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError>;
}

/// Copies `src` to the front of `out` (as much as fits; never panics).
fn put(out: &mut [u8], src: &[u8]) {
    for (d, s) in out.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The first `N` bytes of `input`.
fn front<const N: usize>(input: &[u8]) -> Result<[u8; N], HandleError> {
    input
        .get(..N)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(HandleError::Truncated)
}

macro_rules! wire_uint {
    ($($t:ty),*) => {$(
        /// Fixed length: the integer's big-endian bytes.
        impl WireHandle for $t {
            const MIN_LEN: usize = size_of::<$t>();
            const MAX_LEN: usize = size_of::<$t>();
            fn encoded_len(&self) -> usize {
                size_of::<$t>()
            }
            fn encode(&self, out: &mut [u8]) {
                put(out, &self.to_be_bytes());
            }
            fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
                Ok((<$t>::from_be_bytes(front(input)?), size_of::<$t>()))
            }
        }
    )*};
}

wire_uint!(u8, u16, u32, u64, u128);

/// Eight bytes, big-endian, on every platform; a value over `usize::MAX` is
/// [`HandleError::Invalid`].
impl WireHandle for usize {
    const MIN_LEN: usize = 8;
    const MAX_LEN: usize = 8;
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut [u8]) {
        put(out, &(*self as u64).to_be_bytes());
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let v = u64::from_be_bytes(front(input)?);
        usize::try_from(v)
            .map(|v| (v, 8))
            .map_err(|_| HandleError::Invalid)
    }
}

/// No bytes: for hosts that need no handle.
impl WireHandle for () {
    const MIN_LEN: usize = 0;
    const MAX_LEN: usize = 0;
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode(&self, _out: &mut [u8]) {}
    fn decode(_input: &[u8]) -> Result<(Self, usize), HandleError> {
        Ok(((), 0))
    }
}

/// The `N` bytes as they are; `N` must be at most [`MAX_HANDLE_LEN`] (a compile-time error
/// otherwise).
impl<const N: usize> WireHandle for [u8; N] {
    const MIN_LEN: usize = N;
    const MAX_LEN: usize = {
        assert!(
            N <= MAX_HANDLE_LEN,
            "handle arrays are at most MAX_HANDLE_LEN bytes"
        );
        N
    };
    fn encoded_len(&self) -> usize {
        N
    }
    fn encode(&self, out: &mut [u8]) {
        put(out, self);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        Ok((front(input)?, N))
    }
}

/// Six bytes: the address (4), then the port (2).
impl WireHandle for SocketAddrV4 {
    const MIN_LEN: usize = 6;
    const MAX_LEN: usize = 6;
    fn encoded_len(&self) -> usize {
        6
    }
    fn encode(&self, out: &mut [u8]) {
        let mut b = [0u8; 6];
        put(&mut b, &self.ip().octets());
        put(
            b.get_mut(4..).unwrap_or_default(),
            &self.port().to_be_bytes(),
        );
        put(out, &b);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let [a, b, c, d, p0, p1] = front::<6>(input)?;
        let addr = SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), u16::from_be_bytes([p0, p1]));
        Ok((addr, 6))
    }
}

/// Twenty-six bytes: the address (16), the port (2), the flow info (4), the scope id (4).
impl WireHandle for SocketAddrV6 {
    const MIN_LEN: usize = 26;
    const MAX_LEN: usize = 26;
    fn encoded_len(&self) -> usize {
        26
    }
    fn encode(&self, out: &mut [u8]) {
        let mut b = [0u8; 26];
        put(&mut b, &self.ip().octets());
        put(
            b.get_mut(16..).unwrap_or_default(),
            &self.port().to_be_bytes(),
        );
        put(
            b.get_mut(18..).unwrap_or_default(),
            &self.flowinfo().to_be_bytes(),
        );
        put(
            b.get_mut(22..).unwrap_or_default(),
            &self.scope_id().to_be_bytes(),
        );
        put(out, &b);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let b = front::<26>(input)?;
        let part = |from: usize| -> [u8; 4] {
            let mut x = [0u8; 4];
            put(&mut x, b.get(from..).unwrap_or_default());
            x
        };
        let mut ip = [0u8; 16];
        put(&mut ip, &b);
        let mut port = [0u8; 2];
        put(&mut port, b.get(16..).unwrap_or_default());
        let addr = SocketAddrV6::new(
            Ipv6Addr::from(ip),
            u16::from_be_bytes(port),
            u32::from_be_bytes(part(18)),
            u32::from_be_bytes(part(22)),
        );
        Ok((addr, 26))
    }
}

/// A tag byte, 4 or 6, then the [`SocketAddrV4`] (7 bytes in all) or [`SocketAddrV6`] (27)
/// encoding. Any other tag is [`HandleError::Invalid`].
impl WireHandle for SocketAddr {
    const MIN_LEN: usize = 7;
    const MAX_LEN: usize = 27;
    fn encoded_len(&self) -> usize {
        match self {
            SocketAddr::V4(_) => 7,
            SocketAddr::V6(_) => 27,
        }
    }
    fn encode(&self, out: &mut [u8]) {
        let (tag, rest) = match out.split_first_mut() {
            Some(split) => split,
            None => return,
        };
        match self {
            SocketAddr::V4(a) => {
                *tag = 4;
                a.encode(rest);
            }
            SocketAddr::V6(a) => {
                *tag = 6;
                a.encode(rest);
            }
        }
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let (tag, rest) = input.split_first().ok_or(HandleError::Truncated)?;
        match tag {
            4 => SocketAddrV4::decode(rest).map(|(a, n)| (SocketAddr::V4(a), n + 1)),
            6 => SocketAddrV6::decode(rest).map(|(a, n)| (SocketAddr::V6(a), n + 1)),
            _ => Err(HandleError::Invalid),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why encoding failed. The output buffer is unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer holds `available` bytes; the encoding needs `needed`.
    BufferTooSmall {
        /// The encoded length.
        needed: usize,
        /// The buffer's length.
        available: usize,
    },
    /// A handle's [`WireHandle::encoded_len`] is outside `MIN_LEN..=MAX_LEN` (a bug in the
    /// host's implementation); `len` is what it reported.
    HandleLength {
        /// The reported length.
        len: usize,
    },
    /// The row asked for is not below `W::BITS / b`.
    RowOutOfRange {
        /// The row asked for.
        row: u8,
        /// The number of rows, `W::BITS / b`.
        rows: usize,
    },
    /// A list given to an [`Encoder`] is not in strictly increasing id order.
    Unsorted,
    /// A list or byte string is longer than its length field can say.
    TooLong {
        /// Its length.
        len: usize,
        /// The most the field can say.
        limit: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, available } => write!(
                f,
                "the encoding needs {needed} bytes but the buffer holds {available}"
            ),
            EncodeError::HandleLength { len } => write!(
                f,
                "a handle reported an encoded length of {len}, outside its type's bounds"
            ),
            EncodeError::RowOutOfRange { row, rows } => {
                write!(f, "row {row} does not exist: the table has {rows} rows")
            }
            EncodeError::Unsorted => f.write_str("the list is not in strictly increasing id order"),
            EncodeError::TooLong { len, limit } => {
                write!(
                    f,
                    "{len} items, more than the {limit} a length field can say"
                )
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// The part of a message an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The leaf set's successors.
    Successors,
    /// The leaf set's predecessors.
    Predecessors,
    /// The routing table's list of rows.
    Table,
    /// Routing-table row `r`.
    Row(u8),
    /// The neighborhood set.
    Neighborhood,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Successors => f.write_str("successors"),
            Part::Predecessors => f.write_str("predecessors"),
            Part::Table => f.write_str("routing-table rows"),
            Part::Row(r) => write!(f, "routing-table row {r}"),
            Part::Neighborhood => f.write_str("neighborhood set"),
        }
    }
}

/// Why a message was rejected: the first rule of the byte layout (see the [module
/// docs](self)) that the input breaks. Offsets are byte offsets into the input; indices count
/// the nodes of a part from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends inside the field (or the run of entries) starting at `offset`.
    Truncated {
        /// Where the incomplete field starts.
        offset: usize,
    },
    /// The message is complete at `offset` but the input goes on.
    TrailingBytes {
        /// Where the extra bytes start (the encoded length).
        offset: usize,
    },
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// The format version is not [`VERSION`].
    UnsupportedVersion(u8),
    /// The kind byte is not the kind asked for (`expected`), or no kind at all
    /// (`expected: None`, from [`peek_header`]).
    WrongKind {
        /// The kind the caller asked for.
        expected: Option<Kind>,
        /// The byte found.
        found: u8,
        /// Where it was found (3).
        offset: usize,
    },
    /// The id width is not that of the caller's id type.
    IdWidth {
        /// `W::BITS / 8` of the caller's id type.
        expected: u8,
        /// The width in the header.
        found: u8,
    },
    /// b, L or |M| is out of range.
    Config(ConfigError),
    /// A count is over the limit the configuration sets.
    TooMany {
        /// The part whose count it is.
        part: Part,
        /// The count found.
        count: usize,
        /// The limit: L/2, `W::BITS / b` rows, 2^b − 1 entries per row, or |M|.
        limit: usize,
    },
    /// The row number of a row message is not below `W::BITS / b`.
    RowOutOfRange {
        /// The row found.
        row: u8,
        /// The number of rows.
        rows: usize,
    },
    /// The last stored row of a table is empty (the table stores no trailing empty row).
    EmptyLastRow {
        /// The row.
        row: u8,
    },
    /// A node of a part is the owner itself.
    OwnId {
        /// The part.
        part: Part,
        /// The node's index in the part.
        index: usize,
    },
    /// A node is not strictly after the previous one in the part's order (ring distance for
    /// the leaf-set sides, column for a row), or a neighborhood entry has a smaller proximity
    /// than the previous one.
    OutOfOrder {
        /// The part.
        part: Part,
        /// The node's index in the part.
        index: usize,
    },
    /// A neighborhood entry repeats an earlier entry's id.
    Duplicate {
        /// The part.
        part: Part,
        /// The repeated node's index.
        index: usize,
    },
    /// A row entry does not share exactly `row` digits with the owner.
    WrongRow {
        /// The row.
        row: u8,
        /// The entry's index in the row.
        index: usize,
    },
    /// A predecessor that is also a successor carries a different handle on each side.
    HandleMismatch {
        /// The predecessor's index.
        index: usize,
    },
    /// The handle at `offset` is invalid ([`HandleError::Invalid`]).
    BadHandle {
        /// Where the handle starts.
        offset: usize,
    },
    /// The handle at `offset` decodes, but its bytes are not its canonical encoding.
    NonCanonicalHandle {
        /// Where the handle starts.
        offset: usize,
    },
    /// A leaf-set side is marked as having a hole although it is full or the sides share a
    /// node (the whole ring is known).
    BadHole {
        /// The side.
        part: Part,
        /// Where its count byte is.
        offset: usize,
    },
    /// A count or value of a [`Decoder`] read is over the limit the caller gave.
    OverLimit {
        /// Where the count or value starts.
        offset: usize,
        /// The value found.
        found: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// A list read by [`Decoder`] is not in strictly increasing id order (so it holds a
    /// duplicate or has another encoding).
    Unsorted {
        /// Where the out-of-order item starts.
        offset: usize,
    },
}

impl DecodeError {
    /// The same error with every input offset moved by `base` bytes: for an error found in a
    /// piece that starts `base` bytes into a larger message.
    #[must_use]
    pub fn offset_by(self, base: usize) -> DecodeError {
        let at = |o: usize| o.saturating_add(base);
        match self {
            DecodeError::Truncated { offset } => DecodeError::Truncated { offset: at(offset) },
            DecodeError::TrailingBytes { offset } => {
                DecodeError::TrailingBytes { offset: at(offset) }
            }
            DecodeError::WrongKind {
                expected,
                found,
                offset,
            } => DecodeError::WrongKind {
                expected,
                found,
                offset: at(offset),
            },
            DecodeError::BadHandle { offset } => DecodeError::BadHandle { offset: at(offset) },
            DecodeError::NonCanonicalHandle { offset } => {
                DecodeError::NonCanonicalHandle { offset: at(offset) }
            }
            DecodeError::BadHole { part, offset } => DecodeError::BadHole {
                part,
                offset: at(offset),
            },
            DecodeError::OverLimit {
                offset,
                found,
                limit,
            } => DecodeError::OverLimit {
                offset: at(offset),
                found,
                limit,
            },
            DecodeError::Unsorted { offset } => DecodeError::Unsorted { offset: at(offset) },
            other => other,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { offset } => {
                write!(f, "the input ends inside the field at byte {offset}")
            }
            DecodeError::TrailingBytes { offset } => {
                write!(f, "the message ends at byte {offset} but the input goes on")
            }
            DecodeError::BadMagic => f.write_str("the input does not start with the magic \"PS\""),
            DecodeError::UnsupportedVersion(v) => write!(
                f,
                "format version {v} is not supported (this codec reads version {VERSION})"
            ),
            DecodeError::WrongKind {
                expected: Some(k),
                found,
                ..
            } => write!(f, "expected a {k} message, found kind byte {found}"),
            DecodeError::WrongKind {
                expected: None,
                found,
                ..
            } => write!(f, "unknown message kind {found}"),
            DecodeError::IdWidth { expected, found } => write!(
                f,
                "ids are {found} bytes wide in the message but {expected} in the id type"
            ),
            DecodeError::Config(e) => write!(f, "invalid configuration: {e}"),
            DecodeError::TooMany { part, count, limit } => {
                write!(f, "{part}: {count} entries, more than the limit {limit}")
            }
            DecodeError::RowOutOfRange { row, rows } => {
                write!(f, "row {row} does not exist: a table has {rows} rows")
            }
            DecodeError::EmptyLastRow { row } => {
                write!(f, "the last stored routing-table row ({row}) is empty")
            }
            DecodeError::OwnId { part, index } => {
                write!(f, "{part}: node {index} is the owner itself")
            }
            DecodeError::OutOfOrder { part, index } => {
                write!(f, "{part}: node {index} is out of order")
            }
            DecodeError::Duplicate { part, index } => {
                write!(f, "{part}: node {index} repeats an earlier node")
            }
            DecodeError::WrongRow { row, index } => write!(
                f,
                "routing-table row {row}: entry {index} does not share exactly {row} digits with the owner"
            ),
            DecodeError::HandleMismatch { index } => write!(
                f,
                "predecessor {index} is also a successor but with a different handle"
            ),
            DecodeError::BadHandle { offset } => write!(f, "invalid handle at byte {offset}"),
            DecodeError::NonCanonicalHandle { offset } => {
                write!(f, "the handle at byte {offset} is not canonically encoded")
            }
            DecodeError::BadHole { part, offset } => write!(
                f,
                "{part}: the hole flag at byte {offset} is set on a full side or with the whole ring known"
            ),
            DecodeError::OverLimit {
                offset,
                found,
                limit,
            } => write!(f, "the value {found} at byte {offset} is over the limit {limit}"),
            DecodeError::Unsorted { offset } => write!(
                f,
                "the item at byte {offset} is not after the previous one in id order"
            ),
        }
    }
}

impl core::error::Error for DecodeError {}

impl From<ConfigError> for DecodeError {
    fn from(e: ConfigError) -> DecodeError {
        DecodeError::Config(e)
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes and bounds
// ---------------------------------------------------------------------------------------------

/// The id width in bytes, `W::BITS / 8` (at most 16).
#[allow(clippy::cast_possible_truncation)] // BITS <= 128
const fn width<W: RingWord>() -> u8 {
    (W::BITS / 8) as u8
}

/// The fewest bytes an entry can take: id, shortest handle, proximity.
const fn entry_min<H: WireHandle, W: RingWord>() -> usize {
    width::<W>() as usize + H::MIN_LEN + 4
}

/// The fewest bytes a node can take: id and shortest handle.
const fn node_min<H: WireHandle, W: RingWord>() -> usize {
    width::<W>() as usize + H::MIN_LEN
}

/// The most heap memory, in bytes, that decoding one message (of any kind) built for `config`
/// can allocate: `L · size_of::<NodeRef>()` for the leaf-set sides, `|M| · size_of::<Entry>()`
/// for the neighborhood set, and for the table `W::BITS / b` row headers plus
/// `(W::BITS / b) · (2^b − 1)` entries.
#[must_use]
pub fn decode_alloc_bound<H: Copy, W: RingWord>(config: &Config) -> usize {
    let rows = config.digit_width().digits::<W>() as usize;
    let per_row = config.digit_width().columns() - 1;
    config.leaf_set_len() * size_of::<NodeRef<H, W>>()
        + config.neighborhood_len() * size_of::<Entry<H, W>>()
        + rows * RoutingTable::<H, W>::row_size()
        + rows * per_row * size_of::<Entry<H, W>>()
}

/// [`decode_alloc_bound`] over every configuration (L = 64, |M| = 256, the b with the most
/// table slots): the most any decode can allocate for these handle and id types.
#[must_use]
pub fn max_decode_alloc<H: Copy, W: RingWord>() -> usize {
    DigitWidth::ALL
        .iter()
        .filter_map(|b| Config::new(b.bits(), Config::MAX_LEAF_SET, Config::MAX_NEIGHBORHOOD).ok())
        .map(|c| decode_alloc_bound::<H, W>(&c))
        .max()
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Where the encoder sends its output: a [`Counter`] to size it, a [`Writer`] to write it.
trait Sink {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError>;
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError>;

    fn u8(&mut self, v: u8) -> Result<(), EncodeError> {
        self.bytes(&[v])
    }
    fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }
    fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }
    fn word<W: RingWord>(&mut self, w: W) -> Result<(), EncodeError> {
        let all = w.to_u128().to_be_bytes();
        self.bytes(
            all.get(16 - usize::from(width::<W>())..)
                .unwrap_or_default(),
        )
    }
    fn node<H: WireHandle, W: RingWord>(&mut self, n: &NodeRef<H, W>) -> Result<(), EncodeError> {
        self.word(n.id)?;
        self.handle(&n.handle)
    }
    fn entry<H: WireHandle, W: RingWord>(&mut self, e: &Entry<H, W>) -> Result<(), EncodeError> {
        self.node(&e.node)?;
        self.u32(e.proximity)
    }
    fn header<W: RingWord>(&mut self, kind: Kind) -> Result<(), EncodeError> {
        self.bytes(&MAGIC)?;
        self.u8(VERSION)?;
        self.u8(kind.to_byte())?;
        self.u8(width::<W>())
    }
}

/// Counts the bytes of an encoding; `strict` checks each handle's length against its bounds.
struct Counter {
    len: usize,
    strict: bool,
}

impl Sink for Counter {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.len = self.len.saturating_add(b.len());
        Ok(())
    }
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        let len = h.encoded_len();
        if self.strict && !(H::MIN_LEN..=H::MAX_LEN).contains(&len) {
            return Err(EncodeError::HandleLength { len });
        }
        self.len = self.len.saturating_add(len);
        Ok(())
    }
}

/// Writes an encoding into a buffer already checked to be large enough.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn slot(&mut self, n: usize) -> Result<&mut [u8], EncodeError> {
        let available = self.buf.len();
        let end = self.pos.saturating_add(n);
        let slot = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall {
                needed: end,
                available,
            })?;
        self.pos = end;
        Ok(slot)
    }
}

impl Sink for Writer<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        put(self.slot(b.len())?, b);
        Ok(())
    }
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        h.encode(self.slot(h.encoded_len())?);
        Ok(())
    }
}

/// A message to encode: one of the four kinds, borrowed.
enum Msg<'a, H, W> {
    State(&'a NodeState<H, W>),
    LeafSet(&'a LeafSet<H, W>),
    Row(&'a RoutingTable<H, W>, Row),
    Neighborhood(&'a NeighborhoodSet<H, W>, W),
}

impl<H: WireHandle, W: RingWord> Msg<'_, H, W> {
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        match *self {
            Msg::State(state) => emit_state(s, state),
            Msg::LeafSet(leaf) => emit_leaf(s, leaf),
            Msg::Row(table, row) => emit_row(s, table, row),
            Msg::Neighborhood(set, own) => emit_neighborhood(s, set, own),
        }
    }

    /// The encoded length, not checking handle bounds.
    fn len(&self) -> usize {
        let mut counter = Counter {
            len: 0,
            strict: false,
        };
        // A lenient counter only fails on a row out of range, which has no encoding; its
        // length is then that of the header part counted so far.
        let _ = self.emit(&mut counter);
        counter.len
    }

    /// The encoding in a new vector of exactly its length (checking handle bounds).
    fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.len());
        self.emit(&mut VecSink { out: &mut out })?;
        Ok(out)
    }

    /// Sizes the encoding (checking handle bounds), then writes it if `buf` is large enough.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let mut counter = Counter {
            len: 0,
            strict: true,
        };
        self.emit(&mut counter)?;
        let needed = counter.len;
        if needed > buf.len() {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut writer = Writer { buf, pos: 0 };
        self.emit(&mut writer)?;
        Ok(writer.pos)
    }
}

fn emit_leaf_body<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    leaf: &LeafSet<H, W>,
) -> Result<(), EncodeError> {
    let (succ, pred) = (leaf.successors(), leaf.predecessors());
    let holes = leaf.holes();
    // Each side holds at most L/2 <= 32 nodes: the count fits in the low 7 bits.
    #[allow(clippy::cast_possible_truncation)]
    {
        s.u8(succ.len() as u8 | if holes.successor { HOLE_BIT } else { 0 })?;
        s.u8(pred.len() as u8 | if holes.predecessor { HOLE_BIT } else { 0 })?;
    }
    for n in succ.iter().chain(pred) {
        s.node(n)?;
    }
    Ok(())
}

/// The number of stored rows: one past the last row with an entry.
fn stored_rows<H: Copy, W: RingWord>(table: &RoutingTable<H, W>) -> usize {
    table.iter().last().map_or(0, |(r, _, _)| r.index() + 1)
}

fn emit_row_body<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    table: &RoutingTable<H, W>,
    row: Row,
) -> Result<(), EncodeError> {
    // A row holds at most 2^b - 1 <= 255 entries.
    #[allow(clippy::cast_possible_truncation)]
    s.u8(table.row(row).count() as u8)?;
    for (_, e) in table.row(row) {
        s.entry(e)?;
    }
    Ok(())
}

fn emit_table_body<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    table: &RoutingTable<H, W>,
) -> Result<(), EncodeError> {
    let rows = stored_rows(table);
    // At most W::BITS / b <= 128 rows.
    #[allow(clippy::cast_possible_truncation)]
    s.u8(rows as u8)?;
    for r in 0..rows {
        #[allow(clippy::cast_possible_truncation)]
        emit_row_body(s, table, Row(r as u8))?;
    }
    Ok(())
}

fn emit_neighborhood_body<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    set: &NeighborhoodSet<H, W>,
) -> Result<(), EncodeError> {
    // At most |M| <= 256 entries.
    #[allow(clippy::cast_possible_truncation)]
    s.u16(set.len() as u16)?;
    for e in set.entries() {
        s.entry(e)?;
    }
    Ok(())
}

fn emit_state<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    state: &NodeState<H, W>,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::State)?;
    emit_state_piece(s, state)
}

/// A state without the header.
#[allow(clippy::cast_possible_truncation)] // L <= 64, |M| <= 256
fn emit_state_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    state: &NodeState<H, W>,
) -> Result<(), EncodeError> {
    let c = state.config();
    s.u8(c.digit_width().bits() as u8)?;
    s.u8(c.leaf_set_len() as u8)?;
    s.u16(c.neighborhood_len() as u16)?;
    s.node(state.own())?;
    emit_leaf_body(s, state.leaf_set())?;
    emit_table_body(s, state.table())?;
    emit_neighborhood_body(s, state.neighborhood())
}

fn emit_leaf<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    leaf: &LeafSet<H, W>,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::LeafSet)?;
    emit_leaf_piece(s, leaf)
}

/// A leaf set without the header: L, owner id, body.
#[allow(clippy::cast_possible_truncation)] // L <= 64
fn emit_leaf_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    leaf: &LeafSet<H, W>,
) -> Result<(), EncodeError> {
    s.u8((leaf.half() * 2) as u8)?;
    s.word(leaf.own())?;
    emit_leaf_body(s, leaf)
}

fn emit_row<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    table: &RoutingTable<H, W>,
    row: Row,
) -> Result<(), EncodeError> {
    let rows = table.row_count();
    if row.index() >= rows {
        return Err(EncodeError::RowOutOfRange { row: row.0, rows });
    }
    s.header::<W>(Kind::TableRow)?;
    emit_row_piece(s, table, row)
}

/// A table row without the header: b, owner id, row number, body.
#[allow(clippy::cast_possible_truncation)] // b <= 8
fn emit_row_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    table: &RoutingTable<H, W>,
    row: Row,
) -> Result<(), EncodeError> {
    let rows = table.row_count();
    if row.index() >= rows {
        return Err(EncodeError::RowOutOfRange { row: row.0, rows });
    }
    s.u8(table.digit_width().bits() as u8)?;
    s.word(table.own())?;
    s.u8(row.0)?;
    emit_row_body(s, table, row)
}

fn emit_neighborhood<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    set: &NeighborhoodSet<H, W>,
    own: W,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::Neighborhood)?;
    emit_neighborhood_piece(s, set, own)
}

/// A neighborhood set without the header: |M|, owner id, body.
#[allow(clippy::cast_possible_truncation)] // |M| <= 256
fn emit_neighborhood_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    set: &NeighborhoodSet<H, W>,
    own: W,
) -> Result<(), EncodeError> {
    s.u16(set.capacity() as u16)?;
    s.word(own)?;
    emit_neighborhood_body(s, set)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// A cursor over the input. Every read is bounds-checked and reports the offset it failed at.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        let s = offset
            .checked_add(n)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or(DecodeError::Truncated { offset })?;
        self.pos = offset + n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let s = self.take(1)?;
        Ok(s.first().copied().unwrap_or_default())
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let mut b = [0u8; 2];
        put(&mut b, self.take(2)?);
        Ok(u16::from_be_bytes(b))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut b = [0u8; 4];
        put(&mut b, self.take(4)?);
        Ok(u32::from_be_bytes(b))
    }

    fn word<W: RingWord>(&mut self) -> Result<W, DecodeError> {
        let s = self.take(usize::from(width::<W>()))?;
        Ok(W::from_u128(
            s.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b)),
        ))
    }

    fn handle<H: WireHandle>(&mut self) -> Result<H, DecodeError> {
        const {
            assert!(
                H::MAX_LEN <= MAX_HANDLE_LEN,
                "WireHandle::MAX_LEN is over MAX_HANDLE_LEN"
            )
        };
        let offset = self.pos;
        let rest = self.bytes.get(offset..).unwrap_or_default();
        let (h, used) = H::decode(rest).map_err(|e| match e {
            HandleError::Truncated => DecodeError::Truncated { offset },
            HandleError::Invalid => DecodeError::BadHandle { offset },
        })?;
        let read = rest
            .get(..used)
            .filter(|_| (H::MIN_LEN..=H::MAX_LEN).contains(&used))
            .ok_or(DecodeError::NonCanonicalHandle { offset })?;
        let mut scratch = [0u8; MAX_HANDLE_LEN];
        let again = scratch
            .get_mut(..used)
            .filter(|_| h.encoded_len() == used)
            .ok_or(DecodeError::NonCanonicalHandle { offset })?;
        h.encode(again);
        if again != read {
            return Err(DecodeError::NonCanonicalHandle { offset });
        }
        self.pos = offset + used;
        Ok(h)
    }

    fn node<H: WireHandle, W: RingWord>(&mut self) -> Result<NodeRef<H, W>, DecodeError> {
        let id = self.word()?;
        let handle = self.handle()?;
        Ok(NodeRef { id, handle })
    }

    fn entry<H: WireHandle, W: RingWord>(&mut self) -> Result<Entry<H, W>, DecodeError> {
        let node = self.node()?;
        let proximity = self.u32()?;
        Ok(Entry { node, proximity })
    }

    /// Fails unless `count` items of at least `min` bytes each fit in the rest of the input:
    /// called before reserving storage for them.
    fn room_for(&self, count: usize, min: usize) -> Result<(), DecodeError> {
        if count.saturating_mul(min) > self.remaining() {
            return Err(DecodeError::Truncated { offset: self.pos });
        }
        Ok(())
    }

    fn magic_and_version(&mut self) -> Result<(), DecodeError> {
        if self.take(2)? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        match self.u8()? {
            VERSION => Ok(()),
            v => Err(DecodeError::UnsupportedVersion(v)),
        }
    }

    fn header<W: RingWord>(&mut self, kind: Kind) -> Result<(), DecodeError> {
        self.magic_and_version()?;
        let offset = self.pos;
        let found = self.u8()?;
        if found != kind.to_byte() {
            return Err(DecodeError::WrongKind {
                expected: Some(kind),
                found,
                offset,
            });
        }
        let found = self.u8()?;
        if found != width::<W>() {
            return Err(DecodeError::IdWidth {
                expected: width::<W>(),
                found,
            });
        }
        Ok(())
    }

    fn digit_width(&mut self) -> Result<DigitWidth, DecodeError> {
        let b = u32::from(self.u8()?);
        DigitWidth::from_bits(b).ok_or(DecodeError::Config(ConfigError::DigitBits(b)))
    }

    /// L, validated; returns L/2.
    fn leaf_half(&mut self) -> Result<u8, DecodeError> {
        let l = self.u8()?;
        if l < 2 || l % 2 != 0 || usize::from(l) > Config::MAX_LEAF_SET {
            return Err(DecodeError::Config(ConfigError::LeafSetLen(usize::from(l))));
        }
        Ok(l / 2)
    }

    /// |M|, validated.
    fn neighborhood_len(&mut self) -> Result<u16, DecodeError> {
        let m = self.u16()?;
        if usize::from(m) > Config::MAX_NEIGHBORHOOD {
            return Err(DecodeError::Config(ConfigError::NeighborhoodLen(
                usize::from(m),
            )));
        }
        Ok(m)
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.pos < self.bytes.len() {
            return Err(DecodeError::TrailingBytes { offset: self.pos });
        }
        Ok(())
    }
}

/// Whether two handles have the same encoding (equal handles, for a canonical encoding).
fn same_handle<H: WireHandle>(a: &H, b: &H) -> bool {
    let (la, lb) = (a.encoded_len(), b.encoded_len());
    let (mut x, mut y) = ([0u8; MAX_HANDLE_LEN], [0u8; MAX_HANDLE_LEN]);
    match (x.get_mut(..la), y.get_mut(..lb)) {
        (Some(x), Some(y)) if la == lb => {
            a.encode(x);
            b.encode(y);
            x == y
        }
        _ => false,
    }
}

fn read_leaf_body<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
    own: W,
    half: u8,
) -> Result<LeafSet<H, W>, DecodeError> {
    let limit = usize::from(half);
    let s_at = r.pos;
    let s_byte = r.u8()?;
    let s = usize::from(s_byte & !HOLE_BIT);
    if s > limit {
        return Err(DecodeError::TooMany {
            part: Part::Successors,
            count: s,
            limit,
        });
    }
    let p_at = r.pos;
    let p_byte = r.u8()?;
    let p = usize::from(p_byte & !HOLE_BIT);
    if p > limit {
        return Err(DecodeError::TooMany {
            part: Part::Predecessors,
            count: p,
            limit,
        });
    }
    r.room_for(s + p, node_min::<H, W>())?;
    let mut successors: Vec<NodeRef<H, W>> = Vec::with_capacity(limit);
    for index in 0..s {
        let n = r.node()?;
        let part = Part::Successors;
        if n.id == own {
            return Err(DecodeError::OwnId { part, index });
        }
        if successors
            .last()
            .is_some_and(|prev| cw(&own, &n.id) <= cw(&own, &prev.id))
        {
            return Err(DecodeError::OutOfOrder { part, index });
        }
        successors.push(n);
    }
    let mut predecessors: Vec<NodeRef<H, W>> = Vec::with_capacity(limit);
    for index in 0..p {
        let n = r.node()?;
        let part = Part::Predecessors;
        if n.id == own {
            return Err(DecodeError::OwnId { part, index });
        }
        if predecessors
            .last()
            .is_some_and(|prev| cw(&n.id, &own) <= cw(&prev.id, &own))
        {
            return Err(DecodeError::OutOfOrder { part, index });
        }
        if successors
            .iter()
            .any(|m| m.id == n.id && !same_handle(&m.handle, &n.handle))
        {
            return Err(DecodeError::HandleMismatch { index });
        }
        predecessors.push(n);
    }
    let holes = Sides {
        successor: s_byte & HOLE_BIT != 0,
        predecessor: p_byte & HOLE_BIT != 0,
    };
    let shared = predecessors
        .iter()
        .any(|p| successors.iter().any(|s| s.id == p.id));
    let whole_ring = shared || (successors.is_empty() && predecessors.is_empty());
    for (hole, len, offset, part) in [
        (holes.successor, s, s_at, Part::Successors),
        (holes.predecessor, p, p_at, Part::Predecessors),
    ] {
        if hole && (len == limit || whole_ring) {
            return Err(DecodeError::BadHole { part, offset });
        }
    }
    Ok(LeafSet::from_sides(
        own,
        half,
        successors,
        predecessors,
        holes,
    ))
}

/// Reads the entries of row `row` (count byte first), checking count, slots and order.
fn read_row_body<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
    own: W,
    b: DigitWidth,
    row: u8,
) -> Result<Vec<Entry<H, W>>, DecodeError> {
    let part = Part::Row(row);
    let count = usize::from(r.u8()?);
    let limit = b.columns() - 1;
    if count > limit {
        return Err(DecodeError::TooMany { part, count, limit });
    }
    r.room_for(count, entry_min::<H, W>())?;
    let mut entries: Vec<Entry<H, W>> = Vec::with_capacity(count);
    let mut last: Option<Column> = None;
    for index in 0..count {
        let e = r.entry()?;
        let (er, column) = slot_of(own, e.node.id, b).ok_or(DecodeError::OwnId { part, index })?;
        if er.0 != row {
            return Err(DecodeError::WrongRow { row, index });
        }
        if last.is_some_and(|c| c >= column) {
            return Err(DecodeError::OutOfOrder { part, index });
        }
        last = Some(column);
        entries.push(e);
    }
    Ok(entries)
}

fn read_table_body<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
    own: W,
    b: DigitWidth,
) -> Result<RoutingTable<H, W>, DecodeError> {
    let limit = b.digits::<W>() as usize;
    let rows = usize::from(r.u8()?);
    if rows > limit {
        return Err(DecodeError::TooMany {
            part: Part::Table,
            count: rows,
            limit,
        });
    }
    // Each row takes at least its count byte.
    r.room_for(rows, 1)?;
    let mut table = RoutingTable::with_row_capacity(own, b, rows);
    for i in 0..rows {
        // i < rows <= 255
        #[allow(clippy::cast_possible_truncation)]
        let row = i as u8;
        let entries = read_row_body(r, own, b, row)?;
        if i + 1 == rows && entries.is_empty() {
            return Err(DecodeError::EmptyLastRow { row });
        }
        table.push_row(entries);
    }
    Ok(table)
}

fn read_neighborhood_body<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
    own: W,
    capacity: u16,
) -> Result<NeighborhoodSet<H, W>, DecodeError> {
    let part = Part::Neighborhood;
    let count = usize::from(r.u16()?);
    let limit = usize::from(capacity);
    if count > limit {
        return Err(DecodeError::TooMany { part, count, limit });
    }
    r.room_for(count, entry_min::<H, W>())?;
    let mut entries: Vec<Entry<H, W>> = Vec::with_capacity(limit);
    for index in 0..count {
        let e: Entry<H, W> = r.entry()?;
        if e.node.id == own {
            return Err(DecodeError::OwnId { part, index });
        }
        if entries.last().is_some_and(|p| p.proximity > e.proximity) {
            return Err(DecodeError::OutOfOrder { part, index });
        }
        if entries.iter().any(|p| p.node.id == e.node.id) {
            return Err(DecodeError::Duplicate { part, index });
        }
        entries.push(e);
    }
    Ok(NeighborhoodSet::from_entries(own, capacity, entries))
}

// ---------------------------------------------------------------------------------------------
// Pieces: the kernel's parts inside a larger message
// ---------------------------------------------------------------------------------------------

/// Appends to a `Vec<u8>` with every check the kernel's own encoder makes.
struct VecSink<'a> {
    out: &'a mut Vec<u8>,
}

impl Sink for VecSink<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.out.extend_from_slice(b);
        Ok(())
    }
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        let len = h.encoded_len();
        if !(H::MIN_LEN..=H::MAX_LEN).contains(&len) {
            return Err(EncodeError::HandleLength { len });
        }
        let at = self.out.len();
        self.out.resize(at + len, 0);
        if let Some(slot) = self.out.get_mut(at..) {
            h.encode(slot);
        }
        Ok(())
    }
}

/// Where an [`Encoder`] writes: a vector, a caller's slice, or nowhere (counting).
enum Out<'a> {
    Vec(VecSink<'a>),
    Slice(Writer<'a>),
    Count(Counter),
}

impl Out<'_> {
    fn len(&self) -> usize {
        match self {
            Out::Vec(v) => v.out.len(),
            Out::Slice(w) => w.pos,
            Out::Count(c) => c.len,
        }
    }
}

impl Sink for Out<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        match self {
            Out::Vec(v) => v.bytes(b),
            Out::Slice(w) => w.bytes(b),
            Out::Count(c) => c.bytes(b),
        }
    }
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        match self {
            Out::Vec(v) => v.handle(h),
            Out::Slice(w) => {
                let len = h.encoded_len();
                if !(H::MIN_LEN..=H::MAX_LEN).contains(&len) {
                    return Err(EncodeError::HandleLength { len });
                }
                w.handle(h)
            }
            Out::Count(c) => c.handle(h),
        }
    }
}

/// Writes the fields of a larger message — a protocol built on this codec — into a `Vec<u8>`,
/// by the rules of the kernel's own encodings: big-endian integers, ids in `W::BITS / 8` bytes,
/// handles by their [`WireHandle`] encoding, and the kernel's parts as **pieces**: their
/// encoding without the 5-byte header (the larger message has its own), which is
/// self-delimiting, so no length prefix is needed. [`Decoder`] reads them back.
///
/// | piece | bytes |
/// |---|---|
/// | [`Encoder::state`] | b (1), L (1), \|M\| (2), own node, leaf-set, table and neighborhood bodies |
/// | [`Encoder::leaf_set`] | L (1), owner id (w), leaf-set body |
/// | [`Encoder::row`] | b (1), owner id (w), row r (1), row body |
/// | [`Encoder::neighborhood`] | \|M\| (2), owner id (w), neighborhood body |
/// | [`Encoder::nodes`] | count (2), then `count` nodes (id, handle) in strictly increasing id order |
/// | [`Encoder::ids`] | count (2), then `count` ids in strictly increasing order |
///
/// (The bodies are those of the [module docs](self).) An encoder writes to a vector
/// ([`Encoder::new`]; on an error the vector is cut back to its length when the encoder was
/// made, so a failed message leaves nothing behind), into a caller's slice
/// ([`Encoder::slice`]; no allocation; [`EncodeError::BufferTooSmall`] when it is full), or
/// only counts ([`Encoder::counter`], to size a buffer).
///
/// ```
/// use pastry_kernel::codec::{Decoder, Encoder};
/// use pastry_kernel::{Config, Guid, NodeRef, NodeState};
///
/// let mut state = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(7 << 120), 1u32));
/// state.learn(NodeRef::new(Guid::new(9 << 120), 2), 10)?;
/// let mut out = Vec::new();
/// let mut e = Encoder::new(&mut out);
/// e.u8(42)?;
/// e.leaf_set(state.leaf_set())?;
/// e.nodes(&[*state.own()])?;
///
/// let mut d = Decoder::new(&out);
/// assert_eq!(d.u8()?, 42);
/// assert_eq!(&d.leaf_set::<u32, Guid>()?, state.leaf_set());
/// assert_eq!(d.nodes::<u32, Guid>(8)?, [*state.own()]);
/// d.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encoder<'a> {
    sink: Out<'a>,
    start: usize,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let start = out.len();
        Encoder {
            sink: Out::Vec(VecSink { out }),
            start,
        }
    }

    /// An encoder writing into `buf` from its start, allocating nothing.
    pub fn slice(buf: &'a mut [u8]) -> Self {
        Encoder {
            sink: Out::Slice(Writer { buf, pos: 0 }),
            start: 0,
        }
    }

    /// An encoder that writes nothing and counts the bytes ([`Encoder::written`]).
    #[must_use]
    pub fn counter() -> Encoder<'static> {
        Encoder {
            sink: Out::Count(Counter {
                len: 0,
                strict: true,
            }),
            start: 0,
        }
    }

    /// The bytes written (or counted) so far by this encoder.
    #[must_use]
    pub fn written(&self) -> usize {
        self.sink.len() - self.start
    }

    fn check<T>(&mut self, r: Result<T, EncodeError>) -> Result<T, EncodeError> {
        if r.is_err() {
            if let Out::Vec(v) = &mut self.sink {
                v.out.truncate(self.start);
            }
        }
        r
    }

    /// One byte.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] when writing into a full slice.
    pub fn u8(&mut self, v: u8) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&[v]);
        self.check(r)
    }

    /// Two bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Four bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Eight bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u64(&mut self, v: u64) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Raw bytes, as they are (the caller writes their length first if the reader needs it).
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let r = self.sink.bytes(b);
        self.check(r)
    }

    /// An id in `W::BITS / 8` bytes.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn word<W: RingWord>(&mut self, w: W) -> Result<(), EncodeError> {
        let r = self.sink.word(w);
        self.check(r)
    }

    /// A handle.
    ///
    /// # Errors
    /// [`EncodeError::HandleLength`] for a handle that breaks its [`WireHandle`] bounds.
    pub fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        let r = self.sink.handle(h);
        self.check(r)
    }

    /// A node: id, then handle.
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn node<H: WireHandle, W: RingWord>(
        &mut self,
        n: &NodeRef<H, W>,
    ) -> Result<(), EncodeError> {
        let r = self.sink.node(n);
        self.check(r)
    }

    /// A whole state as a piece (b, L, |M|, own node, leaf-set, table and neighborhood bodies).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn state<H: WireHandle, W: RingWord>(
        &mut self,
        state: &NodeState<H, W>,
    ) -> Result<(), EncodeError> {
        let r = emit_state_piece(&mut self.sink, state);
        self.check(r)
    }

    /// A leaf set as a piece (L, owner id, body).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn leaf_set<H: WireHandle, W: RingWord>(
        &mut self,
        leaf: &LeafSet<H, W>,
    ) -> Result<(), EncodeError> {
        let r = emit_leaf_piece(&mut self.sink, leaf);
        self.check(r)
    }

    /// Row `row` of `table` as a piece (b, owner id, row, body).
    ///
    /// # Errors
    /// [`EncodeError::RowOutOfRange`] when `row` is not below [`RoutingTable::row_count`];
    /// otherwise as [`Encoder::handle`].
    pub fn row<H: WireHandle, W: RingWord>(
        &mut self,
        table: &RoutingTable<H, W>,
        row: Row,
    ) -> Result<(), EncodeError> {
        let r = emit_row_piece(&mut self.sink, table, row);
        self.check(r)
    }

    /// The neighborhood set of the node `own` as a piece (|M|, owner id, body).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn neighborhood<H: WireHandle, W: RingWord>(
        &mut self,
        set: &NeighborhoodSet<H, W>,
        own: W,
    ) -> Result<(), EncodeError> {
        let r = emit_neighborhood_piece(&mut self.sink, set, own);
        self.check(r)
    }

    /// A list of nodes: a 2-byte count, then the nodes.
    ///
    /// # Errors
    /// [`EncodeError::Unsorted`] unless the ids are strictly increasing (the one canonical
    /// order of a set of nodes); [`EncodeError::TooLong`] for more than `u16::MAX` nodes;
    /// otherwise as [`Encoder::handle`].
    pub fn nodes<H: WireHandle, W: RingWord>(
        &mut self,
        nodes: &[NodeRef<H, W>],
    ) -> Result<(), EncodeError> {
        let r = self.list(nodes, |n| n.id, |s, n| s.node(n));
        self.check(r)
    }

    /// A list of ids: a 2-byte count, then the ids.
    ///
    /// # Errors
    /// [`EncodeError::Unsorted`] unless the ids are strictly increasing;
    /// [`EncodeError::TooLong`] for more than `u16::MAX` ids.
    pub fn ids<W: RingWord>(&mut self, ids: &[W]) -> Result<(), EncodeError> {
        let r = self.list(ids, |w| *w, |s, w| s.word(*w));
        self.check(r)
    }

    fn list<T, W: RingWord>(
        &mut self,
        items: &[T],
        id: impl Fn(&T) -> W,
        mut write: impl FnMut(&mut Out<'a>, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let count = u16::try_from(items.len()).map_err(|_| EncodeError::TooLong {
            len: items.len(),
            limit: usize::from(u16::MAX),
        })?;
        if items.windows(2).any(|w| match w {
            [a, b] => id(a) >= id(b),
            _ => false,
        }) {
            return Err(EncodeError::Unsorted);
        }
        self.sink.u16(count)?;
        for item in items {
            write(&mut self.sink, item)?;
        }
        Ok(())
    }
}

/// Reads the fields of a larger message written by an [`Encoder`], with every check of the
/// kernel's decoders: each read is bounds-checked, each piece is checked against every
/// invariant of its type, and errors carry the offset into the whole input.
pub struct Decoder<'a> {
    r: Reader<'a>,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `bytes`.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder {
            r: Reader::new(bytes),
        }
    }

    /// The offset of the next read.
    #[must_use]
    pub fn position(&self) -> usize {
        self.r.pos
    }

    /// The bytes left.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.r.remaining()
    }

    /// One byte.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        self.r.u8()
    }

    /// Two bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.r.u16()
    }

    /// Four bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.r.u32()
    }

    /// Eight bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        put(&mut b, self.r.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    /// The next `n` bytes.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when fewer are left.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.r.take(n)
    }

    /// An id of `W::BITS / 8` bytes.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn word<W: RingWord>(&mut self) -> Result<W, DecodeError> {
        self.r.word()
    }

    /// A handle, canonically encoded.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`], [`DecodeError::BadHandle`] or
    /// [`DecodeError::NonCanonicalHandle`].
    pub fn handle<H: WireHandle>(&mut self) -> Result<H, DecodeError> {
        self.r.handle()
    }

    /// A node: id, then handle.
    ///
    /// # Errors
    /// As [`Decoder::word`] and [`Decoder::handle`].
    pub fn node<H: WireHandle, W: RingWord>(&mut self) -> Result<NodeRef<H, W>, DecodeError> {
        self.r.node()
    }

    /// A state piece ([`Encoder::state`]).
    ///
    /// # Errors
    /// The first rule of the state layout the input breaks.
    pub fn state<H: WireHandle, W: RingWord>(&mut self) -> Result<NodeState<H, W>, DecodeError> {
        read_state_piece(&mut self.r)
    }

    /// A leaf-set piece ([`Encoder::leaf_set`]).
    ///
    /// # Errors
    /// The first rule of the leaf-set layout the input breaks.
    pub fn leaf_set<H: WireHandle, W: RingWord>(&mut self) -> Result<LeafSet<H, W>, DecodeError> {
        read_leaf_piece(&mut self.r)
    }

    /// A row piece ([`Encoder::row`]): the row number and a table of the owner holding only
    /// that row, as [`RoutingTable::decode_row`] returns.
    ///
    /// # Errors
    /// The first rule of the row layout the input breaks.
    pub fn row<H: WireHandle, W: RingWord>(
        &mut self,
    ) -> Result<(Row, RoutingTable<H, W>), DecodeError> {
        read_row_piece(&mut self.r)
    }

    /// A neighborhood piece ([`Encoder::neighborhood`]): the owner's id and the set.
    ///
    /// # Errors
    /// The first rule of the neighborhood layout the input breaks.
    pub fn neighborhood<H: WireHandle, W: RingWord>(
        &mut self,
    ) -> Result<(W, NeighborhoodSet<H, W>), DecodeError> {
        read_neighborhood_piece(&mut self.r)
    }

    /// A list of at most `max` nodes ([`Encoder::nodes`]). Allocates only after the count
    /// has been checked against `max` and against the bytes left.
    ///
    /// # Errors
    /// [`DecodeError::OverLimit`] for a count over `max`, [`DecodeError::Unsorted`] for ids
    /// not strictly increasing, or an error of [`Decoder::node`].
    pub fn nodes<H: WireHandle, W: RingWord>(
        &mut self,
        max: usize,
    ) -> Result<Vec<NodeRef<H, W>>, DecodeError> {
        let count = self.count(max, node_min::<H, W>())?;
        let mut nodes: Vec<NodeRef<H, W>> = Vec::with_capacity(count);
        for _ in 0..count {
            let offset = self.r.pos;
            let n: NodeRef<H, W> = self.r.node()?;
            if nodes.last().is_some_and(|p| p.id >= n.id) {
                return Err(DecodeError::Unsorted { offset });
            }
            nodes.push(n);
        }
        Ok(nodes)
    }

    /// A list of at most `max` ids ([`Encoder::ids`]).
    ///
    /// # Errors
    /// As [`Decoder::nodes`].
    pub fn ids<W: RingWord>(&mut self, max: usize) -> Result<Vec<W>, DecodeError> {
        let count = self.count(max, usize::from(width::<W>()))?;
        let mut ids: Vec<W> = Vec::with_capacity(count);
        for _ in 0..count {
            let offset = self.r.pos;
            let w: W = self.r.word()?;
            if ids.last().is_some_and(|p| *p >= w) {
                return Err(DecodeError::Unsorted { offset });
            }
            ids.push(w);
        }
        Ok(ids)
    }

    /// A 2-byte count of items of at least `min` bytes each, checked against `max` and the
    /// bytes left.
    fn count(&mut self, max: usize, min: usize) -> Result<usize, DecodeError> {
        let offset = self.r.pos;
        let count = usize::from(self.r.u16()?);
        if count > max {
            return Err(DecodeError::OverLimit {
                offset,
                found: count as u64,
                limit: max as u64,
            });
        }
        self.r.room_for(count, min)?;
        Ok(count)
    }

    /// Succeeds when the whole input has been read.
    ///
    /// # Errors
    /// [`DecodeError::TrailingBytes`] when bytes are left.
    pub fn finish(&self) -> Result<(), DecodeError> {
        self.r.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The public entry points
// ---------------------------------------------------------------------------------------------

impl<H: WireHandle, W: RingWord> NodeState<H, W> {
    /// The length of [`NodeState::encode`]'s output.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        Msg::State(self).len()
    }

    /// Encodes the state into `buf` ([module docs](crate::codec) for the layout); returns the
    /// number of bytes written. Does not allocate.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] when `buf` is shorter than [`NodeState::encoded_len`];
    /// [`EncodeError::HandleLength`] for a handle that breaks its [`WireHandle`] bounds. `buf`
    /// is unchanged on error.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        Msg::State(self).encode(buf)
    }

    /// [`NodeState::encode`] into a new vector of exactly the encoded length.
    ///
    /// # Errors
    /// [`EncodeError::HandleLength`] for a handle that breaks its [`WireHandle`] bounds.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        Msg::State(self).to_vec()
    }

    /// Decodes a state written by [`NodeState::encode`], checking every invariant.
    ///
    /// # Errors
    /// The first rule of the layout the input breaks, as a [`DecodeError`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.header::<W>(Kind::State)?;
        let state = read_state_piece(&mut r)?;
        r.finish()?;
        Ok(state)
    }
}

fn read_state_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<NodeState<H, W>, DecodeError> {
    let b = r.digit_width()?;
    let half = r.leaf_half()?;
    let m = r.neighborhood_len()?;
    let config = Config::new(b.bits(), usize::from(half) * 2, usize::from(m))?;
    let own: NodeRef<H, W> = r.node()?;
    let leaf = read_leaf_body(r, own.id, half)?;
    let table = read_table_body(r, own.id, b)?;
    let neighborhood = read_neighborhood_body(r, own.id, m)?;
    let state = NodeState {
        config,
        own,
        leaf,
        table,
        neighborhood,
    };
    state.invariants();
    Ok(state)
}

impl<H: WireHandle, W: RingWord> LeafSet<H, W> {
    /// The length of [`LeafSet::encode`]'s output.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        Msg::LeafSet(self).len()
    }

    /// Encodes the leaf set (with its owner's id and L) into `buf`; returns the number of bytes
    /// written. Does not allocate.
    ///
    /// # Errors
    /// As [`NodeState::encode`]; `buf` is unchanged on error.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        Msg::LeafSet(self).encode(buf)
    }

    /// [`LeafSet::encode`] into a new vector of exactly the encoded length.
    ///
    /// # Errors
    /// As [`NodeState::to_vec`].
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        Msg::LeafSet(self).to_vec()
    }

    /// Decodes a leaf set written by [`LeafSet::encode`], checking every invariant.
    ///
    /// # Errors
    /// The first rule of the layout the input breaks, as a [`DecodeError`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.header::<W>(Kind::LeafSet)?;
        let leaf = read_leaf_piece(&mut r)?;
        r.finish()?;
        Ok(leaf)
    }
}

impl<H: WireHandle, W: RingWord> NeighborhoodSet<H, W> {
    /// The length of [`NeighborhoodSet::encode`]'s output for the owner `own`.
    #[must_use]
    pub fn encoded_len(&self, own: W) -> usize {
        Msg::Neighborhood(self, own).len()
    }

    /// Encodes the set, with its owner's id `own` and |M|, into `buf`; returns the number of
    /// bytes written. Does not allocate. (The set does not store its owner's id; pass the id of
    /// the node it belongs to.)
    ///
    /// # Errors
    /// As [`NodeState::encode`]; `buf` is unchanged on error.
    pub fn encode(&self, own: W, buf: &mut [u8]) -> Result<usize, EncodeError> {
        Msg::Neighborhood(self, own).encode(buf)
    }

    /// [`NeighborhoodSet::encode`] into a new vector of exactly the encoded length.
    ///
    /// # Errors
    /// As [`NodeState::to_vec`].
    pub fn to_vec(&self, own: W) -> Result<Vec<u8>, EncodeError> {
        Msg::Neighborhood(self, own).to_vec()
    }

    /// Decodes a set written by [`NeighborhoodSet::encode`], with its owner's id, checking every
    /// invariant.
    ///
    /// # Errors
    /// The first rule of the layout the input breaks, as a [`DecodeError`].
    pub fn decode(bytes: &[u8]) -> Result<(W, Self), DecodeError> {
        let mut r = Reader::new(bytes);
        r.header::<W>(Kind::Neighborhood)?;
        let piece = read_neighborhood_piece(&mut r)?;
        r.finish()?;
        Ok(piece)
    }
}

impl<H: WireHandle, W: RingWord> RoutingTable<H, W> {
    /// The length of [`RoutingTable::encode_row`]'s output for `row` (0 for a row past
    /// [`RoutingTable::row_count`], which has no encoding).
    #[must_use]
    pub fn encoded_row_len(&self, row: Row) -> usize {
        Msg::Row(self, row).len()
    }

    /// Encodes row `row` (with the owner's id and b) into `buf`, as join and repair messages
    /// carry it; returns the number of bytes written. Does not allocate.
    ///
    /// # Errors
    /// [`EncodeError::RowOutOfRange`] when `row` is not below [`RoutingTable::row_count`];
    /// otherwise as [`NodeState::encode`]. `buf` is unchanged on error.
    pub fn encode_row(&self, row: Row, buf: &mut [u8]) -> Result<usize, EncodeError> {
        Msg::Row(self, row).encode(buf)
    }

    /// [`RoutingTable::encode_row`] into a new vector of exactly the encoded length.
    ///
    /// # Errors
    /// As [`RoutingTable::encode_row`].
    pub fn row_to_vec(&self, row: Row) -> Result<Vec<u8>, EncodeError> {
        Msg::Row(self, row).to_vec()
    }

    /// Decodes a row written by [`RoutingTable::encode_row`], checking every entry's slot and
    /// the column order. Returns the row number and a table of the sender (its owner's id and
    /// b) holding only that row.
    ///
    /// # Errors
    /// The first rule of the layout the input breaks, as a [`DecodeError`].
    pub fn decode_row(bytes: &[u8]) -> Result<(Row, Self), DecodeError> {
        let mut r = Reader::new(bytes);
        r.header::<W>(Kind::TableRow)?;
        let piece = read_row_piece(&mut r)?;
        r.finish()?;
        Ok(piece)
    }
}

fn read_leaf_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<LeafSet<H, W>, DecodeError> {
    let half = r.leaf_half()?;
    let own = r.word()?;
    read_leaf_body(r, own, half)
}

fn read_neighborhood_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<(W, NeighborhoodSet<H, W>), DecodeError> {
    let m = r.neighborhood_len()?;
    let own = r.word()?;
    let set = read_neighborhood_body(r, own, m)?;
    Ok((own, set))
}

fn read_row_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<(Row, RoutingTable<H, W>), DecodeError> {
    let b = r.digit_width()?;
    let own = r.word()?;
    let rows = b.digits::<W>() as usize;
    let row = r.u8()?;
    if usize::from(row) >= rows {
        return Err(DecodeError::RowOutOfRange { row, rows });
    }
    let entries = read_row_body(r, own, b, row)?;
    if entries.is_empty() {
        return Ok((Row(row), RoutingTable::new(own, b)));
    }
    let mut table = RoutingTable::with_row_capacity(own, b, usize::from(row) + 1);
    for _ in 0..row {
        table.push_row(Vec::new());
    }
    table.push_row(entries);
    table.invariants();
    Ok((Row(row), table))
}

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
