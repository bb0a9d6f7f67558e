//! A host for 50 Pastry nodes over an in-memory queue: the whole host is the `Host` type below
//! (moving bytes, firing timers, collecting events); every protocol decision is the nodes'.
//!
//! 25 nodes join one by one, 25 more all at once; then 1,000 random keys are routed from random
//! nodes and each delivery is checked against the true root (the node whose id is closest to
//! the key). Run with `cargo run --release -p pastry-node --example in_memory`.

use std::collections::BTreeMap;

use pastry_kernel::{arith::closer, Guid, NodeRef};
use pastry_node::{Event, NoEstimate, Node, NodeConfig, Time};

/// The host: nodes by handle (their index), messages in flight by (arrival time, sequence).
struct Host {
    nodes: Vec<Node<u32>>,
    queue: BTreeMap<(Time, u64), (u32, u32, Vec<u8>)>,
    seq: u64,
    now: Time,
    delivered: Vec<(u32, Guid)>,
}

impl Host {
    /// Sends every queued message of node `i` (one-way delay 5 to 25 ms) and keeps its events.
    fn drain(&mut self, i: u32) {
        while let Some(t) = self.nodes[i as usize].poll_transmit() {
            let bytes = t.message.to_vec(64 * 1024).expect("encodable");
            self.seq += 1;
            let delay = 5_000 + (self.seq * 7_919) % 20_000;
            self.queue
                .insert((self.now + delay, self.seq), (t.to, i, bytes));
        }
        while let Some(e) = self.nodes[i as usize].poll_event() {
            if let Event::Deliver { key, .. } = e {
                self.delivered.push((i, key));
            }
        }
    }

    /// Runs until nothing is in flight and no timer is due within `horizon` microseconds.
    fn run(&mut self, horizon: Time) {
        let end = self.now + horizon;
        loop {
            let timer = self.nodes.iter().filter_map(Node::poll_timeout).min();
            let message = self.queue.keys().next().map(|k| k.0);
            let next = match (timer, message) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => return,
                },
            };
            if next > end && message.is_none() {
                return;
            }
            self.now = next;
            if message == Some(next) {
                let (_, (to, from, bytes)) = self.queue.pop_first().expect("a message");
                let node = &mut self.nodes[to as usize];
                node.handle_bytes(self.now, from, &bytes)
                    .expect("well-formed");
                self.drain(to);
            } else {
                for i in 0..self.nodes.len() as u32 {
                    if self.nodes[i as usize].poll_timeout() <= Some(self.now) {
                        self.nodes[i as usize].handle_timeout(self.now);
                        self.drain(i);
                    }
                }
            }
        }
    }
}

fn main() {
    let id = |i: u64| Guid::new(u128::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) << 64);
    let config = NodeConfig::default();
    let mut host = Host {
        nodes: (0..50)
            .map(|i| Node::new(config, NodeRef::new(id(i), i as u32), NoEstimate, i).unwrap())
            .collect(),
        queue: BTreeMap::new(),
        seq: 0,
        now: 0,
        delivered: Vec::new(),
    };
    for i in 0..50u32 {
        let contact = (i > 0).then_some(0);
        host.nodes[i as usize].join(host.now, contact).unwrap();
        host.drain(i);
        if i < 25 {
            host.run(1_000_000); // one by one: settle before the next joins
        }
    }
    host.run(60_000_000); // the other 25 joined all at once
    assert!(
        host.nodes.iter().all(Node::is_active),
        "every node is active"
    );
    for k in 0..1_000u64 {
        let from = (k * 31 % 50) as u32;
        let key = Guid::new(u128::from(k.wrapping_mul(0xd1b5_4a32_d192_ed03)) << 64 | 7);
        host.nodes[from as usize]
            .route(host.now, key, Vec::new())
            .unwrap();
        host.drain(from);
    }
    host.run(1_000_000);
    let root = |key: Guid| {
        (0..50u32)
            .min_by(
                |a, b| match closer(&key, &id(u64::from(*a)), &id(u64::from(*b))) {
                    true => std::cmp::Ordering::Less,
                    false => std::cmp::Ordering::Greater,
                },
            )
            .unwrap()
    };
    let correct = host
        .delivered
        .iter()
        .filter(|(at, key)| *at == root(*key))
        .count();
    println!(
        "{} nodes active; {} of 1000 lookups delivered, {correct} at the true root",
        host.nodes.len(),
        host.delivered.len()
    );
    assert_eq!((host.delivered.len(), correct), (1_000, 1_000));
}
