//! `route/*`: `NodeState::route` against the baselines, on node states taken from networks of
//! 10^3 to 10^6 nodes.
//!
//! Groups `route/leaf`, `route/table`, `route/rare` and `route/uniform` (the key sets of
//! [`KeySet`]); in each, `BenchmarkId::new(implementation, shape)` with implementations `kernel`,
//! `floor`, `sorted_vec`, `btreemap` and `linear_scan`, and shapes like `b4-L16-N1e5`;
//! `route/uniform` also has `harness`, the per-key loop and `black_box` alone. One
//! iteration routes [`KEYS_PER_ITER`] keys from [`SAMPLES`] sample nodes of the network.

use std::hint::black_box;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};

use crate::baselines::{BTreeMapIndex, Floor, LinearScan, SortedVec};
use crate::fixtures::{ring, samples, KeySet, Node, Sample, Shape, KEYS_PER_ITER, SAMPLES, SIZES};

/// Seed of the rings of every network size.
pub const RING_SEED: u64 = 0x5eed_0001;
/// Seed of the sample nodes and keys.
pub const KEY_SEED: u64 = 0x5eed_0002;

/// The sample states and keys of one shape, for every key set.
struct Prepared {
    shape: Shape,
    sets: Vec<(KeySet, Vec<Sample>)>,
}

/// Every `route/*` group.
pub fn benchmarks(c: &mut Criterion) {
    let shapes = Shape::route_shapes();
    // One ring per size; states are built from it and the ring is dropped before the next.
    let mut prepared = Vec::new();
    for n in SIZES {
        let ring: Vec<Node> = ring(n, RING_SEED);
        for shape in shapes.iter().filter(|s| s.n == n) {
            let sets = KeySet::ALL
                .iter()
                .map(|set| (*set, samples(&ring, *shape, *set, KEY_SEED)))
                .collect();
            prepared.push(Prepared {
                shape: *shape,
                sets,
            });
        }
    }
    for set in KeySet::ALL {
        let mut group = c.benchmark_group(format!("route/{}", set.name()));
        group.throughput(Throughput::Elements(KEYS_PER_ITER as u64));
        for p in &prepared {
            if let Some((_, samples)) = p.sets.iter().find(|(s, _)| *s == set) {
                bench_shape(&mut group, p.shape, samples);
                if set == KeySet::Uniform {
                    bench_harness(&mut group, p.shape, samples);
                }
            }
        }
        group.finish();
    }
}

/// The five implementations on one shape's samples.
fn bench_shape<M: criterion::measurement::Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    shape: Shape,
    samples: &[Sample],
) {
    debug_assert_eq!(samples.len(), SAMPLES);
    group.bench_with_input(BenchmarkId::new("kernel", shape), samples, |b, samples| {
        b.iter(|| {
            for s in samples {
                for k in &s.keys {
                    black_box(s.state.route(black_box(*k)));
                }
            }
        });
    });

    let floors: Vec<(Floor, &[_])> = samples
        .iter()
        .map(|s| (Floor::new(&s.state), s.keys.as_slice()))
        .collect();
    group.bench_with_input(BenchmarkId::new("floor", shape), &floors, |b, floors| {
        b.iter(|| {
            for (f, keys) in floors {
                for k in *keys {
                    black_box(f.decide(black_box(*k)));
                }
            }
        });
    });

    let sorted: Vec<(SortedVec, &[_])> = samples
        .iter()
        .map(|s| (SortedVec::new(&s.state), s.keys.as_slice()))
        .collect();
    group.bench_with_input(BenchmarkId::new("sorted_vec", shape), &sorted, |b, v| {
        b.iter(|| {
            for (x, keys) in v {
                for k in *keys {
                    black_box(x.closest(black_box(*k)));
                }
            }
        });
    });

    let maps: Vec<(BTreeMapIndex, &[_])> = samples
        .iter()
        .map(|s| (BTreeMapIndex::new(&s.state), s.keys.as_slice()))
        .collect();
    group.bench_with_input(BenchmarkId::new("btreemap", shape), &maps, |b, v| {
        b.iter(|| {
            for (x, keys) in v {
                for k in *keys {
                    black_box(x.closest(black_box(*k)));
                }
            }
        });
    });

    let scans: Vec<(LinearScan, &[_])> = samples
        .iter()
        .map(|s| (LinearScan::new(&s.state), s.keys.as_slice()))
        .collect();
    group.bench_with_input(BenchmarkId::new("linear_scan", shape), &scans, |b, v| {
        b.iter(|| {
            for (x, keys) in v {
                for k in *keys {
                    black_box(x.closest(black_box(*k)));
                }
            }
        });
    });
}

/// `harness`: the loop and the `black_box` on each key and answer alone, with no lookup. Every
/// implementation above pays this per key; subtracting it gives the lookup's own cost.
fn bench_harness<M: criterion::measurement::Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    shape: Shape,
    samples: &[Sample],
) {
    group.bench_with_input(BenchmarkId::new("harness", shape), samples, |b, samples| {
        b.iter(|| {
            for s in samples {
                for k in &s.keys {
                    black_box(black_box(*k));
                }
            }
        });
    });
}
