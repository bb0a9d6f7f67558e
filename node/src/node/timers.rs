//! The node's armed timers, ordered by deadline.

use alloc::collections::BTreeSet;

use crate::config::Time;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Timer {
    /// Send heartbeats, check the immediate neighbours, keep repairing.
    Heartbeat,
    /// Ask one entry of each row for its row.
    RowMaintenance,
    /// Send the join request (again).
    Join,
    /// An outstanding request (by message id) times out.
    Request(u64),
    /// A routed message (by hop message id) was not acknowledged in time.
    Hop(u64),
    /// The root's reservation of a side for a joining node expires (true: successor side).
    Grant(bool),
    /// A held forward up-call (by token) expires.
    Parked(u64),
}

/// Armed timers: a set of (deadline, timer), so the earliest is first and each entity can
/// remove its own by its deadline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Timers {
    set: BTreeSet<(Time, Timer)>,
}

impl Timers {
    pub fn arm(&mut self, at: Time, t: Timer) {
        self.set.insert((at, t));
    }

    pub fn disarm(&mut self, at: Time, t: Timer) {
        self.set.remove(&(at, t));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Time> {
        self.set.first().map(|(t, _)| *t)
    }

    /// Removes and returns the earliest timer due at `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<(Time, Timer)> {
        let first = *self.set.first()?;
        if first.0 > now {
            return None;
        }
        self.set.pop_first()
    }

    #[cfg(debug_assertions)]
    pub fn len(&self) -> usize {
        self.set.len()
    }

    #[cfg(debug_assertions)]
    pub fn contains(&self, at: Time, t: Timer) -> bool {
        self.set.contains(&(at, t))
    }
}
