//! The messages DHT nodes exchange ([`DhtMessage`]) and their strict, canonical codec.
//!
//! DHT messages travel as the payloads of the node's routed messages: [`DhtMessage::Put`]
//! and [`DhtMessage::Get`] are routed to the key ([`Node::route`](pastry_node::Node::route));
//! every other message goes straight to one node ([`Node::route_to`](pastry_node::Node::route_to),
//! re-routed by that node's id if it does not answer). The sender is the routed message's
//! origin, so no DHT message names it.
//!
//! | message | sent by | answered by |
//! |---|---|---|
//! | [`DhtMessage::Put`] | the writer, routed to the key (a remove is a put of a tombstone) | [`DhtMessage::PutReply`] from the root |
//! | [`DhtMessage::Get`] | the reader, routed to the key | [`DhtMessage::GetReply`] from the root |
//! | [`DhtMessage::Store`] | the root, to each other replica | [`DhtMessage::StoreReply`] |
//! | [`DhtMessage::Fetch`] | the root, to the other replicas when it needs their copies | [`DhtMessage::FetchReply`] |
//! | [`DhtMessage::Summary`] | every replica-set neighbour, each maintenance round | [`DhtMessage::SummaryReply`], and [`DhtMessage::Push`] of newer records |
//! | [`DhtMessage::Push`] | records the receiver wants or holds older | — |
//!
//! # Byte layout (version 1)
//! Integers are big-endian; `w` is the id width in bytes (16 for `Guid`).
//!
//! | field | size | rule |
//! |---|---|---|
//! | magic `50 44` (`"PD"`) | 2 | [`MAGIC`] |
//! | version | 1 | [`VERSION`] |
//! | kind | 1 | a [`DhtKind`] byte |
//! | `w` | 1 | the receiver's id width |
//! | body | | by kind, below; then the input must end |
//!
//! | kind | body |
//! |---|---|
//! | Put, Store | op (8) ‖ record |
//! | PutReply | op (8) ‖ key ‖ stored (1) ‖ full (1) |
//! | Get, Fetch | op (8) ‖ key |
//! | GetReply, FetchReply | op (8) ‖ key ‖ flag (1: 0 or 1) ‖ record if 1, whose key is the key |
//! | StoreReply | op (8) ‖ key ‖ status (1) |
//! | Summary | count (2, at most [`MAX_ENTRIES`]) ‖ (key ‖ version) per entry |
//! | SummaryReply | count (2, at most [`MAX_ENTRIES`]) ‖ (key ‖ version ‖ status) per entry |
//! | Push | count (2, at most [`MAX_ENTRIES`]) ‖ records |
//!
//! A *version* is `time (8) ‖ writer (w)`; a *record* is `key (w) ‖ version ‖ flag (1: 0 a
//! tombstone, 1 a value) ‖ then for a value its length (4, at most the receiver's value cap)
//! and bytes`. The entries of a list are in strictly increasing key order (one canonical
//! encoding; no key twice).
//!
//! Decoding is strict and canonical: every byte string decodes to a typed error or to the
//! one message whose encoding it is (`encode(decode(b)) == b`), and nothing is allocated for
//! a list before its count has been checked against its limit and the bytes left.

use alloc::vec::Vec;
use core::fmt;

use pastry_kernel::codec::{DecodeError, Decoder, EncodeError, Encoder};
use pastry_kernel::{Guid, RingWord};

use crate::record::{Record, Version};

/// The first two bytes of every DHT message: `"PD"`. An application routing its own
/// messages through a [`Dht`](crate::Dht) must not start them with these bytes.
pub const MAGIC: [u8; 2] = *b"PD";
/// The DHT protocol version this crate writes and reads.
pub const VERSION: u8 = 1;
/// The most entries of a summary, summary reply or push.
pub const MAX_ENTRIES: usize = 1024;
/// The bytes a message of one record needs beyond the value: the header, an op id, the
/// record's key, version, flag and length, for ids of up to 16 bytes.
pub const RECORD_OVERHEAD: usize = 5 + 8 + 16 + 8 + 16 + 1 + 4;

