//! Hop timeouts: from measured round trips, else from the host's estimate (RFC 6298's rule for
//! the first sample), else the configured initial value.

use pastry_kernel::{Config, NodeRef, NodeState, Proximity};
use pastry_node::{Body, Estimator, NoEstimate, Node, NodeConfig};

/// The same round-trip estimate for every node.
struct Flat(Proximity);

impl Estimator<u32> for Flat {
    fn estimate(&self, _to: &u32) -> Option<Proximity> {
        Some(self.0)
    }
}

fn cfg() -> NodeConfig {
    NodeConfig::new(Config::new(4, 8, 8).unwrap())
}

/// Node 0's state in a ring of 64 evenly spread ids, from global knowledge.
fn state() -> NodeState<u32, u16> {
    let ring: Vec<NodeRef<u32, u16>> = (0..64u16)
        .map(|i| NodeRef::new(i * 1024, u32::from(i)))
        .collect();
    NodeState::from_ring(cfg().routing, ring[0], &ring, |_| 1, 1)
}

/// Routes a message half the ring away (a table hop) at time 0 and returns when its hop
/// times out.
fn hop_deadline<E: Estimator<u32>>(estimator: E) -> Option<u64> {
    let mut n = Node::active_with_state(0, cfg(), state(), estimator, 1).unwrap();
    n.route(0, 32 * 1024, Vec::new()).unwrap();
    let t = n.poll_transmit().unwrap();
    assert!(matches!(t.message.body, Body::Route(_)));
    // The heartbeat and row-maintenance timers are seconds and minutes away.
    n.poll_timeout()
}

#[test]
fn a_hop_waits_three_estimated_round_trips_before_any_is_measured() {
    assert_eq!(hop_deadline(Flat(20_000)), Some(60_000));
    // Within the bounds: 3 × 10 µs is raised to rto_min (50 ms), 3 × 5 s cut to rto_max.
    assert_eq!(hop_deadline(Flat(10)), Some(50_000));
    assert_eq!(hop_deadline(Flat(5_000_000)), Some(10_000_000));
}

#[test]
fn without_an_estimate_a_hop_waits_the_initial_timeout() {
    assert_eq!(hop_deadline(NoEstimate), Some(1_000_000));
}
