//! Failure repair (paper section 2.5): whom to ask after a node is forgotten.
//!
//! The host detects failures (a missed keep-alive, a timed-out forward) and calls
//! [`NodeState::forget`], which removes the node everywhere and reports the holes it left
//! ([`Forgotten`]). [`NodeState::repair_hints`] then names the nodes to ask, best first:
//!
//! * **leaf-set hole** on one side: the members of that side, farthest first (then the other
//!   side, nearest first, for a side left empty). The host asks the first live one for its leaf
//!   set and merges it with [`NodeState::repair_leaf_set`]; its members beyond ours refill the
//!   side. Repeated for each hole, this makes a leaf set whole
//!   again after up to L/2 − 1 adjacent failures on one side;
//! * **routing-table hole** R\[r\]\[c\]: the other entries of row r, then the entries of row
//!   r + 1. Any of them shares the first r digits with the local node, so its own entry
//!   R\[r\]\[c\] fits our slot; the host asks for that row and merges it with
//!   [`NodeState::merge_row`];
//! * **neighborhood hole**: the other members of the neighborhood set, whose neighborhood sets
//!   are merged with [`NodeState::merge_neighborhood`].
//!
//! The hints borrow the state and do not allocate; they never include the forgotten node.
//!
//! ```
//! use pastry_kernel::{Config, NodeRef, NodeState, RepairHint, Side};
//!
//! // A 40-node ring with true leaf sets (8 on each side).
//! let ring: Vec<NodeRef<usize, u16>> = (0..40).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
//! let full = |i: usize| NodeState::from_ring(Config::PAPER, ring[i], &ring, |_| 1, 1);
//! let mut me = full(0);
//! // Node 1, the nearest successor, fails.
//! let gone = me.forget(ring[1].id)?;
//! let first = me.repair_hints(&gone).next();
//! // Ask the farthest successor left, node 8, for its leaf set; node 1 no longer answers probes.
//! assert_eq!(first, Some(RepairHint::LeafSet { ask: ring[8], side: Side::Successor }));
//! let eight = full(8);
//! let live = |n: &NodeRef<usize, u16>| (n.handle != 1).then_some(1);
//! me.repair_leaf_set(&ring[8], eight.leaf_set(), live)?;
//! let succ: Vec<usize> = me.leaf_set().successors().iter().map(|n| n.handle).collect();
//! assert_eq!(succ, [2, 3, 4, 5, 6, 7, 8, 9]);
//! # Ok::<(), pastry_kernel::StateError>(())
//! ```

use crate::arith::{Column, Row};
use crate::node::NodeRef;
use crate::state::{Forgotten, NodeState};
use crate::word::RingWord;

/// A side of the leaf set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The clockwise side (successors).
    Successor,
    /// The counter-clockwise side (predecessors).
    Predecessor,
}

/// One node to ask during repair, and what to ask it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepairHint<H, W> {
    /// Ask `ask` for its leaf set, to refill a hole on `side`
    /// ([`NodeState::repair_leaf_set`]).
    LeafSet {
        /// The node to ask: a member of that side, farthest first.
        ask: NodeRef<H, W>,
        /// The side with the hole.
        side: Side,
    },
    /// Ask `ask` for row `row` of its routing table (its entry R\[row\]\[column\] is what fills
    /// our slot) ([`NodeState::merge_row`]).
    Row {
        /// The node to ask: an entry of row `row`, then of row `row + 1`.
        ask: NodeRef<H, W>,
        /// The row of the hole.
        row: Row,
        /// The column of the hole.
        column: Column,
    },
    /// Ask `ask` for its neighborhood set ([`NodeState::merge_neighborhood`]).
    Neighborhood {
        /// The node to ask: another member of the neighborhood set, nearest first.
        ask: NodeRef<H, W>,
    },
}

impl<H: Copy, W: Copy> RepairHint<H, W> {
    /// The node to ask.
    #[must_use]
    pub fn ask(&self) -> NodeRef<H, W> {
        match *self {
            RepairHint::LeafSet { ask, .. }
            | RepairHint::Row { ask, .. }
            | RepairHint::Neighborhood { ask } => ask,
        }
    }
}

