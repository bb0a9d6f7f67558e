//! Routing around trouble and the Common API's key-based-routing calls.
//!
//! * [`NodeState::next_hops`] — Common API `local_lookup(key, num)`: the ranked valid next hops
//!   for a key, written into the caller's buffer.
//! * [`NodeState::route_avoiding`] — the best next hop that the host does not suspect (fast
//!   reroute after a timeout, per-hop retry).
//! * [`NodeState::route_randomized`] — a choice among the valid next hops driven by the
//!   caller's random value, biased towards the best (paper section 2.5).
//! * [`NodeState::neighbor_set`] — Common API `neighborSet(num)`.
//! * [`NodeState::range`] — Common API `range(node, rank)` for the local node.
//! * [`NodeState::replica_set`] (in the state module) — Common API `replicaSet(key, r)`.
//!
//! # Valid next hops
//! For a key `k` at node A the **valid next hops** are, in rank order:
//!
//! * when the leaf set covers `k`: the leaf-set members closer to `k` than A, closest first
//!   (the first is route(k)'s step-1 choice; none when A is the root);
//! * otherwise: the routing-table entry R\[l\]\[digit(k, l)\] (route(k)'s step 2) if present,
//!   then every other node T of L ∪ R ∪ M that step 3 admits (shl(T, k) ≥ l and T closer to `k`
//!   than A), the longer shared prefix with `k` first, then the closer to `k`.
//!
//! Off the leaf set's arc every valid next hop makes progress
//! ([`arith::makes_progress`](crate::arith::makes_progress)), a strict order, so hops chosen
//! among them never repeat a node; in the leaf-set case every valid next hop is strictly closer
//! to `k`. The two measures mixed can loop: a member closer to `k` that shares a shorter prefix
//! with it may send the message straight back through its routing table (the example in
//! [`NodeState::route_randomized`]). With correct leaf sets the leaf-set case's first choice,
//! the root, ends the route, so [`NodeState::route_randomized`] chooses at random only off the
//! arc. The first valid next hop is always route(k)'s answer, so
//! `route_avoiding(k, |_| false) == route(k)` and `route_randomized(k, r)` with `r` even equals
//! `route(k)`.
//!
//! None of these allocate.
//!
//! ```
//! use pastry_kernel::{Config, NodeRef, NodeState, Route};
//!
//! let ring: Vec<NodeRef<usize, u16>> = (0..100).map(|i| NodeRef::new(i as u16 * 601, i)).collect();
//! let mut ring = ring;
//! ring.sort_by_key(|n| n.id);
//! let me = NodeState::from_ring(Config::PAPER, ring[0], &ring, |n| n.handle as u32, 1);
//! let key = 0x9876u16;
//!
//! let mut buf = [None; 4];
//! let n = me.next_hops(key, &mut buf);
//! assert_eq!(buf[0], me.route(key).next_hop());
//! // Suspecting the first choice gives the second.
//! let first = buf[0].unwrap();
//! if n > 1 {
//!     assert_eq!(me.route_avoiding(key, |m| m.id == first.id).next_hop(), buf[1]);
//! }
//! // The local node is the rank-0 root of exactly the keys in range(0).
//! let arc = me.range(0).unwrap();
//! assert!(arc.contains(me.id()));
//! assert_eq!(me.route(arc.end), Route::Deliver);
//! ```

use crate::arith::{closer, cw, in_arc, rare_case_prefers};
use crate::leafset::LeafRoot;
use crate::node::NodeRef;
use crate::state::{NodeState, Route, Via};
use crate::word::RingWord;

