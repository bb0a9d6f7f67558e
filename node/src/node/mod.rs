//! [`Node`]: one Pastry node as a sans-I/O state machine.
//!
//! The state machine lives here (inputs, outputs, the phase, the invariants); each concern has
//! a file: [`join`](self::join) (the consistent join, the second stage, the last step, the
//! root's one-joiner-per-side rule), [`routing`](self::routing) (routed messages, per-hop acks,
//! re-routing, duplicate suppression, the forward up-call), [`maintenance`](self::maintenance)
//! (probes, heartbeats, failure handling and repair, merges with probes, row maintenance),
//! [`peers`](self::peers) (round-trip times) and [`timers`](self::timers).

mod dedup;
mod join;
mod maintenance;
mod peers;
mod routing;
mod timers;

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::seeded::SplitMix;
use pastry_kernel::{
    Guid, LeafSet, NeighborhoodSet, NodeRef, NodeState, Proximity, RingWord, RoutingTable, Row,
};

use crate::config::{NodeConfig, NodeConfigError, Time};
use crate::counters::Counters;
use crate::event::{CallError, Event, Transmit};
use crate::message::{Body, JoinReply, Message, Routed};

use self::peers::{Peers, UNMEASURED};
use self::timers::{Timer, Timers};

/// An empty transmit or event queue with room for more than this many items gives its memory
/// back.
const QUEUE_KEEP: usize = 16;

/// The host's estimate of the proximity of a node it has a handle for, when it has one before
/// any message was exchanged (a simulator's network model, coordinates from a network
/// coordinate system). The figure is in the node's own unit, the round-trip time in
/// microseconds, so that estimates and measurements compare.
///
/// A node uses an estimate, when there is one, instead of its own measurement, and probes a
/// candidate only when the state would keep it at that figure.
pub trait Estimator<H> {
    /// The estimated round-trip time to `to` in microseconds, if known.
    fn estimate(&self, to: &H) -> Option<Proximity>;
}

/// No estimates: the node measures every figure itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NoEstimate;

impl<H> Estimator<H> for NoEstimate {
    fn estimate(&self, _to: &H) -> Option<Proximity> {
        None
    }
}

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Made, not joined.
    Idle,
    /// Waiting for the root's answer to its join request.
    Joining,
    /// Building and checking its leaf set: every member must answer or be found faulty.
    Probing,
    /// Active: delivers messages and serves joins.
    Active,
    /// Left the overlay.
    Left,
}

