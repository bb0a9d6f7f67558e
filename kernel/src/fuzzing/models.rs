//! Brute-force models of the leaf set, the routing table and the neighborhood set, replayed
//! beside the kernel's structures ([`check_leaf_set_ops`], [`check_table_ops`],
//! [`check_neighborhood_ops`]), with the slot and side checks they share.

use super::reference as r;
use crate::arith::Column;
use crate::arith::Digit;
use crate::arith::DigitWidth;
use crate::arith::Row;
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::leafset::LeafRoot;
use crate::leafset::LeafSet;
use crate::neighborhood::NeighborhoodSet;
use crate::node::Entry;
use crate::node::NodeRef;
use crate::node::Proximity;
use crate::table::Placement;
use crate::table::RoutingTable;
use crate::word::RingWord;
use core::fmt::Debug;
use std::collections::BTreeMap;

/// A brute-force leaf set: each side is a plain list re-sorted and cut to L/2 after each insert.
/// A side with a hole (a member removed while the sides shared no node) takes a new node only
/// when it sorts before the side's last member, until the side is full or the sides share a
/// node again (the type's **Holes**).
#[derive(Clone, Debug)]
pub(super) struct LeafModel<W> {
    pub(super) own: W,
    pub(super) half: usize,
    pub(super) succ: Vec<NodeRef<u32, W>>,
    pub(super) pred: Vec<NodeRef<u32, W>>,
    pub(super) holes: (bool, bool),
}

impl<W: RingWord> LeafModel<W> {
    pub(super) fn new(own: W, half: usize) -> Self {
        LeafModel {
            own,
            half,
            succ: Vec::new(),
            pred: Vec::new(),
            holes: (false, false),
        }
    }

    /// Returns whether the node entered: it was on neither side before and is on one now.
    pub(super) fn insert(&mut self, node: NodeRef<u32, W>) -> bool {
        self.insert_on(node, (true, true), false)
    }

    /// Offers the node to the chosen sides (a member's handle is refreshed on both); `repair`
    /// lets a holed side take it anywhere. Returns whether the node entered.
    pub(super) fn insert_on(
        &mut self,
        node: NodeRef<u32, W>,
        sides: (bool, bool),
        repair: bool,
    ) -> bool {
        let member = |m: &Self| m.succ.iter().chain(&m.pred).any(|n| n.id == node.id);
        let was = member(self);
        let own = self.own;
        let half = self.half;
        let add = |side: &mut Vec<NodeRef<u32, W>>,
                   offered: bool,
                   holed: bool,
                   key: &dyn Fn(W) -> u128| {
            if let Some(m) = side.iter_mut().find(|m| m.id == node.id) {
                m.handle = node.handle;
                return;
            }
            if !offered
                || (holed && !repair && side.last().is_none_or(|l| key(node.id) > key(l.id)))
            {
                return;
            }
            side.push(node);
            side.sort_by_key(|m| key(m.id));
            side.truncate(half);
        };
        add(&mut self.succ, sides.0, self.holes.0, &|id| r::cw(own, id));
        add(&mut self.pred, sides.1, self.holes.1, &|id| r::cw(id, own));
        self.settle();
        !was && member(self)
    }

    pub(super) fn remove(&mut self, id: W) -> (bool, bool) {
        let (s, p) = (self.succ.len(), self.pred.len());
        self.succ.retain(|m| m.id != id);
        self.pred.retain(|m| m.id != id);
        let removed = (s != self.succ.len(), p != self.pred.len());
        self.holes.0 |= removed.0;
        self.holes.1 |= removed.1;
        self.settle();
        removed
    }

    /// Clears the holes of full sides, and both when the sides share a node or are empty.
    pub(super) fn settle(&mut self) {
        let whole = (self.succ.is_empty() && self.pred.is_empty())
            || self
                .pred
                .iter()
                .any(|p| self.succ.iter().any(|s| s.id == p.id));
        if whole || self.succ.len() == self.half {
            self.holes.0 = false;
        }
        if whole || self.pred.len() == self.half {
            self.holes.1 = false;
        }
    }

    pub(super) fn compare(&self, leaf: &LeafSet<u32, W>) {
        assert_eq!(
            leaf.successors(),
            &self.succ[..],
            "successors differ from the model"
        );
        assert_eq!(
            (leaf.holes().successor, leaf.holes().predecessor),
            self.holes,
            "holes differ from the model"
        );
        assert_eq!(
            leaf.predecessors(),
            &self.pred[..],
            "predecessors differ from the model"
        );
    }
}

