//! The wire format of [`Message`]: versioned, strict and canonical.
//!
//! * **Strict.** Decoding checks every field, and every kernel part inside a message (leaf sets,
//!   rows, neighborhood sets, states) against every invariant of its type; the first rule
//!   broken is a typed error with the byte offset where it was found.
//! * **Canonical.** Every byte string decodes to a typed error or to the one message whose
//!   encoding it is: `encode(decode(b)) == b` whenever `decode(b)` succeeds, and
//!   `decode(encode(m)) == m` for every message.
//! * **Bounded.** Nothing is allocated for a list before its count has been checked against
//!   its limit and against the bytes left.
//!
//! # Byte layout (protocol version 1)
//! Integers are big-endian; `w` is the id width in bytes (16 for `Guid`); a *node* is an id and
//! a handle ([`WireHandle`]); *pieces* are the kernel's parts without their own header
//! ([`pastry_kernel::codec::Encoder`]: leaf set, row, neighborhood set, state, id list).
//!
//! | field | size | rule |
//! |---|---|---|
//! | magic `50 4e` (`"PN"`) | 2 | [`MAGIC`] |
//! | version | 1 | [`VERSION`] |
//! | kind | 1 | a [`Kind`] byte |
//! | `w` | 1 | the receiver's id width |
//! | sender | node | |
//! | id | 8 | |
//! | body | | by kind, below; then the input must end |
//!
//! | kind | body |
//! |---|---|
//! | JoinRequest | routed envelope, gather |
//! | JoinReply | gather, leaf-set piece (owner: the route's last node) |
//! | JoinBusy, NeighborhoodRequest, Ack, Ping, Pong | nothing |
//! | LeafProbe, LeafProbeReply, Heartbeat | leaf-set piece (owner: the sender), active flag (1: 0 or 1), failed ids (id list, at most [`MAX_FAILED`]) |
//! | RowRequest | row (1) |
//! | RowReply | row piece (owner: the sender) |
//! | NeighborhoodReply | neighborhood piece (owner: the sender) |
//! | StateAnnounce | state piece (own node: the sender) |
//! | Route | routed envelope, payload length (4), payload |
//! | Leave | leaf-set piece (owner: the sender) |
//!
//! The routed envelope is `key (w) ‖ origin node ‖ seq (8) ‖ hops (1)`. A gather is
//! `route count (1, at most [`MAX_ROUTE`]) ‖ route nodes ‖ next row (1) ‖ row count (1) ‖ row
//! pieces ‖ neighborhood flag (1: 0 or 1) ‖ neighborhood piece if the flag is 1`.
//!
//! Owner rules keep the format canonical: a piece whose owner is implied by the message (the
//! sender, the root) must name that owner, else [`MessageDecodeError::WrongOwner`].

use alloc::vec::Vec;
use core::fmt;

use pastry_kernel::codec::{DecodeError, Decoder, EncodeError, Encoder, WireHandle};
use pastry_kernel::{NodeRef, RingWord, Row};

use crate::message::{Body, JoinGather, JoinReply, Kind, LeafInfo, Message, Routed, MAX_PAYLOAD};

/// The first two bytes of every message: `"PN"`.
pub const MAGIC: [u8; 2] = *b"PN";
/// The protocol version this crate writes and reads.
pub const VERSION: u8 = 1;
/// The most nodes a join request's route may list.
pub const MAX_ROUTE: usize = 64;
/// The most failed ids a leaf-set message may list.
pub const MAX_FAILED: usize = 255;

/// Why a message could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageEncodeError {
    /// A kernel part or a handle could not be encoded.
    Part(EncodeError),
    /// The payload is larger than the cap (the node's, or [`MAX_PAYLOAD`]).
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A list is over its limit ([`MAX_ROUTE`] route nodes, 255 rows, [`MAX_FAILED`] failed
    /// ids), or the failed ids are not strictly increasing.
    BadList(&'static str),
}

impl From<EncodeError> for MessageEncodeError {
    fn from(e: EncodeError) -> Self {
        MessageEncodeError::Part(e)
    }
}

impl fmt::Display for MessageEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageEncodeError::Part(e) => write!(f, "cannot encode a part: {e}"),
            MessageEncodeError::PayloadTooLarge { len, max } => {
                write!(f, "the payload of {len} bytes is over the cap of {max}")
            }
            MessageEncodeError::BadList(what) => {
                write!(f, "the list of {what} is over its limit or out of order")
            }
        }
    }
}

impl core::error::Error for MessageEncodeError {}

