//! SVG charts of the measured figures beside the paper's (plotters, SVG backend only).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::churn::ChurnResult;
use crate::experiment::{FailureResult, Routing, SizeResult};
use crate::model::log_base;
use crate::paper;
use crate::quality::{RowQuality, TableQuality};

/// A chart could not be drawn or written.
pub type PlotError = Box<dyn std::error::Error + Send + Sync>;

fn boxed<E: std::fmt::Display>(e: E) -> PlotError {
    e.to_string().into()
}

/// Draws the series legend at `at`, on a translucent white box with a black border.
fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(boxed)
}

const MEASURED: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PAPER: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const REFERENCE: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);

/// Mean hops against N: measured (for each routing measured), the paper's figure 4, log_{2^b}
/// N, and with leaf-set routing N / L (each hop of circular routing moves at most L/2 nodes
/// along the ring, and a key is on average N/4 nodes away: N / (2L) hops, so N / L bounds it
/// from above), on a logarithmic hop axis then. Writes `dir/hops_vs_nodes.svg`, or
/// `dir/routing_table_gain.svg` when leaf-set routing was measured, and returns its path.
///
/// # Errors
/// When the file cannot be written.
pub fn hops_vs_nodes(
    dir: &Path,
    results: &[SizeResult],
    digit_bits: u32,
    leaf_set_len: usize,
) -> Result<PathBuf, PlotError> {
    let leaf = results.iter().any(|r| r.routing == Routing::LeafSet);
    let file = dir.join(if leaf {
        "routing_table_gain.svg"
    } else {
        "hops_vs_nodes.svg"
    });
    let mut xs: Vec<f64> = results.iter().map(|r| r.nodes as f64).collect();
    if !leaf {
        xs.extend(paper::FIG4_HOPS.iter().map(|(n, _)| *n as f64));
    }
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min) * 0.8;
    let hi = xs.iter().copied().fold(0.0, f64::max) * 1.25;
    let measured_top = results
        .iter()
        .map(|r| r.stats.mean_hops.max(r.log_n))
        .fold(log_base(hi as usize, digit_bits), f64::max);
    let root = SVGBackend::new(&file, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let caption = if leaf {
        "Average hops against N: routing table against leaf set alone"
    } else {
        "Average hops against N (paper figure 4)"
    };
    let curve =
        |pts: Vec<(f64, f64)>, color: RGBColor, label: String| -> Curve { (pts, color, label) };
    let log_pts: Vec<(f64, f64)> = (0..=40)
        .map(|i| {
            let x = lo * (hi / lo).powf(f64::from(i) / 40.0);
            (x, log_base(x as usize, digit_bits))
        })
        .collect();
    let paper_pts: Vec<(f64, f64)> = paper::FIG4_HOPS
        .iter()
        .map(|(n, h)| (*n as f64, *h))
        .collect();
    let mut series = vec![curve(
        log_pts,
        REFERENCE,
        format!("log{} N", 1u32 << digit_bits),
    )];
    if !leaf {
        series.push(curve(paper_pts, PAPER, "paper, figure 4".to_owned()));
    }
    if leaf {
        let l = leaf_set_len as f64;
        let pts = vec![(lo, lo / l), (hi, hi / l)];
        series.push(curve(
            pts,
            RGBColor(0x2c, 0xa0, 0x2c),
            format!("N / L (L = {leaf_set_len})"),
        ));
    }
    for (routing, color) in [
        (Routing::Pastry, MEASURED),
        (Routing::LeafSet, RGBColor(0xff, 0x7f, 0x0e)),
    ] {
        let pts: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| r.routing == routing)
            .map(|r| (r.nodes as f64, r.stats.mean_hops))
            .collect();
        if !pts.is_empty() {
            let build = results.first().map_or("no run", |r| r.build.name());
            series.push(curve(
                pts,
                color,
                format!("measured, {} ({build})", routing.name()),
            ));
        }
    }
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55);
    if leaf {
        let top = measured_top.max(hi / leaf_set_len as f64) * 1.5;
        let mut chart = builder
            .build_cartesian_2d((lo..hi).log_scale(), (1.0..top).log_scale())
            .map_err(boxed)?;
        chart
            .configure_mesh()
            .x_desc("nodes N (log scale)")
            .y_desc("average hops (log scale)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(boxed)?;
        draw_curves(&mut chart, &series)?;
    } else {
        let mut chart = builder
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..measured_top + 0.5)
            .map_err(boxed)?;
        chart
            .configure_mesh()
            .x_desc("nodes N (log scale)")
            .y_desc("average hops")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(boxed)?;
        draw_curves(&mut chart, &series)?;
    }
    root.present().map_err(boxed)?;
    Ok(file.clone())
}