/// One Pastry node as a sans-I/O state machine.
///
/// `H` is the host's handle for nodes (a socket address, a libp2p `PeerId`, a simulator
/// index); `W` the id word ([`Guid`] unless a test runs on a narrow ring); `E` the host's
/// proximity [`Estimator`] ([`NoEstimate`] by default).
///
/// # Driving it
/// * **Inputs**: [`Node::handle`] (or [`Node::handle_bytes`]) for each message received,
///   [`Node::handle_timeout`] when the time of [`Node::poll_timeout`] has come, and the
///   application's calls [`Node::join`], [`Node::route`], [`Node::route_to`],
///   [`Node::forward`], [`Node::leave`]. Each takes `now`.
/// * **Outputs**, polled until `None` after every input: [`Node::poll_transmit`] (messages to
///   send), [`Node::poll_event`] (the Common API up-calls and the node's life),
///   [`Node::poll_timeout`] (the earliest armed timer).
///
/// The node never reads a clock, draws randomness (its generator is seeded by the host) or does
/// I/O; the same inputs in the same order give the same outputs. It never panics on any input:
/// a malformed, unexpected or refused message is counted ([`Counters::dropped`]) and ignored.
///
/// # Invariants
/// Checked by [`Node::invariants`] at the end of every input in debug builds, and by the
/// property tests `node_invariants_hold_under_random_schedules` and the fuzz target
/// `node_inputs`:
///
/// 1. the kernel state keeps its invariants ([`NodeState`]);
/// 2. every queue and table is within its cap of [`NodeConfig`]: transmits, events,
///    outstanding requests (probes included), routed messages in flight, waiting merges, held
///    forward up-calls, remembered duplicates, recently failed ids; the peer table within
///    `max_peers` plus the nodes of the state;
/// 3. the timers are exactly those of the pending work: one per outstanding request, message
///    in flight, held up-call and reserved side, plus the periodic ones of the phase;
/// 4. every probe has its outstanding request, and every node a merge waits for is being
///    probed; a merge waits for at least one node, except a joining node's merge of its
///    table candidates, parked (probes done) while the merge of its would-be leaf set waits;
///    merges are deferred (at most `max_merges`) only while that merge waits;
/// 5. only an active node holds reservations for joining nodes; only an inactive one holds
///    routed messages for later (at most `max_in_flight`);
/// 6. an inactive node has delivered nothing (no `Deliver` event before `Activated`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node<H, W = Guid, E = NoEstimate> {
    cfg: NodeConfig,
    state: NodeState<H, W>,
    estimator: E,
    phase: Phase,
    /// The node's random values, seeded by the host.
    rng: SplitMix,
    /// The next message id (also used for sequence numbers, merge ids and tokens).
    next_id: u64,
    peers: Peers<W>,
    timers: Timers,
    /// Outstanding requests by message id.
    requests: BTreeMap<u64, Request<H, W>>,
    /// Nodes being probed, by id.
    probing: BTreeMap<W, Probing<H, W>>,
    /// Merges waiting for probes, by merge id.
    merges: BTreeMap<u64, Merge<H, W>>,
    /// Routed messages waiting for their next hop's ack, by hop message id.
    in_flight: BTreeMap<u64, InFlight<H, W>>,
    /// Forward up-calls waiting for the application, by token.
    parked: BTreeMap<u64, Parked<H, W>>,
    /// (origin, seq) of the routed messages handled here lately.
    seen: dedup::Dedup<W>,
    /// Routed messages this node would deliver but cannot yet, because it is not active: they
    /// are routed again when it becomes active.
    held: VecDeque<Carried<H, W>>,
    /// Nodes pushed out of the leaf set by joining nodes that entered it, by the node that
    /// pushed them (at most L each): named to it in the answers to its probes until it says it
    /// is active or leaves the leaf set, so that it learns of them however late those answers
    /// arrive.
    displaced: BTreeMap<W, Vec<NodeRef<H, W>>>,
    /// Ids recently declared failed (or gone, or named and silent to every probe), with
    /// when, oldest first. An entry lasts two heartbeat periods, or until the node is heard
    /// from again (a false suspicion).
    failed: VecDeque<(W, Time)>,
    /// The root's reservations for joining nodes: (joiner, expiry) per side.
    grant_successor: Option<(W, Time)>,
    grant_predecessor: Option<(W, Time)>,
    join: JoinProgress<H, W>,
    /// The leaf set's sides (successors, predecessors) at the end of the last input, for
    /// `Update` events: comparing the two slices is cheaper than comparing member lists.
    leaf_sides: Sides<H, W>,
    /// Deadlines of the periodic timers, when armed.
    heartbeat_at: Option<Time>,
    row_maintenance_at: Option<Time>,
    /// Whether an `Activated` event was emitted (invariant 6).
    activated: bool,
    delivered_before_active: bool,
    transmits: VecDeque<Transmit<H, W>>,
    events: VecDeque<Event<H, W>>,
    counters: Counters,
}

/// The join's progress, as the joining node and then the new node see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct JoinProgress<H, W> {
    /// The contact (while joining).
    contact: Option<H>,
    /// Attempts made.
    attempt: u8,
    /// The join timer's deadline, when armed.
    timer: Option<Time>,
    /// The sequence number of the join request in flight.
    seq: u64,
    /// When the join started.
    started: Time,
    /// Second-stage requests still outstanding.
    second_stage: usize,
    /// Whether the second stage was started.
    second_stage_started: bool,
    /// Whether the last step's announcement went out.
    announced: bool,
    /// The nodes told of this node's state on activation.
    told: BTreeSet<W>,
    /// While probing: the nodes that answered a `LeafProbe` (so hold this node, or a nearer
    /// one, in their leaf sets), with whether they said they were active.
    acked: BTreeMap<W, bool>,
    /// While probing: the nodes named to this node during the join (by the root's answer and
    /// the answers to its probes), at most `max_peers`; among them and the nodes of the state
    /// it looks for the nearest node on each side that is not joining.
    seen: BTreeMap<W, NodeRef<H, W>>,
    /// While the merge of the would-be leaf set waits: the merges asked for meanwhile (the
    /// answers' leaf sets), planned once it has run, at most `max_merges`.
    deferred: Vec<Source<H, W>>,
}

impl<H, W> Default for JoinProgress<H, W> {
    fn default() -> Self {
        JoinProgress {
            contact: None,
            attempt: 0,
            timer: None,
            seq: 0,
            started: 0,
            second_stage: 0,
            second_stage_started: false,
            announced: false,
            told: BTreeSet::new(),
            acked: BTreeMap::new(),
            seen: BTreeMap::new(),
            deferred: Vec::new(),
        }
    }
}

