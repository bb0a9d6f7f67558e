//! Model checking the real [`pastry_node::Node`] with stateright.
//!
//! # What is modelled
//!
//! Each actor of a stateright [`ActorModel`] is one unmodified `Node<u8, u8>`: ids are `u8`
//! words, so a handful of nodes sit on a 256-key ring, and the handle of a node is its actor
//! index. Starting an actor either builds an active node from global knowledge of the other
//! such nodes (`Node::active_with_state`), starts a new overlay (`join(None)`), or joins through
//! a contact (`join(Some(contact))`); every join starts at once, so joins are concurrent.
//! Delivering a message calls `Node::handle_bytes` with the bytes the sender's `Message::to_vec`
//! produced (every message goes through the codec); a timeout calls `Node::handle_timeout`.
//! After each input the actor drains `poll_transmit` into stateright sends, discards the events,
//! and keeps one stateright timer armed exactly while `poll_timeout` is `Some`.
//!
//! The network is unordered and does not duplicate; it may lose any message
//! ([`LossyNetwork::Yes`]) in the lossy scenarios, and up to one node may crash (it stops for
//! good: recovery is not modelled, the checker's `Recover` action is removed). Duplication is
//! left to the in-crate test network's tests.
//!
//! **Time.** Each node has its own clock, starting at 0. Firing a node's timer moves its clock to
//! its earliest deadline and handles every timer due then, so a node's own timers fire in
//! deadline order. Two timings are checked:
//!
//! * *asynchronous*: any armed timer may fire at any moment, before or after any message is
//!   delivered; message delays are unbounded, so a probe may time out while its answer is in
//!   flight, a root may serve a retried join request, and so on;
//! * *timely*: every message in flight is delivered before any timer fires, and timers fire in
//!   the order of one global clock (a message is handled at its sender's time). This is a
//!   network whose delays are all shorter than every timeout; it is where liveness can hold.
//!
//! **Assumption: an accurate failure detector.** Pastry's consistency rests on a failure
//! detector that never declares a live node faulty. In the asynchronous model a node's probes
//! can all time out while the probed node is alive (its answers are late or lost), and no
//! protocol keeps one root per key when live nodes are forgotten. The model therefore records,
//! per node, every node its probes found faulty (a probe that ends without an answer: the only
//! way the engine concludes a node is gone, whether it then declares it failed or, while
//! joining, drops it), and [`Pastry::within_boundary`] leaves out every state in which a node
//! found faulty, or named in a node's `recently_failed()` list, has not crashed. Such states are
//! not explored further; their number is printed as "false suspicions". Nothing else is
//! excluded.
//!
//! # Properties
//!
//! * always, **one root per key**: for every key of the ring, at most one active node that has
//!   not crashed has `state().route(key) == Route::Deliver`;
//! * always, **invariants**: `NodeState::invariants` and `Node::invariants` hold in every node
//!   (they assert in builds with debug assertions, as in the test profile; an assertion fired
//!   while a node handled an input is caught and reported as a violation with its trace);
//! * sometimes, **a joining node turns active**, and sometimes **every live node is active with
//!   the true leaf set** (the L/2 nearest live active ids on each side,
//!   `pastry_node::testnet::true_leaf_set`);
//! * eventually, **every live node is active with the true leaf set**, in timely scenarios
//!   explored completely (stateright checks eventually properties on paths that end; with a
//!   clock bound every path ends, and the checker can miss, never invent, a counterexample
//!   where paths join).
//!
//! # Bounds
//!
//! Ring `u8`, b = 2, L = 2 (one member per side: with four nodes, leaf sets overflow and joining
//! nodes push each other out) or L = 4, |M| = 0 (its exchanges would multiply the interleavings
//! while the leaf sets decide the roots), every timer and cap at its default. Each node's clock stays within a horizon
//! (10 s in breadth-first searches: long enough for a probe to be found faulty, 60 s or more
//! elsewhere). The state space of two concurrent joins is far beyond exhaustive search, so each
//! scenario is checked two ways: breadth-first, every interleaving up to a depth (the number of
//! deliveries, drops, timeouts and crashes), and by stateright's simulation checker, random
//! paths to the horizon from a fixed seed (one thread, so the paths are the same on every run).
//! The timely single-join scenarios are small enough to explore completely. Every build checks
//! the same bounds; only builds with debug assertions (the test profile) check the invariants.
//! Heavier variants are `#[ignore]`d.
//!
//! # What the checks found
//!
//! Three splits of a gap joined by two nodes at once, with L = 2, each fixed in the node (see
//! `tests/join_races.rs`): a joining node turning active while its nearest member was itself
//! joining and the active node beyond knew neither; and, twice, two joining nodes pushing each
//! other out of the leaf sets at the two ends of the gap without either hearing of the other
//! (once through the answers to retried probes). No check shows the root's one-joiner-per-side
//! rule to be needed any more: with it switched off (the planted `NoJoinGrant`), neither random
//! paths through three joins into a new overlay (16 seeds of 1.5 million states each) nor thirty
//! nodes joining through one contact at once in the network tests (24 seeds, with and without
//! random delays of up to 2 s) deliver a key off its root or leave a wrong leaf set; the later
//! rules above (a joining node waits for the active node beyond a joining neighbour; answers to
//! its probes name the members it pushed out) and delivery only at a root not suspected seem to
//! cover the races the grant was for. The rule is kept until a proof or a deeper search says it
//! can go. One known failure remains, with L = 2 and a crash
//! (`one_crash_with_one_member_per_side`, ignored): until a crashed neighbour is replaced, the
//! kernel's rare case makes a node with a hole in its leaf set the root of keys beyond the hole.
//!
//! Run the model tests with `cargo test -p pastry-node --release --test model -- --nocapture`
//! for the figures; add `--ignored` for the heavier variants.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pastry_kernel::{Config, NodeRef, NodeState, Route};
use pastry_node::message::{Body, Message, MAX_PAYLOAD};
use pastry_node::testnet::true_leaf_set;
use pastry_node::{NoEstimate, Node, NodeConfig, PlantedBug, Time};
use stateright::actor::{
    model_timeout, Actor, ActorModel, ActorModelAction, ActorModelState, Id, LossyNetwork, Network,
    Out,
};
use stateright::{Checker, HasDiscoveries, Model, Path, Property, UniformChooser};

