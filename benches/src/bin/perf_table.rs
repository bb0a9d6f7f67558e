//! Prints the README's performance table from a criterion output directory.
//!
//! `perf-table [--peers] [CRITERION_DIR]` (default: `$CRITERION_DIR`, else `target/criterion`).
//! It reads every `*/new/benchmark.json` and `estimates.json` pair criterion wrote, and prints
//! Markdown: the medians per element of every `route/*` group with the ratios to `floor` and of
//! the baselines to `kernel`, the flatness of `kernel` over N, the target figures, and
//! the other groups' medians. The `peers/closest` group is left out there: it comes from its own
//! run (`benches/report.sh --peers`), and `--peers` prints only its table, every median and
//! ratio from that group's results.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

/// One benchmark's result.
#[derive(Clone, Debug)]
struct Bench {
    group: String,
    function: String,
    parameter: String,
    /// Median time per element, in nanoseconds.
    median_ns: f64,
}

/// Reads every result under `dir`.
fn collect(dir: &Path, out: &mut Vec<Bench>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(b) = read_bench(&path)? {
                out.push(b);
            }
        } else if path.file_name().is_some_and(|n| n != "report") {
            collect(&path, out)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// One `new/` directory: its benchmark.json and estimates.json.
fn read_bench(dir: &Path) -> Result<Option<Bench>, String> {
    let (bench, est) = (dir.join("benchmark.json"), dir.join("estimates.json"));
    if !bench.exists() || !est.exists() {
        return Ok(None);
    }
    let bench = read_json(&bench)?;
    let est = read_json(&est)?;
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let elements = bench["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    let Some(median) = est["median"]["point_estimate"].as_f64() else {
        return Ok(None);
    };
    Ok(Some(Bench {
        group: text(&bench["group_id"]),
        function: text(&bench["function_id"]),
        parameter: text(&bench["value_str"]),
        median_ns: median / elements,
    }))
}

/// Medians by (group, function, parameter).
struct Results(BTreeMap<(String, String, String), f64>);

impl Results {
    fn get(&self, group: &str, function: &str, parameter: &str) -> Option<f64> {
        self.0
            .get(&(group.into(), function.into(), parameter.into()))
            .copied()
    }

    fn groups(&self, prefix: &str) -> Vec<String> {
        let mut g: Vec<String> = self
            .0
            .keys()
            .filter(|(g, _, _)| g.starts_with(prefix))
            .map(|(g, _, _)| g.clone())
            .collect();
        g.dedup();
        g
    }

    fn parameters(&self, group: &str) -> Vec<String> {
        let mut p: Vec<String> = self
            .0
            .keys()
            .filter(|(g, _, _)| g == group)
            .map(|(_, _, p)| p.clone())
            .collect();
        p.sort_by_key(|p| shape_order(p));
        p.dedup();
        p
    }

    fn functions(&self, group: &str) -> Vec<String> {
        let mut f: Vec<String> = self
            .0
            .keys()
            .filter(|(g, _, _)| g == group)
            .map(|(_, f, _)| f.clone())
            .collect();
        f.sort();
        f.dedup();
        f
    }
}

/// Sorts `b4-L16-N1e3` style parameters by b, then L, then N; others keep their text order.
fn shape_order(p: &str) -> (u32, u32, u64, String) {
    let mut b = 0;
    let mut l = 0;
    let mut n = 0u64;
    for part in p.split('-') {
        if let Some(v) = part.strip_prefix('b') {
            b = v.parse().unwrap_or(0);
        } else if let Some(v) = part.strip_prefix('L') {
            l = v.parse().unwrap_or(0);
        } else if let Some(v) = part.strip_prefix("N1e") {
            n = 10u64.saturating_pow(v.parse().unwrap_or(0));
        } else if let Some(v) = part.strip_prefix('N') {
            n = v.parse().unwrap_or(0);
        }
    }
    // b = 4 first: the main shapes, then the other widths.
    (u32::from(b != 4), l * 100 + b, n, p.to_string())
}

fn ns(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
        None => "–".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "–".into(),
    }
}