/// A curve: its points, colour and label.
type Curve = (Vec<(f64, f64)>, RGBColor, String);

/// Draws `series` as lines (with dots, except the grey reference curves) and the legend.
fn draw_curves<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    series: &[Curve],
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (pts, color, label) in series.iter().cloned() {
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(boxed)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        if color != REFERENCE {
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(boxed)?;
        }
    }
    legend(chart, SeriesLabelPosition::UpperLeft)
}

/// The hop distribution of `result` beside the paper's figure 5 (measured at N = 100,000).
/// Writes `dir/hop_distribution.svg` and returns its path.
///
/// # Errors
/// When the file cannot be written.
pub fn hop_distribution(dir: &Path, result: &SizeResult) -> Result<PathBuf, PlotError> {
    let file = dir.join("hop_distribution.svg");
    let bars = result
        .stats
        .distribution
        .len()
        .max(paper::FIG5_DISTRIBUTION.len());
    let root = SVGBackend::new(&file, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Hop distribution, {} nodes ({}) and paper figure 5 (100,000 nodes)",
                result.nodes,
                result.build.name()
            ),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..(bars as f64 - 0.5), 0.0f64..1.0)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc("hops")
        .y_desc("probability")
        .x_labels(bars)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(boxed)?;
    let measured = result.stats.distribution.clone();
    chart
        .draw_series(measured.iter().enumerate().map(|(h, p)| {
            let x = h as f64;
            Rectangle::new([(x - 0.38, 0.0), (x, *p)], MEASURED.filled())
        }))
        .map_err(boxed)?
        .label(format!("measured, {} nodes", result.nodes))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], MEASURED.filled()));
    chart
        .draw_series(paper::FIG5_DISTRIBUTION.iter().enumerate().map(|(h, p)| {
            let x = h as f64;
            Rectangle::new([(x, 0.0), (x + 0.38, *p)], PAPER.filled())
        }))
        .map_err(boxed)?
        .label("paper, figure 5")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], PAPER.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(boxed)?;
    Ok(file.clone())
}

