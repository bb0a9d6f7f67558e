//! A stateright model of the DHT: the real `Dht` engines (three nodes, built active from
//! global knowledge) as actors, and a client actor that puts a key at node 0, removes it at
//! node 1 once the put is done, and reads it at node 0 once the remove is done. Node 2 may
//! crash at any moment (at most one crash). The network reorders messages freely.
//!
//! **Timers.** Each DHT actor exposes one timer, armed at its earliest deadline
//! (`Dht::poll_timeout`); the checker may fire it at any moment, before or after any message
//! is delivered, and the actor's clock then jumps to that deadline. So every interleaving of
//! message deliveries with heartbeats, probes, hop timeouts, replica timeouts, retries and
//! maintenance rounds is explored; within one node, deadlines fire in their order (a node's
//! own clock is monotonic).
//!
//! **Properties.** `always`: a get issued after the remove's quorum answer finds no value
//! and a version at least the remove's; a get issued after the put's quorum answer (and
//! before the remove) would find at least the put's version — here the read follows the
//! remove. `sometimes` (the model is not vacuous): the sequence completes; every live node
//! holds the tombstone. A planted bug (the older version wins) is rejected.
//!
//! Only states where no node's clock has passed [`HORIZON`] are explored (every path is
//! finite). Two checkers run: depth-first over the first 300,000 states (exhaustive within
//! that bound: the interleavings of timers and deliveries are too many for the whole
//! sequence, so this part covers the put and the start of the remove), and stateright's
//! random-walk checker from a fixed seed over 300,000 states, each walk running to the
//! horizon, which reaches the end of the sequence and the planted bug.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use pastry_dht::{Dht, DhtConfig, DhtEvent, PlantedBug, Version};
use pastry_kernel::{Config, NodeRef, NodeState};
use pastry_node::{NoEstimate, Node, NodeConfig, Time};
use stateright::actor::{Actor, ActorModel, Id, Network, Out};
use stateright::{Checker, Expectation, Model, UniformChooser};

