//! [`LeafSet`]: the L/2 nearest known nodes on each side of the local node.

use alloc::vec::Vec;

use crate::arith::{closer, cw, in_arc};
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::node::NodeRef;
use crate::word::RingWord;

/// The leaf set of the node `own`: up to L/2 successors and L/2 predecessors.
///
/// # Invariants
/// Checked by [`LeafSet::invariants`] after every change in debug builds, and by the property
/// tests `leaf_set_sides_are_sorted_and_bounded` and `leaf_set_matches_model`:
///
/// 1. each side holds at most L/2 nodes;
/// 2. successors are in strictly increasing clockwise distance from `own` (nearest first), and
///    predecessors in strictly increasing counter-clockwise distance, so neither side has a
///    duplicate;
/// 3. `own` is on neither side;
/// 4. inserting keeps the L/2 nearest of (side ∪ new node) on each side;
/// 5. the cached "knows the whole ring" flag equals: both sides are empty, or some node is on
///    both sides; the cached farthest ids equal the last member of each side (`own` for an empty
///    side); the cached scan flag equals: the whole ring is known, or the successor arc reaches
///    the farthest predecessor (the arcs overlap);
/// 6. a side marked as having a hole ([`LeafSet::holes`]) is not full, and no side is marked
///    while the whole ring is known.
///
/// **Knows the whole ring** (docs/design.md, *Whole ring*): both sides are empty (the lone-node
/// ring), or some node is on both sides. A side that is merely not full does not count: for leaf
/// sets built by insertion only, a non-full side holds every known node, so it shares one with
/// the other side anyway; after a removal, a side that is not full only marks a hole awaiting
/// repair, and reading it as a small ring would deliver other nodes' keys here.
///
/// **Covered.** A key is covered when it lies on the arc from the farthest predecessor clockwise
/// through `own` to the farthest successor, both ends included, or when the leaf set knows the
/// whole ring.
///
/// **Holes.** Removing a member ([`LeafSet::remove`]) while the whole ring is not known leaves a
/// *hole* on its side: the side now lacks a node that some other live node may fill, and the
/// next node beyond the farthest member is unknown. Until the hole is repaired, an insert on
/// that side is taken only when the node lies strictly nearer than the side's farthest member
/// (it fills a gap the side can vouch for); a node beyond the farthest member could be the true
/// next one or a node from the far side of the ring, and appending it would stretch the covered
/// arc over keys whose roots are unknown here (in the worst case the two sides would then share
/// a node and claim the whole ring). Such nodes come in through repair
/// ([`NodeState::repair_leaf_set`](crate::NodeState::repair_leaf_set)), which places each node
/// by the sender's view of the ring. A hole is cleared when its side is full again or when the
/// whole ring becomes known.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeafSet<H, W = Guid> {
    own: W,
    half: u8,
    /// The sides with a hole awaiting repair (invariant 6).
    holes: Sides,
    /// Cached from the sides after every change (invariant 5).
    whole_ring: bool,
    /// Cached: the whole ring is known or the two arcs overlap, so a root needs a scan.
    scan: bool,
    /// Cached: the farthest successor's id, or `own` when there is none.
    far_successor: W,
    /// Cached: the farthest predecessor's id, or `own` when there is none.
    far_predecessor: W,
    /// Nearest first: strictly increasing `cw(own, id)`.
    successors: Vec<NodeRef<H, W>>,
    /// Nearest first: strictly increasing `cw(id, own)`.
    predecessors: Vec<NodeRef<H, W>>,
}

/// A pair of flags, one per side of a leaf set: the sides a removed node was on, the sides with
/// a hole, the sides a merged node may go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sides {
    /// It was a successor (clockwise side).
    pub successor: bool,
    /// It was a predecessor (counter-clockwise side).
    pub predecessor: bool,
}

impl Sides {
    /// Neither side.
    pub const NONE: Sides = Sides {
        successor: false,
        predecessor: false,
    };
    /// Both sides.
    pub const BOTH: Sides = Sides {
        successor: true,
        predecessor: true,
    };

    /// Whether either flag is set.
    #[must_use]
    pub fn any(self) -> bool {
        self.successor || self.predecessor
    }
}

/// The root of a key among a leaf set's members and its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafRoot<'a, H, W = Guid> {
    /// The key is not covered by the leaf set.
    NotCovered,
    /// The key is covered and the local node is its root.
    Own,
    /// The key is covered and this member is its root.
    Member(&'a NodeRef<H, W>),
}

