//! `pastry-sim`: re-runs the Pastry paper's experiments on pastry-kernel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pastry_kernel::Config;
use pastry_sim::experiment::{self, Build, Setup};
use pastry_sim::network::{JoinProtocol, Network, Outcome};
use pastry_sim::progress::Progress;
use pastry_sim::{paper, plot, trace};

const EXAMPLES: &str = "\
Examples:
  # The paper's figures 4 and 5 at 10,000 nodes built by the join protocol
  pastry-sim hops --nodes 10000

  # Figure 4's whole curve, with charts
  pastry-sim hops --nodes 1000,2000,5000,10000,20000,50000,100000 --plot docs/plots

  # One million nodes from global knowledge, one million lookups
  pastry-sim hops --nodes 1000000 --build oracle --lookups 1000000

  # Locality (figure 6), routing-table quality (figure 7), failures (figure 10), churn
  pastry-sim locality --nodes 10000
  pastry-sim quality --nodes 5000
  pastry-sim failure --nodes 5000
  pastry-sim churn --nodes 2000 --rounds 20

  # Check a run's routes independently of the simulator
  pastry-sim hops --nodes 100000 --trace routes.jsonl --nodes-out nodes.txt
  pastry-sim verify-trace --nodes nodes.txt --trace routes.jsonl";

/// Re-runs the experiments of the Pastry paper (Rowstron & Druschel, Middleware 2001) on the
/// pastry-kernel routing core: N nodes with random ids at random points of a 1000 × 1000
/// plane, Euclidean distance as proximity, messages routed hop by hop through each node's
/// `route`, every lookup checked against the brute-force root among live nodes.
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
    /// Route distance over direct distance between random node pairs (paper figure 6).
    #[command(after_help = EXAMPLES)]
    Locality(SizesArgs),
    /// 10% of the nodes fail silently; lookups of random keys before, after the failures
    /// without routing-table repair, and after repair; repair cost (paper figure 10).
    #[command(after_help = EXAMPLES)]
    Failure(FailureArgs),
    /// Routing-table quality (paper figure 7): per row, the slots holding the proximity-best
    /// live node of their range, another node, or none; for each variant of the join
    /// protocol (or for the oracle build with --build oracle).
    #[command(after_help = EXAMPLES)]
    Quality(QualityArgs),
    /// Joins and silent failures at a given rate with repair running: the fraction of lookups
    /// delivered to the true root, and hops, round by round (beyond the paper).
    #[command(after_help = EXAMPLES)]
    Churn(ChurnArgs),
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
    /// How to build the network: `join` runs the kernel's join protocol node by node; `oracle`
    /// computes every state from global knowledge (fast, for the largest sizes).
    #[arg(long, value_enum, default_value_t = BuildKind::Join)]
    build: BuildKind,
    /// Join build: how much of the paper's join protocol runs. `full`: the state from the join
    /// route, the second (locality) stage, and the new state sent to every node in it, which
    /// merge it; `second-stage`: the nodes in the new state only learn of the new node;
    /// `route-only`: no second stage either.
    #[arg(long, value_enum, default_value_t = ProtocolKind::Full)]
    join_protocol: ProtocolKind,
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
    #[command(flatten)]
    out: TraceArgs,
    #[command(flatten)]
    common: Common,
}

/// Files for checking a run independently (`verify-trace`).
#[derive(Args, Debug)]
struct TraceArgs {
    /// Write one JSON line per lookup, {"key", "source", "path"}: of the last size, or of the
    /// failure experiment's last phase (after repair).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write the live ids, one 32-hex id per line: of the last size, or after the failures.
    #[arg(long, value_name = "FILE")]
    nodes_out: Option<PathBuf>,
}

impl TraceArgs {
    fn wanted(&self) -> bool {
        self.trace.is_some() || self.nodes_out.is_some()
    }

