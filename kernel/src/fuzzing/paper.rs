//! route(D) transcribed from the paper's Table 1: [`paper_route`], the reference for
//! [`NodeState::route`](crate::NodeState::route).

use super::reference as r;
use crate::route::Route;
use crate::route::Via;
use crate::state::NodeState;
use crate::word::RingWord;

/// route(D) at node A transcribed line by line from Table 1 of the Pastry paper (Rowstron &
/// Druschel, Middleware 2001), the reference the kernel's [`NodeState::route`] is held to.
///
/// The paper's notation: R_l^i is the routing-table entry at row l, column i; L_i the i-th closest
/// id in the leaf set, −⌊|L|/2⌋ ≤ i ≤ ⌊|L|/2⌋, negative indices for the predecessors, positive for
/// the successors; D_l the l-th digit of the key D; shl(A, B) the shared prefix length in digits.
/// docs/design.md, *Route*, makes the pseudo-code total and deterministic: the range test of line
/// (1) is "covered" on the ring, |x − y| is the ring distance with ties to the clockwise node
/// (`closer`), "forward to A" is delivery, and the rare case takes the best admissible node
/// (longest prefix, then closest) or delivers when there is none.
///
/// It uses only [`reference`](mod@crate::fuzzing::reference) arithmetic and plain scans of the state's contents.
#[must_use]
pub fn paper_route<H: Copy, W: RingWord>(state: &NodeState<H, W>, key: W) -> Route<H, W> {
    let a = *state.own();
    let b = state.config().digit_width();
    let leaf = state.leaf_set();
    let d = key;

    // (1)  if (L_{-⌊|L|/2⌋} ≤ D ≤ L_{⌊|L|/2⌋}) {
    if r::covered(leaf, d) {
        // (2)    // D is within range of our leaf set
        // (3)    forward to L_i, s.th. |D − L_i| is minimal;
        //        (i runs over −⌊|L|/2⌋..=⌊|L|/2⌋; L_0 is A itself, and forwarding to A delivers)
        let l_i = core::iter::once(&a)
            .chain(leaf.predecessors())
            .chain(leaf.successors());
        let nearest = l_i.min_by_key(|n| r::nearness(d, n.id)).copied();
        return match nearest {
            Some(n) if n.id != a.id => Route::Forward {
                to: n,
                via: Via::LeafSet,
            },
            _ => Route::Deliver,
        };
    }
    // (4)  } else {
    // (5)    // use the routing table
    // (6)    Let l = shl(D, A);
    let l = r::shl(d, a.id, b);
    // (7)    if (R_l^{D_l} ≠ null) {
    let d_l = r::digit(d, l, b);
    let r_l_dl = state.table().iter().find(|(row, column, _)| {
        Some((u32::from(row.0), u32::from(column.0))) == d_l.map(|c| (l, c))
    });
    if let Some((_, _, entry)) = r_l_dl {
        // (8)      forward to R_l^{D_l};
        return Route::Forward {
            to: entry.node,
            via: Via::Table,
        };
    }
    // (9)    }
    // (10)   else {
    // (11)     // rare case
    // (12)     forward to T ∈ L ∪ R ∪ M, s.th.
    // (13)       shl(T, D) ≥ l,
    // (14)       |T − D| < |A − D|
    let l_r_m = leaf
        .successors()
        .iter()
        .chain(leaf.predecessors())
        .copied()
        .chain(state.table().iter().map(|(_, _, e)| e.node))
        .chain(state.neighborhood().entries().iter().map(|e| e.node));
    let t = l_r_m
        .filter(|t| r::shl(t.id, d, b) >= l) // (13)
        .filter(|t| r::closer(d, t.id, a.id)) // (14), with closer's tie rule
        .min_by_key(|t| r::rare_case_rank(d, t.id, b));
    // (15)   }
    // (16) }
    match t {
        Some(t) => Route::Forward {
            to: t,
            via: Via::RareCase,
        },
        None => Route::Deliver,
    }
}
