//! The strict decoder: a bounds-checked [`Reader`] and one function per body, each checking
//! every rule of the layout on the bytes.

use alloc::vec::Vec;

use super::error::{DecodeError, Part};
use super::handle::{put, HandleError, WireHandle};
use super::{entry_min, node_min, width, Kind, HOLE_BIT, MAGIC, MAX_HANDLE_LEN, VERSION};
use crate::arith::{cw, slot_of, Column, DigitWidth, Row};
use crate::config::{Config, ConfigError};
use crate::leafset::{LeafSet, Sides};
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef};
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

/// A cursor over the input. Every read is bounds-checked and reports the offset it failed at.
pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        let s = offset
            .checked_add(n)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or(DecodeError::Truncated { offset })?;
        self.pos = offset + n;
        Ok(s)
    }

    pub(super) fn u8(&mut self) -> Result<u8, DecodeError> {
        let s = self.take(1)?;
        Ok(s.first().copied().unwrap_or_default())
    }

    pub(super) fn u16(&mut self) -> Result<u16, DecodeError> {
        let mut b = [0u8; 2];
        put(&mut b, self.take(2)?);
        Ok(u16::from_be_bytes(b))
    }

    pub(super) fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut b = [0u8; 4];
        put(&mut b, self.take(4)?);
        Ok(u32::from_be_bytes(b))
    }

    pub(super) fn word<W: RingWord>(&mut self) -> Result<W, DecodeError> {
        let s = self.take(usize::from(width::<W>()))?;
        Ok(W::from_u128(
            s.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b)),
        ))
    }

    pub(super) fn handle<H: WireHandle>(&mut self) -> Result<H, DecodeError> {
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

    pub(super) fn node<H: WireHandle, W: RingWord>(
        &mut self,
    ) -> Result<NodeRef<H, W>, DecodeError> {
        let id = self.word()?;
        let handle = self.handle()?;
        Ok(NodeRef { id, handle })
    }

    pub(super) fn entry<H: WireHandle, W: RingWord>(&mut self) -> Result<Entry<H, W>, DecodeError> {
        let node = self.node()?;
        let proximity = self.u32()?;
        Ok(Entry { node, proximity })
    }

    /// Fails unless `count` items of at least `min` bytes each fit in the rest of the input:
    /// called before reserving storage for them.
    pub(super) fn room_for(&self, count: usize, min: usize) -> Result<(), DecodeError> {
        if count.saturating_mul(min) > self.remaining() {
            return Err(DecodeError::Truncated { offset: self.pos });
        }
        Ok(())
    }

    pub(super) fn magic_and_version(&mut self) -> Result<(), DecodeError> {
        if self.take(2)? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        match self.u8()? {
            VERSION => Ok(()),
            v => Err(DecodeError::UnsupportedVersion(v)),
        }
    }

    pub(super) fn header<W: RingWord>(&mut self, kind: Kind) -> Result<(), DecodeError> {
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

    pub(super) fn digit_width(&mut self) -> Result<DigitWidth, DecodeError> {
        let b = u32::from(self.u8()?);
        DigitWidth::from_bits(b).ok_or(DecodeError::Config(ConfigError::DigitBits(b)))
    }

    /// L, validated; returns L/2.
    pub(super) fn leaf_half(&mut self) -> Result<u8, DecodeError> {
        let l = self.u8()?;
        if l < 2 || l % 2 != 0 || usize::from(l) > Config::MAX_LEAF_SET {
            return Err(DecodeError::Config(ConfigError::LeafSetLen(usize::from(l))));
        }
        Ok(l / 2)
    }

    /// |M|, validated.
    pub(super) fn neighborhood_len(&mut self) -> Result<u16, DecodeError> {
        let m = self.u16()?;
        if usize::from(m) > Config::MAX_NEIGHBORHOOD {
            return Err(DecodeError::Config(ConfigError::NeighborhoodLen(
                usize::from(m),
            )));
        }
        Ok(m)
    }

    pub(super) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos < self.bytes.len() {
            return Err(DecodeError::TrailingBytes { offset: self.pos });
        }
        Ok(())
    }
}

/// Whether two handles have the same encoding (equal handles, for a canonical encoding).
pub(super) fn same_handle<H: WireHandle>(a: &H, b: &H) -> bool {
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

pub(super) fn read_leaf_body<H: WireHandle, W: RingWord>(
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
pub(super) fn read_row_body<H: WireHandle, W: RingWord>(
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

pub(super) fn read_table_body<H: WireHandle, W: RingWord>(
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

pub(super) fn read_neighborhood_body<H: WireHandle, W: RingWord>(
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

pub(super) fn read_state_piece<H: WireHandle, W: RingWord>(
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

pub(super) fn read_leaf_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<LeafSet<H, W>, DecodeError> {
    let half = r.leaf_half()?;
    let own = r.word()?;
    read_leaf_body(r, own, half)
}

pub(super) fn read_neighborhood_piece<H: WireHandle, W: RingWord>(
    r: &mut Reader<'_>,
) -> Result<(W, NeighborhoodSet<H, W>), DecodeError> {
    let m = r.neighborhood_len()?;
    let own = r.word()?;
    let set = read_neighborhood_body(r, own, m)?;
    Ok((own, set))
}

pub(super) fn read_row_piece<H: WireHandle, W: RingWord>(
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
