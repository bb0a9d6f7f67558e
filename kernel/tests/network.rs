//! Routing through whole networks whose states were built from global knowledge
//! (`NodeState::from_ring`), hop by hop, calling each node's `route`.
//!
//! * `network_of_2000_nodes_routes_every_key_to_its_root`: the promise of docs/design.md,
//!   *Progress*, on 2,000 nodes and 20,000 random keys from random sources (fixed seeds);
//! * `small_networks_route_to_the_root`: many small networks on 128-bit and narrow rings, with
//!   every b and leaf-set size (proptest).

mod common;

use pastry_kernel::fuzzing::{check_network, check_route_at, Network};
use pastry_kernel::strategies::inputs;
use pastry_kernel::{Config, Guid, Proximity};
use proptest::prelude::*;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NODES: usize = 2_000;
const KEYS: usize = 20_000;

fn guid(rng: &mut ChaCha8Rng) -> Guid {
    Guid::new((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
}

/// The paper's setup (b = 4, L = 16, |M| = 32; nodes at random points of a 1000 × 1000 plane,
/// Euclidean distance as proximity) with perfect state. Every route ends at the brute-force root
/// among all 2,000 nodes, none takes more than 128/b + 1 = 33 hops, and the mean is below
/// log16 N (about 2.74).
#[test]
fn network_of_2000_nodes_routes_every_key_to_its_root() {
    let mut rng = ChaCha8Rng::seed_from_u64(2001);
    let ids: Vec<Guid> = (0..NODES).map(|_| guid(&mut rng)).collect();
    let points: Vec<(f64, f64)> = (0..NODES)
        .map(|_| {
            let x = rng.next_u32() % 1000;
            (f64::from(x), f64::from(rng.next_u32() % 1000))
        })
        .collect();
    let proximity = |i: usize, j: usize| -> Proximity {
        let (dx, dy) = (points[i].0 - points[j].0, points[i].1 - points[j].1);
        (dx * dx + dy * dy).sqrt() as Proximity
    };
    // One candidate per slot: every slot whose prefix holds a node is filled.
    let net = Network::new(Config::PAPER, &ids, proximity, 1);
    assert_eq!(net.len(), NODES, "ids are distinct");

    let lookups: Vec<(usize, Guid)> = (0..KEYS)
        .map(|_| {
            let key = guid(&mut rng);
            (key, (rng.next_u64() % NODES as u64) as usize)
        })
        .map(|(key, source)| (source, key))
        .collect();
    // Route on every core; each route ends at the brute-force root, each hop makes progress, and
    // none takes more than 128/b + 1 hops (all asserted by `check_route`).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let traces: Vec<_> = std::thread::scope(|scope| {
        let net = &net;
        let workers: Vec<_> = lookups
            .chunks(KEYS.div_ceil(threads))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&(source, key)| net.check_route(source, key))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(traces.len(), KEYS);
    let mut hops = [0usize; 40];
    let mut rare = 0u64;
    for trace in &traces {
        hops[trace.hops as usize] += 1;
        rare += u64::from(trace.rare_case_hops);
    }
    let total: usize = hops.iter().enumerate().map(|(h, n)| h * n).sum();
    let mean = total as f64 / KEYS as f64;
    let log16_n = (NODES as f64).ln() / 16f64.ln();
    let longest = hops.iter().rposition(|&n| n > 0).unwrap_or(0);
    println!(
        "{NODES} nodes, {KEYS} keys: mean {mean:.4} hops (log16 N = {log16_n:.4}), longest {longest}, \
         rare-case hops {rare}, distribution {:?}",
        &hops[..=longest]
    );
    assert!(longest <= 128 / 4 + 1);
    assert!(
        mean < log16_n,
        "mean {mean} hops is not below log16 N = {log16_n}"
    );

    // Every route property at a sample of nodes, for keys that exercise each step.
    for i in (0..NODES).step_by(97) {
        let state = net.state(i);
        for key in [
            guid(&mut rng),
            state.id(),
            Guid::new(state.id().get() ^ 0xffff_ffff),
        ] {
            check_route_at(state, key);
        }
    }
}

proptest! {
    #![proptest_config(common::seeded(64, "proptest-regressions/network.txt"))]

    /// Small networks of 128-bit ids, every configuration: routes end at the root.
    #[test]
    fn small_networks_route_to_the_root(input in inputs::network::<Guid>(40)) {
        check_network(&input);
    }

    /// The same on 16-bit rings, where ids crowd and the rare case is common.
    #[test]
    fn small_networks_route_to_the_root_on_u16_ring(input in inputs::network::<u16>(60)) {
        check_network(&input);
    }

    /// The same on 8-bit rings, where many networks fit in fewer than L nodes.
    #[test]
    fn small_networks_route_to_the_root_on_u8_ring(input in inputs::network::<u8>(60)) {
        check_network(&input);
    }
}
