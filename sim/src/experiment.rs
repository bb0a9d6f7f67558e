//! The experiments: lookups over a built network and their statistics.

use std::time::Instant;

use pastry_kernel::{Config, Guid};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{log_base, random_guid, Node};
use crate::network::{End, Handle, Network, OnDeadHop, Outcome};
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
    /// Builds a network of `n` random nodes, noting the time taken on standard error.
    #[must_use]
    pub fn network(&self, n: usize) -> Network {
        let nodes = random_nodes(self.seed, n);
        let started = Instant::now();
        let net = match self.build {
            Build::Oracle {
                candidates_per_slot,
            } => Network::oracle(
                self.config,
                nodes,
                candidates_per_slot.unwrap_or_else(|| Build::default_candidates(n)),
                &self.progress,
            ),
        };
        self.progress.note(&format!(
            "built {n} nodes by {} in {:.1} s ({:.0} MiB of routing state)",
            self.build.name(),
            started.elapsed().as_secs_f64(),
            net.state_heap_bytes() as f64 / (1 << 20) as f64
        ));
        net
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
        let net = setup.network(n);
        let mut r = rng(setup.seed, Stream::Lookups);
        let lookups = pair_lookups(&net, count, &mut r);
        let keep = keep_last && i + 1 == sizes.len();
        let started = Instant::now();
        let outcomes = net.lookups(&lookups, OnDeadHop::Avoid, keep, &setup.progress, "lookups");
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
        });
        if keep {
            last = Some((net, outcomes));
        }
    }
    (results, last)
}
