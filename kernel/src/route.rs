//! **route(k)** (docs/design.md, *Route*) and the Common API's other next-hop calls, all built
//! from its three steps.
//!
//! * [`NodeState::route`] — route(k): the leaf set, then the routing table, then the rare case
//!   ([`NodeState::rare_case`]); the answer is a [`Route`] naming the step ([`Via`]).
//! * [`NodeState::next_hops`] — Common API `local_lookup(key, num)`: the ranked valid next hops
//!   for a key, written into the caller's buffer.
//! * [`NodeState::route_avoiding`] — the best next hop that the host does not suspect (fast
//!   reroute after a timeout, per-hop retry).
//! * [`NodeState::route_randomized`] — a choice among the valid next hops driven by the
//!   caller's random value, biased towards the best (paper section 2.5).
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

use crate::arith::{
    closer, closer_by_dist, cw, digit_at, dist, key_rank, rare_case_admissible,
    rare_case_admissible_ranked, rare_case_prefers, rare_case_prefers_ranked, shl_len, DigitWidth,
    KeyRank, Row,
};
use crate::guid::Guid;
use crate::leafset::LeafRoot;
use crate::node::NodeRef;
use crate::state::NodeState;
use crate::word::RingWord;

/// How many ranked candidates [`NodeState::route_randomized`] chooses among.
pub const RANDOMIZED_CHOICES: usize = 8;

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

