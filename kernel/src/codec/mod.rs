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
//! The codec's properties (`check_decode`, `check_roundtrip` and the functions they use) are in
//! the `fuzzing` module (feature `fuzzing`): the fuzz targets `codec_decode` and
//! `codec_roundtrip` run them (each target is a one-line call) and the tests call them too.
//!
//! # Layout of the module
//! * this file: the constants, [`Kind`], [`peek_header`], the allocation bounds and the entry
//!   points (`encode`, `encoded_len`, `to_vec`, `decode` of each part);
//! * `handle`: [`WireHandle`] and its implementations, [`HandleError`];
//! * `error`: [`EncodeError`], [`DecodeError`], [`Part`];
//! * `write`: the encoder behind every entry point (a byte sink that counts or writes);
//! * `read`: the strict decoder, one function per body;
//! * `embed`: [`Encoder`] and [`Decoder`], the kernel's parts as pieces of a larger message.

mod embed;
mod error;
mod handle;
mod read;
mod write;

pub use embed::{Decoder, Encoder};
pub use error::{DecodeError, EncodeError, Part};
pub use handle::{HandleError, WireHandle};

use read::{read_leaf_piece, read_neighborhood_piece, read_row_piece, read_state_piece, Reader};
use write::Msg;

use alloc::vec::Vec;
use core::fmt;
use core::mem::size_of;

use crate::arith::{DigitWidth, Row};
use crate::config::Config;
use crate::leafset::LeafSet;
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