/// What a replica says about a record it was offered or sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[repr(u8)]
pub enum Status {
    /// It stored the record (it was new or newer).
    Stored = 0,
    /// It already holds this version or a newer one.
    Have = 1,
    /// It is responsible for the key and holds no copy or an older one: send it.
    Want = 2,
    /// It is not among the key's replicas, in its view.
    NotMine = 3,
    /// Its store is full: it cannot take a new key.
    Full = 4,
}

impl Status {
    fn from_byte(b: u8) -> Option<Status> {
        [
            Status::Stored,
            Status::Have,
            Status::Want,
            Status::NotMine,
            Status::Full,
        ]
        .get(usize::from(b))
        .copied()
    }

    /// Whether the replica holds the version it was offered, or a newer one.
    #[must_use]
    pub fn holds(self) -> bool {
        matches!(self, Status::Stored | Status::Have)
    }
}

/// A message between DHT nodes (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum DhtMessage<W = Guid> {
    /// Store this record on the key's replicas (routed to the key; the root coordinates).
    Put {
        /// The writer's number for the operation.
        op: u64,
        /// The value or tombstone.
        record: Record<W>,
    },
    /// The root's answer to a put: how many replicas hold it, and how many were full.
    PutReply {
        /// The writer's number.
        op: u64,
        /// The key.
        key: W,
        /// Replicas that hold the version or a newer one, the root included.
        stored: u8,
        /// Replicas whose store was full.
        full: u8,
    },
    /// Read the key (routed to the key; the root answers).
    Get {
        /// The reader's number.
        op: u64,
        /// The key.
        key: W,
    },
    /// The root's answer to a get: the newest record among the replies it waited for.
    GetReply {
        /// The reader's number.
        op: u64,
        /// The key.
        key: W,
        /// The newest record found, if any.
        record: Option<Record<W>>,
    },
    /// The root asks a replica to store a record.
    Store {
        /// The root's number for the coordination.
        op: u64,
        /// The record.
        record: Record<W>,
    },
    /// A replica's answer to a store.
    StoreReply {
        /// The root's number.
        op: u64,
        /// The key.
        key: W,
        /// What the replica did.
        status: Status,
    },
    /// The root asks a replica for its copy.
    Fetch {
        /// The root's number for the coordination.
        op: u64,
        /// The key.
        key: W,
    },
    /// A replica's copy.
    FetchReply {
        /// The root's number.
        op: u64,
        /// The key.
        key: W,
        /// Its record, if it holds one.
        record: Option<Record<W>>,
    },
    /// What the sender holds of the keys it shares with the receiver (a page of them).
    Summary {
        /// Keys and versions, in increasing key order.
        entries: Vec<(W, Version<W>)>,
    },
    /// What the receiver of a summary holds of each entry.
    SummaryReply {
        /// The summary's keys and versions with the receiver's status, in increasing key
        /// order.
        entries: Vec<(W, Version<W>, Status)>,
    },
    /// Records for the receiver: ones it wants, or newer than the ones it offered.
    Push {
        /// The records, in increasing key order.
        records: Vec<Record<W>>,
    },
}

/// The kind of a [`DhtMessage`], one byte on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum DhtKind {
    /// [`DhtMessage::Put`].
    Put = 1,
    /// [`DhtMessage::PutReply`].
    PutReply = 2,
    /// [`DhtMessage::Get`].
    Get = 3,
    /// [`DhtMessage::GetReply`].
    GetReply = 4,
    /// [`DhtMessage::Store`].
    Store = 5,
    /// [`DhtMessage::StoreReply`].
    StoreReply = 6,
    /// [`DhtMessage::Fetch`].
    Fetch = 7,
    /// [`DhtMessage::FetchReply`].
    FetchReply = 8,
    /// [`DhtMessage::Summary`].
    Summary = 9,
    /// [`DhtMessage::SummaryReply`].
    SummaryReply = 10,
    /// [`DhtMessage::Push`].
    Push = 11,
}

impl DhtKind {
    /// Every kind, in byte order.
    pub const ALL: [DhtKind; 11] = [
        DhtKind::Put,
        DhtKind::PutReply,
        DhtKind::Get,
        DhtKind::GetReply,
        DhtKind::Store,
        DhtKind::StoreReply,
        DhtKind::Fetch,
        DhtKind::FetchReply,
        DhtKind::Summary,
        DhtKind::SummaryReply,
        DhtKind::Push,
    ];

