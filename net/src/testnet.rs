//! A test network of many nodes in one process, joined over TCP on 127.0.0.1, and the
//! measurements `pastry testnet` reports: join time, lookups at the true root, latency
//! percentiles, messages per lookup, and, after killing some nodes, the time until every leaf
//! set is true again and the same measurements once more.
//!
//! Every node is a real swarm (its own identity, TCP listener, noise and yamux) in its own tokio
//! task; the harness talks to a node only through a command channel, as an application would.
//! The truth a lookup is checked against comes from the harness's global view: it knows every
//! live node's id, so it knows every key's root and every node's true leaf set.
//!
//! The same harness runs libp2p-kad ([`Engine::Kad`], see [`crate::kad`]) for a comparison on
//! the same machine in the same run: the same number of nodes, the same keys and origins.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::PeerId;
use pastry_kernel::{arith, Guid};
use pastry_node::{Kind, NodeConfig};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::{build_swarm, guid_of, Config, Event};
use pastry_dht::{DhtEvent, OpId};

/// Which overlay the test network runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Engine {
    /// Pastry ([`crate::Behaviour`]).
    Pastry,
    /// libp2p-kad with its defaults (and identify, so nodes learn each other's addresses).
    Kad,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The overlay.
    pub engine: Engine,
    /// Nodes.
    pub nodes: usize,
    /// Percentage of the nodes to kill after the first measurements (0: none).
    pub kill_percent: u32,
    /// Lookups in each measurement.
    pub lookups: usize,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Puts (each then read back by a get from another node).
    pub puts: usize,
    /// Joins in progress at once.
    pub join_parallelism: usize,
    /// Seeds keys, origins, identities and the nodes' random choices.
    pub seed: u64,
    /// The nodes' configuration (Pastry).
    pub node: NodeConfig,
    /// Longest wait for the network to settle (all joined, leaf sets true).
    pub settle_timeout: Duration,
    /// Show progress bars on the terminal.
    pub progress: bool,
}

impl Options {
    /// `nodes` Pastry nodes with the [test timers](test_node_config), 1,000 lookups, 16 in
    /// flight, 200 puts and gets, one join at a time, no kill.
    #[must_use]
    pub fn new(nodes: usize) -> Self {
        Options {
            engine: Engine::Pastry,
            nodes,
            kill_percent: 0,
            lookups: 1000,
            concurrency: 16,
            puts: 200,
            join_parallelism: 1,
            seed: 1,
            node: test_node_config(),
            settle_timeout: Duration::from_secs(120),
            progress: false,
        }
    }
}

/// The node configuration of the test network: the protocol's defaults with the heartbeat
/// period shortened from 20 s to 2 s, so that failures are detected in seconds, and the least
/// hop timeout raised from 50 ms to 1 s (RFC 6298's floor for TCP). Up to a hundred nodes share
/// two cores in one process, so an acknowledgement can wait hundreds of milliseconds for a
/// turn on a core: with the 50 ms floor, measured runs of 100 nodes saw hop timeouts of live
/// next hops and 2 lookups in 1,000 re-routed away from their root and delivered elsewhere.
/// The probe timeout keeps its default (1 s, doubling over 3 attempts) for the same reason.
#[must_use]
pub fn test_node_config() -> NodeConfig {
    let mut c = NodeConfig::default();
    c.heartbeat = Duration::from_secs(2);
    c.rto_min = Duration::from_secs(1);
    c
}

/// The longest time a node takes to declare a silent leaf-set neighbour failed under `c`: the
/// neighbour's silence is noticed at a heartbeat tick once it exceeds `T_ls + T_o` (so at most
/// `2 T_ls + T_o` after it stopped), and the probes then take `T_o (2^attempts − 1)`.
#[must_use]
pub fn detection_bound(c: &NodeConfig) -> Duration {
    let probes = c.probe_timeout * ((1u32 << c.probe_attempts.min(16)) - 1);
    c.heartbeat * 2 + c.probe_timeout + probes
}

