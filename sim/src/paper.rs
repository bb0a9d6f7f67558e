//! The paper's published figures (Rowstron & Druschel, Middleware 2001, section 3), printed
//! beside the measured ones.

/// Figure 4: average routing hops against N (b = 4, L = 16, |M| = 32, 200,000 lookups), read
/// from the figure's vector data (about ±0.005).
pub const FIG4_HOPS: [(usize, f64); 7] = [
    (1_000, 2.485),
    (2_000, 2.689),
    (5_000, 2.954),
    (10_000, 3.232),
    (20_000, 3.494),
    (50_000, 3.746),
    (100_000, 3.976),
];

/// Figure 5: the probability of each hop count at N = 100,000 (printed in the paper).
pub const FIG5_DISTRIBUTION: [f64; 7] = [0.0000, 0.0006, 0.0156, 0.1643, 0.6449, 0.1745, 0.0000];

/// The network size of figure 5.
pub const FIG5_NODES: usize = 100_000;

/// Figure 6: route distance over direct distance, 1.30 to 1.36 for N = 1,000..100,000.
pub const FIG6_STRETCH_RANGE: (f64, f64) = (1.30, 1.36);

/// Figure 6 at N = 100,000.
pub const FIG6_STRETCH_100K: f64 = 1.333;

/// Figure 7's network size: routing-table quality after 5,000 joins.
pub const FIG7_NODES: usize = 5_000;

/// Figure 7, full join with the second stage: optimal entries of row 0 (of 15).
pub const FIG7_ROW0_OPTIMAL: f64 = 14.4;

/// Figure 7, full join with the second stage: each row has fewer than this many entries that
/// are not the proximity-best choice.
pub const FIG7_NON_OPTIMAL_MAX: f64 = 1.0;

/// Figure 10: average hops with 5,000 nodes before the failures, after 10% failed without
/// routing-table repair, and with repair.
pub const FIG10_HOPS: (f64, f64, f64) = (2.73, 2.96, 2.74);

/// Figure 10's network size and failed fraction.
pub const FIG10_NODES: usize = 5_000;

/// Section 3.4: average remote calls to repair the routing tables, per failed node.
pub const FIG10_REPAIR_CALLS_PER_FAILED: f64 = 57.0;

/// MSPastry (Castro, Costa, Rowstron, DSN 2004) under OverNet churn (mean session 135
/// minutes), as secondary accounts report its results: (message loss rate, lost lookups per
/// lookup, mean relative delay penalty).
pub const MSPASTRY: [(f64, f64, f64); 2] = [(0.0, 1.5e-5, 1.8), (0.05, 3.3e-5, 2.2)];

/// MSPastry's abstract: maintenance under this many control messages per second per node.
pub const MSPASTRY_CONTROL_PER_NODE_S: f64 = 0.5;

/// The acceptance bound this project set on incorrect deliveries per lookup under churn.
pub const INCORRECT_MAX: f64 = 1e-5;

/// The paper's figure 4 value for `n` nodes, if the paper has one.
#[must_use]
pub fn fig4_hops(n: usize) -> Option<f64> {
    FIG4_HOPS.iter().find(|(m, _)| *m == n).map(|(_, h)| *h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fig5_is_a_distribution() {
        let total: f64 = FIG5_DISTRIBUTION.iter().sum();
        assert!((total - 0.9999).abs() < 1e-3);
        let mean: f64 = FIG5_DISTRIBUTION
            .iter()
            .enumerate()
            .map(|(h, p)| h as f64 * p)
            .sum();
        // The printed distribution's mean agrees with figure 4 at 100,000 nodes.
        assert!((mean - fig4_hops(FIG5_NODES).unwrap()).abs() < 0.01);
    }
}
