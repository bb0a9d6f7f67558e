//! `pastry-sim`: re-runs the Pastry paper's experiments, and MSPastry's dependability
//! experiment, on a discrete-event network of pastry-node engines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pastry_kernel::Config;
use pastry_sim::churn::{self, Churn, ChurnResult, ChurnSpec, Departure, Session};
use pastry_sim::experiment::{self, Build, Error, Routing, Setup};
use pastry_sim::model::Latency;
use pastry_sim::overlay::{Outcome, Overlay, SECOND};
use pastry_sim::progress::Progress;
use pastry_sim::{paper, plot, trace};

const EXAMPLES: &str = "\
Examples:
  # The paper's figures 4 and 5 at 10,000 nodes, built by joins through messages
  pastry-sim hops --nodes 10000

  # Figure 4's whole curve, with charts; the same with leaf-set routing alone
  pastry-sim hops --nodes 1000,2000,5000,10000,20000,50000,100000 --plot docs/plots
  pastry-sim hops --nodes 500,1000,2000,5000 --routing leaf-set --lookups 2000

  # Locality (figure 6), routing-table quality (figure 7), failures (figure 10)
  pastry-sim locality --nodes 10000
  pastry-sim quality --nodes 5000
  pastry-sim failure --nodes 5000

  # Churn: Poisson arrivals, exponential sessions of 30 minutes, 5% message loss
  pastry-sim churn --nodes 2000 --session exp:30m --loss 0.05 --duration 1h --plot out

  # MSPastry's dependability experiment, one configuration
  pastry-sim dependability --nodes 2000 --hours 1 --session exp:135m --loss 0.05 --json f.json

  # The DHT under churn: 20,000 keys on 2,000 nodes, an hour of 135-minute sessions
  pastry-sim dht --nodes 2000 --keys 20000 --hours 1 --session exp:135m --json dht.json

  # Check a run's routes independently of the simulator
  pastry-sim hops --nodes 100000 --trace routes.jsonl --nodes-out nodes.txt
  pastry-sim verify-trace --nodes nodes.txt --trace routes.jsonl";

/// Re-runs the experiments of the Pastry paper (Rowstron & Druschel, Middleware 2001), and
/// MSPastry's dependability experiment (Castro, Costa, Rowstron, DSN 2004), on a
/// discrete-event network of pastry-node engines: nodes with random ids at random points of
/// a 1000 × 1000 plane, one-way latency 1 ms + 0.1 ms per unit of distance, every message
/// encoded and decoded, every lookup checked against the root among the active nodes.
#[derive(Parser, Debug)]
#[command(name = "pastry-sim", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Mean hops and the hop distribution between random node pairs (paper figures 4 and 5).
    #[command(after_help = EXAMPLES)]
    Hops(SizesArgs),
    /// Route distance over direct distance between random node pairs (paper figure 6), and
    /// the relative delay penalty.
    #[command(after_help = EXAMPLES)]
    Locality(SizesArgs),
    /// 10% of the nodes fail silently; lookups of random keys before, after the failures
    /// (leaf sets repaired, tables not), and after the protocol's repair (paper figure 10).
    #[command(after_help = EXAMPLES)]
    Failure(FailureArgs),
    /// Routing-table quality (paper figure 7): per row, the slots holding the proximity-best
    /// active node of their range, another node, or none.
    #[command(after_help = EXAMPLES)]
    Quality(QualityArgs),
    /// Nodes arriving and departing (Poisson arrivals, exponential or Pareto sessions, or a
    /// trace file) while lookups run: the dependability measures over simulated time.
    #[command(after_help = EXAMPLES)]
    Churn(ChurnArgs),
    /// MSPastry's dependability experiment: steady-state churn and message loss, lookups
    /// from every node, measured beside MSPastry's published figures.
    #[command(after_help = EXAMPLES)]
    Dependability(DependabilityArgs),
    /// The DHT under churn: a pastry-dht engine on every node, keys put at the start, then
    /// gets, updates and removes from random nodes for hours of churn and loss; gets that
    /// return the newest version, values lost, records per node, maintenance bytes.
    #[command(after_help = EXAMPLES)]
    Dht(DhtArgs),
    /// Checks a --trace file against a --nodes-out file without the simulator's state: every
    /// path must start at its source, end at the root of its key among the listed nodes and
    /// make progress at every hop.
    #[command(after_help = EXAMPLES)]
    VerifyTrace(VerifyArgs),
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How to build the network: `join` runs the protocol's join node by node, through
    /// messages; `oracle` computes every state from global knowledge (fast, for the largest
    /// sizes), after which the protocol runs. Default: `join`, except `oracle` for
    /// `dependability` (whose churn then replaces the nodes by joins).
    #[arg(long, value_enum)]
    build: Option<BuildKind>,
    /// Oracle build: candidates offered per routing-table slot (the nearest is kept). Default:
    /// 16 up to 200,000 nodes, 2 above.
    #[arg(long)]
    candidates: Option<usize>,
    /// Bits per digit b.
    #[arg(short = 'b', long = "digit-bits", default_value_t = 4)]
    digit_bits: u32,
    /// Leaf-set size L.
    #[arg(long = "leaf-set", default_value_t = 16)]
    leaf_set: usize,
    /// Neighborhood-set size |M|.
    #[arg(long, default_value_t = 32)]
    neighborhood: usize,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write SVG charts into this directory.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// No progress bars or timing notes on standard error.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct SizesArgs {
    /// Network sizes, comma-separated.
    #[arg(short, long, value_delimiter = ',', default_value = "10000")]
    nodes: Vec<usize>,
    /// Lookups per size (the paper's 200,000).
    #[arg(short, long, default_value_t = 200_000)]
    lookups: usize,
    /// Probability that a message is lost.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// How lookups are routed, comma-separated for several: `pastry` (leaf set, routing
    /// table, rare case) or `leaf-set` (the leaf set alone: "circular routing", about N / L
    /// hops).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "pastry")]
    routing: Vec<RoutingKind>,
    #[command(flatten)]
    out: TraceArgs,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RoutingKind {
    Pastry,
    LeafSet,
}