/// The allowance for repair after the first detection: the other leaf-set members of the
/// failed node hear of it in the detecting node's heartbeat and probe it themselves before they
/// forget it (`T_o (2^attempts − 1)` again), and a hole that the first repair request did not
/// close is asked again at the next heartbeat tick (`T_ls`).
#[must_use]
pub fn repair_allowance(c: &NodeConfig) -> Duration {
    let probes = c.probe_timeout * ((1u32 << c.probe_attempts.min(16)) - 1);
    c.heartbeat + probes
}

/// One measurement of lookups.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LookupReport {
    /// Lookups made.
    pub lookups: usize,
    /// Lookups answered by the key's true root.
    pub at_root: usize,
    /// Lookups answered by another node.
    pub wrong_root: usize,
    /// Lookups that failed or timed out.
    pub failed: usize,
    /// Median latency in milliseconds (call to answer at the origin).
    pub p50_ms: f64,
    /// 99th-percentile latency in milliseconds.
    pub p99_ms: f64,
    /// Mean overlay hops to the root (Pastry).
    pub mean_hops: Option<f64>,
    /// Requests sent per lookup: Pastry's routed messages (the hops, the root's answer and
    /// any re-routes); kad's `FIND_NODE` requests.
    pub requests_per_lookup: f64,
    /// Routed messages re-sent to another next hop after a hop timeout (Pastry).
    pub reroutes: Option<u64>,
    /// Wall-clock seconds the measurement took.
    pub seconds: f64,
}

impl LookupReport {
    /// The share of lookups answered by the true root, in percent.
    #[must_use]
    pub fn at_root_percent(&self) -> f64 {
        percent(self.at_root, self.lookups)
    }
}

/// One measurement of the DHT: puts, then a get of every key from another node.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DhtReport {
    /// Puts made.
    pub puts: usize,
    /// Puts that succeeded.
    pub puts_ok: usize,
    /// Gets made.
    pub gets: usize,
    /// Gets that returned the value put.
    pub gets_correct: usize,
    /// Median put latency in milliseconds.
    pub put_p50_ms: f64,
    /// Median get latency in milliseconds.
    pub get_p50_ms: f64,
    /// 99th-percentile get latency in milliseconds.
    pub get_p99_ms: f64,
}

impl DhtReport {
    /// The share of gets that returned the value, in percent.
    #[must_use]
    pub fn gets_correct_percent(&self) -> f64 {
        percent(self.gets_correct, self.gets)
    }
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The overlay.
    pub engine: Engine,
    /// Nodes started.
    pub nodes: usize,
    /// Nodes that joined.
    pub joined: usize,
    /// Seconds from the first join to the last activation.
    pub join_seconds: f64,
    /// Median seconds one join took.
    pub join_p50_s: f64,
    /// 99th-percentile seconds one join took.
    pub join_p99_s: f64,
    /// Seconds after the last activation until every leaf set was true (Pastry).
    pub converge_seconds: Option<f64>,
    /// Leaf sets that were not true when the measurement began (Pastry).
    pub wrong_leaf_sets_before: Option<usize>,
    /// Lookups before the kill.
    pub before: LookupReport,
    /// Nodes killed.
    pub killed: usize,
    /// Seconds from the kill until every live node's leaf set was true again (Pastry; `None`
    /// if it did not happen within the settle timeout).
    pub repair_seconds: Option<f64>,
    /// The configured detection bound plus repair allowance, in seconds (Pastry).
    pub repair_bound_seconds: Option<f64>,
    /// Leaf sets that were not true when the second measurement began (Pastry).
    pub wrong_leaf_sets_after: Option<usize>,
    /// Lookups after the kill and repair.
    pub after: Option<LookupReport>,
    /// Puts, and gets of every key from another node, before the kill.
    pub dht_before: DhtReport,
    /// Gets of the same keys after the kill and repair.
    pub dht_after: Option<DhtReport>,
    /// Peers cut off by the host (bad frames, malformed or spoofed messages), over all nodes.
    pub cut_off: u64,
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let p = 100.0 * a as f64 / b as f64;
    p
}

/// The value at quantile `q` of sorted `v` (nearest rank); 0 for an empty slice.
#[must_use]
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The harness's seeded generator (the project's one).
pub use pastry_kernel::seeded::SplitMix as Rng;

/// What one lookup gave, as the harness sees it.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// The node that answered, if any.
    pub root: Option<PeerId>,
    /// Overlay hops (Pastry).
    pub hops: Option<u8>,
    /// Requests the lookup took, when the engine reports them per lookup (kad).
    pub requests: Option<u32>,
}

