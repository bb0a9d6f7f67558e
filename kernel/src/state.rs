//! [`NodeState`]: one node's routing state, and the changes that keep it: [`NodeState::learn`],
//! [`NodeState::admits`], [`NodeState::forget`]. Routing is in the route module, the other
//! Common API calls in the common_api module, joins and merges in join, repair in repair.

use core::mem::size_of;

use crate::arith::{Column, Row};
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::leafset::{LeafSet, Sides};
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef, Proximity};
use crate::table::{Placement, RoutingTable};
use crate::word::RingWord;

/// The routing state of one node: its leaf set, routing table and neighborhood set.
///
/// `H` is the host's handle type (copied, never inspected); `W` the id word, [`Guid`] unless a
/// test runs on a narrow ring.
///
/// # Invariants
/// Checked by [`NodeState::invariants`] after every change in debug builds and by the
/// model-based property tests:
///
/// 1. the leaf set, routing table and neighborhood set each keep their own invariants
///    ([`LeafSet`], [`RoutingTable`], [`NeighborhoodSet`]);
/// 2. all three belong to the local node's id and were sized by this state's [`Config`];
/// 3. the local node is in none of them.
///
/// ```
/// use pastry_kernel::{Config, Guid, NodeRef, NodeState, Route, Via};
///
/// let me = NodeRef::new(Guid::new(0x1000 << 112), "me");
/// let mut state = NodeState::new(Config::PAPER, me);
/// state.learn(NodeRef::new(Guid::new(0x2000 << 112), "two"), 10)?;
/// state.learn(NodeRef::new(Guid::new(0x3000 << 112), "three"), 20)?;
///
/// // Three nodes: the leaf set knows the whole ring, so every key goes to its root.
/// match state.route(Guid::new(0x2100 << 112)) {
///     Route::Forward { to, via } => assert_eq!((to.handle, via), ("two", Via::LeafSet)),
///     Route::Deliver => unreachable!(),
/// }
/// assert_eq!(state.route(Guid::new(0x1001 << 112)), Route::Deliver);
/// # Ok::<(), pastry_kernel::StateError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeState<H, W = Guid> {
    pub(crate) config: Config,
    pub(crate) own: NodeRef<H, W>,
    pub(crate) leaf: LeafSet<H, W>,
    pub(crate) table: RoutingTable<H, W>,
    pub(crate) neighborhood: NeighborhoodSet<H, W>,
}

/// What [`NodeState::learn`] changed: three flags' worth (five bytes), returned in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Learned {
    /// The node entered the leaf set: it was not a member before and is one now
    /// ([`LeafSet::insert`]). A member that is refreshed, or also placed on the side it was not
    /// on, does not count.
    pub leaf_set: bool,
    /// What the routing table did with it (an evicted incumbent is not reported; see
    /// [`Placement`]).
    pub table: Placement,
    /// The node entered the neighborhood set.
    pub neighborhood: bool,
}

impl Learned {
    /// Whether any structure now holds the node that did not before (a refresh does not count).
    #[must_use]
    pub fn added(&self) -> bool {
        self.leaf_set
            || self.neighborhood
            || matches!(self.table, Placement::Added(..) | Placement::Replaced(..))
    }
}

/// Which structures [`NodeState::learn`] would add a node to: the answer of
/// [`NodeState::admits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Admission {
    /// The leaf set would take it.
    pub leaf_set: bool,
    /// Its routing-table slot is empty, or held by another node with a larger figure.
    pub table: bool,
    /// The neighborhood set would take it.
    pub neighborhood: bool,
}

impl Admission {
    /// Whether any structure would take the node.
    #[must_use]
    pub fn any(&self) -> bool {
        self.leaf_set || self.table || self.neighborhood
    }
}

/// What [`NodeState::forget`] removed: the holes that repair should fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forgotten<H, W = Guid> {
    /// The forgotten node as it was known, if any structure held it.
    pub node: Option<NodeRef<H, W>>,
    /// The leaf-set sides it left a hole in.
    pub leaf_set: Sides,
    /// The routing-table slot it emptied.
    pub slot: Option<(Row, Column)>,
    /// Whether it left the neighborhood set.
    pub neighborhood: bool,
}

impl<H, W> Forgotten<H, W> {
    /// Whether the node was known at all.
    #[must_use]
    pub fn was_known(&self) -> bool {
        self.node.is_some()
    }
}

