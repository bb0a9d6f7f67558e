//! The encoder behind every entry point: one description of each message ([`Msg`]) emitted
//! into a byte sink that either counts or writes.

use alloc::vec::Vec;

use super::error::EncodeError;
use super::handle::{put, WireHandle};
use super::{width, Kind, HOLE_BIT, MAGIC, VERSION};
use crate::arith::Row;
use crate::leafset::LeafSet;
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef};
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

/// Where the encoder sends its output: a [`Counter`] to size it, a [`Writer`] to write it.
pub(super) trait Sink {
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
pub(super) struct Counter {
    pub(super) len: usize,
    pub(super) strict: bool,
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
pub(super) struct Writer<'a> {
    pub(super) buf: &'a mut [u8],
    pub(super) pos: usize,
}

impl Writer<'_> {
    pub(super) fn slot(&mut self, n: usize) -> Result<&mut [u8], EncodeError> {
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
pub(super) enum Msg<'a, H, W> {
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
    pub(super) fn len(&self) -> usize {
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
    pub(super) fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.len());
        self.emit(&mut VecSink { out: &mut out })?;
        Ok(out)
    }

    /// Sizes the encoding (checking handle bounds), then writes it if `buf` is large enough.
    pub(super) fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
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

pub(super) fn emit_leaf_body<S: Sink, H: WireHandle, W: RingWord>(
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
pub(super) fn stored_rows<H: Copy, W: RingWord>(table: &RoutingTable<H, W>) -> usize {
    table.iter().last().map_or(0, |(r, _, _)| r.index() + 1)
}

pub(super) fn emit_row_body<S: Sink, H: WireHandle, W: RingWord>(
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

pub(super) fn emit_table_body<S: Sink, H: WireHandle, W: RingWord>(
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

pub(super) fn emit_neighborhood_body<S: Sink, H: WireHandle, W: RingWord>(
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

pub(super) fn emit_state<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    state: &NodeState<H, W>,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::State)?;
    emit_state_piece(s, state)
}

/// A state without the header.
#[allow(clippy::cast_possible_truncation)] // L <= 64, |M| <= 256
pub(super) fn emit_state_piece<S: Sink, H: WireHandle, W: RingWord>(
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

pub(super) fn emit_leaf<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    leaf: &LeafSet<H, W>,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::LeafSet)?;
    emit_leaf_piece(s, leaf)
}

/// A leaf set without the header: L, owner id, body.
#[allow(clippy::cast_possible_truncation)] // L <= 64
pub(super) fn emit_leaf_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    leaf: &LeafSet<H, W>,
) -> Result<(), EncodeError> {
    s.u8((leaf.half() * 2) as u8)?;
    s.word(leaf.own())?;
    emit_leaf_body(s, leaf)
}

pub(super) fn emit_row<S: Sink, H: WireHandle, W: RingWord>(
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
pub(super) fn emit_row_piece<S: Sink, H: WireHandle, W: RingWord>(
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

pub(super) fn emit_neighborhood<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    set: &NeighborhoodSet<H, W>,
    own: W,
) -> Result<(), EncodeError> {
    s.header::<W>(Kind::Neighborhood)?;
    emit_neighborhood_piece(s, set, own)
}

/// A neighborhood set without the header: |M|, owner id, body.
#[allow(clippy::cast_possible_truncation)] // |M| <= 256
pub(super) fn emit_neighborhood_piece<S: Sink, H: WireHandle, W: RingWord>(
    s: &mut S,
    set: &NeighborhoodSet<H, W>,
    own: W,
) -> Result<(), EncodeError> {
    s.u16(set.capacity() as u16)?;
    s.word(own)?;
    emit_neighborhood_body(s, set)
}

/// Appends to a `Vec<u8>` with every check the kernel's own encoder makes.
pub(super) struct VecSink<'a> {
    pub(super) out: &'a mut Vec<u8>,
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
