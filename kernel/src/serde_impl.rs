//! serde for the routing structures (feature `serde`): [`LeafSet`], [`RoutingTable`],
//! [`NeighborhoodSet`] and [`NodeState`], written as their parts and read back through checks
//! that mirror the codec's (the crate documentation's *serde* section has the fields).
//!
//! Deserializing builds each structure only after every rule of its invariants holds on the
//! parts; the rules are the ones `crate::codec` checks on bytes, reported with its
//! [`DecodeError`] variants (no byte offsets here), plus the hole rule.

use alloc::vec::Vec;
use core::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::arith::{cw, slot_of, Column, DigitWidth, Row};
use crate::codec::{DecodeError, Part};
use crate::config::{Config, ConfigError};
use crate::leafset::{LeafSet, Sides};
use crate::neighborhood::NeighborhoodSet;
use crate::node::{Entry, NodeRef};
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// Why deserialized parts are not a valid structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Invalid {
    /// A rule the codec checks on bytes too.
    Rule(DecodeError),
    /// A side is marked as having a hole although it is full or the whole ring is known.
    Hole(Part),
}

impl From<DecodeError> for Invalid {
    fn from(e: DecodeError) -> Invalid {
        Invalid::Rule(e)
    }
}

impl From<ConfigError> for Invalid {
    fn from(e: ConfigError) -> Invalid {
        Invalid::Rule(DecodeError::Config(e))
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Rule(e) => e.fmt(f),
            Invalid::Hole(part) => write!(
                f,
                "{part}: marked as having a hole although the side is full or the whole ring is known"
            ),
        }
    }
}

/// L/2 for a leaf-set size L: L even and in 2..=64.
fn leaf_half(l: usize) -> Result<u8, Invalid> {
    if !(2..=Config::MAX_LEAF_SET).contains(&l) || l % 2 != 0 {
        return Err(ConfigError::LeafSetLen(l).into());
    }
    #[allow(clippy::cast_possible_truncation)] // at most 32
    Ok((l / 2) as u8)
}

/// |M|, at most [`Config::MAX_NEIGHBORHOOD`].
fn neighborhood_capacity(m: usize) -> Result<u16, Invalid> {
    if m > Config::MAX_NEIGHBORHOOD {
        return Err(ConfigError::NeighborhoodLen(m).into());
    }
    #[allow(clippy::cast_possible_truncation)] // at most 256
    Ok(m as u16)
}

/// One side of a leaf set: at most `limit` nodes, never the owner, strictly increasing
/// `distance` (nearest first).
fn check_side<H, W: RingWord>(
    part: Part,
    own: W,
    side: &[NodeRef<H, W>],
    limit: usize,
    distance: impl Fn(W) -> W,
) -> Result<(), Invalid> {
    if side.len() > limit {
        return Err(DecodeError::TooMany {
            part,
            count: side.len(),
            limit,
        }
        .into());
    }
    let mut previous: Option<W> = None;
    for (index, n) in side.iter().enumerate() {
        if n.id == own {
            return Err(DecodeError::OwnId { part, index }.into());
        }
        let d = distance(n.id);
        if previous.is_some_and(|p| d <= p) {
            return Err(DecodeError::OutOfOrder { part, index }.into());
        }
        previous = Some(d);
    }
    Ok(())
}

/// A leaf set from its parts, checked as [`LeafSet`]'s invariants and the codec require.
fn leaf_set<H: Copy + PartialEq, W: RingWord>(
    own: W,
    half: u8,
    successors: Vec<NodeRef<H, W>>,
    predecessors: Vec<NodeRef<H, W>>,
    holes: Sides,
) -> Result<LeafSet<H, W>, Invalid> {
    let limit = usize::from(half);
    check_side(Part::Successors, own, &successors, limit, |id| {
        cw(&own, &id)
    })?;
    check_side(Part::Predecessors, own, &predecessors, limit, |id| {
        cw(&id, &own)
    })?;
    let mut shared = false;
    for (index, p) in predecessors.iter().enumerate() {
        if let Some(s) = successors.iter().find(|s| s.id == p.id) {
            if s.handle != p.handle {
                return Err(DecodeError::HandleMismatch { index }.into());
            }
            shared = true;
        }
    }
    let whole_ring = shared || (successors.is_empty() && predecessors.is_empty());
    for (hole, len, part) in [
        (holes.successor, successors.len(), Part::Successors),
        (holes.predecessor, predecessors.len(), Part::Predecessors),
    ] {
        if hole && (len == limit || whole_ring) {
            return Err(Invalid::Hole(part));
        }
    }
    Ok(LeafSet::from_sides(
        own,
        half,
        successors,
        predecessors,
        holes,
    ))
}