impl<H: Copy, W: RingWord> LeafSet<H, W> {
    /// An empty leaf set for the node `own`, sized by `config`.
    #[must_use]
    pub fn new(own: W, config: &Config) -> Self {
        let half = config.leaf_set_half();
        #[allow(clippy::cast_possible_truncation)] // L/2 <= 32
        let set = LeafSet {
            own,
            half: half as u8,
            holes: Sides::NONE,
            whole_ring: true,
            scan: true,
            far_successor: own,
            far_predecessor: own,
            successors: Vec::with_capacity(half),
            predecessors: Vec::with_capacity(half),
        };
        set.invariants();
        set
    }

    /// A leaf set from its two sides and hole flags, for decoders (`crate::codec`) that have
    /// already checked every invariant of the type's documentation on the sides (side length at
    /// most `half`, strict ring order nearest first, `own` on neither side, a hole only on a
    /// side that is not full and only when the sides share no node). The whole-ring flag is
    /// computed here; the invariants are checked again by [`LeafSet::invariants`] in debug
    /// builds.
    pub(crate) fn from_sides(
        own: W,
        half: u8,
        successors: Vec<NodeRef<H, W>>,
        predecessors: Vec<NodeRef<H, W>>,
        holes: Sides,
    ) -> Self {
        let mut set = LeafSet {
            own,
            half,
            holes,
            whole_ring: true,
            scan: true,
            far_successor: own,
            far_predecessor: own,
            successors,
            predecessors,
        };
        set.refresh_cache();
        set.invariants();
        set
    }

    /// The local node's id.
    #[must_use]
    pub fn own(&self) -> W {
        self.own
    }

    /// L/2: the capacity of each side.
    #[must_use]
    pub fn half(&self) -> usize {
        usize::from(self.half)
    }

    /// The successors, nearest first.
    #[must_use]
    pub fn successors(&self) -> &[NodeRef<H, W>] {
        &self.successors
    }

    /// The predecessors, nearest first.
    #[must_use]
    pub fn predecessors(&self) -> &[NodeRef<H, W>] {
        &self.predecessors
    }

