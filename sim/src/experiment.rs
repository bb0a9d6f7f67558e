//! The paper's experiments through messages: building a network, lookups over it and their
//! statistics, figures 4 to 7 and 10.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pastry_kernel::{Config, Guid};
use pastry_node::{Kind, NodeConfig, Time};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::Traffic;
use crate::model::{log_base, random_guid, Handle, Latency, Population};
use crate::overlay::{NetSpec, Outcome, Overlay, SECOND};
use crate::paper;
use crate::progress::Progress;

/// Independent random streams, one per purpose, all from the run's seed: changing how many
/// lookups run does not change the network, and so on. (Stream 1 draws the nodes,
/// [`Population::random`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Lookup sources and keys.
    Lookups = 3,
    /// Which nodes fail.
    Failures = 4,
    /// Churn: arrivals and session times.
    Churn = 5,
}

/// The seeded generator of one purpose.
#[must_use]
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream as u64);
    r
}

/// The error of an experiment.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How the network is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Build {
    /// Nodes join one at a time through the protocol's join, each through the active node
    /// nearest to it in the plane; the next join starts when the last one is active and every
    /// message it led to has been handled.
    Join,
    /// Every state from global knowledge (`NodeState::from_ring`), every node active at once;
    /// the protocol runs from there.
    Oracle {
        /// Candidates offered per routing-table slot; the nearest is kept. `None`:
        /// [`Build::default_candidates`].
        candidates_per_slot: Option<usize>,
    },
}

impl Build {
    /// A short name for tables.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Build::Join => "join",
            Build::Oracle { .. } => "oracle",
        }
    }

    /// The oracle build's default candidates per slot for `n` nodes: 16 up to 200,000 nodes
    /// (close to the proximity-best table), 2 above (to keep the largest builds fast).
    #[must_use]
    pub fn default_candidates(n: usize) -> usize {
        if n <= 200_000 {
            16
        } else {
            2
        }
    }
}

/// Which periodic maintenance the nodes run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Maintenance {
    /// The protocol's defaults (`NodeConfig::default`: heartbeats every 20 s, row maintenance
    /// every 15 min, probe timeout 1 s, hop timeouts from 1 s within 50 ms..10 s, 10 retries).
    Protocol,
    /// Heartbeats and row maintenance once a year: for the paper's static experiments, where
    /// no node fails and the tables measured are to be those the joins built (row maintenance
    /// would improve them beyond the paper's protocol). Everything else as the defaults.
    Idle,
}

impl Maintenance {
    /// The node configuration for the routing parameters `routing`.
    #[must_use]
    pub fn node_config(self, routing: Config) -> NodeConfig {
        let mut c = NodeConfig::new(routing);
        if self == Maintenance::Idle {
            let year = Duration::from_secs(365 * 24 * 3600);
            c.heartbeat = year;
            c.row_maintenance = year;
        }
        c
    }
}

/// How nodes choose next hops for lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Routing {
    /// Pastry's routing: leaf set, routing table, rare case.
    Pastry,
    /// The leaf set alone ("circular routing"): correct but about N / L hops.
    LeafSet,
}

impl Routing {
    /// A short name for tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Routing::Pastry => "routing table",
            Routing::LeafSet => "leaf set alone",
        }
    }
}

/// What every experiment needs: parameters, seed, how to build, the network, progress.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// b, L, |M|.
    pub config: Config,
    /// The seed of every random choice.
    pub seed: u64,
    /// How to build the network.
    pub build: Build,
    /// One-way latency from the plane.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// How lookups are routed.
    pub routing: Routing,
    /// Progress bars.
    pub progress: Progress,
}

/// What building a network cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BuildReport {
    /// Nodes.
    pub nodes: usize,
    /// How.
    pub build: Build,
    /// Simulated seconds at the end of the build (from the first join; a join build grown
    /// through several sizes counts the lookups of the smaller sizes too).
    pub simulated_s: f64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Messages sent per join, by kind name (join build only).
    pub messages_per_join: Vec<(String, f64)>,
    /// All messages per join (join build only).
    pub total_per_join: f64,
    /// Mean join time in milliseconds: from the join call to activation (join build only).
    pub mean_join_ms: f64,
    /// Heap bytes of the kernel states.
    pub state_bytes: usize,
}

impl Setup {
    /// The network's parameters.
    #[must_use]
    pub fn net_spec(&self) -> NetSpec {
        NetSpec {
            latency: self.latency,
            loss: self.loss,
            seed: self.seed,
        }
    }