/// The sides of a leaf set are in ring order, nearest first, without duplicates, at most L/2
/// each, never hold the owner, and the whole-ring flag matches its definition.
pub fn check_leaf_set_sides<H: Copy + Debug, W: RingWord>(leaf: &LeafSet<H, W>) {
    let own = leaf.own();
    for (name, side, dist) in [
        (
            "successors",
            leaf.successors(),
            &(|id| r::cw(own, id)) as &dyn Fn(W) -> u128,
        ),
        ("predecessors", leaf.predecessors(), &|id| r::cw(id, own)),
    ] {
        assert!(
            side.len() <= leaf.half(),
            "{name}: {} > L/2 = {}",
            side.len(),
            leaf.half()
        );
        assert!(side.iter().all(|n| n.id != own), "{name} hold the owner");
        assert!(
            side.windows(2).all(|w| dist(w[0].id) < dist(w[1].id)),
            "{name} not strictly nearest first: {side:?}"
        );
    }
    assert_eq!(
        leaf.knows_whole_ring(),
        r::knows_whole_ring(leaf),
        "whole-ring flag"
    );
    let mut members: Vec<W> = leaf.iter().map(|n| n.id).collect();
    let n = members.len();
    members.sort();
    members.dedup();
    assert_eq!(members.len(), n, "iter() repeats a member");
    assert_eq!(leaf.len(), n, "len()");
}

/// One step of [`LeafSetInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum LeafOp<W = Guid> {
    /// Insert this id.
    Insert(W),
    /// Remove this id (usually not a member).
    Remove(W),
    /// Remove the member at this index (modulo the number of members), if any.
    RemoveMember(u8),
}

/// Input of [`check_leaf_set_ops`]: a sequence of inserts and removals on one leaf set.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct LeafSetInput<W = Guid> {
    /// Sizes the leaf set (L).
    pub config: Config,
    /// The owner.
    pub own: W,
    /// The operations, in order.
    pub ops: Vec<LeafOp<W>>,
    /// Keys whose coverage and root are checked after each step.
    pub keys: Vec<W>,
}

/// Replays [`LeafSetInput`] on a [`LeafSet`] and on a brute-force model, comparing after every
/// step: sides ([`check_leaf_set_sides`]), equality with the model, `covers` and `root` for the
/// keys. While nothing has been removed the leaf set is the true leaf set of every node inserted
/// (the model that knows every node); at the end, offering every live node again (repair)
/// restores the true leaf set among the live nodes.
pub fn check_leaf_set_ops<W: RingWord>(input: &LeafSetInput<W>) {
    let own = input.own;
    let half = input.config.leaf_set_half();
    let mut leaf: LeafSet<u32, W> = LeafSet::new(own, &input.config);
    let mut model = LeafModel::new(own, half);
    let mut live: Vec<W> = Vec::new();
    let mut removed_any = false;
    for (i, op) in input.ops.iter().enumerate() {
        let handle = i as u32;
        match *op {
            LeafOp::Insert(id) => {
                let before = leaf.clone();
                match leaf.insert(NodeRef::new(id, handle)) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "insert refused {id:?}");
                        assert_eq!(leaf, before, "a refused insert changed the leaf set");
                    }
                    Ok(changed) => {
                        assert_eq!(
                            changed,
                            model.insert(NodeRef::new(id, handle)),
                            "insert result"
                        );
                        if !live.contains(&id) {
                            live.push(id);
                        }
                    }
                }
            }
            LeafOp::Remove(_) | LeafOp::RemoveMember(_) => {
                let id = match *op {
                    LeafOp::RemoveMember(m) => {
                        let members: Vec<W> = leaf.iter().map(|n| n.id).collect();
                        match members.get(usize::from(m) % members.len().max(1)) {
                            Some(&id) => id,
                            None => continue,
                        }
                    }
                    LeafOp::Remove(id) => id,
                    LeafOp::Insert(_) => continue,
                };
                let sides = leaf.remove(id);
                let (s, p) = model.remove(id);
                assert_eq!(
                    (sides.successor, sides.predecessor),
                    (s, p),
                    "remove({id:?}) sides"
                );
                removed_any |= s || p;
                live.retain(|&x| x != id);
                assert!(!leaf.contains(id), "removed {id:?} still a member");
            }
        }
        check_leaf_set_sides(&leaf);
        model.compare(&leaf);
        if !removed_any {
            check_true_leaf_set(&leaf, &live);
            // The reading "a side is not full, or the two sides share a member" agrees with
            // the rule LeafSet keeps (docs/design.md, *Whole ring*) while nothing has been
            // removed.
            let (succ, pred) = (leaf.successors(), leaf.predecessors());
            let literal = succ.len() < half
                || pred.len() < half
                || pred.iter().any(|p| succ.iter().any(|q| q.id == p.id));
            assert_eq!(
                leaf.knows_whole_ring(),
                literal,
                "whole-ring readings differ"
            );
        }
        for &k in input.keys.iter().chain(live.iter().take(4)) {
            check_leaf_cover_and_root(&leaf, k);
        }
    }
    // Repair: offer every live node again to both sides, holes included (as a repair merge
    // does); the true leaf set comes back.
    for (i, &id) in live.iter().enumerate() {
        let _ = leaf.insert_on(NodeRef::new(id, u32::MAX - i as u32), crate::Sides::BOTH);
    }
    assert!(
        !leaf.holes().any(),
        "a hole left after every live node was offered"
    );
    check_leaf_set_sides(&leaf);
    check_true_leaf_set(&leaf, &live);
}

