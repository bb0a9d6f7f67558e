//! [`RoutingTable`]: rows × 2^b slots, each holding the proximity-nearest node of its prefix.

use alloc::vec::Vec;
use core::mem::size_of;

use bitvec::array::BitArray;
use bitvec::order::Lsb0;

use crate::arith::{digit_at, shl_len, slot_of, Column, Digit, DigitWidth, Row};
use crate::error::StateError;
use crate::guid::Guid;
use crate::node::{Entry, NodeRef, Proximity};
use crate::word::RingWord;

/// Occupancy bitmap of one row: bit `c` is set when column `c` holds a node. 256 bits cover
/// the 2^8 columns of b = 8.
type Bitmap = BitArray<[u64; 4], Lsb0>;

/// The routing table of the node `own`: rows `0..W::BITS / b`, columns `0..2^b`.
///
/// Slot R\[r\]\[c\] holds a node N with shl(N, own) = r and digit(N, r) = c; the column
/// digit(own, r) stays empty. Among candidates for a slot the table keeps the one with the
/// smallest proximity figure; on a tie the incumbent stays.
///
/// # Layout and memory
/// Rows are stored sparsely: a row is a 256-bit occupancy bitmap plus a vector of only the
/// occupied entries in column order, and a slot is found by the rank of its bit (a popcount).
/// Rows past the last occupied one are not stored. With `H` = `u32` and b = 4 an entry takes
/// 32 bytes and a stored row 56 bytes plus its entries, so a full table (32 × 15 entries) takes
/// about 17 KiB, while a node of a 10^6-node network (about 5 populated rows of up to 15) takes
/// under 3 KiB. [`RoutingTable::heap_bytes`] reports the exact figure.
///
/// # Invariants
/// Checked by [`RoutingTable::invariants`] after every change in debug builds and by the
/// property test `table_slots_are_correct`:
///
/// 1. every stored entry sits in the slot `slot_of(own, id)`: row = shl(id, own),
///    column = digit(id, row), so no slot holds `own` and no id appears twice;
/// 2. the number of entries of a row equals the number of set bits of its bitmap, and bits are
///    set only below 2^b;
/// 3. no row at or past `W::BITS / b` exists, and the last stored row is not empty;
/// 4. `len()` is the total number of entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoutingTable<H, W = Guid> {
    own: W,
    b: DigitWidth,
    len: usize,
    rows: Vec<TableRow<H, W>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TableRow<H, W> {
    occupied: Bitmap,
    /// The entries of the set bits, in column order.
    entries: Vec<Entry<H, W>>,
}

/// What [`RoutingTable::insert`] did with a candidate: the slot it belongs to and the outcome.
///
/// Two bytes of payload and no node, so that [`NodeState::learn`](crate::NodeState::learn), which
/// reports it in every answer, returns its result in registers. An evicted incumbent is not
/// returned: a host that needs it reads the slot ([`RoutingTable::get`]) before the offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// The slot was empty and now holds the candidate.
    Added(Row, Column),
    /// The slot already held this node; its handle and proximity were updated.
    Refreshed(Row, Column),
    /// The candidate is nearer than the incumbent, which was evicted: no longer in the table.
    Replaced(Row, Column),
    /// The incumbent is at least as near; nothing changed.
    Rejected(Row, Column),
}

impl Placement {
    /// Whether the candidate is now in the table.
    #[must_use]
    pub fn is_stored(&self) -> bool {
        !matches!(self, Placement::Rejected(..))
    }

    /// The slot the candidate belongs to.
    #[must_use]
    pub fn slot(&self) -> (Row, Column) {
        match *self {
            Placement::Added(r, c)
            | Placement::Refreshed(r, c)
            | Placement::Replaced(r, c)
            | Placement::Rejected(r, c) => (r, c),
        }
    }
}

impl<H, W> TableRow<H, W> {
    fn new() -> Self {
        TableRow {
            occupied: Bitmap::ZERO,
            entries: Vec::new(),
        }
    }

    /// The position of column `c` among the stored entries, and whether it is occupied.
    #[inline(always)]
    fn rank(&self, c: usize) -> Option<(usize, bool)> {
        let words = self.occupied.as_raw_slice();
        let (word, bit) = (c / 64, c % 64);
        let w = *words.get(word)?;
        let below: u32 = words.iter().take(word).map(|x| x.count_ones()).sum();
        let rank = below + (w & ((1u64 << bit) - 1)).count_ones();
        Some((rank as usize, (w >> bit) & 1 == 1))
    }

    #[inline(always)]
    fn get(&self, c: usize) -> Option<&Entry<H, W>> {
        match self.rank(c)? {
            (i, true) => self.entries.get(i),
            _ => None,
        }
    }

    fn columns(&self) -> impl Iterator<Item = (Column, &Entry<H, W>)> + '_ {
        #[allow(clippy::cast_possible_truncation)] // bits are set only below 256
        self.occupied
            .iter_ones()
            .map(|c| Digit(c as u8))
            .zip(self.entries.iter())
    }
}