    /// An overlay over `population` whose first `n` nodes are built (by joins one at a time, or
    /// from global knowledge) with `maintenance`; the others are left for later.
    ///
    /// # Errors
    /// A join that did not finish within 10 simulated minutes, or a refused configuration.
    pub fn overlay_of(
        &self,
        population: Arc<Population>,
        n: usize,
        maintenance: Maintenance,
    ) -> Result<(Overlay, BuildReport), Error> {
        let started = Instant::now();
        let mut node_config = maintenance.node_config(self.config);
        node_config.leaf_set_routing = self.routing == Routing::LeafSet;
        let mut o = Overlay::new(population, self.net_spec(), node_config);
        match self.build {
            Build::Join => self.grow(&mut o, 0, n)?,
            Build::Oracle {
                candidates_per_slot,
            } => {
                let handles: Vec<Handle> = (0..n).map(crate::model::handle).collect();
                let per_slot = candidates_per_slot.unwrap_or_else(|| Build::default_candidates(n));
                o.add_from_ring(&handles, per_slot, &self.progress)?;
            }
        }
        let report = build_report(
            &o,
            self.build,
            n,
            o.traffic(),
            started.elapsed().as_secs_f64(),
        );
        self.note_build(&report);
        Ok((o, report))
    }

    /// Joins the nodes `from..to` of the overlay's population one at a time, each through
    /// the active node nearest to it, each join finished before the next starts.
    ///
    /// # Errors
    /// A join that did not finish within 10 simulated minutes.
    pub fn grow(&self, o: &mut Overlay, from: usize, to: usize) -> Result<(), Error> {
        let bar = self.progress.bar("joins", (to - from) as u64);
        for h in from..to {
            o.join_and_settle(crate::model::handle(h), 600 * SECOND)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(())
    }

    fn note_build(&self, report: &BuildReport) {
        self.progress.note(&format!(
            "built {} nodes by {} in {:.1} s ({:.0} simulated s, {:.0} MiB of routing state)",
            report.nodes,
            self.build.name(),
            report.wall_s,
            report.simulated_s,
            report.state_bytes as f64 / f64::from(1 << 20)
        ));
    }

    /// An overlay of `n` random nodes ([`Setup::overlay_of`] over the first `n` nodes of the
    /// seed).
    ///
    /// # Errors
    /// As [`Setup::overlay_of`].
    pub fn overlay(
        &self,
        n: usize,
        maintenance: Maintenance,
    ) -> Result<(Overlay, BuildReport), Error> {
        self.overlay_of(Arc::new(Population::random(self.seed, n)), n, maintenance)
    }
}

/// The report of a build whose messages were `t`.
fn build_report(o: &Overlay, build: Build, n: usize, t: &Traffic, wall_s: f64) -> BuildReport {
    let joins = o.meter().joins();
    let per = |c: u64| c as f64 / joins.len().max(1) as f64;
    let (messages_per_join, total_per_join) = if joins.is_empty() {
        (Vec::new(), 0.0)
    } else {
        (
            Kind::ALL
                .iter()
                .filter(|k| t.sent[k.index()] > 0)
                .map(|k| (k.name().to_owned(), per(t.sent[k.index()])))
                .collect(),
            per(t.total()),
        )
    };
    let times: Vec<f64> = joins
        .iter()
        .filter_map(|j| j.activated.map(|a| (a - j.started) as f64 / 1000.0))
        .collect();
    BuildReport {
        nodes: n,
        build,
        simulated_s: o.now() as f64 / SECOND as f64,
        wall_s,
        messages_per_join,
        total_per_join,
        mean_join_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        state_bytes: o.state_heap_bytes(),
    }
}

/// Lookups between random pairs of distinct active nodes: the key is the destination's id.
#[must_use]
pub fn pair_lookups(o: &Overlay, count: usize, r: &mut ChaCha8Rng) -> Vec<(Handle, Guid)> {
    let live = o.meter().active_handles();
    if live.len() < 2 {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            let s = live[r.random_range(0..live.len())];
            let mut d = s;
            while d == s {
                d = live[r.random_range(0..live.len())];
            }
            (s, o.population().id(d))
        })
        .collect()
}

/// Lookups of uniformly random keys from random active nodes.
#[must_use]
pub fn key_lookups(o: &Overlay, count: usize, r: &mut ChaCha8Rng) -> Vec<(Handle, Guid)> {
    let live = o.meter().active_handles();
    if live.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|_| (live[r.random_range(0..live.len())], random_guid(r)))
        .collect()
}

