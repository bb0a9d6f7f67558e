//! [`Overlay`]: a Pastry overlay of `pastry_node::Node`s on the discrete-event [`Net`], and the
//! [`Meter`] that measures it.
//!
//! The overlay is the host: it creates nodes, starts their joins through a nearby active node
//! (the paper's assumption), crashes them or makes them leave, and issues lookups — each
//! through the node's sans-I/O API only. The meter watches events and messages and keeps the
//! truth the measures need: which nodes are active at each moment (for "delivered at the
//! root"), when each join started and ended, and what happened to every lookup.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pastry_kernel::arith::closer;
use pastry_kernel::{Guid, NodeRef, NodeState};
use pastry_node::{Body, Event, Node, NodeConfig, Time, Transmit};
use rayon::prelude::*;

use crate::engine::{Net, Observer, Peer, Traffic};
use crate::grid::Grid;
use crate::model::{Handle, Latency, PlaneEstimator, Population};
use crate::progress::Progress;

/// A simulated node: the protocol engine with the plane's proximity estimates.
pub type SimNode = Node<Handle, Guid, PlaneEstimator>;

/// A node event as the simulator sees it.
pub type SimEvent = Event<Handle, Guid>;

impl Peer for SimNode {
    type Event = SimEvent;

    fn handle_bytes(&mut self, now: Time, from: Handle, bytes: &[u8]) {
        // A message that does not decode is counted by the node (`Counters::dropped`).
        let _ = Node::handle_bytes(self, now, from, bytes);
    }

    fn handle_timeout(&mut self, now: Time) {
        Node::handle_timeout(self, now);
    }

    fn poll_timeout(&self) -> Option<Time> {
        Node::poll_timeout(self)
    }

    fn poll_transmit(&mut self) -> Option<Transmit<Handle, Guid>> {
        Node::poll_transmit(self)
    }

    fn poll_event(&mut self) -> Option<SimEvent> {
        Node::poll_event(self)
    }

    fn max_payload(&self) -> usize {
        self.config().max_payload
    }
}

/// The network's parameters.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct NetSpec {
    /// One-way latency from the plane.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Seed of the network's and the nodes' random choices.
    pub seed: u64,
}

/// Microseconds in a second.
pub const SECOND: Time = 1_000_000;

/// What became of one lookup.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The lookup's number (in issue order, from 0).
    pub id: u32,
    /// The node that issued it.
    pub source: Handle,
    /// The key.
    pub key: Guid,
    /// When it was issued.
    pub sent: Time,
    /// Its first delivery, if any.
    pub delivered: Option<Delivery>,
    /// Hop messages sent for it (each forward and each re-route after a hop timeout).
    pub sends: u32,
    /// Hop messages that reached a live node.
    pub arrivals: u32,
    /// Whether a node gave it up (`RouteFailed`).
    pub gave_up: bool,
    /// Total plane distance of the hops that arrived.
    pub distance: f64,
    /// The nodes it reached, in order, the source first (when paths are kept).
    pub path: Option<Vec<Handle>>,
}

/// A delivery of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    /// Where.
    pub at: Handle,
    /// When.
    pub time: Time,
    /// Hops it took (as the message counted them, or as the network saw them when the
    /// message's one-byte counter saturated).
    pub hops: u32,
    /// Whether `at` was the root of the key among the nodes active at `time`.
    pub correct: bool,
}

/// The state of a lookup on its way.
#[derive(Clone, Debug)]
struct Pending {
    source: Handle,
    key: Guid,
    sent: Time,
    seq: u64,
    sends: u32,
    arrivals: u32,
    gave_up: bool,
    distance: f64,
    path: Option<Vec<Handle>>,
}

/// Membership and join records.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct JoinRecord {
    /// The node.
    pub node: Handle,
    /// When its join started.
    pub started: Time,
    /// When it became active, if it did.
    pub activated: Option<Time>,
}