impl<H: Copy, W: RingWord> NodeState<H, W> {
    /// An empty state for the local node `own`.
    #[must_use]
    pub fn new(config: Config, own: NodeRef<H, W>) -> Self {
        let state = NodeState {
            config,
            own,
            leaf: LeafSet::new(own.id, &config),
            table: RoutingTable::new(own.id, config.digit_width()),
            neighborhood: NeighborhoodSet::new(own.id, config.neighborhood_len()),
        };
        state.invariants();
        state
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The local node.
    #[must_use]
    pub fn own(&self) -> &NodeRef<H, W> {
        &self.own
    }

    /// The local node's id.
    #[must_use]
    pub fn id(&self) -> W {
        self.own.id
    }

    /// The leaf set.
    #[must_use]
    pub fn leaf_set(&self) -> &LeafSet<H, W> {
        &self.leaf
    }

    /// The routing table.
    #[must_use]
    pub fn table(&self) -> &RoutingTable<H, W> {
        &self.table
    }

    /// The neighborhood set.
    #[must_use]
    pub fn neighborhood(&self) -> &NeighborhoodSet<H, W> {
        &self.neighborhood
    }

    /// Whether any structure holds the node `id`.
    #[must_use]
    pub fn knows(&self, id: W) -> bool {
        self.leaf.contains(id)
            || self.table.find(id).is_some()
            || self.neighborhood.get(id).is_some()
    }

    /// Offers a node, with the host's proximity figure for it, to the leaf set, the routing
    /// table and the neighborhood set; each keeps it if it belongs there.
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `node` is the local node; the state is unchanged.
    pub fn learn(
        &mut self,
        node: NodeRef<H, W>,
        proximity: Proximity,
    ) -> Result<Learned, StateError> {
        if node.id == self.own.id {
            return Err(StateError::OwnId);
        }
        let leaf_set = self.leaf.insert(node)?;
        let table = self.table.insert(node, proximity)?;
        let neighborhood = self.neighborhood.insert(node, proximity)?;
        self.invariants();
        Ok(Learned {
            leaf_set,
            table,
            neighborhood,
        })
    }

    /// Which structures [`NodeState::learn`] of the node `id` at `proximity` would add it to,
    /// without changing anything ([`Learned::added`] of that call equals
    /// [`Admission::any`] of this one). A node already held by a structure is not admitted
    /// to it again (learning it would refresh it); the local node is admitted nowhere.
    ///
    /// **Probing before learning.** A host that measures proximity with its own messages (a
    /// probe now, its reply later) asks `admits(id, 0)` — "would this node be kept if it were
    /// near enough?" — and probes only the nodes that pass, then learns each at its measured
    /// figure when the reply comes. A host that already has a figure asks with it. The leaf set
    /// does not depend on the figure.
    ///
    /// ```
    /// use pastry_kernel::{Config, NodeRef, NodeState};
    ///
    /// let mut s = NodeState::new(Config::PAPER, NodeRef::new(0x1000u16, 0u8));
    /// s.learn(NodeRef::new(0x8000, 1), 50)?;
    /// // 0x8100 shares slot R[0][8] with 0x8000: kept only if nearer than 50.
    /// assert!(s.admits(0x8100, 0).table);
    /// assert!(!s.admits(0x8100, 50).table);
    /// // A known node is not admitted again.
    /// assert!(!s.admits(0x8000, 0).any());
    /// # Ok::<(), pastry_kernel::StateError>(())
    /// ```
    #[must_use]
    pub fn admits(&self, id: W, proximity: Proximity) -> Admission {
        if id == self.own.id {
            return Admission::default();
        }
        Admission {
            leaf_set: self.leaf.would_insert(id),
            table: self.table.would_place(id, proximity),
            neighborhood: self.neighborhood.would_insert(id, proximity),
        }
    }

    /// Removes the node `id` from every structure and reports the holes it left.
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `id` is the local node; the state is unchanged.
    pub fn forget(&mut self, id: W) -> Result<Forgotten<H, W>, StateError> {
        if id == self.own.id {
            return Err(StateError::OwnId);
        }
        let known = self.leaf.get(id).copied();
        let leaf_set = self.leaf.remove(id);
        let slot = self.table.remove(id);
        let neighborhood = self.neighborhood.remove(id);
        let node = known
            .or(slot.map(|(_, _, e)| e.node))
            .or(neighborhood.map(|e| e.node));
        self.invariants();
        Ok(Forgotten {
            node,
            leaf_set,
            slot: slot.map(|(r, c, _)| (r, c)),
            neighborhood: neighborhood.is_some(),
        })
    }

    /// Bytes of heap memory held by this state (not counting `size_of::<Self>()`).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let node = size_of::<NodeRef<H, W>>();
        let leaf = (self.leaf.successors().len() + self.leaf.predecessors().len()) * node;
        leaf + self.table.heap_bytes() + self.neighborhood.capacity() * size_of::<Entry<H, W>>()
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            self.leaf.invariants();
            self.table.invariants();
            self.neighborhood.invariants();
            let own = self.own.id;
            assert_eq!(self.leaf.own(), own, "leaf set of another node");
            assert_eq!(self.table.own(), own, "routing table of another node");
            assert_eq!(
                self.leaf.half(),
                self.config.leaf_set_half(),
                "leaf set of another size"
            );
            assert_eq!(
                self.table.digit_width(),
                self.config.digit_width(),
                "table of another b"
            );
            assert_eq!(
                self.neighborhood.capacity(),
                self.config.neighborhood_len(),
                "neighborhood of another size"
            );
        }
    }
}