/// The interval between two lookups of a batch: 10,000 lookups per simulated second.
pub const LOOKUP_GAP: Time = 100;

/// Issues `lookups` one every `gap` microseconds, runs until every one is delivered or ten
/// simulated minutes have passed since the last, and returns their outcomes in issue order
/// (those never delivered are lost).
pub fn run_lookups(
    o: &mut Overlay,
    lookups: &[(Handle, Guid)],
    gap: Time,
    progress: &Progress,
    label: &str,
) -> Vec<Outcome> {
    let bar = progress.bar(label, lookups.len() as u64);
    let mut t = o.now();
    let mut out = o.meter_mut().take_finished();
    out.clear();
    for &(s, k) in lookups {
        o.run_until(t);
        // A static network's sources are active; one that is not is skipped (and counted
        // by the number of outcomes).
        let _ = o.lookup(s, k);
        t += gap;
        bar.inc(1);
    }
    o.run_until_lookups_done(t + 600 * SECOND);
    bar.finish_and_clear();
    let mut out = o.meter_mut().take_finished();
    out.extend(o.meter_mut().take_lost());
    out.sort_unstable_by_key(|x| x.id);
    out
}

/// Statistics of a batch of lookups.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Lookups issued.
    pub lookups: u64,
    /// Lookups delivered at the root of their key among the nodes active at that moment.
    pub correct: u64,
    /// Lookups delivered elsewhere (first delivery).
    pub incorrect: u64,
    /// Lookups never delivered.
    pub lost: u64,
    /// `correct / lookups`.
    pub correct_fraction: f64,
    /// Mean hops of the delivered lookups.
    pub mean_hops: f64,
    /// `histogram[h]`: delivered lookups that took `h` hops.
    pub histogram: Vec<u64>,
    /// `histogram` as fractions of the delivered lookups.
    pub distribution: Vec<f64>,
    /// Delivered lookups over the hop bound 128/b + 1.
    pub over_hop_bound: u64,
    /// Hop messages that did not reach a live node (each costs a hop timeout and a re-route).
    pub timeouts: u64,
    /// Lookups that some node gave up after its re-routes (`RouteFailed`).
    pub gave_up: u64,
    /// Mean over correct lookups whose source is not the root of (route distance / direct
    /// distance) in the plane.
    pub stretch_mean: Option<f64>,
    /// Total route distance over total direct distance, same lookups.
    pub stretch_total: Option<f64>,
    /// Relative delay penalty: mean over the same lookups of (time to delivery / one-way
    /// latency from the source to the root).
    pub rdp_mean: Option<f64>,
    /// Total delay over total direct latency, same lookups.
    pub rdp_total: Option<f64>,
    /// The mean relative delay penalty of those lookups that met no hop timeout: the cost of
    /// the routes alone, without the cost of detecting failures.
    pub rdp_mean_no_timeouts: Option<f64>,
    /// Mean time to delivery in milliseconds, delivered lookups.
    pub mean_delay_ms: f64,
}

impl Stats {
    /// The statistics of `outcomes`; `bound` is the hop bound 128/b + 1.
    #[must_use]
    pub fn of(pop: &Population, latency: Latency, outcomes: &[Outcome], bound: u32) -> Stats {
        let mut s = Stats {
            lookups: outcomes.len() as u64,
            ..Stats::default()
        };
        let mut acc = Accumulator::default();
        for o in outcomes {
            acc.add(pop, latency, o, bound);
        }
        acc.fill(&mut s);
        s
    }

    /// The fraction of delivered lookups with `h` hops.
    #[must_use]
    pub fn fraction(&self, h: usize) -> f64 {
        self.distribution.get(h).copied().unwrap_or(0.0)
    }

    /// One line on correctness.
    #[must_use]
    pub fn correctness_line(&self) -> String {
        format!(
            "{} lookups: {} delivered at the root among the active nodes ({:.4}%), {} elsewhere, {} lost; {} over the hop bound, {} hop timeouts, {} given up by a node",
            self.lookups,
            self.correct,
            100.0 * self.correct_fraction,
            self.incorrect,
            self.lost,
            self.over_hop_bound,
            self.timeouts,
            self.gave_up
        )
    }
}

/// Sums for [`Stats`], one lookup at a time.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    lookups: u64,
    correct: u64,
    incorrect: u64,
    lost: u64,
    histogram: Vec<u64>,
    hops: u64,
    over_bound: u64,
    timeouts: u64,
    gave_up: u64,
    ratio_sum: f64,
    route_sum: f64,
    direct_sum: f64,
    rdp_sum: f64,
    delay_sum: f64,
    latency_sum: f64,
    with_distance: u64,
    delivered_delay: f64,
    rdp_clean_sum: f64,
    clean: u64,
}