const KEY: u16 = 30_500;
const IDS: [u16; 3] = [10_000, 30_000, 50_000];
const VICTIM: usize = 2;
/// No node's clock passes 15 s: past the first hop timeouts, retries of operations (10 s)
/// and the root's replica timeout (4 s); before the first heartbeat (20 s).
const HORIZON: Time = 15_000_000;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Msg {
    /// A node message, as encoded bytes.
    Net(Vec<u8>),
    /// The client asks a node to put (`Some`) or remove (`None`), or to get.
    Write(Option<Vec<u8>>),
    Read,
    /// A node tells the client how an operation ended.
    Done(Outcome),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Outcome {
    Written(Version<u16>),
    Read {
        value: Option<Vec<u8>>,
        version: Option<Version<u16>>,
    },
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Timer {
    Tick,
    Crash,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum State {
    Node {
        dht: Box<Dht<u32, u16>>,
        now: Time,
        crashed: bool,
    },
    Client {
        put: Option<Version<u16>>,
        remove: Option<Version<u16>>,
        read: Option<Outcome>,
        failed: bool,
    },
}

#[derive(Clone)]
enum Role {
    Node(usize, DhtConfig),
    Client,
}

fn node_config(cfg: &DhtConfig) -> NodeConfig {
    cfg.node_config(NodeConfig::new(Config::new(4, 8, 8).unwrap()))
}

fn build(i: usize, cfg: DhtConfig) -> Dht<u32, u16> {
    let ring: Vec<NodeRef<u32, u16>> = IDS
        .iter()
        .enumerate()
        .map(|(h, id)| NodeRef::new(*id, h as u32))
        .collect();
    let nc = node_config(&cfg);
    let state = NodeState::from_ring(nc.routing, ring[i], &ring, |_| 1_000, 1);
    let node = Node::active_with_state(0, nc, state, NoEstimate, i as u64).unwrap();
    Dht::new(cfg, node).unwrap()
}

/// Sends what the engine queued and re-arms its timer.
fn flush(dht: &mut Dht<u32, u16>, o: &mut Out<Role>) {
    let max = dht.node().config().max_payload;
    while let Some(t) = dht.poll_transmit() {
        if let Ok(bytes) = t.message.to_vec(max) {
            o.send(Id::from(t.to as usize), Msg::Net(bytes));
        }
    }
    while let Some(e) = dht.poll_event() {
        let out = match e {
            DhtEvent::PutDone { version, .. } | DhtEvent::RemoveDone { version, .. } => {
                Outcome::Written(version)
            }
            DhtEvent::GetDone { value, version, .. } => Outcome::Read { value, version },
            DhtEvent::Failed { .. } => Outcome::Failed,
            DhtEvent::Node(_) => continue,
        };
        o.send(Id::from(IDS.len()), Msg::Done(out));
    }
    match dht.poll_timeout() {
        Some(_) => o.set_timer(Timer::Tick, Duration::ZERO..Duration::from_secs(1)),
        None => o.cancel_timer(Timer::Tick),
    }
}

impl Actor for Role {
    type Msg = Msg;
    type State = State;
    type Timer = Timer;
    type Random = ();
    type Storage = ();

    fn on_start(&self, _id: Id, _s: &Option<()>, o: &mut Out<Self>) -> State {
        match self {
            Role::Node(i, cfg) => {
                let mut dht = build(*i, *cfg);
                flush(&mut dht, o);
                if *i == VICTIM {
                    o.set_timer(Timer::Crash, Duration::ZERO..Duration::from_secs(1));
                }
                State::Node {
                    dht: Box::new(dht),
                    now: 0,
                    crashed: false,
                }
            }
            Role::Client => {
                o.send(Id::from(0), Msg::Write(Some(b"v".to_vec())));
                State::Client {
                    put: None,
                    remove: None,
                    read: None,
                    failed: false,
                }
            }
        }
    }

    fn on_msg(&self, _id: Id, state: &mut Cow<State>, src: Id, msg: Msg, o: &mut Out<Self>) {
        match state.to_mut() {
            State::Node { dht, now, crashed } => {
                if *crashed {
                    return;
                }
                let now = *now;
                match msg {
                    Msg::Net(bytes) => {
                        let _ = dht.handle_bytes(now, usize::from(src) as u32, &bytes);
                    }
                    Msg::Write(Some(v)) => {
                        let _ = dht.put(now, KEY, v);
                    }
                    Msg::Write(None) => {
                        let _ = dht.remove(now, KEY);
                    }
                    Msg::Read => {
                        let _ = dht.get(now, KEY);
                    }
                    Msg::Done(_) => {}
                }
                flush(dht, o);
            }
            State::Client {
                put,
                remove,
                read,
                failed,
            } => {
                let Msg::Done(out) = msg else { return };
                match out {
                    Outcome::Failed => *failed = true,
                    Outcome::Written(v) if put.is_none() => {
                        *put = Some(v);
                        o.send(Id::from(1), Msg::Write(None));
                    }
                    Outcome::Written(v) if remove.is_none() => {
                        *remove = Some(v);
                        o.send(Id::from(0), Msg::Read);
                    }
                    r @ Outcome::Read { .. } if read.is_none() => *read = Some(r),
                    _ => {}
                }
            }
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<State>, timer: &Timer, o: &mut Out<Self>) {
        if let State::Node { dht, now, crashed } = state.to_mut() {
            if *crashed {
                return;
            }
            match timer {
                Timer::Crash => {
                    *crashed = true;
                    o.cancel_timer(Timer::Tick);
                }
                Timer::Tick => {
                    if let Some(at) = dht.poll_timeout() {
                        *now = (*now).max(at);
                        dht.handle_timeout(*now);
                    }
                    flush(dht, o);
                }
            }
        }
    }
}

fn client(s: &[std::sync::Arc<State>]) -> (&Option<Version<u16>>, &Option<Outcome>) {
    match s.last().map(|a| &**a) {
        Some(State::Client { remove, read, .. }) => (remove, read),
        _ => (&None, &None),
    }
}

fn model(planted: Option<PlantedBug>) -> ActorModel<Role, (), ()> {
    let mut cfg = DhtConfig::default();
    cfg.replicas = 3;
    cfg.write_quorum = Some(2);
    cfg.planted = planted;
    ActorModel::new((), ())
        .actors((0..IDS.len()).map(|i| Role::Node(i, cfg)))
        .actor(Role::Client)
        .init_network(Network::new_unordered_nonduplicating([]))
        // Time is bounded: no node's clock passes the horizon (so every path is finite).
        .within_boundary(|_, s| {
            s.actor_states.iter().all(|a| match &**a {
                State::Node { now, .. } => *now <= HORIZON,
                State::Client { .. } => true,
            })
        })
        .property(
            Expectation::Always,
            "a get after the remove finds no value",
            |_, s| match client(&s.actor_states) {
                (Some(rm), Some(Outcome::Read { value, version })) => {
                    value.is_none() && *version >= Some(*rm)
                }
                _ => true,
            },
        )
        .property(Expectation::Sometimes, "the sequence completes", |_, s| {
            matches!(client(&s.actor_states), (_, Some(Outcome::Read { .. })))
        })
        .property(
            Expectation::Sometimes,
            "every live node holds the tombstone",
            |_, s| {
                s.actor_states.iter().all(|a| match &**a {
                    State::Node { dht, crashed, .. } => {
                        *crashed || dht.store().get(KEY).is_some_and(|r| r.value.is_none())
                    }
                    State::Client { .. } => true,
                })
            },
        )
}

/// Exhaustive (depth-first) over the first `states` states, or random walks from a fixed
/// seed over as many (stateright's simulation checker: each walk runs to the horizon).
fn check(
    planted: Option<PlantedBug>,
    states: usize,
    walks: bool,
) -> Box<dyn Checker<ActorModel<Role, (), ()>>> {
    let start = Instant::now();
    let b = model(planted)
        .checker()
        .target_state_count(states)
        .timeout(Duration::from_secs(120));
    let c: Box<dyn Checker<_>> = if walks {
        Box::new(b.spawn_simulation(7, UniformChooser).join())
    } else {
        Box::new(b.spawn_dfs().join())
    };
    eprintln!(
        "planted {planted:?}, walks {walks}: {} states ({} unique) in {:.1} s",
        c.state_count(),
        c.unique_state_count(),
        start.elapsed().as_secs_f64()
    );
    c
}

#[test]
fn model_satisfies_the_dht_properties_exhaustively_within_the_bound() {
    let c = check(None, 300_000, false);
    c.assert_no_discovery("a get after the remove finds no value");
}

#[test]
fn model_satisfies_the_dht_properties_on_random_walks() {
    let c = check(None, 300_000, true);
    c.assert_no_discovery("a get after the remove finds no value");
    c.assert_any_discovery("the sequence completes");
    c.assert_any_discovery("every live node holds the tombstone");
}

#[test]
fn model_rejects_the_planted_older_wins_bug() {
    let c = check(Some(PlantedBug::OlderWins), 300_000, true);
    c.assert_any_discovery("a get after the remove finds no value");
}
