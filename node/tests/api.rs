//! The application's side of a node: the Common API up-calls (`Deliver`, `Forward`,
//! `Update`), `route_to`, refused calls that change nothing, and the counters.

use pastry_kernel::{Config, NodeRef};
use pastry_node::testnet::{Net, Schedule};
use pastry_node::{CallError, Event, Kind, NoEstimate, Node, NodeConfig, Phase};

fn ring(n: usize) -> Net<u16> {
    let mut net = Net::new(Schedule::reliable(), 11);
    for i in 0..n {
        net.add((i as u16).wrapping_mul(2_521).wrapping_add(300));
        net.join(i, (i > 0).then_some(0));
        net.run_until_quiet(60_000_000);
    }
    net
}

#[test]
fn refused_calls_change_nothing() {
    let cfg = NodeConfig::new(Config::new(2, 4, 4).expect("valid"));
    let mut node: Node<u16, u16> =
        Node::new(cfg, NodeRef::new(7, 7), NoEstimate, 1).expect("valid");
    let idle = node.clone();
    assert_eq!(node.route(0, 9, vec![1]), Err(CallError::NotActive));
    assert_eq!(node.leave(0), Err(CallError::NotActive));
    assert_eq!(node.forward(0, 3, None), Err(CallError::UnknownToken));
    assert_eq!(node, idle);
    node.join(0, None).expect("idle");
    assert_eq!(node.phase(), Phase::Active);
    let active = node.clone();
    assert_eq!(node.join(0, Some(1)), Err(CallError::AlreadyJoined));
    assert_eq!(node, active);
    // Bad configurations are refused with the field named.
    let mut bad = cfg;
    bad.max_events = 0;
    assert!(Node::<u16, u16>::new(bad, NodeRef::new(7, 7), NoEstimate, 1).is_err());
    let mut bad = cfg;
    bad.rto_min = bad.rto_max * 2;
    assert!(Node::<u16, u16>::new(bad, NodeRef::new(7, 7), NoEstimate, 1).is_err());
}

#[test]
fn a_lone_node_delivers_everything_to_itself() {
    let cfg = NodeConfig::new(Config::new(2, 4, 4).expect("valid"));
    let mut node: Node<u16, u16> =
        Node::new(cfg, NodeRef::new(7, 7), NoEstimate, 1).expect("valid");
    node.join(0, None).expect("idle");
    let seq = node.route(0, 40_000, b"x".to_vec()).expect("active");
    let e = node.poll_event().expect("activated");
    assert!(matches!(e, Event::Activated { at: 0 }));
    assert_eq!(
        node.poll_event(),
        Some(Event::Deliver {
            key: 40_000,
            origin: NodeRef::new(7, 7),
            seq,
            hops: 0,
            payload: b"x".to_vec()
        })
    );
    assert_eq!(node.poll_transmit(), None);
}

#[test]
fn update_events_follow_the_leaf_set() {
    let mut net = ring(6);
    // Node 0 saw every other node enter its leaf set (L = 8 holds all five).
    let joined: Vec<u16> = net.events[0]
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Update { node, joined: true } => Some(node.id),
            _ => None,
        })
        .collect();
    let mut expected: Vec<u16> = (1..6).map(|i| net.nodes[i].own().id).collect();
    let mut got = joined.clone();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected);
    // A leave: the others see it go.
    net.leave(3);
    net.run_until_quiet(10_000_000);
    let gone = net.nodes[3].own().id;
    for i in [0, 1, 2, 4, 5] {
        assert!(
            net.events[i].iter().any(
                |(_, e)| matches!(e, Event::Update { node, joined: false } if node.id == gone)
            ),
            "node {i} saw no update for the leaving node"
        );
    }
}

#[test]
fn forward_upcall_may_change_or_drop_a_message() {
    let mut net = Net::new(Schedule::reliable(), 3);
    net.config.forward_upcall = true;
    for i in 0..12 {
        net.add((i as u16).wrapping_mul(5_003));
        net.join(i, (i > 0).then_some(0));
        net.run_until_quiet(60_000_000);
    }
    assert!(net.all_active());
    // Route from every node to a key far from it; answer every forward up-call, changing the
    // payload, and count the deliveries.
    let key = 33_333u16;
    let root = net.true_root(key).expect("a root");
    let from = (0..12)
        .find(|i| *i != root && net.nodes[*i].state().route(key).next_hop().is_some())
        .expect("a node that forwards");
    let (origin, seq) = net.route(from, key, b"original".to_vec()).expect("routed");
    let mut rewrote = 0;
    for _ in 0..100 {
        let mut answered = false;
        for i in 0..12 {
            let tokens: Vec<u64> = net.events[i]
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::Forward { token, .. } => Some(*token),
                    _ => None,
                })
                .collect();
            net.events[i].retain(|(_, e)| !matches!(e, Event::Forward { .. }));
            for t in tokens {
                let r = net.call(i, |n, now| n.forward(now, t, Some(b"rewritten".to_vec())));
                assert_eq!(r, Some(Ok(())));
                rewrote += 1;
                answered = true;
            }
        }
        net.run_until_quiet(1_000_000);
        if !answered {
            break;
        }
    }
    assert!(rewrote >= 1, "no forward up-call");
    let fate = &net.fates[&(origin, seq)];
    assert_eq!(fate.delivered.len(), 1);
    let delivered: Vec<&Vec<u8>> = net.events[root]
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Deliver {
                payload, seq: s, ..
            } if *s == seq => Some(payload),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, [&b"rewritten".to_vec()]);

    // Dropped at the first hop: never delivered.
    let (origin, seq) = net.route(from, key, b"drop me".to_vec()).expect("routed");
    let token = net.events[from]
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            Event::Forward { token, .. } => Some(*token),
            _ => None,
        })
        .expect("held at the first hop");
    assert_eq!(
        net.call(from, |n, now| n.forward(now, token, None)),
        Some(Ok(()))
    );
    assert_eq!(
        net.call(from, |n, now| n.forward(now, token, None)),
        Some(Err(CallError::UnknownToken))
    );
    net.run_until_quiet(5_000_000);
    assert!(net.fates[&(origin, seq)].delivered.is_empty());
}

#[test]
fn route_to_reaches_the_node_and_counters_count() {
    let mut net = ring(8);
    let to = *net.nodes[5].own();
    let seq = net
        .call(2, |n, now| n.route_to(now, to, b"direct".to_vec()))
        .expect("a node")
        .expect("active");
    net.run_until_quiet(5_000_000);
    assert!(net.events[5].iter().any(|(_, e)| matches!(
        e,
        Event::Deliver { seq: s, hops: 1, payload, .. } if *s == seq && payload == b"direct"
    )));
    let c = net.nodes[2].counters();
    assert!(c.sent.get(Kind::Route) >= 1);
    assert!(c.received.get(Kind::Ack) >= 1);
    assert!(c.sent.control() > 0 && c.sent.total() >= c.sent.control());
    assert_eq!(c.dropped.malformed, 0);
    // Garbage is counted, not handled.
    assert!(net.nodes[2]
        .handle_bytes(net.now, 5, b"not a message")
        .is_err());
    assert_eq!(net.nodes[2].counters().dropped.malformed, 1);
}
