//! Churn: nodes arriving and departing while lookups run, and the dependability measures of
//! MSPastry (Castro, Costa, Rowstron, DSN 2004) over simulated time.
//!
//! Arrivals are a Poisson process and session times exponential or Pareto
//! ([`Session`]), with the arrival rate set so that the network holds about `N` nodes
//! (N / mean session per second, Little's law); or they come from a trace file of
//! `time,id,join|leave` lines ([`read_trace`]). The nodes present at the start are built by
//! the experiment's [`Build`](crate::experiment::Build); their remaining session times are
//! drawn from the stationary residual distribution, so the network is in steady state from the
//! first second. A departure is a crash (silent) unless asked to be a graceful leave.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use pastry_node::{Kind, Time};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::engine::Traffic;
use crate::experiment::{hop_bound, rng, Accumulator, Error, Maintenance, Setup, Stats, Stream};
use crate::model::{handle, random_guid, Handle, Population};
use crate::overlay::{Outcome, SECOND};

/// A distribution of session times (how long a node stays).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub enum Session {
    /// No churn: the nodes stay for the whole run.
    None,
    /// Exponential with this mean, in seconds.
    Exponential {
        /// The mean session time in seconds.
        mean_s: f64,
    },
    /// Pareto (type I) with this mean in seconds and shape α > 1; the scale is
    /// mean · (α − 1) / α.
    Pareto {
        /// The mean session time in seconds.
        mean_s: f64,
        /// The shape α.
        shape: f64,
    },
}

/// Why a session or duration could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Reads a duration: a number with an optional unit `s`, `m`, `h` or `d` (seconds when
/// none): `135m`, `2h`, `30`, `1.5h`. Returns seconds; must be positive and finite.
///
/// # Errors
/// Anything else, in words.
pub fn parse_duration(s: &str) -> Result<f64, ParseError> {
    let t = s.trim();
    let (num, scale) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        Some('d') => (&t[..t.len() - 1], 86400.0),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| ParseError(format!("`{s}` is not a duration (examples: 90s, 135m, 2h)")))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(ParseError(format!("the duration `{s}` must be positive")));
    }
    Ok(v * scale)
}

impl std::str::FromStr for Session {
    type Err = ParseError;

    /// `none`, `exp:MEAN` or `pareto:MEAN[:SHAPE]` (shape 2 when not given), MEAN a duration.
    fn from_str(s: &str) -> Result<Session, ParseError> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let bad = || {
            ParseError(format!(
                "`{s}` is not a session distribution: use none, exp:MEAN or pareto:MEAN[:SHAPE] (examples: exp:135m, pareto:2h:1.5)"
            ))
        };
        match parts.as_slice() {
            ["none"] => Ok(Session::None),
            ["exp", mean] => Ok(Session::Exponential {
                mean_s: parse_duration(mean)?,
            }),
            ["pareto", mean, rest @ ..] if rest.len() <= 1 => {
                let shape = match rest {
                    [] => 2.0,
                    [a] => a.parse().map_err(|_| bad())?,
                    _ => return Err(bad()),
                };
                if !(shape > 1.0 && f64::is_finite(shape)) {
                    return Err(ParseError(format!(
                        "the Pareto shape in `{s}` must be above 1 (the mean is infinite otherwise)"
                    )));
                }
                Ok(Session::Pareto {
                    mean_s: parse_duration(mean)?,
                    shape,
                })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Session::None => f.write_str("none"),
            Session::Exponential { mean_s } => write!(f, "exp:{}m", mean_s / 60.0),
            Session::Pareto { mean_s, shape } => write!(f, "pareto:{}m:{shape}", mean_s / 60.0),
        }
    }
}

/// A uniform value in (0, 1].
fn unit(r: &mut ChaCha8Rng) -> f64 {
    1.0 - r.random::<f64>()
}

impl Session {
    /// The mean session time in seconds (infinite for [`Session::None`]).
    #[must_use]
    pub fn mean_s(&self) -> f64 {
        match self {
            Session::None => f64::INFINITY,
            Session::Exponential { mean_s } | Session::Pareto { mean_s, .. } => *mean_s,
        }
    }