type Word = u8;
type Handle = u8;
type PNode = Node<Handle, Word>;
type State = ActorModelState<Peer>;
type Action = ActorModelAction<Wire, Wake, ()>;

const SECOND: Time = 1_000_000;

// ---------------------------------------------------------------------------------------------
// One node as an actor
// ---------------------------------------------------------------------------------------------

/// A message on the wire: the bytes the sender's host encoded, and, with timely timing, the
/// sender's clock (the receiver's clock moves up to it: delivery takes no time).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Wire {
    at: Time,
    bytes: Arc<[u8]>,
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Message::<Handle, Word>::decode(&self.bytes, MAX_PAYLOAD) {
            Ok(m) => f.write_str(&describe(&m)),
            Err(e) => write!(f, "<undecodable: {e:?}>"),
        }
    }
}

fn ids<'a>(nodes: impl Iterator<Item = &'a NodeRef<Handle, Word>>) -> String {
    nodes
        .map(|n| format!("{:02x}", n.id))
        .collect::<Vec<_>>()
        .join(",")
}

/// One line about a message: kind, id, sender and the leaf sets it carries.
fn describe(m: &Message<Handle, Word>) -> String {
    let head = format!("{}#{} from {:02x}", m.body.kind().name(), m.id, m.from.id);
    match &m.body {
        Body::LeafProbe(i) | Body::LeafProbeReply(i) | Body::Heartbeat(i) => format!(
            "{head} [{} | {}]{}{}",
            ids(i.leaf_set.predecessors().iter()),
            ids(i.leaf_set.successors().iter()),
            if i.active { "" } else { " inactive" },
            if i.failed.is_empty() {
                String::new()
            } else {
                format!(" failed {:02x?}", i.failed)
            }
        ),
        Body::JoinReply(r) => format!(
            "{head} [{} | {}] route {}",
            ids(r.leaf_set.predecessors().iter()),
            ids(r.leaf_set.successors().iter()),
            ids(r.gather.route.iter())
        ),
        Body::JoinRequest(r) => format!("{head} for {:02x} seq {}", r.origin.id, r.seq),
        Body::StateAnnounce(s) => format!(
            "{head} [{} | {}]",
            ids(s.leaf_set().predecessors().iter()),
            ids(s.leaf_set().successors().iter())
        ),
        _ => head,
    }
}

/// The one stateright timer of a node: "its earliest deadline has come".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Wake;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timing {
    /// Any armed timer may fire at any moment.
    Asynchronous,
    /// Messages in flight first; timers in global deadline order.
    Timely,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Active from the start, its state built from global knowledge of the other seeds.
    Seed,
    /// Starts a new overlay.
    Bootstrap,
    /// Joins through the node with this handle.
    Join(Handle),
}

#[derive(Clone)]
struct Peer {
    own: NodeRef<Handle, Word>,
    role: Role,
    cfg: NodeConfig,
    seeds: Vec<NodeRef<Handle, Word>>,
    timing: Timing,
}

