//! The DHT experiment: a `pastry_dht::Dht` on every simulated node, keys stored at the start,
//! then churn and message loss for hours while gets, updates and removes run; measured are
//! the gets that return the newest version, the values lost, removed keys that come back, the
//! records per node and the replica maintenance's bytes.
//!
//! The simulator only hosts and measures: every decision about where a value lives, when it
//! is copied, handed off or answered is the `Dht` engine's. The host builds the first nodes
//! from global knowledge (as the dependability experiment does), joins arriving nodes through
//! the active node nearest to them, crashes departing ones, and calls `put`, `get` and
//! `remove` on random active nodes. The truth it measures against is what the writers were
//! told: the newest version of a key is the greatest version whose `PutDone` or `RemoveDone`
//! was raised.
//!
//! # The run
//! 1. **Build**: `nodes` active nodes from global knowledge (`NodeState::from_ring`).
//! 2. **Load**: `keys` puts of random keys from random nodes, spread evenly over
//!    [`DhtSpec::load_s`], then the network runs until every put is answered (no churn yet).
//! 3. **Churn** for [`DhtSpec::duration_s`]: Poisson arrivals and session times as in the
//!    dependability experiment (the nodes present at the start depart after a residual session
//!    time), gets of random keys from random active nodes at [`DhtSpec::get_rate`], writes at
//!    [`DhtSpec::write_rate`] (a [`DhtSpec::remove_share`] of them removes, the rest updates
//!    with a new value; a key once removed is not written again).
//! 4. **Drain** for [`DhtSpec::drain_s`]: churn goes on, no new operation, so the last ones
//!    can finish. Then the stores of the live nodes are read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use pastry_dht::{Dht, DhtConfig, DhtCounters, DhtEvent, Version};
use pastry_kernel::arith::closer;
use pastry_kernel::{Config, Guid, NodeRef, NodeState};
use pastry_node::{Event, Node, NodeConfig, Time, Transmit};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::churn::Session;
use crate::engine::{Net, Observer, Peer};
use crate::experiment::{rng, Build, Error, Maintenance, Stream};
use crate::grid::Grid;
use crate::model::{handle, random_guid, Handle, Latency, PlaneEstimator, Population};
use crate::overlay::SECOND;
use crate::progress::Progress;

/// A simulated DHT node: the DHT engine over a node with the plane's proximity estimates.
pub type SimDht = Dht<Handle, Guid, PlaneEstimator>;

/// A DHT event as the simulator sees it.
pub type SimDhtEvent = DhtEvent<Handle, Guid>;

impl Peer for SimDht {
    type Event = SimDhtEvent;

    fn handle_bytes(&mut self, now: Time, from: Handle, bytes: &[u8]) {
        // A message that does not decode is counted by the node.
        let _ = Dht::handle_bytes(self, now, from, bytes);
    }

    fn handle_timeout(&mut self, now: Time) {
        Dht::handle_timeout(self, now);
    }

    fn poll_timeout(&self) -> Option<Time> {
        Dht::poll_timeout(self)
    }

    fn poll_transmit(&mut self) -> Option<Transmit<Handle, Guid>> {
        Dht::poll_transmit(self)
    }

    fn poll_event(&mut self) -> Option<SimDhtEvent> {
        Dht::poll_event(self)
    }

    fn max_payload(&self) -> usize {
        self.node().config().max_payload
    }
}

/// The DHT experiment's parameters.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DhtSpec {
    /// Nodes at the start, and the mean size under churn.
    pub nodes: usize,
    /// Keys put at the start.
    pub keys: usize,
    /// Session times of the churn.
    pub session: Session,
    /// Simulated seconds of churn with operations.
    pub duration_s: f64,
    /// Gets per simulated second over the whole network.
    pub get_rate: f64,
    /// Writes (updates and removes) per simulated second over the whole network.
    pub write_rate: f64,
    /// The share of writes that are removes, in [0, 1].
    pub remove_share: f64,
    /// Bytes of every value written.
    pub value_bytes: usize,
    /// Simulated seconds over which the initial puts are spread.
    pub load_s: f64,
    /// Simulated seconds after the operations stop (churn goes on).
    pub drain_s: f64,
    /// The DHT's configuration on every node.
    #[serde(skip)]
    pub dht: DhtConfig,
}