    /// A session time in seconds.
    pub fn draw(&self, r: &mut ChaCha8Rng) -> f64 {
        match *self {
            Session::None => f64::INFINITY,
            Session::Exponential { mean_s } => -mean_s * unit(r).ln(),
            Session::Pareto { mean_s, shape } => {
                let scale = mean_s * (shape - 1.0) / shape;
                scale * unit(r).powf(-1.0 / shape)
            }
        }
    }

    /// The remaining session time in seconds of a node present at a random moment of the
    /// steady state: density (1 − F(x)) / mean (the exponential's is itself).
    pub fn draw_residual(&self, r: &mut ChaCha8Rng) -> f64 {
        match *self {
            Session::None => f64::INFINITY,
            Session::Exponential { .. } => self.draw(r),
            Session::Pareto { mean_s, shape } => {
                let scale = mean_s * (shape - 1.0) / shape;
                // CDF: x / mean below the scale; above it
                // (scale + scale / (α − 1) · (1 − (scale / x)^(α − 1))) / mean.
                let u = 1.0 - unit(r);
                let below = scale / mean_s;
                if u <= below {
                    u * mean_s
                } else {
                    let inner = 1.0 - (u * mean_s - scale) * (shape - 1.0) / scale;
                    scale * inner.max(f64::MIN_POSITIVE).powf(-1.0 / (shape - 1.0))
                }
            }
        }
    }
}

/// What a departure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Departure {
    /// The node stops without a word (MSPastry's traces count every departure as a failure).
    Crash,
    /// The node leaves gracefully: it tells its leaf set first.
    Leave,
}

/// One line of a churn trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    /// Seconds from the start.
    pub time_s: f64,
    /// The node's name in the trace.
    pub id: String,
    /// Joins (true) or leaves (false).
    pub join: bool,
}

/// Reads a churn trace: one `time,id,join|leave` line per event, time in seconds from the
/// start, in non-decreasing order; blank lines and lines starting with `#` are skipped. An id
/// may join again after it left (a new session, a new node).
///
/// # Errors
/// The file and line of the first problem, or the I/O error with the file's name.
pub fn read_trace(path: &Path) -> Result<Vec<TraceEvent>, Error> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the churn trace {name}: {e}"))?;
    let mut out: Vec<TraceEvent> = Vec::new();
    let mut present = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let at = || format!("{name}:{}", i + 1);
        let fields: Vec<&str> = t.split(',').map(str::trim).collect();
        let [time, id, what] = fields.as_slice() else {
            return Err(format!("{}: expected `time,id,join|leave`, found `{t}`", at()).into());
        };
        let time_s: f64 = time
            .parse()
            .map_err(|_| format!("{}: `{time}` is not a time in seconds", at()))?;
        if !time_s.is_finite() || time_s < 0.0 {
            return Err(format!("{}: the time {time} must be a non-negative number", at()).into());
        }
        if out.last().is_some_and(|e| e.time_s > time_s) {
            return Err(format!("{}: times must not decrease", at()).into());
        }
        let join = match *what {
            "join" => true,
            "leave" => false,
            other => {
                return Err(format!("{}: `{other}` is neither `join` nor `leave`", at()).into())
            }
        };
        if join && !present.insert((*id).to_owned()) {
            return Err(format!("{}: node `{id}` joins while present", at()).into());
        }
        if !join && !present.remove(*id) {
            return Err(format!("{}: node `{id}` leaves but is not present", at()).into());
        }
        out.push(TraceEvent {
            time_s,
            id: (*id).to_owned(),
            join,
        });
    }
    if out.is_empty() {
        return Err(format!("the churn trace {name} holds no event").into());
    }
    Ok(out)
}

/// Where the churn comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Churn {
    /// Poisson arrivals and these session times, the network held around the experiment's N.
    Sessions(Session),
    /// A trace; the network starts empty and the trace's joins build it.
    Trace(Vec<TraceEvent>),
}

/// A churn run's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ChurnSpec {
    /// Nodes at the start (and the mean size under [`Churn::Sessions`]).
    pub nodes: usize,
    /// The churn.
    pub churn: Churn,
    /// What a departure is.
    pub departure: Departure,
    /// Simulated seconds before measuring.
    pub warmup_s: f64,
    /// Simulated seconds measured.
    pub duration_s: f64,
    /// Lookups per simulated second over the whole network (a Poisson process).
    pub lookup_rate: f64,
    /// Seconds per point of the time series.
    pub sample_s: f64,
    /// Simulated seconds the run goes on after the measured window (churn continues, no new
    /// lookups) so that the window's last lookups can finish.
    pub drain_s: f64,
}

