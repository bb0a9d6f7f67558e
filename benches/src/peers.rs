//! `peers/closest` (feature `peers`): the kernel's `route` beside the closest-node lookups of the
//! crates a user would otherwise pick, on the same network and keys as `route/uniform`.
//!
//! * `discv5`: discv5 0.12 `KBucketsTable::closest_keys`, first result. Keys are raw: a node's
//!   128-bit id fills the first 16 bytes of the 32-byte key, so XOR distance follows our ids.
//! * `libp2p_kad`: libp2p-kad 0.49 `Behaviour::get_closest_local_peers`, first result. Peers are
//!   `PeerId`s holding our ids as identity multihashes; libp2p-kad hashes them (SHA-256) into its
//!   keys, and hashes the lookup key the same way.
//!
//! Each structure is offered every node of the network once; how many it keeps is printed to
//! stderr (`peers/closest kept: ...`) when the benchmarks are set up.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use discv5::kbucket::{ConnectionDirection, ConnectionState, KBucketsTable, Key, NodeStatus};
use libp2p_core::Multiaddr;
use libp2p_identity::PeerId;
use libp2p_kad::store::MemoryStore;
use libp2p_kad::{Behaviour, KBucketKey};

use crate::fixtures::{ring, samples, Handle, KeySet, Node, Shape, KEYS_PER_ITER};
use crate::route::{KEY_SEED, RING_SEED};

/// A discv5 table with the lookup keys routed through it.
type Discv5Case = (KBucketsTable<Handle, Handle>, Vec<Key<Handle>>);

/// A libp2p-kad behaviour with the lookup keys routed through it.
type KadCase = (Behaviour<MemoryStore>, Vec<KBucketKey<Vec<u8>>>);

/// A discv5 key holding a 128-bit id in its first 16 bytes.
fn discv5_key(id: u128, handle: Handle) -> Key<Handle> {
    let mut hash = [0u8; 32];
    hash[..16].copy_from_slice(&id.to_be_bytes());
    Key::new_raw(handle, hash)
}

/// A libp2p peer id holding a 128-bit id as an identity multihash.
fn peer_id(id: u128) -> PeerId {
    let mut bytes = vec![0x00, 16];
    bytes.extend_from_slice(&id.to_be_bytes());
    PeerId::from_bytes(&bytes).expect("identity multihash of 16 bytes")
}

/// discv5's table for `own`, offered every node of `ring`.
fn discv5_table(own: Node, ring: &[Node]) -> KBucketsTable<Handle, Handle> {
    let mut table = KBucketsTable::new(
        discv5_key(own.id.get(), own.handle),
        Duration::from_secs(60),
        usize::MAX,
        None,
        None,
    );
    let status = NodeStatus {
        direction: ConnectionDirection::Outgoing,
        state: ConnectionState::Connected,
    };
    for n in ring.iter().filter(|n| n.id != own.id) {
        let _ = table.insert_or_update(&discv5_key(n.id.get(), n.handle), n.handle, status);
    }
    table
}

/// libp2p-kad's behaviour for `own`, offered every node of `ring` with one address each.
fn libp2p_behaviour(own: Node, ring: &[Node]) -> Behaviour<MemoryStore> {
    let me = peer_id(own.id.get());
    let mut kad = Behaviour::new(me, MemoryStore::new(me));
    let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().expect("valid multiaddr");
    for n in ring.iter().filter(|n| n.id != own.id) {
        let _ = kad.add_address(&peer_id(n.id.get()), addr.clone());
    }
    kad
}

/// The `peers/closest` group at N = 10^5, b = 4, L = 16.
pub fn benchmarks(c: &mut Criterion) {
    let shape = Shape {
        b: 4,
        leaf: 16,
        n: 100_000,
    };
    let ring = ring(shape.n, RING_SEED);
    let samples = samples(&ring, shape, KeySet::Uniform, KEY_SEED);
    let offered = ring.len() - 1;

    let mut discv5: Vec<Discv5Case> = Vec::new();
    let mut kad: Vec<KadCase> = Vec::new();
    for s in &samples {
        let own = *s.state.own();
        let table = discv5_table(own, &ring);
        let kept = table.iter_ref().count();
        let mut behaviour = libp2p_behaviour(own, &ring);
        let kept_kad: usize = behaviour.kbuckets().map(|b| b.num_entries()).sum();
        eprintln!(
            "peers/closest kept ({shape}, node {}): kernel state {} entries, discv5 {kept}, \
             libp2p_kad {kept_kad}, of {offered} offered",
            own.handle,
            crate::fixtures::entries(&s.state).len() - 1,
        );
        discv5.push((
            table,
            s.keys.iter().map(|k| discv5_key(k.get(), 0)).collect(),
        ));
        kad.push((
            behaviour,
            s.keys
                .iter()
                .map(|k| KBucketKey::new(k.get().to_be_bytes().to_vec()))
                .collect(),
        ));
    }

    let mut group = c.benchmark_group("peers/closest");
    group.throughput(Throughput::Elements(KEYS_PER_ITER as u64));
    group.bench_with_input(BenchmarkId::new("kernel", shape), &samples, |b, samples| {
        b.iter(|| {
            for s in samples {
                for k in &s.keys {
                    black_box(s.state.route(black_box(*k)));
                }
            }
        });
    });
    group.bench_function(BenchmarkId::new("discv5", shape), |b| {
        b.iter(|| {
            for (table, keys) in discv5.iter_mut() {
                for k in keys.iter() {
                    black_box(table.closest_keys(black_box(k)).next());
                }
            }
        });
    });
    group.bench_function(BenchmarkId::new("libp2p_kad", shape), |b| {
        b.iter(|| {
            for (behaviour, keys) in kad.iter_mut() {
                for k in keys.iter() {
                    black_box(behaviour.get_closest_local_peers(black_box(k)).next());
                }
            }
        });
    });
    group.finish();
}
