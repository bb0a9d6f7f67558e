//! The Common API's calls about keys and neighbours that are not routing decisions (Dabek et
//! al., *Towards a Common API for Structured Peer-to-Peer Overlays*, IPTPS 2003):
//!
//! * [`NodeState::replica_set`] — `replicaSet(key, r)`: the r nodes closest to a key among the
//!   leaf set and the local node (docs/design.md, *Replica set*);
//! * [`NodeState::neighbor_set`] — `neighborSet(num)`: leaf-set members, nearest first;
//! * [`NodeState::range`] — `range(node, rank)` for the local node: the arc of keys it is an
//!   r-root of (docs/design.md, *Range*).
//!
//! The next-hop calls (`route`, `local_lookup`) are in the route module. None of these
//! allocate.

use crate::arith::{closer, cw, in_arc};
use crate::config::Config;
use crate::guid::Guid;
use crate::node::NodeRef;
use crate::state::NodeState;
use crate::word::RingWord;

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

/// An arc of keys from `start` clockwise to `end`, both included: the answer of
/// [`NodeState::range`]. The whole ring is the arc whose `end` is just before its `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyRange<W> {
    /// The first key, counter-clockwise end (the Common API's `lkey`).
    pub start: W,
    /// The last key, clockwise end (the Common API's `rkey`).
    pub end: W,
}

impl<W: RingWord> KeyRange<W> {
    /// Whether `key` lies on the arc.
    #[must_use]
    pub fn contains(&self, key: W) -> bool {
        in_arc(&self.start, &self.end, &key)
    }

    /// Whether the arc is the whole ring.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.end.wrapping_add(&W::from_u128(1)) == self.start
    }

    /// The number of keys on the arc minus one (`cw(start, end)`); `W::MAX` for the whole ring.
    #[must_use]
    pub fn span(&self) -> W {
        cw(&self.start, &self.end)
    }
}

/// Iterator of [`NodeState::neighbor_set`]: leaf-set members, nearest to the local node first.
#[derive(Clone, Debug)]
pub struct NeighborSet<'a, H, W> {
    state: &'a NodeState<H, W>,
    last: Option<W>,
    remaining: usize,
}

impl<'a, H: Copy, W: RingWord> Iterator for NeighborSet<'a, H, W> {
    type Item = &'a NodeRef<H, W>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let own = self.state.own.id;
        let leaf = &self.state.leaf;
        let mut best: Option<&'a NodeRef<H, W>> = None;
        for n in leaf.successors().iter().chain(leaf.predecessors()) {
            let after_last = self.last.is_none_or(|l| closer(&own, &l, &n.id));
            let beats_best = best.is_none_or(|b| closer(&own, &n.id, &b.id));
            if after_last && beats_best {
                best = Some(n);
            }
        }
        let found = best?;
        self.last = Some(found.id);
        self.remaining -= 1;
        Some(found)
    }
}

impl<H: Copy, W: RingWord> NodeState<H, W> {
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