/// An actor's state: the node, its clock, and what the model records about it.
#[derive(Clone, PartialEq, Eq)]
struct PeerState {
    node: PNode,
    now: Time,
    /// Every node this node's probes found faulty (a probe ended without an answer).
    faulty: BTreeSet<Word>,
    /// The keys this node delivers (`route(key) == Deliver`) while active, as a bit set.
    roots: [u64; 4],
    /// An assertion that fired while the node handled an input.
    broken: Option<String>,
    /// A digest of the fields above; [`Hash`] writes only this.
    digest: u64,
    /// A digest of the phase and kernel state `roots` was computed for.
    roots_for: u64,
}

impl Hash for PeerState {
    fn hash<S: Hasher>(&self, h: &mut S) {
        h.write_u64(self.digest);
    }
}

fn digest(x: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

impl fmt::Debug for PeerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.node;
        let leaf = n.state().leaf_set();
        write!(
            f,
            "{:02x} {:?} t={}ms [{} | {}]",
            n.own().id,
            n.phase(),
            self.now / 1000,
            ids(leaf.predecessors().iter()),
            ids(leaf.successors().iter()),
        )?;
        let failed: Vec<&Word> = n.recently_failed().collect();
        if !failed.is_empty() {
            write!(f, " failed {failed:02x?}")?;
        }
        let probing: Vec<&Word> = n.probing().collect();
        if !probing.is_empty() {
            write!(f, " probing {probing:02x?}")?;
        }
        if !self.faulty.is_empty() {
            write!(f, " found-faulty {:02x?}", self.faulty)?;
        }
        if let Some(b) = &self.broken {
            write!(f, " ASSERTION: {b}")?;
        }
        Ok(())
    }
}

/// The keys `node` delivers, if it is active.
fn roots_of(node: &PNode) -> [u64; 4] {
    let mut roots = [0u64; 4];
    if node.is_active() {
        for k in 0..=Word::MAX {
            if matches!(node.state().route(k), Route::Deliver) {
                roots[usize::from(k / 64)] |= 1 << (k % 64);
            }
        }
    }
    roots
}

fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

impl Peer {
    /// Runs one input (`timeout`: a timer firing) and hands the node's outputs to stateright.
    fn step(
        &self,
        st: &mut PeerState,
        o: &mut Out<Self>,
        timeout: bool,
        input: impl FnOnce(&mut PNode, Time),
    ) {
        let probing_before: Vec<Word> = if timeout {
            st.node.probing().copied().collect()
        } else {
            Vec::new()
        };
        let now = st.now;
        let node = &mut st.node;
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| input(node, now))) {
            st.broken.get_or_insert(panic_text(&*e));
        }
        // A probe that ends in a timeout ended without an answer: the node was found faulty.
        for id in probing_before {
            if !st.node.probing().any(|p| *p == id) {
                st.faulty.insert(id);
            }
        }
        let at = match self.timing {
            Timing::Asynchronous => 0,
            Timing::Timely => st.now,
        };
        while let Some(t) = st.node.poll_transmit() {
            let bytes = t
                .message
                .to_vec(self.cfg.max_payload)
                .expect("a node's own messages encode");
            o.send(
                Id::from(usize::from(t.to)),
                Wire {
                    at,
                    bytes: bytes.into(),
                },
            );
        }
        while st.node.poll_event().is_some() {}
        if st.node.poll_timeout().is_some() {
            o.set_timer(Wake, model_timeout());
        } else {
            o.cancel_timer(Wake);
        }
        let roots_for = digest(&(st.node.phase(), st.node.state()));
        if roots_for != st.roots_for {
            st.roots = roots_of(&st.node);
            st.roots_for = roots_for;
        }
        st.digest = digest(&(&st.node, st.now, &st.faulty, &st.broken));
    }
}

impl Actor for Peer {
    type Msg = Wire;
    type Timer = Wake;
    type State = PeerState;
    type Storage = ();
    type Random = ();

    fn on_start(&self, id: Id, _storage: &Option<()>, o: &mut Out<Self>) -> PeerState {
        let seed = usize::from(id) as u64;
        let node = match self.role {
            Role::Seed => {
                let state = NodeState::from_ring(self.cfg.routing, self.own, &self.seeds, |_| 1, 1);
                Node::active_with_state(0, self.cfg, state, NoEstimate, seed)
            }
            Role::Bootstrap | Role::Join(_) => Node::new(self.cfg, self.own, NoEstimate, seed),
        }
        .expect("a valid configuration");
        let mut st = PeerState {
            node,
            now: 0,
            faulty: BTreeSet::new(),
            roots: [0; 4],
            broken: None,
            digest: 0,
            roots_for: 0,
        };
        let role = self.role;
        self.step(&mut st, o, false, |n, now| {
            let joined = match role {
                Role::Seed => Ok(()),
                Role::Bootstrap => n.join(now, None),
                Role::Join(contact) => n.join(now, Some(contact)),
            };
            assert!(joined.is_ok(), "a new node joins");
        });
        st
    }

