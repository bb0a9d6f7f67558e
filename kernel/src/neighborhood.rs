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
///    incumbents);
/// 5. the membership summary (a 512-bit mask with one bit, a hash of the id, set per member,
///    and no other) is exact, so a clear bit proves that an id is not a member without a scan
///    of the entries (most offers come from strangers that the set refuses; with |M| = 32 a
///    stranger finds its bit set about 6% of the time).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NeighborhoodSet<H, W = Guid> {
    own: W,
    capacity: u16,
    entries: Vec<Entry<H, W>>,
    summary: Summary,
}

/// The membership summary: 512 bits, bit `bucket(id)` set for each member (invariant 5).
type Summary = [u64; 8];

/// The bit of the membership summary for `id`, as (word, mask): nine bits of a multiplicative
/// hash of its low and high halves (ids are spread over the ring, narrow test rings included).
#[inline]
fn bucket<W: RingWord>(id: W) -> (usize, u64) {
    let v = id.to_u128();
    #[allow(clippy::cast_possible_truncation)] // halves of a u128, and the top 9 bits of a u64
    let mixed =
        (((v as u64) ^ ((v >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 55) as usize;
    (mixed >> 6, 1u64 << (mixed & 63))
}

/// Whether the summary has the bit of `id`.
#[inline]
fn has_bit<W: RingWord>(summary: &Summary, id: W) -> bool {
    let (word, mask) = bucket(id);
    summary.get(word).is_some_and(|w| w & mask != 0)
}

/// Sets the bit of `id` in the summary.
#[inline]
fn set_bit<W: RingWord>(summary: &mut Summary, id: W) {
    let (word, mask) = bucket(id);
    if let Some(w) = summary.get_mut(word) {
        *w |= mask;
    }
}

/// The summary of these entries.
fn summary_of<H, W: RingWord>(entries: &[Entry<H, W>]) -> Summary {
    let mut summary = [0; 8];
    for e in entries {
        set_bit(&mut summary, e.node.id);
    }
    summary
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
            summary: [0; 8],
        }
    }

    /// A set from its entries, for decoders (`crate::codec`) that have already checked every
    /// invariant of the type's documentation (at most `capacity` entries, non-decreasing
    /// proximity, no duplicate, no `own`); checked again by [`NeighborhoodSet::invariants`] in
    /// debug builds.
    pub(crate) fn from_entries(own: W, capacity: u16, entries: Vec<Entry<H, W>>) -> Self {
        let summary = summary_of(&entries);
        let set = NeighborhoodSet {
            own,
            capacity,
            entries,
            summary,
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
        self.position(id).and_then(|i| self.entries.get(i))
    }

    /// The index of the member `id`; a clear summary bit answers without a scan.
    #[inline]
    fn position(&self, id: W) -> Option<usize> {
        if !has_bit(&self.summary, id) {
            return None;
        }
        self.entries.iter().position(|e| e.node.id == id)
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
        if let Some(i) = self.position(node.id) {
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
        // A full set refuses a newcomer no nearer than its farthest member at one comparison.
        if self.entries.len() >= self.capacity()
            && self.entries.last().is_none_or(|e| e.proximity <= proximity)
        {
            return Ok(false);
        }
        let at = self.entries.partition_point(|e| e.proximity <= proximity);
        if at >= self.capacity() {
            return Ok(false);
        }
        if self.entries.len() == self.capacity() {
            self.entries.pop();
            self.entries.insert(at, entry);
            self.summary = summary_of(&self.entries);
        } else {
            self.entries.insert(at, entry);
            set_bit(&mut self.summary, node.id);
        }
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
        let i = self.position(id)?;
        let e = self.entries.remove(i);
        self.summary = summary_of(&self.entries);
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
            assert_eq!(
                self.summary,
                summary_of(&self.entries),
                "neighborhood membership summary not exact"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invariant 5 is checked: a summary that misses a member is caught.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "neighborhood membership summary not exact")]
    fn a_stale_summary_is_caught() {
        let mut m = NeighborhoodSet::<u8, u16>::new(0, 4);
        m.insert(NodeRef::new(0x10, 1), 5).unwrap();
        m.summary = [0; 8];
        m.invariants();
    }

    /// `len` and `is_empty` follow inserts and removals.
    #[test]
    fn len_and_is_empty_follow_the_entries() {
        let mut m = NeighborhoodSet::<u8, u16>::new(0, 4);
        assert!(m.is_empty());
        assert_eq!(m.len(), 0);
        m.insert(NodeRef::new(0x10, 1), 5).unwrap();
        assert!(!m.is_empty());
        assert_eq!(m.len(), 1);
        assert!(m.remove(0x10).is_some());
        assert!(m.is_empty());
    }

    /// The summary does its job: with a full set of 32 members, about 32/512 = 6% of strangers
    /// find their bit set (the type's doc), on 128-bit ids and on a 16-bit ring alike. A
    /// summary that lets every id through, or hashes every id to one bit, would still give
    /// right answers (the scan decides) but no speed; this catches it.
    #[test]
    fn the_summary_turns_away_most_strangers() {
        fn passing<W: RingWord>(mut next: impl FnMut() -> W) -> usize {
            let mut m = NeighborhoodSet::<u8, W>::new(next(), 32);
            while m.len() < 32 {
                let id = next();
                let _ = m.insert(NodeRef::new(id, 0), 1);
            }
            let mut pass = 0;
            for _ in 0..10_000 {
                let id = next();
                if m.get(id).is_none() && has_bit(&m.summary, id) {
                    pass += 1;
                }
            }
            pass
        }
        let mut rng = crate::seeded::SplitMix::new(0x5eed);
        let wide = passing(|| rng.guid());
        let mut rng = crate::seeded::SplitMix::new(0x5eed);
        let narrow = passing(|| rng.word::<u16>());
        // Expected about 610 of 10,000 each; 1,500 leaves room for an unlucky seed.
        assert!(
            wide < 1_500,
            "{wide} of 10,000 strangers passed (128-bit ids)"
        );
        assert!(
            narrow < 1_500,
            "{narrow} of 10,000 strangers passed (16-bit ring)"
        );
    }

    /// On a narrow ring, after inserts that displace members and removals, `get` answers for
    /// every id exactly as a scan of the entries does.
    #[test]
    fn membership_answers_match_a_scan() {
        let mut m = NeighborhoodSet::<u8, u16>::new(7, 8);
        let mut x = 1u32;
        for step in 0..2_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            #[allow(clippy::cast_possible_truncation)]
            let id = (x >> 16) as u16 % 512;
            if id == 7 {
                continue;
            }
            if step % 5 == 4 {
                m.remove(id);
            } else {
                m.insert(NodeRef::new(id, 0), (x >> 8) % 100).unwrap();
            }
            m.invariants();
        }
        for id in 0..512u16 {
            let scan = m.entries().iter().any(|e| e.node.id == id);
            assert_eq!(m.get(id).is_some(), scan, "id {id}");
        }
    }
}
