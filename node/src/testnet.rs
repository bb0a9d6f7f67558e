//! An in-memory network of [`Node`]s for tests, examples and fuzzing (feature `testnet`):
//! one queue of deliveries ordered by (time, sequence), seeded random delays (so reordering),
//! loss and duplication, crashes, and the checks every test of the protocol uses.
//!
//! Every message goes through the codec (encoded by the sender's host, decoded by the
//! receiver's), as on a real network. The network is a host: it does I/O (here, moving bytes)
//! and measurement only; all protocol behaviour is the nodes'.
//!
//! The network drives any [`Engine`]: a bare [`Node`] (the default), or an application engine
//! that owns a node and is driven like one (a DHT), so that an application's tests run on the
//! same network and the same checks.
//!
//! ```
//! use pastry_node::testnet::{Net, Schedule};
//!
//! let mut net = Net::<u16>::new(Schedule::reliable(), 7);
//! let ids = [100u16, 9_000, 20_000, 40_000, 61_000];
//! for (i, id) in ids.into_iter().enumerate() {
//!     net.add(id);
//!     net.join(i, (i > 0).then_some(0));
//!     net.run_until_quiet(60_000_000);
//! }
//! assert!(net.all_active());
//! assert_eq!(net.wrong_leaf_sets(), 0);
//! let at = net.lookup(3, 19_000);
//! assert_eq!(at, net.true_root(19_000));
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use pastry_kernel::arith::{closer, cw};
use pastry_kernel::{Config, NodeRef, RingWord};

use crate::config::{NodeConfig, Time};
use crate::event::{CallError, Event, Transmit};
use crate::node::{NoEstimate, Node};

/// What a [`Net`] drives: a sans-I/O engine that owns one [`Node`] with `u32` handles and is
/// driven like it. [`Node`] itself is one; an application engine built on a node (a DHT)
/// implements it by passing each call to its own method of the same name.
pub trait Engine<W: RingWord> {
    /// What the engine hands its application: the node's [`Event`]s, or the application's
    /// own events with the node's passed through.
    type Event: Clone + core::fmt::Debug;
    /// The node inside, for the network's checks (phase, state, id).
    fn node(&self) -> &Node<u32, W, NoEstimate>;
    /// As [`Node::join`].
    ///
    /// # Errors
    /// As [`Node::join`].
    fn join(&mut self, now: Time, contact: Option<u32>) -> Result<(), CallError>;
    /// As [`Node::leave`].
    ///
    /// # Errors
    /// As [`Node::leave`].
    fn leave(&mut self, now: Time) -> Result<(), CallError>;
    /// As [`Node::route`].
    ///
    /// # Errors
    /// As [`Node::route`].
    fn route(&mut self, now: Time, key: W, payload: Vec<u8>) -> Result<u64, CallError>;
    /// As [`Node::handle_bytes`] (a decoding error is the engine's to count).
    fn handle_bytes(&mut self, now: Time, from: u32, bytes: &[u8]);
    /// As [`Node::handle_timeout`].
    fn handle_timeout(&mut self, now: Time);
    /// As [`Node::poll_transmit`].
    fn poll_transmit(&mut self) -> Option<Transmit<u32, W>>;
    /// As [`Node::poll_event`].
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// As [`Node::poll_timeout`].
    fn poll_timeout(&self) -> Option<Time>;
    /// The node's event inside `event`, when it is one: the network records activations,
    /// deliveries and failed routes from these.
    fn node_event(event: &Self::Event) -> Option<&Event<u32, W>>;
}