    fn on_msg(&self, _: Id, state: &mut Cow<PeerState>, src: Id, msg: Wire, o: &mut Out<Self>) {
        let st = state.to_mut();
        st.now = st.now.max(msg.at);
        let from = Handle::try_from(usize::from(src)).expect("a handful of actors");
        self.step(st, o, false, |n, now| {
            let decoded = n.handle_bytes(now, from, &msg.bytes);
            assert!(decoded.is_ok(), "a message from a node decodes");
        });
    }

    fn on_timeout(&self, _: Id, state: &mut Cow<PeerState>, _: &Wake, o: &mut Out<Self>) {
        let Some(at) = state.node.poll_timeout() else {
            return;
        };
        let st = state.to_mut();
        st.now = st.now.max(at);
        self.step(st, o, true, |n, now| n.handle_timeout(now));
    }
}

// ---------------------------------------------------------------------------------------------
// The system: actors, timing, bounds, the failure-detector assumption, properties
// ---------------------------------------------------------------------------------------------

const ONE_ROOT: &str = "one root per key";
const INVARIANTS: &str = "invariants hold";
const JOINED: &str = "a joining node turns active";
const CONVERGED: &str = "every live node is active with the true leaf set";
const CONVERGES: &str = "eventually every live node is active with the true leaf set";

/// The states left out, by reason (each state counted once).
#[derive(Default)]
struct Excluded {
    false_suspicion: Mutex<HashSet<u64>>,
    past_horizon: Mutex<HashSet<u64>>,
}

/// The actor model with the timing, the bounds and the properties.
struct Pastry {
    actors: ActorModel<Peer>,
    timing: Timing,
    horizon: Time,
    /// Timely scenarios: no crash after this global time (so that a crash can be detected and
    /// repaired within the horizon).
    crash_until: Time,
    half: usize,
    ids: Vec<Word>,
    joiners: Vec<usize>,
    /// The nodes that may crash.
    crashable: Vec<bool>,
    eventually: bool,
    excluded: Arc<Excluded>,
}

fn live(s: &State, i: usize) -> bool {
    !s.crashed.get(i).copied().unwrap_or(true)
}

/// At most one live active node delivers each key.
fn one_root(s: &State) -> bool {
    let mut seen = [0u64; 4];
    for (i, p) in s.actor_states.iter().enumerate() {
        if !live(s, i) {
            continue;
        }
        for (w, r) in seen.iter_mut().zip(p.roots) {
            if *w & r != 0 {
                return false;
            }
            *w |= r;
        }
    }
    true
}

fn invariants_hold(s: &State) -> bool {
    s.actor_states.iter().all(|p| {
        p.broken.is_none()
            && catch_unwind(AssertUnwindSafe(|| {
                p.node.state().invariants();
                p.node.invariants();
            }))
            .is_ok()
    })
}

fn converged(m: &Pastry, s: &State) -> bool {
    let alive: Vec<usize> = (0..s.actor_states.len()).filter(|i| live(s, *i)).collect();
    if !alive.iter().all(|i| s.actor_states[*i].node.is_active()) {
        return false;
    }
    let mut ring: Vec<Word> = alive.iter().map(|i| m.ids[*i]).collect();
    ring.sort_unstable();
    alive.iter().all(|i| {
        let n = &s.actor_states[*i].node;
        let (succ, pred) = true_leaf_set(n.own().id, &ring, m.half);
        let leaf = n.state().leaf_set();
        leaf.successors().iter().map(|x| x.id).eq(succ)
            && leaf.predecessors().iter().map(|x| x.id).eq(pred)
    })
}

fn some_joiner_active(m: &Pastry, s: &State) -> bool {
    m.joiners
        .iter()
        .any(|i| live(s, *i) && s.actor_states[*i].node.is_active())
}

impl Pastry {
    /// Whether a node was found faulty, or is listed as failed, by another while it has not
    /// crashed.
    fn false_suspicion(&self, s: &State) -> bool {
        s.actor_states.iter().any(|p| {
            p.faulty.iter().chain(p.node.recently_failed()).any(|id| {
                self.ids
                    .iter()
                    .position(|x| x == id)
                    .is_some_and(|i| live(s, i))
            })
        })
    }

    fn global_time(s: &State) -> Time {
        s.actor_states.iter().map(|p| p.now).max().unwrap_or(0)
    }
}