    fn write(&self, last: Option<&(Network, Vec<Outcome>)>) -> Result<(), Failure> {
        if let Some((net, outcomes)) = last {
            if let Some(p) = &self.trace {
                trace::write_trace(p, net, outcomes)?;
            }
            if let Some(p) = &self.nodes_out {
                trace::write_nodes(p, net)?;
            }
        }
        Ok(())
    }
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
    /// sample of this size (each measured node is compared with every live node).
    #[arg(long, default_value_t = 5_000)]
    sample: usize,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct ChurnArgs {
    /// Network size at the start.
    #[arg(short, long, default_value_t = 2_000)]
    nodes: usize,
    /// Rounds.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Fraction of the nodes that fail silently, and as many that join, per round.
    #[arg(long, default_value_t = 0.02)]
    rate: f64,
    /// Lookups of random keys per round, interleaved with the joins and failures.
    #[arg(short, long, default_value_t = 5_000)]
    lookups: usize,
    #[command(flatten)]
    common: Common,
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
enum ProtocolKind {
    RouteOnly,
    SecondStage,
    Full,
}

impl From<ProtocolKind> for JoinProtocol {
    fn from(k: ProtocolKind) -> JoinProtocol {
        match k {
            ProtocolKind::RouteOnly => JoinProtocol::RouteOnly,
            ProtocolKind::SecondStage => JoinProtocol::SecondStage,
            ProtocolKind::Full => JoinProtocol::Full,
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn setup(c: &Common) -> Result<Setup, Failure> {
    let config = Config::new(c.digit_bits, c.leaf_set, c.neighborhood)?;
    let build = match c.build {
        BuildKind::Join => Build::Join {
            protocol: c.join_protocol.into(),
        },
        BuildKind::Oracle => Build::Oracle {
            candidates_per_slot: c.candidates,
        },
    };
    Ok(Setup {
        config,
        seed: c.seed,
        build,
        progress: if c.quiet {
            Progress::quiet()
        } else {
            Progress::visible()
        },
    })
}

fn header(what: &str, s: &Setup, extra: &str) {
    let c = s.config;
    println!(
        "pastry-sim {what}: b = {}, L = {}, |M| = {}, build {}, seed {}{extra}",
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
        draw: impl FnOnce(&Path) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        if let Some(p) = &self.json {
            std::fs::write(p, serde_json::to_string_pretty(results)? + "\n")?;
        }
        if let Some(dir) = &self.plot {
            std::fs::create_dir_all(dir)?;
            draw(dir)?;
        }
        Ok(())
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

fn hops(a: &SizesArgs) -> Result<(), Failure> {
    let s = setup(&a.common)?;
    header(
        "hops",
        &s,
        &format!(", {} lookups between random node pairs per size", a.lookups),
    );
    let keep = a.out.wanted();
    let (results, last) = experiment::sizes_experiment(&s, &a.nodes, a.lookups, keep);
    let b = s.config.digit_width().bits();
    println!();
    println!(
        "{:>9}  {:>9}  {:>13}  {:>8}  {:>9}",
        "N",
        "mean hops",
        "paper (fig 4)",
        format!("log{} N", 1u32 << b),
        "at root"
    );
    for r in &results {
        println!(
            "{:>9}  {:>9.3}  {:>13}  {:>8.3}  {:>8.4}%",
            r.nodes,
            r.stats.mean_hops,
            opt(r.paper_mean_hops, 3),
            r.log_n,
            100.0 * r.stats.at_root_fraction
        );
    }
    for r in &results {
        println!("N = {}: {}", r.nodes, r.stats.correctness_line());
        if let Some(c) = r.join_cost_per_node {
            println!(
                "N = {}: per join, {:.2} hops of the join message, {:.1} states or rows requested, {:.0} candidates probed, {:.1} nodes sent the new state, {:.0} candidates probed by them",
                r.nodes, c.route_hops, c.state_requests, c.probes, c.told, c.announce_probes
            );
        }
    }
    if let Some(r) = results.last() {
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
        plot::hops_vs_nodes(dir, &results, b)?;
        if let Some(r) = results.last() {
            plot::hop_distribution(dir, r)?;
        }
        Ok(())
    })
}

fn locality(a: &SizesArgs) -> Result<(), Failure> {
    let s = setup(&a.common)?;
    header(
        "locality",
        &s,
        &format!(", {} lookups between random node pairs per size", a.lookups),
    );
    let keep = a.out.wanted();
    let (results, last) = experiment::sizes_experiment(&s, &a.nodes, a.lookups, keep);
    println!();
    println!(
        "Route distance over direct distance (paper figure 6: {:.2} to {:.2}, {:.3} at 100,000)",
        paper::FIG6_STRETCH_RANGE.0,
        paper::FIG6_STRETCH_RANGE.1,
        paper::FIG6_STRETCH_100K
    );
    println!(
        "{:>9}  {:>16}  {:>16}  {:>9}  {:>9}",
        "N", "mean of ratios", "ratio of totals", "mean hops", "at root"
    );
    for r in &results {
        println!(
            "{:>9}  {:>16}  {:>16}  {:>9.3}  {:>8.4}%",
            r.nodes,
            opt(r.stats.stretch_mean, 3),
            opt(r.stats.stretch_total, 3),
            r.stats.mean_hops,
            100.0 * r.stats.at_root_fraction
        );
    }
    for r in &results {
        println!("N = {}: {}", r.nodes, r.stats.correctness_line());
    }
    a.out.write(last.as_ref())?;
    a.common
        .write_outputs(&results, |dir| plot::locality(dir, &results).map(drop))
}

fn failure(a: &FailureArgs) -> Result<(), Failure> {
    let s = setup(&a.common)?;
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
    let keep = a.out.trace.is_some();
    let (r, net, outcomes) = experiment::failure_experiment(&s, a.nodes, a.fail, a.lookups, keep);
    let (p0, p1, p2) = r.paper_hops;
    println!();
    println!(
        "{:<44}  {:>9}  {:>13}  {:>9}  {:>8}",
        "phase", "mean hops", "paper (fig 10)", "at root", "timeouts"
    );
    for (name, st, paper) in [
        ("no failure", &r.before, p0),
        (
            "after failures, no routing-table repair",
            &r.without_table_repair,
            p1,
        ),
        (
            "after failures, routing tables repaired",
            &r.with_table_repair,
            p2,
        ),
    ] {
        println!(
            "{name:<44}  {:>9.3}  {paper:>13.2}  {:>8.4}%  {:>8}",
            st.mean_hops,
            100.0 * st.at_root_fraction,
            st.timeouts
        );
    }
    println!();
    println!("{} of {} nodes failed.", r.failed, r.nodes);
    for (name, st) in [
        ("no failure", &r.before),
        ("no table repair", &r.without_table_repair),
        ("repaired", &r.with_table_repair),
    ] {
        println!("{name}: {}", st.correctness_line());
    }
    let c = &r.leaf_set_repair;
    println!(
        "leaf-set repair: {} leaf sets requested, {} dead hints, {} candidates probed",
        c.leaf_set_requests, c.dead_asks, c.probes
    );
    let c = &r.table_repair;
    println!(
        "table repair: {} failed entries noticed, {} rows and {} neighborhood sets requested, {} dead hints, {} candidates probed",
        c.failures_noticed, c.row_requests, c.neighborhood_requests, c.dead_asks, c.probes
    );
    println!(
        "table rows requested per failed node: {:.1}",
        c.row_requests as f64 / r.failed.max(1) as f64
    );
    println!(
        "repair requests per failed node: {:.1} for routing tables and neighborhood sets, {:.1} with leaf sets (paper: {:.0} remote calls)",
        r.table_requests_per_failed,
        r.all_requests_per_failed,
        paper::FIG10_REPAIR_CALLS_PER_FAILED
    );
    a.out.write(Some(&(net, outcomes)))?;
    a.common
        .write_outputs(&r, |dir| plot::failure(dir, &r).map(drop))
}

fn quality(a: &QualityArgs) -> Result<(), Failure> {
    let s = setup(&a.common)?;
    header(
        "quality",
        &s,
        &format!(
            ", {} nodes, rows 0 to {}",
            a.nodes,
            a.rows.saturating_sub(1)
        ),
    );
    let builds: Vec<(String, Setup)> = match s.build {
        Build::Join { .. } => JoinProtocol::ALL
            .iter()
            .map(|&protocol| {
                let build = Build::Join { protocol };
                (format!("join, {}", protocol.name()), Setup { build, ..s })
            })
            .collect(),
        Build::Oracle { .. } => vec![("oracle".to_owned(), s)],
    };
    println!();
    println!(
        "Routing-table quality per node (paper figure 7, full join at {} nodes: row 0 about {:.1} of 15 optimal, under {:.0} entry per row not optimal)",
        paper::FIG7_NODES,
        paper::FIG7_ROW0_OPTIMAL,
        paper::FIG7_NON_OPTIMAL_MAX
    );
    let mut results = Vec::new();
    for (name, setup) in builds {
        let (net, _) = setup.network(a.nodes);
        let q = pastry_sim::quality::table_quality(&net, a.rows, a.sample);
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
        results.push((name, q));
    }
    let json: Vec<_> = results
        .iter()
        .map(|(name, q)| serde_json::json!({ "build": name, "quality": q }))
        .collect();
    a.common
        .write_outputs(&json, |dir| plot::table_quality(dir, &results).map(drop))
}

fn churn(a: &ChurnArgs) -> Result<(), Failure> {
    let s = setup(&a.common)?;
    header(
        "churn",
        &s,
        &format!(
            ", {} nodes, {:.1}% fail and as many join per round, {} lookups per round",
            a.nodes,
            100.0 * a.rate,
            a.lookups
        ),
    );
    let r = experiment::churn_experiment(&s, a.nodes, a.rounds, a.rate, a.lookups);
    println!();
    println!(
        "{:>5}  {:>6}  {:>5}  {:>5}  {:>9}  {:>9}  {:>8}  {:>8}  {:>8}",
        "round", "live", "joins", "fails", "at root", "mean hops", "timeouts", "requests", "loops"
    );
    for x in &r.rounds {
        println!(
            "{:>5}  {:>6}  {:>5}  {:>5}  {:>8.4}%  {:>9.3}  {:>8}  {:>8}  {:>8}",
            x.round,
            x.live,
            x.joins,
            x.failures,
            100.0 * x.stats.at_root_fraction,
            x.stats.mean_hops,
            x.stats.timeouts,
            x.repair.requests(),
            x.stats.loops
        );
    }
    println!("all rounds: {}", r.total.correctness_line());
    println!("mean hops over all rounds: {:.3}", r.total.mean_hops);
    a.common
        .write_outputs(&r, |dir| plot::churn(dir, &r).map(drop))
}

fn verify(a: &VerifyArgs) -> Result<bool, Failure> {
    let b = pastry_kernel::DigitWidth::from_bits(a.digit_bits)
        .ok_or_else(|| format!("bits per digit must be 1, 2, 4 or 8, not {}", a.digit_bits))?;
    let verdict = trace::verify(&a.nodes, &a.trace, b)?;
    println!("{verdict}");
    Ok(verdict.all_good())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Hops(a) => hops(a).map(|()| true),
        Command::Locality(a) => locality(a).map(|()| true),
        Command::Failure(a) => failure(a).map(|()| true),
        Command::Quality(a) => quality(a).map(|()| true),
        Command::Churn(a) => churn(a).map(|()| true),
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