    /// The kind with this byte.
    #[must_use]
    pub fn from_byte(b: u8) -> Option<DhtKind> {
        DhtKind::ALL.get(usize::from(b).checked_sub(1)?).copied()
    }

    /// A zero-based index, for tables of counters.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize - 1
    }

    /// Whether messages of this kind are replica maintenance rather than the callers'
    /// operations.
    #[must_use]
    pub const fn is_maintenance(self) -> bool {
        matches!(
            self,
            DhtKind::Summary | DhtKind::SummaryReply | DhtKind::Push
        )
    }
}

impl<W> DhtMessage<W> {
    /// The kind of this message.
    #[must_use]
    pub fn kind(&self) -> DhtKind {
        match self {
            DhtMessage::Put { .. } => DhtKind::Put,
            DhtMessage::PutReply { .. } => DhtKind::PutReply,
            DhtMessage::Get { .. } => DhtKind::Get,
            DhtMessage::GetReply { .. } => DhtKind::GetReply,
            DhtMessage::Store { .. } => DhtKind::Store,
            DhtMessage::StoreReply { .. } => DhtKind::StoreReply,
            DhtMessage::Fetch { .. } => DhtKind::Fetch,
            DhtMessage::FetchReply { .. } => DhtKind::FetchReply,
            DhtMessage::Summary { .. } => DhtKind::Summary,
            DhtMessage::SummaryReply { .. } => DhtKind::SummaryReply,
            DhtMessage::Push { .. } => DhtKind::Push,
        }
    }
}

/// Why a message could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhtEncodeError {
    /// A field could not be written (a full buffer).
    Part(EncodeError),
    /// A value is over the cap given.
    ValueTooLarge {
        /// The value's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A list is over [`MAX_ENTRIES`] or its keys are not strictly increasing.
    BadList,
    /// A reply's record is for another key than the reply's.
    WrongKey,
}

impl From<EncodeError> for DhtEncodeError {
    fn from(e: EncodeError) -> Self {
        DhtEncodeError::Part(e)
    }
}

impl fmt::Display for DhtEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhtEncodeError::Part(e) => write!(f, "cannot encode a field: {e}"),
            DhtEncodeError::ValueTooLarge { len, max } => {
                write!(f, "a value of {len} bytes is over the cap of {max}")
            }
            DhtEncodeError::BadList => {
                f.write_str("a list is over its limit or its keys are not strictly increasing")
            }
            DhtEncodeError::WrongKey => f.write_str("a reply's record is for another key"),
        }
    }
}

impl core::error::Error for DhtEncodeError {}

/// Why bytes are not a DHT message: the first rule of the layout they break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhtDecodeError {
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// The version is not [`VERSION`].
    UnsupportedVersion(u8),
    /// The kind byte is no [`DhtKind`].
    UnknownKind(u8),
    /// The id width is not the receiver's.
    IdWidth {
        /// The receiver's width in bytes.
        expected: u8,
        /// The width in the header.
        found: u8,
    },
    /// A field is truncated, or bytes follow the message (offsets into the whole input).
    Part(DecodeError),
    /// A flag byte is neither 0 nor 1.
    BadFlag {
        /// Where it is.
        offset: usize,
    },
    /// A status byte is no [`Status`].
    BadStatus {
        /// Where it is.
        offset: usize,
    },
    /// A value is over the receiver's cap.
    ValueTooLarge {
        /// The length field.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A count is over [`MAX_ENTRIES`].
    TooMany {
        /// Where the count is.
        offset: usize,
        /// The count.
        count: usize,
    },
    /// A list's keys are not strictly increasing.
    Unsorted {
        /// Where the out-of-order entry starts.
        offset: usize,
    },
    /// A reply's record is for another key than the reply's.
    WrongKey {
        /// Where the record starts.
        offset: usize,
    },
}

impl From<DecodeError> for DhtDecodeError {
    fn from(e: DecodeError) -> Self {
        DhtDecodeError::Part(e)
    }
}