/// A command to one node's task.
pub(crate) enum Cmd {
    Join {
        bootstrap: Option<(PeerId, SocketAddr)>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Lookup {
        key: Guid,
        reply: oneshot::Sender<Outcome>,
    },
    /// Whether the put succeeded.
    Put {
        key: Guid,
        value: Vec<u8>,
        reply: oneshot::Sender<bool>,
    },
    /// The value found (`Some(None)`: none), or `None` when the get failed.
    Get {
        key: Guid,
        reply: oneshot::Sender<Option<Option<Vec<u8>>>>,
    },
    Snapshot(oneshot::Sender<Snapshot>),
}

/// A node's state as the harness reads it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    pub active: bool,
    pub successors: Vec<Guid>,
    pub predecessors: Vec<Guid>,
    pub routed_sent: u64,
    pub retries: u64,
    pub net: crate::NetCounters,
}

/// One node as the harness holds it.
pub(crate) struct Member {
    pub peer: PeerId,
    pub guid: Guid,
    pub addr: SocketAddr,
    pub tx: mpsc::UnboundedSender<Cmd>,
    pub task: JoinHandle<()>,
}

impl Member {
    async fn ask<T>(&self, f: impl FnOnce(oneshot::Sender<T>) -> Cmd) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(f(tx)).ok()?;
        rx.await.ok()
    }
}

/// The deterministic identity of node `i` of a run seeded by `seed`.
#[must_use]
pub fn keypair(seed: u64, i: usize) -> Keypair {
    let mut rng = Rng::new(seed ^ 0x5eed_0000_0000_0000 ^ (i as u64).wrapping_mul(0x9e37_79b9));
    let mut secret = [0u8; 32];
    for chunk in secret.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_be_bytes());
    }
    Keypair::ed25519_from_bytes(secret).unwrap_or_else(|_| Keypair::generate_ed25519())
}

