//! DHT nodes on the node crate's in-memory test network (feature `testnet`): the
//! [`Engine`] implementation of [`Dht`], a network of them, and the checks the DHT's tests
//! use. The network itself is [`pastry_node::testnet::Net`]; nothing of it is copied here.
//!
//! ```
//! use pastry_dht::testnet::{dht_net, results, DhtNet};
//! use pastry_dht::{DhtConfig, DhtEvent};
//! use pastry_node::testnet::Schedule;
//!
//! let mut cfg = DhtConfig::default();
//! cfg.replicas = 3;
//! let mut net: DhtNet<u16> = dht_net(Schedule::reliable(), 7, &[100, 9_000, 20_000, 40_000, 61_000], cfg);
//! let op = net.call(2, |d, now| d.put(now, 19_000, b"v".to_vec())).unwrap().unwrap();
//! net.run_until_quiet(60_000_000);
//! let done = results(&net, 2).any(|e| matches!(e, DhtEvent::PutDone { op: o, stored: 3, .. } if *o == op));
//! assert!(done);
//! ```

use alloc::vec::Vec;

use pastry_kernel::arith::closer;
use pastry_kernel::{NodeRef, RingWord};
use pastry_node::testnet::{Engine, Net, Schedule};
use pastry_node::{CallError, Event, NoEstimate, Node, NodeConfig, Time, Transmit};

use crate::config::DhtConfig;
use crate::engine::Dht;
use crate::event::DhtEvent;
use crate::record::Record;

impl<W: RingWord> Engine<W> for Dht<u32, W, NoEstimate> {
    type Event = DhtEvent<u32, W>;
    fn node(&self) -> &Node<u32, W, NoEstimate> {
        Dht::node(self)
    }
    fn join(&mut self, now: Time, contact: Option<u32>) -> Result<(), CallError> {
        Dht::join(self, now, contact)
    }
    fn leave(&mut self, now: Time) -> Result<(), CallError> {
        Dht::leave(self, now)
    }
    fn route(&mut self, now: Time, key: W, payload: Vec<u8>) -> Result<u64, CallError> {
        Dht::route(self, now, key, payload).map_err(|e| match e {
            crate::DhtError::Node(c) => c,
            _ => CallError::PayloadTooLarge { len: 0, max: 0 },
        })
    }
    fn handle_bytes(&mut self, now: Time, from: u32, bytes: &[u8]) {
        let _ = Dht::handle_bytes(self, now, from, bytes);
    }
    fn handle_timeout(&mut self, now: Time) {
        Dht::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit<u32, W>> {
        Dht::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<DhtEvent<u32, W>> {
        Dht::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Time> {
        Dht::poll_timeout(self)
    }
    fn node_event(event: &DhtEvent<u32, W>) -> Option<&Event<u32, W>> {
        match event {
            DhtEvent::Node(e) => Some(e),
            _ => None,
        }
    }
}

/// A test network of DHT nodes.
pub type DhtNet<W> = Net<W, Dht<u32, W, NoEstimate>>;

/// Adds a DHT node with id `id` and configuration `cfg` to `net` (not joined); returns its
/// index.
///
/// # Panics
/// When `cfg` does not fit the network's node configuration.
#[allow(clippy::expect_used)]
pub fn add(net: &mut DhtNet<impl RingWord>, id: impl Into<u128>, cfg: DhtConfig) -> usize {
    add_id(net, id.into(), cfg)
}

#[allow(clippy::expect_used)]
fn add_id<W: RingWord>(net: &mut DhtNet<W>, id: u128, cfg: DhtConfig) -> usize {
    net.config = cfg.node_config(net.config);
    net.add_with(W::from_u128(id), |config: NodeConfig, own, seed| {
        let node = Node::new(config, own, NoEstimate, seed).expect("a valid node configuration");
        Dht::new(cfg, node).expect("a valid DHT configuration")
    })
}

/// A network of DHT nodes with ids `ids`, joined one by one (each through node 0) and
/// settled.
pub fn dht_net<W: RingWord>(schedule: Schedule, seed: u64, ids: &[W], cfg: DhtConfig) -> DhtNet<W> {
    let mut net = DhtNet::<W>::new(schedule, seed);
    for (i, id) in ids.iter().enumerate() {
        add_id(&mut net, id.to_u128(), cfg);
        net.join(i, (i > 0).then_some(0));
        net.run_until_quiet(120_000_000);
    }
    net
}

/// The DHT's own events of node `i` (the node's passed-through events left out), in order.
pub fn results<W: RingWord>(
    net: &DhtNet<W>,
    i: usize,
) -> impl Iterator<Item = &DhtEvent<u32, W>> + '_ {
    net.events
        .get(i)
        .into_iter()
        .flatten()
        .map(|(_, e)| e)
        .filter(|e| !matches!(e, DhtEvent::Node(_)))
}

/// The indices of the k live active nodes closest to `key`: its true replica set.
#[must_use]
pub fn true_replicas<W: RingWord>(net: &DhtNet<W>, key: W, k: usize) -> Vec<usize> {
    let mut live: Vec<(usize, W)> = net
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, d)| net.is_alive(*i) && d.node().is_active())
        .map(|(i, d)| (i, d.node().own().id))
        .collect();
    live.sort_by(|a, b| {
        if a.1 == b.1 {
            core::cmp::Ordering::Equal
        } else if closer(&key, &a.1, &b.1) {
            core::cmp::Ordering::Less
        } else {
            core::cmp::Ordering::Greater
        }
    });
    live.into_iter().take(k).map(|(i, _)| i).collect()
}

/// The record of `key` at each of its true replicas (`None` where a replica holds none).
#[must_use]
pub fn replica_records<W: RingWord>(
    net: &DhtNet<W>,
    key: W,
    k: usize,
) -> Vec<(usize, Option<Record<W>>)> {
    true_replicas(net, key, k)
        .into_iter()
        .map(|i| (i, net.nodes.get(i).and_then(|d| d.store().get(key))))
        .collect()
}

/// The ids of the nodes of `net`, for [`NodeRef`]s in tests.
#[must_use]
pub fn node_ref<W: RingWord>(net: &DhtNet<W>, i: usize) -> Option<NodeRef<u32, W>> {
    net.nodes.get(i).map(|d| *d.node().own())
}