/// A routing table from its stored rows, checked as [`RoutingTable`]'s invariants and the codec
/// require: at most `W::BITS / b` rows, the last not empty; in row r at most 2^b − 1 entries,
/// each sharing exactly r digits with the owner, in strictly increasing column order.
fn routing_table<H: Copy, W: RingWord>(
    own: W,
    b: DigitWidth,
    rows: Vec<Vec<Entry<H, W>>>,
) -> Result<RoutingTable<H, W>, Invalid> {
    let limit = b.digits::<W>() as usize;
    if rows.len() > limit {
        return Err(DecodeError::TooMany {
            part: Part::Table,
            count: rows.len(),
            limit,
        }
        .into());
    }
    let stored = rows.len();
    let mut table = RoutingTable::with_row_capacity(own, b, stored);
    for (r, entries) in rows.into_iter().enumerate() {
        #[allow(clippy::cast_possible_truncation)] // r < limit <= 128
        let row = r as u8;
        let part = Part::Row(row);
        let limit = b.columns() - 1;
        if entries.len() > limit {
            return Err(DecodeError::TooMany {
                part,
                count: entries.len(),
                limit,
            }
            .into());
        }
        let mut last: Option<Column> = None;
        for (index, e) in entries.iter().enumerate() {
            let (Row(er), column) =
                slot_of(own, e.node.id, b).ok_or(DecodeError::OwnId { part, index })?;
            if er != row {
                return Err(DecodeError::WrongRow { row, index }.into());
            }
            if last.is_some_and(|c| c >= column) {
                return Err(DecodeError::OutOfOrder { part, index }.into());
            }
            last = Some(column);
        }
        if r + 1 == stored && entries.is_empty() {
            return Err(DecodeError::EmptyLastRow { row }.into());
        }
        table.push_row(entries);
    }
    table.invariants();
    Ok(table)
}

/// A neighborhood set from its entries, checked as [`NeighborhoodSet`]'s invariants and the
/// codec require: at most `capacity` entries, never the owner, non-decreasing proximity, no id
/// twice.
fn neighborhood_set<H: Copy, W: RingWord>(
    own: W,
    capacity: u16,
    entries: Vec<Entry<H, W>>,
) -> Result<NeighborhoodSet<H, W>, Invalid> {
    let part = Part::Neighborhood;
    let limit = usize::from(capacity);
    if entries.len() > limit {
        return Err(DecodeError::TooMany {
            part,
            count: entries.len(),
            limit,
        }
        .into());
    }
    for (index, e) in entries.iter().enumerate() {
        if e.node.id == own {
            return Err(DecodeError::OwnId { part, index }.into());
        }
        let earlier = entries.get(..index).unwrap_or_default();
        if earlier.last().is_some_and(|p| p.proximity > e.proximity) {
            return Err(DecodeError::OutOfOrder { part, index }.into());
        }
        if earlier.iter().any(|p| p.node.id == e.node.id) {
            return Err(DecodeError::Duplicate { part, index }.into());
        }
    }
    Ok(NeighborhoodSet::from_entries(own, capacity, entries))
}

// ---------------------------------------------------------------------------------------------
// The serialized forms
// ---------------------------------------------------------------------------------------------

/// The stored rows of a table, each its entries in column order.
fn rows_of<H: Copy, W: RingWord>(table: &RoutingTable<H, W>) -> Vec<&[Entry<H, W>]> {
    table.row_entries_from(Row(0)).collect()
}

#[derive(Serialize)]
#[serde(rename = "LeafSet")]
struct LeafSetOut<'a, H, W> {
    own: W,
    leaf_set_len: usize,
    successors: &'a [NodeRef<H, W>],
    predecessors: &'a [NodeRef<H, W>],
    holes: Sides,
}

#[derive(Deserialize)]
#[serde(rename = "LeafSet", deny_unknown_fields)]
struct LeafSetIn<H, W> {
    own: W,
    leaf_set_len: usize,
    successors: Vec<NodeRef<H, W>>,
    predecessors: Vec<NodeRef<H, W>>,
    holes: Sides,
}

#[derive(Serialize)]
#[serde(rename = "RoutingTable")]
struct TableOut<'a, H, W> {
    own: W,
    b: DigitWidth,
    rows: Vec<&'a [Entry<H, W>]>,
}

#[derive(Deserialize)]
#[serde(rename = "RoutingTable", deny_unknown_fields)]
struct TableIn<H, W> {
    own: W,
    b: DigitWidth,
    rows: Vec<Vec<Entry<H, W>>>,
}