    /// True when there is no member.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.successors.is_empty() && self.predecessors.is_empty()
    }

    /// The number of distinct members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// The distinct members: successors nearest first, then the predecessors that are not also
    /// successors, nearest first.
    pub fn iter(&self) -> impl Iterator<Item = &NodeRef<H, W>> + '_ {
        self.successors.iter().chain(
            self.predecessors
                .iter()
                .filter(move |p| !self.successors.iter().any(|s| s.id == p.id)),
        )
    }

    /// The member with this id, if any.
    #[must_use]
    pub fn get(&self, id: W) -> Option<&NodeRef<H, W>> {
        self.successors
            .iter()
            .chain(self.predecessors.iter())
            .find(|n| n.id == id)
    }

    /// Whether `id` is a member.
    #[must_use]
    pub fn contains(&self, id: W) -> bool {
        self.get(id).is_some()
    }

    /// The farthest successor, if any.
    #[must_use]
    pub fn farthest_successor(&self) -> Option<&NodeRef<H, W>> {
        self.successors.last()
    }

    /// The farthest predecessor, if any.
    #[must_use]
    pub fn farthest_predecessor(&self) -> Option<&NodeRef<H, W>> {
        self.predecessors.last()
    }

    /// Whether the leaf set knows the whole ring: both sides are empty, or a node is on both.
    #[must_use]
    pub fn knows_whole_ring(&self) -> bool {
        self.whole_ring
    }

    /// The sides with a hole awaiting repair: a member was removed from them while the whole
    /// ring was not known, and they have not been full since (see the type's documentation).
    #[must_use]
    pub fn holes(&self) -> Sides {
        self.holes
    }

    /// Whether both sides hold L/2 nodes.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.successors.len() == self.half() && self.predecessors.len() == self.half()
    }

    /// Whether `key` is covered: on the arc from the farthest predecessor clockwise through the
    /// local node to the farthest successor, or anywhere when the whole ring is known.
    #[inline]
    #[must_use]
    pub fn covers(&self, key: W) -> bool {
        self.whole_ring || self.on_successor_arc(key) || self.on_predecessor_arc(key)
    }

    #[inline(always)]
    fn on_successor_arc(&self, key: W) -> bool {
        in_arc(&self.own, &self.far_successor, &key)
    }

    #[inline(always)]
    fn on_predecessor_arc(&self, key: W) -> bool {
        in_arc(&self.far_predecessor, &self.own, &key)
    }

    /// The root of `key` among the members and the local node, when `key` is covered.
    ///
    /// Does not allocate. On disjoint arcs it looks only at the two members that enclose the key
    /// (a binary search on the key's side); otherwise it scans the members.
    #[inline]
    #[must_use]
    pub fn root(&self, key: W) -> LeafRoot<'_, H, W> {
        if key == self.own {
            return LeafRoot::Own;
        }
        if self.scan {
            if !self.covers(key) {
                return LeafRoot::NotCovered;
            }
            return self.scan_root(key);
        }
        if self.on_successor_arc(key) {
            let d = cw(&self.own, &key);
            let i = self
                .successors
                .partition_point(|s| cw(&self.own, &s.id) < d);
            let after = self.successors.get(i);
            let before = i.checked_sub(1).and_then(|j| self.successors.get(j));
            return self.nearer_of(key, before, after);
        }
        if self.on_predecessor_arc(key) {
            let d = cw(&key, &self.own);
            let i = self
                .predecessors
                .partition_point(|p| cw(&p.id, &self.own) < d);
            let after = self.predecessors.get(i);
            let before = i.checked_sub(1).and_then(|j| self.predecessors.get(j));
            return self.nearer_of(key, before, after);
        }
        LeafRoot::NotCovered
    }

    /// The nearer to `key` of the two nodes enclosing it: `before` (or the local node when
    /// `None`) on the side of the local node, and `after` on the far side.
    #[inline(always)]
    fn nearer_of<'a>(
        &'a self,
        key: W,
        before: Option<&'a NodeRef<H, W>>,
        after: Option<&'a NodeRef<H, W>>,
    ) -> LeafRoot<'a, H, W> {
        let (inner, inner_id) = match before {
            Some(n) => (LeafRoot::Member(n), n.id),
            None => (LeafRoot::Own, self.own),
        };
        match after {
            Some(a) if closer(&key, &a.id, &inner_id) => LeafRoot::Member(a),
            _ => inner,
        }
    }

    fn scan_root(&self, key: W) -> LeafRoot<'_, H, W> {
        let mut best = LeafRoot::Own;
        let mut best_id = self.own;
        for n in self.successors.iter().chain(self.predecessors.iter()) {
            if closer(&key, &n.id, &best_id) {
                best = LeafRoot::Member(n);
                best_id = n.id;
            }
        }
        best
    }

    /// Offers `node` to both sides; each keeps its L/2 nearest, except that a side with a hole
    /// takes the node only if it lies strictly nearer than the side's farthest member (see
    /// **Holes** in the type's documentation). Returns whether `node` **entered** the leaf set:
    /// it was not a member (on either side) before and is one now.
    ///
    /// A member is refreshed and returns `Ok(false)`: its handle is updated on its sides, and if
    /// it also belongs on the side it was not on (that side lost a member, or holds farther
    /// nodes) it is placed there too. That second placement changes the sides, and may make
    /// the leaf set know the whole ring, but the set of members stays the same.
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `node` is the local node; the leaf set is unchanged.
    pub fn insert(&mut self, node: NodeRef<H, W>) -> Result<bool, StateError> {
        self.insert_with(node, Sides::BOTH, false)
    }

    /// Whether [`LeafSet::insert`] would add `node` to a side, without changing anything.
    #[must_use]
    pub fn would_insert(&self, node: W) -> bool {
        if node == self.own || self.contains(node) {
            return false;
        }
        let own = self.own;
        let half = self.half();
        would_insert_side(&self.successors, node, half, !self.holes.successor, |id| {
            cw(&own, &id)
        }) || would_insert_side(
            &self.predecessors,
            node,
            half,
            !self.holes.predecessor,
            |id| cw(&id, &own),
        )
    }

    /// The insert behind [`LeafSet::insert`] and [`LeafSet::insert_on`]: offers `node` to the
    /// chosen `sides` (and refreshes its handle on the other side if it is there); `repair` lets
    /// a side with a hole take a node beyond its farthest member. Returns whether `node` entered
    /// the leaf set.
    fn insert_with(
        &mut self,
        node: NodeRef<H, W>,
        sides: Sides,
        repair: bool,
    ) -> Result<bool, StateError> {
        if node.id == self.own {
            return Err(StateError::OwnId);
        }
        let own = self.own;
        let half = self.half();
        let s = if sides.successor {
            insert_side(
                &mut self.successors,
                node,
                half,
                repair || !self.holes.successor,
                |id| cw(&own, &id),
            )
        } else {
            refresh(&mut self.successors, node)
        };
        let p = if sides.predecessor {
            insert_side(
                &mut self.predecessors,
                node,
                half,
                repair || !self.holes.predecessor,
                |id| cw(&id, &own),
            )
        } else {
            refresh(&mut self.predecessors, node)
        };
        let placed = s == Offer::Added || p == Offer::Added;
        if placed {
            self.refresh_cache();
        }
        self.invariants();
        Ok(placed && s != Offer::Present && p != Offer::Present)
    }

    /// Offers `node` to the chosen sides only, each keeping its L/2 nearest, a side with a hole
    /// included (the repair case: the caller has placed the node by a live node's view of the
    /// ring); the other side is left alone, except that a member's handle is refreshed there
    /// too. Returns whether `node` entered the leaf set, as [`LeafSet::insert`]: a node that was
    /// already a member, on a chosen side or on the other one, returns `Ok(false)`.
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `node` is the local node; the leaf set is unchanged.
    pub(crate) fn insert_on(
        &mut self,
        node: NodeRef<H, W>,
        sides: Sides,
    ) -> Result<bool, StateError> {
        self.insert_with(node, sides, true)
    }

    /// Removes the node `id` from both sides; returns the sides it was on (all false if it was
    /// not a member). Unless the whole ring is still known afterwards, those sides are marked as
    /// having a hole ([`LeafSet::holes`]).
    pub fn remove(&mut self, id: W) -> Sides {
        let successor = remove_from(&mut self.successors, id);
        let predecessor = remove_from(&mut self.predecessors, id);
        if successor || predecessor {
            self.holes.successor |= successor;
            self.holes.predecessor |= predecessor;
            self.refresh_cache();
        }
        self.invariants();
        Sides {
            successor,
            predecessor,
        }
    }

    fn refresh_cache(&mut self) {
        self.whole_ring = self.compute_whole_ring();
        if self.whole_ring {
            self.holes = Sides::NONE;
        }
        let half = self.half();
        if self.successors.len() == half {
            self.holes.successor = false;
        }
        if self.predecessors.len() == half {
            self.holes.predecessor = false;
        }
        self.far_successor = self.successors.last().map_or(self.own, |n| n.id);
        self.far_predecessor = self.predecessors.last().map_or(self.own, |n| n.id);
        self.scan = self.compute_scan();
    }

    /// Whether the successor arc and the predecessor arc overlap (they meet somewhere on the far
    /// side of the ring) or the whole ring is known: then a key's nearest members may lie on
    /// either side and the root is found by a scan.
    fn compute_scan(&self) -> bool {
        self.whole_ring
            || match (self.successors.last(), self.predecessors.last()) {
                (Some(s), Some(p)) => cw(&self.own, &s.id) >= cw(&self.own, &p.id),
                _ => false,
            }
    }

    fn compute_whole_ring(&self) -> bool {
        self.is_empty()
            || self
                .predecessors
                .iter()
                .any(|p| self.successors.iter().any(|s| s.id == p.id))
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            let own = self.own;
            assert!(self.successors.len() <= self.half(), "too many successors");
            assert!(
                self.predecessors.len() <= self.half(),
                "too many predecessors"
            );
            assert!(
                self.successors.iter().all(|n| n.id != own),
                "own id among successors"
            );
            assert!(
                self.predecessors.iter().all(|n| n.id != own),
                "own id among predecessors"
            );
            assert!(
                self.successors.windows(2).all(|w| match w {
                    [a, b] => cw(&own, &a.id) < cw(&own, &b.id),
                    _ => true,
                }),
                "successors out of ring order"
            );
            assert!(
                self.predecessors.windows(2).all(|w| match w {
                    [a, b] => cw(&a.id, &own) < cw(&b.id, &own),
                    _ => true,
                }),
                "predecessors out of ring order"
            );
            assert_eq!(
                self.whole_ring,
                self.compute_whole_ring(),
                "stale whole-ring flag"
            );
            assert!(
                !(self.holes.any() && self.whole_ring),
                "a hole while the whole ring is known"
            );
            assert!(
                !(self.holes.successor && self.successors.len() == self.half()),
                "a hole on a full successor side"
            );
            assert!(
                !(self.holes.predecessor && self.predecessors.len() == self.half()),
                "a hole on a full predecessor side"
            );
            assert_eq!(self.scan, self.compute_scan(), "stale scan flag");
            assert_eq!(
                self.far_successor,
                self.successors.last().map_or(own, |n| n.id),
                "stale farthest successor"
            );
            assert_eq!(
                self.far_predecessor,
                self.predecessors.last().map_or(own, |n| n.id),
                "stale farthest predecessor"
            );
        }
    }
}