/// Route distance over direct distance against N, beside the paper's figure 6 range. Writes
/// `dir/locality.svg` and returns its path.
///
/// # Errors
/// When the file cannot be written.
pub fn locality(dir: &Path, results: &[SizeResult]) -> Result<PathBuf, PlotError> {
    let file = dir.join("locality.svg");
    let lo = results
        .iter()
        .map(|r| r.nodes)
        .min()
        .unwrap_or(1000)
        .min(1000) as f64
        * 0.8;
    let hi = results
        .iter()
        .map(|r| r.nodes)
        .max()
        .unwrap_or(100_000)
        .max(100_000) as f64
        * 1.25;
    let root = SVGBackend::new(&file, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Route distance over direct distance (paper figure 6)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((lo..hi).log_scale(), 1.0f64..2.0)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc("nodes N (log scale)")
        .y_desc("relative distance")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(boxed)?;
    let (plo, phi) = paper::FIG6_STRETCH_RANGE;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(1000.0, plo), (100_000.0, phi)],
            PAPER.mix(0.25).filled(),
        )))
        .map_err(boxed)?
        .label("paper, figure 6 (1.30 to 1.36)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], PAPER.mix(0.25).filled()));
    for (name, pick, color) in [
        (
            "measured, mean of per-route ratios",
            (|r: &SizeResult| r.stats.stretch_mean) as fn(&SizeResult) -> Option<f64>,
            MEASURED,
        ),
        (
            "measured, total route over total direct",
            |r: &SizeResult| r.stats.stretch_total,
            REFERENCE,
        ),
    ] {
        let pts: Vec<(f64, f64)> = results
            .iter()
            .filter_map(|r| pick(r).map(|s| (r.nodes as f64, s)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(boxed)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))
            .map_err(boxed)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(boxed)?;
    Ok(file.clone())
}

/// Figure 10: mean hops before the failures, without and with routing-table repair, measured
/// beside the paper's. Writes `dir/failure.svg` and returns its path.
///
/// # Errors
/// When the file cannot be written.
pub fn failure(dir: &Path, r: &FailureResult) -> Result<PathBuf, PlotError> {
    let file = dir.join("failure.svg");
    let measured = [
        r.before.mean_hops,
        r.without_table_repair.mean_hops,
        r.with_table_repair.mean_hops,
    ];
    let (a, b, c) = r.paper_hops;
    let paper_bars = [a, b, c];
    let top = measured
        .iter()
        .chain(&paper_bars)
        .copied()
        .fold(0.0, f64::max)
        + 1.0;
    let root = SVGBackend::new(&file, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Hops with {} of {} nodes failed (paper figure 10)",
                r.failed, r.nodes
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..2.5, 0.0..top)
        .map_err(boxed)?;
    let names = ["no failure", "no table repair", "tables repaired"];
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(3)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && (0.0..=2.0).contains(&i) {
                names[i as usize].to_owned()
            } else {
                String::new()
            }
        })
        .y_desc("average hops")
        .draw()
        .map_err(boxed)?;
    chart
        .draw_series(measured.iter().enumerate().map(|(i, h)| {
            let x = i as f64;
            Rectangle::new([(x - 0.38, 0.0), (x, *h)], MEASURED.filled())
        }))
        .map_err(boxed)?
        .label(format!("measured ({})", r.build.name()))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], MEASURED.filled()));
    chart
        .draw_series(paper_bars.iter().enumerate().map(|(i, h)| {
            let x = i as f64;
            Rectangle::new([(x, 0.0), (x + 0.38, *h)], PAPER.filled())
        }))
        .map_err(boxed)?
        .label("paper, figure 10")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], PAPER.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(boxed)?;
    Ok(file.clone())
}

/// A churn run over simulated time: [`churn_named`] with the name `churn`.
///
/// # Errors
/// When the file cannot be written.
pub fn churn(dir: &Path, r: &ChurnResult) -> Result<PathBuf, PlotError> {
    churn_named(dir, r, "churn")
}