/// A scheduled change of membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Join(Handle),
    Depart(Handle),
}

/// The whole run's membership changes, and how many nodes ever take part.
#[derive(Clone, Debug)]
struct Schedule {
    initial: usize,
    total: usize,
    changes: Vec<(Time, Change)>,
}

fn micros(s: f64) -> Time {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped, finite
    {
        (s * 1e6).clamp(0.0, 1e18).round() as Time
    }
}

fn schedule(spec: &ChurnSpec, seed: u64, end: Time) -> Schedule {
    let mut r = rng(seed, Stream::Churn);
    let mut changes = Vec::new();
    match &spec.churn {
        Churn::Sessions(session) => {
            let n = spec.nodes;
            for h in 0..n {
                let left = micros(session.draw_residual(&mut r));
                if left < end {
                    changes.push((left, Change::Depart(handle(h))));
                }
            }
            let mut next = handle(n);
            if let Session::None = session {
            } else {
                let rate = n as f64 / session.mean_s();
                let mut t = 0.0f64;
                loop {
                    t += -unit(&mut r).ln() / rate;
                    let at = micros(t);
                    if at >= end {
                        break;
                    }
                    changes.push((at, Change::Join(next)));
                    let leave = at.saturating_add(micros(session.draw(&mut r)));
                    if leave < end {
                        changes.push((leave, Change::Depart(next)));
                    }
                    next += 1;
                }
            }
            changes.sort_by_key(|(t, c)| {
                (
                    *t,
                    match c {
                        Change::Join(h) | Change::Depart(h) => *h,
                    },
                )
            });
            Schedule {
                initial: n,
                total: next as usize,
                changes,
            }
        }
        Churn::Trace(events) => {
            let mut current = std::collections::HashMap::new();
            let mut next = 0u32;
            for e in events {
                let at = micros(e.time_s);
                if e.join {
                    current.insert(e.id.clone(), next);
                    changes.push((at, Change::Join(next)));
                    next += 1;
                } else if let Some(h) = current.remove(&e.id) {
                    changes.push((at, Change::Depart(h)));
                }
            }
            Schedule {
                initial: 0,
                total: next as usize,
                changes,
            }
        }
    }
}

/// One point of the time series: the lookups issued in the interval and the network's state
/// at its end.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sample {
    /// End of the interval, simulated minutes from the start.
    pub minute: f64,
    /// Live nodes (joining or active) at the end.
    pub live: usize,
    /// Active nodes at the end.
    pub active: usize,
    /// Active nodes whose leaf set differs from the true one at the end.
    pub wrong_leaf_sets: usize,
    /// The interval's lookups (by issue time).
    pub lookups: Stats,
    /// Control messages per second per live node in the interval.
    pub control_per_node_s: f64,
    /// Joins that finished in the interval.
    pub joins: usize,
}

/// Join times of the joins started in the measured window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct JoinTimes {
    /// Joins started.
    pub started: usize,
    /// Of those, joins that reached the active phase.
    pub activated: usize,
    /// Mean time to activation, seconds.
    pub mean_s: f64,
    /// Median, seconds.
    pub median_s: f64,
    /// 95th percentile, seconds.
    pub p95_s: f64,
}