/// What offering a node to one side found or did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Offer {
    /// The node was on the side already (its handle is refreshed).
    Present,
    /// The node was not on the side and now is.
    Added,
    /// The node was not on the side and still is not.
    Absent,
}

/// Inserts `node` into a side kept sorted by `key_of` (strictly increasing), capped at `cap`;
/// with `append` false only strictly before the last member. A node already present has its
/// handle refreshed.
fn insert_side<H: Copy, W: RingWord>(
    side: &mut Vec<NodeRef<H, W>>,
    node: NodeRef<H, W>,
    cap: usize,
    append: bool,
    key_of: impl Fn(W) -> W,
) -> Offer {
    let d = key_of(node.id);
    // The usual offer, from a stranger beyond a full side: refused at one comparison (a
    // member's distance is at most the last one's, so the node is not a member either).
    if side.len() >= cap && side.last().is_some_and(|last| key_of(last.id) < d) {
        return Offer::Absent;
    }
    let i = side.partition_point(|m| key_of(m.id) < d);
    if let Some(m) = side.get_mut(i) {
        if m.id == node.id {
            m.handle = node.handle;
            return Offer::Present;
        }
    }
    if i >= cap || (!append && i >= side.len()) {
        return Offer::Absent;
    }
    if side.len() == cap {
        side.pop();
    }
    side.insert(i, node);
    Offer::Added
}

