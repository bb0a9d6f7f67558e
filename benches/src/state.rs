//! `state/*`: changing and building a node state.
//!
//! * `state/learn`: `kernel` with parameter `added` (nodes that enter empty table slots of a
//!   thinned state) and `rejected` (unknown nodes that no structure keeps).
//! * `state/forget`: `kernel` with parameter `known` (table entries) and `unknown` (ids the state
//!   does not hold).
//! * `state/build`: `from_ring` on networks of 10^3 to 10^6 nodes (b = 4, L = 16), and `learn_all`
//!   (offering every node of the network one by one) where it is affordable (N = 10^3).
//!
//! * `state/join`: `NodeState::join`, assembling a joining node's state from the states of the
//!   nodes on its join route (parameter: shape and route length).
//! * `state/codec`: `encode` and `decode` of a full state (throughput in bytes).
//!
//! Mutating benchmarks clone the base state outside the timed routine (`iter_batched_ref`).

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use pastry_kernel::{Guid, NodeState, Route};

use crate::fixtures::{
    proximity, ring, sample_indices, state_of, thin, Handle, Node, Shape, SplitMix, SIZES,
};
use crate::route::RING_SEED;

/// Seed of the sample nodes and inputs.
pub const SEED: u64 = 0x5eed_0004;

/// States built per timed iteration of `state/build`.
pub const BUILDS: usize = 8;

