//! `node/*`: the protocol engine (`pastry-node`) on the hot path, against the kernel lookup it
//! is built on, measured in the same run.
//!
//! * `node/forward` (throughput: messages): one active node of a 10^5-node network (b = 4,
//!   L = 16) forwards `Route` messages with a 64-byte payload. `message`: `handle` of the
//!   message, `poll_transmit` of what it sends (the ack to the previous hop and the forward to
//!   the next), then `handle` of the next hop's ack — one hop's whole work, without the codec.
//!   `bytes`: the same through the codec, as a host does it (`handle_bytes` of the received
//!   bytes, `Message::encode` of every transmit into a reused buffer, `handle_bytes` of the
//!   ack). `kernel_route`: `NodeState::route` of the same keys, the lookup alone.
//! * `node/heartbeat` (throughput: rounds): one heartbeat round at one node in steady state
//!   (it knows every member of its neighbours' leaf sets): its heartbeat timer fires (two
//!   heartbeats out, the immediate neighbours checked), and the heartbeats of its two
//!   neighbours arrive and are merged.
//!
//! Messages come from a pool of distinct (origin, seq) pairs twice the node's duplicate memory,
//! cycled, so no message is ever a duplicate.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use pastry_kernel::{Guid, NodeRef};
use pastry_node::message::{Body, LeafInfo, Routed};
use pastry_node::{Message, NoEstimate, Node, NodeConfig};

use crate::fixtures::{ring, sample_indices, state_of, Handle, Shape, SplitMix};
use crate::route::RING_SEED;

/// Seed of the sample node, keys and origins.
pub const SEED: u64 = 0x5eed_0006;
/// Messages per timed iteration.
pub const MESSAGES: usize = 1024;
/// Payload bytes of each routed message.
pub const PAYLOAD: usize = 64;

/// Every `node/*` group.
pub fn benchmarks(c: &mut Criterion) {
    let shape = Shape {
        b: 4,
        leaf: 16,
        n: 100_000,
    };
    let ring = ring(shape.n, RING_SEED);
    let index = sample_indices(ring.len(), 1, SEED)[0];
    let config = NodeConfig::new(shape.config());
    let state = state_of(&ring, index, shape.config());
    let prev = ring[(index + ring.len() / 2) % ring.len()];
    let mut rng = SplitMix::new(SEED);
    let pool: Vec<Message<Handle, Guid>> = (0..2 * config.dedup_capacity)
        .map(|i| Message {
            from: prev,
            id: i as u64,
            body: Body::Route(Routed {
                key: rng.guid(),
                origin: ring[rng.below(ring.len())],
                seq: i as u64,
                hops: 1,
                body: vec![0x5a; PAYLOAD],
            }),
        })
        .collect();
    let node = Node::active_with_state(0, config, state.clone(), NoEstimate, 1).expect("valid");
    let members: HashMap<Handle, NodeRef<Handle, Guid>> =
        state.members().map(|m| (m.handle, *m)).collect();

    let mut group = c.benchmark_group("node/forward");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function(BenchmarkId::new("message", shape), |b| {
        let mut n = node.clone();
        let mut next = 0usize;
        b.iter(|| {
            for _ in 0..MESSAGES {
                let m = pool[next % pool.len()].clone();
                next += 1;
                n.handle(0, prev.handle, black_box(m));
                while let Some(t) = n.poll_transmit() {
                    if let Body::Route(_) = t.message.body {
                        if let Some(&to) = members.get(&t.to) {
                            let ack = Message {
                                from: to,
                                id: t.message.id,
                                body: Body::Ack,
                            };
                            n.handle(0, to.handle, ack);
                        }
                    }
                    black_box(t);
                }
                while let Some(e) = n.poll_event() {
                    black_box(e);
                }
            }
        });
    });
    let bytes: Vec<Vec<u8>> = pool
        .iter()
        .map(|m| m.to_vec(config.max_payload).expect("encodable"))
        .collect();
    group.bench_function(BenchmarkId::new("bytes", shape), |b| {
        let mut n = node.clone();
        let mut next = 0usize;
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            for _ in 0..MESSAGES {
                let m = &bytes[next % bytes.len()];
                next += 1;
                let _ = n.handle_bytes(0, prev.handle, black_box(m));
                while let Some(t) = n.poll_transmit() {
                    out.clear();
                    t.message
                        .encode(&mut out, config.max_payload)
                        .expect("encodable");
                    if let Body::Route(_) = t.message.body {
                        if let Some(&to) = members.get(&t.to) {
                            out.clear();
                            Message::<Handle, Guid> {
                                from: to,
                                id: t.message.id,
                                body: Body::Ack,
                            }
                            .encode(&mut out, 0)
                            .expect("encodable");
                            let _ = n.handle_bytes(0, to.handle, &out);
                        }
                    }
                    black_box(&out);
                }
                while let Some(e) = n.poll_event() {
                    black_box(e);
                }
            }
        });
    });
    let keys: Vec<Guid> = pool
        .iter()
        .map(|m| match &m.body {
            Body::Route(r) => r.key,
            _ => Guid::ZERO,
        })
        .collect();
    group.bench_function(BenchmarkId::new("kernel_route", shape), |b| {
        let mut next = 0usize;
        b.iter(|| {
            for _ in 0..MESSAGES {
                let k = keys[next % keys.len()];
                next += 1;
                black_box(state.route(black_box(k)));
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("node/heartbeat");
    group.throughput(Throughput::Elements(1));
    let leaf = state.leaf_set();
    let neighbours: Vec<NodeRef<Handle, Guid>> = leaf
        .successors()
        .first()
        .into_iter()
        .chain(leaf.predecessors().first())
        .copied()
        .collect();
    let heartbeats: Vec<Message<Handle, Guid>> = neighbours
        .iter()
        .map(|nb| {
            let theirs = state_of(&ring, nb.handle as usize, shape.config());
            Message {
                from: *nb,
                id: 1,
                body: Body::Heartbeat(LeafInfo {
                    leaf_set: theirs.leaf_set().clone(),
                    active: true,
                    failed: Vec::new(),
                }),
            }
        })
        .collect();
    let mut quiet = config;
    quiet.row_maintenance = Duration::from_secs(1 << 40);
    let period = u64::try_from(quiet.heartbeat.as_micros()).expect("fits");
    // In steady state the node knows every member of its neighbours' leaf sets (it measured
    // them when they first appeared), so a round only refreshes.
    let mut steady = state.clone();
    for h in &heartbeats {
        if let Body::Heartbeat(info) = &h.body {
            for m in info.leaf_set.iter() {
                let _ = steady.learn(*m, crate::fixtures::proximity(m));
            }
        }
    }
    let hb_node = Node::active_with_state(0, quiet, steady, NoEstimate, 1).expect("valid");
    group.bench_function(BenchmarkId::new("round", shape), |b| {
        let mut n = hb_node.clone();
        let mut now = 0;
        b.iter(|| {
            now += period;
            for h in &heartbeats {
                n.handle(now, h.from.handle, h.clone());
            }
            n.handle_timeout(now);
            while let Some(t) = n.poll_transmit() {
                black_box(t);
            }
            while let Some(e) = n.poll_event() {
                black_box(e);
            }
        });
    });
    group.finish();
}