/// A churn run over simulated time, five panels sharing the time axis: live and active
/// nodes; lookups not delivered at the root (incorrect and lost) per 100,000; relative delay
/// penalty and mean hops; control messages per second per node; the percentage of active
/// nodes whose leaf set differs from the true one. Lookup panels skip intervals without
/// lookups (the drain). The measured window is shaded. Writes `dir/{name}.svg` and returns
/// its path.
///
/// # Errors
/// When the file cannot be written.
pub fn churn_named(dir: &Path, r: &ChurnResult, name: &str) -> Result<PathBuf, PlotError> {
    type Pick = fn(&crate::churn::Sample) -> Option<f64>;
    type Panel<'a> = (&'a str, Vec<(&'a str, RGBColor, Pick)>);
    let file = dir.join(format!("{name}.svg"));
    let end = r.samples.last().map_or(1.0, |s| s.minute).max(1.0);
    let (w0, w1) = (r.warmup_s / 60.0, (r.warmup_s + r.duration_s) / 60.0);
    let root = SVGBackend::new(&file, (900, 1150)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let (title, body) = root.split_vertically(40);
    title
        .titled(
            &format!(
                "{} nodes, {}, message loss {}, {:.0} lookups/s (measured window shaded)",
                r.nodes, r.churn, r.loss, r.lookup_rate
            ),
            ("sans-serif", 20),
        )
        .map_err(boxed)?;
    let panels = body.split_evenly((5, 1));
    let specs: [Panel<'_>; 5] = [
        (
            "nodes",
            vec![
                ("live", MEASURED, |s| Some(s.live as f64)),
                ("active", REFERENCE, |s| Some(s.active as f64)),
            ],
        ),
        (
            "per 100,000 lookups",
            vec![
                ("incorrect", PAPER, |s| {
                    let l = &s.lookups;
                    (l.lookups > 0).then(|| 1e5 * l.incorrect as f64 / l.lookups as f64)
                }),
                ("lost", MEASURED, |s| {
                    let l = &s.lookups;
                    (l.lookups > 0).then(|| 1e5 * l.lost as f64 / l.lookups as f64)
                }),
            ],
        ),
        (
            "RDP, hops",
            vec![
                ("relative delay penalty", MEASURED, |s| s.lookups.rdp_mean),
                ("mean hops", REFERENCE, |s| {
                    (s.lookups.lookups > 0).then_some(s.lookups.mean_hops)
                }),
            ],
        ),
        (
            "control msgs / s / node",
            vec![
                ("control messages per second per live node", MEASURED, |s| {
                    Some(s.control_per_node_s)
                }),
            ],
        ),
        (
            "% leaf sets",
            vec![(
                "active nodes whose leaf set is not the true one",
                PAPER,
                |s| Some(100.0 * s.wrong_leaf_sets as f64 / s.active.max(1) as f64),
            )],
        ),
    ];
    for (area, (ylabel, lines)) in panels.iter().zip(specs) {
        let top = r
            .samples
            .iter()
            .flat_map(|s| lines.iter().filter_map(move |(_, _, pick)| pick(s)))
            .fold(0.0f64, f64::max)
            .max(1e-3)
            * 1.15;
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(boxed)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("simulated minutes")
            .y_desc(ylabel)
            .draw()
            .map_err(boxed)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(w0, 0.0), (w1.min(end), top)],
                REFERENCE.mix(0.12).filled(),
            )))
            .map_err(boxed)?;
        for (label, color, pick) in lines {
            let pts: Vec<(f64, f64)> = r
                .samples
                .iter()
                .filter_map(|s| pick(s).map(|v| (s.minute, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(boxed)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present().map_err(boxed)?;
    Ok(file.clone())
}

/// Where one layer of a stacked quality bar starts and ends.
type Span = fn(&RowQuality) -> (f64, f64);

/// Routing-table quality (figure 7): for each row, one stacked bar per measured network (in
/// the order given), optimal entries at the bottom, then entries that are not the
/// proximity-best, then empty slots that a live node could fill. Writes
/// `dir/table_quality.svg` and returns its path.
///
/// # Errors
/// When the file cannot be written.
pub fn table_quality(
    dir: &Path,
    measured: &[(String, TableQuality)],
) -> Result<PathBuf, PlotError> {
    let file = dir.join("table_quality.svg");
    let rows = measured
        .iter()
        .map(|(_, q)| q.rows.len())
        .max()
        .unwrap_or(0);
    let bars = measured.len().max(1) as f64;
    let width = 0.8 / bars;
    let top = measured
        .iter()
        .flat_map(|(_, q)| q.rows.iter().map(|r| r.fillable))
        .fold(15.0f64, f64::max);
    let root = SVGBackend::new(&file, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let names: Vec<&str> = measured.iter().map(|(n, _)| n.as_str()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Routing-table quality, {} nodes; bars per row: {}",
                measured.first().map_or(0, |(_, q)| q.nodes),
                names.join(" | ")
            ),
            ("sans-serif", 16),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..(rows as f64 - 0.5), 0.0f64..top * 1.15)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc("routing-table row")
        .y_desc("entries per node")
        .x_labels(rows)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(boxed)?;
    let layers: [(&str, RGBColor, Span); 3] = [
        ("proximity-best entry", MEASURED, |r| (0.0, r.optimal)),
        ("other entry", RGBColor(0xff, 0x7f, 0x0e), |r| {
            (r.optimal, r.optimal + r.non_optimal)
        }),
        ("empty, fillable", REFERENCE, |r| {
            (r.optimal + r.non_optimal, r.fillable)
        }),
    ];
    for (label, colour, span) in layers {
        chart
            .draw_series(measured.iter().enumerate().flat_map(|(i, (_, q))| {
                q.rows.iter().map(move |r| {
                    let x = f64::from(r.row) - 0.4 + width * i as f64;
                    let (lo, hi) = span(r);
                    Rectangle::new([(x + 0.02, lo), (x + width - 0.02, hi)], colour.filled())
                })
            }))
            .map_err(boxed)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled()));
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![
                (-0.45, paper::FIG7_ROW0_OPTIMAL),
                (0.45, paper::FIG7_ROW0_OPTIMAL),
            ],
            PAPER.stroke_width(2),
        )))
        .map_err(boxed)?
        .label("paper, figure 7: row 0 optimal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], PAPER.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(boxed)?;
    Ok(file.clone())
}