impl From<RoutingKind> for Routing {
    fn from(k: RoutingKind) -> Routing {
        match k {
            RoutingKind::Pastry => Routing::Pastry,
            RoutingKind::LeafSet => Routing::LeafSet,
        }
    }
}

/// Files for checking a run independently (`verify-trace`).
#[derive(Args, Debug)]
struct TraceArgs {
    /// Write one JSON line per lookup, {"key", "source", "path"}: of the last size, or of the
    /// failure experiment's last phase.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write the active ids, one 32-hex id per line: of the last size, or after the failures.
    #[arg(long, value_name = "FILE")]
    nodes_out: Option<PathBuf>,
}

impl TraceArgs {
    fn check(&self) -> Result<(), Error> {
        if let Some(p) = &self.trace {
            check_out_file("--trace", p)?;
        }
        if let Some(p) = &self.nodes_out {
            check_out_file("--nodes-out", p)?;
        }
        Ok(())
    }

    fn wanted(&self) -> bool {
        self.trace.is_some() || self.nodes_out.is_some()
    }

    fn write(&self, last: Option<&(Overlay, Vec<Outcome>)>) -> Result<(), Error> {
        if let Some((o, outcomes)) = last {
            if let Some(p) = &self.trace {
                trace::write_trace(p, o.population(), outcomes)
                    .map_err(|e| file_error("--trace", p, &e))?;
            }
            if let Some(p) = &self.nodes_out {
                trace::write_nodes(p, o).map_err(|e| file_error("--nodes-out", p, &e))?;
            }
        }
        Ok(())
    }
}

fn file_error(option: &str, path: &Path, e: &dyn std::fmt::Display) -> Error {
    format!("cannot write the {option} file {}: {e}", path.display()).into()
}