/// An outstanding request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Request<H, W> {
    to: NodeRef<H, W>,
    sent_at: Time,
    deadline: Time,
    asked: Asked,
}

/// What a request asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Asked {
    /// A probe (Ping or LeafProbe) of `to`; its state is in `probing`.
    Probe,
    /// A row, for the second stage (true) or for repair and maintenance (false).
    Row(Row, bool),
    /// A neighborhood set, for the second stage (true) or for repair (false).
    Neighborhood(bool),
}

/// A node being probed and why.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Probing<H, W> {
    node: NodeRef<H, W>,
    /// Attempts made so far (1 after the first).
    attempt: u8,
    /// The message id of the attempt in flight.
    request: u64,
    /// LeafProbe (true) or Ping (false).
    leaf: bool,
    /// Declare it failed if it does not answer (a suspect).
    liveness: bool,
    /// The joining node waits for it before becoming active.
    join: bool,
    /// Asked for its leaf set to repair a hole.
    repair: bool,
    /// Re-learn it at the measured figure when it answers.
    measure: bool,
    /// Merges waiting for its answer.
    merges: Vec<u64>,
}

/// A leaf set's sides: (successors, predecessors), nearest first.
type Sides<H, W> = (Vec<NodeRef<H, W>>, Vec<NodeRef<H, W>>);

/// A merge of another node's part, waiting for the probes of the nodes it would add.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Merge<H, W> {
    source: Source<H, W>,
    waiting: BTreeSet<W>,
    /// Answered their probes for this merge.
    alive: BTreeSet<W>,
    /// Needed no probe when the merge was planned (known, or heard from lately); checked
    /// again when it runs.
    known: BTreeSet<W>,
    /// Probed for this merge and found faulty.
    dead: BTreeSet<W>,
    /// The merge may add a leaf-set member (it waits for a would-be member's probe): a joining
    /// node does not turn active while such a merge waits. Merges of routing-table and
    /// neighborhood candidates only do not hold the activation.
    leaf: bool,
}

/// What a merge merges.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Source<H, W> {
    /// The joining node's state from the root's answer.
    Join(JoinReply<H, W>),
    /// A leaf set, merged by the kernel's repair rule (each node on the side the sender's view
    /// gives).
    Leaf(NodeRef<H, W>, LeafSet<H, W>),
    /// A row of a node's table.
    Row(NodeRef<H, W>, Row, RoutingTable<H, W>),
    /// A node's neighborhood set.
    Neighborhood(NodeRef<H, W>, NeighborhoodSet<H, W>),
    /// A new node's whole state (the paper's last join step).
    State(NodeState<H, W>),
}

/// Which routed message a hop carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Carried<H, W> {
    App(Routed<Vec<u8>, H, W>),
    Join(Routed<crate::message::JoinGather<H, W>, H, W>),
}

/// A routed message waiting for its next hop's ack.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct InFlight<H, W> {
    carried: Carried<H, W>,
    to: NodeRef<H, W>,
    sent_at: Time,
    deadline: Time,
    /// Re-routes so far.
    retries: u8,
    /// Next hops that timed out for this message.
    avoid: Vec<W>,
}

/// A routed application message held for the forward up-call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Parked<H, W> {
    routed: Routed<Vec<u8>, H, W>,
    next: NodeRef<H, W>,
    deadline: Time,
    retries: u8,
    avoid: Vec<W>,
}