impl Model for Pastry {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        self.actors.init_states()
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        self.actors.actions(s, actions);
        // No recovery; nothing is delivered to a crashed node (stateright would refuse it).
        actions.retain(|a| match a {
            ActorModelAction::Recover(_) => false,
            ActorModelAction::Deliver { dst, .. } => live(s, usize::from(*dst)),
            ActorModelAction::Crash(id) => self.crashable[usize::from(*id)],
            _ => true,
        });
        if self.timing == Timing::Timely {
            let in_flight = s
                .network
                .iter_deliverable()
                .any(|e| live(s, usize::from(e.dst)));
            let next = (0..s.actor_states.len())
                .filter(|i| live(s, *i))
                .filter_map(|i| s.actor_states[i].node.poll_timeout())
                .min();
            let now = Self::global_time(s);
            actions.retain(|a| match a {
                ActorModelAction::Timeout(id, _) => {
                    !in_flight && s.actor_states[usize::from(*id)].node.poll_timeout() == next
                }
                ActorModelAction::Crash(_) => now <= self.crash_until,
                _ => true,
            });
        }
    }

    fn next_state(&self, s: &State, a: Action) -> Option<State> {
        self.actors.next_state(s, a)
    }

    fn format_action(&self, a: &Action) -> String {
        self.actors.format_action(a)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut p = vec![
            Property::always(ONE_ROOT, |_, s| one_root(s)),
            Property::always(INVARIANTS, |_, s| invariants_hold(s)),
            Property::sometimes(JOINED, some_joiner_active),
            Property::sometimes(CONVERGED, converged),
        ];
        if self.eventually {
            p.push(Property::eventually(CONVERGES, converged));
        }
        p
    }

    fn within_boundary(&self, s: &State) -> bool {
        if s.actor_states.iter().any(|p| p.now > self.horizon) {
            let mut set = self.excluded.past_horizon.lock().expect("not poisoned");
            set.insert(digest(s));
            return false;
        }
        if self.false_suspicion(s) {
            let mut set = self.excluded.false_suspicion.lock().expect("not poisoned");
            set.insert(digest(s));
            return false;
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios and searches
// ---------------------------------------------------------------------------------------------

/// A network to check.
#[derive(Clone)]
struct Scenario {
    name: &'static str,
    routing: Config,
    peers: Vec<(Word, Role)>,
    lossy: bool,
    crashes: usize,
    timing: Timing,
    horizon: Time,
    crash_until: Time,
    planted: Option<PlantedBug>,
    eventually: bool,
    /// The nodes that may crash (all when `None`).
    crashable: Option<Vec<usize>>,
}

#[derive(Clone, Copy, Debug)]
enum Search {
    /// Every interleaving up to `depth` steps (all of them with `None`).
    Bfs { depth: Option<usize> },
    /// Random paths from `seed` on one thread until `states` states are visited or a safety
    /// property fails.
    Simulation { seed: u64, states: usize },
}

/// b = 2, |M| = 0, and L as given.
fn routing(leaf_set_len: usize) -> Config {
    Config::new(2, leaf_set_len, 0).expect("a valid configuration")
}

/// Two active nodes, 0x10 and 0x90, and joining nodes (id, contact index).
fn seeds_and(joiners: &[(Word, Handle)]) -> Vec<(Word, Role)> {
    let mut peers = vec![(0x10, Role::Seed), (0x90, Role::Seed)];
    peers.extend(joiners.iter().map(|(id, c)| (*id, Role::Join(*c))));
    peers
}

impl Scenario {
    fn new(name: &'static str, leaf_set_len: usize, peers: Vec<(Word, Role)>) -> Self {
        Scenario {
            name,
            routing: routing(leaf_set_len),
            peers,
            lossy: false,
            crashes: 0,
            timing: Timing::Asynchronous,
            horizon: 60 * SECOND,
            crash_until: 0,
            planted: None,
            eventually: false,
            crashable: None,
        }
    }

    fn model(&self) -> Pastry {
        let mut cfg = NodeConfig::new(self.routing);
        cfg.planted = self.planted;
        let handle = |i: usize| Handle::try_from(i).expect("a handful of actors");
        let mut seeds: Vec<NodeRef<Handle, Word>> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, (_, role))| *role == Role::Seed)
            .map(|(i, (id, _))| NodeRef::new(*id, handle(i)))
            .collect();
        seeds.sort_by_key(|n| n.id);
        let actors = self.peers.iter().enumerate().map(|(i, (id, role))| Peer {
            own: NodeRef::new(*id, handle(i)),
            role: *role,
            cfg,
            seeds: seeds.clone(),
            timing: self.timing,
        });
        let actors = ActorModel::new((), ())
            .actors(actors)
            .init_network(Network::new_unordered_nonduplicating([]))
            .lossy_network(if self.lossy {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            })
            .max_crashes(self.crashes);
        Pastry {
            actors,
            timing: self.timing,
            horizon: self.horizon,
            crash_until: self.crash_until,
            half: self.routing.leaf_set_half(),
            ids: self.peers.iter().map(|(id, _)| *id).collect(),
            joiners: (0..self.peers.len())
                .filter(|i| matches!(self.peers[*i].1, Role::Join(_)))
                .collect(),
            crashable: (0..self.peers.len())
                .map(|i| self.crashable.as_ref().is_none_or(|c| c.contains(&i)))
                .collect(),
            eventually: self.eventually,
            excluded: Arc::new(Excluded::default()),
        }
    }

    /// Runs `search` and prints what it did.
    fn check(&self, search: Search) -> Outcome {
        let model = self.model();
        let excluded = Arc::clone(&model.excluded);
        let start = Instant::now();
        let builder = model.checker();
        let (found, states, unique, depth, done) = match search {
            Search::Bfs { depth } => {
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
                let mut b = builder.threads(threads);
                if let Some(d) = depth {
                    b = b.target_max_depth(d);
                }
                let c = b.spawn_bfs().join();
                let found = discoveries(&c);
                (
                    found,
                    c.state_count(),
                    c.unique_state_count(),
                    c.max_depth(),
                    c.is_done(),
                )
            }
            Search::Simulation { seed, states } => {
                let c = builder
                    .threads(1)
                    .target_state_count(states)
                    .finish_when(HasDiscoveries::AnyFailures)
                    .spawn_simulation(seed, UniformChooser)
                    .join();
                let found = discoveries(&c);
                (
                    found,
                    c.state_count(),
                    c.unique_state_count(),
                    c.max_depth(),
                    true,
                )
            }
        };
        let elapsed = start.elapsed();
        let false_suspicions = excluded.false_suspicion.lock().expect("not poisoned").len();
        let past_horizon = excluded.past_horizon.lock().expect("not poisoned").len();
        println!(
            "{} [{search:?}, {:?}, horizon {} s{}{}{}]: {states} states ({unique} unique), \
             max depth {depth}, {elapsed:.1?}; left out: {false_suspicions} false suspicions, \
             {past_horizon} past the horizon; invariants {}",
            self.name,
            self.timing,
            self.horizon / SECOND,
            if self.lossy { ", lossy" } else { "" },
            if self.crashes > 0 { ", one crash" } else { "" },
            match self.planted {
                Some(b) => format!(", planted {b:?}"),
                None => String::new(),
            },
            if cfg!(debug_assertions) {
                "checked"
            } else {
                "not checked (no debug assertions)"
            },
        );
        for (name, path) in &found {
            println!(
                "    {name}: {}",
                match (path, is_safety(name)) {
                    (Some(_), true) => "VIOLATED",
                    (Some(_), false) => "found",
                    (None, true) => "holds",
                    (None, false) => "not found",
                }
            );
        }
        Outcome {
            scenario: self.clone(),
            model: self.model(),
            found,
            done,
        }
    }
}