impl fmt::Display for DhtDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhtDecodeError::BadMagic => f.write_str("not a pastry-dht message (bad magic)"),
            DhtDecodeError::UnsupportedVersion(v) => {
                write!(f, "DHT version {v} is not supported (this is {VERSION})")
            }
            DhtDecodeError::UnknownKind(k) => write!(f, "unknown DHT message kind {k}"),
            DhtDecodeError::IdWidth { expected, found } => {
                write!(f, "ids of {found} bytes, expected {expected}")
            }
            DhtDecodeError::Part(e) => write!(f, "{e}"),
            DhtDecodeError::BadFlag { offset } => {
                write!(f, "the flag at byte {offset} is neither 0 nor 1")
            }
            DhtDecodeError::BadStatus { offset } => {
                write!(f, "the status at byte {offset} is unknown")
            }
            DhtDecodeError::ValueTooLarge { len, max } => {
                write!(f, "a value of {len} bytes is over the cap of {max}")
            }
            DhtDecodeError::TooMany { offset, count } => write!(
                f,
                "the count {count} at byte {offset} is over the limit {MAX_ENTRIES}"
            ),
            DhtDecodeError::Unsorted { offset } => {
                write!(f, "the entry at byte {offset} is not after the one before")
            }
            DhtDecodeError::WrongKey { offset } => {
                write!(f, "the record at byte {offset} is for another key")
            }
        }
    }
}

impl core::error::Error for DhtDecodeError {}

/// The id width in bytes.
#[allow(clippy::cast_possible_truncation)] // BITS <= 128
fn width<W: RingWord>() -> u8 {
    (W::BITS / 8) as u8
}

/// Whether `payload` claims to be a DHT message (starts with [`MAGIC`]).
#[must_use]
pub fn is_dht_payload(payload: &[u8]) -> bool {
    payload.starts_with(&MAGIC)
}

impl<W: RingWord> DhtMessage<W> {
    /// The encoding in a new vector; values over `max_value` are refused.
    ///
    /// # Errors
    /// [`DhtEncodeError::ValueTooLarge`], [`DhtEncodeError::BadList`] or
    /// [`DhtEncodeError::WrongKey`].
    pub fn to_vec(&self, max_value: usize) -> Result<Vec<u8>, DhtEncodeError> {
        let mut c = Encoder::counter();
        self.emit(&mut c, max_value)?;
        let mut out = Vec::with_capacity(c.written());
        self.emit(&mut Encoder::new(&mut out), max_value)?;
        Ok(out)
    }