impl<H: Copy, W: RingWord> RoutingTable<H, W> {
    /// An empty table for the node `own` with `b` bits per digit.
    #[must_use]
    pub fn new(own: W, b: DigitWidth) -> Self {
        RoutingTable {
            own,
            b,
            len: 0,
            rows: Vec::new(),
        }
    }

    /// An empty table with room reserved for `rows` rows, for decoders (`crate::codec`) that
    /// then add the rows in order with [`RoutingTable::push_row`].
    pub(crate) fn with_row_capacity(own: W, b: DigitWidth, rows: usize) -> Self {
        RoutingTable {
            own,
            b,
            len: 0,
            rows: Vec::with_capacity(rows),
        }
    }

    /// Appends the next row (number `self.rows.len()`), given its entries in column order, for
    /// decoders that have checked each entry's slot and the column order. The caller must not
    /// finish with an empty last row. [`RoutingTable::invariants`] checks the result in debug
    /// builds; an entry whose id has no digit at this row is dropped rather than stored.
    pub(crate) fn push_row(&mut self, mut entries: Vec<Entry<H, W>>) {
        let row = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        let b = self.b;
        let mut occupied = Bitmap::ZERO;
        entries.retain(|e| match digit_at(e.node.id, row, b) {
            Some(d) => {
                occupied.set(d.index(), true);
                true
            }
            None => false,
        });
        self.len += entries.len();
        self.rows.push(TableRow { occupied, entries });
    }

    /// The heap size of one stored row's header (not counting its entries), for the codec's
    /// allocation bound.
    pub(crate) const fn row_size() -> usize {
        size_of::<TableRow<H, W>>()
    }

    /// The local node's id.
    #[must_use]
    pub fn own(&self) -> W {
        self.own
    }

    /// Bits per digit.
    #[must_use]
    pub fn digit_width(&self) -> DigitWidth {
        self.b
    }

    /// The number of rows an id of this width has, `W::BITS / b`.
    #[must_use]
    pub fn row_count(&self) -> usize {
        self.b.digits::<W>() as usize
    }

    /// The number of occupied slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is occupied.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry in slot R\[row\]\[column\], if any. Out-of-range indices give `None`.
    #[inline]
    #[must_use]
    pub fn get(&self, row: Row, column: Column) -> Option<&Entry<H, W>> {
        self.rows.get(row.index())?.get(column.index())
    }

    /// The entry of the slot that routing step 2 consults for `key`:
    /// R\[l\]\[digit(key, l)\] with l = shl(key, own). `None` when it is empty or `key == own`.
    #[inline]
    #[must_use]
    pub fn next_hop(&self, key: W) -> Option<&Entry<H, W>> {
        let l = shl_len(key, self.own, self.b);
        let row = self.rows.get(l as usize)?;
        let d = digit_at(key, l, self.b)?;
        row.get(d.index())
    }