fn is_safety(name: &str) -> bool {
    name == ONE_ROOT || name == INVARIANTS || name == CONVERGES
}

type Found = BTreeMap<&'static str, Option<Path<State, Action>>>;

fn discoveries<C: Checker<Pastry>>(c: &C) -> Found {
    c.model()
        .properties()
        .iter()
        .map(|p| (p.name, c.discovery(p.name)))
        .collect()
}

/// What a search found.
struct Outcome {
    scenario: Scenario,
    model: Pastry,
    found: Found,
    done: bool,
}

impl Outcome {
    fn path(&self, name: &str) -> Option<&Path<State, Action>> {
        self.found.get(name).and_then(Option::as_ref)
    }

    /// Panics, with the trace, if a safety property failed; also checks that the search ended.
    fn assert_safe(&self) -> &Self {
        assert!(
            self.done,
            "{}: the search did not finish",
            self.scenario.name
        );
        for name in [ONE_ROOT, INVARIANTS] {
            if let Some(path) = self.path(name) {
                self.print_trace(name, path);
                panic!(
                    "{}: \"{name}\" is violated (trace above)",
                    self.scenario.name
                );
            }
        }
        self
    }

    fn assert_found(&self, name: &str) -> &Self {
        assert!(
            self.path(name).is_some(),
            "{}: no example of \"{name}\" within the bounds",
            self.scenario.name
        );
        self
    }

