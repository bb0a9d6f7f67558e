//! Join (paper section 2.4) and the merges that fill a node's state from other nodes' state.
//!
//! Everything here is pure: the host carries the join message, collects the state of the nodes
//! on its route, measures proximity and hands the results in. The kernel builds the new node's
//! state and says whom to tell.
//!
//! # The join, step by step (docs/design.md, *Join*)
//! 1. The new node X knows a nearby node A. The host asks A to route a join message for the key
//!    X; it visits A = N₀, N₁, …, Z = Nₖ, where Z is the root of X among the live nodes. The host
//!    collects the state of each node on the way (by messages, or from a snapshot in a simulator).
//! 2. [`NodeState::join`] builds X's state from those snapshots: row r of X's routing table from
//!    the first node Nᵢ of the route whose row r is valid for X (shl(Nᵢ, X) ≥ r: for the usual
//!    route, where hop i shares i digits with X, that is exactly "row i from the i-th node"), the
//!    leaf set from Z's leaf set plus Z, the neighborhood set from A's set plus A. Every node of
//!    the route is offered too. The host's proximity figure decides between candidates.
//! 3. The second stage (paper: "X requests the state from each of the nodes in its routing table
//!    and neighborhood set"): [`NodeState::merge_state`] with each such snapshot, so nearer nodes
//!    replace farther ones.
//! 4. Every node in [`NodeState::members`] learns of X ([`NodeState::learn`]).
//!
//! ```
//! use pastry_kernel::{Config, NodeRef, NodeState};
//!
//! // Three nodes on a 16-bit ring, built by joins; the handle is an index, proximity |i - j|.
//! let ids = [0x1000u16, 0x8000, 0x8100];
//! let node = |i: usize| NodeRef::new(ids[i], i);
//! let near = |me: usize| move |n: &NodeRef<usize, u16>| me.abs_diff(n.handle) as u32;
//! let mut net = vec![NodeState::join(Config::PAPER, node(0), &[], near(0))?];
//! for x in 1..ids.len() {
//!     // A = node 0 routes the join message for key ids[x]; here it ends at node 0 or 1.
//!     let mut route = vec![0usize];
//!     while let Some(next) = net[*route.last().unwrap()].route(ids[x]).next_hop() {
//!         route.push(next.handle);
//!     }
//!     let snapshots: Vec<&NodeState<usize, u16>> = route.iter().map(|&i| &net[i]).collect();
//!     let state = NodeState::join(Config::PAPER, node(x), &snapshots, near(x))?;
//!     // Everyone X knows learns of X.
//!     let tell: Vec<usize> = state.members().map(|m| m.handle).collect();
//!     for i in tell {
//!         net[i].learn(node(x), near(i)(&node(x)))?;
//!     }
//!     net.push(state);
//! }
//! assert!(net.iter().all(|s| s.leaf_set().len() == 2));
//! # Ok::<(), pastry_kernel::StateError>(())
//! ```

use crate::arith::{shl_len, Row};
use crate::config::Config;
use crate::error::StateError;
use crate::leafset::LeafSet;
use crate::neighborhood::NeighborhoodSet;
use crate::node::{NodeRef, Proximity};
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

/// The host's answer when asked for the proximity of a node it is about to be told of.
///
/// A plain [`Proximity`] figure means "take it into account at this figure". `None` (an
/// `Option<Proximity>`) means "do not take this node": it did not answer a probe, the host
/// suspects it, or an admission rule refuses it. Join and merge functions accept closures
/// returning either, so a simple host writes `|n| distance(n)` and a careful one
/// `|n| is_live(n).then(|| distance(n))`.
pub trait Probe {
    /// The figure to use, or `None` to leave the node out.
    fn figure(self) -> Option<Proximity>;
}

impl Probe for Proximity {
    #[inline]
    fn figure(self) -> Option<Proximity> {
        Some(self)
    }
}

impl Probe for Option<Proximity> {
    #[inline]
    fn figure(self) -> Option<Proximity> {
        self
    }
}

/// What a merge did with the nodes it was offered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Merged {
    /// Nodes offered to the state: every candidate other than the local node that the host's
    /// probe accepted (a node may be counted more than once when it came from several places).
    pub offered: usize,
    /// Offers after which a structure held a node it did not hold before
    /// ([`Learned::added`](crate::Learned::added)).
    pub added: usize,
    /// Candidates the probe answered `None` for.
    pub refused: usize,
}

impl Merged {
    pub(crate) fn absorb(&mut self, other: Merged) {
        self.offered += other.offered;
        self.added += other.added;
        self.refused += other.refused;
    }
}

