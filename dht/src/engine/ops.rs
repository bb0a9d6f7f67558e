//! The callers' operations (put, get, remove, their retries and answers) and the root's
//! coordination of stores and fetches with the other replicas.

use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{NodeRef, RingWord};
use pastry_node::{Estimator, Time};

use super::{Dht, DhtTimer};
use crate::config::DhtConfig;
use crate::event::{DhtError, DhtEvent, FailReason, OpId};
use crate::message::{DhtMessage, Status};
use crate::record::Record;

/// What a caller's operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum OpKind {
    Put,
    Get,
    Remove,
}

/// A caller's operation waiting for its answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ClientOp<W> {
    pub kind: OpKind,
    pub key: W,
    /// The record written (puts and removes); retries send it again, same version.
    pub record: Option<Record<W>>,
    pub attempt: u8,
    pub deadline: Time,
    /// Replicas that held the write at the last answer under the quorum.
    pub short: Option<u8>,
}

/// What a root coordinates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Work<W> {
    Put {
        record: Record<W>,
        stored: u8,
        full: u8,
        /// The writer has its answer (the quorum was reached before every replica answered).
        answered: bool,
    },
    Get {
        best: Option<Record<W>>,
        replies: usize,
    },
}

/// A root's store or fetch, waiting for the other replicas.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Coord<H, W> {
    pub origin: NodeRef<H, W>,
    pub origin_op: u64,
    pub key: W,
    /// Replica-set members asked that have not answered.
    pub waiting: Vec<W>,
    /// Those that answered.
    pub replied: Vec<W>,
    pub deadline: Time,
    pub work: Work<W>,
}