/// Starts one Pastry node's task listening on 127.0.0.1 (a free port); returns it once it
/// listens.
async fn spawn_pastry(keypair: Keypair, cfg: Config) -> Result<Member, String> {
    let peer = keypair.public().to_peer_id();
    let mut swarm = build_swarm(keypair, cfg).map_err(|e| e.to_string())?;
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().map_err(|_| "address")?)
        .map_err(|e| e.to_string())?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            if let Some(a) = crate::multiaddr_socket(&address) {
                break a;
            }
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
    let task = tokio::spawn(async move {
        let mut lookups: BTreeMap<u64, oneshot::Sender<Outcome>> = BTreeMap::new();
        let mut puts: BTreeMap<OpId, oneshot::Sender<bool>> = BTreeMap::new();
        let mut gets: BTreeMap<OpId, oneshot::Sender<Option<Option<Vec<u8>>>>> = BTreeMap::new();
        let mut joining: Option<oneshot::Sender<Result<(), String>>> = None;
        loop {
            tokio::select! {
                ev = swarm.select_next_some() => match ev {
                    SwarmEvent::Behaviour(Event::LookupDone { seq, result, .. }) => {
                        if let Some(reply) = lookups.remove(&seq) {
                            let outcome = match result {
                                Ok(a) => Outcome { root: Some(a.root.handle.peer()), hops: Some(a.hops), requests: None },
                                Err(_) => Outcome { root: None, hops: None, requests: None },
                            };
                            let _ = reply.send(outcome);
                        }
                    }
                    SwarmEvent::Behaviour(Event::Dht(e)) => match e {
                        DhtEvent::PutDone { op, .. } => {
                            if let Some(r) = puts.remove(&op) { let _ = r.send(true); }
                        }
                        DhtEvent::GetDone { op, value, .. } => {
                            if let Some(r) = gets.remove(&op) { let _ = r.send(Some(value)); }
                        }
                        DhtEvent::Failed { op, .. } => {
                            if let Some(r) = puts.remove(&op) { let _ = r.send(false); }
                            if let Some(r) = gets.remove(&op) { let _ = r.send(None); }
                        }
                        _ => {}
                    },
                    SwarmEvent::Behaviour(Event::Node(pastry_node::Event::Activated { .. })) => {
                        if let Some(d) = joining.take() {
                            let _ = d.send(Ok(()));
                        }
                    }
                    SwarmEvent::Behaviour(Event::Node(pastry_node::Event::JoinFailed)) => {
                        if let Some(d) = joining.take() {
                            let _ = d.send(Err("every join attempt failed".into()));
                        }
                    }
                    SwarmEvent::Behaviour(Event::Node(pastry_node::Event::Failed { node })) => {
                        tracing::debug!(at = %addr, failed = %node.handle, "declared failed");
                    }
                    SwarmEvent::Behaviour(Event::Node(pastry_node::Event::Update { node, joined })) => {
                        tracing::trace!(at = %addr, node = %node.handle, joined, "leaf set changed");
                    }
                    SwarmEvent::Behaviour(Event::BootstrapFailed { error, .. }) => {
                        if let Some(d) = joining.take() {
                            let _ = d.send(Err(error));
                        }
                    }
                    _ => {}
                },
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Cmd::Join { bootstrap, done }) => {
                        let b = swarm.behaviour_mut();
                        let r = match bootstrap {
                            None => b.join(addr, None),
                            Some((p, a)) => match crate::PeerHandle::new(p, a) {
                                Ok(h) => b.join_through(addr, h),
                                Err(e) => { let _ = done.send(Err(e.to_string())); continue; }
                            },
                        };
                        match r {
                            Err(e) => { let _ = done.send(Err(e.to_string())); }
                            Ok(()) if b.is_active() => { let _ = done.send(Ok(())); }
                            Ok(()) => joining = Some(done),
                        }
                    }
                    Some(Cmd::Lookup { key, reply }) => {
                        match swarm.behaviour_mut().lookup(key, b"") {
                            Ok(seq) => { lookups.insert(seq, reply); }
                            Err(_) => { let _ = reply.send(Outcome { root: None, hops: None, requests: None }); }
                        }
                    }
                    Some(Cmd::Put { key, value, reply }) => {
                        match swarm.behaviour_mut().put(key, value) {
                            Ok(op) => { puts.insert(op, reply); }
                            Err(_) => { let _ = reply.send(false); }
                        }
                    }
                    Some(Cmd::Get { key, reply }) => {
                        match swarm.behaviour_mut().get(key) {
                            Ok(op) => { gets.insert(op, reply); }
                            Err(_) => { let _ = reply.send(None); }
                        }
                    }
                    Some(Cmd::Snapshot(reply)) => {
                        let b = swarm.behaviour();
                        let mut s = Snapshot { net: *b.counters(), ..Snapshot::default() };
                        if let Some(n) = b.node() {
                            s.active = n.is_active();
                            let leaf = n.state().leaf_set();
                            s.successors = leaf.successors().iter().map(|m| m.id).collect();
                            s.predecessors = leaf.predecessors().iter().map(|m| m.id).collect();
                            s.routed_sent = n.counters().sent.get(Kind::Route);
                            s.retries = n.counters().retries;
                        }
                        let _ = reply.send(s);
                    }
                },
            }
        }
    });
    Ok(Member {
        peer,
        guid: guid_of(&peer),
        addr,
        tx,
        task,
    })
}

/// A running test network: its members (`None` once killed) and the engine.
pub struct Testnet {
    engine: Engine,
    members: Vec<Option<Member>>,
    half: usize,
}