/// What a join message gathers on its way, for [`NodeState::join_from_parts`]: the parts of the
/// route nodes' states that the paper's join takes, without whole snapshots.
///
/// A protocol carries these in its join messages: each hop appends its own node and the rows
/// [`NodeState::join_rows`] names; the root adds its leaf set; the first hop (the contact A)
/// adds its neighborhood set.
#[derive(Clone, Copy, Debug)]
pub struct JoinParts<'a, H, W> {
    /// The route's nodes in order: the contact A first, the root Z last.
    pub route: &'a [NodeRef<H, W>],
    /// The rows the route's nodes supplied, each as a table of its node holding that row
    /// (as a decoded row piece is), in route order.
    pub rows: &'a [(Row, &'a RoutingTable<H, W>)],
    /// Z's leaf set.
    pub leaf_set: &'a LeafSet<H, W>,
    /// A's neighborhood set.
    pub neighborhood: &'a NeighborhoodSet<H, W>,
}

impl<H: Copy, W: RingWord> NodeState<H, W> {
    /// The rows this node supplies as a hop on the join route of `joiner` when the rows
    /// `0..gathered` were taken from earlier hops: `gathered ..= shl(own, joiner)` (empty when
    /// that is below `gathered`, or when this node is the joiner). Rows the table does not store
    /// are empty but still count as taken: the joiner's row r comes from the first route node
    /// that shares r digits with it, even when that node's row r is empty.
    ///
    /// ```
    /// use pastry_kernel::{Config, NodeRef, NodeState};
    ///
    /// let hop = NodeState::new(Config::PAPER, NodeRef::new(0x1234u16, ()));
    /// // The joiner 0x1299 shares 2 digits with the hop: rows 0, 1 and 2 are the hop's to give.
    /// assert_eq!(hop.join_rows(0x1299, 0), 0..3);
    /// // With rows 0 and 1 taken from earlier hops, only row 2.
    /// assert_eq!(hop.join_rows(0x1299, 2), 2..3);
    /// assert!(hop.join_rows(0x1299, 3).is_empty());
    /// ```
    #[must_use]
    pub fn join_rows(&self, joiner: W, gathered: usize) -> core::ops::Range<usize> {
        if joiner == self.own.id {
            return gathered..gathered;
        }
        let top = shl_len(self.own.id, joiner, self.config.digit_width()) as usize;
        gathered..(top + 1).max(gathered)
    }

    /// Builds the state of the joining node `own` from the [`JoinParts`] its join message
    /// gathered: the same state [`NodeState::join`] builds from the snapshots of the route's
    /// nodes, when `parts.rows` holds the rows [`NodeState::join_rows`] names for each hop.
    /// Offers, in order, each route node followed by the rows it supplied, then every member
    /// of Z's leaf set, then every member of A's neighborhood set; `proximity` is called once
    /// per candidate (see [`Probe`]).
    ///
    /// # Errors
    /// Nothing is built when
    /// * a route node has `own`'s id: [`StateError::OwnId`];
    /// * a row belongs to no route node, or the leaf set is not Z's:
    ///   [`StateError::WrongOwner`];
    /// * a row has another b, the leaf set another L or the neighborhood set another |M|:
    ///   [`StateError::ConfigMismatch`].
    pub fn join_from_parts<P: Probe>(
        config: Config,
        own: NodeRef<H, W>,
        parts: &JoinParts<'_, H, W>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Self, StateError> {
        if parts.route.iter().any(|n| n.id == own.id) {
            return Err(StateError::OwnId);
        }
        for (_, t) in parts.rows {
            if t.digit_width() != config.digit_width() {
                return Err(StateError::ConfigMismatch);
            }
            if !parts.route.iter().any(|n| n.id == t.own()) {
                return Err(StateError::WrongOwner);
            }
        }
        if parts.leaf_set.half() != config.leaf_set_half()
            || parts.neighborhood.capacity() != config.neighborhood_len()
        {
            return Err(StateError::ConfigMismatch);
        }
        if let Some(z) = parts.route.last() {
            if parts.leaf_set.own() != z.id {
                return Err(StateError::WrongOwner);
            }
        }
        let mut state = NodeState::new(config, own);
        for hop in parts.route {
            state.offer(hop, &mut proximity);
            for (row, t) in parts.rows.iter().filter(|(_, t)| t.own() == hop.id) {
                for (_, e) in t.row(*row) {
                    state.offer(&e.node, &mut proximity);
                }
            }
        }
        if !parts.route.is_empty() {
            for n in parts.leaf_set.iter() {
                state.offer(n, &mut proximity);
            }
            for e in parts.neighborhood.entries() {
                state.offer(&e.node, &mut proximity);
            }
        }
        state.invariants();
        Ok(state)
    }