    /// The length of the encoding (of a message that can be encoded).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let mut c = Encoder::counter();
        let _ = self.emit(&mut c, usize::MAX);
        c.written()
    }

    fn emit(&self, e: &mut Encoder<'_>, max_value: usize) -> Result<(), DhtEncodeError> {
        e.bytes(&MAGIC)?;
        e.u8(VERSION)?;
        e.u8(self.kind() as u8)?;
        e.u8(width::<W>())?;
        match self {
            DhtMessage::Put { op, record } | DhtMessage::Store { op, record } => {
                e.u64(*op)?;
                emit_record(e, record, max_value)?;
            }
            DhtMessage::PutReply {
                op,
                key,
                stored,
                full,
            } => {
                e.u64(*op)?;
                e.word(*key)?;
                e.u8(*stored)?;
                e.u8(*full)?;
            }
            DhtMessage::Get { op, key } | DhtMessage::Fetch { op, key } => {
                e.u64(*op)?;
                e.word(*key)?;
            }
            DhtMessage::GetReply { op, key, record }
            | DhtMessage::FetchReply { op, key, record } => {
                e.u64(*op)?;
                e.word(*key)?;
                match record {
                    None => e.u8(0)?,
                    Some(r) => {
                        if r.key != *key {
                            return Err(DhtEncodeError::WrongKey);
                        }
                        e.u8(1)?;
                        emit_record(e, r, max_value)?;
                    }
                }
            }
            DhtMessage::StoreReply { op, key, status } => {
                e.u64(*op)?;
                e.word(*key)?;
                e.u8(*status as u8)?;
            }
            DhtMessage::Summary { entries } => {
                emit_count(
                    e,
                    entries.len(),
                    entries.windows(2).all(|w| sorted(w, |x| x.0)),
                )?;
                for (k, v) in entries {
                    e.word(*k)?;
                    emit_version(e, v)?;
                }
            }
            DhtMessage::SummaryReply { entries } => {
                emit_count(
                    e,
                    entries.len(),
                    entries.windows(2).all(|w| sorted(w, |x| x.0)),
                )?;
                for (k, v, s) in entries {
                    e.word(*k)?;
                    emit_version(e, v)?;
                    e.u8(*s as u8)?;
                }
            }
            DhtMessage::Push { records } => {
                emit_count(
                    e,
                    records.len(),
                    records.windows(2).all(|w| sorted(w, |x| x.key)),
                )?;
                for r in records {
                    emit_record(e, r, max_value)?;
                }
            }
        }
        Ok(())
    }

    /// Decodes a message, refusing values over `max_value`.
    ///
    /// # Errors
    /// The first rule of the layout (see the [module docs](self)) the input breaks.
    pub fn decode(bytes: &[u8], max_value: usize) -> Result<Self, DhtDecodeError> {
        let mut d = Decoder::new(bytes);
        if d.bytes(2)? != MAGIC {
            return Err(DhtDecodeError::BadMagic);
        }
        let version = d.u8()?;
        if version != VERSION {
            return Err(DhtDecodeError::UnsupportedVersion(version));
        }
        let k = d.u8()?;
        let kind = DhtKind::from_byte(k).ok_or(DhtDecodeError::UnknownKind(k))?;
        let found = d.u8()?;
        if found != width::<W>() {
            return Err(DhtDecodeError::IdWidth {
                expected: width::<W>(),
                found,
            });
        }
        let m = match kind {
            DhtKind::Put | DhtKind::Store => {
                let op = d.u64()?;
                let record = read_record(&mut d, max_value)?;
                if kind == DhtKind::Put {
                    DhtMessage::Put { op, record }
                } else {
                    DhtMessage::Store { op, record }
                }
            }
            DhtKind::PutReply => DhtMessage::PutReply {
                op: d.u64()?,
                key: d.word()?,
                stored: d.u8()?,
                full: d.u8()?,
            },
            DhtKind::Get | DhtKind::Fetch => {
                let op = d.u64()?;
                let key = d.word()?;
                if kind == DhtKind::Get {
                    DhtMessage::Get { op, key }
                } else {
                    DhtMessage::Fetch { op, key }
                }
            }
            DhtKind::GetReply | DhtKind::FetchReply => {
                let op = d.u64()?;
                let key: W = d.word()?;
                let at = d.position();
                let record = match d.u8()? {
                    0 => None,
                    1 => {
                        let start = d.position();
                        let r = read_record(&mut d, max_value)?;
                        if r.key != key {
                            return Err(DhtDecodeError::WrongKey { offset: start });
                        }
                        Some(r)
                    }
                    _ => return Err(DhtDecodeError::BadFlag { offset: at }),
                };
                if kind == DhtKind::GetReply {
                    DhtMessage::GetReply { op, key, record }
                } else {
                    DhtMessage::FetchReply { op, key, record }
                }
            }
            DhtKind::StoreReply => DhtMessage::StoreReply {
                op: d.u64()?,
                key: d.word()?,
                status: read_status(&mut d)?,
            },
            DhtKind::Summary => {
                let count = read_count(&mut d, 2 * usize::from(width::<W>()) + 8)?;
                let mut entries: Vec<(W, Version<W>)> = Vec::with_capacity(count);
                for _ in 0..count {
                    let at = d.position();
                    let key: W = d.word()?;
                    if entries.last().is_some_and(|p| p.0 >= key) {
                        return Err(DhtDecodeError::Unsorted { offset: at });
                    }
                    entries.push((key, read_version(&mut d)?));
                }
                DhtMessage::Summary { entries }
            }
            DhtKind::SummaryReply => {
                let count = read_count(&mut d, 2 * usize::from(width::<W>()) + 9)?;
                let mut entries: Vec<(W, Version<W>, Status)> = Vec::with_capacity(count);
                for _ in 0..count {
                    let at = d.position();
                    let key: W = d.word()?;
                    if entries.last().is_some_and(|p| p.0 >= key) {
                        return Err(DhtDecodeError::Unsorted { offset: at });
                    }
                    let v = read_version(&mut d)?;
                    entries.push((key, v, read_status(&mut d)?));
                }
                DhtMessage::SummaryReply { entries }
            }
            DhtKind::Push => {
                let count = read_count(&mut d, 2 * usize::from(width::<W>()) + 9)?;
                let mut records: Vec<Record<W>> = Vec::with_capacity(count);
                for _ in 0..count {
                    let at = d.position();
                    let r = read_record(&mut d, max_value)?;
                    if records.last().is_some_and(|p| p.key >= r.key) {
                        return Err(DhtDecodeError::Unsorted { offset: at });
                    }
                    records.push(r);
                }
                DhtMessage::Push { records }
            }
        };
        d.finish()?;
        Ok(m)
    }
}