/// The network the experiment runs on.
#[derive(Clone, Copy, Debug)]
pub struct DhtNet {
    /// b, L, |M|.
    pub config: Config,
    /// One-way latency from the plane.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// The seed of every random choice.
    pub seed: u64,
    /// Progress bars.
    pub progress: Progress,
}

/// What happened to the gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Gets {
    /// Gets issued.
    pub issued: u64,
    /// Answered with the newest version acknowledged before the get was issued, or a newer
    /// one (a removed key's tombstone counts as its version).
    pub newest: u64,
    /// Answered with an older version, or with nothing while a version had been
    /// acknowledged.
    pub stale: u64,
    /// Of the stale ones, answers with a value for a key whose remove had been acknowledged.
    pub reappeared: u64,
    /// Given up by the issuing node (`Failed`: no answer after every attempt).
    pub failed: u64,
    /// Not answered by the end of the drain, the issuing node still live.
    pub unanswered: u64,
    /// Not answered because the issuing node departed first (left out of the fraction).
    pub abandoned: u64,
}

impl Gets {
    /// The gets that count: every one whose issuing node stayed to hear the answer.
    #[must_use]
    pub fn counted(&self) -> u64 {
        self.issued - self.abandoned
    }

    /// `newest / counted`.
    #[must_use]
    pub fn newest_fraction(&self) -> f64 {
        self.newest as f64 / self.counted().max(1) as f64
    }
}

/// What happened to the writes of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Writes {
    /// Issued.
    pub issued: u64,
    /// Acknowledged (`PutDone` / `RemoveDone`).
    pub done: u64,
    /// Of those, acknowledged with fewer than k copies stored.
    pub short: u64,
    /// Given up (`Failed`).
    pub failed: u64,
    /// Neither by the end, or their issuing node departed first.
    pub unanswered: u64,
}

/// The state of the stores at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct EndState {
    /// Keys with an acknowledged value (not removed) at the end.
    pub live_keys: u64,
    /// Of those, keys whose newest acknowledged version (or a newer one) no live node holds.
    pub values_lost: u64,
    /// Of those, keys whose newest version is held by fewer than k of the key's k true
    /// replicas (the k active nodes closest to it).
    pub under_replicated: u64,
    /// Keys whose remove was acknowledged.
    pub removed_keys: u64,
    /// Of those, keys for which some live node holds an older value and none holds the
    /// tombstone or anything newer: the value would come back.
    pub removed_reappear: u64,
    /// Records (values and tombstones) per active node: mean.
    pub records_mean: f64,
    /// Records per active node: maximum.
    pub records_max: usize,
    /// `records_max / records_mean`.
    pub records_max_over_mean: f64,
    /// Records held over all live nodes per key written (k when every key has exactly its k
    /// copies).
    pub copies_per_key: f64,
    /// Active nodes at the end.
    pub active: usize,
}

/// The measures of a DHT run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DhtResult {
    /// The parameters.
    pub spec: DhtSpec,
    /// Replicas per key (k).
    pub replicas: usize,
    /// Seconds between maintenance rounds (`T_rep`).
    pub replication_period_s: f64,
    /// Message loss probability.
    pub loss: f64,
    /// The seed.
    pub seed: u64,
    /// The initial puts.
    pub puts: Writes,
    /// Simulated seconds the load took (from the first put to the last answer).
    pub load_took_s: f64,
    /// Updates during the churn.
    pub updates: Writes,
    /// Removes during the churn.
    pub removes: Writes,
    /// Gets during the churn.
    pub gets: Gets,
    /// `gets.newest / gets.counted()`.
    pub newest_fraction: f64,
    /// Joins during the churn (and drain).
    pub arrivals: usize,
    /// Departures during the churn (and drain).
    pub departures: usize,
    /// Mean live nodes over the churn and drain.
    pub mean_live: f64,
    /// The stores at the end.
    pub end: EndState,
    /// The DHT's maintenance messages (summaries, their replies, pushes), payload bytes per
    /// second per live node, over the churn and drain.
    pub maintenance_bytes_per_node_s: f64,
    /// Every message's bytes on the wire (the node's and the DHT's, acks included) per
    /// second per live node, over the churn and drain.
    pub all_bytes_per_node_s: f64,
    /// Maintenance rounds, keys handed off, tombstones collected, writes refused by full
    /// stores, over every node (departed ones included), churn and drain.
    pub rounds: u64,
    /// Keys handed off.
    pub handed_off: u64,
    /// Writes refused by a full store.
    pub refused_full: u64,
    /// Messages the network lost over the churn and drain.
    pub messages_lost: u64,
    /// Wall-clock seconds of the run (build included).
    pub wall_s: f64,
}

