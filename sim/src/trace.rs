//! Route traces (`--trace`), live-node lists (`--nodes-out`), and an independent checker.
//!
//! A trace has one JSON object per line,
//! `{"key": "<32 hex>", "source": "<32 hex>", "path": ["<32 hex>", ...]}`, the path running from
//! the source to the delivering node. A node list has one 32-hex id per line. The checker uses
//! only these two files and the definitions of docs/design.md: it does not look at any routing
//! state.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use pastry_kernel::arith::{closer, makes_progress};
use pastry_kernel::{DigitWidth, Guid};

use crate::model::Population;
use crate::overlay::{Outcome, Overlay};

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TraceLine {
    /// The key, 32 hex digits.
    pub key: String,
    /// The source node's id.
    pub source: String,
    /// The ids of the nodes visited, from the source to the delivering node.
    pub path: Vec<String>,
}

/// Writes one [`TraceLine`] per delivered lookup that kept its path: the nodes the message
/// reached, in order, from the source to the delivering node.
///
/// # Errors
/// Any I/O error.
pub fn write_trace(path: &Path, pop: &Population, outcomes: &[Outcome]) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    let id = |h: u32| pop.id(h).to_string();
    for o in outcomes {
        let (Some(p), Some(_)) = (&o.path, o.delivered) else {
            continue;
        };
        let line = TraceLine {
            key: o.key.to_string(),
            source: id(o.source),
            path: p.iter().map(|&h| id(h)).collect(),
        };
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Writes the active node ids, one 32-hex id per line, in increasing order.
///
/// # Errors
/// Any I/O error.
pub fn write_nodes(path: &Path, overlay: &Overlay) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for (id, _) in overlay.meter().active_ids() {
        writeln!(w, "{id}")?;
    }
    w.flush()
}

/// What the checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Trace lines read.
    pub lookups: u64,
    /// Paths ending at the root of their key among the listed nodes.
    pub at_root: u64,
    /// Hops checked.
    pub hops: u64,
    /// Hops that made progress (longer shared prefix with the key, or strictly closer to it).
    pub progressing_hops: u64,
    /// Paths that visit a node twice.
    pub repeated_nodes: u64,
    /// Paths whose first node is not the source.
    pub wrong_start: u64,
    /// Path nodes that are not in the node list.
    pub unknown_nodes: u64,
    /// Paths longer than the hop bound 128/b + 1.
    pub over_hop_bound: u64,
    /// The first few problems, in words.
    pub problems: Vec<String>,
}

impl Verdict {
    /// Whether every path starts at its source, ends at the root, visits listed nodes only,
    /// never repeats a node and makes progress at every hop.
    #[must_use]
    pub fn all_good(&self) -> bool {
        self.lookups > 0
            && self.at_root == self.lookups
            && self.progressing_hops == self.hops
            && self.repeated_nodes == 0
            && self.wrong_start == 0
            && self.unknown_nodes == 0
            && self.over_hop_bound == 0
    }

    fn problem(&mut self, what: String) {
        if self.problems.len() < 10 {
            self.problems.push(what);
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} paths: {} end at the root of their key among the listed nodes",
            self.lookups, self.at_root
        )?;
        writeln!(
            f,
            "{} hops: {} make progress (longer shared prefix with the key, or strictly closer to it)",
            self.hops, self.progressing_hops
        )?;
        writeln!(
            f,
            "{} paths repeat a node, {} do not start at their source, {} unlisted nodes, {} over the hop bound",
            self.repeated_nodes, self.wrong_start, self.unknown_nodes, self.over_hop_bound
        )?;
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        write!(
            f,
            "{}",
            if self.all_good() {
                "VERIFIED"
            } else {
                "FAILED"
            }
        )
    }
}

