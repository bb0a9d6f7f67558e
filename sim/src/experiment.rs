//! The experiments: lookups over a built network and their statistics.

use std::time::Instant;

use pastry_kernel::{Config, Guid};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{log_base, random_guid, Node};
use crate::network::{End, Handle, JoinCost, JoinProtocol, Network, Outcome, Repair, RepairCost};
use crate::paper;
use crate::progress::Progress;

/// Independent random streams, one per purpose, all from the run's seed: changing how many
/// lookups run does not change the network, and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Node ids and places.
    Nodes = 1,
    /// Join order choices (bootstrap samples).
    Joins = 2,
    /// Lookup sources and keys.
    Lookups = 3,
    /// Which nodes fail.
    Failures = 4,
    /// Churn events.
    Churn = 5,
}

/// The seeded generator of one purpose.
#[must_use]
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream as u64);
    r
}

/// `n` nodes with distinct random ids at random places. The first `n` nodes of a seed are the
/// same whatever `n` is, so the networks of one run nest.
#[must_use]
pub fn random_nodes(seed: u64, n: usize) -> Vec<Node> {
    let mut r = rng(seed, Stream::Nodes);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut nodes = Vec::with_capacity(n);
    while nodes.len() < n {
        let node = Node::random(&mut r);
        if seen.insert(node.id) {
            nodes.push(node);
        }
    }
    nodes
}

/// How the network is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Build {
    /// Nodes join one by one through the kernel's join protocol, each via the live node
    /// nearest to it ([`Network::join`]).
    Join {
        /// How much of the join protocol runs.
        protocol: JoinProtocol,
    },
    /// Every state from global knowledge ([`Network::oracle`]), offering this many candidates
    /// per routing-table slot.
    Oracle {
        /// Candidates offered per slot; the nearest is kept. `None`:
        /// [`Build::default_candidates`].
        candidates_per_slot: Option<usize>,
    },
}

impl Build {
    /// A short name for tables.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Build::Join { .. } => "join",
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

/// What every experiment needs: parameters, seed, how to build, how to report progress.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// b, L, |M|.
    pub config: Config,
    /// The seed of every random choice.
    pub seed: u64,
    /// How to build the network.
    pub build: Build,
    /// Progress bars.
    pub progress: Progress,
}

impl Setup {
    /// Builds a network of `n` random nodes, noting the time taken on standard error. Returns
    /// the total join cost for a network built by joins.
    #[must_use]
    pub fn network(&self, n: usize) -> (Network, Option<JoinCost>) {
        let nodes = random_nodes(self.seed, n);
        let started = Instant::now();
        let (net, cost) = match self.build {
            Build::Join { protocol } => {
                let (net, cost) = Network::by_join(self.config, nodes, protocol, &self.progress);
                (net, Some(cost))
            }
            Build::Oracle {
                candidates_per_slot,
            } => {
                let per_slot = candidates_per_slot.unwrap_or_else(|| Build::default_candidates(n));
                let net = Network::oracle(self.config, nodes, per_slot, &self.progress);
                (net, None)
            }
        };
        self.progress.note(&format!(
            "built {n} nodes by {} in {:.1} s ({:.0} MiB of routing state)",
            self.build.name(),
            started.elapsed().as_secs_f64(),
            net.state_heap_bytes() as f64 / (1 << 20) as f64
        ));
        (net, cost)
    }
}

/// Lookups between random pairs of distinct live nodes: the key is the destination's id.
#[must_use]
pub fn pair_lookups(net: &Network, count: usize, r: &mut ChaCha8Rng) -> Vec<(Handle, Guid)> {
    let live = net.live_handles();
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
            (s, net.nodes()[d as usize].id)
        })
        .collect()
}

/// Lookups of uniformly random keys from random live nodes.
#[must_use]
pub fn key_lookups(net: &Network, count: usize, r: &mut ChaCha8Rng) -> Vec<(Handle, Guid)> {
    let live = net.live_handles();
    if live.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|_| (live[r.random_range(0..live.len())], random_guid(r)))
        .collect()
}

