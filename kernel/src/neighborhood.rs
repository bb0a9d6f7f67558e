//! [`NeighborhoodSet`]: the |M| known nodes nearest by proximity.

use alloc::vec::Vec;

use crate::error::StateError;
use crate::guid::Guid;
use crate::node::{Entry, NodeRef, Proximity};
use crate::word::RingWord;

/// The neighborhood set M of the node `own`: the |M| known nodes with the smallest proximity
/// figures, nearest first.
///
/// # Invariants
/// Checked by [`NeighborhoodSet::invariants`] after every change in debug builds and by the
/// property test `neighborhood_keeps_the_nearest`:
///
/// 1. at most |M| entries;
/// 2. proximity is non-decreasing along the entries (nearest first);
/// 3. no id appears twice and `own` does not appear;
/// 4. a newcomer displaces the farthest entry only when it is strictly nearer (ties keep the
///    incumbents).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NeighborhoodSet<H, W = Guid> {
    own: W,
    capacity: u16,
    entries: Vec<Entry<H, W>>,
}

impl<H: Copy, W: RingWord> NeighborhoodSet<H, W> {
    /// An empty set for the node `own` holding at most `capacity` nodes (at most
    /// [`Config::MAX_NEIGHBORHOOD`](crate::Config::MAX_NEIGHBORHOOD); larger values are capped).
    #[must_use]
    pub fn new(own: W, capacity: usize) -> Self {
        let capacity = capacity.min(crate::Config::MAX_NEIGHBORHOOD);
        #[allow(clippy::cast_possible_truncation)] // capped above
        NeighborhoodSet {
            own,
            capacity: capacity as u16,
            entries: Vec::with_capacity(capacity),
        }
    }

    /// A set from its entries, for decoders (`crate::codec`) that have already checked every
    /// invariant of the type's documentation (at most `capacity` entries, non-decreasing
    /// proximity, no duplicate, no `own`); checked again by [`NeighborhoodSet::invariants`] in
    /// debug builds.
    pub(crate) fn from_entries(own: W, capacity: u16, entries: Vec<Entry<H, W>>) -> Self {
        let set = NeighborhoodSet {
            own,
            capacity,
            entries,
        };
        set.invariants();
        set
    }

    /// The local node's id.
    #[must_use]
    pub fn own(&self) -> W {
        self.own
    }

    /// |M|, the capacity.
    #[must_use]
    pub fn capacity(&self) -> usize {
        usize::from(self.capacity)
    }

    /// The number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no member.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The members, nearest first.
    #[must_use]
    pub fn entries(&self) -> &[Entry<H, W>] {
        &self.entries
    }

    /// The member with this id.
    #[must_use]
    pub fn get(&self, id: W) -> Option<&Entry<H, W>> {
        self.entries.iter().find(|e| e.node.id == id)
    }

    /// Offers `node` at `proximity`. A known node is re-measured: its handle and figure are
    /// updated; at a new figure it moves behind the members with the same figure, at an
    /// unchanged one it keeps its place. Returns whether `node` entered the set (it was not a
    /// member and now is).
    ///
    /// # Errors
    /// [`StateError::OwnId`] when `node` is the local node; the set is unchanged.
    pub fn insert(
        &mut self,
        node: NodeRef<H, W>,
        proximity: Proximity,
    ) -> Result<bool, StateError> {
        if node.id == self.own {
            return Err(StateError::OwnId);
        }
        let entry = Entry { node, proximity };
        if let Some(i) = self.entries.iter().position(|e| e.node.id == node.id) {
            if let Some(known) = self.entries.get_mut(i) {
                if known.proximity == proximity {
                    // Same figure: the position stays right; only the handle may change.
                    known.node = node;
                    return Ok(false);
                }
            }
            self.entries.remove(i);
            let at = self.entries.partition_point(|e| e.proximity <= proximity);
            self.entries.insert(at, entry);
            self.invariants();
            return Ok(false);
        }
        let at = self.entries.partition_point(|e| e.proximity <= proximity);
        if at >= self.capacity() {
            return Ok(false);
        }
        if self.entries.len() == self.capacity() {
            self.entries.pop();
        }
        self.entries.insert(at, entry);
        self.invariants();
        Ok(true)
    }

    /// Whether [`NeighborhoodSet::insert`] of the node `id` at `proximity` would make it a
    /// member, without changing anything: it is not a member (nor the owner) and is strictly
    /// nearer than the farthest member of a full set. Pass `proximity` 0 to ask whether it
    /// would be kept if it were near enough.
    #[must_use]
    pub fn would_insert(&self, id: W, proximity: Proximity) -> bool {
        id != self.own
            && self.get(id).is_none()
            && self.entries.partition_point(|e| e.proximity <= proximity) < self.capacity()
    }

    /// Removes the member `id`.
    pub fn remove(&mut self, id: W) -> Option<Entry<H, W>> {
        let i = self.entries.iter().position(|e| e.node.id == id)?;
        let e = self.entries.remove(i);
        self.invariants();
        Some(e)
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            assert!(
                self.entries.len() <= self.capacity(),
                "neighborhood over capacity"
            );
            assert!(
                self.entries.windows(2).all(|w| match w {
                    [a, b] => a.proximity <= b.proximity,
                    _ => true,
                }),
                "neighborhood out of proximity order"
            );
            assert!(
                self.entries.iter().all(|e| e.node.id != self.own),
                "own id in neighborhood"
            );
            for (i, e) in self.entries.iter().enumerate() {
                assert!(
                    self.entries
                        .iter()
                        .skip(i + 1)
                        .all(|f| f.node.id != e.node.id),
                    "duplicate id in neighborhood"
                );
            }
        }
    }
}
