//! [`Dht`]: one DHT node as a sans-I/O state machine over a [`Node`].
//!
//! The state machine lives here (inputs, outputs, the dispatch of the node's events, the
//! invariants); [`ops`](self::ops) holds the callers' operations and the root's coordination of
//! stores and fetches, [`maintenance`](self::maintenance) the replica maintenance (summaries,
//! pulls and pushes, hand-off, tombstone collection).

mod maintenance;
mod ops;

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{Guid, NodeRef, RingWord};
use pastry_node::{CallError, Estimator, Event, Message, NoEstimate, Node, Time, Transmit};

use crate::config::{DhtConfig, DhtConfigError, PlantedBug};
use crate::event::{DhtCounters, DhtError, DhtEvent};
use crate::message::{is_dht_payload, DhtMessage};
use crate::record::{Record, Store, Version};

use self::ops::{ClientOp, Coord};

/// What a timer of the DHT is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum DhtTimer {
    /// The next round of replica maintenance.
    Round,
    /// A caller's operation (by op id) waited long enough for its answer.
    Op(u64),
    /// A root's coordination (by its id) waited long enough for the replicas.
    Coord(u64),
}

/// A key being handed off: the version held, and the replica-set members that confirmed
/// they hold it or a newer one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Handoff<W> {
    version: Version<W>,
    confirmed: BTreeSet<W>,
}

/// One DHT node: put / get / remove with replication (PAST over Pastry), as a sans-I/O state
/// machine that owns its [`Node`] and is driven like it.
///
/// # Driving it
/// * **Inputs**: [`Dht::handle`] (or [`Dht::handle_bytes`]) for each message received,
///   [`Dht::handle_timeout`] when the time of [`Dht::poll_timeout`] has come, and the
///   application's calls: [`Dht::put`], [`Dht::get`], [`Dht::remove`], and the node's
///   [`Dht::join`], [`Dht::leave`], [`Dht::route`], [`Dht::forward`]. Each takes `now`.
/// * **Outputs**, polled until `None` after every input: [`Dht::poll_transmit`] (the node's
///   messages, DHT messages inside them), [`Dht::poll_event`] (results of operations, and every
///   node event that is not the DHT's own), [`Dht::poll_timeout`].
///
/// DHT messages are the payloads of the node's routed messages ([`crate::message`]); the DHT
/// uses only the node's calls and up-calls (`route`, `route_to`, `Deliver`, `Update`, the
/// replica set of its state), never another node's state.
///
/// # Design (PAST, with FreePastry PAST's maintenance)
/// * A value lives on the k nodes of its key's replica set: the root and the next k − 1
///   closest (PAST's k closest nodes). A put or remove is routed to the key; the root stores
///   it and sends it to the other k − 1 (PAST: the root forwards the insert to the k − 1 and
///   they acknowledge), then answers the writer with how many hold it.
/// * Every write carries a [`Version`] (the writer's hybrid clock, the writer's id); the
///   greater wins everywhere, so replicas converge whatever order writes arrive in. A remove
///   writes a tombstone, kept for [`DhtConfig::tombstone_lifetime`] (PAST has no delete; this
///   is the usual versioned delete of replicated stores).
/// * A get is routed to the key; the root answers from its own copy when it has one and no
///   quorum is asked, else asks the other replicas and answers with the newest reply once it
///   has the read quorum (root first, then the other replicas).
/// * Replica maintenance (FreePastry PAST's periodic pull with summaries between leaf-set
///   neighbours, run also on every leaf-set change as PAST re-establishes replicas): each
///   round, a node sends each replica-set neighbour a page of `(key, version)` of the keys
///   they share; the neighbour answers what it wants and pushes what it holds newer. A node
///   that is no longer among a key's k keeps offering the key to the k, and drops it once
///   all k confirmed they hold it (hand-off).
///
/// Bounded work: a round visits at most [`DhtConfig::scan_per_round`] records and sends
/// summaries of at most [`DhtConfig::summary_entries`] entries; a message's work is linear in
/// its entries (each a store look-up and a replica-set computation of L + 1 nodes), never in
/// the number of records held.
///
/// # Invariants
/// Checked by [`Dht::invariants`] at the end of every input in debug builds, and by the
/// property test `dht_invariants_hold_under_random_schedules` and the fuzz target
/// `dht_ops`:
///
/// 1. the node and the store keep their invariants;
/// 2. every table and queue is within its cap: operations, coordinations, hand-offs, events,
///    remembered message numbers;
/// 3. the timers are exactly those of the pending work: one per operation and coordination,
///    plus the maintenance round, armed only while the node is active (from its first input
///    as an active node on);
/// 4. every hand-off names a key held at the version it tracks;
/// 5. the hybrid clock is at least the version of every write this node has issued;
/// 6. a coordination's replied and waiting nodes are disjoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dht<H, W = Guid, E = NoEstimate> {
    cfg: DhtConfig,
    node: Node<H, W, E>,
    store: Store<W>,
    /// The hybrid clock: the greatest version time issued or seen.
    clock: Time,
    next_op: u64,
    ops: BTreeMap<u64, ClientOp<W>>,
    coords: BTreeMap<u64, Coord<H, W>>,
    handoffs: BTreeMap<W, Handoff<W>>,
    /// The numbers of this node's routed DHT messages, oldest first, and as a set.
    sent_order: VecDeque<u64>,
    sent: BTreeSet<u64>,
    /// Where the next maintenance round starts in the store.
    cursor: Option<W>,
    round_at: Option<Time>,
    timers: BTreeSet<(Time, DhtTimer)>,
    events: VecDeque<DhtEvent<H, W>>,
    counters: DhtCounters,
}