impl Accumulator {
    /// Adds one lookup.
    pub fn add(&mut self, pop: &Population, latency: Latency, o: &Outcome, bound: u32) {
        self.lookups += 1;
        self.timeouts += u64::from(o.sends.saturating_sub(o.arrivals));
        self.gave_up += u64::from(o.gave_up);
        let Some(d) = o.delivered else {
            self.lost += 1;
            return;
        };
        if d.correct {
            self.correct += 1;
        } else {
            self.incorrect += 1;
        }
        let h = d.hops as usize;
        if self.histogram.len() <= h {
            self.histogram.resize(h + 1, 0);
        }
        self.histogram[h] += 1;
        self.hops += u64::from(d.hops);
        self.over_bound += u64::from(d.hops > bound);
        let delay = (d.time - o.sent) as f64;
        self.delivered_delay += delay;
        if d.correct && d.at != o.source {
            let (a, b) = (pop.place(o.source), pop.place(d.at));
            let direct = a.distance(b);
            let lat = latency.one_way(a, b) as f64;
            if direct > 0.0 {
                self.ratio_sum += o.distance / direct;
                self.route_sum += o.distance;
                self.direct_sum += direct;
                self.rdp_sum += delay / lat;
                if o.sends == o.arrivals {
                    self.rdp_clean_sum += delay / lat;
                    self.clean += 1;
                }
                self.delay_sum += delay;
                self.latency_sum += lat;
                self.with_distance += 1;
            }
        }
    }

    /// Writes the statistics into `s`.
    pub fn fill(&self, s: &mut Stats) {
        let delivered = (self.correct + self.incorrect).max(1) as f64;
        s.lookups = self.lookups;
        s.correct = self.correct;
        s.incorrect = self.incorrect;
        s.lost = self.lost;
        s.correct_fraction = self.correct as f64 / self.lookups.max(1) as f64;
        s.mean_hops = self.hops as f64 / delivered;
        s.histogram.clone_from(&self.histogram);
        s.distribution = self
            .histogram
            .iter()
            .map(|&c| c as f64 / delivered)
            .collect();
        s.over_hop_bound = self.over_bound;
        s.timeouts = self.timeouts;
        s.gave_up = self.gave_up;
        s.mean_delay_ms = self.delivered_delay / delivered / 1000.0;
        if self.with_distance > 0 {
            let n = self.with_distance as f64;
            s.stretch_mean = Some(self.ratio_sum / n);
            s.stretch_total = Some(self.route_sum / self.direct_sum);
            s.rdp_mean = Some(self.rdp_sum / n);
            s.rdp_total = Some(self.delay_sum / self.latency_sum);
        }
        if self.clean > 0 {
            s.rdp_mean_no_timeouts = Some(self.rdp_clean_sum / self.clean as f64);
        }
    }
}

/// The hop bound with correct leaf sets: 128/b + 1.
#[must_use]
pub fn hop_bound(config: &Config) -> u32 {
    128 / config.digit_width().bits() + 1
}

/// The measurement at one network size (hops and locality experiments).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SizeResult {
    /// Number of nodes.
    pub nodes: usize,
    /// How the network was built.
    pub build: Build,
    /// How lookups were routed.
    pub routing: Routing,
    /// log_{2^b} N.
    pub log_n: f64,
    /// The paper's figure 4 value at this size, if any.
    pub paper_mean_hops: Option<f64>,
    /// The measured statistics.
    pub stats: Stats,
    /// What the build cost.
    pub build_report: BuildReport,
}

/// A network and the outcomes of its lookups, kept for traces.
pub type Kept = (Overlay, Vec<Outcome>);

