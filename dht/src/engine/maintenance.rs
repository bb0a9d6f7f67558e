//! Replica maintenance: summaries between replica-set neighbours, pulls and pushes of what
//! differs, hand-off of keys this node is no longer responsible for, and tombstone
//! collection (FreePastry PAST's periodic pull with summaries, run also on leaf-set changes
//! as PAST re-establishes its k replicas).
//!
//! A round visits at most [`DhtConfig::scan_per_round`](crate::DhtConfig) records from a
//! cursor that wraps around the store. For each record it computes the key's replica set
//! (this node's view) and adds `(key, version)` to the summary for each other member; a
//! summary is sent when it holds [`DhtConfig::summary_entries`](crate::DhtConfig) entries,
//! and the rest at the end of the round. The receiver answers each entry with a
//! [`Status`]: it wants the record (it is responsible and holds none or an older one), it
//! holds that version or a newer one (and then pushes its newer one back), or the key is not
//! its. The sender pushes what is wanted. A node that holds a key it is no longer
//! responsible for drops it once every member of the key's replica set has answered that it
//! holds the version or a newer one.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{NodeRef, RingWord};
use pastry_node::{Estimator, Time};

use super::{Dht, DhtTimer, Handoff};
use crate::config::DhtConfig;
use crate::message::{DhtMessage, Status, MAX_ENTRIES, RECORD_OVERHEAD};
use crate::record::{Record, Version};

/// A summary being filled for one neighbour.
type Page<H, W> = (NodeRef<H, W>, Vec<(W, Version<W>)>);