impl<H, W, E> Dht<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// A DHT node over `node` (made by [`Node::new`] and not joined yet, or already active
    /// from [`Node::active_with_state`]).
    ///
    /// # Errors
    /// A [`DhtConfig`] out of range, or one the node's configuration cannot carry (k over
    /// L/2 + 1, a payload cap below [`DhtConfig::required_payload`]).
    pub fn new(cfg: DhtConfig, node: Node<H, W, E>) -> Result<Self, DhtConfigError> {
        cfg.validate(node.config())?;
        let dht = Dht {
            store: Store::new(cfg.max_records),
            cfg,
            node,
            clock: 0,
            next_op: 1,
            ops: BTreeMap::new(),
            coords: BTreeMap::new(),
            handoffs: BTreeMap::new(),
            sent_order: VecDeque::new(),
            sent: BTreeSet::new(),
            cursor: None,
            round_at: None,
            timers: BTreeSet::new(),
            events: VecDeque::new(),
            counters: DhtCounters::default(),
        };
        dht.invariants();
        Ok(dht)
    }

    /// The node.
    #[must_use]
    pub fn node(&self) -> &Node<H, W, E> {
        &self.node
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &DhtConfig {
        &self.cfg
    }

    /// The records this node holds.
    #[must_use]
    pub fn store(&self) -> &Store<W> {
        &self.store
    }

    /// What the DHT did so far.
    #[must_use]
    pub fn counters(&self) -> &DhtCounters {
        &self.counters
    }

    /// Whether this node is among the k replicas of `key` in its own view (active, and in
    /// the replica set of its state).
    #[must_use]
    pub fn responsible(&self, key: W) -> bool {
        self.node.is_active() && self.in_replica_set(key, self.node.state().id())
    }

    fn in_replica_set(&self, key: W, id: W) -> bool {
        self.node
            .state()
            .replica_set(key, self.cfg.replicas)
            .iter()
            .any(|n| n.id == id)
    }

    /// The number of operations waiting for their answers.
    #[must_use]
    pub fn pending_ops(&self) -> usize {
        self.ops.len()
    }

    // -----------------------------------------------------------------------------------------
    // Driving
    // -----------------------------------------------------------------------------------------

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit<H, W>> {
        self.node.poll_transmit()
    }

    /// The next event for the application, if any.
    pub fn poll_event(&mut self) -> Option<DhtEvent<H, W>> {
        self.events.pop_front()
    }

    /// The earliest armed timer, the node's or the DHT's: call [`Dht::handle_timeout`] then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        let own = self.timers.first().map(|(t, _)| *t);
        match (own, self.node.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles the timers due at `now`, the node's and the DHT's.
    pub fn handle_timeout(&mut self, now: Time) {
        self.node.handle_timeout(now);
        self.pump(now);
        while let Some(&(at, t)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, t));
            match t {
                DhtTimer::Round => {
                    self.round_at = None;
                    self.round(now);
                }
                DhtTimer::Op(op) => self.on_op_timeout(now, op),
                DhtTimer::Coord(id) => self.on_coord_timeout(now, id),
            }
            self.pump(now);
        }
        self.settle(now);
    }

    /// Handles a message received from `from` (see [`Node::handle`]).
    pub fn handle(&mut self, now: Time, from: H, msg: Message<H, W>) {
        self.node.handle(now, from, msg);
        self.pump(now);
        self.settle(now);
    }

    /// Decodes `bytes` received from `from` and handles the message (see
    /// [`Node::handle_bytes`]).
    ///
    /// # Errors
    /// The node's decoding error; nothing else changes.
    pub fn handle_bytes(
        &mut self,
        now: Time,
        from: H,
        bytes: &[u8],
    ) -> Result<(), pastry_node::message::MessageDecodeError> {
        let r = self.node.handle_bytes(now, from, bytes);
        self.pump(now);
        self.settle(now);
        r
    }

    /// [`Node::join`]: joins the overlay through `contact`, or starts one with `None`.
    ///
    /// # Errors
    /// As [`Node::join`]; nothing changes.
    pub fn join(&mut self, now: Time, contact: Option<H>) -> Result<(), CallError> {
        let r = self.node.join(now, contact);
        self.pump(now);
        self.settle(now);
        r
    }

    /// [`Node::leave`]: leaves the overlay. The records held are not handed off first (a
    /// leaving node is like a failed one to the DHT: the other replicas restore k copies).
    ///
    /// # Errors
    /// As [`Node::leave`]; nothing changes.
    pub fn leave(&mut self, now: Time) -> Result<(), CallError> {
        let r = self.node.leave(now);
        self.pump(now);
        self.settle(now);
        r
    }

    /// [`Node::route`] for the application's own messages.
    ///
    /// # Errors
    /// [`DhtError::ReservedPayload`] for a payload that starts with the DHT's
    /// [`MAGIC`](crate::message::MAGIC); otherwise as [`Node::route`]. Nothing changes then.
    pub fn route(&mut self, now: Time, key: W, payload: Vec<u8>) -> Result<u64, DhtError> {
        if is_dht_payload(&payload) {
            return Err(DhtError::ReservedPayload);
        }
        let r = self.node.route(now, key, payload);
        self.pump(now);
        self.settle(now);
        Ok(r?)
    }

    /// [`Node::route_to`] for the application's own messages: straight to `node` (routed by
    /// its id if it does not acknowledge), as the Common API's `route` with a hint.
    ///
    /// # Errors
    /// [`DhtError::ReservedPayload`] for a payload that starts with the DHT's
    /// [`MAGIC`](crate::message::MAGIC); otherwise as [`Node::route_to`]. Nothing changes then.
    pub fn route_to(
        &mut self,
        now: Time,
        node: NodeRef<H, W>,
        payload: Vec<u8>,
    ) -> Result<u64, DhtError> {
        if is_dht_payload(&payload) {
            return Err(DhtError::ReservedPayload);
        }
        let r = self.node.route_to(now, node, payload);
        self.pump(now);
        self.settle(now);
        Ok(r?)
    }

    /// [`Node::forward`]: answers a [`Event::Forward`] of the application's.
    ///
    /// # Errors
    /// As [`Node::forward`].
    pub fn forward(
        &mut self,
        now: Time,
        token: u64,
        payload: Option<Vec<u8>>,
    ) -> Result<(), CallError> {
        let r = self.node.forward(now, token, payload);
        self.pump(now);
        self.settle(now);
        r
    }

    /// Takes every event of the node: DHT messages are handled, the rest passed on.
    fn pump(&mut self, now: Time) {
        while let Some(e) = self.node.poll_event() {
            match e {
                Event::Deliver {
                    key,
                    origin,
                    payload,
                    ..
                } if is_dht_payload(&payload) => {
                    match DhtMessage::<W>::decode(&payload, self.cfg.max_value) {
                        Ok(m) => {
                            if let Some(c) = self.counters.received.get_mut(m.kind().index()) {
                                *c += 1;
                            }
                            self.on_message(now, key, origin, m);
                        }
                        Err(_) => self.counters.dropped.malformed += 1,
                    }
                }
                Event::Forward { token, payload, .. } if is_dht_payload(&payload) => {
                    let _ = self.node.forward(now, token, Some(payload));
                }
                Event::RouteFailed { origin, seq, .. }
                    if origin.id == self.node.state().id() && self.sent.contains(&seq) =>
                {
                    // A DHT message of ours: its operation's timer retries it.
                }
                Event::Update { node, joined } => {
                    self.update_soon(now);
                    self.emit(DhtEvent::Node(Event::Update { node, joined }));
                }
                other => self.emit(DhtEvent::Node(other)),
            }
        }
    }

    fn on_message(&mut self, now: Time, key: W, origin: NodeRef<H, W>, m: DhtMessage<W>) {
        match m {
            DhtMessage::Put { op, record } if record.key == key => {
                self.on_put(now, origin, op, record);
            }
            DhtMessage::Get { op, key: k } if k == key => self.on_get(now, origin, op, k),
            DhtMessage::PutReply {
                op,
                key,
                stored,
                full,
            } => self.on_put_reply(now, op, key, stored, full),
            DhtMessage::GetReply { op, key, record } => self.on_get_reply(now, op, key, record),
            DhtMessage::Store { op, record } => self.on_store(now, origin, op, record),
            DhtMessage::StoreReply { op, key, status } => {
                self.on_store_reply(now, origin, op, key, status);
            }
            DhtMessage::Fetch { op, key } => {
                let record = self.store.get(key);
                self.send_to(now, origin, &DhtMessage::FetchReply { op, key, record });
            }
            DhtMessage::FetchReply { op, key, record } => {
                self.on_fetch_reply(now, origin, op, key, record);
            }
            DhtMessage::Summary { entries } => self.on_summary(now, origin, &entries),
            DhtMessage::SummaryReply { entries } => self.on_summary_reply(now, origin, &entries),
            DhtMessage::Push { records } => self.on_push(now, records),
            DhtMessage::Put { .. } | DhtMessage::Get { .. } => {
                self.counters.dropped.unexpected += 1;
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Shared helpers
    // -----------------------------------------------------------------------------------------

    /// Queues an event; a full queue drops it (counted).
    fn emit(&mut self, e: DhtEvent<H, W>) {
        if self.events.len() >= self.cfg.max_events {
            self.counters.dropped.events += 1;
            return;
        }
        self.events.push_back(e);
    }

    fn arm(&mut self, at: Time, t: DhtTimer) {
        self.timers.insert((at, t));
    }

    fn disarm(&mut self, at: Time, t: DhtTimer) {
        self.timers.remove(&(at, t));
    }

    /// Remembers the number of a routed message of ours.
    fn remember(&mut self, seq: u64) {
        if self.sent.insert(seq) {
            self.sent_order.push_back(seq);
        }
        while self.sent_order.len() > self.cfg.max_sent {
            if let Some(old) = self.sent_order.pop_front() {
                self.sent.remove(&old);
            }
        }
    }

    fn count_sent(&mut self, m: &DhtMessage<W>, bytes: usize) {
        let kind = m.kind();
        if let Some(c) = self.counters.sent.get_mut(kind.index()) {
            *c += 1;
        }
        if kind.is_maintenance() {
            self.counters.maintenance_bytes += bytes as u64;
        }
    }

    /// Sends `m` straight to `to` (re-routed by `to`'s id if it does not answer); a message
    /// the node will not take is counted and dropped.
    fn send_to(&mut self, now: Time, to: NodeRef<H, W>, m: &DhtMessage<W>) {
        let Ok(bytes) = m.to_vec(self.cfg.max_value) else {
            self.counters.dropped.not_sent += 1;
            return;
        };
        let len = bytes.len();
        match self.node.route_to(now, to, bytes) {
            Ok(seq) => {
                self.remember(seq);
                self.count_sent(m, len);
            }
            Err(_) => self.counters.dropped.not_sent += 1,
        }
    }

    /// Routes `m` to `key`.
    fn send_routed(&mut self, now: Time, key: W, m: &DhtMessage<W>) -> Result<(), DhtError> {
        let bytes = m
            .to_vec(self.cfg.max_value)
            .map_err(|_| DhtError::ValueTooLarge {
                len: 0,
                max: self.cfg.max_value,
            })?;
        let len = bytes.len();
        let seq = self.node.route(now, key, bytes)?;
        self.remember(seq);
        self.count_sent(m, len);
        Ok(())
    }

    /// Stores `record` here; the planted bug may reverse the version order.
    fn apply(&mut self, now: Time, record: Record<W>) -> crate::message::Status {
        use crate::message::Status;
        let key = record.key;
        let older_wins = self.cfg.planted == Some(PlantedBug::OlderWins);
        if record.value.is_none() && self.cfg.planted == Some(PlantedBug::NoTombstone) {
            self.store.remove(key);
            self.handoffs.remove(&key);
            return Status::Stored;
        }
        self.observe(record.version.time);
        let lifetime = DhtConfig::micros(self.cfg.tombstone_lifetime);
        match self.store.apply(record, now, lifetime, older_wins) {
            Ok(crate::record::Applied::Kept) => Status::Have,
            Ok(_) => {
                self.handoffs.remove(&key);
                Status::Stored
            }
            Err(_) => {
                self.counters.refused_full += 1;
                Status::Full
            }
        }
    }

    /// The hybrid clock moves to a version time seen.
    fn observe(&mut self, time: Time) {
        self.clock = self.clock.max(time);
    }

    /// A fresh version for a write at `now`: above every version issued or seen here.
    fn fresh_version(&self, now: Time) -> Version<W> {
        Version {
            time: now.max(self.clock.saturating_add(1)),
            writer: self.node.state().id(),
        }
    }

    /// Ends an input: the maintenance round armed while active, and the invariants.
    fn settle(&mut self, now: Time) {
        if self.node.is_active() {
            if self.round_at.is_none() {
                let at = now.saturating_add(DhtConfig::micros(self.cfg.replication_period));
                self.round_at = Some(at);
                self.arm(at, DhtTimer::Round);
            }
        } else if let Some(at) = self.round_at.take() {
            self.disarm(at, DhtTimer::Round);
        }
        self.invariants();
    }

    /// A leaf-set change: a maintenance round soon (unless one is due sooner).
    fn update_soon(&mut self, now: Time) {
        if !self.node.is_active() {
            return;
        }
        let soon = now.saturating_add(DhtConfig::micros(self.cfg.update_delay));
        if self.round_at.is_some_and(|at| at <= soon) {
            return;
        }
        if let Some(at) = self.round_at.take() {
            self.disarm(at, DhtTimer::Round);
        }
        self.round_at = Some(soon);
        self.arm(soon, DhtTimer::Round);
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        self.check_invariants();
    }

    #[cfg(debug_assertions)]
    #[allow(clippy::panic)]
    fn check_invariants(&self) {
        let c = &self.cfg;
        self.node.invariants();
        self.store.invariants();
        assert!(self.ops.len() <= c.max_ops, "operations over their cap");
        assert!(
            self.coords.len() <= c.max_coordinations,
            "coordinations over their cap"
        );
        assert!(
            self.handoffs.len() <= c.max_handoffs,
            "hand-offs over their cap"
        );
        assert!(self.events.len() <= c.max_events, "events over their cap");
        assert!(self.sent.len() <= c.max_sent, "sent numbers over their cap");
        assert_eq!(
            self.sent.len(),
            self.sent_order.len(),
            "sent numbers out of step"
        );
        let mut expected = 0;
        for (id, op) in &self.ops {
            assert!(
                self.timers.contains(&(op.deadline, DhtTimer::Op(*id))),
                "an operation without its timer"
            );
            if let Some(r) = &op.record {
                assert!(r.version.time <= self.clock, "a write above the clock");
            }
            expected += 1;
        }
        for (id, co) in &self.coords {
            assert!(
                self.timers.contains(&(co.deadline, DhtTimer::Coord(*id))),
                "a coordination without its timer"
            );
            assert!(
                co.waiting.iter().all(|w| !co.replied.contains(w)),
                "a node both waited for and replied"
            );
            expected += 1;
        }
        if let Some(at) = self.round_at {
            assert!(
                self.timers.contains(&(at, DhtTimer::Round)),
                "round not armed"
            );
            expected += 1;
        }
        if self.round_at.is_some() {
            assert!(self.node.is_active(), "an inactive node with a round armed");
        }
        assert_eq!(self.timers.len(), expected, "a timer without pending work");
        for (k, h) in &self.handoffs {
            assert_eq!(
                self.store.version(*k),
                Some(h.version),
                "a hand-off of a key not held at its version"
            );
        }
    }
}