impl<W: RingWord> Engine<W> for Node<u32, W, NoEstimate> {
    type Event = Event<u32, W>;
    fn node(&self) -> &Node<u32, W, NoEstimate> {
        self
    }
    fn join(&mut self, now: Time, contact: Option<u32>) -> Result<(), CallError> {
        Node::join(self, now, contact)
    }
    fn leave(&mut self, now: Time) -> Result<(), CallError> {
        Node::leave(self, now)
    }
    fn route(&mut self, now: Time, key: W, payload: Vec<u8>) -> Result<u64, CallError> {
        Node::route(self, now, key, payload)
    }
    fn handle_bytes(&mut self, now: Time, from: u32, bytes: &[u8]) {
        let _ = Node::handle_bytes(self, now, from, bytes);
    }
    fn handle_timeout(&mut self, now: Time) {
        Node::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit<u32, W>> {
        Node::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event<u32, W>> {
        Node::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Time> {
        Node::poll_timeout(self)
    }
    fn node_event(event: &Event<u32, W>) -> Option<&Event<u32, W>> {
        Some(event)
    }
}

/// How the network treats messages: a one-way delay drawn uniformly from `delay`
/// (microseconds), each message lost with probability `loss` and duplicated with probability
/// `duplicate` (the copy with its own delay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Least and largest one-way delay in microseconds.
    pub delay: (Time, Time),
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
}

impl Schedule {
    /// No loss, no duplication, delays of 1 to 20 ms.
    #[must_use]
    pub const fn reliable() -> Self {
        Schedule {
            delay: (1_000, 20_000),
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

/// One delivery due at a time.
#[derive(Clone, Debug)]
struct Delivery {
    to: u32,
    from: u32,
    bytes: Vec<u8>,
}

/// What happened to a routed application message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fate<W> {
    /// Where (node index) and when it was delivered, each delivery once.
    pub delivered: Vec<(usize, Time, W)>,
    /// Whether a node gave it up.
    pub failed: bool,
}

impl<W> Default for Fate<W> {
    fn default() -> Self {
        Fate {
            delivered: Vec::new(),
            failed: false,
        }
    }
}

/// A network of engines ([`Node`]s unless `N` says otherwise) with `u32` handles (their
/// index) over ids of type `W`.
pub struct Net<W: RingWord, N: Engine<W> = Node<u32, W, NoEstimate>> {
    /// The nodes (engines), by index.
    pub nodes: Vec<N>,
    alive: Vec<bool>,
    /// When each node became active, if it did.
    pub activated: Vec<Option<Time>>,
    /// The configuration given to new nodes.
    pub config: NodeConfig,
    schedule: Schedule,
    queue: BTreeMap<(Time, u64), Delivery>,
    seq: u64,
    rng: pastry_kernel::seeded::SplitMix,
    /// The present time.
    pub now: Time,
    /// Routed messages by (origin index, seq).
    pub fates: BTreeMap<(usize, u64), Fate<W>>,
    /// Every event by node, in order (deliveries are also in `fates`).
    pub events: Vec<Vec<(Time, N::Event)>>,
    /// Messages sent, lost and duplicated by the network.
    pub stats: NetStats,
    /// The first wrong deliveries: (time, node, key, the true root then).
    pub wrong: Vec<(Time, usize, W, Option<usize>)>,
}

/// What the network did with the messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages lost.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Messages to crashed nodes.
    pub to_dead: u64,
    /// Bytes handed to the network.
    pub bytes: u64,
    /// Routed messages delivered at a node that was not, at that moment, the root of the key
    /// among the live active nodes.
    pub wrong_deliveries: u64,
}

impl<W: RingWord> Net<W> {
    /// Adds a node with id `id` (not joined yet); returns its index.
    ///
    /// # Panics
    /// If the network's configuration is invalid (it never is when built by [`Net::new`]).
    #[allow(clippy::expect_used)]
    pub fn add(&mut self, id: W) -> usize {
        self.add_with(id, |config, own, seed| {
            Node::new(config, own, NoEstimate, seed).expect("a valid configuration")
        })
    }
}

impl<W: RingWord, N: Engine<W>> Net<W, N> {
    /// An empty network with the given schedule, seeded by `seed`; nodes get
    /// [`NodeConfig::default`] with b = 4, L = 8, |M| = 8, suited to small rings.
    #[must_use]
    pub fn new(schedule: Schedule, seed: u64) -> Self {
        let routing = Config::new(4, 8, 8).unwrap_or(Config::PAPER);
        Net {
            nodes: Vec::new(),
            alive: Vec::new(),
            activated: Vec::new(),
            config: NodeConfig::new(routing),
            schedule,
            queue: BTreeMap::new(),
            seq: 0,
            rng: pastry_kernel::seeded::SplitMix::new(seed),
            now: 0,
            fates: BTreeMap::new(),
            events: Vec::new(),
            stats: NetStats::default(),
            wrong: Vec::new(),
        }
    }

    /// Changes the schedule from now on (messages already queued keep their fate).
    pub fn set_schedule(&mut self, schedule: Schedule) {
        self.schedule = schedule;
    }

    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform value in [0, 1).
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let v = (self.random() >> 11) as f64 / (1u64 << 53) as f64;
        v
    }

    /// Adds an engine for the node with id `id` (not joined yet), made by `make` from the
    /// network's configuration, the node's reference and a seed; returns its index.
    ///
    /// # Panics
    /// With more than 2^32 nodes.
    #[allow(clippy::expect_used)]
    pub fn add_with(
        &mut self,
        id: W,
        make: impl FnOnce(NodeConfig, NodeRef<u32, W>, u64) -> N,
    ) -> usize {
        let i = self.nodes.len();
        let handle = u32::try_from(i).expect("fewer than 2^32 nodes");
        let seed = self.random();
        let node = make(self.config, NodeRef::new(id, handle), seed);
        self.nodes.push(node);
        self.alive.push(true);
        self.activated.push(None);
        self.events.push(Vec::new());
        i
    }

    /// Starts node `i`'s join through node `contact` (or a new overlay with `None`).
    pub fn join(&mut self, i: usize, contact: Option<usize>) {
        let contact = contact.and_then(|c| u32::try_from(c).ok());
        if let Some(n) = self.nodes.get_mut(i) {
            let _ = n.join(self.now, contact);
        }
        self.drain(i);
    }

    /// Crashes node `i`: it handles nothing from now on.
    pub fn crash(&mut self, i: usize) {
        if let Some(a) = self.alive.get_mut(i) {
            *a = false;
        }
    }

    /// Crashes `count` distinct live nodes other than node 0 (the bootstrap), chosen by a
    /// 64-bit linear congruential sequence from `seed`; returns their indices. Stops early when
    /// fewer than `count` such nodes are alive.
    pub fn crash_random(&mut self, count: usize, seed: u64) -> Vec<usize> {
        let mut x = seed;
        let mut victims = Vec::new();
        let n = self.nodes.len();
        while victims.len() < count && (1..n).any(|i| self.is_alive(i)) {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            #[allow(clippy::cast_possible_truncation)] // 31 bits
            let i = 1 + (x >> 33) as usize % (n - 1);
            if self.is_alive(i) {
                self.crash(i);
                victims.push(i);
            }
        }
        victims
    }

    /// Runs in steps of `step` until every live node's leaf set is the true one; returns how
    /// long that took, or `None` if it did not happen within `limit`.
    pub fn run_until_leaf_sets_true(&mut self, step: Time, limit: Time) -> Option<Time> {
        let start = self.now;
        while self.now - start < limit {
            let t = self.now + step;
            self.run_until(t);
            if self.wrong_leaf_sets() == 0 {
                return Some(self.now - start);
            }
        }
        None
    }

    /// Node `i` leaves gracefully.
    pub fn leave(&mut self, i: usize) {
        if let Some(n) = self.nodes.get_mut(i) {
            let _ = n.leave(self.now);
        }
        self.drain(i);
        if let Some(a) = self.alive.get_mut(i) {
            *a = false;
        }
    }

    /// Whether node `i` is alive (not crashed, not left).
    #[must_use]
    pub fn is_alive(&self, i: usize) -> bool {
        self.alive.get(i).copied().unwrap_or(false)
    }

    /// Runs `f` on engine `i` at the present time (an application's call: a DHT's put, say)
    /// and sends what it queued; `None` when there is no such engine.
    pub fn call<R>(&mut self, i: usize, f: impl FnOnce(&mut N, Time) -> R) -> Option<R> {
        let now = self.now;
        let r = f(self.nodes.get_mut(i)?, now);
        self.drain(i);
        Some(r)
    }

    /// Routes `payload` from node `i` to `key`; returns the message's (origin, seq) key in
    /// [`Net::fates`], if the node took it.
    pub fn route(&mut self, i: usize, key: W, payload: Vec<u8>) -> Option<(usize, u64)> {
        let seq = self.nodes.get_mut(i)?.route(self.now, key, payload).ok()?;
        self.fates.insert((i, seq), Fate::default());
        self.drain(i);
        Some((i, seq))
    }

    /// Routes an empty message from `i` to `key`, runs until the network is quiet (at most
    /// `60 s` more) and returns the index of the node that delivered it, if any.
    pub fn lookup(&mut self, i: usize, key: W) -> Option<usize> {
        let k = self.route(i, key, Vec::new())?;
        let limit = self.now.saturating_add(60_000_000);
        while self
            .fates
            .get(&k)
            .is_some_and(|f| f.delivered.is_empty() && !f.failed)
            && self.step(limit)
        {}
        self.fates.get(&k)?.delivered.first().map(|d| d.0)
    }

    /// Moves every queued transmit and event of node `i` out of it.
    fn drain(&mut self, i: usize) {
        let Ok(from) = u32::try_from(i) else {
            return;
        };
        let max = self.config.max_payload;
        loop {
            let Some(node) = self.nodes.get_mut(i) else {
                return;
            };
            let Some(t) = node.poll_transmit() else {
                break;
            };
            let Ok(bytes) = t.message.to_vec(max) else {
                continue;
            };
            self.stats.sent += 1;
            self.stats.bytes += bytes.len() as u64;
            if self.unit() < self.schedule.loss {
                self.stats.lost += 1;
                continue;
            }
            let copies = if self.unit() < self.schedule.duplicate {
                self.stats.duplicated += 1;
                2
            } else {
                1
            };
            for _ in 0..copies {
                let (lo, hi) = self.schedule.delay;
                let delay = lo + self.random() % (hi.saturating_sub(lo) + 1);
                self.seq += 1;
                self.queue.insert(
                    (self.now + delay, self.seq),
                    Delivery {
                        to: t.to,
                        from,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
        loop {
            let Some(node) = self.nodes.get_mut(i) else {
                return;
            };
            let Some(e) = node.poll_event() else {
                break;
            };
            match N::node_event(&e) {
                None => {}
                Some(Event::Activated { at }) => {
                    if let Some(a) = self.activated.get_mut(i) {
                        *a = Some(*at);
                    }
                }
                Some(Event::Deliver {
                    origin, seq, key, ..
                }) => {
                    let root = self.true_root(*key);
                    if root != Some(i) {
                        self.stats.wrong_deliveries += 1;
                        if self.wrong.len() < 64 {
                            self.wrong.push((self.now, i, *key, root));
                        }
                    }
                    let fate = self
                        .fates
                        .entry((origin.handle as usize, *seq))
                        .or_default();
                    fate.delivered.push((i, self.now, *key));
                }
                Some(Event::RouteFailed { origin, seq, .. }) => {
                    self.fates
                        .entry((origin.handle as usize, *seq))
                        .or_default()
                        .failed = true;
                }
                _ => {}
            }
            if let Some(log) = self.events.get_mut(i) {
                log.push((self.now, e));
            }
        }
    }

    /// The earliest pending work: a delivery or a live node's timer.
    fn next_time(&self) -> Option<Time> {
        let delivery = self.queue.keys().next().map(|(t, _)| *t);
        let timer = self
            .nodes
            .iter()
            .zip(&self.alive)
            .filter(|(_, a)| **a)
            .filter_map(|(n, _)| n.poll_timeout())
            .min();
        match (delivery, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles the earliest pending work if it is due by `limit`; returns false when there is
    /// none.
    pub fn step(&mut self, limit: Time) -> bool {
        let Some(t) = self.next_time() else {
            return false;
        };
        if t > limit {
            return false;
        }
        self.now = self.now.max(t);
        if let Some(((at, _), _)) = self.queue.first_key_value() {
            if *at <= self.now {
                if let Some((_, d)) = self.queue.pop_first() {
                    let to = d.to as usize;
                    if !self.is_alive(to) {
                        self.stats.to_dead += 1;
                        return true;
                    }
                    if let Some(n) = self.nodes.get_mut(to) {
                        n.handle_bytes(self.now, d.from, &d.bytes);
                    }
                    self.drain(to);
                    return true;
                }
            }
        }
        for i in 0..self.nodes.len() {
            let due = self.is_alive(i)
                && self
                    .nodes
                    .get(i)
                    .and_then(N::poll_timeout)
                    .is_some_and(|at| at <= self.now);
            if due {
                if let Some(n) = self.nodes.get_mut(i) {
                    n.handle_timeout(self.now);
                }
                self.drain(i);
            }
        }
        true
    }

    /// Runs until `limit` (timers keep firing: heartbeats never stop).
    pub fn run_until(&mut self, limit: Time) {
        while self.step(limit) {}
        self.now = self.now.max(limit);
    }

    /// Runs until no message is in flight and no timer is due within the next second, or
    /// until `budget` microseconds have passed.
    pub fn run_until_quiet(&mut self, budget: Time) {
        let limit = self.now.saturating_add(budget);
        loop {
            if self.queue.is_empty() {
                let joining = self.nodes.iter().zip(&self.alive).any(|(n, a)| {
                    *a && matches!(
                        n.node().phase(),
                        crate::Phase::Joining | crate::Phase::Probing
                    )
                });
                if !joining {
                    let soon = self.next_time().is_some_and(|t| t <= self.now + 1_000_000);
                    if !soon {
                        return;
                    }
                }
            }
            if !self.step(limit) {
                return;
            }
        }
    }

    /// Whether every live node that started a join is active.
    #[must_use]
    pub fn all_active(&self) -> bool {
        self.nodes
            .iter()
            .zip(&self.alive)
            .filter(|(n, a)| **a && n.node().phase() != crate::Phase::Idle)
            .all(|(n, _)| n.node().is_active())
    }

    /// The ids of the live active nodes, sorted.
    #[must_use]
    pub fn active_ids(&self) -> Vec<W> {
        let mut ids: Vec<W> = self
            .nodes
            .iter()
            .zip(&self.alive)
            .filter(|(n, a)| **a && n.node().is_active())
            .map(|(n, _)| n.node().own().id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The index of the root of `key` among the live active nodes.
    #[must_use]
    pub fn true_root(&self, key: W) -> Option<usize> {
        let mut best: Option<(usize, W)> = None;
        for (i, n) in self.nodes.iter().enumerate() {
            if !self.is_alive(i) || !n.node().is_active() {
                continue;
            }
            let id = n.node().own().id;
            if best.is_none_or(|(_, b)| closer(&key, &id, &b)) {
                best = Some((i, id));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The number of live active nodes whose leaf set differs from the true one among the
    /// live active nodes.
    #[must_use]
    pub fn wrong_leaf_sets(&self) -> usize {
        let live = self.active_ids();
        let half = self.config.routing.leaf_set_half();
        self.nodes
            .iter()
            .zip(&self.alive)
            .filter(|(n, a)| **a && n.node().is_active())
            .filter(|(n, _)| {
                let (succ, pred) = true_leaf_set(n.node().own().id, &live, half);
                let leaf = n.node().state().leaf_set();
                let s: Vec<W> = leaf.successors().iter().map(|m| m.id).collect();
                let p: Vec<W> = leaf.predecessors().iter().map(|m| m.id).collect();
                s != succ || p != pred
            })
            .count()
    }

    /// The greatest number of times one routed message was delivered.
    #[must_use]
    pub fn max_deliveries(&self) -> usize {
        self.fates
            .values()
            .map(|f| {
                let at: BTreeSet<usize> = f.delivered.iter().map(|d| d.0).collect();
                f.delivered.len().max(at.len())
            })
            .max()
            .unwrap_or(0)
    }
}

/// The true leaf set of `own` among `live` (sorted ids): the L/2 nearest on each side, nearest
/// first.
#[must_use]
pub fn true_leaf_set<W: RingWord>(own: W, live: &[W], half: usize) -> (Vec<W>, Vec<W>) {
    let others: Vec<W> = live.iter().copied().filter(|x| *x != own).collect();
    let mut succ = others.clone();
    succ.sort_by_key(|x| cw(&own, x));
    succ.truncate(half);
    let mut pred = others;
    pred.sort_by_key(|x| cw(x, &own));
    pred.truncate(half);
    (succ, pred)
}