/// What the overlay measures: the active nodes, the joins, and every lookup. It is the
/// engine's [`Observer`].
///
/// # Invariants
/// Checked by [`Meter::invariants`] in debug builds: `active` maps exactly the ids of the
/// nodes in `active_list`, `active_pos` gives each one's position, and the grid holds the same
/// nodes.
#[derive(Debug)]
pub struct Meter {
    population: Arc<Population>,
    active: BTreeMap<Guid, Handle>,
    active_list: Vec<Handle>,
    active_pos: HashMap<Handle, usize>,
    grid: Grid,
    joining: HashMap<Handle, usize>,
    joins: Vec<JoinRecord>,
    pending: HashMap<u32, Pending>,
    by_seq: HashMap<(Handle, u64), u32>,
    issued: u32,
    keep_paths: bool,
    finished: Vec<Outcome>,
    extra_deliveries: u64,
    extra_incorrect: u64,
    join_failures: u64,
    live: usize,
    live_since: Time,
    node_time: u128,
}

impl Meter {
    fn new(population: Arc<Population>) -> Meter {
        Meter {
            population,
            active: BTreeMap::new(),
            active_list: Vec::new(),
            active_pos: HashMap::new(),
            grid: Grid::default(),
            joining: HashMap::new(),
            joins: Vec::new(),
            pending: HashMap::new(),
            by_seq: HashMap::new(),
            issued: 0,
            keep_paths: false,
            finished: Vec::new(),
            extra_deliveries: 0,
            extra_incorrect: 0,
            join_failures: 0,
            live: 0,
            live_since: 0,
            node_time: 0,
        }
    }

    /// The root of `key` among the active nodes: the closer of the active ids just below and
    /// just above it on the ring (wrapping), by `closer` (docs/design.md).
    #[must_use]
    pub fn root(&self, key: Guid) -> Option<Handle> {
        let above = self
            .active
            .range(key..)
            .next()
            .or_else(|| self.active.iter().next());
        let below = self
            .active
            .range(..key)
            .next_back()
            .or_else(|| self.active.iter().next_back());
        match (below, above) {
            (Some((bid, bh)), Some((aid, ah))) => {
                Some(if closer(&key, aid, bid) { *ah } else { *bh })
            }
            _ => None,
        }
    }

    /// The active nodes' handles, in no particular order.
    #[must_use]
    pub fn active_handles(&self) -> &[Handle] {
        &self.active_list
    }