#[derive(Args, Debug)]
struct FailureArgs {
    /// Network size (the paper's 5,000).
    #[arg(short, long, default_value_t = 5_000)]
    nodes: usize,
    /// Fraction of the nodes that fail (the paper's 10%).
    #[arg(long, default_value_t = 0.1)]
    fail: f64,
    /// Lookups of random keys per phase (the paper's 200,000).
    #[arg(short, long, default_value_t = 200_000)]
    lookups: usize,
    /// Simulated time the protocol repairs before the last phase (default: one row-maintenance
    /// period, 15 minutes).
    #[arg(long, default_value = "15m", value_parser = duration)]
    repair_window: f64,
    /// Probability that a message is lost.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    #[command(flatten)]
    out: TraceArgs,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct QualityArgs {
    /// Network size (the paper's 5,000).
    #[arg(short, long, default_value_t = 5_000)]
    nodes: usize,
    /// Rows measured, from row 0.
    #[arg(long, default_value_t = 4)]
    rows: u32,
    /// Nodes whose tables are measured: every node up to this many, else an evenly spaced
    /// sample of this size (each measured node is compared with every active node).
    #[arg(long, default_value_t = 5_000)]
    sample: usize,
    #[command(flatten)]
    common: Common,
}

/// Options shared by `churn` and `dependability`.
#[derive(Args, Debug)]
struct ChurnCommon {
    /// Nodes at the start; with sessions, the mean size (arrivals at N / mean session a second).
    #[arg(short, long, default_value_t = 2_000)]
    nodes: usize,
    /// What a departure is: `crash` (silent, as in MSPastry's traces) or `leave` (tells the
    /// leaf set first).
    #[arg(long, value_enum, default_value_t = DepartureKind::Crash)]
    departure: DepartureKind,
    /// Simulated time before measuring (churn and lookups run).
    #[arg(long, default_value = "10m", value_parser = duration_or_zero)]
    warmup: f64,
    /// Lookups of random keys per simulated second over the whole network, from random active
    /// nodes. Default: one per node every 10 s (N / 10).
    #[arg(long)]
    rate: Option<f64>,
    /// Interval of the time series.
    #[arg(long, default_value = "1m", value_parser = duration)]
    sample: f64,
    /// Simulated time after the measured window (churn goes on, no new lookups) for its last
    /// lookups to finish.
    #[arg(long, default_value = "2m", value_parser = duration_or_zero)]
    drain: f64,
}

#[derive(Args, Debug)]
struct ChurnArgs {
    /// Session times: `none`, `exp:MEAN` or `pareto:MEAN[:SHAPE]` (MEAN like 30m, 2h).
    #[arg(long, default_value = "exp:30m", conflicts_with = "churn_trace")]
    session: Session,
    /// A churn trace instead of sessions: `time,id,join|leave` lines, time in seconds.
    #[arg(long, value_name = "FILE")]
    churn_trace: Option<PathBuf>,
    /// Simulated time measured (after the warm-up).
    #[arg(long, default_value = "1h", value_parser = duration)]
    duration: f64,
    /// Probability that a message is lost.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    #[command(flatten)]
    churn: ChurnCommon,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct DependabilityArgs {
    /// Session times, comma-separated, one run each (with each --loss): `none`, `exp:MEAN`,
    /// `pareto:MEAN[:SHAPE]`.
    #[arg(long, value_delimiter = ',', default_value = "none,exp:135m,exp:30m")]
    session: Vec<Session>,
    /// Message loss probabilities, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,0.05")]
    loss: Vec<f64>,
    /// Simulated hours measured (after the warm-up).
    #[arg(long, default_value_t = 2.0)]
    hours: f64,
    #[command(flatten)]
    churn: ChurnCommon,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct DhtArgs {
    /// Nodes at the start, and the mean size under churn.
    #[arg(short, long, default_value_t = 2_000)]
    nodes: usize,
    /// Keys put at the start, from random nodes.
    #[arg(short, long, default_value_t = 20_000)]
    keys: usize,
    /// Simulated hours of churn with gets and writes (after the keys are stored).
    #[arg(long, default_value_t = 1.0)]
    hours: f64,
    /// Session times: `none`, `exp:MEAN` or `pareto:MEAN[:SHAPE]` (MEAN like 30m, 2h).
    #[arg(long, default_value = "exp:135m")]
    session: Session,
    /// Probability that a message is lost.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Gets of random keys per simulated second over the whole network. Default: one per
    /// node a minute (N / 60).
    #[arg(long)]
    get_rate: Option<f64>,
    /// Writes (updates and removes) per simulated second over the whole network. Default:
    /// one per node every ten minutes (N / 600).
    #[arg(long)]
    write_rate: Option<f64>,
    /// The share of writes that are removes (a removed key is not written again).
    #[arg(long, default_value_t = 0.1)]
    remove_share: f64,
    /// Bytes of every value.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// Replicas per key k (at most L/2 + 1).
    #[arg(long, default_value_t = 5)]
    replicas: usize,
    /// Simulated time after the operations stop (churn goes on) for the last ones to finish.
    #[arg(long, default_value = "2m", value_parser = duration_or_zero)]
    drain: f64,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// No progress bars or timing notes on standard error.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// The node list written by --nodes-out.
    #[arg(long, value_name = "FILE")]
    nodes: PathBuf,
    /// The trace written by --trace.
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Bits per digit b the run used.
    #[arg(short = 'b', long = "digit-bits", default_value_t = 4)]
    digit_bits: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BuildKind {
    Join,
    Oracle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DepartureKind {
    Crash,
    Leave,
}

fn duration(s: &str) -> Result<f64, String> {
    churn::parse_duration(s).map_err(|e| e.to_string())
}

/// A duration that may be zero (`0` or `0s`, `0m`...).
fn duration_or_zero(s: &str) -> Result<f64, String> {
    let zero = s
        .trim()
        .trim_end_matches(['s', 'm', 'h', 'd'])
        .parse::<f64>()
        .is_ok_and(|v| v == 0.0);
    if zero {
        Ok(0.0)
    } else {
        duration(s)
    }
}

/// An output file must be writable where it is named: not a directory, in a directory that
/// exists. Checked before a long run, not after.
fn check_out_file(option: &str, f: &Path) -> Result<(), Error> {
    check(!f.is_dir(), || {
        format!("{option} {} is a directory, not a file", f.display())
    })?;
    let parent = f.parent().filter(|p| !p.as_os_str().is_empty());
    check(parent.is_none_or(Path::is_dir), || {
        format!(
            "{option} {}: the directory {} does not exist",
            f.display(),
            parent.map_or_else(String::new, |p| p.display().to_string())
        )
    })
}

/// Fails with `message` (naming the option) unless `ok`.
fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(message().into())
    }
}

fn check_loss(option: &str, loss: f64) -> Result<(), Error> {
    check((0.0..1.0).contains(&loss), || {
        format!("{option} must be a probability in [0, 1), not {loss}")
    })
}

fn check_nodes(nodes: usize) -> Result<(), Error> {
    check(nodes >= 2, || {
        format!(
            "--nodes must be at least 2: a network needs two nodes to route between, not {nodes}"
        )
    })?;
    check(u32::try_from(nodes).is_ok(), || {
        format!("--nodes must be below 2^32, not {nodes}")
    })
}

fn setup(c: &Common, loss: f64) -> Result<Setup, Error> {
    setup_with(c, loss, BuildKind::Join)
}

/// [`setup`] with the command's default build.
fn setup_with(c: &Common, loss: f64, default_build: BuildKind) -> Result<Setup, Error> {
    let build_kind = c.build.unwrap_or(default_build);
    let config = Config::new(c.digit_bits, c.leaf_set, c.neighborhood).map_err(|e| {
        let option = match e {
            pastry_kernel::ConfigError::DigitBits(_) => "-b/--digit-bits",
            pastry_kernel::ConfigError::LeafSetLen(_) => "--leaf-set",
            _ => "--neighborhood",
        };
        format!("{option}: {e}")
    })?;
    check(c.candidates.is_none_or(|k| k >= 1), || {
        "--candidates must be at least 1".to_owned()
    })?;
    check(
        c.candidates.is_none() || build_kind == BuildKind::Oracle,
        || "--candidates applies to --build oracle only".to_owned(),
    )?;
    if let Some(dir) = &c.plot {
        check(!dir.is_file(), || {
            format!("--plot {} is a file, not a directory", dir.display())
        })?;
    }
    if let Some(f) = &c.json {
        check_out_file("--json", f)?;
    }
    let build = match build_kind {
        BuildKind::Join => Build::Join,
        BuildKind::Oracle => Build::Oracle {
            candidates_per_slot: c.candidates,
        },
    };
    Ok(Setup {
        config,
        seed: c.seed,
        build,
        latency: Latency::WAN,
        loss,
        routing: Routing::Pastry,
        progress: if c.quiet {
            Progress::quiet()
        } else {
            Progress::visible()
        },
    })
}

fn header(what: &str, s: &Setup, extra: &str) {
    header_with_loss(what, s, &s.loss.to_string(), extra);
}

/// The header with the message loss as given (`dependability` runs several).
fn header_with_loss(what: &str, s: &Setup, loss: &str, extra: &str) {
    let c = s.config;
    println!(
        "pastry-sim {what}: b = {}, L = {}, |M| = {}, build {}, message loss {loss}, seed {}{extra}",
        c.digit_width().bits(),
        c.leaf_set_len(),
        c.neighborhood_len(),
        s.build.name(),
        s.seed
    );
}

impl Common {
    /// Writes `results` to the `--json` file and, with `--plot`, has `draw` put its charts in
    /// that directory.
    fn write_outputs(
        &self,
        results: &impl serde::Serialize,
        draw: impl FnOnce(&Path) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if let Some(p) = &self.json {
            std::fs::write(p, serde_json::to_string_pretty(results)? + "\n")
                .map_err(|e| file_error("--json", p, &e))?;
        }
        if let Some(dir) = &self.plot {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!("cannot create the --plot directory {}: {e}", dir.display())
            })?;
            draw(dir).map_err(|e| format!("cannot draw into --plot {}: {e}", dir.display()))?;
        }
        Ok(())
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

fn check_sizes(a: &SizesArgs) -> Result<(), Error> {
    check(!a.nodes.is_empty(), || {
        "--nodes needs at least one size".to_owned()
    })?;
    for &n in &a.nodes {
        check_nodes(n)?;
    }
    check(a.lookups >= 1, || "--lookups must be at least 1".to_owned())?;
    a.out.check()?;
    check_loss("--loss", a.loss)
}

fn hops(a: &SizesArgs) -> Result<(), Error> {
    check_sizes(a)?;
    let s = setup(&a.common, a.loss)?;
    header(
        "hops",
        &s,
        &format!(", {} lookups between random node pairs per size", a.lookups),
    );
    let keep = a.out.wanted();
    let mut results = Vec::new();
    let mut last = None;
    for (i, routing) in a.routing.iter().enumerate() {
        let s = Setup {
            routing: (*routing).into(),
            ..s
        };
        let keep = keep && i + 1 == a.routing.len();
        let (r, l) = experiment::sizes_experiment(&s, &a.nodes, a.lookups, keep)?;
        results.extend(r);
        last = l.or(last);
    }
    let b = s.config.digit_width().bits();
    println!();
    println!(
        "{:>14}  {:>9}  {:>9}  {:>13}  {:>8}  {:>9}",
        "routing",
        "N",
        "mean hops",
        "paper (fig 4)",
        format!("log{} N", 1u32 << b),
        "correct"
    );
    for r in &results {
        println!(
            "{:>14}  {:>9}  {:>9.3}  {:>13}  {:>8.3}  {:>8.4}%",
            r.routing.name(),
            r.nodes,
            r.stats.mean_hops,
            opt(r.paper_mean_hops, 3),
            r.log_n,
            100.0 * r.stats.correct_fraction
        );
    }
    for r in &results {
        println!(
            "N = {}, {}: {}",
            r.nodes,
            r.routing.name(),
            r.stats.correctness_line()
        );
        let c = &r.build_report;
        if c.total_per_join > 0.0 {
            let kinds: Vec<String> = c
                .messages_per_join
                .iter()
                .map(|(k, v)| format!("{k} {v:.1}"))
                .collect();
            println!(
                "N = {}: per join {:.0} messages ({}), {:.0} ms to activation",
                r.nodes,
                c.total_per_join,
                kinds.join(", "),
                c.mean_join_ms
            );
        }
    }
    if let Some(r) = results.iter().rev().find(|r| r.routing == Routing::Pastry) {
        println!();
        println!(
            "Hop distribution at N = {} (paper figure 5 is at N = {}):",
            r.nodes,
            paper::FIG5_NODES
        );
        println!(
            "{:>4}  {:>8}  {:>8}  {:>8}",
            "hops", "measured", "paper", "diff"
        );
        let bars = r
            .stats
            .distribution
            .len()
            .max(paper::FIG5_DISTRIBUTION.len());
        for h in 0..bars {
            let p = paper::FIG5_DISTRIBUTION.get(h).copied().unwrap_or(0.0);
            println!(
                "{h:>4}  {:>8.4}  {p:>8.4}  {:>+8.4}",
                r.stats.fraction(h),
                r.stats.fraction(h) - p
            );
        }
    }
    a.out.write(last.as_ref())?;
    a.common.write_outputs(&results, |dir| {
        plot::hops_vs_nodes(dir, &results, b, s.config.leaf_set_len())?;
        if let Some(r) = results.iter().rev().find(|r| r.routing == Routing::Pastry) {
            plot::hop_distribution(dir, r)?;
        }
        Ok(())
    })
}

fn locality(a: &SizesArgs) -> Result<(), Error> {
    check_sizes(a)?;
    let s = setup(&a.common, a.loss)?;
    header(
        "locality",
        &s,
        &format!(", {} lookups between random node pairs per size", a.lookups),
    );
    let keep = a.out.wanted();
    let (results, last) = experiment::sizes_experiment(&s, &a.nodes, a.lookups, keep)?;
    println!();
    println!(
        "Route distance over direct distance (paper figure 6: {:.2} to {:.2}, {:.3} at 100,000); relative delay penalty",
        paper::FIG6_STRETCH_RANGE.0,
        paper::FIG6_STRETCH_RANGE.1,
        paper::FIG6_STRETCH_100K
    );
    println!(
        "{:>9}  {:>14}  {:>15}  {:>8}  {:>9}  {:>9}  {:>9}",
        "N", "mean of ratios", "ratio of totals", "RDP", "delay ms", "mean hops", "correct"
    );
    for r in &results {
        println!(
            "{:>9}  {:>14}  {:>15}  {:>8}  {:>9.1}  {:>9.3}  {:>8.4}%",
            r.nodes,
            opt(r.stats.stretch_mean, 3),
            opt(r.stats.stretch_total, 3),
            opt(r.stats.rdp_mean, 3),
            r.stats.mean_delay_ms,
            r.stats.mean_hops,
            100.0 * r.stats.correct_fraction
        );
    }
    for r in &results {
        println!("N = {}: {}", r.nodes, r.stats.correctness_line());
    }
    a.out.write(last.as_ref())?;
    a.common
        .write_outputs(&results, |dir| plot::locality(dir, &results).map(drop))
}

fn failure(a: &FailureArgs) -> Result<(), Error> {
    check_nodes(a.nodes)?;
    check(a.fail > 0.0 && a.fail < 1.0, || {
        format!(
            "--fail must be a fraction in (0, 1): some nodes fail, some survive; not {}",
            a.fail
        )
    })?;
    check(a.lookups >= 1, || "--lookups must be at least 1".to_owned())?;
    check_loss("--loss", a.loss)?;
    a.out.check()?;
    let s = setup(&a.common, a.loss)?;
    header(
        "failure",
        &s,
        &format!(
            ", {} nodes, {:.0}% fail silently, {} lookups of random keys per phase",
            a.nodes,
            100.0 * a.fail,
            a.lookups
        ),
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let window = (a.repair_window * SECOND as f64) as u64;
    let keep = a.out.trace.is_some();
    let (r, o, outcomes) =
        experiment::failure_experiment(&s, a.nodes, a.fail, a.lookups, window, keep)?;
    let (p0, p1, p2) = r.paper_hops;
    println!();
    println!(
        "{:<44}  {:>9}  {:>14}  {:>9}  {:>8}",
        "phase", "mean hops", "paper (fig 10)", "correct", "timeouts"
    );
    for (name, st, paper) in [
        ("no failure", &r.before, p0),
        (
            "after failures, no routing-table repair",
            &r.without_table_repair,
            p1,
        ),
        ("after the protocol's repair", &r.with_table_repair, p2),
    ] {
        println!(
            "{name:<44}  {:>9.3}  {paper:>14.2}  {:>8.4}%  {:>8}",
            st.mean_hops,
            100.0 * st.correct_fraction,
            st.timeouts
        );
    }
    println!();
    println!("{} of {} nodes failed.", r.failed, r.nodes);
    match r.leaf_sets_repaired_after_s {
        Some(t) => {
            println!("every leaf set was the true one {t:.0} simulated seconds after the failures")
        }
        None => println!("some leaf sets were still wrong 10 simulated minutes after the failures"),
    }
    for (name, st) in [
        ("no failure", &r.before),
        ("no table repair", &r.without_table_repair),
        ("repaired", &r.with_table_repair),
    ] {
        println!("{name}: {}", st.correctness_line());
    }
    let kinds: Vec<String> = r
        .repair_requests
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "messages from the failures to the last phase ({:.0} s of repair window): {}",
        r.repair_window_s,
        kinds.join(", ")
    );
    println!(
        "row and neighborhood requests per failed node: {:.1}, of which row maintenance accounts for about {:.1} (paper: {:.0} remote calls per failed node)",
        r.table_requests_per_failed,
        r.maintenance_rows_per_failed,
        paper::FIG10_REPAIR_CALLS_PER_FAILED
    );
    a.out.write(Some(&(o, outcomes)))?;
    a.common
        .write_outputs(&r, |dir| plot::failure(dir, &r).map(drop))
}

fn quality(a: &QualityArgs) -> Result<(), Error> {
    check_nodes(a.nodes)?;
    let s = setup(&a.common, 0.0)?;
    let digits = 128 / s.config.digit_width().bits();
    check(a.rows >= 1 && a.rows <= digits, || {
        format!(
            "--rows must be in 1..={digits} (the table's rows for b = {}), not {}",
            s.config.digit_width().bits(),
            a.rows
        )
    })?;
    check(a.sample >= 1, || "--sample must be at least 1".to_owned())?;
    header(
        "quality",
        &s,
        &format!(
            ", {} nodes, rows 0 to {}",
            a.nodes,
            a.rows.saturating_sub(1)
        ),
    );
    println!();
    println!(
        "Routing-table quality per node (paper figure 7, full join at {} nodes: row 0 about {:.1} of 15 optimal, under {:.0} entry per row not optimal)",
        paper::FIG7_NODES,
        paper::FIG7_ROW0_OPTIMAL,
        paper::FIG7_NON_OPTIMAL_MAX
    );
    let (o, _) = s.overlay(a.nodes, experiment::Maintenance::Idle)?;
    let q = pastry_sim::quality::table_quality(&o, a.rows, a.sample);
    let name = s.build.name().to_owned();
    println!();
    println!("{name} ({} of {} nodes measured)", q.measured, q.nodes);
    println!(
        "{:>4}  {:>8}  {:>11}  {:>6}  {:>8}",
        "row", "optimal", "not optimal", "empty", "fillable"
    );
    for r in &q.rows {
        println!(
            "{:>4}  {:>8.3}  {:>11.3}  {:>6.3}  {:>8.3}",
            r.row, r.optimal, r.non_optimal, r.empty, r.fillable
        );
    }
    let results = vec![(name, q)];
    let json: Vec<_> = results
        .iter()
        .map(|(name, q)| serde_json::json!({ "build": name, "quality": q }))
        .collect();
    a.common
        .write_outputs(&json, |dir| plot::table_quality(dir, &results).map(drop))
}

fn churn_spec(c: &ChurnCommon, churn: Churn, duration_s: f64) -> Result<ChurnSpec, Error> {
    if let Churn::Sessions(_) = churn {
        check_nodes(c.nodes)?;
    }
    let rate = c.rate.unwrap_or(c.nodes as f64 / 10.0);
    check(rate.is_finite() && rate > 0.0, || {
        format!("--rate must be a positive number of lookups per second, not {rate}")
    })?;
    check(c.sample <= duration_s + c.warmup, || {
        "--sample must not be longer than the whole run".to_owned()
    })?;
    Ok(ChurnSpec {
        nodes: c.nodes,
        churn,
        departure: match c.departure {
            DepartureKind::Crash => Departure::Crash,
            DepartureKind::Leave => Departure::Leave,
        },
        warmup_s: c.warmup,
        duration_s,
        lookup_rate: rate,
        sample_s: c.sample,
        drain_s: c.drain,
    })
}

fn print_churn(r: &ChurnResult) {
    let l = &r.lookups;
    println!(
        "{} lookups: {} correct, {} incorrect ({:.2e}), {} lost ({:.2e}); mean hops {:.3}; RDP {} (mean of ratios), {} (ratio of totals), {} (mean, lookups without a hop timeout); mean delay {:.1} ms",
        l.lookups,
        l.correct,
        l.incorrect,
        r.incorrect_rate,
        l.lost,
        r.lost_rate,
        l.mean_hops,
        opt(l.rdp_mean, 3),
        opt(l.rdp_total, 3),
        opt(l.rdp_mean_no_timeouts, 3),
        l.mean_delay_ms
    );
    let kinds: Vec<String> = r
        .control_by_kind
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect();
    println!(
        "control messages per second per node: {:.4} ({}); Route + Ack: {:.4}; {} messages lost by the network",
        r.control_per_node_s,
        kinds.join(", "),
        r.data_per_node_s,
        r.messages_lost
    );
    println!(
        "{} joins and {} departures in the window, {:.0} live nodes on average; joins: {} started, {} active, {:.2} s mean, {:.2} s median, {:.2} s 95th percentile to activation",
        r.arrivals,
        r.departures,
        r.mean_live,
        r.joins.started,
        r.joins.activated,
        r.joins.mean_s,
        r.joins.median_s,
        r.joins.p95_s
    );
    println!(
        "leaf sets differing from the true one: {:.4}% of active nodes on average over the samples; {} hop timeouts, {} lookups given up by a node, {} later copies delivered ({} not at the root)",
        100.0 * r.wrong_leaf_set_fraction,
        l.timeouts,
        l.gave_up,
        r.extra_deliveries.0,
        r.extra_deliveries.1
    );
}

fn churn(a: &ChurnArgs) -> Result<(), Error> {
    check_loss("--loss", a.loss)?;
    let s = setup(&a.common, a.loss)?;
    let churn = match &a.churn_trace {
        Some(p) => Churn::Trace(churn::read_trace(p).map_err(|e| format!("--churn-trace: {e}"))?),
        None => Churn::Sessions(a.session),
    };
    let spec = churn_spec(&a.churn, churn, a.duration)?;
    header(
        "churn",
        &s,
        &format!(
            ", {} nodes, {}, {:.0} lookups/s, {:.0} s warm-up, {:.0} s measured",
            spec.nodes,
            match &spec.churn {
                Churn::Sessions(x) => format!("sessions {x}"),
                Churn::Trace(e) => format!("trace of {} events", e.len()),
            },
            spec.lookup_rate,
            spec.warmup_s,
            spec.duration_s
        ),
    );
    let r = churn::churn_run(&s, &spec)?;
    println!();
    print_churn(&r);
    note_resources(&s.progress, r.wall_s);
    a.common
        .write_outputs(&r, |dir| plot::churn(dir, &r).map(drop))
}

fn dependability(a: &DependabilityArgs) -> Result<(), Error> {
    check(!a.session.is_empty(), || {
        "--session needs at least one value".to_owned()
    })?;
    check(!a.loss.is_empty(), || {
        "--loss needs at least one value".to_owned()
    })?;
    for &l in &a.loss {
        check_loss("--loss", l)?;
    }
    check(a.hours.is_finite() && a.hours > 0.0, || {
        format!("--hours must be positive, not {}", a.hours)
    })?;
    let mut results = Vec::new();
    let base = setup_with(&a.common, 0.0, BuildKind::Oracle)?;
    let losses: Vec<String> = a.loss.iter().map(f64::to_string).collect();
    header_with_loss(
        "dependability",
        &base,
        &losses.join(", "),
        &format!(
            ", {} nodes, {} h measured after {:.0} min of warm-up, protocol defaults (T_ls 20 s, T_o 1 s, T_rt 15 min, hop timeout 1 s within 50 ms..10 s, 10 retries)",
            a.churn.nodes,
            a.hours,
            a.churn.warmup / 60.0
        ),
    );
    for session in &a.session {
        for &loss in &a.loss {
            let s = Setup { loss, ..base };
            let spec = churn_spec(&a.churn, Churn::Sessions(*session), a.hours * 3600.0)?;
            let r = churn::churn_run(&s, &spec)?;
            println!();
            println!("sessions {session}, message loss {loss}:");
            print_churn(&r);
            s.progress
                .note(&format!("run took {:.0} s of wall time", r.wall_s));
            results.push(r);
        }
    }
    println!();
    println!("Beside MSPastry (DSN 2004; lost and incorrect per lookup, RDP, control messages per second per node):");
    println!(
        "{:<16} {:>5}  {:>10}  {:>10}  {:>9}  {:>7}  {:>9}  {:>10}",
        "sessions", "loss", "lookups", "lost", "incorrect", "RDP", "control", "wall s"
    );
    for r in &results {
        println!(
            "{:<16} {:>5}  {:>10}  {:>10.2e}  {:>9.2e}  {:>7}  {:>9.4}  {:>10.0}",
            r.churn.trim_start_matches("sessions "),
            r.loss,
            r.lookups.lookups,
            r.lost_rate,
            r.incorrect_rate,
            opt(r.lookups.rdp_mean, 3),
            r.control_per_node_s,
            r.wall_s
        );
    }
    for (loss, lost, rdp) in paper::MSPASTRY {
        println!(
            "{:<16} {:>5}  {:>10}  {:>10.2e}  {:>9}  {:>7}  {:>9}",
            "MSPastry", loss, "", lost, "", rdp, "< 0.5"
        );
    }
    note_resources(&base.progress, results.iter().map(|r| r.wall_s).sum());
    a.churn_common_outputs(&results)
}

impl DependabilityArgs {
    fn churn_common_outputs(&self, results: &[ChurnResult]) -> Result<(), Error> {
        self.common.write_outputs(&results, |dir| {
            for (i, r) in results.iter().enumerate() {
                plot::churn_named(dir, r, &format!("dependability_{i}"))?;
            }
            Ok(())
        })
    }
}

fn dht(a: &DhtArgs) -> Result<(), Error> {
    check_nodes(a.nodes)?;
    check(a.keys >= 1 && u32::try_from(a.keys).is_ok(), || {
        format!("--keys must be in 1..=4294967295, not {}", a.keys)
    })?;
    check(a.hours.is_finite() && a.hours > 0.0, || {
        format!("--hours must be positive, not {}", a.hours)
    })?;
    check_loss("--loss", a.loss)?;
    let get_rate = a.get_rate.unwrap_or(a.nodes as f64 / 60.0);
    check(get_rate.is_finite() && get_rate > 0.0, || {
        format!("--get-rate must be a positive number of gets per second, not {get_rate}")
    })?;
    let write_rate = a.write_rate.unwrap_or(a.nodes as f64 / 600.0);
    check(write_rate.is_finite() && write_rate >= 0.0, || {
        format!("--write-rate must be a number of writes per second, 0 or more, not {write_rate}")
    })?;
    check((0.0..=1.0).contains(&a.remove_share), || {
        format!("--remove-share must be in [0, 1], not {}", a.remove_share)
    })?;
    let mut cfg = pastry_dht::DhtConfig::default();
    check(a.value_bytes <= cfg.max_value, || {
        format!(
            "--value-bytes must be at most the DHT's value cap {}, not {}",
            cfg.max_value, a.value_bytes
        )
    })?;
    let routing = Config::PAPER;
    check((1..=routing.max_replicas()).contains(&a.replicas), || {
        format!(
            "--replicas must be in 1..={} (L/2 + 1), not {}",
            routing.max_replicas(),
            a.replicas
        )
    })?;
    cfg.replicas = a.replicas;
    if let Some(f) = &a.json {
        check_out_file("--json", f)?;
    }
    let net = pastry_sim::dht::DhtNet {
        config: routing,
        latency: Latency::WAN,
        loss: a.loss,
        seed: a.seed,
        progress: if a.quiet {
            Progress::quiet()
        } else {
            Progress::visible()
        },
    };
    let spec = pastry_sim::dht::DhtSpec {
        nodes: a.nodes,
        keys: a.keys,
        session: a.session,
        duration_s: a.hours * 3600.0,
        get_rate,
        write_rate,
        remove_share: a.remove_share,
        value_bytes: a.value_bytes,
        load_s: 60.0,
        drain_s: a.drain,
        dht: cfg,
    };
    println!(
        "pastry-sim dht: b = 4, L = 16, |M| = 32, k = {}, T_rep {} s, {} nodes, {} keys of {} bytes, sessions {}, message loss {}, seed {}; {} h of churn with {:.1} gets and {:.2} writes a second ({:.0}% removes), {:.0} s of drain",
        cfg.replicas,
        cfg.replication_period.as_secs(),
        a.nodes,
        a.keys,
        a.value_bytes,
        a.session,
        a.loss,
        a.seed,
        a.hours,
        get_rate,
        write_rate,
        a.remove_share * 100.0,
        a.drain
    );
    let r = pastry_sim::dht::dht_run(&net, &spec)?;
    print_dht(&r);
    note_resources(&net.progress, r.wall_s);
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&r)? + "\n")
            .map_err(|e| file_error("--json", p, &e))?;
    }
    Ok(())
}