    /// Common API `neighborSet(num)`: up to `n` leaf-set members, nearest to the local node in
    /// the id space first (by [`closer`] to the local id, so a tie goes to the clockwise one).
    /// Each member appears once. Does not allocate (each step scans the leaf set).
    ///
    /// ```
    /// use pastry_kernel::{Config, NodeRef, NodeState};
    ///
    /// let ring: Vec<NodeRef<u8, u16>> = [100u16, 90, 120, 70, 200].iter().zip(0..)
    ///     .map(|(&id, h)| NodeRef::new(id, h)).collect();
    /// let mut me = NodeState::new(Config::PAPER, NodeRef::new(100u16, 9));
    /// for n in &ring[1..] { me.learn(*n, 1)?; }
    /// let near: Vec<u16> = me.neighbor_set(3).map(|n| n.id).collect();
    /// assert_eq!(near, [90, 120, 70]);
    /// # Ok::<(), pastry_kernel::StateError>(())
    /// ```
    #[must_use]
    pub fn neighbor_set(&self, n: usize) -> NeighborSet<'_, H, W> {
        NeighborSet {
            state: self,
            last: None,
            remaining: n,
        }
    }

    /// Common API `range(node, rank)` for the local node A: the arc of keys for which A is an
    /// r-root, meaning A is among the `rank + 1` nodes closest to the key (A is in
    /// `replicaSet(key, rank + 1)` computed over the whole network). `rank` 0 gives the keys A
    /// is the root of. Ranges of growing rank are nested.
    ///
    /// **How it is computed.** Let m = rank + 1, D the clockwise distance from A to its m-th
    /// successor and E the counter-clockwise distance to its m-th predecessor. A key A + t
    /// (clockwise) has fewer than m nodes closer than A exactly when 2t < D (a tie goes to the
    /// clockwise node, the successor), and a key A − t exactly when 2t ≤ E (a tie goes to A). So
    ///
    /// `start = A − ⌊E/2⌋`, `end = A + ⌊(D − 1)/2⌋`.
    ///
    /// When the leaf set knows the whole ring, the m-th successor is read off the known nodes in
    /// clockwise order (continuing through the predecessors), and when fewer than m other nodes
    /// exist D and E count as 2^BITS: the range is the whole ring.
    ///
    /// The answer is exact when the leaf set is correct (holds the true L/2 nearest on each
    /// side). `None` when it cannot be determined: m > L/2 and the leaf set does not know the
    /// whole ring, or a side has fewer than m members because of unrepaired holes.
    #[must_use]
    pub fn range(&self, rank: usize) -> Option<KeyRange<W>> {
        let m = rank.checked_add(1)?;
        let own = self.own.id;
        let whole = self.leaf.knows_whole_ring();
        let succ = self.leaf.successors();
        let pred = self.leaf.predecessors();
        let clockwise = nth_on_side(succ, pred, m, whole)?;
        let counter = nth_on_side(pred, succ, m, whole)?;
        // The mask of the word, 2^BITS − 1, and half the ring, 2^(BITS − 1).
        let mask = W::from_u128(u128::MAX);
        let half_minus_one = W::from_u128(mask.to_u128() >> 1);
        let one = W::from_u128(1);
        let end_offset = match clockwise {
            Some(n) => W::from_u128((cw(&own, &n.id).to_u128() - 1) >> 1),
            None => half_minus_one,
        };
        let start_offset = match counter {
            Some(n) => W::from_u128(cw(&n.id, &own).to_u128() >> 1),
            None => half_minus_one.wrapping_add(&one),
        };
        Some(KeyRange {
            start: own.wrapping_sub(&start_offset),
            end: own.wrapping_add(&end_offset),
        })
    }
}

/// The m-th node (1-based) on one side in ring order: `Some(Some(n))`; `Some(None)` when the
/// whole ring is known and has fewer than m other nodes; `None` when it cannot be known.
///
/// `near` is the side in question (nearest first), `far` the other side (nearest first there,
/// so farthest first from this side once reversed).
fn nth_on_side<'a, H, W: RingWord>(
    near: &'a [NodeRef<H, W>],
    far: &'a [NodeRef<H, W>],
    m: usize,
    whole: bool,
) -> Option<Option<&'a NodeRef<H, W>>> {
    if let Some(n) = m.checked_sub(1).and_then(|i| near.get(i)) {
        return Some(Some(n));
    }
    if !whole {
        return None;
    }
    // Every node is in near ∪ far; those of `far` not in `near` continue `near`'s order when
    // `far` is read from its far end.
    let rest = m.checked_sub(near.len()).and_then(|k| k.checked_sub(1))?;
    Some(
        far.iter()
            .rev()
            .filter(|n| !near.iter().any(|x| x.id == n.id))
            .nth(rest),
    )
}