impl Testnet {
    fn live(&self) -> impl Iterator<Item = &Member> + '_ {
        self.members.iter().flatten()
    }

    /// Starts `opts.nodes` nodes and joins them, `opts.join_parallelism` at a time, each
    /// through a random node that has joined already; returns the network, the seconds the
    /// joins took, and each join's seconds.
    ///
    /// # Errors
    /// A node could not be started or could not join within `opts.settle_timeout`.
    pub async fn start(opts: &Options, rng: &mut Rng) -> Result<(Testnet, f64, Vec<f64>), String> {
        start(opts, rng).await
    }

    /// The address node `i` listens on, unless it was killed.
    #[must_use]
    pub fn addr(&self, i: usize) -> Option<SocketAddr> {
        self.members.get(i)?.as_ref().map(|m| m.addr)
    }

    /// Node `i`'s host counters, unless it was killed.
    pub async fn counters(&self, i: usize) -> Option<crate::NetCounters> {
        let m = self.members.get(i)?.as_ref()?;
        m.ask(Cmd::Snapshot).await.map(|s| s.net)
    }

    /// The live node that is the true answer for `key`, excluding `origin` for kad (whose
    /// lookups never return the local node).
    fn truth(&self, key: Guid, origin: PeerId) -> Option<PeerId> {
        match self.engine {
            Engine::Pastry => {
                let mut best: Option<&Member> = None;
                for m in self.live() {
                    if best.is_none_or(|b| arith::closer(&key, &m.guid, &b.guid)) {
                        best = Some(m);
                    }
                }
                best.map(|m| m.peer)
            }
            Engine::Kad => {
                let target = crate::kad::key_of(key);
                self.live()
                    .filter(|m| m.peer != origin)
                    .min_by_key(|m| target.distance(&libp2p::kad::KBucketKey::from(m.peer)))
                    .map(|m| m.peer)
            }
        }
    }

    async fn snapshots(&self) -> Vec<Snapshot> {
        let mut out = Vec::new();
        for m in self.live() {
            out.push(m.ask(Cmd::Snapshot).await.unwrap_or_default());
        }
        out
    }

    /// The number of live nodes whose leaf set is not the true one among the live nodes
    /// (Pastry).
    pub async fn wrong_leaf_sets(&self) -> usize {
        let half = self.half;
        let ids: Vec<Guid> = self.live().map(|m| m.guid).collect();
        let snaps = self.snapshots().await;
        self.live()
            .zip(snaps)
            .filter(|(m, s)| {
                let (succ, pred) = pastry_node::testnet::true_leaf_set(m.guid, &ids, half);
                let wrong = !s.active || s.successors != succ || s.predecessors != pred;
                if wrong {
                    let missing: Vec<Guid> = succ
                        .iter()
                        .chain(&pred)
                        .filter(|g| !s.successors.contains(g) && !s.predecessors.contains(g))
                        .copied()
                        .collect();
                    let extra: Vec<Guid> = s
                        .successors
                        .iter()
                        .chain(&s.predecessors)
                        .filter(|g| !succ.contains(g) && !pred.contains(g))
                        .copied()
                        .collect();
                    tracing::debug!(node = %m.guid, active = s.active, ?missing, ?extra, "leaf set not true");
                }
                wrong
            })
            .count()
    }

    /// Routed messages sent and re-routes after hop timeouts, over the live nodes.
    async fn routed_sent(&self) -> (u64, u64) {
        let s = self.snapshots().await;
        (
            s.iter().map(|s| s.routed_sent).sum(),
            s.iter().map(|s| s.retries).sum(),
        )
    }

    /// Polls until every leaf set is true or `timeout` passes; the time it took (Pastry).
    pub async fn wait_leaf_sets(&self, timeout: Duration) -> Option<Duration> {
        let start = Instant::now();
        loop {
            if self.wrong_leaf_sets().await == 0 {
                return Some(start.elapsed());
            }
            if start.elapsed() > timeout {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the members in `victims`: their swarms are dropped with their tasks, so their
    /// sockets close (a crash, not a graceful leave).
    pub async fn kill(&mut self, victims: &[usize]) {
        for &i in victims {
            if let Some(m) = self.members.get_mut(i).and_then(Option::take) {
                m.task.abort();
                let _ = m.task.await;
            }
        }
    }

    /// Stops every node.
    pub async fn stop(&mut self) {
        let all: Vec<usize> = (0..self.members.len()).collect();
        self.kill(&all).await;
    }

    /// With `put`, stores every record from a random live node; then gets every key from a
    /// random live node (another than the one that put it), `concurrency` at a time, and
    /// counts the gets that return the value.
    pub async fn puts_and_gets(
        &self,
        rng: &mut Rng,
        records: &[(Guid, Vec<u8>)],
        put: bool,
        concurrency: usize,
        bar: &ProgressBar,
    ) -> DhtReport {
        let live: Vec<&Member> = self.live().collect();
        let mut report = DhtReport::default();
        let mut put_by = vec![usize::MAX; records.len()];
        bar.set_length((records.len() * if put { 2 } else { 1 }) as u64);
        bar.set_position(0);
        if put {
            let mut lat = Vec::new();
            let mut in_flight = FuturesUnordered::new();
            for (i, (key, value)) in records.iter().enumerate() {
                if in_flight.len() >= concurrency.max(1) {
                    if let Some((ok, took)) = in_flight.next().await {
                        report.puts_ok += usize::from(ok);
                        lat.push(took);
                        bar.inc(1);
                    }
                }
                let o = rng.below(live.len());
                put_by[i] = o;
                let (tx, rx) = oneshot::channel();
                let sent = live[o]
                    .tx
                    .send(Cmd::Put {
                        key: *key,
                        value: value.clone(),
                        reply: tx,
                    })
                    .is_ok();
                let t0 = Instant::now();
                in_flight.push(async move {
                    let ok = sent && rx.await.unwrap_or(false);
                    (ok, t0.elapsed().as_secs_f64() * 1000.0)
                });
                report.puts += 1;
            }
            while let Some((ok, took)) = in_flight.next().await {
                report.puts_ok += usize::from(ok);
                lat.push(took);
                bar.inc(1);
            }
            lat.sort_by(f64::total_cmp);
            report.put_p50_ms = quantile(&lat, 0.5);
        }
        let mut lat = Vec::new();
        let mut in_flight = FuturesUnordered::new();
        for (i, (key, value)) in records.iter().enumerate() {
            if in_flight.len() >= concurrency.max(1) {
                if let Some((ok, took)) = in_flight.next().await {
                    report.gets_correct += usize::from(ok);
                    lat.push(took);
                    bar.inc(1);
                }
            }
            let mut o = rng.below(live.len());
            if live.len() > 1 && o == put_by[i] {
                o = (o + 1) % live.len();
            }
            let (tx, rx) = oneshot::channel();
            let sent = live[o]
                .tx
                .send(Cmd::Get {
                    key: *key,
                    reply: tx,
                })
                .is_ok();
            let want = value.clone();
            let t0 = Instant::now();
            let key = *key;
            in_flight.push(async move {
                let got = if sent { rx.await.ok().flatten() } else { None };
                let ok = got.as_ref().is_some_and(|v| v.as_ref() == Some(&want));
                if !ok {
                    tracing::warn!(%key, ?got, "get did not return the value put");
                }
                (ok, t0.elapsed().as_secs_f64() * 1000.0)
            });
            report.gets += 1;
        }
        while let Some((ok, took)) = in_flight.next().await {
            report.gets_correct += usize::from(ok);
            lat.push(took);
            bar.inc(1);
        }
        lat.sort_by(f64::total_cmp);
        report.get_p50_ms = quantile(&lat, 0.5);
        report.get_p99_ms = quantile(&lat, 0.99);
        report
    }

    /// Runs `n` lookups from random live origins to random keys, `concurrency` at a time,
    /// each checked against the true answer among the live nodes.
    pub async fn lookups(
        &self,
        rng: &mut Rng,
        n: usize,
        concurrency: usize,
        bar: &ProgressBar,
    ) -> LookupReport {
        let live: Vec<&Member> = self.live().collect();
        let before = match self.engine {
            Engine::Pastry => self.routed_sent().await,
            Engine::Kad => (0, 0),
        };
        let start = Instant::now();
        let mut report = LookupReport {
            lookups: n,
            ..LookupReport::default()
        };
        let mut latencies = Vec::with_capacity(n);
        let mut hops = Vec::new();
        let mut requests: u64 = 0;
        let mut in_flight = FuturesUnordered::new();
        let mut issued = 0;
        bar.set_length(n as u64);
        bar.set_position(0);
        while issued < n || !in_flight.is_empty() {
            while issued < n && in_flight.len() < concurrency.max(1) {
                let origin = live[rng.below(live.len())];
                let key = rng.guid();
                let truth = self.truth(key, origin.peer);
                let (tx, rx) = oneshot::channel();
                let sent = origin.tx.send(Cmd::Lookup { key, reply: tx }).is_ok();
                let t0 = Instant::now();
                in_flight.push(async move {
                    let outcome = if sent { rx.await.ok() } else { None };
                    (outcome, truth, t0.elapsed(), key, origin.peer)
                });
                issued += 1;
            }
            if let Some((outcome, truth, took, key, from)) = in_flight.next().await {
                bar.inc(1);
                match outcome {
                    Some(Outcome {
                        root: Some(r),
                        hops: h,
                        requests: q,
                    }) => {
                        if Some(r) == truth {
                            report.at_root += 1;
                        } else {
                            report.wrong_root += 1;
                            tracing::warn!(%key, %from, got = %r, want = ?truth, "lookup answered by another node than the root");
                        }
                        latencies.push(took.as_secs_f64() * 1000.0);
                        if let Some(h) = h {
                            hops.push(f64::from(h));
                        }
                        requests += u64::from(q.unwrap_or(0));
                    }
                    _ => report.failed += 1,
                }
            }
        }
        report.seconds = start.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        report.p50_ms = quantile(&latencies, 0.5);
        report.p99_ms = quantile(&latencies, 0.99);
        if !hops.is_empty() {
            #[allow(clippy::cast_precision_loss)]
            let mean = hops.iter().sum::<f64>() / hops.len() as f64;
            report.mean_hops = Some(mean);
        }
        if self.engine == Engine::Pastry {
            let (sent, retries) = self.routed_sent().await;
            requests = sent.saturating_sub(before.0);
            report.reroutes = Some(retries.saturating_sub(before.1));
        }
        #[allow(clippy::cast_precision_loss)]
        let per = if n == 0 {
            0.0
        } else {
            requests as f64 / n as f64
        };
        report.requests_per_lookup = per;
        report
    }
}

fn bar(progress: bool, what: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(0);
    b.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(what.to_string());
    b
}

/// Starts `opts.nodes` nodes and joins them, `opts.join_parallelism` at a time, each through a
/// random node that has joined already. Returns the network and (join seconds, per-join
/// durations).
async fn start(opts: &Options, rng: &mut Rng) -> Result<(Testnet, f64, Vec<f64>), String> {
    let mut members = Vec::with_capacity(opts.nodes);
    let cfg = Config {
        seed: opts.seed,
        ..Config::with_node(opts.node)
    };
    for i in 0..opts.nodes {
        let kp = keypair(opts.seed, i);
        let m = match opts.engine {
            Engine::Pastry => spawn_pastry(kp, cfg).await?,
            Engine::Kad => crate::kad::spawn(kp).await?,
        };
        members.push(Some(m));
    }
    let net = Testnet {
        engine: opts.engine,
        members,
        half: opts.node.routing.leaf_set_half(),
    };
    let bar = bar(opts.progress, "joining");
    bar.set_length(opts.nodes as u64);
    let start = Instant::now();
    let mut joined: Vec<usize> = Vec::new();
    let mut durations = Vec::new();
    let mut pending = FuturesUnordered::new();
    let mut next = 0;
    while next < opts.nodes || !pending.is_empty() {
        let parallel = if joined.is_empty() {
            1
        } else {
            opts.join_parallelism.max(1)
        };
        while next < opts.nodes && pending.len() < parallel {
            let bootstrap = if joined.is_empty() {
                None
            } else {
                let c = joined[rng.below(joined.len())];
                net.members[c].as_ref().map(|m| (m.peer, m.addr))
            };
            let (tx, rx) = oneshot::channel();
            let m = net.members[next].as_ref().ok_or("member")?;
            m.tx.send(Cmd::Join {
                bootstrap,
                done: tx,
            })
            .map_err(|_| "node task ended")?;
            let i = next;
            let t0 = Instant::now();
            let limit = opts.settle_timeout;
            pending.push(async move {
                let r = tokio::time::timeout(limit, rx).await;
                (i, r, t0.elapsed())
            });
            next += 1;
        }
        if let Some((i, r, took)) = pending.next().await {
            match r {
                Ok(Ok(Ok(()))) => {
                    joined.push(i);
                    durations.push(took.as_secs_f64());
                    bar.inc(1);
                    tracing::debug!(node = i, seconds = took.as_secs_f64(), "joined");
                }
                Ok(Ok(Err(e))) => return Err(format!("node {i} could not join: {e}")),
                Ok(Err(_)) => return Err(format!("node {i} stopped while joining")),
                Err(_) => {
                    return Err(format!(
                        "node {i} did not join within {:?}",
                        opts.settle_timeout
                    ))
                }
            }
        }
    }
    bar.finish_and_clear();
    Ok((net, start.elapsed().as_secs_f64(), durations))
}

/// Runs the whole test network as `opts` says and reports.
///
/// # Errors
/// A node could not be started or could not join.
pub async fn run(opts: &Options) -> Result<Report, String> {
    let mut rng = Rng::new(opts.seed);
    let (mut net, join_seconds, mut durations) = start(opts, &mut rng).await?;
    durations.sort_by(f64::total_cmp);
    tracing::info!(nodes = opts.nodes, seconds = join_seconds, "all joined");
    let mut report = Report {
        engine: opts.engine,
        nodes: opts.nodes,
        joined: durations.len(),
        join_seconds,
        join_p50_s: quantile(&durations, 0.5),
        join_p99_s: quantile(&durations, 0.99),
        converge_seconds: None,
        wrong_leaf_sets_before: None,
        before: LookupReport::default(),
        killed: 0,
        repair_seconds: None,
        repair_bound_seconds: None,
        wrong_leaf_sets_after: None,
        after: None,
        dht_before: DhtReport::default(),
        dht_after: None,
        cut_off: 0,
    };
    if opts.engine == Engine::Pastry {
        report.converge_seconds = net
            .wait_leaf_sets(opts.settle_timeout)
            .await
            .map(|d| d.as_secs_f64());
        report.wrong_leaf_sets_before = Some(net.wrong_leaf_sets().await);
        tracing::info!(seconds = ?report.converge_seconds, wrong = ?report.wrong_leaf_sets_before, "leaf sets checked");
    }
    let b = bar(opts.progress, "lookups");
    report.before = net
        .lookups(&mut rng, opts.lookups, opts.concurrency, &b)
        .await;
    b.finish_and_clear();
    let records: Vec<(Guid, Vec<u8>)> = (0..opts.puts)
        .map(|i| {
            let k = rng.guid();
            (k, format!("value {i} of {k}").into_bytes())
        })
        .collect();
    let b = bar(opts.progress, "puts, gets");
    report.dht_before = net
        .puts_and_gets(&mut rng, &records, true, opts.concurrency, &b)
        .await;
    b.finish_and_clear();
    let kill = (opts.nodes * opts.kill_percent as usize + 50) / 100;
    if kill > 0 && kill < opts.nodes {
        let mut alive: Vec<usize> = (0..opts.nodes).collect();
        let mut victims = Vec::new();
        for _ in 0..kill {
            victims.push(alive.swap_remove(rng.below(alive.len())));
        }
        net.kill(&victims).await;
        let killed_at = Instant::now();
        tracing::info!(?victims, "killed");
        report.killed = kill;
        if opts.engine == Engine::Pastry {
            let bound = detection_bound(&opts.node) + repair_allowance(&opts.node);
            report.repair_bound_seconds = Some(bound.as_secs_f64());
            report.repair_seconds = net
                .wait_leaf_sets(opts.settle_timeout)
                .await
                .map(|_| killed_at.elapsed().as_secs_f64());
            report.wrong_leaf_sets_after = Some(net.wrong_leaf_sets().await);
            tracing::info!(seconds = ?report.repair_seconds, wrong = ?report.wrong_leaf_sets_after, "leaf sets checked after the kill");
        } else {
            // kad has no repair to wait for: it finds dead peers when it asks them. It gets the
            // same wait as Pastry's bound before it is measured again.
            let bound = detection_bound(&opts.node) + repair_allowance(&opts.node);
            tokio::time::sleep(bound).await;
        }
        let b = bar(opts.progress, "lookups");
        report.after = Some(
            net.lookups(&mut rng, opts.lookups, opts.concurrency, &b)
                .await,
        );
        b.finish_and_clear();
        let b = bar(opts.progress, "gets");
        report.dht_after = Some(
            net.puts_and_gets(&mut rng, &records, false, opts.concurrency, &b)
                .await,
        );
        b.finish_and_clear();
    }
    report.cut_off = net.snapshots().await.iter().map(|s| s.net.cut_off).sum();
    net.stop().await;
    Ok(report)
}