fn print_dht(r: &pastry_sim::dht::DhtResult) {
    let w = |name: &str, x: &pastry_sim::dht::Writes| {
        println!(
            "{name}: {} issued, {} acknowledged ({} with fewer than k copies), {} failed, {} unanswered",
            x.issued, x.done, x.short, x.failed, x.unanswered
        );
    };
    w("puts at the start", &r.puts);
    println!("  stored in {:.1} simulated s", r.load_took_s);
    println!(
        "churn: {} arrivals, {} departures, {:.0} live nodes on average",
        r.arrivals, r.departures, r.mean_live
    );
    w("updates", &r.updates);
    w("removes", &r.removes);
    let g = &r.gets;
    println!(
        "gets: {} issued, {} counted; newest version {} ({:.5}%), older {} (of which a removed key's value {}), failed {}, unanswered {}; {} left out (the issuing node departed)",
        g.issued,
        g.counted(),
        g.newest,
        r.newest_fraction * 100.0,
        g.stale,
        g.reappeared,
        g.failed,
        g.unanswered,
        g.abandoned
    );
    let e = &r.end;
    println!(
        "at the end: {} keys with a value, {} values lost, {} under-replicated (newest version on fewer than k of the k closest); {} removed keys, {} would reappear",
        e.live_keys, e.values_lost, e.under_replicated, e.removed_keys, e.removed_reappear
    );
    println!(
        "records per node: mean {:.1}, max {} (max over mean {:.2}); {:.2} copies per key written; {} active nodes",
        e.records_mean, e.records_max, e.records_max_over_mean, e.copies_per_key, e.active
    );
    println!(
        "maintenance {:.1} bytes per second per node (DHT payloads); all traffic {:.1} bytes per second per node; {} maintenance rounds, {} keys handed off, {} writes refused full; {} messages lost",
        r.maintenance_bytes_per_node_s,
        r.all_bytes_per_node_s,
        r.rounds,
        r.handed_off,
        r.refused_full,
        r.messages_lost
    );
}