    /// Builds the state of the joining node `own` from the snapshots of the nodes on its join
    /// route, `route[0]` = A (the nearby node that routed the join message for key `own.id`)
    /// through `route[k]` = Z (where it ended, the root of `own.id`).
    ///
    /// * **Routing table.** Row r is taken from the first route node Nᵢ whose row r is valid for
    ///   X, that is shl(Nᵢ, X) ≥ r; with one more shared digit per hop this is the paper's "row i
    ///   from the i-th node". Rows are offered once each, so each row comes from one node.
    /// * **Leaf set.** Z's leaf set plus Z.
    /// * **Neighborhood set.** A's neighborhood set plus A.
    /// * Every route node itself is offered as well.
    ///
    /// Each candidate goes through [`NodeState::learn`], so every structure keeps what belongs in
    /// it: a slot keeps the candidate with the smallest figure, the leaf set the L/2 nearest ids
    /// on each side, the neighborhood the |M| nearest figures. `proximity` is called once per
    /// candidate (see [`Probe`]; `None` leaves the candidate out).
    ///
    /// An empty `route` means X is the first node of a new ring: the state is empty.
    ///
    /// The nodes that must now learn of X are [`NodeState::members`] of the result.
    ///
    /// # Errors
    /// Nothing is built when
    /// * a snapshot was built for another [`Config`]: [`StateError::ConfigMismatch`];
    /// * a snapshot is of a node with X's own id (the id is taken): [`StateError::OwnId`].
    pub fn join<P: Probe>(
        config: Config,
        own: NodeRef<H, W>,
        route: &[&NodeState<H, W>],
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Self, StateError> {
        for s in route {
            if s.config != config {
                return Err(StateError::ConfigMismatch);
            }
            if s.own.id == own.id {
                return Err(StateError::OwnId);
            }
        }
        let mut state = NodeState::new(config, own);
        let b = config.digit_width();
        // The first row not yet taken from an earlier route node.
        let mut next_row: u32 = 0;
        for s in route {
            state.offer(&s.own, &mut proximity);
            // Ids differ (checked above), so shl < BITS / b: a real row.
            let top = shl_len(s.own.id, own.id, b);
            while next_row <= top {
                #[allow(clippy::cast_possible_truncation)] // rows < 128
                let row = Row(next_row as u8);
                for (_, e) in s.table.row(row) {
                    state.offer(&e.node, &mut proximity);
                }
                next_row += 1;
            }
        }
        if let Some(z) = route.last() {
            for n in z.leaf.iter() {
                state.offer(n, &mut proximity);
            }
        }
        if let Some(a) = route.first() {
            for e in a.neighborhood.entries() {
                state.offer(&e.node, &mut proximity);
            }
        }
        state.invariants();
        Ok(state)
    }

    /// Every distinct node held by the leaf set, the routing table or the neighborhood set, each
    /// once: leaf-set members first, then table entries not in the leaf set, then neighborhood
    /// members in neither. After a join these are the nodes that must learn of the new node.
    ///
    /// Does not allocate.
    pub fn members(&self) -> impl Iterator<Item = &NodeRef<H, W>> + '_ {
        let leaf = &self.leaf;
        let table = &self.table;
        leaf.iter()
            .chain(
                table
                    .iter()
                    .map(|(_, _, e)| &e.node)
                    .filter(move |n| !leaf.contains(n.id)),
            )
            .chain(
                self.neighborhood
                    .entries()
                    .iter()
                    .map(|e| &e.node)
                    .filter(move |n| !leaf.contains(n.id) && table.find(n.id).is_none()),
            )
    }