#[derive(Serialize)]
#[serde(rename = "NeighborhoodSet")]
struct NeighborhoodOut<'a, H, W> {
    own: W,
    capacity: usize,
    entries: &'a [Entry<H, W>],
}

#[derive(Deserialize)]
#[serde(rename = "NeighborhoodSet", deny_unknown_fields)]
struct NeighborhoodIn<H, W> {
    own: W,
    capacity: usize,
    entries: Vec<Entry<H, W>>,
}

#[derive(Serialize)]
#[serde(rename = "NodeState")]
struct StateOut<'a, H, W> {
    config: Config,
    own: NodeRef<H, W>,
    successors: &'a [NodeRef<H, W>],
    predecessors: &'a [NodeRef<H, W>],
    holes: Sides,
    rows: Vec<&'a [Entry<H, W>]>,
    neighborhood: &'a [Entry<H, W>],
}

#[derive(Deserialize)]
#[serde(rename = "NodeState", deny_unknown_fields)]
struct StateIn<H, W> {
    config: Config,
    own: NodeRef<H, W>,
    successors: Vec<NodeRef<H, W>>,
    predecessors: Vec<NodeRef<H, W>>,
    holes: Sides,
    rows: Vec<Vec<Entry<H, W>>>,
    neighborhood: Vec<Entry<H, W>>,
}

impl<H: Copy + Serialize, W: RingWord + Serialize> Serialize for LeafSet<H, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LeafSetOut {
            own: self.own(),
            leaf_set_len: 2 * self.half(),
            successors: self.successors(),
            predecessors: self.predecessors(),
            holes: self.holes(),
        }
        .serialize(s)
    }
}

impl<'de, H, W> Deserialize<'de> for LeafSet<H, W>
where
    H: Copy + PartialEq + Deserialize<'de>,
    W: RingWord + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = LeafSetIn::<H, W>::deserialize(d)?;
        leaf_half(raw.leaf_set_len)
            .and_then(|half| leaf_set(raw.own, half, raw.successors, raw.predecessors, raw.holes))
            .map_err(D::Error::custom)
    }
}

impl<H: Copy + Serialize, W: RingWord + Serialize> Serialize for RoutingTable<H, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TableOut {
            own: self.own(),
            b: self.digit_width(),
            rows: rows_of(self),
        }
        .serialize(s)
    }
}

impl<'de, H, W> Deserialize<'de> for RoutingTable<H, W>
where
    H: Copy + Deserialize<'de>,
    W: RingWord + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = TableIn::<H, W>::deserialize(d)?;
        routing_table(raw.own, raw.b, raw.rows).map_err(D::Error::custom)
    }
}

impl<H: Copy + Serialize, W: RingWord + Serialize> Serialize for NeighborhoodSet<H, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        NeighborhoodOut {
            own: self.own(),
            capacity: self.capacity(),
            entries: self.entries(),
        }
        .serialize(s)
    }
}

impl<'de, H, W> Deserialize<'de> for NeighborhoodSet<H, W>
where
    H: Copy + Deserialize<'de>,
    W: RingWord + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = NeighborhoodIn::<H, W>::deserialize(d)?;
        neighborhood_capacity(raw.capacity)
            .and_then(|capacity| neighborhood_set(raw.own, capacity, raw.entries))
            .map_err(D::Error::custom)
    }
}

impl<H: Copy + Serialize, W: RingWord + Serialize> Serialize for NodeState<H, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StateOut {
            config: self.config,
            own: self.own,
            successors: self.leaf.successors(),
            predecessors: self.leaf.predecessors(),
            holes: self.leaf.holes(),
            rows: rows_of(&self.table),
            neighborhood: self.neighborhood.entries(),
        }
        .serialize(s)
    }
}

impl<'de, H, W> Deserialize<'de> for NodeState<H, W>
where
    H: Copy + PartialEq + Deserialize<'de>,
    W: RingWord + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = StateIn::<H, W>::deserialize(d)?;
        let config = raw.config;
        let own = raw.own;
        let build = || -> Result<NodeState<H, W>, Invalid> {
            let half = leaf_half(config.leaf_set_len())?;
            let capacity = neighborhood_capacity(config.neighborhood_len())?;
            let state = NodeState {
                config,
                own,
                leaf: leaf_set(own.id, half, raw.successors, raw.predecessors, raw.holes)?,
                table: routing_table(own.id, config.digit_width(), raw.rows)?,
                neighborhood: neighborhood_set(own.id, capacity, raw.neighborhood)?,
            };
            state.invariants();
            Ok(state)
        };
        build().map_err(D::Error::custom)
    }
}