/// Why bytes are not a message: the first rule of the layout they break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageDecodeError {
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// The version is not [`VERSION`].
    UnsupportedVersion(u8),
    /// The kind byte is no [`Kind`].
    UnknownKind(u8),
    /// The id width is not the receiver's.
    IdWidth {
        /// The receiver's width in bytes.
        expected: u8,
        /// The width in the header.
        found: u8,
    },
    /// A field or a kernel part breaks a rule of the kernel's codec (offsets are into the
    /// whole message).
    Part(DecodeError),
    /// A flag byte is neither 0 nor 1.
    BadFlag {
        /// Where it is.
        offset: usize,
    },
    /// A piece names another owner than the message implies.
    WrongOwner {
        /// Where the piece starts.
        offset: usize,
    },
    /// The payload is over the receiver's cap.
    PayloadTooLarge {
        /// The length field.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A count is over its limit.
    TooMany {
        /// Where the count is.
        offset: usize,
        /// The count.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

impl From<DecodeError> for MessageDecodeError {
    fn from(e: DecodeError) -> Self {
        MessageDecodeError::Part(e)
    }
}

impl fmt::Display for MessageDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageDecodeError::BadMagic => f.write_str("not a pastry-node message (bad magic)"),
            MessageDecodeError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "protocol version {v} is not supported (this is {VERSION})"
                )
            }
            MessageDecodeError::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            MessageDecodeError::IdWidth { expected, found } => {
                write!(f, "ids of {found} bytes, expected {expected}")
            }
            MessageDecodeError::Part(e) => write!(f, "{e}"),
            MessageDecodeError::BadFlag { offset } => {
                write!(f, "the flag at byte {offset} is neither 0 nor 1")
            }
            MessageDecodeError::WrongOwner { offset } => {
                write!(
                    f,
                    "the part at byte {offset} belongs to another node than the message implies"
                )
            }
            MessageDecodeError::PayloadTooLarge { len, max } => {
                write!(f, "a payload of {len} bytes is over the cap of {max}")
            }
            MessageDecodeError::TooMany {
                offset,
                count,
                limit,
            } => write!(
                f,
                "the count {count} at byte {offset} is over the limit {limit}"
            ),
        }
    }
}

impl core::error::Error for MessageDecodeError {}

/// The id width in bytes.
#[allow(clippy::cast_possible_truncation)] // BITS <= 128
fn width<W: RingWord>() -> u8 {
    (W::BITS / 8) as u8
}