/// Every `state/*` group.
pub fn benchmarks(c: &mut Criterion) {
    let shape = Shape {
        b: 4,
        leaf: 16,
        n: 100_000,
    };
    let ring = ring(shape.n, RING_SEED);
    let index = sample_indices(ring.len(), 1, SEED)[0];
    let full = state_of(&ring, index, shape.config());
    let mut thinned = full.clone();
    let removed = thin(&mut thinned);
    let mut rng = SplitMix::new(SEED);
    let strangers = strangers(&full, &ring, &mut rng);
    let unknown: Vec<Guid> = (0..removed.len()).map(|_| rng.guid()).collect();

    let mut group = c.benchmark_group("state/learn");
    group.throughput(Throughput::Elements(removed.len() as u64));
    group.bench_function(BenchmarkId::new("kernel", "added"), |b| {
        b.iter_batched_ref(
            || thinned.clone(),
            |s| {
                for n in &removed {
                    black_box(s.learn(black_box(*n), proximity(n)).ok());
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.throughput(Throughput::Elements(strangers.len() as u64));
    group.bench_function(BenchmarkId::new("kernel", "rejected"), |b| {
        b.iter_batched_ref(
            || full.clone(),
            |s| {
                for n in &strangers {
                    black_box(s.learn(black_box(*n), u32::MAX).ok());
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();

    let mut group = c.benchmark_group("state/forget");
    group.throughput(Throughput::Elements(removed.len() as u64));
    group.bench_function(BenchmarkId::new("kernel", "known"), |b| {
        b.iter_batched_ref(
            || full.clone(),
            |s| {
                for n in &removed {
                    black_box(s.forget(black_box(n.id)).ok());
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function(BenchmarkId::new("kernel", "unknown"), |b| {
        b.iter_batched_ref(
            || full.clone(),
            |s| {
                for id in &unknown {
                    black_box(s.forget(black_box(*id)).ok());
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();

    join_and_codec(c, &ring, shape, &full, &mut rng);
    drop(ring);

    let mut group = c.benchmark_group("state/build");
    group.throughput(Throughput::Elements(BUILDS as u64));
    for n in SIZES {
        let shape = Shape { n, ..shape };
        let ring = crate::fixtures::ring(n, RING_SEED);
        let owners = sample_indices(ring.len(), BUILDS, SEED);
        let config = shape.config();
        group.bench_with_input(
            BenchmarkId::new("from_ring", shape),
            &owners,
            |b, owners| {
                b.iter(|| {
                    for i in owners {
                        black_box(state_of(&ring, black_box(*i), config));
                    }
                });
            },
        );
        if n <= 1_000 {
            group.bench_with_input(
                BenchmarkId::new("learn_all", shape),
                &owners,
                |b, owners| {
                    b.iter(|| {
                        for i in owners {
                            black_box(learn_all(&ring, black_box(*i), shape));
                        }
                    });
                },
            );
        }
    }
    group.finish();
}

/// `state/join` (assembling a joining node's state from the states on its join route) and
/// `state/codec` (encoding and decoding a full state).
fn join_and_codec(
    c: &mut Criterion,
    ring: &[Node],
    shape: Shape,
    full: &NodeState<Handle>,
    rng: &mut SplitMix,
) {
    let config = shape.config();
    // A new node X joins through a random node A: the route of the join message for key X, hop
    // by hop through the hops' own states, ends at Z, the root of X.
    let x = Node::new(rng.guid(), Handle::MAX);
    let mut route = vec![state_of(ring, rng.below(ring.len()), config)];
    while let Some(Route::Forward { to, .. }) = route.last().map(|s| s.route(x.id)) {
        route.push(state_of(ring, to.handle as usize, config));
    }
    let hops: Vec<&NodeState<Handle>> = route.iter().collect();
    let mut group = c.benchmark_group("state/join");
    group.throughput(Throughput::Elements(1));
    group.bench_with_input(
        BenchmarkId::new("kernel", format!("{shape}-hops{}", hops.len())),
        &hops,
        |b, hops| {
            b.iter(|| black_box(NodeState::join(config, black_box(x), hops, proximity)));
        },
    );
    group.finish();

    let len = full.encoded_len();
    let mut buf = vec![0u8; len];
    let mut group = c.benchmark_group("state/codec");
    group.throughput(Throughput::Bytes(len as u64));
    group.bench_function(BenchmarkId::new("encode", shape), |b| {
        b.iter(|| black_box(black_box(full).encode(&mut buf)));
    });
    let bytes = {
        let mut v = vec![0u8; len];
        let _ = full.encode(&mut v);
        v
    };
    group.bench_with_input(BenchmarkId::new("decode", shape), &bytes, |b, bytes| {
        b.iter(|| black_box(NodeState::<Handle>::decode(black_box(bytes))));
    });
    group.finish();
}

/// The state of `ring[index]` built by offering it every node of the ring in id order.
fn learn_all(ring: &[Node], index: usize, shape: Shape) -> NodeState<Handle> {
    let own = ring[index];
    let mut s = NodeState::new(shape.config(), own);
    for n in ring.iter().filter(|n| n.id != own.id) {
        // Only the local node is refused, and it was filtered out.
        let _ = s.learn(*n, proximity(n));
    }
    s
}

/// Up to 256 nodes of the ring that `state` does not hold and would not keep when offered with
/// the worst proximity: not covered by the leaf set, and their table slot is occupied.
fn strangers(state: &NodeState<Handle>, ring: &[Node], rng: &mut SplitMix) -> Vec<Node> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        if out.len() == 256 {
            break;
        }
        let n = ring[rng.below(ring.len())];
        if !state.knows(n.id)
            && !state.leaf_set().covers(n.id)
            && state.table().next_hop(n.id).is_some()
        {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learn_inputs_take_their_paths() {
        let ring = ring(5_000, 1);
        let full = state_of(
            &ring,
            17,
            Shape {
                b: 4,
                leaf: 16,
                n: 5_000,
            }
            .config(),
        );
        let mut thinned = full.clone();
        let removed = thin(&mut thinned);
        assert!(!removed.is_empty());
        let mut s = thinned.clone();
        for n in &removed {
            assert!(s.learn(*n, proximity(n)).unwrap().added());
        }
        let mut s = full.clone();
        for n in strangers(&full, &ring, &mut SplitMix::new(2)) {
            assert!(!s.learn(n, u32::MAX).unwrap().added());
        }
        assert_eq!(s, full);
        let mut s = full.clone();
        for n in &removed {
            assert!(s.forget(n.id).unwrap().was_known());
        }
        assert_eq!(s.table().len(), full.table().len() - removed.len());
    }

    #[test]
    fn codec_inputs_round_trip() {
        let ring = ring(2_000, 6);
        let full = state_of(
            &ring,
            5,
            Shape {
                b: 4,
                leaf: 16,
                n: 2_000,
            }
            .config(),
        );
        let mut buf = vec![0u8; full.encoded_len()];
        assert_eq!(full.encode(&mut buf), Ok(buf.len()));
        assert_eq!(NodeState::<Handle>::decode(&buf), Ok(full));
    }

    #[test]
    fn learn_all_matches_from_ring_leaf_set() {
        let ring = ring(1_000, 4);
        let shape = Shape {
            b: 4,
            leaf: 16,
            n: 1_000,
        };
        let a = learn_all(&ring, 3, shape);
        let b = state_of(&ring, 3, shape.config());
        assert_eq!(a.leaf_set(), b.leaf_set());
        assert_eq!(a.table().len(), b.table().len());
    }
}