/// The process's peak resident memory, from /proc (Linux), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn note_resources(p: &Progress, wall_s: f64) {
    p.note(&format!(
        "{wall_s:.0} s of wall time, peak memory {}",
        peak_memory_mib().map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MiB"))
    ));
}

fn verify(a: &VerifyArgs) -> Result<bool, Error> {
    let b = pastry_kernel::DigitWidth::from_bits(a.digit_bits)
        .ok_or_else(|| format!("-b/--digit-bits must be 1, 2, 4 or 8, not {}", a.digit_bits))?;
    let verdict = trace::verify(&a.nodes, &a.trace, b).map_err(|e| {
        // Name the option whose file could not be read or parsed.
        let file = match &e {
            trace::ReadError::Io { file, .. } | trace::ReadError::Format { file, .. } => {
                file.clone()
            }
        };
        let option = if Path::new(&file) == a.nodes {
            "--nodes"
        } else {
            "--trace"
        };
        format!("{option}: {e}")
    })?;
    println!("{verdict}");
    Ok(verdict.all_good())
}

/// The allocator: mimalloc (see `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Hops(a) => hops(a).map(|()| true),
        Command::Locality(a) => locality(a).map(|()| true),
        Command::Failure(a) => failure(a).map(|()| true),
        Command::Quality(a) => quality(a).map(|()| true),
        Command::Churn(a) => churn(a).map(|()| true),
        Command::Dependability(a) => dependability(a).map(|()| true),
        Command::Dht(a) => dht(a).map(|()| true),
        Command::VerifyTrace(a) => verify(a),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("pastry-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
