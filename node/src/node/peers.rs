//! What a node knows about other nodes beyond its routing state: measured round-trip times
//! (RFC 6298's estimator) and when each was last heard from.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use pastry_kernel::{Proximity, RingWord};

use crate::config::Time;

/// The proximity figure of a node never measured and not estimated: the worst figure, so that
/// it fills an empty slot but loses to any measured node.
pub(crate) const UNMEASURED: Proximity = Proximity::MAX;

/// One peer: a smoothed round-trip time and the last time it was heard from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Peer {
    /// Smoothed round-trip time in microseconds, once measured.
    pub srtt: Option<u64>,
    /// Round-trip time variation in microseconds.
    pub rttvar: u64,
    /// When a message from it last arrived.
    pub last_heard: Option<Time>,
}

impl Peer {
    /// Adds a round-trip sample (RFC 6298, section 2).
    pub fn sample(&mut self, rtt: u64) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                self.rttvar = (3 * self.rttvar + srtt.abs_diff(rtt)) / 4;
                self.srtt = Some((7 * srtt + rtt) / 8);
            }
        }
    }

    /// The retransmission timeout: `srtt + 4 · rttvar` (at least 1 ms of variation) within
    /// `[min, max]`, or `initial` before any sample.
    pub fn rto(&self, initial: Time, min: Time, max: Time) -> Time {
        match self.srtt {
            None => initial,
            Some(srtt) => srtt
                .saturating_add(self.rttvar.saturating_mul(4).max(1_000))
                .clamp(min, max),
        }
    }

    /// The proximity figure from the measured round-trip time, if any.
    pub fn figure(&self) -> Option<Proximity> {
        self.srtt
            .map(|s| Proximity::try_from(s).unwrap_or(UNMEASURED - 1))
    }
}

/// The per-peer table, keyed by id.
///
/// **Bound.** Entries are kept for nodes of the routing state and for nodes heard from
/// recently; [`Peers::prune`] drops the others, and an insert into a full table first evicts
/// the quarter of the entries that `keep` does not protect heard from longest ago.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Peers<W> {
    map: BTreeMap<W, Peer>,
}

impl<W> Default for Peers<W> {
    fn default() -> Self {
        Peers {
            map: BTreeMap::new(),
        }
    }
}

impl<W: RingWord> Peers<W> {
    pub fn get(&self, id: W) -> Option<&Peer> {
        self.map.get(&id)
    }

    #[cfg(debug_assertions)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The entry for `id`, made if missing. When the table holds `cap` entries, the quarter of
    /// them (at least one) not protected by `keep` that were heard from longest ago are evicted
    /// first: one scan of the table pays for a quarter of its size in inserts, where evicting
    /// one entry per insert would scan the whole table every time. Returns `None` when every
    /// entry is protected.
    pub fn entry(&mut self, id: W, cap: usize, keep: impl Fn(W) -> bool) -> Option<&mut Peer> {
        if self.map.len() >= cap && !self.map.contains_key(&id) {
            // Oldest first; `keep` (a search of the routing state) is asked only of the
            // entries in turn for eviction, not of the whole table.
            let mut by_age: Vec<(Option<Time>, W)> =
                self.map.iter().map(|(k, p)| (p.last_heard, *k)).collect();
            by_age.sort_unstable();
            let quota = (cap / 4).max(1);
            let victims: Vec<W> = by_age
                .iter()
                .map(|(_, k)| *k)
                .filter(|k| !keep(*k))
                .take(quota)
                .collect();
            if victims.is_empty() {
                return None;
            }
            for k in &victims {
                self.map.remove(k);
            }
        }
        Some(self.map.entry(id).or_default())
    }

    /// Records that `id` was heard from at `now`.
    pub fn heard(&mut self, id: W, now: Time, cap: usize, keep: impl Fn(W) -> bool) {
        if let Some(p) = self.entry(id, cap, keep) {
            p.last_heard = Some(now);
        }
    }

    /// Whether the table holds more than `cap` entries.
    pub fn over(&self, cap: usize) -> bool {
        self.map.len() > cap
    }

    /// Drops the entry of `id`.
    pub fn remove(&mut self, id: W) {
        self.map.remove(&id);
    }

    /// Drops every entry that `keep` does not protect and that was not heard from since
    /// `since`.
    pub fn prune(&mut self, since: Time, keep: impl Fn(W) -> bool) {
        self.map
            .retain(|id, p| keep(*id) || p.last_heard.is_some_and(|t| t >= since));
    }
}