/// What an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Load,
    Update,
    Remove,
    Get,
}

/// An operation waiting for its answer.
#[derive(Clone, Copy, Debug)]
struct Pending {
    op: Op,
    key: u32,
    /// Gets: the newest acknowledged version when issued.
    expect: Option<Version>,
}

/// A key's truth: what the writers were told.
#[derive(Clone, Copy, Debug)]
struct Truth {
    key: Guid,
    /// The greatest acknowledged version.
    newest: Option<Version>,
    /// Whether that version is a remove's tombstone.
    removed: bool,
    /// A remove was issued: the key is written no more.
    closed: bool,
}

/// The experiment's observer: membership, the operations in flight and the keys' truth.
#[derive(Debug)]
struct Meter {
    population: Arc<Population>,
    active: BTreeMap<Guid, Handle>,
    active_list: Vec<Handle>,
    active_pos: HashMap<Handle, usize>,
    grid: Grid,
    pending: HashMap<(Handle, u64), Pending>,
    /// The operation being issued: its node, and what it is (an answer can come during the
    /// call, when the issuing node is the key's root).
    calling: Option<(Handle, Pending)>,
    answered_in_call: bool,
    keys: Vec<Truth>,
    puts: Writes,
    updates: Writes,
    removes: Writes,
    gets: Gets,
    live: usize,
    live_since: Time,
    node_time: u128,
    /// The counters of departed nodes, summed.
    departed: DhtCounters,
}

impl Meter {
    fn activate(&mut self, h: Handle) {
        if self.active_pos.contains_key(&h) {
            return;
        }
        self.active.insert(self.population.id(h), h);
        self.active_pos.insert(h, self.active_list.len());
        self.active_list.push(h);
        self.grid.insert(h, self.population.place(h));
    }

    fn deactivate(&mut self, h: Handle) {
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

    fn node_time(&self, now: Time) -> u128 {
        self.node_time + self.live as u128 * u128::from(now.saturating_sub(self.live_since))
    }

    fn live_changed(&mut self, now: Time, delta: isize) {
        self.node_time = self.node_time(now);
        self.live_since = now;
        self.live = self.live.saturating_add_signed(delta);
    }

    fn writes(&mut self, op: Op) -> &mut Writes {
        match op {
            Op::Load => &mut self.puts,
            Op::Remove => &mut self.removes,
            Op::Update | Op::Get => &mut self.updates,
        }
    }

    /// Records the answer to `p`: a write's acknowledged version (`Ok(Some)`), a get's answer
    /// (`Ok(version)`), or a failure (`Err(())`).
    fn answer(&mut self, p: Pending, result: Result<(Option<Version>, bool, u8), ()>, k: u8) {
        let truth = &mut self.keys[p.key as usize];
        match (p.op, result) {
            (Op::Get, Ok((version, has_value, _))) => {
                let newest = match p.expect {
                    None => true,
                    Some(e) => version.is_some_and(|v| v >= e),
                };
                if newest {
                    self.gets.newest += 1;
                } else {
                    self.gets.stale += 1;
                    if has_value && truth.removed && p.expect == truth.newest {
                        self.gets.reappeared += 1;
                    }
                }
            }
            (Op::Get, Err(())) => self.gets.failed += 1,
            (op, Ok((version, _, stored))) => {
                if let Some(v) = version {
                    if truth.newest.is_none_or(|n| v > n) {
                        truth.newest = Some(v);
                        truth.removed = op == Op::Remove;
                    }
                }
                let w = self.writes(op);
                w.done += 1;
                w.short += u64::from(stored < k);
            }
            (op, Err(())) => self.writes(op).failed += 1,
        }
    }
}

/// The answer an event carries for an operation: (op id, result).
type Answer = (u64, Result<(Option<Version>, bool, u8), ()>);

fn answer_of(event: &SimDhtEvent) -> Option<Answer> {
    match event {
        DhtEvent::PutDone {
            op,
            version,
            stored,
            ..
        }
        | DhtEvent::RemoveDone {
            op,
            version,
            stored,
            ..
        } => Some((op.0, Ok((Some(*version), false, *stored)))),
        DhtEvent::GetDone {
            op, value, version, ..
        } => Some((op.0, Ok((*version, value.is_some(), 0)))),
        DhtEvent::Failed { op, .. } => Some((op.0, Err(()))),
        _ => None,
    }
}

/// The meter with the replica count, as the engine's observer.
struct Observe<'a> {
    meter: &'a mut Meter,
    k: u8,
}

