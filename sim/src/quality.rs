//! Routing-table quality (the paper's figure 7): for each row, how many slots hold the
//! proximity-best live node of their prefix range, how many hold another node, and how many are
//! empty although a live node for them exists.

use pastry_kernel::arith::{digit_at, shl_len};
use pastry_kernel::{Digit, Proximity, Row};
use rayon::prelude::*;

use crate::model::Handle;
use crate::overlay::Overlay;

/// One row's average over the measured nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct RowQuality {
    /// The row index.
    pub row: u32,
    /// Slots holding a node no farther than every live node of the slot's prefix range.
    pub optimal: f64,
    /// Slots holding a live node, but a farther one than the best.
    pub non_optimal: f64,
    /// Slots that are empty although a live node for them exists.
    pub empty: f64,
    /// Slots holding a dead node (only after failures).
    pub dead: f64,
    /// Slots for which some live node exists (the sum of the four above).
    pub fillable: f64,
}

/// The quality of the first `rows` rows, averaged over the nodes measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TableQuality {
    /// Live nodes in the network.
    pub nodes: usize,
    /// Nodes whose tables were measured (every live node, or an evenly spaced sample).
    pub measured: usize,
    /// One entry per row, from row 0.
    pub rows: Vec<RowQuality>,
}

/// The best (nearest) live node of each slot of `x`'s first `rows` rows, by brute force over
/// every live node: `best[r * columns + c]`.
fn best_per_slot(net: &Overlay, x: Handle, rows: u32) -> Vec<Option<Proximity>> {
    let b = net.node_config().routing.digit_width();
    let columns = b.columns();
    let pop = net.population();
    let own = pop.id(x);
    let latency = net.spec().latency;
    let mut best: Vec<Option<Proximity>> = vec![None; rows as usize * columns];
    for &y in net.meter().active_handles() {
        if y == x {
            continue;
        }
        let id = pop.id(y);
        let r = shl_len(own, id, b);
        if r >= rows {
            continue;
        }
        let Some(c) = digit_at(id, r, b) else {
            continue;
        };
        let p = latency.round_trip(pop.place(x), pop.place(y));
        let slot = &mut best[r as usize * columns + c.index()];
        if slot.is_none_or(|q| p < q) {
            *slot = Some(p);
        }
    }
    best
}

/// One node's counts per row: (optimal, non-optimal, empty, dead).
fn node_quality(net: &Overlay, x: Handle, rows: u32) -> Vec<[u32; 4]> {
    let columns = net.node_config().routing.digit_width().columns();
    let best = best_per_slot(net, x, rows);
    let Some(node) = net.node(x) else {
        return vec![[0; 4]; rows as usize];
    };
    let table = node.state().table();
    let mut counts = vec![[0u32; 4]; rows as usize];
    for (i, best) in best.iter().enumerate() {
        let Some(best) = best else { continue };
        let (r, c) = (i / columns, i % columns);
        #[allow(clippy::cast_possible_truncation)] // r < rows <= 128, c < 256
        let entry = table.get(Row(r as u8), Digit(c as u8));
        let kind = match entry {
            None => 2,
            Some(e) if !net.meter().is_active(e.node.handle) => 3,
            Some(e) if e.proximity <= *best => 0,
            Some(_) => 1,
        };
        counts[r][kind] += 1;
    }
    counts
}

/// Measures the first `rows` rows of every live node's table, or of `sample` evenly spaced
/// live nodes when there are more (each measured node is compared with every live node).
#[must_use]
pub fn table_quality(net: &Overlay, rows: u32, sample: usize) -> TableQuality {
    let live = net.meter().active_handles();
    let measured: Vec<Handle> = if live.len() <= sample {
        live.to_vec()
    } else {
        (0..sample).map(|i| live[i * live.len() / sample]).collect()
    };
    let totals = measured
        .par_iter()
        .map(|&x| node_quality(net, x, rows))
        .reduce(
            || vec![[0u32; 4]; rows as usize],
            |mut a, b| {
                for (a, b) in a.iter_mut().zip(&b) {
                    for k in 0..4 {
                        a[k] += b[k];
                    }
                }
                a
            },
        );
    let n = measured.len().max(1) as f64;
    let rows = totals
        .iter()
        .enumerate()
        .map(|(r, t)| {
            let [optimal, non_optimal, empty, dead] = t.map(|v| f64::from(v) / n);
            #[allow(clippy::cast_possible_truncation)]
            RowQuality {
                row: r as u32,
                optimal,
                non_optimal,
                empty,
                dead,
                fillable: optimal + non_optimal + empty + dead,
            }
        })
        .collect();
    TableQuality {
        nodes: live.len(),
        measured: measured.len(),
        rows,
    }
}
