//! What encoding and decoding report: [`EncodeError`], [`DecodeError`] and the [`Part`] a
//! decode error is in.

use core::fmt;

use super::{Kind, VERSION};
use crate::config::ConfigError;

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
    /// A handle's [`WireHandle::encoded_len`](crate::codec::WireHandle::encoded_len) is outside `MIN_LEN..=MAX_LEN` (a bug in the
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
    /// A list given to an [`Encoder`](crate::codec::Encoder) is not in strictly increasing id order.
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
/// docs](crate::codec)) that the input breaks. Offsets are byte offsets into the input; indices count
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
    /// The first two bytes are not [`MAGIC`](crate::codec::MAGIC).
    BadMagic,
    /// The format version is not [`VERSION`].
    UnsupportedVersion(u8),
    /// The kind byte is not the kind asked for (`expected`), or no kind at all
    /// (`expected: None`, from [`peek_header`](crate::codec::peek_header)).
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
    /// The handle at `offset` is invalid ([`HandleError::Invalid`](crate::codec::HandleError::Invalid)).
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
    /// A count or value of a [`Decoder`](crate::codec::Decoder) read is over the limit the caller gave.
    OverLimit {
        /// Where the count or value starts.
        offset: usize,
        /// The value found.
        found: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// A list read by [`Decoder`](crate::codec::Decoder) is not in strictly increasing id order (so it holds a
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
