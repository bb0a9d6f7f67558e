//! [`NodeState`]: one node's routing state, and [`NodeState::route`], route(k) as
//! docs/design.md, *Route*, defines it.

use core::mem::size_of;

use crate::arith::{
    closer, key_rank, rare_case_admissible, rare_case_admissible_ranked, rare_case_prefers_ranked,
    shl_len, Column, DigitWidth, KeyRank, Row,
};
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::leafset::{LeafRoot, LeafSet, Sides};
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

/// The answer of [`NodeState::route`] for a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route<H, W = Guid> {
    /// The local node is the end of the route: deliver the message here.
    Deliver,
    /// Send the message on to `to`; `via` says which routing step chose it.
    Forward {
        /// The next hop.
        to: NodeRef<H, W>,
        /// The step of route(k) that chose it.
        via: Via,
    },
}

impl<H: Copy, W> Route<H, W> {
    /// The next hop, or `None` for [`Route::Deliver`].
    #[must_use]
    pub fn next_hop(&self) -> Option<NodeRef<H, W>>
    where
        W: Copy,
    {
        match self {
            Route::Deliver => None,
            Route::Forward { to, .. } => Some(*to),
        }
    }
}

/// Which step of route(k) (docs/design.md, *Route*) chose a next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Via {
    /// Step 1: the key is covered by the leaf set and this member is its root.
    LeafSet,
    /// Step 2: the routing-table slot R\[l\]\[digit(k, l)\].
    Table,
    /// Step 3: the rare case, a known node that shares at least as long a prefix with the key and
    /// is closer to it.
    RareCase,
}

/// What [`NodeState::learn`] changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learned<H, W = Guid> {
    /// The node entered the leaf set: it was not a member before and is one now
    /// ([`LeafSet::insert`]). A member that is refreshed, or also placed on the side it was not
    /// on, does not count.
    pub leaf_set: bool,
    /// What the routing table did with it.
    pub table: Placement<H, W>,
    /// The node entered the neighborhood set.
    pub neighborhood: bool,
}

impl<H, W> Learned<H, W> {
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

/// The largest replica set: L/2 + 1 for the largest leaf set, L = 64.
pub const MAX_REPLICAS: usize = Config::MAX_LEAF_SET / 2 + 1;

/// Up to L/2 + 1 nodes, closest to a key first: the answer of [`NodeState::replica_set`].
///
/// Fixed capacity ([`ReplicaSet::CAPACITY`]); building one does not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaSet<H, W = Guid> {
    len: u8,
    nodes: [Option<NodeRef<H, W>>; MAX_REPLICAS],
}

impl<H, W> ReplicaSet<H, W> {
    /// The largest replica set: L/2 + 1 for the largest leaf set, L = 64.
    pub const CAPACITY: usize = MAX_REPLICAS;

    /// The number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there is no node.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The nodes, closest to the key first.
    pub fn iter(&self) -> impl Iterator<Item = &NodeRef<H, W>> + '_ {
        self.nodes.iter().take(self.len()).flatten()
    }

    /// The node of rank `i` (0 is the root).
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&NodeRef<H, W>> {
        self.nodes.get(i).and_then(Option::as_ref)
    }
}

impl<H: Copy, W: RingWord> ReplicaSet<H, W> {
    fn empty() -> Self {
        ReplicaSet {
            len: 0,
            nodes: [None; MAX_REPLICAS],
        }
    }