fn sorted<T, W: Ord>(w: &[T], key: impl Fn(&T) -> W) -> bool {
    match w {
        [a, b] => key(a) < key(b),
        _ => true,
    }
}

fn emit_count(e: &mut Encoder<'_>, len: usize, sorted: bool) -> Result<(), DhtEncodeError> {
    if len > MAX_ENTRIES || !sorted {
        return Err(DhtEncodeError::BadList);
    }
    #[allow(clippy::cast_possible_truncation)] // at most MAX_ENTRIES
    e.u16(len as u16)?;
    Ok(())
}

fn emit_version<W: RingWord>(e: &mut Encoder<'_>, v: &Version<W>) -> Result<(), DhtEncodeError> {
    e.u64(v.time)?;
    e.word(v.writer)?;
    Ok(())
}

fn emit_record<W: RingWord>(
    e: &mut Encoder<'_>,
    r: &Record<W>,
    max_value: usize,
) -> Result<(), DhtEncodeError> {
    e.word(r.key)?;
    emit_version(e, &r.version)?;
    match &r.value {
        None => e.u8(0)?,
        Some(v) => {
            let len = u32::try_from(v.len())
                .ok()
                .filter(|_| v.len() <= max_value)
                .ok_or(DhtEncodeError::ValueTooLarge {
                    len: v.len(),
                    max: max_value,
                })?;
            e.u8(1)?;
            e.u32(len)?;
            e.bytes(v)?;
        }
    }
    Ok(())
}

fn read_version<W: RingWord>(d: &mut Decoder<'_>) -> Result<Version<W>, DhtDecodeError> {
    Ok(Version {
        time: d.u64()?,
        writer: d.word()?,
    })
}

fn read_status(d: &mut Decoder<'_>) -> Result<Status, DhtDecodeError> {
    let at = d.position();
    Status::from_byte(d.u8()?).ok_or(DhtDecodeError::BadStatus { offset: at })
}

fn read_record<W: RingWord>(
    d: &mut Decoder<'_>,
    max_value: usize,
) -> Result<Record<W>, DhtDecodeError> {
    let key = d.word()?;
    let version = read_version(d)?;
    let at = d.position();
    let value = match d.u8()? {
        0 => None,
        1 => {
            let len = d.u32()? as usize;
            if len > max_value {
                return Err(DhtDecodeError::ValueTooLarge {
                    len,
                    max: max_value,
                });
            }
            Some(d.bytes(len)?.to_vec())
        }
        _ => return Err(DhtDecodeError::BadFlag { offset: at }),
    };
    Ok(Record {
        key,
        version,
        value,
    })
}

/// A 2-byte count of items of at least `min` bytes, checked against [`MAX_ENTRIES`] and
/// against the bytes left (so nothing is allocated for a count the input cannot hold).
fn read_count(d: &mut Decoder<'_>, min: usize) -> Result<usize, DhtDecodeError> {
    let at = d.position();
    let count = usize::from(d.u16()?);
    if count > MAX_ENTRIES {
        return Err(DhtDecodeError::TooMany { offset: at, count });
    }
    if count.saturating_mul(min) > d.remaining() {
        return Err(DecodeError::Truncated { offset: at }.into());
    }
    Ok(count)
}