/// The leaf set equals the true leaf set of its owner among `live` (by id).
pub(super) fn check_true_leaf_set<W: RingWord>(leaf: &LeafSet<u32, W>, live: &[W]) {
    let (succ, pred) = r::true_leaf_set(leaf.own(), live, leaf.half());
    let ids = |s: &[NodeRef<u32, W>]| s.iter().map(|n| n.id).collect::<Vec<W>>();
    assert_eq!(
        ids(leaf.successors()),
        succ,
        "successors are not the L/2 nearest clockwise"
    );
    assert_eq!(
        ids(leaf.predecessors()),
        pred,
        "predecessors are not the L/2 nearest counter-clockwise"
    );
}

pub(super) fn check_leaf_cover_and_root<W: RingWord>(leaf: &LeafSet<u32, W>, k: W) {
    let covered = r::covered(leaf, k);
    assert_eq!(leaf.covers(k), covered, "covers({k:?})");
    let ids = core::iter::once(leaf.own()).chain(leaf.iter().map(|n| n.id));
    let root = r::root(k, ids);
    let got = match leaf.root(k) {
        LeafRoot::NotCovered => None,
        LeafRoot::Own => Some(leaf.own()),
        LeafRoot::Member(n) => Some(n.id),
    };
    assert_eq!(
        got,
        root.filter(|_| covered),
        "root({k:?}) among the leaf set"
    );
}

/// A brute-force routing table: a map from (row, column), computed by [`reference::slot`], to
/// the entry, with the replacement rule of docs/design.md, *Routing table*, written out.
#[derive(Clone, Debug)]
pub(super) struct TableModel<W> {
    pub(super) own: W,
    pub(super) b: DigitWidth,
    pub(super) slots: BTreeMap<(u32, u32), Entry<u32, W>>,
}

impl<W: RingWord> TableModel<W> {
    pub(super) fn new(own: W, b: DigitWidth) -> Self {
        TableModel {
            own,
            b,
            slots: BTreeMap::new(),
        }
    }

    pub(super) fn insert(
        &mut self,
        node: NodeRef<u32, W>,
        proximity: Proximity,
    ) -> Option<Placement> {
        let (row, column) = r::slot(self.own, node.id, self.b)?;
        let at = (Row(row as u8), Digit(column as u8));
        let candidate = Entry { node, proximity };
        Some(match self.slots.get(&(row, column)).copied() {
            None => {
                self.slots.insert((row, column), candidate);
                Placement::Added(at.0, at.1)
            }
            Some(e) if e.node.id == node.id => {
                self.slots.insert((row, column), candidate);
                Placement::Refreshed(at.0, at.1)
            }
            // Smaller is nearer; on a tie the incumbent stays.
            Some(e) if proximity < e.proximity => {
                self.slots.insert((row, column), candidate);
                Placement::Replaced(at.0, at.1)
            }
            Some(_) => Placement::Rejected(at.0, at.1),
        })
    }

    pub(super) fn remove(&mut self, id: W) -> Option<(Row, Column, Entry<u32, W>)> {
        let (row, column) = r::slot(self.own, id, self.b)?;
        match self.slots.get(&(row, column)) {
            Some(e) if e.node.id == id => {
                let e = *e;
                self.slots.remove(&(row, column));
                Some((Row(row as u8), Digit(column as u8), e))
            }
            _ => None,
        }
    }

    pub(super) fn compare(&self, table: &RoutingTable<u32, W>) {
        let got: Vec<((u32, u32), Entry<u32, W>)> = table
            .iter()
            .map(|(row, c, e)| ((u32::from(row.0), u32::from(c.0)), *e))
            .collect();
        let want: Vec<((u32, u32), Entry<u32, W>)> =
            self.slots.iter().map(|(k, e)| (*k, *e)).collect();
        assert_eq!(got, want, "routing table differs from the model");
    }
}