/// Statistics of a batch of lookups. Every lookup's end is compared with the brute-force root
/// among the live nodes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Lookups routed.
    pub lookups: u64,
    /// Mean hops (forwards that reached a live node).
    pub mean_hops: f64,
    /// `histogram[h]`: lookups that took `h` hops.
    pub histogram: Vec<u64>,
    /// `histogram` as fractions of `lookups`.
    pub distribution: Vec<f64>,
    /// Lookups delivered at the brute-force root among the live nodes.
    pub at_root: u64,
    /// `at_root / lookups`.
    pub at_root_fraction: f64,
    /// Routes that came back to a node already visited.
    pub loops: u64,
    /// Routes cut off by the simulator's hard cap.
    pub runaways: u64,
    /// Routes longer than the hop bound 128/b + 1.
    pub over_hop_bound: u64,
    /// Forwards chosen by the rare case (step 3 of route), over all lookups.
    pub rare_case_hops: u64,
    /// Dead next hops met (timeouts), over all lookups.
    pub timeouts: u64,
    /// Mean over lookups of (route distance / direct distance source→root), for lookups whose
    /// source is not the root.
    pub stretch_mean: Option<f64>,
    /// Total route distance over total direct distance, for the same lookups.
    pub stretch_total: Option<f64>,
}

impl Stats {
    /// The statistics of `outcomes` routed in `net`.
    #[must_use]
    pub fn of(net: &Network, outcomes: &[Outcome]) -> Stats {
        let bound = net.hop_bound();
        let mut s = Stats {
            lookups: outcomes.len() as u64,
            ..Stats::default()
        };
        let mut total_hops = 0u64;
        let (mut ratio_sum, mut route_sum, mut direct_sum, mut with_distance) =
            (0.0f64, 0.0f64, 0.0f64, 0u64);
        for o in outcomes {
            let h = o.hops as usize;
            if s.histogram.len() <= h {
                s.histogram.resize(h + 1, 0);
            }
            s.histogram[h] += 1;
            total_hops += u64::from(o.hops);
            s.at_root += u64::from(o.at_root());
            s.loops += u64::from(o.ending == End::Loop);
            s.runaways += u64::from(o.ending == End::Runaway);
            s.over_hop_bound += u64::from(o.hops > bound);
            s.rare_case_hops += u64::from(o.rare_case_hops);
            s.timeouts += u64::from(o.timeouts);
            if o.source != o.root && o.at_root() {
                let direct = net.distance(o.source, o.root);
                if direct > 0.0 {
                    ratio_sum += o.distance / direct;
                    route_sum += o.distance;
                    direct_sum += direct;
                    with_distance += 1;
                }
            }
        }
        let n = s.lookups.max(1) as f64;
        s.mean_hops = total_hops as f64 / n;
        s.distribution = s.histogram.iter().map(|&c| c as f64 / n).collect();
        s.at_root_fraction = s.at_root as f64 / n;
        if with_distance > 0 {
            s.stretch_mean = Some(ratio_sum / with_distance as f64);
            s.stretch_total = Some(route_sum / direct_sum);
        }
        s
    }

    /// The fraction of lookups with `h` hops.
    #[must_use]
    pub fn fraction(&self, h: usize) -> f64 {
        self.distribution.get(h).copied().unwrap_or(0.0)
    }

    /// One line on correctness: delivered at the root, loops, routes over the bound.
    #[must_use]
    pub fn correctness_line(&self) -> String {
        format!(
            "{} of {} lookups delivered at the brute-force live root ({:.4}%), {} loops, {} runaways, {} over the hop bound, {} rare-case hops, {} timeouts",
            self.at_root,
            self.lookups,
            100.0 * self.at_root_fraction,
            self.loops,
            self.runaways,
            self.over_hop_bound,
            self.rare_case_hops,
            self.timeouts
        )
    }
}

/// The measurement at one network size (hops and locality experiments).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SizeResult {
    /// Number of nodes.
    pub nodes: usize,
    /// How the network was built.
    pub build: Build,
    /// log_{2^b} N.
    pub log_n: f64,
    /// The paper's figure 4 value at this size, if any.
    pub paper_mean_hops: Option<f64>,
    /// The measured statistics.
    pub stats: Stats,
    /// Mean cost of one join, for a network built by joins.
    pub join_cost_per_node: Option<JoinCostMean>,
}

/// [`JoinCost`] averaged over the joins.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct JoinCostMean {
    /// Hops of the join message.
    pub route_hops: f64,
    /// States, rows and neighborhood sets requested.
    pub state_requests: f64,
    /// Candidates probed.
    pub probes: f64,
    /// Nodes told of the new node.
    pub told: f64,
    /// Candidates the told nodes probed while merging the new node's state.
    pub announce_probes: f64,
}