impl<H, W, E> Dht<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// A round of replica maintenance.
    pub(super) fn round(&mut self, now: Time) {
        if !self.node.is_active() {
            return;
        }
        self.counters.rounds += 1;
        let own = self.node.state().id();
        let k = self.cfg.replicas;
        let page = self.cfg.summary_entries.min(MAX_ENTRIES);
        let scan = self.store.scan(self.cursor, self.cfg.scan_per_round);
        self.cursor = match scan.last() {
            Some((last, ..)) if scan.len() < self.store.len() => self.store.next_key(*last),
            _ => None,
        };
        let mut pages: BTreeMap<W, Page<H, W>> = BTreeMap::new();
        let mut collect = Vec::new();
        for (key, version, _tombstone, collect_at) in scan {
            if collect_at.is_some_and(|at| at <= now) {
                collect.push(key);
                continue;
            }
            let set = self.node.state().replica_set(key, k);
            for m in set.iter().filter(|m| m.id != own) {
                let entry = pages.entry(m.id).or_insert_with(|| (*m, Vec::new()));
                entry.1.push((key, version));
                if entry.1.len() >= page {
                    let (to, entries) = (entry.0, core::mem::take(&mut entry.1));
                    self.send_summary(now, to, entries);
                }
            }
        }
        for (_, (to, entries)) in pages {
            if !entries.is_empty() {
                self.send_summary(now, to, entries);
            }
        }
        for key in collect {
            if self.store.remove(key) {
                self.handoffs.remove(&key);
                self.counters.collected += 1;
            }
        }
        let at = now.saturating_add(DhtConfig::micros(self.cfg.replication_period));
        if let Some(old) = self.round_at.take() {
            self.disarm(old, DhtTimer::Round);
        }
        self.round_at = Some(at);
        self.arm(at, DhtTimer::Round);
    }

    fn send_summary(&mut self, now: Time, to: NodeRef<H, W>, mut entries: Vec<(W, Version<W>)>) {
        // Keys come from one ordered scan, but the scan wraps: sort to the wire's order.
        entries.sort_unstable_by_key(|e| e.0);
        self.send_to(now, to, &DhtMessage::Summary { entries });
    }

    /// A neighbour's summary: answer each entry, push what is newer here.
    pub(super) fn on_summary(
        &mut self,
        now: Time,
        origin: NodeRef<H, W>,
        entries: &[(W, Version<W>)],
    ) {
        let mut reply = Vec::with_capacity(entries.len());
        let mut newer = Vec::new();
        let full = self.store.len() >= self.store.cap();
        for &(key, version) in entries {
            let status = match self.store.version(key) {
                Some(mine) if mine > version => {
                    if let Some(r) = self.store.get(key) {
                        newer.push(r);
                    }
                    Status::Have
                }
                Some(mine) if mine == version => Status::Have,
                held => {
                    if !self.responsible(key) {
                        Status::NotMine
                    } else if held.is_none() && full {
                        Status::Full
                    } else {
                        Status::Want
                    }
                }
            };
            reply.push((key, version, status));
        }
        self.send_to(now, origin, &DhtMessage::SummaryReply { entries: reply });
        self.push(now, origin, newer);
    }

    /// A neighbour's answers to our summary: push what it wants; count its confirmations of
    /// keys this node hands off.
    pub(super) fn on_summary_reply(
        &mut self,
        now: Time,
        origin: NodeRef<H, W>,
        entries: &[(W, Version<W>, Status)],
    ) {
        let mut wanted = Vec::new();
        for &(key, version, status) in entries {
            if self.store.version(key) != Some(version) {
                continue; // changed since the summary
            }
            match status {
                Status::Want => {
                    if let Some(r) = self.store.get(key) {
                        wanted.push(r);
                    }
                }
                Status::Have | Status::Stored => self.confirm_handoff(key, version, origin.id),
                Status::NotMine | Status::Full => {}
            }
        }
        self.push(now, origin, wanted);
    }

    /// `from` holds `key` at `version` or newer: when this node is not among the key's k,
    /// it drops the key once every member confirmed.
    fn confirm_handoff(&mut self, key: W, version: Version<W>, from: W) {
        if self.responsible(key) {
            self.handoffs.remove(&key);
            return;
        }
        let set = self.node.state().replica_set(key, self.cfg.replicas);
        if !set.iter().any(|n| n.id == from) {
            return;
        }
        if !self.handoffs.contains_key(&key) && self.handoffs.len() >= self.cfg.max_handoffs {
            self.counters.dropped.handoffs += 1;
            return;
        }
        let h = self.handoffs.entry(key).or_insert_with(|| Handoff {
            version,
            confirmed: alloc::collections::BTreeSet::new(),
        });
        if h.version != version {
            h.version = version;
            h.confirmed.clear();
        }
        h.confirmed.insert(from);
        let own = self.node.state().id();
        let all = set
            .iter()
            .filter(|n| n.id != own)
            .all(|n| h.confirmed.contains(&n.id));
        if all && !set.is_empty() {
            self.handoffs.remove(&key);
            if self.store.remove(key) {
                self.counters.handed_off += 1;
            }
        }
    }

    /// Sends `records` to `to`, as few pushes as fit the node's payload cap.
    fn push(&mut self, now: Time, to: NodeRef<H, W>, mut records: Vec<Record<W>>) {
        if records.is_empty() {
            return;
        }
        records.sort_unstable_by_key(|r| r.key);
        let budget = self.node.config().max_payload;
        let mut batch: Vec<Record<W>> = Vec::new();
        let mut size = RECORD_OVERHEAD;
        for r in records {
            let len = r.value.as_ref().map_or(0, Vec::len) + RECORD_OVERHEAD;
            if !batch.is_empty() && (size + len > budget || batch.len() >= MAX_ENTRIES) {
                let full = core::mem::take(&mut batch);
                self.send_to(now, to, &DhtMessage::Push { records: full });
                size = RECORD_OVERHEAD;
            }
            size += len;
            batch.push(r);
        }
        if !batch.is_empty() {
            self.send_to(now, to, &DhtMessage::Push { records: batch });
        }
    }

    /// Records pushed to this node: it keeps those it is responsible for.
    pub(super) fn on_push(&mut self, now: Time, records: Vec<Record<W>>) {
        for r in records {
            if self.responsible(r.key) {
                self.apply(now, r);
            } else {
                self.counters.dropped.unexpected += 1;
            }
        }
    }
}