    fn assert_eventually(&self) -> &Self {
        assert!(
            self.done,
            "{}: the search did not finish",
            self.scenario.name
        );
        if let Some(path) = self.path(CONVERGES) {
            self.print_trace(CONVERGES, path);
            panic!(
                "{}: a path ends without converging (trace above)",
                self.scenario.name
            );
        }
        self
    }

    /// The trace of a planted bug's violation, which must be found.
    fn expect_violation(&self, name: &str) {
        let path = self.path(name).unwrap_or_else(|| {
            panic!(
                "{}: the checker did not find the planted bug (\"{name}\" holds)",
                self.scenario.name
            )
        });
        self.print_trace(name, path);
    }

    /// Prints a path: each step's action, then the nodes it changed.
    fn print_trace(&self, name: &str, path: &Path<State, Action>) {
        let steps = path.clone().into_vec();
        println!(
            "{}: \"{name}\" fails after {} steps:",
            self.scenario.name,
            steps.len() - 1
        );
        let mut last: Vec<String> = Vec::new();
        for (s, a) in steps {
            let now: Vec<String> = s
                .actor_states
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{i}{} {p:?}", if live(&s, i) { "" } else { " CRASHED" }))
                .collect();
            for (i, line) in now.iter().enumerate() {
                if last.get(i) != Some(line) {
                    println!("        {line}");
                }
            }
            last = now;
            if let Some(a) = a {
                println!("    {}", self.model.format_action(&a));
            }
        }
        println!(
            "    the last state violates \"{name}\" (debug assertions: {})",
            cfg!(debug_assertions)
        );
    }
}

fn bfs(depth: usize) -> Search {
    Search::Bfs { depth: Some(depth) }
}

fn simulation(seed: u64, states: usize) -> Search {
    Search::Simulation { seed, states }
}

// ---------------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------------

/// Two nodes, 0x20 and 0x30, join at once through 0x10, their root, on the same side of it
/// (L = 2: each pushes the other out of 0x10's leaf set).
fn joins_through_one_contact() -> Scenario {
    Scenario::new(
        "two joins through one contact",
        2,
        seeds_and(&[(0x20, 0), (0x30, 0)]),
    )
}

/// Two nodes join at once into the same gap through different contacts and roots: 0x20
/// through 0x10, 0x70 through 0x90 (L = 2).
fn joins_through_two_contacts() -> Scenario {
    Scenario::new(
        "two joins through two contacts",
        2,
        seeds_and(&[(0x20, 0), (0x70, 1)]),
    )
}

/// A new overlay, 0x10, and three nodes joining through it at once (L = 2).
fn three_joins_into_a_new_overlay() -> Scenario {
    Scenario::new(
        "three joins into a new overlay",
        2,
        vec![
            (0x10, Role::Bootstrap),
            (0x20, Role::Join(0)),
            (0x30, Role::Join(0)),
            (0x40, Role::Join(0)),
        ],
    )
}

fn asynchronous_bfs(mut sc: Scenario) -> Scenario {
    sc.horizon = 10 * SECOND;
    sc
}

fn lossy(mut sc: Scenario) -> Scenario {
    sc.lossy = true;
    sc
}

fn one_crash(mut sc: Scenario) -> Scenario {
    sc.crashes = 1;
    sc
}

fn planted(mut sc: Scenario, bug: PlantedBug) -> Scenario {
    sc.planted = Some(bug);
    sc
}