    /// The occupied slots of one row, in column order.
    pub fn row(&self, row: Row) -> impl Iterator<Item = (Column, &Entry<H, W>)> + '_ {
        self.rows
            .get(row.index())
            .into_iter()
            .flat_map(TableRow::columns)
    }

    /// Every occupied slot, row by row in column order.
    pub fn iter(&self) -> impl Iterator<Item = (Row, Column, &Entry<H, W>)> + '_ {
        self.rows.iter().enumerate().flat_map(|(r, row)| {
            #[allow(clippy::cast_possible_truncation)] // at most 128 rows
            let r = Row(r as u8);
            row.columns().map(move |(c, e)| (r, c, e))
        })
    }

    /// Every entry in rows `from..`, row by row.
    pub fn iter_from(&self, from: Row) -> impl Iterator<Item = &Entry<H, W>> + '_ {
        self.rows
            .iter()
            .skip(from.index())
            .flat_map(|row| row.entries.iter())
    }

    /// The entries of each stored row from `from` on, one slice per row in column order: what
    /// [`RoutingTable::iter_from`] yields, for loops that want the rows' slices directly.
    pub(crate) fn row_entries_from(&self, from: Row) -> impl Iterator<Item = &[Entry<H, W>]> + '_ {
        self.rows
            .get(from.index()..)
            .unwrap_or_default()
            .iter()
            .map(|row| row.entries.as_slice())
    }

    /// The number of occupied slots of row `row` left of column `column` (the position that
    /// column's entry has or would have among the row's entries); 0 when the row is not stored.
    #[inline]
    pub(crate) fn entries_left_of(&self, row: Row, column: Column) -> usize {
        self.rows
            .get(row.index())
            .and_then(|r| r.rank(column.index()))
            .map_or(0, |(i, _)| i)
    }

    /// The entry holding `id`, with its slot.
    #[must_use]
    pub fn find(&self, id: W) -> Option<(Row, Column, &Entry<H, W>)> {
        let (r, c) = slot_of(self.own, id, self.b)?;
        self.get(r, c)
            .filter(|e| e.node.id == id)
            .map(|e| (r, c, e))
    }

    /// Offers `node`, at the host's `proximity` figure, for its slot.
    ///
    /// An occupied slot is decided in place (refresh, replace or reject); only an empty one
    /// grows the table.
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `node` is the local node; the table is unchanged.
    pub fn insert(
        &mut self,
        node: NodeRef<H, W>,
        proximity: Proximity,
    ) -> Result<Placement, StateError> {
        let (r, c) = slot_of(self.own, node.id, self.b).ok_or(StateError::OwnId)?;
        if let Some(row) = self.rows.get_mut(r.index()) {
            let (i, occupied) = row.rank(c.index()).ok_or(StateError::OwnId)?;
            if occupied {
                let placement = match row.entries.get_mut(i) {
                    Some(e) if e.node.id == node.id => {
                        *e = Entry { node, proximity };
                        Placement::Refreshed(r, c)
                    }
                    Some(e) if proximity < e.proximity => {
                        *e = Entry { node, proximity };
                        Placement::Replaced(r, c)
                    }
                    _ => Placement::Rejected(r, c),
                };
                self.invariants();
                return Ok(placement);
            }
        }
        // The slot is empty: the rows up to `r` are stored and row `r` gets an entry, so the
        // last stored row is not empty afterwards.
        while self.rows.len() <= r.index() {
            self.rows.push(TableRow::new());
        }
        let row = self.rows.get_mut(r.index()).ok_or(StateError::OwnId)?;
        let (i, _) = row.rank(c.index()).ok_or(StateError::OwnId)?;
        row.occupied.set(c.index(), true);
        row.entries.insert(i, Entry { node, proximity });
        self.len += 1;
        self.invariants();
        Ok(Placement::Added(r, c))
    }

    /// A table of the same owner holding only row `row` of this one (empty when the row is not
    /// stored): what a row request is answered with, without copying the rest of the table.
    #[must_use]
    pub fn only_row(&self, row: Row) -> RoutingTable<H, W> {
        let entries: Vec<Entry<H, W>> = self.row(row).map(|(_, e)| *e).collect();
        if entries.is_empty() {
            return RoutingTable::new(self.own, self.b);
        }
        let mut t = RoutingTable::with_row_capacity(self.own, self.b, row.index() + 1);
        for _ in 0..row.0 {
            t.push_row(Vec::new());
        }
        t.push_row(entries);
        t.invariants();
        t
    }

    /// Whether [`RoutingTable::insert`] of the node `id` at `proximity` would add it or replace
    /// the incumbent, without changing anything: its slot is empty, or holds another node with
    /// a larger figure. A node already in its slot is not (it would be refreshed). Pass
    /// `proximity` 0 to ask whether the node would be kept if it were near enough.
    #[must_use]
    pub fn would_place(&self, id: W, proximity: Proximity) -> bool {
        let Some((r, c)) = slot_of(self.own, id, self.b) else {
            return false;
        };
        match self.get(r, c) {
            None => true,
            Some(e) => e.node.id != id && proximity < e.proximity,
        }
    }

    /// Empties the slot holding `id`; returns the slot and the removed entry.
    pub fn remove(&mut self, id: W) -> Option<(Row, Column, Entry<H, W>)> {
        let (r, c) = slot_of(self.own, id, self.b)?;
        let row = self.rows.get_mut(r.index())?;
        let (i, occupied) = row.rank(c.index())?;
        if !occupied || row.entries.get(i).is_none_or(|e| e.node.id != id) {
            return None;
        }
        let old = row.entries.remove(i);
        row.occupied.set(c.index(), false);
        self.len -= 1;
        self.trim();
        self.invariants();
        Some((r, c, old))
    }

    /// Drops empty rows at the end.
    fn trim(&mut self) {
        while self.rows.last().is_some_and(|r| r.entries.is_empty()) {
            self.rows.pop();
        }
    }

    /// Bytes of heap memory held by the table.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * size_of::<TableRow<H, W>>()
            + self
                .rows
                .iter()
                .map(|r| r.entries.capacity() * size_of::<Entry<H, W>>())
                .sum::<usize>()
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            assert!(
                self.rows.len() <= self.row_count(),
                "row past the last digit"
            );
            assert!(
                self.rows.last().is_none_or(|r| !r.entries.is_empty()),
                "trailing empty row"
            );
            let mut total = 0;
            for (r, row) in self.rows.iter().enumerate() {
                assert_eq!(
                    row.occupied.count_ones(),
                    row.entries.len(),
                    "bitmap/entries mismatch"
                );
                assert!(
                    row.occupied.iter_ones().all(|c| c < self.b.columns()),
                    "column past 2^b"
                );
                for (c, e) in row.columns() {
                    #[allow(clippy::cast_possible_truncation)]
                    let expected = Some((Row(r as u8), c));
                    assert_eq!(
                        slot_of(self.own, e.node.id, self.b),
                        expected,
                        "entry in wrong slot"
                    );
                }
                total += row.entries.len();
            }
            assert_eq!(total, self.len, "stale length");
        }
    }
}