/// Routes `count` lookups between random node pairs in a network of each size in `sizes`
/// (in increasing order), with the static experiments' idle maintenance. Returns the results
/// and, when `keep_last` is set, the largest network and its outcomes (with paths) for traces.
///
/// A join build grows one network through the sizes: the populations nest and each join
/// finishes before the next starts, so the network of N nodes is the one a run of N nodes
/// alone builds (the lookups in between exchange messages between nodes that already know each
/// other, which changes no state). The oracle build builds each size apart.
///
/// # Errors
/// A build that failed ([`Setup::overlay`]).
pub fn sizes_experiment(
    setup: &Setup,
    sizes: &[usize],
    count: usize,
    keep_last: bool,
) -> Result<(Vec<SizeResult>, Option<Kept>), Error> {
    let mut sizes = sizes.to_vec();
    sizes.sort_unstable();
    sizes.dedup();
    let largest = sizes.last().copied().unwrap_or(0);
    let mut results = Vec::new();
    let mut last = None;
    // A join build's network, grown from size to size, with the messages its lookups sent
    // (which are not the build's) and the wall time of its joins.
    let mut grown: Option<Overlay> = None;
    let mut lookup_traffic = Traffic::default();
    let mut build_wall = 0.0;
    for (i, &n) in sizes.iter().enumerate() {
        let (mut o, build_report) = match setup.build {
            Build::Join => {
                let started = Instant::now();
                let mut o = grown.take().unwrap_or_else(|| {
                    let pop = Arc::new(Population::random(setup.seed, largest));
                    let mut cfg = Maintenance::Idle.node_config(setup.config);
                    cfg.leaf_set_routing = setup.routing == Routing::LeafSet;
                    Overlay::new(pop, setup.net_spec(), cfg)
                });
                let from = o.meter().joins().len();
                setup.grow(&mut o, from, n)?;
                build_wall += started.elapsed().as_secs_f64();
                let build_traffic = o.traffic().since(&lookup_traffic);
                let report = build_report(&o, setup.build, n, &build_traffic, build_wall);
                setup.note_build(&report);
                (o, report)
            }
            Build::Oracle { .. } => setup.overlay(n, Maintenance::Idle)?,
        };
        let mut r = rng(setup.seed, Stream::Lookups);
        let lookups = pair_lookups(&o, count, &mut r);
        let keep = keep_last && i + 1 == sizes.len();
        o.keep_paths(keep);
        let started = Instant::now();
        let before = o.traffic().clone();
        let outcomes = run_lookups(&mut o, &lookups, LOOKUP_GAP, &setup.progress, "lookups");
        lookup_traffic.add(&o.traffic().since(&before));
        setup.progress.note(&format!(
            "routed {} lookups in {:.1} s",
            lookups.len(),
            started.elapsed().as_secs_f64()
        ));
        let stats = Stats::of(
            o.population(),
            setup.latency,
            &outcomes,
            hop_bound(&setup.config),
        );
        results.push(SizeResult {
            nodes: n,
            build: setup.build,
            routing: setup.routing,
            log_n: log_base(n, setup.config.digit_width().bits()),
            paper_mean_hops: paper::fig4_hops(n),
            stats,
            build_report,
        });
        if keep {
            last = Some((o, outcomes));
        } else if setup.build == Build::Join {
            grown = Some(o);
        }
    }
    Ok((results, last))
}

/// Requests of the repair kinds, per kind name.
fn requests(t: &Traffic) -> Vec<(String, u64)> {
    [
        Kind::LeafProbe,
        Kind::RowRequest,
        Kind::NeighborhoodRequest,
        Kind::Ping,
        Kind::Heartbeat,
    ]
    .iter()
    .map(|k| (k.name().to_owned(), t.sent[k.index()]))
    .collect()
}

/// The failure experiment (paper section 3.4, figure 10).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FailureResult {
    /// Nodes before the failures.
    pub nodes: usize,
    /// How the network was built.
    pub build: Build,
    /// Nodes that failed silently.
    pub failed: usize,
    /// Lookups of random keys from random active nodes in each phase.
    pub lookups_per_phase: usize,
    /// Before the failures.
    pub before: Stats,
    /// Simulated seconds from the failures until every leaf set was the true one (heartbeats,
    /// probes, leaf-set repair), or `None` if that did not happen within ten minutes.
    pub leaf_sets_repaired_after_s: Option<f64>,
    /// After the failures and the leaf-set repair, issued within two simulated seconds:
    /// nodes route around dead table entries (a hop timeout, then the next-best hop); a
    /// timed-out entry is suspected at once but declared failed, and its slot repaired, only
    /// after three unanswered probes (1 + 2 + 4 s).
    pub without_table_repair: Stats,
    /// Simulated seconds the protocol then ran before the last phase (lazy repair of the
    /// entries found dead, and row maintenance).
    pub repair_window_s: f64,
    /// After that window.
    pub with_table_repair: Stats,
    /// Requests sent from the failures to the last phase, by kind (leaf-set probes, row
    /// requests, neighborhood requests, pings, heartbeats).
    pub repair_requests: Vec<(String, u64)>,
    /// Row and neighborhood requests from the failures to the last phase, per failed node
    /// (the paper counts 57 remote calls per failed node for table repair).
    pub table_requests_per_failed: f64,
    /// Row requests that row maintenance alone sends in the repair window (one per non-empty
    /// row of every live node per T_rt), per failed node: part of the figure above.
    pub maintenance_rows_per_failed: f64,
    /// The paper's figure 10: before, without repair, with repair.
    pub paper_hops: (f64, f64, f64),
}