impl<H: WireHandle, W: RingWord> Message<H, W> {
    /// Appends the encoding to `out`; payloads over `max_payload` (and over [`MAX_PAYLOAD`])
    /// are refused. On an error `out` is as it was.
    ///
    /// # Errors
    /// [`MessageEncodeError::PayloadTooLarge`], or a part that cannot be encoded.
    pub fn encode(&self, out: &mut Vec<u8>, max_payload: usize) -> Result<(), MessageEncodeError> {
        let start = out.len();
        let r = self.emit(&mut Encoder::new(out), max_payload);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// The encoding in a new vector.
    ///
    /// # Errors
    /// As [`Message::encode`].
    pub fn to_vec(&self, max_payload: usize) -> Result<Vec<u8>, MessageEncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out, max_payload)?;
        Ok(out)
    }

    /// Writes the encoding into the caller's `buf`, allocating nothing; returns its length.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] (as [`MessageEncodeError::Part`]) when `buf` is shorter
    /// than [`Message::encoded_len`] (nothing is written then), or as [`Message::encode`].
    pub fn encode_into(
        &self,
        buf: &mut [u8],
        max_payload: usize,
    ) -> Result<usize, MessageEncodeError> {
        let needed = self.encoded_len();
        if needed > buf.len() {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: buf.len(),
            }
            .into());
        }
        let mut e = Encoder::slice(buf);
        self.emit(&mut e, max_payload)?;
        Ok(e.written())
    }

    /// The length of the encoding (of a message that can be encoded).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let mut c = Encoder::counter();
        // A counting encoder fails only where a real one would; the length is then unused.
        let _ = self.emit(&mut c, usize::MAX);
        c.written()
    }

    fn emit(&self, e: &mut Encoder<'_>, max_payload: usize) -> Result<(), MessageEncodeError> {
        e.bytes(&MAGIC)?;
        e.u8(VERSION)?;
        e.u8(self.body.kind().to_byte())?;
        e.u8(width::<W>())?;
        e.node(&self.from)?;
        e.u64(self.id)?;
        match &self.body {
            Body::JoinRequest(r) => {
                emit_envelope(e, r)?;
                emit_gather(e, &r.body)?;
            }
            Body::JoinReply(reply) => {
                emit_gather(e, &reply.gather)?;
                e.leaf_set(&reply.leaf_set)?;
            }
            Body::JoinBusy | Body::NeighborhoodRequest | Body::Ack | Body::Ping | Body::Pong => {}
            Body::LeafProbe(info) | Body::LeafProbeReply(info) | Body::Heartbeat(info) => {
                e.leaf_set(&info.leaf_set)?;
                e.u8(u8::from(info.active))?;
                if info.failed.len() > MAX_FAILED {
                    return Err(MessageEncodeError::BadList("failed ids"));
                }
                e.ids(&info.failed)
                    .map_err(|_| MessageEncodeError::BadList("failed ids"))?;
            }
            Body::RowRequest(row) => e.u8(row.0)?,
            Body::RowReply(row, table) => e.row(table, *row)?,
            Body::NeighborhoodReply(set) => e.neighborhood(set, self.from.id)?,
            Body::StateAnnounce(state) => e.state(state)?,
            Body::Route(r) => {
                let max = max_payload.min(MAX_PAYLOAD);
                if r.body.len() > max {
                    return Err(MessageEncodeError::PayloadTooLarge {
                        len: r.body.len(),
                        max,
                    });
                }
                emit_envelope(e, r)?;
                #[allow(clippy::cast_possible_truncation)] // at most MAX_PAYLOAD < 2^32
                e.u32(r.body.len() as u32)?;
                e.bytes(&r.body)?;
            }
            Body::Leave(leaf) => e.leaf_set(leaf)?,
        }
        Ok(())
    }

    /// Decodes a message, refusing payloads over `max_payload` (and over [`MAX_PAYLOAD`]).
    ///
    /// # Errors
    /// The first rule of the message layout that the input breaks.
    pub fn decode(bytes: &[u8], max_payload: usize) -> Result<Self, MessageDecodeError> {
        let mut d = Decoder::new(bytes);
        if d.bytes(2)? != MAGIC {
            return Err(MessageDecodeError::BadMagic);
        }
        let version = d.u8()?;
        if version != VERSION {
            return Err(MessageDecodeError::UnsupportedVersion(version));
        }
        let k = d.u8()?;
        let kind = Kind::from_byte(k).ok_or(MessageDecodeError::UnknownKind(k))?;
        let found = d.u8()?;
        if found != width::<W>() {
            return Err(MessageDecodeError::IdWidth {
                expected: width::<W>(),
                found,
            });
        }
        let from: NodeRef<H, W> = d.node()?;
        let id = d.u64()?;
        let body = match kind {
            Kind::JoinRequest => {
                let (key, origin, seq, hops) = read_envelope(&mut d)?;
                let body = read_gather(&mut d)?;
                Body::JoinRequest(Routed {
                    key,
                    origin,
                    seq,
                    hops,
                    body,
                })
            }
            Kind::JoinReply => {
                let gather = read_gather(&mut d)?;
                let at = d.position();
                let leaf_set = d.leaf_set()?;
                if gather.route.last().map(|n| n.id) != Some(leaf_set.own()) {
                    return Err(MessageDecodeError::WrongOwner { offset: at });
                }
                Body::JoinReply(JoinReply { gather, leaf_set })
            }
            Kind::JoinBusy => Body::JoinBusy,
            Kind::LeafProbe | Kind::LeafProbeReply | Kind::Heartbeat => {
                let info = read_leaf_info(&mut d, from.id)?;
                match kind {
                    Kind::LeafProbe => Body::LeafProbe(info),
                    Kind::LeafProbeReply => Body::LeafProbeReply(info),
                    _ => Body::Heartbeat(info),
                }
            }
            Kind::RowRequest => Body::RowRequest(Row(d.u8()?)),
            Kind::RowReply => {
                let at = d.position();
                let (row, table) = d.row()?;
                if table.own() != from.id {
                    return Err(MessageDecodeError::WrongOwner { offset: at });
                }
                Body::RowReply(row, table)
            }
            Kind::NeighborhoodRequest => Body::NeighborhoodRequest,
            Kind::NeighborhoodReply => {
                let at = d.position();
                let (owner, set) = d.neighborhood()?;
                if owner != from.id {
                    return Err(MessageDecodeError::WrongOwner { offset: at });
                }
                Body::NeighborhoodReply(set)
            }
            Kind::StateAnnounce => {
                let at = d.position();
                let state = d.state()?;
                if state.own().id != from.id {
                    return Err(MessageDecodeError::WrongOwner { offset: at });
                }
                Body::StateAnnounce(state)
            }
            Kind::Route => {
                let (key, origin, seq, hops) = read_envelope(&mut d)?;
                let len = d.u32()? as usize;
                let max = max_payload.min(MAX_PAYLOAD);
                if len > max {
                    return Err(MessageDecodeError::PayloadTooLarge { len, max });
                }
                let body = d.bytes(len)?.to_vec();
                Body::Route(Routed {
                    key,
                    origin,
                    seq,
                    hops,
                    body,
                })
            }
            Kind::Ack => Body::Ack,
            Kind::Ping => Body::Ping,
            Kind::Pong => Body::Pong,
            Kind::Leave => {
                let at = d.position();
                let leaf = d.leaf_set()?;
                if leaf.own() != from.id {
                    return Err(MessageDecodeError::WrongOwner { offset: at });
                }
                Body::Leave(leaf)
            }
        };
        d.finish()?;
        Ok(Message { from, id, body })
    }
}