/// How many ranked candidates [`NodeState::route_randomized`] chooses among.
pub const RANDOMIZED_CHOICES: usize = 8;

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
    /// Common API `local_lookup(key, num)`: the valid next hops for `key`, best first, written into `buf`; returns how many
    /// were written (at most `buf.len()`). The rest of `buf` is set to `None`. Zero means the
    /// local node is where `key` ends: route(k) delivers here.
    ///
    /// **Valid next hops**, in rank order:
    /// * when the leaf set covers `key`: the leaf-set members closer to `key` than the local
    ///   node A, closest first (none when A is the root);
    /// * otherwise: the table entry R\[l\]\[digit(k, l)\] if present, then every other node T
    ///   of L ∪ R ∪ M that step 3 admits (shl(T, k) ≥ l and T closer to `key` than A), the
    ///   longer shared prefix with `key` first, then the closer to `key`.
    ///
    /// `buf[0]` is always route(k)'s next hop. Each node appears at most once. Does not
    /// allocate; the cost is one pass over L ∪ R\[l..\] ∪ M with an insertion into `buf`.
    pub fn next_hops(&self, key: W, buf: &mut [Option<NodeRef<H, W>>]) -> usize {
        for slot in buf.iter_mut() {
            *slot = None;
        }
        let own = self.own.id;
        let mut len = 0;
        match self.leaf.root(key) {
            LeafRoot::Own => {}
            LeafRoot::Member(_) => {
                for n in self
                    .leaf
                    .successors()
                    .iter()
                    .chain(self.leaf.predecessors())
                {
                    if closer(&key, &n.id, &own) {
                        insert_ranked(buf, &mut len, 0, *n, |a, b| closer(&key, &a.id, &b.id));
                    }
                }
            }
            LeafRoot::NotCovered => {
                let slot = self.table.next_hop(key).map(|e| e.node);
                let mut start = 0;
                if let (Some(s), Some(first)) = (slot, buf.first_mut()) {
                    *first = Some(s);
                    len = 1;
                    start = 1;
                }
                let b = self.config.digit_width();
                for t in self.rare_case_candidates(key) {
                    if slot.is_some_and(|s| s.id == t.id) {
                        continue;
                    }
                    insert_ranked(buf, &mut len, start, *t, |x, y| {
                        rare_case_prefers(&key, &x.id, &y.id, b)
                    });
                }
            }
        }
        len
    }

    /// route(k) avoiding suspects: the first valid next hop
    /// ([`NodeState::next_hops`]) for which `is_suspect` is false.
    ///
    /// * leaf-set case: the root of `key` among the non-suspect members and the local node —
    ///   Deliver when that is the local node;
    /// * otherwise the table slot R\[l\]\[digit(k, l)\] unless suspect ([`Via::Table`]), else
    ///   the best non-suspect node admitted by step 3 ([`Via::RareCase`]); Deliver when there is
    ///   none (no known live node makes progress).
    ///
    /// With no suspects this is exactly [`NodeState::route`]. `is_suspect` is only called for
    /// nodes that would otherwise be chosen or compared. Does not allocate.
    ///
    /// ```
    /// use pastry_kernel::{Config, NodeRef, NodeState, Route};
    ///
    /// let ring: Vec<NodeRef<u8, u16>> = (0..50u8).map(|i| NodeRef::new(u16::from(i) * 1300, i)).collect();
    /// let me = NodeState::from_ring(Config::PAPER, ring[0], &ring, |_| 1, 1);
    /// // Key 1300 is node 1's; with node 1 suspect it goes to the next closest, node 2 … or
    /// // stays here: the local node (0) is 1300 away, node 2 is 1300 away on the clockwise side.
    /// let r = me.route_avoiding(1300, |n| n.handle == 1);
    /// assert_eq!(r.next_hop().map(|n| n.handle), Some(2));
    /// assert_eq!(me.route_avoiding(1300, |_| false), me.route(1300));
    /// ```
    pub fn route_avoiding(
        &self,
        key: W,
        mut is_suspect: impl FnMut(&NodeRef<H, W>) -> bool,
    ) -> Route<H, W> {
        let own = self.own.id;
        match self.leaf.root(key) {
            LeafRoot::Own => Route::Deliver,
            LeafRoot::Member(root) if !is_suspect(root) => Route::Forward {
                to: *root,
                via: Via::LeafSet,
            },
            LeafRoot::Member(_) => {
                let mut best: Option<&NodeRef<H, W>> = None;
                for n in self
                    .leaf
                    .successors()
                    .iter()
                    .chain(self.leaf.predecessors())
                {
                    let best_id = best.map_or(own, |b| b.id);
                    if closer(&key, &n.id, &best_id) && !is_suspect(n) {
                        best = Some(n);
                    }
                }
                match best {
                    Some(n) => Route::Forward {
                        to: *n,
                        via: Via::LeafSet,
                    },
                    None => Route::Deliver,
                }
            }
            LeafRoot::NotCovered => {
                if let Some(e) = self.table.next_hop(key) {
                    if !is_suspect(&e.node) {
                        return Route::Forward {
                            to: e.node,
                            via: Via::Table,
                        };
                    }
                }
                let b = self.config.digit_width();
                let mut best: Option<&NodeRef<H, W>> = None;
                for t in self.rare_case_candidates(key) {
                    let wins = best.is_none_or(|c| rare_case_prefers(&key, &t.id, &c.id, b));
                    if wins && !is_suspect(t) {
                        best = Some(t);
                    }
                }
                match best {
                    Some(t) => Route::Forward {
                        to: *t,
                        via: Via::RareCase,
                    },
                    None => Route::Deliver,
                }
            }
        }
    }

    /// Randomized routing (paper section 2.5). When the leaf set does not cover `key` (route(k)'s
    /// steps 2 and 3): one of the first [`RANDOMIZED_CHOICES`] valid next hops, chosen by the
    /// caller's random value `r`. Candidate i (0 is route(k)'s choice) is taken when the lowest
    /// i bits of `r` are ones and bit i is zero, so with uniform `r` it has probability
    /// 2^−(i+1); the last available candidate also takes the remaining probability. Heavily
    /// biased to the best hop, as the paper asks, yet a host that retries with fresh random
    /// values eventually tries every one of the first [`RANDOMIZED_CHOICES`] candidates. When
    /// the leaf set covers `key`: route(k)'s answer, the root among the leaf set and the local
    /// node, whatever `r` (the paper's leaf-set step has no choice either).
    ///
    /// **Why no choice in the leaf-set case.** A member that is closer to the key but shares a
    /// shorter prefix with it can send the message straight back. On the 16-bit ring of the
    /// nodes 0x3055, 0x3056 and 0xd6d8 with b = 1 and L = 2, the key 0x8000 is covered at
    /// 0xd6d8, whose valid next hops are 0x3056 (the root) and 0x3055; 0x3055 does not cover
    /// the key and forwards it to its table entry R\[0\]\[1\] = 0xd6d8. Off the arc every
    /// valid next hop makes progress, which no sequence of hops can undo.
    ///
    /// Deliver exactly when route(k) delivers. Does not allocate.
    #[must_use]
    pub fn route_randomized(&self, key: W, r: u64) -> Route<H, W> {
        if !matches!(self.leaf.root(key), LeafRoot::NotCovered) {
            return self.route(key);
        }
        let mut buf = [None; RANDOMIZED_CHOICES];
        let n = self.next_hops(key, &mut buf);
        let Some(last) = n.checked_sub(1) else {
            return Route::Deliver;
        };
        let i = (r.trailing_ones() as usize).min(last);
        match buf.get(i).copied().flatten() {
            Some(to) => Route::Forward {
                to,
                via: self.via_off_the_arc(key, &to),
            },
            None => Route::Deliver,
        }
    }

    /// Which routing step a valid next hop `to` for a key the leaf set does not cover belongs
    /// to: the table slot's node is step 2, any other step 3.
    fn via_off_the_arc(&self, key: W, to: &NodeRef<H, W>) -> Via {
        if self.table.next_hop(key).is_some_and(|e| e.node.id == to.id) {
            Via::Table
        } else {
            Via::RareCase
        }
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

/// Inserts `node` into the ranked prefix `buf[start..len]` (ranked by `before`), keeping at most
/// `buf.len()` entries; a node already present is left where it is.
fn insert_ranked<H: Copy, W: RingWord>(
    buf: &mut [Option<NodeRef<H, W>>],
    len: &mut usize,
    start: usize,
    node: NodeRef<H, W>,
    before: impl Fn(&NodeRef<H, W>, &NodeRef<H, W>) -> bool,
) {
    let cap = buf.len();
    let Some(ranked) = buf.get(start..*len) else {
        return;
    };
    if ranked.iter().flatten().any(|n| n.id == node.id) {
        return;
    }
    let at = start
        + ranked
            .iter()
            .position(|slot| slot.is_some_and(|n| before(&node, &n)))
            .unwrap_or(ranked.len());
    if at >= cap {
        return;
    }
    let last = (*len).min(cap - 1);
    if let Some(tail) = buf.get_mut(at..=last) {
        tail.rotate_right(1);
        if let Some(first) = tail.first_mut() {
            *first = Some(node);
        }
    }
    *len = (*len + 1).min(cap);
}