/// The measures of a churn run over its window.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChurnResult {
    /// Nodes at the start.
    pub nodes: usize,
    /// The churn, in words.
    pub churn: String,
    /// What a departure was.
    pub departure: Departure,
    /// Message loss probability.
    pub loss: f64,
    /// Seconds of warm-up.
    pub warmup_s: f64,
    /// Seconds measured.
    pub duration_s: f64,
    /// Lookups per second asked for.
    pub lookup_rate: f64,
    /// Joins and departures in the measured window.
    pub arrivals: usize,
    /// Departures in the measured window.
    pub departures: usize,
    /// Mean live nodes over the window.
    pub mean_live: f64,
    /// The window's lookups (issued in it; followed to their end).
    pub lookups: Stats,
    /// `lookups.lost / lookups.lookups`.
    pub lost_rate: f64,
    /// `lookups.incorrect / lookups.lookups`.
    pub incorrect_rate: f64,
    /// Control messages per second per live node in the window ([`Kind::is_control`]).
    pub control_per_node_s: f64,
    /// The same by kind (name, messages per second per node), kinds sent only.
    pub control_by_kind: Vec<(String, f64)>,
    /// Route and Ack messages per second per live node.
    pub data_per_node_s: f64,
    /// Messages the network lost in the window.
    pub messages_lost: u64,
    /// Join times.
    pub joins: JoinTimes,
    /// Mean over the window's samples of the fraction of active nodes whose leaf set differs
    /// from the true one.
    pub wrong_leaf_set_fraction: f64,
    /// Deliveries of a lookup after its first (copies re-routed after a lost ack) in the
    /// window, and how many of those were not at the root.
    pub extra_deliveries: (u64, u64),
    /// The time series, one point per sample interval (warm-up included).
    pub samples: Vec<Sample>,
    /// Wall-clock seconds of the run (build included).
    pub wall_s: f64,
}