    /// The active nodes' ids in increasing order, with their handles.
    pub fn active_ids(&self) -> impl Iterator<Item = (Guid, Handle)> + '_ {
        self.active.iter().map(|(g, h)| (*g, *h))
    }

    /// Whether node `h` is active (and alive).
    #[must_use]
    pub fn is_active(&self, h: Handle) -> bool {
        self.active_pos.contains_key(&h)
    }

    /// Every join started, in order.
    #[must_use]
    pub fn joins(&self) -> &[JoinRecord] {
        &self.joins
    }

    /// Joins that gave up (`JoinFailed`).
    #[must_use]
    pub fn join_failures(&self) -> u64 {
        self.join_failures
    }

    /// Lookups issued so far.
    #[must_use]
    pub fn issued(&self) -> u32 {
        self.issued
    }

    /// Lookups not delivered yet.
    #[must_use]
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Deliveries after a lookup's first (a copy re-routed after a lost ack), and how many of
    /// them were not at the root.
    #[must_use]
    pub fn extra_deliveries(&self) -> (u64, u64) {
        (self.extra_deliveries, self.extra_incorrect)
    }

    /// The integral of the number of live nodes over time, in node-microseconds, up to `now`.
    #[must_use]
    pub fn node_time(&self, now: Time) -> u128 {
        self.node_time + self.live as u128 * u128::from(now.saturating_sub(self.live_since))
    }

    /// Live nodes (joining or active).
    #[must_use]
    pub fn live(&self) -> usize {
        self.live
    }

    fn live_changed(&mut self, now: Time, delta: isize) {
        self.node_time = self.node_time(now);
        self.live_since = now;
        self.live = self.live.saturating_add_signed(delta);
    }

    fn activate(&mut self, h: Handle, now: Time) {
        if self.active_pos.contains_key(&h) {
            return;
        }
        let id = self.population.id(h);
        self.active.insert(id, h);
        self.active_pos.insert(h, self.active_list.len());
        self.active_list.push(h);
        self.grid.insert(h, self.population.place(h));
        if let Some(j) = self.joining.remove(&h) {
            self.joins[j].activated = Some(now);
        }
    }

    fn deactivate(&mut self, h: Handle) {
        self.joining.remove(&h);
        let Some(at) = self.active_pos.remove(&h) else {
            return;
        };
        self.active.remove(&self.population.id(h));
        self.active_list.swap_remove(at);
        if let Some(&moved) = self.active_list.get(at) {
            self.active_pos.insert(moved, at);
        }
        self.grid.remove(h, self.population.place(h));
    }

    /// The lookup a routed message's payload names, if it is one of ours.
    fn lookup_of(payload: &[u8]) -> Option<u32> {
        let bytes: [u8; 4] = payload.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    fn finish(&mut self, id: u32, p: Pending, delivered: Option<Delivery>) {
        self.by_seq.remove(&(p.source, p.seq));
        self.finished.push(Outcome {
            id,
            source: p.source,
            key: p.key,
            sent: p.sent,
            delivered,
            sends: p.sends,
            arrivals: p.arrivals,
            gave_up: p.gave_up,
            distance: p.distance,
            path: p.path,
        });
    }

    /// Takes the lookups finished so far (delivered, in delivery order).
    pub fn take_finished(&mut self) -> Vec<Outcome> {
        std::mem::take(&mut self.finished)
    }

    /// Ends every outstanding lookup as lost (never delivered), in issue order, and takes them.
    pub fn take_lost(&mut self) -> Vec<Outcome> {
        let mut ids: Vec<u32> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                self.finish(id, p, None);
            }
        }
        self.take_finished()
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            assert_eq!(self.active.len(), self.active_list.len());
            assert_eq!(self.active_pos.len(), self.active_list.len());
            for (i, h) in self.active_list.iter().enumerate() {
                assert_eq!(self.active_pos.get(h), Some(&i));
                assert_eq!(self.active.get(&self.population.id(*h)), Some(h));
            }
        }
    }
}

impl Observer<SimEvent> for Meter {
    fn sent(
        &mut self,
        _now: Time,
        _from: Handle,
        _to: Handle,
        m: &pastry_node::Message<Handle>,
    ) -> u32 {
        let Body::Route(r) = &m.body else {
            return 0;
        };
        let Some(id) = Meter::lookup_of(&r.body) else {
            return 0;
        };
        match self.pending.get_mut(&id) {
            Some(p) if p.source == r.origin.handle => {
                p.sends += 1;
                id + 1
            }
            _ => 0,
        }
    }

    fn arrived(&mut self, _now: Time, from: Handle, to: Handle, mark: u32) {
        let (pop, id) = (&self.population, mark - 1);
        if let Some(p) = self.pending.get_mut(&id) {
            p.arrivals += 1;
            p.distance += pop.place(from).distance(pop.place(to));
            if let Some(path) = &mut p.path {
                path.push(to);
            }
        }
    }

    fn event(&mut self, now: Time, at: Handle, event: SimEvent) {
        match event {
            Event::Activated { at: when } => self.activate(at, when),
            Event::JoinFailed => self.join_failures += 1,
            Event::Deliver {
                key,
                hops,
                payload,
                origin,
                ..
            } => {
                let Some(id) = Meter::lookup_of(&payload) else {
                    return;
                };
                let correct = self.root(key) == Some(at);
                match self.pending.remove(&id) {
                    Some(p) if p.source == origin.handle => {
                        let hops = if hops == u8::MAX {
                            p.arrivals
                        } else {
                            u32::from(hops)
                        };
                        let d = Delivery {
                            at,
                            time: now,
                            hops,
                            correct,
                        };
                        self.finish(id, p, Some(d));
                    }
                    Some(p) => {
                        self.pending.insert(id, p);
                    }
                    None => {
                        self.extra_deliveries += 1;
                        self.extra_incorrect += u64::from(!correct);
                    }
                }
            }
            Event::RouteFailed { origin, seq, .. } => {
                if let Some(id) = self.by_seq.get(&(origin.handle, seq)) {
                    if let Some(p) = self.pending.get_mut(id) {
                        p.gave_up = true;
                    }
                }
            }
            Event::Update { .. } | Event::Failed { .. } | Event::Forward { .. } => {}
        }
    }
}