impl<H, W, E> Node<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// A node `own` that has not joined, with the host's `estimator` and a `seed` for its
    /// random choices (which row entry maintenance asks, and so on).
    ///
    /// # Errors
    /// A [`NodeConfig`] out of range.
    pub fn new(
        cfg: NodeConfig,
        own: NodeRef<H, W>,
        estimator: E,
        seed: u64,
    ) -> Result<Self, NodeConfigError> {
        cfg.validate()?;
        let node = Node {
            cfg,
            state: NodeState::new(cfg.routing, own),
            estimator,
            phase: Phase::Idle,
            rng: SplitMix::new(seed),
            next_id: 1,
            peers: Peers::default(),
            timers: Timers::default(),
            requests: BTreeMap::new(),
            probing: BTreeMap::new(),
            merges: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            parked: BTreeMap::new(),
            seen: dedup::Dedup::new(),
            held: VecDeque::new(),
            displaced: BTreeMap::new(),
            failed: VecDeque::new(),
            grant_successor: None,
            grant_predecessor: None,
            join: JoinProgress::default(),
            leaf_sides: (Vec::new(), Vec::new()),
            heartbeat_at: None,
            row_maintenance_at: None,
            activated: false,
            delivered_before_active: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        };
        node.invariants();
        Ok(node)
    }

    /// A node that is already **active** with `state` — built from global knowledge by a host
    /// that knows the whole network (a simulator's largest networks,
    /// [`NodeState::from_ring`]) — instead of by joining. Its timers start at `now`; from
    /// then on the protocol runs as for any node (it sends no join messages and no
    /// announcement: the other nodes are assumed to be built the same way).
    ///
    /// # Errors
    /// A [`NodeConfig`] out of range, or one whose routing parameters are not the state's
    /// ([`NodeConfigError::StateMismatch`]).
    pub fn active_with_state(
        now: Time,
        cfg: NodeConfig,
        state: NodeState<H, W>,
        estimator: E,
        seed: u64,
    ) -> Result<Self, NodeConfigError> {
        if *state.config() != cfg.routing {
            return Err(NodeConfigError::StateMismatch);
        }
        let mut node = Node::new(cfg, *state.own(), estimator, seed)?;
        node.state = state;
        node.phase = Phase::Probing;
        node.join.started = now;
        node.join.second_stage_started = true;
        node.join.announced = true;
        node.phase = Phase::Active;
        node.activated = true;
        node.arm_periodic(now);
        node.leaf_sides = Self::sides_of(node.state.leaf_set());
        node.invariants();
        Ok(node)
    }

    /// The kernel state: leaf set, routing table, neighborhood set, and the pure questions
    /// (route, replica set, range) about them.
    #[must_use]
    pub fn state(&self) -> &NodeState<H, W> {
        &self.state
    }

    /// This node.
    #[must_use]
    pub fn own(&self) -> &NodeRef<H, W> {
        self.state.own()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }

    /// Where the node is in its life.
    #[must_use]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the node is active: it has joined and delivers messages.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.phase == Phase::Active
    }

    /// What the node did so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The measured round-trip time to `id` in microseconds, if any.
    #[must_use]
    pub fn rtt(&self, id: W) -> Option<u64> {
        self.peers.get(id).and_then(|p| p.srtt)
    }

    /// Ids this node recently found faulty (declared failed, left, or named to it and silent
    /// to every probe), oldest first.
    pub fn recently_failed(&self) -> impl Iterator<Item = &W> + '_ {
        self.failed.iter().map(|(id, _)| id)
    }

    /// Nodes being probed, by id: each waits for an answer (any message from it) and is found
    /// faulty when [`NodeConfig::probe_attempts`] attempts go unanswered — the node's failure
    /// detector at work. A host or a check may compare them with what it knows of the network.
    pub fn probing(&self) -> impl Iterator<Item = &W> + '_ {
        self.probing.keys()
    }

    /// Whether `id` was declared failed recently.
    fn is_failed(&self, id: W) -> bool {
        Self::in_failed(&self.failed, id)
    }

    fn in_failed(failed: &VecDeque<(W, Time)>, id: W) -> bool {
        failed.iter().any(|(f, _)| *f == id)
    }

    /// The next message to send, if any.
    ///
    /// Once the queue is empty, the memory a burst made it take (a joining node's
    /// announcements, a second stage's requests) is given back: a host of many idle nodes
    /// would otherwise keep each one's largest burst allocated.
    pub fn poll_transmit(&mut self) -> Option<Transmit<H, W>> {
        let t = self.transmits.pop_front();
        if t.is_none() && self.transmits.capacity() > QUEUE_KEEP {
            self.transmits = VecDeque::new();
        }
        t
    }

    /// The next event for the application, if any (an empty queue gives its memory back as
    /// in [`Node::poll_transmit`]).
    pub fn poll_event(&mut self) -> Option<Event<H, W>> {
        let e = self.events.pop_front();
        if e.is_none() && self.events.capacity() > QUEUE_KEEP {
            self.events = VecDeque::new();
        }
        e
    }

    /// The earliest armed timer: call [`Node::handle_timeout`] then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        self.timers.next()
    }

    /// Handles the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        while let Some((at, t)) = self.timers.pop_due(now) {
            match t {
                Timer::Heartbeat => self.on_heartbeat_timer(now),
                Timer::RowMaintenance => self.on_row_maintenance_timer(now),
                Timer::Join => self.on_join_timer(now),
                Timer::Request(id) => self.on_request_timeout(now, id, at),
                Timer::Hop(id) => self.on_hop_timeout(now, id, at),
                Timer::Grant(successor) => self.on_grant_timeout(now, successor, at),
                Timer::Parked(token) => self.on_parked_timeout(token, at),
            }
        }
        self.settle(now);
    }

    /// Decodes `bytes` received from `from` and handles the message.
    ///
    /// # Errors
    /// The decoding error; the bytes are counted as malformed and nothing else changes.
    pub fn handle_bytes(
        &mut self,
        now: Time,
        from: H,
        bytes: &[u8],
    ) -> Result<(), crate::message::MessageDecodeError> {
        match Message::decode(bytes, self.cfg.max_payload) {
            Ok(m) => {
                self.handle(now, from, m);
                Ok(())
            }
            Err(e) => {
                self.counters.dropped.malformed += 1;
                Err(e)
            }
        }
    }

    /// Handles a message received from `from` (the handle it came from; it must be the handle
    /// the message names as its sender).
    pub fn handle(&mut self, now: Time, from: H, msg: Message<H, W>) {
        if msg.from.handle != from || msg.from.id == self.state.id() {
            self.counters.dropped.spoofed += 1;
            return;
        }
        if matches!(self.phase, Phase::Idle | Phase::Left) {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        self.counters.received.add(msg.body.kind());
        let sender = msg.from;
        self.heard(now, sender);
        // Any message from a node probed with a Ping for its liveness answers the probe (a
        // LeafProbe waits for its own reply: its leaf set is wanted; so does a measurement).
        if !matches!(msg.body, Body::Pong)
            && self
                .probing
                .get(&sender.id)
                .is_some_and(|p| !p.leaf && !p.measure)
        {
            self.probe_answered(now, sender.id, None);
        }
        let id = msg.id;
        match msg.body {
            Body::JoinRequest(r) => self.on_join_request(now, sender, id, r),
            Body::JoinReply(reply) => self.on_join_reply(now, sender, id, reply),
            Body::JoinBusy => self.on_join_busy(now, id),
            Body::LeafProbe(info) => self.on_leaf_probe(now, sender, id, info),
            Body::LeafProbeReply(info) => self.on_leaf_probe_reply(now, sender, id, info),
            Body::Heartbeat(info) => self.on_heartbeat(now, sender, info),
            Body::RowRequest(row) => self.on_row_request(now, sender, id, row),
            Body::RowReply(row, table) => self.on_row_reply(now, sender, id, row, table),
            Body::NeighborhoodRequest => self.on_neighborhood_request(now, sender, id),
            Body::NeighborhoodReply(set) => self.on_neighborhood_reply(now, sender, id, set),
            Body::StateAnnounce(state) => self.on_state_announce(now, sender, state),
            Body::Route(r) => self.on_route(now, sender, id, r),
            Body::Ack => self.on_ack(now, sender, id),
            Body::Ping => self.send(sender, id, Body::Pong),
            Body::Pong => self.on_pong(now, sender, id),
            Body::Leave(leaf) => self.on_leave(now, sender, leaf),
        }
        self.settle(now);
    }

    /// Starts the join through the node with handle `contact` (a nearby node, by the paper),
    /// or, with `None`, starts a new overlay of which this node is the first and only member
    /// (active at once).
    ///
    /// # Errors
    /// [`CallError::AlreadyJoined`] unless the node is idle; nothing changes.
    pub fn join(&mut self, now: Time, contact: Option<H>) -> Result<(), CallError> {
        if self.phase != Phase::Idle {
            return Err(CallError::AlreadyJoined);
        }
        match contact {
            None => {
                self.phase = Phase::Probing;
                self.join.started = now;
                self.activate(now);
            }
            Some(c) => {
                self.phase = Phase::Joining;
                self.join = JoinProgress {
                    contact: Some(c),
                    started: now,
                    ..JoinProgress::default()
                };
                self.send_join_request(now);
            }
        }
        self.settle(now);
        Ok(())
    }

    /// Leaves the overlay: tells the leaf set (which repairs at once), drops all pending work
    /// and stops. The node handles nothing afterwards.
    ///
    /// # Errors
    /// [`CallError::NotActive`] when the node is not active; nothing changes.
    pub fn leave(&mut self, now: Time) -> Result<(), CallError> {
        if self.phase != Phase::Active {
            return Err(CallError::NotActive);
        }
        let leaf = self.state.leaf_set().clone();
        let members: Vec<NodeRef<H, W>> = leaf.iter().copied().collect();
        for m in members {
            self.send_new(m.handle, Body::Leave(leaf.clone()));
        }
        self.phase = Phase::Left;
        self.timers = Timers::default();
        self.requests.clear();
        self.probing.clear();
        self.merges.clear();
        self.in_flight.clear();
        self.parked.clear();
        self.grant_successor = None;
        self.grant_predecessor = None;
        self.heartbeat_at = None;
        self.row_maintenance_at = None;
        self.join.timer = None;
        self.settle(now);
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Shared helpers
    // -----------------------------------------------------------------------------------------

    /// A fresh message id.
    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// A random value.
    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Queues a message with id `id` to `to`; a full queue drops it (counted).
    fn send(&mut self, to: NodeRef<H, W>, id: u64, body: Body<H, W>) {
        self.send_to(to.handle, id, body);
    }

    /// Queues a message with a fresh id; returns the id.
    fn send_new(&mut self, to: H, body: Body<H, W>) -> u64 {
        let id = self.fresh_id();
        self.send_to(to, id, body);
        id
    }

    fn send_to(&mut self, to: H, id: u64, body: Body<H, W>) {
        if self.transmits.len() >= self.cfg.max_transmits {
            self.counters.dropped.transmits += 1;
            return;
        }
        self.counters.sent.add(body.kind());
        self.transmits.push_back(Transmit {
            to,
            message: Message {
                from: *self.state.own(),
                id,
                body,
            },
        });
    }

    /// Queues an event; a full queue drops it (counted).
    fn emit(&mut self, e: Event<H, W>) {
        if self.events.len() >= self.cfg.max_events {
            self.counters.dropped.events += 1;
            return;
        }
        if matches!(e, Event::Deliver { .. }) && !self.activated {
            self.delivered_before_active = true;
        }
        self.events.push_back(e);
    }

    /// Whether the peer table must keep `id`: a node of the state, or one being probed.
    fn protected(state: &NodeState<H, W>, probing: &BTreeMap<W, Probing<H, W>>, id: W) -> bool {
        state.knows(id) || probing.contains_key(&id)
    }

    /// Records that `node` was heard from: it is alive (and not failed, if it was thought so).
    fn heard(&mut self, now: Time, node: NodeRef<H, W>) {
        self.failed.retain(|(f, _)| *f != node.id);
        let (state, probing) = (&self.state, &self.probing);
        self.peers.heard(node.id, now, self.cfg.max_peers, |id| {
            Self::protected(state, probing, id)
        });
    }

    /// Adds a round-trip sample for `id`.
    fn sample(&mut self, id: W, rtt: Time) {
        let (state, probing) = (&self.state, &self.probing);
        if let Some(p) = self.peers.entry(id, self.cfg.max_peers, |x| {
            Self::protected(state, probing, x)
        }) {
            p.sample(rtt.max(1));
        }
    }

    /// The proximity figure for `node`: the host's estimate, else the measured round-trip
    /// time, else [`UNMEASURED`].
    fn figure(&self, node: &NodeRef<H, W>) -> Proximity {
        Self::figure_of(&self.estimator, &self.peers, node)
    }

    fn figure_of(estimator: &E, peers: &Peers<W>, node: &NodeRef<H, W>) -> Proximity {
        estimator
            .estimate(&node.handle)
            .or_else(|| peers.get(node.id).and_then(|p| p.figure()))
            .unwrap_or(UNMEASURED)
    }

    /// The hop timeout for `node`: from its measured round-trip times; before any is measured,
    /// from the host's estimate taken as the first sample (RFC 6298, 2.2: SRTT = R,
    /// RTTVAR = R/2, so 3R), else [`NodeConfig::rto_initial`]; always within the bounds.
    fn rto(&self, node: &NodeRef<H, W>) -> Time {
        let initial = NodeConfig::micros(self.cfg.rto_initial);
        let min = NodeConfig::micros(self.cfg.rto_min);
        let max = NodeConfig::micros(self.cfg.rto_max);
        match self.peers.get(node.id).filter(|p| p.srtt.is_some()) {
            Some(p) => p.rto(initial, min, max),
            None => self
                .estimator
                .estimate(&node.handle)
                .filter(|r| *r != UNMEASURED)
                .map_or(initial, |r| u64::from(r).saturating_mul(3).clamp(min, max)),
        }
    }

    /// Learns `node` (it is alive: it spoke to us or answered a probe) at its figure; when the
    /// figure is not known, also probes it to measure one.
    fn learn_live(&mut self, now: Time, node: NodeRef<H, W>) {
        let figure = self.figure(&node);
        if self.state.learn(node, figure).is_ok()
            && figure == UNMEASURED
            && self.state.knows(node.id)
        {
            self.probe(now, node, false, |p| p.measure = true);
        }
    }

    /// A leaf set's sides, copied.
    fn sides_of(leaf: &LeafSet<H, W>) -> Sides<H, W> {
        (leaf.successors().to_vec(), leaf.predecessors().to_vec())
    }

    /// The members of a leaf set with these sides, in [`LeafSet::iter`]'s order (successors,
    /// then the predecessors that are not also successors).
    fn members_of(sides: &Sides<H, W>) -> Vec<NodeRef<H, W>> {
        let (succ, pred) = sides;
        succ.iter()
            .chain(pred.iter().filter(|p| !succ.iter().any(|s| s.id == p.id)))
            .copied()
            .collect()
    }

    /// Ends an input: `Update` events for leaf-set changes, the joiner's activation check,
    /// the second stage's end, and the invariants.
    fn settle(&mut self, now: Time) {
        let window = 2 * NodeConfig::micros(self.cfg.heartbeat);
        while self
            .failed
            .front()
            .is_some_and(|(_, at)| now.saturating_sub(*at) > window)
        {
            self.failed.pop_front();
        }
        self.check_activation(now);
        self.check_second_stage(now);
        let leaf = self.state.leaf_set();
        if leaf.successors() != self.leaf_sides.0.as_slice()
            || leaf.predecessors() != self.leaf_sides.1.as_slice()
        {
            let old_sides = core::mem::replace(&mut self.leaf_sides, Self::sides_of(leaf));
            let old = Self::members_of(&old_sides);
            let now_members = Self::members_of(&self.leaf_sides);
            for n in &old {
                if !now_members.iter().any(|m| m.id == n.id) {
                    self.emit(Event::Update {
                        node: *n,
                        joined: false,
                    });
                }
            }
            let added: Vec<NodeRef<H, W>> = now_members
                .iter()
                .filter(|m| !old.iter().any(|n| n.id == m.id))
                .copied()
                .collect();
            for n in added {
                self.emit(Event::Update {
                    node: n,
                    joined: true,
                });
            }
        }
        self.prune_displaced();
        self.invariants();
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        self.check_invariants();
    }

    /// The invariants, as assertions.
    #[cfg(debug_assertions)]
    #[allow(clippy::panic, clippy::too_many_lines)]
    fn check_invariants(&self) {
        let c = &self.cfg;
        self.state.invariants();
        assert!(
            self.transmits.len() <= c.max_transmits,
            "transmit queue over its cap"
        );
        assert!(
            self.events.len() <= c.max_events,
            "event queue over its cap"
        );
        assert!(
            self.requests.len() <= c.max_requests,
            "requests over their cap"
        );
        assert!(
            self.in_flight.len() <= c.max_in_flight,
            "in-flight over its cap"
        );
        assert!(self.merges.len() <= c.max_merges, "merges over their cap");
        assert!(
            self.parked.len() <= c.max_in_flight,
            "held up-calls over their cap"
        );
        self.seen.invariants(c.dedup_capacity);
        assert!(
            self.failed.len() <= c.max_failed,
            "failed list over its cap"
        );
        assert!(
            self.join.seen.len() <= c.max_peers,
            "nodes seen while joining over their cap"
        );
        let members = self.state.members().count();
        assert!(
            self.peers.len() <= c.max_peers + members + self.probing.len(),
            "peer table over its cap"
        );
        // Timers: exactly the pending work.
        let mut expected = 0;
        for (id, r) in &self.requests {
            assert!(
                self.timers.contains(r.deadline, Timer::Request(*id)),
                "request without timer"
            );
            expected += 1;
        }
        for (id, f) in &self.in_flight {
            assert!(
                self.timers.contains(f.deadline, Timer::Hop(*id)),
                "hop without timer"
            );
            expected += 1;
        }
        for (t, p) in &self.parked {
            assert!(
                self.timers.contains(p.deadline, Timer::Parked(*t)),
                "held up-call without timer"
            );
            expected += 1;
        }
        for (grant, successor) in [
            (self.grant_successor, true),
            (self.grant_predecessor, false),
        ] {
            if let Some((_, until)) = grant {
                assert!(
                    self.timers.contains(until, Timer::Grant(successor)),
                    "grant without timer"
                );
                expected += 1;
            }
        }
        if let Some(at) = self.heartbeat_at {
            assert!(
                self.timers.contains(at, Timer::Heartbeat),
                "heartbeat not armed"
            );
            expected += 1;
        }
        if let Some(at) = self.row_maintenance_at {
            assert!(
                self.timers.contains(at, Timer::RowMaintenance),
                "row maintenance not armed"
            );
            expected += 1;
        }
        if let Some(at) = self.join.timer {
            assert!(
                self.timers.contains(at, Timer::Join),
                "join timer not armed"
            );
            expected += 1;
        }
        assert_eq!(self.timers.len(), expected, "a timer without pending work");
        // Probes and merges.
        for (id, p) in &self.probing {
            assert_eq!(p.node.id, *id, "probe filed under another id");
            let r = self.requests.get(&p.request);
            assert!(
                r.is_some_and(|r| r.asked == Asked::Probe && r.to.id == *id),
                "probe without its request"
            );
            for m in &p.merges {
                assert!(
                    self.merges.get(m).is_some_and(|m| m.waiting.contains(id)),
                    "probe names a merge that does not wait for it"
                );
            }
        }
        let leaf_join = self
            .merges
            .values()
            .any(|m| m.leaf && matches!(m.source, Source::Join(_)));
        assert!(
            self.join.deferred.is_empty() || (self.phase == Phase::Probing && leaf_join),
            "merges deferred with no join merge waiting"
        );
        assert!(
            self.join.deferred.len() <= c.max_merges,
            "deferred merges over their cap"
        );
        for (mid, m) in &self.merges {
            assert!(
                !m.waiting.is_empty()
                    || (leaf_join && !m.leaf && matches!(m.source, Source::Join(_))),
                "a merge with nothing to wait for (other than a join's, parked behind its leaf set)"
            );
            for w in &m.waiting {
                assert!(
                    self.probing.get(w).is_some_and(|p| p.merges.contains(mid)),
                    "a merge waits for a node not probed for it"
                );
            }
        }
        // Reservations and held messages.
        if self.phase == Phase::Active {
            assert!(self.held.is_empty(), "an active node holds messages");
        } else {
            assert!(
                self.grant_successor.is_none() && self.grant_predecessor.is_none(),
                "an inactive node holds a reservation"
            );
        }
        assert!(
            self.held.len() <= c.max_in_flight,
            "held messages over their cap"
        );
        for (x, pushed) in &self.displaced {
            assert!(
                self.state.leaf_set().contains(*x),
                "displaced nodes kept for a non-member"
            );
            assert!(
                !pushed.is_empty() && pushed.len() <= c.routing.leaf_set_len(),
                "displaced nodes over their cap"
            );
        }
        assert!(
            !self.delivered_before_active,
            "delivered before becoming active"
        );
    }
}

#[cfg(all(test, debug_assertions))]
mod tests {
    use alloc::collections::BTreeSet;

    use pastry_kernel::{Config, LeafSet, NodeRef};

    use super::{Node, Source};
    use crate::{NoEstimate, NodeConfig};

    fn idle() -> Node<u32, u16, NoEstimate> {
        let cfg = NodeConfig::new(Config::new(4, 8, 8).unwrap());
        Node::new(cfg, NodeRef::new(100, 1), NoEstimate, 1).unwrap()
    }

    /// An empty leaf set from node 200, as a merge source.
    fn leaf_source(n: &Node<u32, u16, NoEstimate>) -> Source<u32, u16> {
        Source::Leaf(NodeRef::new(200, 2), LeafSet::new(200, &n.cfg.routing))
    }

    #[test]
    fn node_invariants_hold_for_a_new_node() {
        idle().invariants();
    }

    /// The planted fault: a merge deferred by a node that is not waiting for its join's
    /// leaf-set merge (it would never be planned).
    #[test]
    #[should_panic(expected = "merges deferred with no join merge waiting")]
    fn node_invariants_catch_a_merge_deferred_outside_a_join() {
        let mut n = idle();
        let source = leaf_source(&n);
        n.join.deferred.push(source);
        n.invariants();
    }

    /// The planted fault: a merge that waits for nothing and is not a join's parked one.
    #[test]
    #[should_panic(expected = "a merge with nothing to wait for")]
    fn node_invariants_catch_a_merge_waiting_for_nothing() {
        let mut n = idle();
        let source = leaf_source(&n);
        n.merges.insert(
            1,
            super::Merge {
                source,
                waiting: BTreeSet::new(),
                alive: BTreeSet::new(),
                known: BTreeSet::new(),
                dead: BTreeSet::new(),
                leaf: false,
            },
        );
        n.invariants();
    }
}
