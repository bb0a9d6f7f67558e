//! [`Counters`]: what a node did, for hosts to report.

use crate::message::Kind;

/// Messages by [`Kind`]: one counter per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByKind(pub [u64; Kind::ALL.len()]);

impl ByKind {
    /// The count of `kind`.
    #[must_use]
    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(kind.index()).copied().unwrap_or(0)
    }

    /// The sum over every kind.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The sum over the control kinds ([`Kind::is_control`]).
    #[must_use]
    pub fn control(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_control())
            .map(|k| self.get(*k))
            .sum()
    }

    pub(crate) fn add(&mut self, kind: Kind) {
        if let Some(c) = self.0.get_mut(kind.index()) {
            *c = c.saturating_add(1);
        }
    }

    /// Adds another table into this one (for a host summing over nodes).
    pub fn absorb(&mut self, other: &ByKind) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a = a.saturating_add(*b);
        }
    }
}

/// Inputs a node refused or dropped, by reason. Each is a counted drop, never growth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Drops {
    /// Bytes that did not decode ([`Node::handle_bytes`](crate::Node::handle_bytes)).
    pub malformed: u64,
    /// Messages whose sender's handle was not the handle they came from.
    pub spoofed: u64,
    /// Replies that match no outstanding request, acks of no message in flight.
    pub unexpected: u64,
    /// Messages that decode but that the state refuses (another configuration, a wrong owner,
    /// a row that does not exist).
    pub invalid: u64,
    /// Messages a node in its present phase does not take (a join reply when not joining…).
    pub out_of_phase: u64,
    /// Transmits dropped because the queue was full.
    pub transmits: u64,
    /// Events dropped because the queue was full.
    pub events: u64,
    /// Requests and probes not sent because the table of outstanding ones was full.
    pub requests: u64,
    /// Routed messages dropped because the table of messages in flight was full.
    pub in_flight: u64,
    /// Merges not started because the table of waiting merges was full.
    pub merges: u64,
    /// Held forward up-calls that the application did not answer in time.
    pub forwards: u64,
}

/// What a node did since it was created, for hosts to report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Messages handed to the host to send, by kind.
    pub sent: ByKind,
    /// Messages received and accepted for handling, by kind.
    pub received: ByKind,
    /// Routed messages delivered here.
    pub delivered: u64,
    /// Routed messages forwarded (including re-routes).
    pub forwarded: u64,
    /// Routed messages re-sent to another next hop after a hop timeout.
    pub retries: u64,
    /// Routed messages given up ([`Event::RouteFailed`](crate::Event::RouteFailed)).
    pub route_failed: u64,
    /// Routed messages received again (same origin and number) and not handled again.
    pub duplicates: u64,
    /// Nodes suspected (silent neighbour, hop timeout, reported failed by another node).
    pub suspicions: u64,
    /// Nodes declared failed and forgotten.
    pub failures: u64,
    /// Probes sent (each attempt counts).
    pub probes: u64,
    /// Join attempts started.
    pub join_attempts: u64,
    /// Refused and dropped inputs.
    pub dropped: Drops,
}