/// Runs `spec` on `setup`'s network: builds the initial nodes, then runs churn and lookups for
/// the warm-up, the measured window and the drain, and measures.
///
/// # Errors
/// A build that failed.
#[allow(clippy::too_many_lines)]
pub fn churn_run(setup: &Setup, spec: &ChurnSpec) -> Result<ChurnResult, Error> {
    let started = Instant::now();
    let start_window = micros(spec.warmup_s);
    let end_window = start_window + micros(spec.duration_s);
    let end = end_window + micros(spec.drain_s);
    let sched = schedule(spec, setup.seed, end);
    let pop = Arc::new(Population::random(setup.seed, sched.total.max(1)));
    let (mut o, _) = setup.overlay_of(Arc::clone(&pop), sched.initial, Maintenance::Protocol)?;
    let t0 = o.now();
    let mut lookups = rng(setup.seed, Stream::Lookups);
    let sample = micros(spec.sample_s).max(1);
    let bound = hop_bound(&setup.config);
    let buckets = usize::try_from(end_window.div_ceil(sample)).unwrap_or(0);
    let mut per_bucket: Vec<Accumulator> = vec![Accumulator::default(); buckets];
    let mut window = Accumulator::default();
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_lookup = if spec.lookup_rate > 0.0 {
        -unit(&mut lookups).ln() / spec.lookup_rate
    } else {
        f64::INFINITY
    };
    let mut changes = sched.changes.iter().peekable();
    let mut next_sample = sample;
    let mut traffic_at_sample = o.traffic().clone();
    let mut node_time_at_sample = o.meter().node_time(t0);
    // Snapshots at the window's start and end: (traffic, node-time, extra deliveries).
    let mut at_start = None;
    let mut at_end = None;
    let (mut arrivals, mut departures) = (0usize, 0usize);
    let mut wrong_fractions = Vec::new();
    let bar = setup
        .progress
        .bar("simulated seconds", end.div_ceil(SECOND));
    let fold = |x: &Outcome, per_bucket: &mut Vec<Accumulator>, window: &mut Accumulator| {
        let sent = x.sent - t0;
        if let Some(b) = usize::try_from(sent / sample)
            .ok()
            .and_then(|b| per_bucket.get_mut(b))
        {
            b.add(&pop, setup.latency, x, bound);
        }
        if (start_window..end_window).contains(&sent) {
            window.add(&pop, setup.latency, x, bound);
        }
    };
    loop {
        let lookup_at = if next_lookup * 1e6 < end_window as f64 {
            t0 + micros(next_lookup)
        } else {
            Time::MAX
        };
        let change_at = changes.peek().map_or(Time::MAX, |(t, _)| t0 + t);
        let sample_at = t0 + next_sample;
        let mark_at = if at_start.is_none() {
            t0 + start_window
        } else if at_end.is_none() {
            t0 + end_window
        } else {
            Time::MAX
        };
        let at = lookup_at.min(change_at).min(sample_at).min(mark_at);
        if at > t0 + end {
            break;
        }
        o.run_until(at);
        let rel = at - t0;
        if at == mark_at {
            let snapshot = (
                o.traffic().clone(),
                o.meter().node_time(at),
                o.meter().extra_deliveries(),
            );
            if at_start.is_none() {
                at_start = Some(snapshot);
            } else {
                at_end = Some(snapshot);
            }
        }
        if at == sample_at {
            for x in o.meter_mut().take_finished() {
                fold(&x, &mut per_bucket, &mut window);
            }
            let (wrong, active) = o.wrong_leaf_sets();
            let t = o.traffic().since(&traffic_at_sample);
            let nt = o.meter().node_time(at);
            let node_s = (nt - node_time_at_sample) as f64 / 1e6;
            traffic_at_sample = o.traffic().clone();
            node_time_at_sample = nt;
            let joins = o
                .meter()
                .joins()
                .iter()
                .filter(|j| {
                    j.activated
                        .is_some_and(|a| a > at.saturating_sub(sample) && a <= at)
                })
                .count();
            samples.push(Sample {
                minute: rel as f64 / 60e6,
                live: o.meter().live(),
                active,
                wrong_leaf_sets: wrong,
                lookups: Stats::default(),
                control_per_node_s: t.control() as f64 / node_s.max(1e-9),
                joins,
            });
            if rel > start_window && rel <= end_window && active > 0 {
                wrong_fractions.push(wrong as f64 / active as f64);
            }
            next_sample += sample;
            bar.set_position(rel / SECOND);
        }
        if at == change_at {
            if let Some((_, c)) = changes.next() {
                let in_window = (start_window..end_window).contains(&rel);
                match *c {
                    Change::Join(h) => {
                        o.start_join(h)?;
                        arrivals += usize::from(in_window);
                    }
                    Change::Depart(h) => {
                        match spec.departure {
                            Departure::Crash => o.crash(h),
                            Departure::Leave => o.leave(h),
                        }
                        departures += usize::from(in_window);
                    }
                }
            }
        }
        if at == lookup_at {
            let live = o.meter().active_handles();
            if !live.is_empty() {
                let s = live[lookups.random_range(0..live.len())];
                let k = random_guid(&mut lookups);
                let _ = o.lookup(s, k);
            }
            next_lookup += -unit(&mut lookups).ln() / spec.lookup_rate;
        }
    }
    bar.finish_and_clear();
    o.run_until(t0 + end);
    // What is still outstanding after the drain was never delivered: lost.
    let mut rest = o.meter_mut().take_finished();
    rest.extend(o.meter_mut().take_lost());
    for x in &rest {
        fold(x, &mut per_bucket, &mut window);
    }
    for (s, acc) in samples.iter_mut().zip(&per_bucket) {
        acc.fill(&mut s.lookups);
    }
    let now = o.now();
    let (traffic0, node_time0, (e0, i0)) =
        at_start.unwrap_or_else(|| (Traffic::default(), 0, (0, 0)));
    let (traffic1, node_time1, (e1, i1)) = at_end.unwrap_or_else(|| {
        (
            o.traffic().clone(),
            o.meter().node_time(now),
            o.meter().extra_deliveries(),
        )
    });
    let mut lookups_stats = Stats::default();
    window.fill(&mut lookups_stats);
    let traffic = traffic1.since(&traffic0);
    let node_s = ((node_time1 - node_time0) as f64 / 1e6).max(1e-9);
    let window_s = spec.duration_s.max(1e-9);
    let control_by_kind = Kind::ALL
        .iter()
        .filter(|k| k.is_control() && traffic.sent[k.index()] > 0)
        .map(|k| (k.name().to_owned(), traffic.sent[k.index()] as f64 / node_s))
        .collect();
    let data = traffic.sent[Kind::Route.index()] + traffic.sent[Kind::Ack.index()];
    let mut times: Vec<f64> = Vec::new();
    let mut started_joins = 0;
    for j in o.meter().joins() {
        let rel = j.started - t0;
        if (start_window..end_window).contains(&rel) {
            started_joins += 1;
            if let Some(a) = j.activated {
                times.push((a - j.started) as f64 / 1e6);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if times.is_empty() {
            0.0
        } else {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((times.len() - 1) as f64 * p).round() as usize;
            times[i]
        }
    };
    let joins = JoinTimes {
        started: started_joins,
        activated: times.len(),
        mean_s: times.iter().sum::<f64>() / times.len().max(1) as f64,
        median_s: pct(0.5),
        p95_s: pct(0.95),
    };
    let n = lookups_stats.lookups.max(1) as f64;
    Ok(ChurnResult {
        nodes: spec.nodes,
        churn: match &spec.churn {
            Churn::Sessions(s) => format!("sessions {s}"),
            Churn::Trace(e) => format!("trace of {} events", e.len()),
        },
        departure: spec.departure,
        loss: setup.loss,
        warmup_s: spec.warmup_s,
        duration_s: spec.duration_s,
        lookup_rate: spec.lookup_rate,
        arrivals,
        departures,
        mean_live: node_s / window_s,
        lost_rate: lookups_stats.lost as f64 / n,
        incorrect_rate: lookups_stats.incorrect as f64 / n,
        lookups: lookups_stats,
        control_per_node_s: traffic.control() as f64 / node_s,
        control_by_kind,
        data_per_node_s: data as f64 / node_s,
        messages_lost: traffic.total_lost(),
        joins,
        wrong_leaf_set_fraction: wrong_fractions.iter().sum::<f64>()
            / wrong_fractions.len().max(1) as f64,
        extra_deliveries: (e1 - e0, i1 - i0),
        samples,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn durations_and_sessions_parse() {
        assert_eq!(parse_duration("135m"), Ok(8100.0));
        assert_eq!(parse_duration("2h"), Ok(7200.0));
        assert_eq!(parse_duration("30"), Ok(30.0));
        assert!(parse_duration("-3m").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            "exp:135m".parse::<Session>(),
            Ok(Session::Exponential { mean_s: 8100.0 })
        );
        assert_eq!(
            "pareto:1h:1.5".parse::<Session>(),
            Ok(Session::Pareto {
                mean_s: 3600.0,
                shape: 1.5
            })
        );
        assert_eq!("none".parse::<Session>(), Ok(Session::None));
        assert!("pareto:1h:1".parse::<Session>().is_err());
        assert!("weibull:1h".parse::<Session>().is_err());
    }

    /// The draws have the asked mean, and the residual draws the stationary residual mean
    /// E[X²] / (2 E[X]).
    #[test]
    fn session_draws_have_their_means() {
        let mut r = ChaCha8Rng::seed_from_u64(9);
        let n = 400_000;
        for s in [
            Session::Exponential { mean_s: 100.0 },
            Session::Pareto {
                mean_s: 100.0,
                shape: 3.0,
            },
        ] {
            let mean: f64 = (0..n).map(|_| s.draw(&mut r)).sum::<f64>() / f64::from(n);
            assert!((mean - 100.0).abs() < 1.5, "{s}: mean {mean}");
            // E[X²] / (2 E[X]): exponential 100; Pareto(α = 3, scale 200/3):
            // E[X²] = α scale² / (α − 2) = 3 · (200/3)² = 13,333.3, so 66.67.
            let want = match s {
                Session::Exponential { .. } => 100.0,
                _ => 13_333.333 / 200.0,
            };
            let res: f64 = (0..n).map(|_| s.draw_residual(&mut r)).sum::<f64>() / f64::from(n);
            assert!(
                (res - want).abs() / want < 0.02,
                "{s}: residual {res}, want {want}"
            );
        }
    }

    #[test]
    fn sessions_schedule_holds_the_size() {
        let spec = ChurnSpec {
            nodes: 1000,
            churn: Churn::Sessions(Session::Exponential { mean_s: 600.0 }),
            departure: Departure::Crash,
            warmup_s: 0.0,
            duration_s: 3600.0,
            lookup_rate: 0.0,
            sample_s: 60.0,
            drain_s: 0.0,
        };
        let s = schedule(&spec, 4, micros(3600.0));
        let mut live = s.initial as i64;
        let mut min_max = (live, live);
        for (_, c) in &s.changes {
            live += match c {
                Change::Join(_) => 1,
                Change::Depart(_) => -1,
            };
            min_max = (min_max.0.min(live), min_max.1.max(live));
        }
        assert!(min_max.0 > 850 && min_max.1 < 1150, "{min_max:?}");
        // About 1000 / 600 arrivals per second for an hour.
        let joins = s
            .changes
            .iter()
            .filter(|(_, c)| matches!(c, Change::Join(_)))
            .count();
        assert!((5400..6600).contains(&joins), "{joins}");
        assert_eq!(s.total, 1000 + joins);
    }
}