impl<H, W, E> Dht<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// Stores `value` under `key` on the key's k replicas. The answer is a
    /// [`DhtEvent::PutDone`] or [`DhtEvent::Failed`] with the returned [`OpId`].
    ///
    /// # Errors
    /// [`DhtError::ValueTooLarge`] over [`DhtConfig::max_value`], [`DhtError::TooManyOps`],
    /// or the node's refusal (not active); nothing changes then.
    pub fn put(&mut self, now: Time, key: W, value: Vec<u8>) -> Result<OpId, DhtError> {
        if value.len() > self.cfg.max_value {
            return Err(DhtError::ValueTooLarge {
                len: value.len(),
                max: self.cfg.max_value,
            });
        }
        self.write(now, OpKind::Put, key, Some(value))
    }

    /// Removes `key` from its replicas: writes a tombstone, which wins over every older
    /// value. The answer is a [`DhtEvent::RemoveDone`] or [`DhtEvent::Failed`].
    ///
    /// # Errors
    /// As [`Dht::put`].
    pub fn remove(&mut self, now: Time, key: W) -> Result<OpId, DhtError> {
        self.write(now, OpKind::Remove, key, None)
    }

    /// Reads `key`. The answer is a [`DhtEvent::GetDone`] or [`DhtEvent::Failed`].
    ///
    /// # Errors
    /// [`DhtError::TooManyOps`], or the node's refusal (not active); nothing changes then.
    pub fn get(&mut self, now: Time, key: W) -> Result<OpId, DhtError> {
        self.start(now, OpKind::Get, key, None)
    }

    fn write(
        &mut self,
        now: Time,
        kind: OpKind,
        key: W,
        value: Option<Vec<u8>>,
    ) -> Result<OpId, DhtError> {
        let record = Record {
            key,
            version: self.fresh_version(now),
            value,
        };
        self.start(now, kind, key, Some(record))
    }

    fn start(
        &mut self,
        now: Time,
        kind: OpKind,
        key: W,
        record: Option<Record<W>>,
    ) -> Result<OpId, DhtError> {
        if self.ops.len() >= self.cfg.max_ops {
            return Err(DhtError::TooManyOps);
        }
        let op = self.next_op;
        let m = match &record {
            Some(r) => DhtMessage::Put {
                op,
                record: r.clone(),
            },
            None => DhtMessage::Get { op, key },
        };
        self.send_routed(now, key, &m)?;
        self.next_op = self.next_op.wrapping_add(1).max(1);
        if let Some(r) = &record {
            self.observe(r.version.time);
        }
        let deadline = now.saturating_add(DhtConfig::micros(self.cfg.request_timeout));
        self.ops.insert(
            op,
            ClientOp {
                kind,
                key,
                record,
                attempt: 1,
                deadline,
                short: None,
            },
        );
        self.arm(deadline, DhtTimer::Op(op));
        self.pump(now);
        self.settle(now);
        Ok(OpId(op))
    }

    /// Sends an operation again (same version), or gives it up after the last attempt.
    fn retry(&mut self, now: Time, op: u64) {
        let Some(o) = self.ops.get(&op) else {
            return;
        };
        let (deadline, attempt, key) = (o.deadline, o.attempt, o.key);
        if attempt >= self.cfg.request_attempts {
            let reason = match (o.short, self.cfg.write_quorum) {
                (Some(stored), Some(needed)) => FailReason::Quorum { stored, needed },
                _ => FailReason::Timeout,
            };
            self.disarm(deadline, DhtTimer::Op(op));
            self.ops.remove(&op);
            self.emit(DhtEvent::Failed {
                op: OpId(op),
                key,
                reason,
            });
            return;
        }
        let m = match &o.record {
            Some(r) => DhtMessage::Put {
                op,
                record: r.clone(),
            },
            None => DhtMessage::Get { op, key },
        };
        // A refusal by the node (its queue full) is retried at the next deadline.
        if self.send_routed(now, key, &m).is_err() {
            self.counters.dropped.not_sent += 1;
        }
        self.disarm(deadline, DhtTimer::Op(op));
        let deadline = now.saturating_add(DhtConfig::micros(self.cfg.request_timeout));
        if let Some(o) = self.ops.get_mut(&op) {
            o.attempt = attempt.saturating_add(1);
            o.deadline = deadline;
        }
        self.arm(deadline, DhtTimer::Op(op));
    }

    pub(super) fn on_op_timeout(&mut self, now: Time, op: u64) {
        self.retry(now, op);
    }

    /// Ends an operation with `event`.
    fn finish(&mut self, op: u64, event: DhtEvent<H, W>) {
        if let Some(o) = self.ops.remove(&op) {
            self.disarm(o.deadline, DhtTimer::Op(op));
            self.emit(event);
        }
    }

    pub(super) fn on_put_reply(&mut self, now: Time, op: u64, key: W, stored: u8, full: u8) {
        let Some(o) = self.ops.get(&op) else {
            self.counters.dropped.unexpected += 1;
            return;
        };
        let Some(record) = o.record.as_ref().filter(|_| o.key == key) else {
            self.counters.dropped.unexpected += 1;
            return;
        };
        let (kind, version) = (o.kind, record.version);
        if let Some(needed) = self.cfg.write_quorum.filter(|w| stored < *w) {
            let _ = needed;
            if let Some(o) = self.ops.get_mut(&op) {
                o.short = Some(stored);
            }
            self.retry(now, op);
            return;
        }
        let event = if stored == 0 {
            let _ = full;
            DhtEvent::Failed {
                op: OpId(op),
                key,
                reason: FailReason::Full,
            }
        } else if kind == OpKind::Remove {
            DhtEvent::RemoveDone {
                op: OpId(op),
                key,
                version,
                stored,
            }
        } else {
            DhtEvent::PutDone {
                op: OpId(op),
                key,
                version,
                stored,
            }
        };
        self.finish(op, event);
    }

    pub(super) fn on_get_reply(&mut self, _now: Time, op: u64, key: W, record: Option<Record<W>>) {
        let ok = self
            .ops
            .get(&op)
            .is_some_and(|o| o.kind == OpKind::Get && o.key == key);
        if !ok {
            self.counters.dropped.unexpected += 1;
            return;
        }
        if let Some(r) = &record {
            self.observe(r.version.time);
        }
        let version = record.as_ref().map(|r| r.version);
        let value = record.and_then(|r| r.value);
        self.finish(
            op,
            DhtEvent::GetDone {
                op: OpId(op),
                key,
                value,
                version,
            },
        );
    }

    // -----------------------------------------------------------------------------------------
    // The root
    // -----------------------------------------------------------------------------------------

    /// The other members of `key`'s replica set, in this node's view.
    fn others(&self, key: W) -> Vec<NodeRef<H, W>> {
        let own = self.node.state().id();
        self.node
            .state()
            .replica_set(key, self.cfg.replicas)
            .iter()
            .filter(|n| n.id != own)
            .copied()
            .collect()
    }

    /// Starts a coordination; `None` (counted) at the cap.
    fn coordinate(
        &mut self,
        now: Time,
        origin: NodeRef<H, W>,
        origin_op: u64,
        key: W,
        others: &[NodeRef<H, W>],
        work: Work<W>,
    ) -> Option<u64> {
        if self.coords.len() >= self.cfg.max_coordinations {
            self.counters.dropped.coordinations += 1;
            return None;
        }
        let id = self.next_op;
        self.next_op = self.next_op.wrapping_add(1).max(1);
        let deadline = now.saturating_add(DhtConfig::micros(self.cfg.replica_timeout));
        self.coords.insert(
            id,
            Coord {
                origin,
                origin_op,
                key,
                waiting: others.iter().map(|n| n.id).collect(),
                replied: Vec::new(),
                deadline,
                work,
            },
        );
        self.arm(deadline, DhtTimer::Coord(id));
        Some(id)
    }

    /// A put (or remove) routed here: this node is the key's root.
    pub(super) fn on_put(&mut self, now: Time, origin: NodeRef<H, W>, op: u64, record: Record<W>) {
        let key = record.key;
        let others = self.others(key);
        if self.coords.len() >= self.cfg.max_coordinations {
            // The writer asks again; nothing is stored half-way.
            self.counters.dropped.coordinations += 1;
            return;
        }
        let status = self.apply(now, record.clone());
        let (stored, full) = (u8::from(status.holds()), u8::from(status == Status::Full));
        let work = Work::Put {
            record: record.clone(),
            stored,
            full,
            answered: false,
        };
        let Some(id) = self.coordinate(now, origin, op, key, &others, work) else {
            return;
        };
        for n in others {
            self.send_to(
                now,
                n,
                &DhtMessage::Store {
                    op: id,
                    record: record.clone(),
                },
            );
        }
        self.check_coord(now, id, false);
    }

    /// A get routed here: this node is the key's root.
    pub(super) fn on_get(&mut self, now: Time, origin: NodeRef<H, W>, op: u64, key: W) {
        let own = self.store.get(key);
        let others = self.others(key);
        if others.is_empty() || (self.cfg.read_quorum() <= 1 && own.is_some()) {
            self.send_to(
                now,
                origin,
                &DhtMessage::GetReply {
                    op,
                    key,
                    record: own,
                },
            );
            return;
        }
        let work = Work::Get {
            best: own,
            replies: 1,
        };
        let Some(id) = self.coordinate(now, origin, op, key, &others, work) else {
            return;
        };
        for n in others {
            self.send_to(now, n, &DhtMessage::Fetch { op: id, key });
        }
        self.check_coord(now, id, false);
    }

    /// A root's store, at a replica.
    pub(super) fn on_store(
        &mut self,
        now: Time,
        origin: NodeRef<H, W>,
        op: u64,
        record: Record<W>,
    ) {
        let key = record.key;
        let status = if self.responsible(key) {
            self.apply(now, record)
        } else {
            Status::NotMine
        };
        self.send_to(now, origin, &DhtMessage::StoreReply { op, key, status });
    }

    /// Marks `from` as replied to coordination `id`; false when it was not waited for.
    fn replied(&mut self, id: u64, key: W, from: W) -> bool {
        let Some(c) = self.coords.get_mut(&id).filter(|c| c.key == key) else {
            return false;
        };
        let Some(at) = c.waiting.iter().position(|w| *w == from) else {
            return false;
        };
        c.waiting.swap_remove(at);
        c.replied.push(from);
        true
    }

    pub(super) fn on_store_reply(
        &mut self,
        now: Time,
        from: NodeRef<H, W>,
        id: u64,
        key: W,
        status: Status,
    ) {
        if !self.replied(id, key, from.id) {
            self.counters.dropped.unexpected += 1;
            return;
        }
        if let Some(Coord {
            work: Work::Put { stored, full, .. },
            ..
        }) = self.coords.get_mut(&id)
        {
            if status.holds() {
                *stored = stored.saturating_add(1);
            } else if status == Status::Full {
                *full = full.saturating_add(1);
            }
        }
        self.check_coord(now, id, false);
    }

    pub(super) fn on_fetch_reply(
        &mut self,
        now: Time,
        from: NodeRef<H, W>,
        id: u64,
        key: W,
        record: Option<Record<W>>,
    ) {
        if !self.replied(id, key, from.id) {
            self.counters.dropped.unexpected += 1;
            return;
        }
        if let Some(Coord {
            work: Work::Get { best, replies },
            ..
        }) = self.coords.get_mut(&id)
        {
            *replies += 1;
            if let Some(r) = record {
                if best.as_ref().is_none_or(|b| r.supersedes(b)) {
                    *best = Some(r);
                }
            }
        }
        self.check_coord(now, id, false);
    }

    pub(super) fn on_coord_timeout(&mut self, now: Time, id: u64) {
        self.check_coord(now, id, true);
    }

    /// Answers the origin of coordination `id` when it is complete (or `expired`), and ends
    /// it when every replica answered or it expired.
    fn check_coord(&mut self, now: Time, id: u64, expired: bool) {
        let Some(c) = self.coords.get(&id) else {
            return;
        };
        let all = c.waiting.is_empty();
        let (origin, op, key) = (c.origin, c.origin_op, c.key);
        let mut answer = None;
        let mut repair = None;
        match &c.work {
            Work::Put {
                stored,
                full,
                answered,
                ..
            } => {
                let quorum = self.cfg.write_quorum.is_some_and(|w| *stored >= w);
                if !*answered && (all || expired || quorum) {
                    answer = Some(DhtMessage::PutReply {
                        op,
                        key,
                        stored: *stored,
                        full: *full,
                    });
                }
            }
            Work::Get { best, replies } => {
                let quorum = *replies >= self.cfg.read_quorum();
                if all || (quorum && best.is_some()) || (expired && quorum) {
                    answer = Some(DhtMessage::GetReply {
                        op,
                        key,
                        record: best.clone(),
                    });
                    repair = best.clone();
                }
                // Expired short of the quorum: no answer; the reader asks again.
            }
        }
        let done = all || expired || matches!(answer, Some(DhtMessage::GetReply { .. }));
        if let Some(m) = answer {
            self.send_to(now, origin, &m);
            if let Some(Coord {
                work: Work::Put { answered, .. },
                ..
            }) = self.coords.get_mut(&id)
            {
                *answered = true;
            }
        }
        // Read repair: the root keeps the newest copy it found.
        if let Some(r) = repair {
            if self.responsible(r.key)
                && self.store.get(r.key).is_none_or(|held| r.supersedes(&held))
            {
                self.apply(now, r);
            }
        }
        if done {
            if let Some(c) = self.coords.remove(&id) {
                self.disarm(c.deadline, DhtTimer::Coord(id));
            }
        }
    }
}