/// On a side that is not offered `node`: refreshes its handle if it is there
/// ([`Offer::Present`]), else [`Offer::Absent`].
fn refresh<H: Copy, W: RingWord>(side: &mut [NodeRef<H, W>], node: NodeRef<H, W>) -> Offer {
    match side.iter_mut().find(|m| m.id == node.id) {
        Some(m) => {
            m.handle = node.handle;
            Offer::Present
        }
        None => Offer::Absent,
    }
}

/// Whether [`insert_side`] would add the node `id` (not a member) to the side.
fn would_insert_side<H, W: RingWord>(
    side: &[NodeRef<H, W>],
    id: W,
    cap: usize,
    append: bool,
    key_of: impl Fn(W) -> W,
) -> bool {
    let d = key_of(id);
    let i = side.partition_point(|m| key_of(m.id) < d);
    i < cap && (append || i < side.len())
}

fn remove_from<H, W: RingWord>(side: &mut Vec<NodeRef<H, W>>, id: W) -> bool {
    match side.iter().position(|m| m.id == id) {
        Some(i) => {
            side.remove(i);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offering a member to one side only refreshes its handle on the other side too, so a node
    /// on both sides keeps one handle (the codec rejects a leaf set with two).
    #[test]
    fn insert_on_one_side_refreshes_the_handle_on_both() {
        let config = Config::new(4, 2, 0).unwrap();
        let mut leaf: LeafSet<u32, u16> = LeafSet::new(0, &config);
        assert_eq!(leaf.insert(NodeRef::new(0x8000, 1)), Ok(true));
        let only_successor = Sides {
            successor: true,
            predecessor: false,
        };
        assert_eq!(
            leaf.insert_on(NodeRef::new(0x8000, 2), only_successor),
            Ok(false)
        );
        assert_eq!(leaf.successors(), [NodeRef::new(0x8000, 2)]);
        assert_eq!(leaf.predecessors(), [NodeRef::new(0x8000, 2)]);
        let mut buf = [0u8; 64];
        let n = leaf.encode(&mut buf).unwrap();
        assert_eq!(LeafSet::<u32, u16>::decode(&buf[..n]), Ok(leaf));
    }
}