/// Why a trace or node list could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// An I/O error, with the file's name.
    Io {
        /// Which file.
        file: String,
        /// What went wrong.
        error: io::Error,
    },
    /// A line that is not what the format says, with its 1-based number.
    Format {
        /// Which file.
        file: String,
        /// The line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io { file, error } => write!(f, "cannot read the file {file}: {error}"),
            ReadError::Format { file, line, what } => write!(f, "{file}:{line}: {what}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// The error of reading `file`.
fn io_error(file: &Path) -> impl Fn(io::Error) -> ReadError + '_ {
    move |error| ReadError::Io {
        file: file.display().to_string(),
        error,
    }
}

fn parse_guid(s: &str, file: &Path, line: usize) -> Result<Guid, ReadError> {
    s.parse().map_err(|e| ReadError::Format {
        file: file.display().to_string(),
        line,
        what: format!("{e}"),
    })
}

/// Reads a node list: one 32-hex id per line (blank lines ignored). Returns the ids sorted,
/// without duplicates.
///
/// # Errors
/// An I/O error or a malformed line.
pub fn read_nodes(path: &Path) -> Result<Vec<Guid>, ReadError> {
    let mut ids = Vec::new();
    let io = io_error(path);
    for (i, line) in BufReader::new(File::open(path).map_err(&io)?)
        .lines()
        .enumerate()
    {
        let line = line.map_err(&io)?;
        let t = line.trim();
        if !t.is_empty() {
            ids.push(parse_guid(t, path, i + 1)?);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The root of `key` among `sorted` ids (binary search; the closer of the ids just below and
/// just above the key, wrapping round the ring).
#[must_use]
pub fn root_in_sorted(sorted: &[Guid], key: Guid) -> Option<Guid> {
    let (first, last) = (sorted.first()?, sorted.last()?);
    let at = sorted.partition_point(|g| *g < key);
    let above = sorted.get(at).unwrap_or(first);
    let below = if at == 0 { last } else { &sorted[at - 1] };
    Some(if closer(&key, above, below) {
        *above
    } else {
        *below
    })
}

/// Checks every line of the trace at `trace` against the node list at `nodes`, for `b` bits
/// per digit.
///
/// # Errors
/// An I/O error or a malformed line.
pub fn verify(nodes: &Path, trace: &Path, b: DigitWidth) -> Result<Verdict, ReadError> {
    let ids = read_nodes(nodes)?;
    let bound = 128 / b.bits() + 1;
    let mut v = Verdict::default();
    let io = io_error(trace);
    for (i, line) in BufReader::new(File::open(trace).map_err(&io)?)
        .lines()
        .enumerate()
    {
        let line = line.map_err(&io)?;
        if line.trim().is_empty() {
            continue;
        }
        let t: TraceLine = serde_json::from_str(&line).map_err(|e| ReadError::Format {
            file: trace.display().to_string(),
            line: i + 1,
            what: e.to_string(),
        })?;
        let key = parse_guid(&t.key, trace, i + 1)?;
        let source = parse_guid(&t.source, trace, i + 1)?;
        let path = t
            .path
            .iter()
            .map(|s| parse_guid(s, trace, i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        v.lookups += 1;
        if path.first() != Some(&source) {
            v.wrong_start += 1;
            v.problem(format!("line {}: path does not start at the source", i + 1));
        }
        let unknown = path
            .iter()
            .filter(|g| ids.binary_search(g).is_err())
            .count();
        if unknown > 0 {
            v.unknown_nodes += unknown as u64;
            v.problem(format!("line {}: {unknown} unlisted nodes", i + 1));
        }
        let mut seen = path.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != path.len() {
            v.repeated_nodes += 1;
            v.problem(format!("line {}: a node appears twice", i + 1));
        }
        if path.len() as u64 > u64::from(bound) + 1 {
            v.over_hop_bound += 1;
        }
        for w in path.windows(2) {
            v.hops += 1;
            if makes_progress(&key, &w[0], &w[1], b) || closer(&key, &w[1], &w[0]) {
                v.progressing_hops += 1;
            } else {
                v.problem(format!(
                    "line {}: hop {} -> {} regresses",
                    i + 1,
                    w[0],
                    w[1]
                ));
            }
        }
        let root = root_in_sorted(&ids, key);
        if root.is_some() && path.last() == root.as_ref() {
            v.at_root += 1;
        } else {
            v.problem(format!(
                "line {}: ends at {:?}, the root is {:?}",
                i + 1,
                path.last(),
                root
            ));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_in_sorted_wraps_and_breaks_ties_clockwise() {
        let ids = [Guid::new(10), Guid::new(20), Guid::new(u128::MAX - 5)];
        assert_eq!(root_in_sorted(&ids, Guid::new(14)), Some(Guid::new(10)));
        // 15 is 5 from both 10 and 20: the clockwise one (20) wins.
        assert_eq!(root_in_sorted(&ids, Guid::new(15)), Some(Guid::new(20)));
        // Near zero the wrap-around neighbour counts: 1 is 7 from MAX - 5 and 9 from 10.
        assert_eq!(
            root_in_sorted(&ids, Guid::new(1)),
            Some(Guid::new(u128::MAX - 5))
        );
        // 2 is 8 from both: the clockwise one, 10, wins across the wrap.
        assert_eq!(root_in_sorted(&ids, Guid::new(2)), Some(Guid::new(10)));
        assert_eq!(
            root_in_sorted(&ids, Guid::new(u128::MAX)),
            Some(Guid::new(u128::MAX - 5))
        );
        assert_eq!(root_in_sorted(&[], Guid::new(1)), None);
    }
}
