//! `sync/route`: `Reader::route` through the shared state (`pastry_kernel::sync`) against
//! `NodeState::route` on a plain state, with 1 and 2 reader threads while a writer publishes at a
//! fixed rate.
//!
//! `BenchmarkId::new("shared" | "plain", readers)`. The timed thread is one reader; with 2
//! readers a second thread routes the same keys in a loop (through its own `Reader` for
//! `shared`, on its own copy of the state for `plain`). In both cases a writer thread publishes
//! one change every [`PUBLISH_EVERY`] (alternately forgetting and re-learning a leaf-set member
//! of the state, so the state keeps its size), so the two are measured under the same load and
//! the shared reader refreshes its snapshot about once per millisecond. One iteration routes
//! [`KEYS`] uniform keys from the state of one node of a 10^4-node network (b = 4, L = 16).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use pastry_kernel::sync::Writer;
use pastry_kernel::Guid;

use crate::fixtures::{ring, state_of, Handle, Node, Shape, SplitMix};

/// The writer publishes one change this often.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(1);
/// Keys routed per timed iteration.
pub const KEYS: usize = 1024;
/// Nodes in the network the state is taken from.
pub const NODES: usize = 10_000;
/// Seed of the ring and keys.
pub const SEED: u64 = 0x5eed_0005;

/// The writer thread and any extra reader thread, stopped on drop.
struct Background {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What the second reader thread routes through.
enum Extra {
    Shared,
    Plain,
}

impl Background {
    fn start(
        mut writer: Writer<Handle>,
        churn: Vec<Node>,
        extra: Option<Extra>,
        keys: Arc<Vec<Guid>>,
    ) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        if let Some(extra) = extra {
            let stop = Arc::clone(&stop);
            let mut reader = writer.reader();
            let plain = writer.state().clone();
            threads.push(thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for k in keys.iter() {
                        match extra {
                            Extra::Shared => black_box(reader.route(black_box(*k))),
                            Extra::Plain => black_box(plain.route(black_box(*k))),
                        };
                    }
                }
            }));
        }
        let stop_writer = Arc::clone(&stop);
        threads.push(thread::spawn(move || {
            let mut i = 0usize;
            while !stop_writer.load(Ordering::Relaxed) {
                let node = churn[(i / 2) % churn.len()];
                if i.is_multiple_of(2) {
                    black_box(writer.forget(node.id).is_ok());
                } else {
                    black_box(writer.learn(node, 1).is_ok());
                }
                i += 1;
                thread::sleep(PUBLISH_EVERY);
            }
        }));
        Background { stop, threads }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The `sync/route` group.
pub fn benchmarks(c: &mut Criterion) {
    let nodes = ring(NODES, SEED);
    let shape = Shape {
        b: 4,
        leaf: 16,
        n: NODES,
    };
    let state = state_of(&nodes, 0, shape.config());
    let churn: Vec<Node> = state.leaf_set().successors().to_vec();
    let mut rng = SplitMix::new(SEED);
    let keys: Arc<Vec<Guid>> = Arc::new((0..KEYS).map(|_| rng.guid()).collect());

    let mut group = c.benchmark_group("sync/route");
    group.throughput(Throughput::Elements(KEYS as u64));
    for readers in [1usize, 2] {
        let writer = Writer::new(state.clone());
        let mut reader = writer.reader();
        let extra = (readers == 2).then_some(Extra::Shared);
        let background = Background::start(writer, churn.clone(), extra, Arc::clone(&keys));
        group.bench_with_input(BenchmarkId::new("shared", readers), &keys, |b, keys| {
            b.iter(|| {
                for k in keys.iter() {
                    black_box(reader.route(black_box(*k)));
                }
            });
        });
        drop(background);

        let writer = Writer::new(state.clone());
        let plain = state.clone();
        let extra = (readers == 2).then_some(Extra::Plain);
        let background = Background::start(writer, churn.clone(), extra, Arc::clone(&keys));
        group.bench_with_input(BenchmarkId::new("plain", readers), &keys, |b, keys| {
            b.iter(|| {
                for k in keys.iter() {
                    black_box(plain.route(black_box(*k)));
                }
            });
        });
        drop(background);
    }
    group.finish();
}