    /// Offers `node`; keeps the `cap` closest to `key` in closer-order.
    fn offer(&mut self, key: W, node: NodeRef<H, W>, cap: usize) {
        let len = self.len();
        if self.iter().any(|n| n.id == node.id) {
            return;
        }
        let at = self
            .iter()
            .position(|n| closer(&key, &node.id, &n.id))
            .unwrap_or(len);
        if at >= cap {
            return;
        }
        let last = len.min(cap - 1);
        if let Some(tail) = self.nodes.get_mut(at..=last) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = Some(node);
            }
        }
        #[allow(clippy::cast_possible_truncation)] // at most CAPACITY
        {
            self.len = (len + 1).min(cap) as u8;
        }
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
    ) -> Result<Learned<H, W>, StateError> {
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

    /// **route(k)** (docs/design.md, *Route*): where a message for `key` goes next from this node.
    ///
    /// 1. `key` covered by the leaf set: its root among the leaf set and the local node; Deliver
    ///    if that is the local node, else Forward to it ([`Via::LeafSet`]).
    /// 2. else, with l = shl(key, own), Forward to R\[l\]\[digit(key, l)\] if present
    ///    ([`Via::Table`]).
    /// 3. else (rare case) Forward to the best T in L ∪ R ∪ M with shl(T, key) ≥ l and
    ///    closer(key, T, own), best meaning the longest shared prefix with the key, then the
    ///    closest ([`Via::RareCase`]); Deliver if there is none.
    ///
    /// Never allocates and never panics.
    #[inline]
    #[must_use]
    pub fn route(&self, key: W) -> Route<H, W> {
        match self.leaf.root(key) {
            LeafRoot::Own => return Route::Deliver,
            LeafRoot::Member(n) => {
                return Route::Forward {
                    to: *n,
                    via: Via::LeafSet,
                }
            }
            LeafRoot::NotCovered => {}
        }
        if let Some(e) = self.table.next_hop(key) {
            return Route::Forward {
                to: e.node,
                via: Via::Table,
            };
        }
        self.rare_case(key)
    }

    /// Step 3 of route(k), for a key that is not covered and whose table slot is empty.
    ///
    /// The answer is the best of [`NodeState::rare_case_candidates`] by
    /// [`rare_case_prefers`](crate::arith::rare_case_prefers), the first in their order among
    /// equals. The scan visits the same nodes in the same order, ranks each once ([`key_rank`]:
    /// its shl and distance to `key`) and keeps the best's rank instead of recomputing it for
    /// every comparison. Never allocates and never panics.
    #[must_use]
    pub fn rare_case(&self, key: W) -> Route<H, W> {
        let mut scan = RareScan::new(key, self.own.id, self.config.digit_width());
        for t in self
            .leaf
            .successors()
            .iter()
            .chain(self.leaf.predecessors())
        {
            scan.offer(t);
        }
        #[allow(clippy::cast_possible_truncation)] // shl <= 128
        let from = Row(scan.own.shl.to_u128() as u8);
        for row in self.table.row_entries_from(from) {
            for e in row {
                scan.offer(&e.node);
            }
        }
        for e in self.neighborhood.entries() {
            scan.offer(&e.node);
        }
        match scan.best {
            Some(t) => Route::Forward {
                to: *t,
                via: Via::RareCase,
            },
            None => Route::Deliver,
        }
    }

    /// The nodes of L ∪ R ∪ M that step 3 may choose for `key`: shl(T, key) ≥ shl(own, key) and
    /// closer(key, T, own). A node held by several structures appears more than once.
    pub fn rare_case_candidates(&self, key: W) -> impl Iterator<Item = &NodeRef<H, W>> + '_ {
        let b = self.config.digit_width();
        let own = self.own.id;
        let l = shl_len(key, own, b);
        #[allow(clippy::cast_possible_truncation)] // l <= 128
        let from = Row(l as u8);
        self.leaf
            .successors()
            .iter()
            .chain(self.leaf.predecessors())
            .chain(self.table.iter_from(from).map(|e| &e.node))
            .chain(self.neighborhood.entries().iter().map(|e| &e.node))
            .filter(move |t| rare_case_admissible(&key, &own, &t.id, b))
    }

    /// The **replica set** (docs/design.md, *Replica set*; Common API `replicaSet(k, r)`): the `r`
    /// nodes closest to `key` among the leaf set and the local node, closest first; `r` is capped
    /// at L/2 + 1.
    #[must_use]
    pub fn replica_set(&self, key: W, r: usize) -> ReplicaSet<H, W> {
        let cap = r.min(self.config.max_replicas());
        let mut set = ReplicaSet::empty();
        if cap == 0 {
            return set;
        }
        set.offer(key, self.own, cap);
        for n in self
            .leaf
            .successors()
            .iter()
            .chain(self.leaf.predecessors())
        {
            set.offer(key, *n, cap);
        }
        set
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

/// Step 3's scan over the candidates: the best admissible node so far, with its rank for the key.
struct RareScan<'a, H, W> {
    key: W,
    b: DigitWidth,
    /// The local node's rank for the key.
    own: KeyRank<W>,
    /// The best so far, if any.
    best: Option<&'a NodeRef<H, W>>,
    /// The best's rank; the local node's (unused) while there is no best.
    best_rank: KeyRank<W>,
}

impl<'a, H, W: RingWord> RareScan<'a, H, W> {
    #[inline(always)]
    fn new(key: W, own: W, b: DigitWidth) -> Self {
        let own = key_rank(&key, &own, b);
        RareScan {
            key,
            b,
            own,
            best: None,
            best_rank: own,
        }
    }

    /// Offers `t`: it becomes the best if it is admissible ([`rare_case_admissible_ranked`]) and
    /// there is no best yet or it is preferred to the best ([`rare_case_prefers_ranked`]); on a
    /// tie the best stays.
    ///
    /// The preference is tested first: once a best is found, most later nodes do not beat it, so
    /// that test mostly rejects (a branch the processor predicts well), and admissibility is
    /// evaluated only for the nodes that pass.
    #[inline(always)]
    fn offer(&mut self, t: &'a NodeRef<H, W>) {
        let rank = key_rank(&self.key, &t.id, self.b);
        if self.best.is_some() && !rare_case_prefers_ranked(&self.key, &rank, &self.best_rank) {
            return;
        }
        if rare_case_admissible_ranked(&self.key, &self.own, &rank) {
            self.best = Some(t);
            self.best_rank = rank;
        }
    }
}
