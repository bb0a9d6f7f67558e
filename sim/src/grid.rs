//! [`Grid`]: the live nodes bucketed by their place in the plane, to find the node nearest to a
//! point (a joining node's "nearby node A", which the paper assumes known).

use crate::model::Handle;
use crate::model::{Point, PLANE_SIDE};

/// Cells per side of the grid.
const CELLS: usize = 64;

/// Live nodes bucketed into a `CELLS × CELLS` grid over the plane.
///
/// # Invariants
/// Every handle appears in at most one cell, the cell of its point.
#[derive(Clone, Debug)]
pub struct Grid {
    cells: Vec<Vec<(Handle, Point)>>,
}

impl Default for Grid {
    fn default() -> Grid {
        Grid {
            cells: vec![Vec::new(); CELLS * CELLS],
        }
    }
}

fn cell_of(p: Point) -> (usize, usize) {
    let side = PLANE_SIDE / CELLS as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to the grid
    let c = |v: f64| ((v / side).floor().max(0.0) as usize).min(CELLS - 1);
    (c(p.x), c(p.y))
}

impl Grid {
    /// Adds node `h` at `p`.
    pub fn insert(&mut self, h: Handle, p: Point) {
        let (x, y) = cell_of(p);
        self.cells[y * CELLS + x].push((h, p));
    }

    /// Removes node `h`, which was added at `p`.
    pub fn remove(&mut self, h: Handle, p: Point) {
        let (x, y) = cell_of(p);
        let cell = &mut self.cells[y * CELLS + x];
        if let Some(i) = cell.iter().position(|(g, _)| *g == h) {
            cell.swap_remove(i);
        }
    }

    /// The node nearest to `p` (ties to the smaller handle), if any. Searches rings of cells
    /// outwards until no farther ring can hold a nearer node.
    #[must_use]
    pub fn nearest(&self, p: Point) -> Option<Handle> {
        let side = PLANE_SIDE / CELLS as f64;
        let (cx, cy) = cell_of(p);
        let mut best: Option<(f64, Handle)> = None;
        for ring in 0..CELLS {
            let lo_x = cx.saturating_sub(ring);
            let hi_x = (cx + ring).min(CELLS - 1);
            let lo_y = cy.saturating_sub(ring);
            let hi_y = (cy + ring).min(CELLS - 1);
            for y in lo_y..=hi_y {
                for x in lo_x..=hi_x {
                    if x.abs_diff(cx) != ring && y.abs_diff(cy) != ring {
                        continue;
                    }
                    for &(h, q) in &self.cells[y * CELLS + x] {
                        let d = p.distance(q);
                        if best.is_none_or(|(bd, bh)| d < bd || (d == bd && h < bh)) {
                            best = Some((d, h));
                        }
                    }
                }
            }
            // Every cell of the next ring is at least `ring` cells away from p.
            if let Some((d, _)) = best {
                if d <= ring as f64 * side {
                    break;
                }
            }
        }
        best.map(|(_, h)| h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn nearest_matches_a_scan() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let pts: Vec<Point> = (0..300).map(|_| Point::random(&mut r)).collect();
        let mut g = Grid::default();
        for (h, p) in pts.iter().enumerate() {
            g.insert(h as Handle, *p);
        }
        for h in (0..300).step_by(3) {
            g.remove(h as Handle, pts[h]);
        }
        for _ in 0..200 {
            let q = Point::random(&mut r);
            let scan = (0..300)
                .filter(|h| h % 3 != 0)
                .min_by(|a, b| q.distance(pts[*a]).total_cmp(&q.distance(pts[*b])))
                .map(|h| h as Handle);
            assert_eq!(g.nearest(q), scan);
        }
        assert_eq!(Grid::default().nearest(pts[0]), None);
    }
}