/// Every entry sits in its slot: row = shl(id, own), column = digit(id, row) (reference
/// definitions), so the owner's own column stays empty; no id twice; `len`, `get`, `find`,
/// `row` and `next_hop` agree with the entries.
pub fn check_table_slots<H: Copy + Eq + Debug, W: RingWord>(table: &RoutingTable<H, W>) {
    let own = table.own();
    let b = table.digit_width();
    let entries: Vec<(Row, Column, Entry<H, W>)> =
        table.iter().map(|(row, c, e)| (row, c, *e)).collect();
    assert_eq!(entries.len(), table.len(), "len()");
    assert_eq!(table.is_empty(), entries.is_empty(), "is_empty()");
    let mut ids: Vec<W> = entries.iter().map(|(_, _, e)| e.node.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "an id in two slots");
    for (row, column, e) in &entries {
        let id = e.node.id;
        let (rr, cc) = (u32::from(row.0), u32::from(column.0));
        assert_eq!(
            r::shl(id, own, b),
            rr,
            "{id:?} in row {rr}, but shl with the owner differs"
        );
        assert_eq!(
            r::digit(id, rr, b),
            Some(cc),
            "{id:?} in column {cc} of row {rr}"
        );
        assert_ne!(
            r::digit(own, rr, b),
            Some(cc),
            "the owner's own column is occupied"
        );
        assert!(cc < (1 << b.bits()), "column past 2^b");
        assert_eq!(
            table.get(*row, *column),
            Some(e),
            "get({row:?}, {column:?})"
        );
        assert_eq!(
            table.find(id).map(|(a, c, e)| (a, c, *e)),
            Some((*row, *column, *e)),
            "find"
        );
        assert_eq!(
            table.next_hop(id),
            Some(e),
            "next_hop({id:?}) is not its own slot"
        );
        assert!(
            table.row(*row).any(|(c, x)| c == *column && x == e),
            "row() misses {id:?}"
        );
    }
}

/// One step of [`TableInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum TableOp<W = Guid> {
    /// Offer this id at this proximity.
    Offer(W, u8),
    /// Remove this id.
    Remove(W),
    /// Remove the entry at this index (modulo the number of entries), if any.
    RemoveEntry(u8),
}

/// Input of [`check_table_ops`].
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct TableInput<W = Guid> {
    /// The owner.
    pub own: W,
    /// Bits per digit.
    pub b: DigitWidth,
    /// The operations, in order.
    pub ops: Vec<TableOp<W>>,
}

/// Replays [`TableInput`] on a [`RoutingTable`] and on the brute-force model: every
/// [`Placement`] (added, refreshed, replaced only by a strictly nearer node, rejected on a tie)
/// and every removal is the model's, the tables are equal after every step, and
/// [`check_table_slots`] holds.
pub fn check_table_ops<W: RingWord>(input: &TableInput<W>) {
    let mut table: RoutingTable<u32, W> = RoutingTable::new(input.own, input.b);
    let mut model = TableModel::new(input.own, input.b);
    for (i, op) in input.ops.iter().enumerate() {
        match *op {
            TableOp::Offer(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let before = table.clone();
                let got = table.insert(node, Proximity::from(p));
                match model.insert(node, Proximity::from(p)) {
                    Some(want) => {
                        assert_eq!(got, Ok(want), "placement of {id:?} at {p}");
                        // `is_stored` and `slot` describe what happened to the table.
                        let (row, column) = want.slot();
                        let held = table.get(row, column).map(|e| e.node.id);
                        assert_eq!(want.is_stored(), held == Some(id), "is_stored of {want:?}");
                    }
                    None => {
                        assert_eq!(got, Err(StateError::OwnId), "offering the owner");
                        assert_eq!(table, before, "a refused offer changed the table");
                    }
                }
            }
            TableOp::Remove(id) => assert_eq!(table.remove(id), model.remove(id), "remove({id:?})"),
            TableOp::RemoveEntry(m) => {
                let ids: Vec<W> = table.iter().map(|(_, _, e)| e.node.id).collect();
                if let Some(&id) = ids.get(usize::from(m) % ids.len().max(1)) {
                    let got = table.remove(id);
                    assert!(got.is_some(), "remove of a present entry failed");
                    assert_eq!(got, model.remove(id), "remove({id:?})");
                }
            }
        }
        model.compare(&table);
        // The model's slots come from the reference, so comparing with it checks every entry's
        // slot; the accessors are checked in full now and then and at the end.
        if i % 16 == 15 {
            check_table_slots(&table);
        }
    }
    check_table_slots(&table);
}