/// The implementations of the route groups in column order.
const ROUTE_IMPLS: [&str; 5] = ["kernel", "floor", "sorted_vec", "btreemap", "linear_scan"];

fn route_tables(r: &Results) {
    for group in r.groups("route/") {
        println!("\n#### `{group}` (ns per key, median)\n");
        let extra: Vec<String> = r
            .functions(&group)
            .into_iter()
            .filter(|f| !ROUTE_IMPLS.contains(&f.as_str()))
            .collect();
        let mut head = String::from("| shape |");
        for f in ROUTE_IMPLS
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
        {
            head.push_str(&format!(" `{f}` |"));
        }
        head.push_str(" kernel / floor | sorted_vec / kernel |");
        println!("{head}");
        println!("|{}", "---|".repeat(ROUTE_IMPLS.len() + extra.len() + 3));
        for p in r.parameters(&group) {
            let mut row = format!("| {p} |");
            for f in ROUTE_IMPLS
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str))
            {
                row.push_str(&format!(" {} |", ns(r.get(&group, f, &p))));
            }
            let kernel = r.get(&group, "kernel", &p);
            row.push_str(&format!(
                " {} | {} |",
                ratio(kernel, r.get(&group, "floor", &p)),
                ratio(r.get(&group, "sorted_vec", &p), kernel)
            ));
            println!("{row}");
        }
    }
}

/// `kernel` at the largest N over `kernel` at the smallest, per (group, b, L).
fn flatness(r: &Results) {
    println!("\n#### Flatness of `kernel` in N (N = 10^3 → 10^6)\n");
    println!("| group | b, L | N=1e3 | N=1e4 | N=1e5 | N=1e6 | 1e6 / 1e3 | max / min |");
    println!("|---|---|---|---|---|---|---|---|");
    for group in r.groups("route/") {
        for (b, l) in [(4, 16), (4, 24)] {
            let v: Vec<Option<f64>> = (3..=6)
                .map(|e| r.get(&group, "kernel", &format!("b{b}-L{l}-N1e{e}")))
                .collect();
            if v.iter().all(Option::is_none) {
                continue;
            }
            let known: Vec<f64> = v.iter().flatten().copied().collect();
            let max = known.iter().copied().fold(f64::MIN, f64::max);
            let min = known.iter().copied().fold(f64::MAX, f64::min);
            println!(
                "| `{group}` | {b}, {l} | {} | {} | {} | {} | {} | {} |",
                ns(v[0]),
                ns(v[1]),
                ns(v[2]),
                ns(v[3]),
                ratio(v[3], v[0]),
                ratio(Some(max), Some(min))
            );
        }
    }
}

fn targets(r: &Results) {
    let p = "b4-L16-N1e5";
    let g = "route/uniform";
    let kernel = r.get(g, "kernel", p);
    let floor = r.get(g, "floor", p);
    let sorted = r.get(g, "sorted_vec", p);
    let met = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not measured",
    };
    println!("\n#### Targets (issue 7)\n");
    println!("| target | figure | |");
    println!("|---|---|---|");
    let kf = kernel.zip(floor).map(|(k, f)| k / f);
    println!(
        "| `route/uniform` {p}: kernel within 2× of floor | {} ns vs {} ns = {} | {} |",
        ns(kernel),
        ns(floor),
        ratio(kernel, floor),
        met(kf.map(|x| x <= 2.0))
    );
    let sk = kernel.zip(sorted).map(|(k, s)| s / k);
    println!(
        "| `route/uniform` {p}: kernel ≥ 3× faster than sorted_vec | {} ns vs {} ns = {} | {} |",
        ns(kernel),
        ns(sorted),
        ratio(sorted, kernel),
        met(sk.map(|x| x >= 3.0))
    );
    if let Some(h) = r.get(g, "harness", p) {
        let net = |v: Option<f64>| v.map(|v| v - h);
        println!(
            "| same, net of the per-key `harness` ({} ns): kernel / floor, sorted_vec / kernel | {} and {} | for reading only |",
            ns(Some(h)),
            ratio(net(kernel), net(floor)),
            ratio(net(sorted), net(kernel))
        );
    }
    let a = r.get(g, "kernel", "b4-L16-N1e3");
    let b = r.get(g, "kernel", "b4-L16-N1e6");
    println!(
        "| `route/uniform` b4-L16: kernel 1e6 / 1e3 within 1.5× | {} ns → {} ns = {} | {} |",
        ns(a),
        ns(b),
        ratio(b, a),
        met(a.zip(b).map(|(a, b)| b / a <= 1.5 && a / b <= 1.5))
    );
}