impl JoinCostMean {
    /// The mean of `total` over `joins` joins.
    #[must_use]
    pub fn of(total: &JoinCost, joins: usize) -> JoinCostMean {
        let n = joins.max(1) as f64;
        JoinCostMean {
            route_hops: total.route_hops as f64 / n,
            state_requests: total.state_requests as f64 / n,
            probes: total.probes as f64 / n,
            told: total.told as f64 / n,
            announce_probes: total.announce_probes as f64 / n,
        }
    }
}

/// Routes `count` lookups between random node pairs in a network of each size in `sizes`.
/// Returns the results and, when `keep_last` is set, the last network and its outcomes (with
/// paths) for traces.
#[must_use]
pub fn sizes_experiment(
    setup: &Setup,
    sizes: &[usize],
    count: usize,
    keep_last: bool,
) -> (Vec<SizeResult>, Option<(Network, Vec<Outcome>)>) {
    let mut results = Vec::new();
    let mut last = None;
    for (i, &n) in sizes.iter().enumerate() {
        let (net, join_cost) = setup.network(n);
        let mut r = rng(setup.seed, Stream::Lookups);
        let lookups = pair_lookups(&net, count, &mut r);
        let keep = keep_last && i + 1 == sizes.len();
        let started = Instant::now();
        let outcomes = net.lookups(&lookups, keep, &setup.progress, "lookups");
        setup.progress.note(&format!(
            "routed {} lookups in {:.1} s",
            lookups.len(),
            started.elapsed().as_secs_f64()
        ));
        let stats = Stats::of(&net, &outcomes);
        results.push(SizeResult {
            nodes: n,
            build: setup.build,
            log_n: log_base(n, setup.config.digit_width().bits()),
            paper_mean_hops: paper::fig4_hops(n),
            stats,
            join_cost_per_node: join_cost.map(|c| JoinCostMean::of(&c, n)),
        });
        if keep {
            last = Some((net, outcomes));
        }
    }
    (results, last)
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
    /// Lookups of random keys from random live nodes in each phase.
    pub lookups_per_phase: usize,
    /// Before the failures.
    pub before: Stats,
    /// After the failures, leaf sets repaired, routing tables not: nodes route around dead
    /// entries (timeouts) without changing their state.
    pub without_table_repair: Stats,
    /// After every live node has repaired its routing table and neighborhood set.
    pub with_table_repair: Stats,
    /// Cost of the leaf-set repair.
    pub leaf_set_repair: RepairCost,
    /// Cost of the routing-table and neighborhood repair.
    pub table_repair: RepairCost,
    /// Routing-table and neighborhood requests per failed node (the paper counts 57 remote
    /// calls per failed node).
    pub table_requests_per_failed: f64,
    /// All repair requests (leaf sets too) per failed node.
    pub all_requests_per_failed: f64,
    /// The paper's figure 10: before, without repair, with repair.
    pub paper_hops: (f64, f64, f64),
}

/// Paper 3.4: `fraction` of the nodes fail silently; `count` lookups of random keys before,
/// after the failures with leaf sets repaired but routing tables not, and after routing-table
/// repair. Returns the result and the network and outcomes of the last phase (with paths when
/// `keep_paths`).
#[must_use]
pub fn failure_experiment(
    setup: &Setup,
    n: usize,
    fraction: f64,
    count: usize,
    keep_paths: bool,
) -> (FailureResult, Network, Vec<Outcome>) {
    let (mut net, _) = setup.network(n);
    let mut lookups_rng = rng(setup.seed, Stream::Lookups);
    let p = &setup.progress;
    let before = {
        let l = key_lookups(&net, count, &mut lookups_rng);
        Stats::of(&net, &net.lookups(&l, false, p, "before failures"))
    };
    let mut fail_rng = rng(setup.seed, Stream::Failures);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let failed = ((n as f64) * fraction).round() as usize;
    let mut live = net.live_handles().to_vec();
    live.sort_unstable();
    for i in 0..failed.min(live.len()) {
        let j = fail_rng.random_range(i..live.len());
        live.swap(i, j);
        net.fail(live[i]);
    }
    let leaf_set_repair = net.repair_leaf_sets();
    let without_table_repair = {
        let l = key_lookups(&net, count, &mut lookups_rng);
        Stats::of(&net, &net.lookups(&l, false, p, "no table repair"))
    };
    let table_repair = net.repair_tables();
    let l = key_lookups(&net, count, &mut lookups_rng);
    let outcomes = net.lookups(&l, keep_paths, p, "table repair");
    let with_table_repair = Stats::of(&net, &outcomes);
    let per = |c: u64| c as f64 / failed.max(1) as f64;
    let result = FailureResult {
        nodes: n,
        build: setup.build,
        failed,
        lookups_per_phase: count,
        before,
        without_table_repair,
        with_table_repair,
        leaf_set_repair,
        table_repair,
        table_requests_per_failed: per(table_repair.requests()),
        all_requests_per_failed: per(table_repair.requests() + leaf_set_repair.requests()),
        paper_hops: paper::FIG10_HOPS,
    };
    (result, net, outcomes)
}