/// A brute-force neighborhood set: append, stable sort by proximity, cut to |M|.
#[derive(Clone, Debug)]
pub(super) struct NeighborhoodModel<W> {
    pub(super) capacity: usize,
    pub(super) entries: Vec<Entry<u32, W>>,
}

impl<W: RingWord> NeighborhoodModel<W> {
    pub(super) fn insert(&mut self, node: NodeRef<u32, W>, proximity: Proximity) -> bool {
        let known = self.entries.iter().any(|e| e.node.id == node.id);
        // Re-measured at the same figure: it keeps its place among equals.
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.node.id == node.id && e.proximity == proximity)
        {
            e.node = node;
            return false;
        }
        self.entries.retain(|e| e.node.id != node.id);
        self.entries.push(Entry { node, proximity });
        self.entries.sort_by_key(|e| e.proximity);
        self.entries.truncate(self.capacity);
        !known && self.entries.iter().any(|e| e.node.id == node.id)
    }

    pub(super) fn remove(&mut self, id: W) -> Option<Entry<u32, W>> {
        let e = self.entries.iter().find(|e| e.node.id == id).copied();
        self.entries.retain(|e| e.node.id != id);
        e
    }
}

/// One step of [`NeighborhoodInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum NeighborhoodOp<W = Guid> {
    /// Offer (or re-measure) this id at this proximity.
    Offer(W, u8),
    /// Remove this id.
    Remove(W),
}

/// Input of [`check_neighborhood_ops`].
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct NeighborhoodInput<W = Guid> {
    /// The owner.
    pub own: W,
    /// |M| (taken modulo 65).
    pub capacity: u8,
    /// The operations, in order.
    pub ops: Vec<NeighborhoodOp<W>>,
}

/// Replays [`NeighborhoodInput`] on a [`NeighborhoodSet`] and on the brute-force model, equal
/// after every step. While every offer is of a new node the set is the |M| smallest figures of
/// all offered, earlier offers first among equals (ties keep the incumbents).
pub fn check_neighborhood_ops<W: RingWord>(input: &NeighborhoodInput<W>) {
    let capacity = usize::from(input.capacity % 65);
    let mut set: NeighborhoodSet<u32, W> = NeighborhoodSet::new(input.own, capacity);
    let mut model = NeighborhoodModel {
        capacity,
        entries: Vec::new(),
    };
    let mut offered: Vec<Entry<u32, W>> = Vec::new();
    let mut fresh_only = true;
    for (i, op) in input.ops.iter().enumerate() {
        match *op {
            NeighborhoodOp::Offer(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let p = Proximity::from(p);
                if id == input.own {
                    let before = set.clone();
                    assert_eq!(
                        set.insert(node, p),
                        Err(StateError::OwnId),
                        "offering the owner"
                    );
                    assert_eq!(set, before, "a refused offer changed the set");
                    continue;
                }
                fresh_only &= offered.iter().all(|e| e.node.id != id);
                offered.push(Entry { node, proximity: p });
                assert_eq!(
                    set.insert(node, p),
                    Ok(model.insert(node, p)),
                    "insert({id:?}, {p})"
                );
            }
            NeighborhoodOp::Remove(id) => {
                fresh_only = false;
                assert_eq!(set.remove(id), model.remove(id), "remove({id:?})");
            }
        }
        assert_eq!(
            set.entries(),
            &model.entries[..],
            "neighborhood differs from the model"
        );
        check_neighborhood_keeps_the_nearest(&set, if fresh_only { Some(&offered) } else { None });
    }
}

/// The set is at most |M| long, nearest first, without duplicates; given every offer (all of
/// distinct nodes), it holds exactly the |M| nearest, earlier offers first among equals.
pub fn check_neighborhood_keeps_the_nearest<W: RingWord>(
    set: &NeighborhoodSet<u32, W>,
    offered: Option<&[Entry<u32, W>]>,
) {
    let e = set.entries();
    assert!(e.len() <= set.capacity(), "over capacity");
    assert!(
        e.windows(2).all(|w| w[0].proximity <= w[1].proximity),
        "not nearest first"
    );
    if let Some(offered) = offered {
        let mut nearest = offered.to_vec();
        nearest.sort_by_key(|x| x.proximity);
        nearest.truncate(set.capacity());
        assert_eq!(e, &nearest[..], "the set is not the |M| nearest offered");
    }
}
