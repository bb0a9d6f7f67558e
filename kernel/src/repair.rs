//! Failure repair (paper section 2.5): whom to ask after a node is forgotten, the leaf-set
//! merge that refills a hole ([`NodeState::repair_leaf_set`]) and the shortfall left to repair.
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

use alloc::vec::Vec;

use crate::arith::{cw, in_arc, Column, Row};
use crate::error::StateError;
use crate::join::{Merged, Probe};
use crate::leafset::{LeafSet, Sides};
use crate::node::NodeRef;
use crate::state::{Forgotten, NodeState};
use crate::table::Placement;
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

    /// Leaf-set repair: merges the leaf set that the node `from` sent in answer to a repair
    /// request ([`RepairHint::LeafSet`](crate::RepairHint::LeafSet)). Every node goes to the
    /// routing table and the neighborhood set as in [`NodeState::merge_leaf_set`], but to the
    /// leaf set only on the side(s) where `from`'s view places it:
    ///
    /// * when `their` knows the whole ring, both sides (as [`NodeState::learn`] does);
    /// * otherwise `their` describes the arc from its farthest predecessor to its farthest
    ///   successor (or to `from` itself for an empty side). If the local node lies on that arc, a node clockwise of the local node on
    ///   the arc goes to the successor side only and a node counter-clockwise of it to the
    ///   predecessor side only; if the local node is off the arc, the whole arc goes to the side
    ///   `from` is on (the nearer way round; the predecessor side when `from` is exactly
    ///   opposite);
    /// * when after the merge the two sides share a member (the known nodes wrap around a small
    ///   ring), every member is offered to both sides.
    ///
    /// **Why.** A leaf-set side only ever holds the L/2 nearest known nodes in its direction, so
    /// a side that failures left short takes *any* node offered to it, even one from the far
    /// side of the ring. When the asked node could not supply enough nodes beyond itself (it had
    /// not repaired its own leaf set yet), plain merging pads the short side with the local
    /// node's own predecessors: the side looks full, [`NodeState::leaf_set_shortfall`] reports
    /// nothing, and the two sides may even share a member and claim the whole ring. With this
    /// call the side stays short until a later answer fills it, so repeating the requests while
    /// [`NodeState::leaf_set_shortfall`] reports a gap converges to the true leaf set (the
    /// model test `model_join_learn_forget_merge_keeps_leaf_sets_true`, pull-only mode).
    ///
    /// # Errors
    /// As [`NodeState::merge_leaf_set`]; the state is unchanged.
    pub fn repair_leaf_set<P: Probe>(
        &mut self,
        from: &NodeRef<H, W>,
        their: &LeafSet<H, W>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Merged, StateError> {
        self.check_leaf_set_from(from, their)?;
        let mut merged = self.offer_sided(from, their, &mut proximity);
        for n in their.iter() {
            merged.absorb(self.offer_sided(n, their, &mut proximity));
        }
        if self.leaf.knows_whole_ring() {
            // The sides now share a member: the known nodes wrap around the ring, so each side
            // is the L/2 nearest of all of them in its direction.
            let members: Vec<NodeRef<H, W>> = self.leaf.iter().copied().collect();
            for m in members {
                // Members are never the local node.
                let _ = self.leaf.insert(m);
            }
        }
        self.invariants();
        Ok(merged)
    }

    /// The sides of the local leaf set where `their` leaf set's view places `id` (see
    /// [`NodeState::repair_leaf_set`]).
    fn sides_in_view_of(&self, their: &LeafSet<H, W>, id: W) -> Sides {
        if their.knows_whole_ring() {
            return Sides {
                successor: true,
                predecessor: true,
            };
        }
        // The arc their leaf set covers; an empty side ends the arc at its owner.
        let pfar = their.farthest_predecessor().map_or(their.own(), |n| n.id);
        let sfar = their.farthest_successor().map_or(their.own(), |n| n.id);
        let own = self.own.id;
        if in_arc(&pfar, &sfar, &own) {
            Sides {
                successor: in_arc(&own, &sfar, &id),
                predecessor: in_arc(&pfar, &own, &id),
            }
        } else {
            let f = their.own();
            let clockwise = cw(&own, &f) < cw(&f, &own);
            Sides {
                successor: clockwise,
                predecessor: !clockwise,
            }
        }
    }

    /// [`NodeState::offer`] with the leaf set restricted to the sides `their` view allows.
    fn offer_sided<P: Probe>(
        &mut self,
        node: &NodeRef<H, W>,
        their: &LeafSet<H, W>,
        proximity: &mut impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Merged {
        if node.id == self.own.id {
            return Merged::default();
        }
        let Some(p) = proximity(node).figure() else {
            return Merged {
                refused: 1,
                ..Merged::default()
            };
        };
        let sides = self.sides_in_view_of(their, node.id);
        // The local node was skipped above, so none of the inserts can refuse the node.
        let leaf = self.leaf.insert_on(*node, sides).unwrap_or(false);
        let table = matches!(
            self.table.insert(*node, p),
            Ok(Placement::Added(..) | Placement::Replaced(..))
        );
        let neighborhood = self.neighborhood.insert(*node, p).unwrap_or(false);
        Merged {
            offered: 1,
            added: usize::from(leaf || table || neighborhood),
            refused: 0,
        }
    }
}