/// A Pastry overlay on the discrete-event network: the nodes, the host's calls, the meter.
#[derive(Debug)]
pub struct Overlay {
    net: Net<SimNode>,
    meter: Meter,
    node_config: NodeConfig,
    spec: NetSpec,
    joins: u32,
}

/// Why an overlay could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayError {
    /// A join did not finish within its time budget.
    JoinStalled {
        /// The node.
        node: Handle,
        /// Simulated seconds waited.
        waited_s: u64,
    },
    /// The node configuration was refused.
    Config(String),
}

impl std::fmt::Display for OverlayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OverlayError::JoinStalled { node, waited_s } => write!(
                f,
                "the join of node {node} did not finish within {waited_s} simulated seconds"
            ),
            OverlayError::Config(e) => write!(f, "node configuration refused: {e}"),
        }
    }
}

impl std::error::Error for OverlayError {}

/// A per-node seed from the run's seed and the handle (SplitMix64's finaliser).
fn node_seed(seed: u64, h: Handle) -> u64 {
    let mut z = seed ^ (u64::from(h).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Overlay {
    /// An overlay with no node yet over `population`; nodes get `node_config`.
    #[must_use]
    pub fn new(population: Arc<Population>, spec: NetSpec, node_config: NodeConfig) -> Overlay {
        Overlay {
            net: Net::new(population.clone(), spec.latency, spec.loss, spec.seed),
            meter: Meter::new(population),
            node_config,
            spec,
            joins: 0,
        }
    }

    /// The engine.
    #[must_use]
    pub fn net(&self) -> &Net<SimNode> {
        &self.net
    }

    /// The meter.
    #[must_use]
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The meter, to take outcomes.
    pub fn meter_mut(&mut self) -> &mut Meter {
        &mut self.meter
    }

    /// The population.
    #[must_use]
    pub fn population(&self) -> &Population {
        self.net.population()
    }

    /// The nodes' configuration.
    #[must_use]
    pub fn node_config(&self) -> &NodeConfig {
        &self.node_config
    }

    /// The network's parameters.
    #[must_use]
    pub fn spec(&self) -> NetSpec {
        self.spec
    }

    /// The present simulated time.
    #[must_use]
    pub fn now(&self) -> Time {
        self.net.now()
    }

    /// Messages sent so far, by kind.
    #[must_use]
    pub fn traffic(&self) -> &Traffic {
        self.net.traffic()
    }

    /// Keeps every lookup's path from now on (for traces).
    pub fn keep_paths(&mut self, keep: bool) {
        self.meter.keep_paths = keep;
    }

    /// Node `h`'s engine, if alive.
    #[must_use]
    pub fn node(&self, h: Handle) -> Option<&SimNode> {
        self.net.peer(h)
    }

    fn estimator(&self, h: Handle) -> PlaneEstimator {
        let pop = self.net.population();
        PlaneEstimator::new(
            Arc::clone(&self.meter.population),
            self.spec.latency,
            pop.place(h),
        )
    }

    /// Puts the nodes `handles` on the network, already active, with states built from global
    /// knowledge of exactly these nodes ([`NodeState::from_ring`], `candidates_per_slot`
    /// offers per routing-table slot, at the plane's round-trip times), in parallel. From then
    /// on the protocol runs as for any node.
    ///
    /// # Errors
    /// A node configuration the node refuses.
    pub fn add_from_ring(
        &mut self,
        handles: &[Handle],
        candidates_per_slot: usize,
        progress: &Progress,
    ) -> Result<(), OverlayError> {
        let pop = Arc::clone(&self.meter.population);
        let mut ring: Vec<NodeRef<Handle>> = handles
            .iter()
            .map(|&h| NodeRef::new(pop.id(h), h))
            .collect();
        ring.sort_unstable_by_key(|p| p.id);
        let bar = progress.bar("oracle build", handles.len() as u64);
        let now = self.now();
        let (cfg, latency, seed) = (self.node_config, self.spec.latency, self.spec.seed);
        let nodes: Vec<Result<SimNode, String>> = handles
            .par_iter()
            .map(|&h| {
                let at = pop.place(h);
                let state = NodeState::from_ring(
                    cfg.routing,
                    NodeRef::new(pop.id(h), h),
                    &ring,
                    |p| latency.round_trip(at, pop.place(p.handle)),
                    candidates_per_slot,
                );
                let est = PlaneEstimator::new(Arc::clone(&pop), latency, at);
                let n = Node::active_with_state(now, cfg, state, est, node_seed(seed, h))
                    .map_err(|e| e.to_string());
                bar.inc(1);
                n
            })
            .collect();
        bar.finish_and_clear();
        for (&h, node) in handles.iter().zip(nodes) {
            let node = node.map_err(OverlayError::Config)?;
            self.meter.live_changed(now, 1);
            self.net.insert(h, node, &mut self.meter);
            self.meter.activate(h, now);
        }
        Ok(())
    }

    /// Starts node `h`'s join now, through the active node nearest to it in the plane (the
    /// paper's "nearby node A"), or as the first node of a new overlay when none is active.
    /// Returns the join's cause number ([`Net::in_flight_of`]).
    ///
    /// # Errors
    /// A node configuration the node refuses.
    pub fn start_join(&mut self, h: Handle) -> Result<u32, OverlayError> {
        let pop = self.net.population();
        let (id, at) = (pop.id(h), pop.place(h));
        let contact = self.meter.grid.nearest(at);
        let node = Node::new(
            self.node_config,
            NodeRef::new(id, h),
            self.estimator(h),
            node_seed(self.spec.seed, h),
        )
        .map_err(|e| OverlayError::Config(e.to_string()))?;
        let now = self.now();
        self.joins += 1;
        let cause = self.joins;
        self.meter.live_changed(now, 1);
        self.meter.joining.insert(h, self.meter.joins.len());
        self.meter.joins.push(JoinRecord {
            node: h,
            started: now,
            activated: None,
        });
        self.net.insert(h, node, &mut self.meter);
        self.net.call(h, cause, &mut self.meter, |n, now| {
            // A fresh node is idle: join cannot refuse it.
            let _ = n.join(now, contact);
        });
        Ok(cause)
    }

    /// Joins node `h` ([`Overlay::start_join`]) and runs the network until the node is active
    /// and every message its join led to has been handled (its announcements merged by the
    /// nodes told), or `budget` simulated microseconds have passed.
    ///
    /// # Errors
    /// [`OverlayError::JoinStalled`] when the budget ran out first.
    pub fn join_and_settle(&mut self, h: Handle, budget: Time) -> Result<(), OverlayError> {
        let cause = self.start_join(h)?;
        let limit = self.now().saturating_add(budget);
        let done = self.net.run_while(limit, &mut self.meter, |net, meter| {
            meter.is_active(h) && net.in_flight_of(cause) == 0
        });
        if done {
            Ok(())
        } else {
            Err(OverlayError::JoinStalled {
                node: h,
                waited_s: budget / SECOND,
            })
        }
    }

    /// Node `h` crashes now: it stops without a word.
    pub fn crash(&mut self, h: Handle) {
        if self.net.remove(h).is_some() {
            let now = self.now();
            self.meter.live_changed(now, -1);
            self.meter.deactivate(h);
        }
    }

    /// Node `h` leaves now (tells its leaf set if it is active) and stops.
    pub fn leave(&mut self, h: Handle) {
        let _ = self.net.call(h, 0, &mut self.meter, |n, now| n.leave(now));
        self.crash(h);
    }

    /// Node `source` routes a lookup for `key` now. Returns the lookup's number, or `None`
    /// when the node refuses (it is not active).
    pub fn lookup(&mut self, source: Handle, key: Guid) -> Option<u32> {
        let id = self.meter.issued;
        let payload = id.to_be_bytes().to_vec();
        let now = self.now();
        // Registered before the call: the first hop's message is sent during it.
        self.meter.pending.insert(
            id,
            Pending {
                source,
                key,
                sent: now,
                seq: 0,
                sends: 0,
                arrivals: 0,
                gave_up: false,
                distance: 0.0,
                path: self.meter.keep_paths.then(|| vec![source]),
            },
        );
        let seq = self
            .net
            .call(source, 0, &mut self.meter, |n, now| {
                n.route(now, key, payload)
            })
            .and_then(Result::ok);
        match seq {
            Some(seq) => {
                self.meter.issued += 1;
                if let Some(p) = self.meter.pending.get_mut(&id) {
                    p.seq = seq;
                    self.meter.by_seq.insert((source, seq), id);
                }
                Some(id)
            }
            None => {
                self.meter.pending.remove(&id);
                None
            }
        }
    }

    /// Runs the network until `t`.
    pub fn run_until(&mut self, t: Time) {
        self.net.run_until(t, &mut self.meter);
    }

    /// Runs the network until no lookup is outstanding or `limit` is reached; returns
    /// whether none is outstanding.
    pub fn run_until_lookups_done(&mut self, limit: Time) -> bool {
        self.net
            .run_while(limit, &mut self.meter, |_, m| m.pending.is_empty())
    }

    /// Runs the network until no message is in flight or `limit` is reached.
    pub fn run_until_quiet(&mut self, limit: Time) -> bool {
        self.net
            .run_while(limit, &mut self.meter, |net, _| net.in_flight() == 0)
    }

    /// The active nodes whose leaf set differs from the true one among the active nodes,
    /// and the number of active nodes.
    #[must_use]
    pub fn wrong_leaf_sets(&self) -> (usize, usize) {
        let ids: Vec<(Guid, Handle)> = self.meter.active_ids().collect();
        let n = ids.len();
        // Each side holds the L/2 nearest others in its direction (all others on a small ring).
        let half = self
            .node_config
            .routing
            .leaf_set_half()
            .min(n.saturating_sub(1));
        let wrong = ids
            .par_iter()
            .enumerate()
            .filter(|(i, (_, h))| {
                let Some(node) = self.net.peer(*h) else {
                    return true;
                };
                let leaf = node.state().leaf_set();
                let succ = (1..=half).map(|k| ids[(i + k) % n].0);
                let pred = (1..=half).map(|k| ids[(i + n - k) % n].0);
                !leaf.successors().iter().map(|m| m.id).eq(succ)
                    || !leaf.predecessors().iter().map(|m| m.id).eq(pred)
            })
            .count();
        (wrong, n)
    }

    /// Heap bytes of every live node's kernel state.
    #[must_use]
    pub fn state_heap_bytes(&self) -> usize {
        self.net.peers().map(|(_, n)| n.state().heap_bytes()).sum()
    }

    /// The sum of every live node's counters of messages sent and received, by kind.
    #[must_use]
    pub fn counters(&self) -> pastry_node::Counters {
        let mut total = pastry_node::Counters::default();
        for (_, n) in self.net.peers() {
            let c = n.counters();
            total.sent.absorb(&c.sent);
            total.received.absorb(&c.received);
            total.retries += c.retries;
            total.route_failed += c.route_failed;
            total.suspicions += c.suspicions;
            total.failures += c.failures;
            total.probes += c.probes;
            total.join_attempts += c.join_attempts;
            total.duplicates += c.duplicates;
        }
        total
    }

    /// Checks the invariants of the engine and the meter (debug builds only).
    pub fn invariants(&self) {
        self.net.invariants();
        self.meter.invariants();
    }
}