/// Timely timing, explored completely, with the eventually property.
fn timely(mut sc: Scenario, horizon: Time, crash_until: Time) -> Scenario {
    sc.timing = Timing::Timely;
    sc.horizon = horizon;
    sc.crash_until = crash_until;
    sc.eventually = true;
    sc
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn concurrent_joins_through_one_contact_keep_one_root_per_key() {
    asynchronous_bfs(joins_through_one_contact())
        .check(bfs(10))
        .assert_safe()
        .assert_found(JOINED);
    joins_through_one_contact()
        .check(simulation(1, 1_000_000))
        .assert_safe()
        .assert_found(CONVERGED);
}

#[test]
fn concurrent_joins_through_two_contacts_keep_one_root_per_key() {
    asynchronous_bfs(joins_through_two_contacts())
        .check(bfs(10))
        .assert_safe()
        .assert_found(JOINED);
    joins_through_two_contacts()
        .check(simulation(1, 1_000_000))
        .assert_safe()
        .assert_found(CONVERGED);
}

#[test]
fn concurrent_joins_over_a_lossy_network_keep_one_root_per_key() {
    asynchronous_bfs(lossy(joins_through_two_contacts()))
        .check(bfs(9))
        .assert_safe()
        .assert_found(JOINED);
    lossy(joins_through_one_contact())
        .check(simulation(2, 1_000_000))
        .assert_safe()
        .assert_found(JOINED);
}

/// With L = 4 (with L = 2, see `one_crash_with_one_member_per_side`).
#[test]
fn a_crash_during_concurrent_joins_keeps_one_root_per_key() {
    let mut sc = one_crash(joins_through_two_contacts());
    sc.routing = routing(4);
    asynchronous_bfs(sc.clone())
        .check(bfs(9))
        .assert_safe()
        .assert_found(JOINED);
    sc.check(simulation(3, 1_000_000))
        .assert_safe()
        .assert_found(CONVERGED);
}

#[test]
fn three_concurrent_joins_into_a_new_overlay_keep_one_root_per_key() {
    three_joins_into_a_new_overlay()
        .check(simulation(4, 1_000_000))
        .assert_safe()
        .assert_found(CONVERGED);
}

/// With messages delivered before timers fire, every join completes with true leaf sets, also
/// when a node other than the joining node's contact crashes at any moment of the first 20 s
/// (a joining node knows only its contact until the root answers: if the contact dies first,
/// the join cannot complete, and the node gives up after its attempts).
#[test]
fn joins_complete_with_true_leaf_sets_on_a_timely_network() {
    timely(
        Scenario::new("one join, timely", 2, seeds_and(&[(0x50, 0)])),
        60 * SECOND,
        0,
    )
    .check(Search::Bfs { depth: None })
    .assert_safe()
    .assert_eventually()
    .assert_found(CONVERGED);
    let mut crash = one_crash(Scenario::new(
        "one join and a crash, timely",
        4,
        seeds_and(&[(0x50, 0)]),
    ));
    crash.crashable = Some(vec![1, 2]);
    timely(crash, 90 * SECOND, 20 * SECOND)
        .check(Search::Bfs { depth: None })
        .assert_safe()
        .assert_eventually()
        .assert_found(CONVERGED);
}

/// The joining node turns active as soon as the root answers: 0x50 then delivers keys that
/// 0x10, which has not heard of it, delivers too.
#[test]
fn planted_early_activation_is_caught() {
    planted(
        asynchronous_bfs(Scenario::new(
            "early activation",
            2,
            seeds_and(&[(0x50, 0)]),
        )),
        PlantedBug::EarlyActivation,
    )
    .check(bfs(6))
    .expect_violation(ONE_ROOT);
}

// ---------------------------------------------------------------------------------------------
// Heavier variants (cargo test -p pastry-node --release --test model -- --ignored --nocapture)
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "minutes: deeper breadth-first searches"]
fn deeper_concurrent_joins() {
    for sc in [joins_through_one_contact(), joins_through_two_contacts()] {
        asynchronous_bfs(sc.clone())
            .check(bfs(11))
            .assert_safe()
            .assert_found(JOINED);
        timely(sc, 60 * SECOND, 0)
            .check(bfs(16))
            .assert_safe()
            .assert_found(JOINED);
    }
}

#[test]
#[ignore = "minutes: long random searches"]
fn longer_random_searches() {
    let scenarios = [
        joins_through_one_contact(),
        joins_through_two_contacts(),
        three_joins_into_a_new_overlay(),
    ];
    for (seed, sc) in (10..).zip(scenarios) {
        sc.check(simulation(seed, 10_000_000))
            .assert_safe()
            .assert_found(CONVERGED);
    }
    let scenarios = [
        lossy(joins_through_one_contact()),
        lossy(joins_through_two_contacts()),
        lossy(three_joins_into_a_new_overlay()),
    ];
    for (seed, sc) in (30..).zip(scenarios) {
        sc.check(simulation(seed, 10_000_000))
            .assert_safe()
            .assert_found(JOINED);
    }
    for (seed, sc) in (20..).zip([joins_through_one_contact(), joins_through_two_contacts()]) {
        let mut sc = one_crash(sc);
        sc.routing = routing(4);
        sc.check(simulation(seed, 10_000_000))
            .assert_safe()
            .assert_found(CONVERGED);
    }
}

/// Known to fail. With one member per side, a crash leaves a hole in each neighbour's leaf set:
/// until repair fills it, such a node takes the keys beyond the hole by the kernel's rare case
/// when it knows no nearer node, including keys of the live node beyond the crashed one; and a
/// joining node's probe can meanwhile merge into it, by the repair rule, a view of the ring in
/// which the joining node is alone.
#[test]
#[ignore = "fails: a crash with L = 2 leaves a window in which two nodes deliver a key"]
fn one_crash_with_one_member_per_side() {
    one_crash(joins_through_two_contacts())
        .check(simulation(5, 10_000_000))
        .assert_safe();
}
