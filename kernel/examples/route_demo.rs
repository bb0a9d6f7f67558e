//! Routes keys through a small Pastry network and prints each path.
//!
//! Every node's state is built by offering it every other node (global knowledge), with the
//! Euclidean distance between random points of a 1000 × 1000 plane as the proximity figure. Each
//! key is then routed hop by hop by calling each node's `route`, and the end of every route is
//! checked against the brute-force root among all nodes.
//!
//! `cargo run --release -p pastry-kernel --example route_demo [nodes] [keys] [seed]`

use std::collections::HashMap;

use pastry_kernel::arith::closer;
use pastry_kernel::seeded::SplitMix;
use pastry_kernel::{Config, Guid, NodeRef, NodeState, Route, Via};

/// A coordinate in [0, 1000).
fn coord(rng: &mut SplitMix) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 1000.0
}

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = arg(1, 500) as usize;
    let keys = arg(2, 5) as usize;
    let mut rng = SplitMix::new(arg(3, 1));
    let config = Config::PAPER;

    let ids: Vec<Guid> = (0..n).map(|_| rng.guid()).collect();
    let pos: Vec<(f64, f64)> = (0..n).map(|_| (coord(&mut rng), coord(&mut rng))).collect();
    let proximity = |a: usize, b: usize| {
        let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
        (dx * dx + dy * dy).sqrt().round() as u32
    };
    let index: HashMap<Guid, usize> = ids.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    let states: Vec<NodeState<usize>> = (0..n)
        .map(|i| {
            let mut s = NodeState::new(config, NodeRef::new(ids[i], i));
            for j in (0..n).filter(|&j| j != i) {
                s.learn(NodeRef::new(ids[j], j), proximity(i, j))
                    .expect("distinct ids");
            }
            s
        })
        .collect();
    println!(
        "{n} nodes, b = 4, L = 16, |M| = 32; ids from seed {}",
        arg(3, 1)
    );

    let root = |k: Guid| {
        *ids.iter()
            .reduce(|a, b| if closer(&k, b, a) { b } else { a })
            .unwrap()
    };
    let (mut total_hops, mut at_root) = (0usize, 0usize);
    for q in 0..keys.max(1000) {
        let key = rng.guid();
        let mut at = (rng.next_u64() % n as u64) as usize;
        let mut path = vec![(ids[at], None)];
        loop {
            match states[at].route(key) {
                Route::Deliver => break,
                Route::Forward { to, via } => {
                    at = to.handle;
                    path.push((to.id, Some(via)));
                }
            }
            assert!(path.len() <= 34, "route longer than 128/b + 1 hops");
        }
        total_hops += path.len() - 1;
        at_root += usize::from(ids[at] == root(key));
        debug_assert_eq!(index[&ids[at]], at);
        if q < keys {
            println!("\nkey {key}");
            for (id, via) in &path {
                let how = match via {
                    None => "source",
                    Some(Via::LeafSet) => "leaf set",
                    Some(Via::Table) => "routing table",
                    Some(Via::RareCase) => "rare case",
                };
                println!("  {id}  {how}");
            }
            println!("  delivered at the root: {}", ids[at] == root(key));
        }
    }
    let lookups = keys.max(1000);
    println!(
        "\n{lookups} lookups: {at_root} delivered at the brute-force root, mean {:.3} hops (log16 N = {:.3})",
        total_hops as f64 / lookups as f64,
        (n as f64).ln() / 16f64.ln()
    );
}