/// Paper 3.4: `fraction` of the nodes fail silently; `count` lookups of random keys before,
/// after the failures with leaf sets repaired but routing tables not, and after the protocol
/// has repaired for `repair_window`. The nodes run the protocol's defaults. Returns the
/// result and the network and outcomes of the last phase (with paths when `keep_paths`).
///
/// # Errors
/// A build that failed.
pub fn failure_experiment(
    setup: &Setup,
    n: usize,
    fraction: f64,
    count: usize,
    repair_window: Time,
    keep_paths: bool,
) -> Result<(FailureResult, Overlay, Vec<Outcome>), Error> {
    let (mut o, _) = setup.overlay(n, Maintenance::Protocol)?;
    let mut lookups_rng = rng(setup.seed, Stream::Lookups);
    let p = &setup.progress;
    let (pop, lat, bound) = (
        Arc::new(o.population().clone()),
        setup.latency,
        hop_bound(&setup.config),
    );
    let stats = |out: &[Outcome]| Stats::of(&pop, lat, out, bound);
    let before = {
        let l = key_lookups(&o, count, &mut lookups_rng);
        stats(&run_lookups(&mut o, &l, LOOKUP_GAP, p, "before failures"))
    };
    let mut fail_rng = rng(setup.seed, Stream::Failures);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let failed = ((n as f64) * fraction).round() as usize;
    let mut live = o.meter().active_handles().to_vec();
    live.sort_unstable();
    let failed = failed.min(live.len().saturating_sub(1));
    for i in 0..failed {
        let j = fail_rng.random_range(i..live.len());
        live.swap(i, j);
        o.crash(live[i]);
    }
    let failed_at = o.now();
    let traffic_at_failure = o.traffic().clone();
    let mut repaired = None;
    let mut t = failed_at;
    while t < failed_at + 600 * SECOND {
        t += SECOND;
        o.run_until(t);
        if o.wrong_leaf_sets().0 == 0 {
            repaired = Some((t - failed_at) as f64 / SECOND as f64);
            break;
        }
    }
    let without_table_repair = {
        let l = key_lookups(&o, count, &mut lookups_rng);
        let gap = (2 * SECOND / count.max(1) as u64).max(1);
        stats(&run_lookups(&mut o, &l, gap, p, "no table repair"))
    };
    let window_start = o.now();
    o.run_until(window_start + repair_window);
    let maintenance_rows: u64 = o
        .meter()
        .active_handles()
        .iter()
        .filter_map(|h| o.node(*h))
        .map(|node| {
            let t = node.state().table();
            (0..t.row_count())
                .filter(|r| {
                    #[allow(clippy::cast_possible_truncation)] // rows < 128
                    let row = pastry_kernel::Row(*r as u8);
                    t.row(row).next().is_some()
                })
                .count() as u64
        })
        .sum::<u64>()
        * repair_window
        / u64::try_from(o.node_config().row_maintenance.as_micros()).unwrap_or(u64::MAX);
    let window = o.traffic().since(&traffic_at_failure);
    o.keep_paths(keep_paths);
    let l = key_lookups(&o, count, &mut lookups_rng);
    let outcomes = run_lookups(&mut o, &l, LOOKUP_GAP, p, "table repair");
    let with_table_repair = stats(&outcomes);
    let per = |c: u64| c as f64 / failed.max(1) as f64;
    let table =
        window.sent[Kind::RowRequest.index()] + window.sent[Kind::NeighborhoodRequest.index()];
    let result = FailureResult {
        nodes: n,
        build: setup.build,
        failed,
        lookups_per_phase: count,
        before,
        leaf_sets_repaired_after_s: repaired,
        without_table_repair,
        repair_window_s: repair_window as f64 / SECOND as f64,
        with_table_repair,
        repair_requests: requests(&window),
        table_requests_per_failed: per(table),
        maintenance_rows_per_failed: per(maintenance_rows),
        paper_hops: paper::FIG10_HOPS,
    };
    Ok((result, o, outcomes))
}