/// One round of the churn experiment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChurnRound {
    /// Round number, from 1.
    pub round: usize,
    /// Live nodes at the end of the round.
    pub live: usize,
    /// Nodes that joined during the round.
    pub joins: usize,
    /// Nodes that failed silently during the round.
    pub failures: usize,
    /// The round's lookups, routed while nodes joined and failed.
    pub stats: Stats,
    /// Repair done during the round: lazy repair by lookups and joins, then the leaf-set
    /// maintenance at the end of the round.
    pub repair: RepairCost,
}

/// The churn experiment (beyond the paper).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChurnResult {
    /// Nodes at the start.
    pub nodes: usize,
    /// How the network was built.
    pub build: Build,
    /// Fraction of the nodes that fail, and as many that join, per round.
    pub rate: f64,
    /// The rounds.
    pub rounds: Vec<ChurnRound>,
    /// All rounds' lookups together.
    pub total: Stats,
}

/// Churn: in each round, `rate × N` live nodes fail silently and as many new nodes join (by
/// the join protocol, through the nearest live node), interleaved at random with
/// `lookups_per_round` lookups of random keys. A node whose next hop is dead notices it and
/// repairs the hole (leaf set, table slot, neighborhood); at the end of each round every node
/// checks its leaf set (keep-alives) and repairs it. Every lookup's end is compared with the
/// root among the nodes live at that moment.
#[must_use]
pub fn churn_experiment(
    setup: &Setup,
    n: usize,
    rounds: usize,
    rate: f64,
    lookups_per_round: usize,
) -> ChurnResult {
    #[derive(Clone, Copy)]
    enum Event {
        Fail,
        Join,
        Lookup,
    }
    let (mut net, _) = setup.network(n);
    let mut r = rng(setup.seed, Stream::Churn);
    // New nodes come from the same id stream, after the first n.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per_round = ((n as f64) * rate).round() as usize;
    let mut fresh = random_nodes(setup.seed, n + per_round * rounds)
        .into_iter()
        .skip(n);
    let bar = setup.progress.bar("churn rounds", rounds as u64);
    let mut all = Vec::new();
    let mut out = Vec::new();
    for round in 1..=rounds {
        let mut events = vec![Event::Fail; per_round];
        events.extend(vec![Event::Join; per_round]);
        events.extend(vec![Event::Lookup; lookups_per_round]);
        for i in (1..events.len()).rev() {
            events.swap(i, r.random_range(0..=i));
        }
        let (mut joins, mut failures) = (0, 0);
        let mut repair = RepairCost::default();
        let mut outcomes = Vec::with_capacity(lookups_per_round);
        for e in events {
            match e {
                Event::Fail => {
                    let live = net.live_handles();
                    if live.len() > 1 {
                        let victim = live[r.random_range(0..live.len())];
                        net.fail(victim);
                        failures += 1;
                    }
                }
                Event::Join => {
                    if let Some(node) = fresh.next() {
                        if let Ok((_, cost)) = net.join(node) {
                            repair.add(cost.repair);
                            joins += 1;
                        }
                    }
                }
                Event::Lookup => {
                    let live = net.live_handles();
                    let source = live[r.random_range(0..live.len())];
                    let key = random_guid(&mut r);
                    let (o, cost) = net.lookup_repairing(source, key, Repair::All, false);
                    repair.add(cost);
                    outcomes.push(o);
                }
            }
        }
        repair.add(net.repair_leaf_sets());
        let stats = Stats::of(&net, &outcomes);
        all.extend(outcomes);
        out.push(ChurnRound {
            round,
            live: net.live_count(),
            joins,
            failures,
            stats,
            repair,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    ChurnResult {
        nodes: n,
        build: setup.build,
        rate,
        rounds: out,
        total: Stats::of(&net, &all),
    }
}