/// The `peers/closest` group: the kernel beside discv5 and libp2p-kad, with the ratios and the
/// target "kernel ≥ 100× faster". Returns whether the group has results.
fn peers(r: &Results) -> bool {
    let g = "peers/closest";
    let Some(p) = r.parameters(g).into_iter().next() else {
        return false;
    };
    let kernel = r.get(g, "kernel", &p);
    println!("\n#### `{g}` {p} (ns per key, median)\n");
    println!(
        "| implementation | ns per key | kernel is faster by | target: kernel ≥ 100× faster |"
    );
    println!("|---|---|---|---|");
    println!("| `kernel` (`NodeState::route`) | {} | – | |", ns(kernel));
    for (peer, what) in [
        ("discv5", "discv5 `KBucketsTable::closest_keys`"),
        (
            "libp2p_kad",
            "libp2p-kad `Behaviour::get_closest_local_peers`",
        ),
    ] {
        let v = r.get(g, peer, &p);
        let verdict = match kernel.zip(v).map(|(k, v)| v / k >= 100.0) {
            Some(true) => "met",
            Some(false) => "missed",
            None => "not measured",
        };
        println!(
            "| `{peer}` ({what}) | {} | {} | {verdict} |",
            ns(v),
            ratio(v, kernel)
        );
    }
    true
}

fn other_groups(r: &Results) {
    let groups: Vec<String> =
        r.0.keys()
            .map(|(g, _, _)| g.clone())
            .filter(|g| !g.starts_with("route/") && !g.starts_with("peers/"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
    if groups.is_empty() {
        return;
    }
    println!(
        "\n#### Other groups (ns per element, median; per state for `state/codec`, whose throughput is in bytes)\n"
    );
    println!("| group | implementation | parameter | ns |");
    println!("|---|---|---|---|");
    for g in groups {
        for p in r.parameters(&g) {
            for f in r.functions(&g) {
                if let Some(v) = r.get(&g, &f, &p) {
                    println!("| `{g}` | `{f}` | {p} | {} |", ns(Some(v)));
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let peers_only = args.iter().any(|a| a == "--peers");
    args.retain(|a| a != "--peers");
    let dir: PathBuf = args
        .into_iter()
        .next()
        .or_else(|| std::env::var("CRITERION_DIR").ok())
        .unwrap_or_else(|| "target/criterion".into())
        .into();
    let mut benches = Vec::new();
    if let Err(e) = collect(&dir, &mut benches) {
        eprintln!("perf-table: {e}");
        return ExitCode::FAILURE;
    }
    if benches.is_empty() {
        eprintln!("perf-table: no criterion results under {}", dir.display());
        return ExitCode::FAILURE;
    }
    let results = Results(
        benches
            .into_iter()
            .map(|b| ((b.group, b.function, b.parameter), b.median_ns))
            .collect(),
    );
    if peers_only {
        if !peers(&results) {
            eprintln!(
                "perf-table: no peers/closest results under {}",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    targets(&results);
    route_tables(&results);
    flatness(&results);
    other_groups(&results);
    ExitCode::SUCCESS
}