impl<H: Copy, W: RingWord> NodeState<H, W> {
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
    /// equals. The scan visits the leaf set and the neighborhood set whole and keeps the best's
    /// rank ([`key_rank`]: its shl and distance to `key`); most nodes are refused from
    /// `id ^ key` and one subtraction, without being ranked (`RareScan::offer`). From the
    /// routing table, when the key's slot is empty, it visits only the two entries of each row
    /// around the key (in the key's row found by the rank of its column in the row's bitmap):
    /// no other entry can be the best (the proof is at the loop). Never allocates and never
    /// panics.
    #[must_use]
    pub fn rare_case(&self, key: W) -> Route<H, W> {
        let b = self.config.digit_width();
        let mut scan = RareScan::new(key, self.own.id, b);
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
        if self.table.next_hop(key).is_some() {
            // Not the rare case (the slot of step 2 is occupied): every entry of the rows.
            for row in self.table.row_entries_from(from) {
                for e in row {
                    scan.offer(&e.node);
                }
            }
        } else {
            // The rare case proper: with l = shl(own, key) and the slot R[l][digit(key, l)]
            // empty, every entry T of rows l and beyond shares exactly l digits with the key
            // (its first l digits are the local node's, hence the key's, and its digit l is
            // the local node's (rows past l) or a column other than the key's (row l)). Among
            // them step 3's preference is closer(key, ·), a strict total order on distinct ids
            // whose best T is admissible exactly when closer(key, T, own). The ring-nearest
            // member of a set sorted by id is the key's cyclic successor or predecessor in it,
            // and a row's entries are sorted by id (one prefix, column order), so only those
            // two per row are offered; the table holds no id twice, so the scan keeps the same
            // node. In row l the entries left of the key's column are below the key and the
            // others above it (the same first l digits); a row past l lies wholly on one side
            // of the key (its digit l is the local node's), so there the two are its last and
            // first entries.
            let mut rows = self.table.row_entries_from(from);
            if let (Some(row), Some(column)) = (rows.next(), digit_at(key, u32::from(from.0), b)) {
                let i = self.table.entries_left_of(from, column);
                let successor = row.get(i).or(row.first());
                let predecessor = i.checked_sub(1).and_then(|j| row.get(j)).or(row.last());
                for e in predecessor.into_iter().chain(successor) {
                    scan.offer(&e.node);
                }
            }
            for row in rows {
                for e in row.last().into_iter().chain(row.first()) {
                    scan.offer(&e.node);
                }
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
}

/// Step 3's scan over the candidates: the best admissible node so far, with its rank for the key.
struct RareScan<'a, H, W> {
    key: W,
    b: DigitWidth,
    /// The local node's rank for the key.
    own: KeyRank<W>,
    /// The best so far, if any.
    best: Option<&'a NodeRef<H, W>>,
    /// The best's rank; the local node's while there is no best.
    best_rank: KeyRank<W>,
    /// [`prefix_limit`] of `best_rank.shl`: a node whose `id ^ key` exceeds it shares fewer
    /// digits with the key than `best_rank`.
    same: W,
    /// [`prefix_limit`] of `best_rank.shl + 1`: a node whose `id ^ key` is at most this shares
    /// more digits with the key than `best_rank` (or is the key itself).
    longer: W,
    /// `key − best_rank.dist`: the start of the arc of ids at most as far from the key.
    near_from: W,
    /// The length of that arc, 2 · `best_rank.dist` (MAX when that is 2^BITS, the whole ring).
    near_width: W,
}

/// The largest `x = id ^ key` of an id sharing at least `s` digits of `b` bits with the key:
/// shl(id, key) = ⌊lz(x) / b⌋ ≥ s exactly when lz(x) ≥ s·b, that is x < 2^(BITS − s·b), that is
/// x ≤ MAX >> (s·b) (0 for s·b ≥ BITS: only x = 0, the key itself, whose shl is BITS / b).
#[inline(always)]
fn prefix_limit<W: RingWord>(s: W, b: DigitWidth) -> W {
    let bits = s.to_u128().saturating_mul(u128::from(b.bits()));
    W::constant(u128::MAX).shr_by(&W::constant(bits.min(255)))
}

impl<'a, H, W: RingWord> RareScan<'a, H, W> {
    #[inline(always)]
    fn new(key: W, own: W, b: DigitWidth) -> Self {
        let own = key_rank(&key, &own, b);
        let mut scan = RareScan {
            key,
            b,
            own,
            best: None,
            best_rank: own,
            same: own.shl,
            longer: own.shl,
            near_from: key,
            near_width: key,
        };
        scan.set_limits();
        scan
    }

    /// Sets `same`, `longer`, `near_from` and `near_width` from `best_rank`.
    #[inline(always)]
    fn set_limits(&mut self) {
        let r = &self.best_rank;
        self.same = prefix_limit(r.shl, self.b);
        self.longer = prefix_limit(r.shl.wrapping_add(&W::constant(1)), self.b);
        self.near_from = self.key.wrapping_sub(&r.dist);
        // dist <= 2^(BITS - 1), so the doubling overflows only at 2^(BITS - 1), giving 0.
        let width = r.dist.wrapping_add(&r.dist);
        self.near_width = if width < r.dist {
            W::constant(u128::MAX)
        } else {
            width
        };
    }

    /// Offers `t`: it becomes the best if it is admissible ([`rare_case_admissible_ranked`]) and
    /// there is no best yet or it is preferred to the best ([`rare_case_prefers_ranked`]); on a
    /// tie the best stays.
    ///
    /// Most nodes are decided without computing their shl: with `x = t.id ^ key` and
    /// s = `best_rank.shl` (the local node's while there is no best),
    /// * x > `same`: shl(t, key) < s, so `t` is neither preferred to the best nor, while there
    ///   is none, admissible (shl(t, key) < shl(own, key));
    /// * x ≤ `longer`: a longer shared prefix (rare): the full rank and both tests;
    /// * otherwise shl(t, key) = s exactly, so `t` is preferred to the best, and while there is
    ///   no best admissible, only if [`closer_by_dist`]`(key, t, best)`, with `best` the local
    ///   node while there is none. That needs dist(t, key) ≤ dist(best, key) = d, that is `t` on
    ///   the arc [key − d, key + d], that is cw(key − d, t) ≤ 2d (`near_width`; d is at most
    ///   2^(BITS − 1), and at that value the arc is the whole ring and the width MAX), so a node
    ///   off the arc is refused at one subtraction. Only a node that passes is ranked (its shl
    ///   is s) and put through both tests.
    #[inline(always)]
    fn offer(&mut self, t: &'a NodeRef<H, W>) {
        let x = t.id.xor(&self.key);
        if x > self.same {
            return;
        }
        if x <= self.longer {
            self.offer_ranked(t, key_rank(&self.key, &t.id, self.b));
            return;
        }
        if cw(&self.near_from, &t.id) > self.near_width {
            return;
        }
        let d = dist(&t.id, &self.key);
        let best = &self.best_rank;
        if closer_by_dist(&self.key, &t.id, &d, &best.id, &best.dist) {
            let rank = KeyRank {
                id: t.id,
                shl: best.shl,
                dist: d,
            };
            self.offer_ranked(t, rank);
        }
    }

    /// [`RareScan::offer`] given the rank of `t`: the preference against the best, then
    /// admissibility.
    #[inline(always)]
    fn offer_ranked(&mut self, t: &'a NodeRef<H, W>, rank: KeyRank<W>) {
        if self.best.is_some() && !rare_case_prefers_ranked(&self.key, &rank, &self.best_rank) {
            return;
        }
        if rare_case_admissible_ranked(&self.key, &self.own, &rank) {
            self.best = Some(t);
            self.best_rank = rank;
            self.set_limits();
        }
    }
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