    /// The paper's second join stage, and the general "merge what another node knows": offers
    /// `other`'s node and every member of `other`'s state ([`NodeState::members`]) to this
    /// state, each at the host's `proximity` figure. Nearer candidates replace farther ones in
    /// the table and the neighborhood set; the leaf set keeps the nearest ids.
    ///
    /// The local node, if `other` holds it, is skipped.
    ///
    /// # Errors
    /// The state is unchanged when
    /// * `other` was built for another [`Config`]: [`StateError::ConfigMismatch`];
    /// * `other` is the local node's own state: [`StateError::OwnId`].
    pub fn merge_state<P: Probe>(
        &mut self,
        other: &NodeState<H, W>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Merged, StateError> {
        if other.config != self.config {
            return Err(StateError::ConfigMismatch);
        }
        if other.own.id == self.own.id {
            return Err(StateError::OwnId);
        }
        let mut merged = self.offer(&other.own, &mut proximity);
        for n in other.members() {
            merged.absorb(self.offer(n, &mut proximity));
        }
        self.invariants();
        Ok(merged)
    }

    /// Merges the leaf set that the node `from` sent (a join's leaf set, a periodic exchange):
    /// offers `from` and every member of `their` leaf set, each through [`NodeState::learn`]
    /// at the host's figure, like every merge here. For refilling a side that failures left
    /// short, [`NodeState::repair_leaf_set`] is the safer call.
    ///
    /// # Errors
    /// The state is unchanged when
    /// * `from` is the local node: [`StateError::OwnId`];
    /// * `their` is not `from`'s leaf set: [`StateError::WrongOwner`];
    /// * `their` has another L: [`StateError::ConfigMismatch`].
    pub fn merge_leaf_set<P: Probe>(
        &mut self,
        from: &NodeRef<H, W>,
        their: &LeafSet<H, W>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Merged, StateError> {
        self.check_leaf_set_from(from, their)?;
        let mut merged = self.offer(from, &mut proximity);
        for n in their.iter() {
            merged.absorb(self.offer(n, &mut proximity));
        }
        self.invariants();
        Ok(merged)
    }

    /// The checks of [`NodeState::merge_leaf_set`] and [`NodeState::repair_leaf_set`].
    pub(crate) fn check_leaf_set_from(
        &self,
        from: &NodeRef<H, W>,
        their: &LeafSet<H, W>,
    ) -> Result<(), StateError> {
        if from.id == self.own.id {
            return Err(StateError::OwnId);
        }
        if their.own() != from.id {
            return Err(StateError::WrongOwner);
        }
        if their.half() != self.config.leaf_set_half() {
            return Err(StateError::ConfigMismatch);
        }
        Ok(())
    }

    /// Merges row `row` of the routing table that the node `from` sent (routing-table repair, or
    /// a join's row): offers `from` and every entry of that row. A row past the last one offers
    /// only `from`.
    ///
    /// # Errors
    /// The state is unchanged when
    /// * `from` is the local node: [`StateError::OwnId`];
    /// * `their` is not `from`'s table: [`StateError::WrongOwner`];
    /// * `their` has another b: [`StateError::ConfigMismatch`].
    pub fn merge_row<P: Probe>(
        &mut self,
        from: &NodeRef<H, W>,
        their: &RoutingTable<H, W>,
        row: Row,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Merged, StateError> {
        if from.id == self.own.id {
            return Err(StateError::OwnId);
        }
        if their.own() != from.id {
            return Err(StateError::WrongOwner);
        }
        if their.digit_width() != self.config.digit_width() {
            return Err(StateError::ConfigMismatch);
        }
        let mut merged = self.offer(from, &mut proximity);
        for (_, e) in their.row(row) {
            merged.absorb(self.offer(&e.node, &mut proximity));
        }
        self.invariants();
        Ok(merged)
    }

    /// Merges the neighborhood set that the node `from` sent (neighborhood repair, or a join's
    /// neighborhood): offers `from` and every member of `their` set.
    ///
    /// # Errors
    /// The state is unchanged when
    /// * `from` is the local node: [`StateError::OwnId`];
    /// * `their` holds `from` itself, so it cannot be `from`'s set: [`StateError::WrongOwner`];
    /// * `their` has another |M|: [`StateError::ConfigMismatch`].
    pub fn merge_neighborhood<P: Probe>(
        &mut self,
        from: &NodeRef<H, W>,
        their: &NeighborhoodSet<H, W>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Result<Merged, StateError> {
        if from.id == self.own.id {
            return Err(StateError::OwnId);
        }
        if their.get(from.id).is_some() {
            return Err(StateError::WrongOwner);
        }
        if their.capacity() != self.config.neighborhood_len() {
            return Err(StateError::ConfigMismatch);
        }
        let mut merged = self.offer(from, &mut proximity);
        for e in their.entries() {
            merged.absorb(self.offer(&e.node, &mut proximity));
        }
        self.invariants();
        Ok(merged)
    }

    /// Offers each node of `nodes` (for instance a decoded row or leaf set that arrived as a
    /// plain list), skipping the local node. Never fails.
    pub fn merge_nodes<P: Probe>(
        &mut self,
        nodes: impl IntoIterator<Item = NodeRef<H, W>>,
        mut proximity: impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Merged {
        let mut merged = Merged::default();
        for n in nodes {
            merged.absorb(self.offer(&n, &mut proximity));
        }
        self.invariants();
        merged
    }

    /// Offers one node: skips the local node, asks the probe, learns at the figure.
    fn offer<P: Probe>(
        &mut self,
        node: &NodeRef<H, W>,
        proximity: &mut impl FnMut(&NodeRef<H, W>) -> P,
    ) -> Merged {
        if node.id == self.own.id {
            return Merged::default();
        }
        match proximity(node).figure() {
            None => Merged {
                refused: 1,
                ..Merged::default()
            },
            Some(p) => match self.learn(*node, p) {
                Ok(learned) => Merged {
                    offered: 1,
                    added: usize::from(learned.added()),
                    refused: 0,
                },
                // Only the local node is refused, and it was skipped above.
                Err(_) => Merged::default(),
            },
        }
    }
}