impl<H: Copy, W: RingWord> NodeState<H, W> {
    /// Whom to ask to fill the holes that [`NodeState::forget`] reported, best first: leaf-set
    /// hints (successor side, then predecessor side, each farthest first), then routing-table
    /// hints (the other entries of the hole's row in column order, then row + 1), then
    /// neighborhood hints (nearest first). Hints for a structure that lost nothing are absent.
    ///
    /// The host skips hints it knows to be dead and stops a kind once its hole is filled.
    /// Does not allocate.
    pub fn repair_hints<'a>(
        &'a self,
        forgotten: &Forgotten<H, W>,
    ) -> impl Iterator<Item = RepairHint<H, W>> + 'a {
        let sides = forgotten.leaf_set;
        let successors = sides
            .successor
            .then(|| self.leaf_repair_hints(Side::Successor))
            .into_iter()
            .flatten();
        let predecessors = sides
            .predecessor
            .then(|| self.leaf_repair_hints(Side::Predecessor))
            .into_iter()
            .flatten();
        let rows = forgotten
            .slot
            .map(|(row, column)| self.row_repair_hints(row, column))
            .into_iter()
            .flatten();
        let neighborhood = forgotten
            .neighborhood
            .then(|| self.neighborhood_repair_hints())
            .into_iter()
            .flatten();
        successors
            .chain(predecessors)
            .chain(rows)
            .chain(neighborhood)
    }

    /// Whom to ask for a leaf set to refill one side: the members of that side, farthest first
    /// (docs/design.md, *Failure repair*), then the members of the other
    /// side, nearest first. The latter matter when the side has no live member left: the
    /// nearest member on the other side holds the local node's neighbourhood on both sides (its
    /// own leaf set reaches past the local node by L/2 − 1 nodes).
    pub fn leaf_repair_hints(&self, side: Side) -> impl Iterator<Item = RepairHint<H, W>> + '_ {
        let (members, others) = match side {
            Side::Successor => (self.leaf.successors(), self.leaf.predecessors()),
            Side::Predecessor => (self.leaf.predecessors(), self.leaf.successors()),
        };
        members
            .iter()
            .rev()
            .chain(
                others
                    .iter()
                    .filter(move |o| !members.iter().any(|m| m.id == o.id)),
            )
            .map(move |&ask| RepairHint::LeafSet { ask, side })
    }

    /// Whom to ask to fill slot R\[row\]\[column\]: the other entries of `row` in column order,
    /// then the entries of `row + 1` (paper 2.5: "casting a wider net").
    pub fn row_repair_hints(
        &self,
        row: Row,
        column: Column,
    ) -> impl Iterator<Item = RepairHint<H, W>> + '_ {
        let same = self
            .table
            .row(row)
            .filter(move |(c, _)| *c != column)
            .map(|(_, e)| e);
        let below = row
            .0
            .checked_add(1)
            .map(|r| self.table.row(Row(r)).map(|(_, e)| e))
            .into_iter()
            .flatten();
        same.chain(below).map(move |e| RepairHint::Row {
            ask: e.node,
            row,
            column,
        })
    }

    /// The members of the neighborhood set, nearest first: whom to ask for their neighborhood
    /// sets after a neighborhood member was forgotten.
    pub fn neighborhood_repair_hints(&self) -> impl Iterator<Item = RepairHint<H, W>> + '_ {
        self.neighborhood
            .entries()
            .iter()
            .map(|e| RepairHint::Neighborhood { ask: e.node })
    }

    /// How many members each side of the leaf set lacks: 0 when the side is full or when the
    /// leaf set knows the whole ring (a short side then holds every node), else L/2 − length.
    /// The host repairs until both are 0 or no live node can supply more.
    #[must_use]
    pub fn leaf_set_shortfall(&self) -> (usize, usize) {
        if self.leaf.knows_whole_ring() {
            return (0, 0);
        }
        let half = self.leaf.half();
        (
            half.saturating_sub(self.leaf.successors().len()),
            half.saturating_sub(self.leaf.predecessors().len()),
        )
    }
}