fn emit_envelope<T, H: WireHandle, W: RingWord>(
    e: &mut Encoder<'_>,
    r: &Routed<T, H, W>,
) -> Result<(), MessageEncodeError> {
    e.word(r.key)?;
    e.node(&r.origin)?;
    e.u64(r.seq)?;
    e.u8(r.hops)?;
    Ok(())
}

#[allow(clippy::type_complexity)]
fn read_envelope<H: WireHandle, W: RingWord>(
    d: &mut Decoder<'_>,
) -> Result<(W, NodeRef<H, W>, u64, u8), MessageDecodeError> {
    let key = d.word()?;
    let origin = d.node()?;
    let seq = d.u64()?;
    let hops = d.u8()?;
    Ok((key, origin, seq, hops))
}

fn emit_gather<H: WireHandle, W: RingWord>(
    e: &mut Encoder<'_>,
    g: &JoinGather<H, W>,
) -> Result<(), MessageEncodeError> {
    let route = u8::try_from(g.route.len())
        .ok()
        .filter(|n| usize::from(*n) <= MAX_ROUTE)
        .ok_or(MessageEncodeError::BadList("route nodes"))?;
    e.u8(route)?;
    for n in &g.route {
        e.node(n)?;
    }
    e.u8(g.next_row)?;
    let rows = u8::try_from(g.rows.len()).map_err(|_| MessageEncodeError::BadList("rows"))?;
    e.u8(rows)?;
    for (row, table) in &g.rows {
        e.row(table, *row)?;
    }
    match &g.neighborhood {
        None => e.u8(0)?,
        Some(set) => {
            e.u8(1)?;
            let owner = g
                .route
                .first()
                .map(|n| n.id)
                .ok_or(MessageEncodeError::BadList(
                    "route nodes (a neighborhood set needs the contact)",
                ))?;
            e.neighborhood(set, owner)?;
        }
    }
    Ok(())
}

fn read_gather<H: WireHandle, W: RingWord>(
    d: &mut Decoder<'_>,
) -> Result<JoinGather<H, W>, MessageDecodeError> {
    let at = d.position();
    let count = usize::from(d.u8()?);
    if count > MAX_ROUTE {
        return Err(MessageDecodeError::TooMany {
            offset: at,
            count,
            limit: MAX_ROUTE,
        });
    }
    let mut route = Vec::with_capacity(count.min(d.remaining()));
    for _ in 0..count {
        route.push(d.node()?);
    }
    let next_row = d.u8()?;
    let count = usize::from(d.u8()?);
    // Each row piece takes at least 4 bytes: b, an id byte, the row and its count.
    let mut rows = Vec::with_capacity(count.min(d.remaining() / 4));
    for _ in 0..count {
        rows.push(d.row()?);
    }
    let at = d.position();
    let neighborhood = match d.u8()? {
        0 => None,
        1 => {
            let piece = d.position();
            let (owner, set) = d.neighborhood()?;
            if route.first().map(|n: &NodeRef<H, W>| n.id) != Some(owner) {
                return Err(MessageDecodeError::WrongOwner { offset: piece });
            }
            Some(set)
        }
        _ => return Err(MessageDecodeError::BadFlag { offset: at }),
    };
    Ok(JoinGather {
        route,
        next_row,
        rows,
        neighborhood,
    })
}

fn read_leaf_info<H: WireHandle, W: RingWord>(
    d: &mut Decoder<'_>,
    sender: W,
) -> Result<LeafInfo<H, W>, MessageDecodeError> {
    let at = d.position();
    let leaf_set = d.leaf_set()?;
    if leaf_set.own() != sender {
        return Err(MessageDecodeError::WrongOwner { offset: at });
    }
    let at = d.position();
    let active = match d.u8()? {
        0 => false,
        1 => true,
        _ => return Err(MessageDecodeError::BadFlag { offset: at }),
    };
    let failed = d.ids(MAX_FAILED)?;
    Ok(LeafInfo {
        leaf_set,
        active,
        failed,
    })
}