impl Observer<SimDhtEvent> for Observe<'_> {
    fn event(&mut self, _now: Time, at: Handle, event: SimDhtEvent) {
        if let DhtEvent::Node(Event::Activated { .. }) = event {
            self.meter.activate(at);
            return;
        }
        let Some((op, result)) = answer_of(&event) else {
            return;
        };
        let m = &mut *self.meter;
        if let Some(p) = m.pending.remove(&(at, op)) {
            m.answer(p, result, self.k);
        } else if let Some((h, p)) = m.calling {
            if h == at && !m.answered_in_call {
                m.answered_in_call = true;
                m.answer(p, result, self.k);
            }
        }
    }
}

/// A per-node seed from the run's seed and the handle (SplitMix64's finaliser).
fn node_seed(seed: u64, h: Handle) -> u64 {
    let mut z = seed ^ (u64::from(h).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn micros(s: f64) -> Time {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped, finite
    {
        (s * 1e6).clamp(0.0, 1e18).round() as Time
    }
}

/// A uniform value in (0, 1].
fn unit(r: &mut ChaCha8Rng) -> f64 {
    1.0 - r.random::<f64>()
}

/// An exponential gap in microseconds for `rate` events a second (never for rate 0).
fn gap(r: &mut ChaCha8Rng, rate: f64) -> Time {
    if rate > 0.0 {
        micros(-unit(r).ln() / rate).max(1)
    } else {
        Time::MAX
    }
}

/// A change of membership: a join (true) or a departure of a handle.
type Change = (Time, bool, Handle);

/// The churn's membership changes over `end` microseconds from its start: the `n` first
/// nodes depart after a residual session time, arrivals come at n / mean a second and stay
/// a drawn session time. Returns the changes in time order and how many nodes ever take part.
fn churn_schedule(session: Session, n: usize, seed: u64, end: Time) -> (Vec<Change>, usize) {
    let mut r = rng(seed, Stream::Churn);
    let mut changes = Vec::new();
    for h in 0..n {
        let left = micros(session.draw_residual(&mut r));
        if left < end {
            changes.push((left, false, handle(h)));
        }
    }
    let mut next = n;
    if session != Session::None {
        let rate = n as f64 / session.mean_s();
        let mut t: Time = 0;
        loop {
            t = t.saturating_add(gap(&mut r, rate));
            if t >= end {
                break;
            }
            changes.push((t, true, handle(next)));
            let leave = t.saturating_add(micros(session.draw(&mut r)));
            if leave < end {
                changes.push((leave, false, handle(next)));
            }
            next += 1;
        }
    }
    changes.sort_by_key(|&(t, join, h)| (t, h, join));
    (changes, next)
}

/// The value of the `n`th write: `len` bytes from the write's number.
fn value(n: u64, len: usize) -> Vec<u8> {
    n.to_be_bytes().iter().copied().cycle().take(len).collect()
}

/// The experiment's host: the network, the meter, the configurations.
struct Host {
    net: Net<SimDht>,
    meter: Meter,
    node_cfg: NodeConfig,
    dht_cfg: DhtConfig,
    latency: Latency,
    seed: u64,
    k: u8,
}

impl Host {
    /// A host with no node yet over `pop`, with the keys `keys` not written yet.
    fn new(
        pop: &Arc<Population>,
        net: &DhtNet,
        node_cfg: NodeConfig,
        dht_cfg: DhtConfig,
        keys: Vec<Guid>,
    ) -> Host {
        Host {
            net: Net::new(Arc::clone(pop), net.latency, net.loss, net.seed),
            meter: Meter {
                population: Arc::clone(pop),
                active: BTreeMap::new(),
                active_list: Vec::new(),
                active_pos: HashMap::new(),
                grid: Grid::default(),
                pending: HashMap::new(),
                calling: None,
                answered_in_call: false,
                keys: keys
                    .into_iter()
                    .map(|key| Truth {
                        key,
                        newest: None,
                        removed: false,
                        closed: false,
                    })
                    .collect(),
                puts: Writes::default(),
                updates: Writes::default(),
                removes: Writes::default(),
                gets: Gets::default(),
                live: 0,
                live_since: 0,
                node_time: 0,
                departed: DhtCounters::default(),
            },
            node_cfg,
            dht_cfg,
            latency: net.latency,
            seed: net.seed,
            k: u8::try_from(dht_cfg.replicas).unwrap_or(u8::MAX),
        }
    }

    fn observe(&mut self) -> (&mut Net<SimDht>, Observe<'_>) {
        (
            &mut self.net,
            Observe {
                meter: &mut self.meter,
                k: self.k,
            },
        )
    }

    fn run_until(&mut self, t: Time) {
        let (net, mut obs) = self.observe();
        net.run_until(t, &mut obs);
    }

    fn estimator(&self, h: Handle) -> PlaneEstimator {
        let pop = &self.meter.population;
        PlaneEstimator::new(Arc::clone(pop), self.latency, pop.place(h))
    }

    /// The first `n` nodes, active, states from global knowledge, in parallel.
    fn build(&mut self, n: usize, progress: &Progress) -> Result<(), Error> {
        let pop = Arc::clone(&self.meter.population);
        let handles: Vec<Handle> = (0..n).map(handle).collect();
        let mut ring: Vec<NodeRef<Handle>> = handles
            .iter()
            .map(|&h| NodeRef::new(pop.id(h), h))
            .collect();
        ring.sort_unstable_by_key(|p| p.id);
        let per_slot = Build::default_candidates(n);
        let bar = progress.bar("oracle build", n as u64);
        let (cfg, dht_cfg, latency, seed) = (self.node_cfg, self.dht_cfg, self.latency, self.seed);
        let nodes: Vec<Result<SimDht, String>> = handles
            .par_iter()
            .map(|&h| {
                let at = pop.place(h);
                let state = NodeState::from_ring(
                    cfg.routing,
                    NodeRef::new(pop.id(h), h),
                    &ring,
                    |p| latency.round_trip(at, pop.place(p.handle)),
                    per_slot,
                );
                let est = PlaneEstimator::new(Arc::clone(&pop), latency, at);
                let node = Node::active_with_state(0, cfg, state, est, node_seed(seed, h))
                    .map_err(|e| e.to_string())?;
                bar.inc(1);
                Dht::new(dht_cfg, node).map_err(|e| e.to_string())
            })
            .collect();
        bar.finish_and_clear();
        for (&h, node) in handles.iter().zip(nodes) {
            let node = node?;
            let now = self.net.now();
            self.meter.live_changed(now, 1);
            let (net, mut obs) = self.observe();
            net.insert(h, node, &mut obs);
            self.meter.activate(h);
        }
        Ok(())
    }

    fn join(&mut self, h: Handle) -> Result<(), Error> {
        let pop = Arc::clone(&self.meter.population);
        let contact = self.meter.grid.nearest(pop.place(h));
        let node = Node::new(
            self.node_cfg,
            NodeRef::new(pop.id(h), h),
            self.estimator(h),
            node_seed(self.seed, h),
        )
        .map_err(|e| e.to_string())?;
        let dht = Dht::new(self.dht_cfg, node).map_err(|e| e.to_string())?;
        let now = self.net.now();
        self.meter.live_changed(now, 1);
        let (net, mut obs) = self.observe();
        net.insert(h, dht, &mut obs);
        net.call(h, 0, &mut obs, |d, now| {
            // A fresh node is idle: join cannot refuse it.
            let _ = d.join(now, contact);
        });
        Ok(())
    }

    fn crash(&mut self, h: Handle) {
        if let Some(d) = self.net.remove(h) {
            let now = self.net.now();
            self.meter.live_changed(now, -1);
            self.meter.deactivate(h);
            add_counters(&mut self.meter.departed, d.counters());
        }
    }

    /// Issues `op` on key number `key` at node `h`. Returns whether the node took it.
    fn issue(&mut self, h: Handle, op: Op, key: u32, value: Vec<u8>) -> bool {
        let truth = self.meter.keys[key as usize];
        let p = Pending {
            op,
            key,
            expect: truth.newest,
        };
        self.meter.calling = Some((h, p));
        self.meter.answered_in_call = false;
        let (net, mut obs) = self.observe();
        let r = net.call(h, 0, &mut obs, |d, now| match op {
            Op::Load | Op::Update => d.put(now, truth.key, value),
            Op::Remove => d.remove(now, truth.key),
            Op::Get => d.get(now, truth.key),
        });
        let in_call = self.meter.answered_in_call;
        self.meter.calling = None;
        match r {
            Some(Ok(id)) => {
                if !in_call {
                    self.meter.pending.insert((h, id.0), p);
                }
                true
            }
            _ => false,
        }
    }

    /// A random active node, if any.
    fn random_active(&self, r: &mut ChaCha8Rng) -> Option<Handle> {
        let a = &self.meter.active_list;
        (!a.is_empty()).then(|| a[r.random_range(0..a.len())])
    }

    /// Counts the operations still waiting: those of live nodes are unanswered, those of
    /// departed ones abandoned.
    fn close_pending(&mut self) {
        for ((h, _), p) in std::mem::take(&mut self.meter.pending) {
            let live = self.net.is_alive(h);
            match p.op {
                Op::Get if live => self.meter.gets.unanswered += 1,
                Op::Get => self.meter.gets.abandoned += 1,
                op => self.meter.writes(op).unanswered += 1,
            }
        }
    }

    /// The DHT counters of every node that took part.
    fn counters(&self) -> DhtCounters {
        let mut c = self.meter.departed;
        for (_, d) in self.net.peers() {
            add_counters(&mut c, d.counters());
        }
        c
    }

    /// The true replica set of `key`: the k active nodes closest to it.
    fn true_replicas(&self, key: Guid, k: usize) -> Vec<Handle> {
        let active = &self.meter.active;
        let above = active.range(key..).chain(active.iter()).take(k);
        let below = active.range(..key).rev().chain(active.iter().rev()).take(k);
        let mut near: Vec<(Guid, Handle)> = above.chain(below).map(|(g, h)| (*g, *h)).collect();
        near.sort_unstable_by_key(|x| x.0);
        near.dedup();
        near.sort_by(|a, b| {
            if a.0 == b.0 {
                std::cmp::Ordering::Equal
            } else if closer(&key, &a.0, &b.0) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        near.into_iter().take(k).map(|x| x.1).collect()
    }

    /// Reads the live nodes' stores against the keys' truth.
    fn end_state(&self, k: usize) -> EndState {
        let mut newest_held: HashMap<Guid, (Version, bool)> = HashMap::new();
        let mut total = 0usize;
        for (_, d) in self.net.peers() {
            for r in d.store().iter() {
                total += 1;
                let e = newest_held
                    .entry(r.key)
                    .or_insert((r.version, r.is_tombstone()));
                if r.version > e.0 {
                    *e = (r.version, r.is_tombstone());
                }
            }
        }
        let mut end = EndState::default();
        for t in &self.meter.keys {
            let Some(v) = t.newest else {
                continue;
            };
            let held = newest_held.get(&t.key);
            if t.removed {
                end.removed_keys += 1;
                if held.is_some_and(|&(h, tomb)| h < v && !tomb) {
                    end.removed_reappear += 1;
                }
                continue;
            }
            end.live_keys += 1;
            if held.is_none_or(|&(h, _)| h < v) {
                end.values_lost += 1;
                continue;
            }
            let copies = self
                .true_replicas(t.key, k)
                .into_iter()
                .filter(|&h| {
                    self.net
                        .peer(h)
                        .and_then(|d| d.store().version(t.key))
                        .is_some_and(|x| x >= v)
                })
                .count();
            end.under_replicated += u64::from(copies < k);
        }
        let counts: Vec<usize> = self
            .meter
            .active_list
            .iter()
            .filter_map(|&h| self.net.peer(h).map(|d| d.store().len()))
            .collect();
        end.active = counts.len();
        end.records_mean = counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64;
        end.records_max = counts.iter().copied().max().unwrap_or(0);
        end.records_max_over_mean = end.records_max as f64 / end.records_mean.max(1e-9);
        let written = self
            .meter
            .keys
            .iter()
            .filter(|t| t.newest.is_some())
            .count();
        end.copies_per_key = total as f64 / written.max(1) as f64;
        end
    }
}

fn add_counters(total: &mut DhtCounters, c: &DhtCounters) {
    for (a, b) in total.sent.iter_mut().zip(&c.sent) {
        *a += b;
    }
    for (a, b) in total.received.iter_mut().zip(&c.received) {
        *a += b;
    }
    total.maintenance_bytes += c.maintenance_bytes;
    total.rounds += c.rounds;
    total.handed_off += c.handed_off;
    total.collected += c.collected;
    total.refused_full += c.refused_full;
}

/// Runs the DHT experiment `spec` on the network `net`.
///
/// # Errors
/// A configuration the node or the DHT refuses (the error names it).
#[allow(clippy::too_many_lines)]
pub fn dht_run(net_spec: &DhtNet, spec: &DhtSpec) -> Result<DhtResult, Error> {
    let started = Instant::now();
    let k = spec.dht.replicas;
    let node_cfg = spec
        .dht
        .node_config(Maintenance::Protocol.node_config(net_spec.config));
    spec.dht
        .validate(&node_cfg)
        .map_err(|e| format!("DHT configuration: {e}"))?;
    let churn_end = micros(spec.duration_s);
    let end = churn_end + micros(spec.drain_s);
    let (changes, total) = churn_schedule(spec.session, spec.nodes, net_spec.seed, end);
    let pop = Arc::new(Population::random(net_spec.seed, total.max(1)));
    let mut ops = rng(net_spec.seed, Stream::Lookups);
    let keys: Vec<Guid> = (0..spec.keys).map(|_| random_guid(&mut ops)).collect();
    let mut host = Host::new(&pop, net_spec, node_cfg, spec.dht, keys);
    let progress = net_spec.progress;
    host.build(spec.nodes, &progress)?;
    progress.note(&format!(
        "built {} DHT nodes in {:.1} s",
        spec.nodes,
        started.elapsed().as_secs_f64()
    ));

    // Load: the puts, evenly spread, then until every one is answered.
    let load_from = host.net.now();
    let step = micros(spec.load_s) / (spec.keys.max(1) as u64);
    let bar = progress.bar("puts", spec.keys as u64);
    let mut written = 0u64;
    for key in 0..spec.keys {
        host.run_until(load_from + step * key as u64);
        if let Some(h) = host.random_active(&mut ops) {
            written += 1;
            let v = value(written, spec.value_bytes);
            if host.issue(h, Op::Load, u32::try_from(key)?, v) {
                host.meter.puts.issued += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let limit = host.net.now() + 600 * SECOND;
    {
        let (net, mut obs) = host.observe();
        net.run_while(limit, &mut obs, |_, o| o.meter.pending.is_empty());
    }
    let load_took_s = (host.net.now() - load_from) as f64 / 1e6;

    // Churn, gets and writes.
    let t0 = host.net.now();
    let traffic0 = host.net.traffic().clone();
    let node_time0 = host.meter.node_time(t0);
    let counters0 = host.counters();
    let mut next_get = t0 + gap(&mut ops, spec.get_rate);
    let mut next_write = t0 + gap(&mut ops, spec.write_rate);
    let mut changes = changes.into_iter().peekable();
    let (mut arrivals, mut departures) = (0usize, 0usize);
    let bar = progress.bar("simulated seconds", end.div_ceil(SECOND));
    let mut next_tick = t0 + SECOND;
    loop {
        let get_at = if next_get < t0 + churn_end {
            next_get
        } else {
            Time::MAX
        };
        let write_at = if next_write < t0 + churn_end {
            next_write
        } else {
            Time::MAX
        };
        let change_at = changes.peek().map_or(Time::MAX, |c| t0 + c.0);
        let at = get_at.min(write_at).min(change_at).min(next_tick);
        if at > t0 + end {
            break;
        }
        host.run_until(at);
        if at == next_tick {
            bar.set_position((at - t0) / SECOND);
            next_tick += SECOND;
        }
        if at == change_at {
            if let Some((_, join, h)) = changes.next() {
                if join {
                    host.join(h)?;
                    arrivals += 1;
                } else {
                    host.crash(h);
                    departures += 1;
                }
            }
        }
        if at == get_at {
            if let Some(h) = host.random_active(&mut ops) {
                let key = ops.random_range(0..spec.keys);
                if host.issue(h, Op::Get, u32::try_from(key)?, Vec::new()) {
                    host.meter.gets.issued += 1;
                }
            }
            next_get += gap(&mut ops, spec.get_rate);
        }
        if at == write_at {
            let key = ops.random_range(0..spec.keys);
            let remove = ops.random::<f64>() < spec.remove_share;
            if let Some(h) = host.random_active(&mut ops) {
                if !host.meter.keys[key].closed {
                    let op = if remove { Op::Remove } else { Op::Update };
                    written += 1;
                    let v = value(written, spec.value_bytes);
                    if host.issue(h, op, u32::try_from(key)?, v) {
                        host.meter.writes(op).issued += 1;
                        host.meter.keys[key].closed |= remove;
                    }
                }
            }
            next_write += gap(&mut ops, spec.write_rate);
        }
    }
    bar.finish_and_clear();
    host.run_until(t0 + end);
    host.close_pending();
    let now = host.net.now();
    let node_s = ((host.meter.node_time(now) - node_time0) as f64 / 1e6).max(1e-9);
    let traffic = host.net.traffic().since(&traffic0);
    let counters = host.counters();
    let end_state = host.end_state(k);
    let gets = host.meter.gets;
    Ok(DhtResult {
        spec: *spec,
        replicas: k,
        replication_period_s: spec.dht.replication_period.as_secs_f64(),
        loss: net_spec.loss,
        seed: net_spec.seed,
        puts: host.meter.puts,
        load_took_s,
        updates: host.meter.updates,
        removes: host.meter.removes,
        gets,
        newest_fraction: gets.newest_fraction(),
        arrivals,
        departures,
        mean_live: node_s / ((now - t0) as f64 / 1e6).max(1e-9),
        end: end_state,
        maintenance_bytes_per_node_s: (counters.maintenance_bytes - counters0.maintenance_bytes)
            as f64
            / node_s,
        all_bytes_per_node_s: traffic.bytes as f64 / node_s,
        rounds: counters.rounds - counters0.rounds,
        handed_off: counters.handed_off - counters0.handed_off,
        refused_full: counters.refused_full - counters0.refused_full,
        messages_lost: traffic.total_lost(),
        wall_s: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_churn_schedule_holds_the_size_and_every_departure_follows_its_join() {
        let session = Session::Exponential { mean_s: 600.0 };
        let end = micros(3600.0);
        let (changes, total) = churn_schedule(session, 500, 3, end);
        let mut live: HashMap<Handle, bool> = (0..500).map(|h| (handle(h), true)).collect();
        let mut size = 500i64;
        for &(t, join, h) in &changes {
            assert!(t < end);
            if join {
                assert!(live.insert(h, true).is_none(), "node {h} joins twice");
                size += 1;
            } else {
                assert_eq!(
                    live.insert(h, false),
                    Some(true),
                    "node {h} departs unjoined"
                );
                size -= 1;
            }
            assert!((350..650).contains(&size), "{size} nodes");
        }
        assert_eq!(total, live.len());
        assert!(changes.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn the_true_replicas_are_the_k_closest_active_nodes_around_the_ring() {
        let pop = Arc::new(Population::random(5, 40));
        let net = DhtNet {
            config: Config::PAPER,
            latency: Latency::WAN,
            loss: 0.0,
            seed: 5,
            progress: Progress::quiet(),
        };
        let cfg = DhtConfig::default();
        let node_cfg = cfg.node_config(NodeConfig::new(Config::PAPER));
        let mut host = Host::new(&pop, &net, node_cfg, cfg, Vec::new());
        for h in 0..40 {
            host.meter.activate(handle(h));
        }
        let mut r = rng(5, Stream::Lookups);
        for _ in 0..200 {
            let key = random_guid(&mut r);
            let got = host.true_replicas(key, 5);
            let mut all: Vec<Handle> = (0..40).map(handle).collect();
            all.sort_by(|a, b| {
                let (x, y) = (pop.id(*a), pop.id(*b));
                if closer(&key, &x, &y) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            });
            assert_eq!(got, all[..5].to_vec());
        }
    }
}
