//! [`Network`]: every simulated node's kernel state, its place in the plane and whether it is
//! alive; messages move hop by hop by calling each node's [`NodeState::route`].

use std::collections::BTreeMap;

use pastry_kernel::arith::{closer, shl_len};
use pastry_kernel::{
    Config, Guid, Merged, NodeRef, NodeState, Proximity, Route, Row, Side, StateError, Via,
};
use rayon::prelude::*;

use crate::grid::Grid;
use crate::model::{Node, Point};
use crate::progress::Progress;

/// The simulator's handle for a node: its index in the network's node table.
pub type Handle = u32;

/// The kernel state of one simulated node.
pub type State = NodeState<Handle>;

/// A node reference as the kernel holds it.
pub type Peer = NodeRef<Handle>;

/// A simulated Pastry network.
///
/// Node `h` (a [`Handle`]) has the id and place `nodes()[h]` and the kernel state
/// `state(h)`. Failed nodes keep their slot (their handle is never reused) but leave the live
/// index, against which every lookup's end is checked.
///
/// # Invariants
/// Checked by [`Network::invariants`] in debug builds and by the test
/// `live_index_matches_alive_flags`:
/// 1. `live` maps exactly the ids of the alive nodes to their handles;
/// 2. `live_list` holds exactly the alive handles, and `live_pos` gives each one's position;
/// 3. `states[h]` belongs to `nodes[h]`.
#[derive(Clone, Debug)]
pub struct Network {
    config: Config,
    nodes: Vec<Node>,
    states: Vec<State>,
    alive: Vec<bool>,
    live: BTreeMap<Guid, Handle>,
    live_list: Vec<Handle>,
    live_pos: Vec<u32>,
    grid: Grid,
    protocol: JoinProtocol,
}

/// How much of the paper's join protocol (2.4) a join runs; figure 7 compares the routing
/// tables such variants leave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum JoinProtocol {
    /// The new state is what the nodes of the join route handed over; the nodes of the new
    /// state learn of the new node.
    RouteOnly,
    /// As `RouteOnly`, plus the second, locality stage: each node of the new routing table
    /// is asked for the row it shares with the new node, each neighborhood member for its
    /// neighborhood set and the rows it shares; nearer nodes are merged in.
    SecondStage,
    /// The whole protocol: as `SecondStage`, and the new node sends its resulting state to
    /// every node in it, which "in turn update their own state based on the information
    /// received": each merges the new node and its state's members, nearer ones replacing
    /// farther ones.
    #[default]
    Full,
}

impl JoinProtocol {
    /// Every variant, from the least to the most complete.
    pub const ALL: [JoinProtocol; 3] = [
        JoinProtocol::RouteOnly,
        JoinProtocol::SecondStage,
        JoinProtocol::Full,
    ];

    /// A short name for tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            JoinProtocol::RouteOnly => "route only",
            JoinProtocol::SecondStage => "+ second stage",
            JoinProtocol::Full => "full (+ state sent)",
        }
    }
}

/// How a lookup ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum End {
    /// A node delivered the message.
    Delivered,
    /// The route came back to a node it had already visited.
    Loop,
    /// The route exceeded the simulator's hard cap on hops (4 × (128/b + 1)).
    Runaway,
}

/// The result of routing one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The key.
    pub key: Guid,
    /// Where the message started.
    pub source: Handle,
    /// The node where the route ended.
    pub end: Handle,
    /// The brute-force root of the key among the live nodes.
    pub root: Handle,
    /// How the route ended.
    pub ending: End,
    /// Forwards that reached a live node.
    pub hops: u32,
    /// Forwards chosen by the rare case (step 3 of route).
    pub rare_case_hops: u32,
    /// Next hops found dead (each costs a timeout, not a hop).
    pub timeouts: u32,
    /// Sum of the plane distances of the hops taken.
    pub distance: f64,
    /// The visited nodes, from the source to the end, when asked for.
    pub path: Option<Vec<Handle>>,
}

impl Outcome {
    /// Whether the message was delivered at the brute-force root.
    #[must_use]
    pub fn at_root(&self) -> bool {
        self.ending == End::Delivered && self.end == self.root
    }
}

/// What failure repair cost: the remote requests made and the candidates probed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepairCost {
    /// Failed nodes a live node noticed and forgot.
    pub failures_noticed: u64,
    /// Leaf sets requested (leaf-set repair).
    pub leaf_set_requests: u64,
    /// Routing-table rows requested (table repair).
    pub row_requests: u64,
    /// Neighborhood sets requested (neighborhood repair).
    pub neighborhood_requests: u64,
    /// Repair hints that turned out dead (each a timeout).
    pub dead_asks: u64,
    /// Candidates the received data offered, probed for liveness and proximity.
    pub probes: u64,
}

impl RepairCost {
    /// Remote requests of every kind (leaf sets, rows, neighborhood sets).
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.leaf_set_requests + self.row_requests + self.neighborhood_requests
    }

    /// Adds `other` to this cost.
    pub fn add(&mut self, other: RepairCost) {
        self.failures_noticed += other.failures_noticed;
        self.leaf_set_requests += other.leaf_set_requests;
        self.row_requests += other.row_requests;
        self.neighborhood_requests += other.neighborhood_requests;
        self.dead_asks += other.dead_asks;
        self.probes += other.probes;
    }

    fn merged(&mut self, m: Merged) {
        self.probes += (m.offered + m.refused) as u64;
    }
}

/// What repairing a noticed failure covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// Refill the leaf set only; a routing-table or neighborhood hole stays empty.
    LeafSet,
    /// Refill the leaf set, the routing-table slot and the neighborhood set.
    All,
}

/// What one join cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct JoinCost {
    /// Hops of the join message from the nearby node A to Z.
    pub route_hops: u64,
    /// States requested by the new node: one per node of the join route, then one per row or
    /// neighborhood set fetched in the second (locality) stage.
    pub state_requests: u64,
    /// Candidates offered to the new node's state (each probed for proximity).
    pub probes: u64,
    /// Nodes told of the new node (the members of its state).
    pub told: u64,
    /// Candidates the told nodes probed while merging the new node's state
    /// ([`JoinProtocol::Full`]).
    pub announce_probes: u64,
    /// Failures noticed and repaired on the way (under churn).
    pub repair: RepairCost,
}

impl JoinCost {
    /// Adds `other` to this cost.
    pub fn add(&mut self, other: &JoinCost) {
        self.route_hops += other.route_hops;
        self.state_requests += other.state_requests;
        self.probes += other.probes;
        self.told += other.told;
        self.announce_probes += other.announce_probes;
        self.repair.add(other.repair);
    }
}

/// `states[a]` mutably and `states[b]` shared, for `a != b`.
fn two(states: &mut [State], a: Handle, b: Handle) -> (&mut State, &State) {
    let (a, b) = (a as usize, b as usize);
    assert_ne!(a, b, "a node does not ask itself");
    if a < b {
        let (lo, hi) = states.split_at_mut(b);
        (&mut lo[a], &hi[0])
    } else {
        let (lo, hi) = states.split_at_mut(a);
        (&mut hi[0], &lo[b])
    }
}

/// Mutable references to `states[h]` for each handle of `sorted` (strictly increasing).
///
/// # Panics
/// If `sorted` is not strictly increasing or a handle is out of range.
fn disjoint_mut<'a>(states: &'a mut [State], sorted: &[Handle]) -> Vec<&'a mut State> {
    let mut out = Vec::with_capacity(sorted.len());
    let mut rest = states;
    let mut base = 0;
    for &h in sorted {
        let (_, tail) = rest.split_at_mut(h as usize - base);
        let (first, tail) = tail.split_first_mut().expect("handle in range");
        out.push(first);
        rest = tail;
        base = h as usize + 1;
    }
    out
}

/// The host's probe for node `me` at `at`: live nodes answer with their proximity figure, dead
/// ones do not answer.
fn prober<'a>(
    nodes: &'a [Node],
    alive: &'a [bool],
    at: Point,
) -> impl Fn(&Peer) -> Option<Proximity> + 'a {
    move |n: &Peer| {
        let i = n.handle as usize;
        alive[i].then(|| at.proximity(nodes[i].at))
    }
}

impl Network {
    /// The state a node gets from global knowledge of the ring, computed for every node in
    /// parallel ([`NodeState::from_ring`]).
    ///
    /// `candidates_per_slot` nodes with the slot's prefix are offered for each routing-table
    /// slot and the nearest by proximity is kept (1 gives a table with one arbitrary node per
    /// slot; more approaches the proximity-best table).
    ///
    /// # Panics
    /// If two nodes share an id or there are more than `u32::MAX` nodes.
    #[must_use]
    pub fn oracle(
        config: Config,
        nodes: Vec<Node>,
        candidates_per_slot: usize,
        progress: &Progress,
    ) -> Network {
        let mut ring: Vec<Peer> = nodes
            .iter()
            .enumerate()
            .map(|(h, n)| NodeRef::new(n.id, handle(h)))
            .collect();
        ring.sort_unstable_by_key(|p| p.id);
        assert!(
            ring.windows(2).all(|w| w[0].id != w[1].id),
            "node ids must be distinct"
        );
        let bar = progress.bar("oracle build", nodes.len() as u64);
        let states: Vec<State> = (0..nodes.len())
            .into_par_iter()
            .map(|h| {
                let me = nodes[h];
                let s = NodeState::from_ring(
                    config,
                    NodeRef::new(me.id, handle(h)),
                    &ring,
                    |p| me.at.proximity(nodes[p.handle as usize].at),
                    candidates_per_slot,
                );
                bar.inc(1);
                s
            })
            .collect();
        bar.finish_and_clear();
        let mut net = Network::empty(config);
        net.nodes = nodes;
        net.states = states;
        for h in 0..net.nodes.len() {
            net.alive.push(false);
            net.live_pos.push(u32::MAX);
            net.mark_alive(handle(h));
        }
        net.invariants();
        net
    }

    /// A network with no node.
    #[must_use]
    pub fn empty(config: Config) -> Network {
        Network {
            config,
            nodes: Vec::new(),
            states: Vec::new(),
            alive: Vec::new(),
            live: BTreeMap::new(),
            live_list: Vec::new(),
            live_pos: Vec::new(),
            protocol: JoinProtocol::default(),
            grid: Grid::default(),
        }
    }

    /// The variant of the join protocol that joins run ([`Network::join`]).
    #[must_use]
    pub fn join_protocol(&self) -> JoinProtocol {
        self.protocol
    }

    /// Sets the variant of the join protocol of later joins.
    pub fn set_join_protocol(&mut self, protocol: JoinProtocol) {
        self.protocol = protocol;
    }

    /// The routing parameters every node uses.
    #[must_use]
    pub fn config(&self) -> Config {
        self.config
    }

    /// Every node ever added, alive or not, by handle.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The kernel state of node `h`.
    #[must_use]
    pub fn state(&self, h: Handle) -> &State {
        &self.states[h as usize]
    }

    /// The kernel state of node `h`, for changes.
    pub fn state_mut(&mut self, h: Handle) -> &mut State {
        &mut self.states[h as usize]
    }

    /// Whether node `h` is alive.
    #[must_use]
    pub fn is_alive(&self, h: Handle) -> bool {
        self.alive.get(h as usize).copied().unwrap_or(false)
    }

    /// The number of live nodes.
    #[must_use]
    pub fn live_count(&self) -> usize {
        self.live_list.len()
    }

    /// The live nodes' handles, in no particular order (use it for random choices).
    #[must_use]
    pub fn live_handles(&self) -> &[Handle] {
        &self.live_list
    }

    /// The live nodes' ids in increasing order, with their handles.
    pub fn live_ids(&self) -> impl Iterator<Item = (Guid, Handle)> + '_ {
        self.live.iter().map(|(g, h)| (*g, *h))
    }

    /// The proximity figure between nodes `a` and `b` (scaled Euclidean distance).
    #[must_use]
    pub fn proximity(&self, a: Handle, b: Handle) -> Proximity {
        self.nodes[a as usize]
            .at
            .proximity(self.nodes[b as usize].at)
    }

    /// The plane distance between nodes `a` and `b`.
    #[must_use]
    pub fn distance(&self, a: Handle, b: Handle) -> f64 {
        self.nodes[a as usize]
            .at
            .distance(self.nodes[b as usize].at)
    }

    /// The node reference of `h`.
    #[must_use]
    pub fn peer(&self, h: Handle) -> Peer {
        NodeRef::new(self.nodes[h as usize].id, h)
    }

    /// The brute-force root of `key` among the live nodes: the closer of the live ids just
    /// below and just above it on the ring (wrapping), by `closer` (docs/design.md).
    #[must_use]
    pub fn root(&self, key: Guid) -> Option<Handle> {
        let above = self
            .live
            .range(key..)
            .next()
            .or_else(|| self.live.iter().next());
        let below = self
            .live
            .range(..key)
            .next_back()
            .or_else(|| self.live.iter().next_back());
        match (below, above) {
            (Some((bid, bh)), Some((aid, ah))) => {
                Some(if closer(&key, aid, bid) { *ah } else { *bh })
            }
            _ => None,
        }
    }

    /// Adds a node with an empty state; it is alive. Returns its handle.
    ///
    /// # Panics
    /// If a live node already has this id.
    pub fn add(&mut self, node: Node) -> Handle {
        let h = handle(self.nodes.len());
        self.nodes.push(node);
        self.states
            .push(NodeState::new(self.config, NodeRef::new(node.id, h)));
        self.alive.push(false);
        self.live_pos.push(u32::MAX);
        self.mark_alive(h);
        h
    }

    /// Marks `h` failed: it stops answering. Other nodes' states still name it until they
    /// notice (the failure is silent).
    pub fn fail(&mut self, h: Handle) {
        if !self.is_alive(h) {
            return;
        }
        self.alive[h as usize] = false;
        self.live.remove(&self.nodes[h as usize].id);
        let at = self.live_pos[h as usize] as usize;
        self.live_list.swap_remove(at);
        if let Some(&moved) = self.live_list.get(at) {
            self.live_pos[moved as usize] = handle(at);
        }
        self.live_pos[h as usize] = u32::MAX;
        self.grid.remove(h, self.nodes[h as usize].at);
    }

    fn mark_alive(&mut self, h: Handle) {
        let id = self.nodes[h as usize].id;
        let previous = self.live.insert(id, h);
        assert!(previous.is_none(), "two live nodes with the id {id}");
        self.alive[h as usize] = true;
        self.live_pos[h as usize] = handle(self.live_list.len());
        self.live_list.push(h);
        self.grid.insert(h, self.nodes[h as usize].at);
    }

    /// The hop bound 128/b + 1 (docs/design.md, *Progress*: it needs full routing tables, so routes
    /// over it are counted, not ruled out).
    #[must_use]
    pub fn hop_bound(&self) -> u32 {
        128 / self.config.digit_width().bits() + 1
    }

    /// The next hop node `at` chooses for `key` when the nodes in `avoid` (next hops it has
    /// found dead) are suspect: the kernel's `route_avoiding`, which is `route` when `avoid` is
    /// empty.
    #[must_use]
    pub fn next_hop_avoiding(&self, at: Handle, key: Guid, avoid: &[Guid]) -> Route<Handle> {
        let state = self.state(at);
        if avoid.is_empty() {
            return state.route(key);
        }
        state.route_avoiding(key, |n| avoid.contains(&n.id))
    }

    /// Routes a message for `key` from `source` hop by hop, calling each node's `route`. A node
    /// whose next hop is dead times out and routes around it (the kernel's `route_avoiding`)
    /// without changing its state: the paper's "no routing-table repair".
    #[must_use]
    pub fn lookup(&self, source: Handle, key: Guid, keep_path: bool) -> Outcome {
        let mut avoid: Vec<Guid> = Vec::new();
        let mut walk = Walk::new(source, self.hop_bound());
        let ending = loop {
            match self.next_hop_avoiding(walk.at, key, &avoid) {
                Route::Deliver => break End::Delivered,
                Route::Forward { to, via } => {
                    if !self.is_alive(to.handle) {
                        walk.timeouts += 1;
                        avoid.push(to.id);
                        continue;
                    }
                    avoid.clear();
                    if let Some(end) = walk.step(self, to.handle, via) {
                        break end;
                    }
                }
            }
        };
        walk.outcome(self, key, ending, keep_path)
    }

    /// Routes a message for `key` from `source` like [`Network::lookup`], but a node whose next
    /// hop is dead notices the failure: it forgets the node and repairs the holes it leaves
    /// with the kernel's repair hints ([`Network::notice_failure`], `mode`), then routes again.
    pub fn lookup_repairing(
        &mut self,
        source: Handle,
        key: Guid,
        mode: Repair,
        keep_path: bool,
    ) -> (Outcome, RepairCost) {
        let mut cost = RepairCost::default();
        let mut walk = Walk::new(source, self.hop_bound());
        let ending = loop {
            match self.state(walk.at).route(key) {
                Route::Deliver => break End::Delivered,
                Route::Forward { to, via } => {
                    if !self.is_alive(to.handle) {
                        walk.timeouts += 1;
                        cost.add(self.notice_failure(walk.at, to.id, mode));
                        continue;
                    }
                    if let Some(end) = walk.step(self, to.handle, via) {
                        break end;
                    }
                }
            }
        };
        (walk.outcome(self, key, ending, keep_path), cost)
    }

    /// Routes many lookups in parallel with [`Network::lookup`]; the outcomes are in the order
    /// of `lookups`.
    #[must_use]
    pub fn lookups(
        &self,
        lookups: &[(Handle, Guid)],
        keep_paths: bool,
        progress: &Progress,
        label: &str,
    ) -> Vec<Outcome> {
        let bar = progress.bar(label, lookups.len() as u64);
        let out = lookups
            .par_iter()
            .map(|&(s, k)| {
                let o = self.lookup(s, k, keep_paths);
                bar.inc(1);
                o
            })
            .collect();
        bar.finish_and_clear();
        out
    }

    /// Node `h` has found that the node `dead` failed: it forgets it everywhere
    /// ([`NodeState::forget`]) and fills the holes from the kernel's repair hints, asking live
    /// nodes only (a dead hint costs a timeout and is forgotten in turn):
    /// * a leaf-set side: the farthest members' leaf sets, merged with the kernel's
    ///   `repair_leaf_set` (each node only on the side the sender's view places it) until the
    ///   side is full or nobody can add to it;
    /// * with [`Repair::All`], the routing-table slot: row r of the other entries of row r, then
    ///   of row r + 1, until the slot is filled; and the neighborhood set from one live member.
    pub fn notice_failure(&mut self, h: Handle, dead: Guid, mode: Repair) -> RepairCost {
        let mut cost = RepairCost::default();
        let Ok(gone) = self.states[h as usize].forget(dead) else {
            return cost;
        };
        if !gone.was_known() {
            return cost;
        }
        cost.failures_noticed += 1;
        for (side, hole) in [
            (Side::Successor, gone.leaf_set.successor),
            (Side::Predecessor, gone.leaf_set.predecessor),
        ] {
            if hole {
                cost.add(self.refill_leaf_side(h, side));
            }
        }
        if mode == Repair::All {
            if let Some((row, column)) = gone.slot {
                let Network {
                    states,
                    nodes,
                    alive,
                    ..
                } = self;
                let probe = prober(nodes, alive, nodes[h as usize].at);
                let hints: Vec<Peer> = states[h as usize]
                    .row_repair_hints(row, column)
                    .map(|hint| hint.ask())
                    .collect();
                for ask in hints {
                    if states[h as usize].table().get(row, column).is_some() {
                        break;
                    }
                    if !alive[ask.handle as usize] {
                        cost.dead_asks += 1;
                        continue;
                    }
                    let (mine, theirs) = two(states, h, ask.handle);
                    if let Ok(m) = mine.merge_row(&ask, theirs.table(), row, &probe) {
                        cost.row_requests += 1;
                        cost.merged(m);
                    }
                }
            }
            if gone.neighborhood {
                let Network {
                    states,
                    nodes,
                    alive,
                    ..
                } = self;
                let probe = prober(nodes, alive, nodes[h as usize].at);
                let ask = states[h as usize]
                    .neighborhood_repair_hints()
                    .map(|hint| hint.ask())
                    .find(|a| alive[a.handle as usize]);
                if let Some(ask) = ask {
                    let (mine, theirs) = two(states, h, ask.handle);
                    if let Ok(m) = mine.merge_neighborhood(&ask, theirs.neighborhood(), &probe) {
                        cost.neighborhood_requests += 1;
                        cost.merged(m);
                    }
                }
            }
        }
        cost
    }

    /// Refills one side of node `h`'s leaf set: asks the side's members, farthest first, for
    /// their leaf sets and merges them, until the side is full, the leaf set knows the whole
    /// ring, or every member has been asked.
    pub fn refill_leaf_side(&mut self, h: Handle, side: Side) -> RepairCost {
        let mut cost = RepairCost::default();
        let mut asked: Vec<Handle> = Vec::new();
        loop {
            let Network {
                states,
                nodes,
                alive,
                ..
            } = self;
            let me = &states[h as usize];
            let (succ, pred) = me.leaf_set_shortfall();
            let short = match side {
                Side::Successor => succ,
                Side::Predecessor => pred,
            };
            if short == 0 {
                break;
            }
            let Some(ask) = me
                .leaf_repair_hints(side)
                .map(|hint| hint.ask())
                .find(|a| !asked.contains(&a.handle))
            else {
                break;
            };
            asked.push(ask.handle);
            if !alive[ask.handle as usize] {
                cost.dead_asks += 1;
                cost.failures_noticed += 1;
                // A dead member found while repairing: forgotten; its side is refilled here.
                let _ = states[h as usize].forget(ask.id);
                continue;
            }
            let probe = prober(nodes, alive, nodes[h as usize].at);
            let (mine, theirs) = two(states, h, ask.handle);
            if let Ok(m) = mine.repair_leaf_set(&ask, theirs.leaf_set(), &probe) {
                cost.leaf_set_requests += 1;
                cost.merged(m);
            }
        }
        cost
    }

    /// Leaf-set maintenance after silent failures (the paper's keep-alives): every live node
    /// notices the dead members of its leaf set and repairs it ([`Repair::LeafSet`]); then, in
    /// passes until nothing changes, every node whose leaf set is still short asks again.
    pub fn repair_leaf_sets(&mut self) -> RepairCost {
        let mut cost = RepairCost::default();
        let mut live: Vec<Handle> = self.live_list.clone();
        live.sort_unstable();
        for &h in &live {
            let dead: Vec<Guid> = self
                .state(h)
                .leaf_set()
                .iter()
                .filter(|n| !self.is_alive(n.handle))
                .map(|n| n.id)
                .collect();
            for id in dead {
                cost.add(self.notice_failure(h, id, Repair::LeafSet));
            }
        }
        for _pass in 0..4 {
            let mut changed = false;
            for &h in &live {
                if self.state(h).leaf_set_shortfall() == (0, 0) {
                    continue;
                }
                let before = self.state(h).leaf_set().len();
                cost.add(self.refill_leaf_side(h, Side::Successor));
                cost.add(self.refill_leaf_side(h, Side::Predecessor));
                changed |= self.state(h).leaf_set().len() != before;
            }
            if !changed {
                break;
            }
        }
        cost
    }

    /// Routing-table and neighborhood repair after silent failures: every live node notices
    /// each dead node its state still holds and repairs the hole ([`Repair::All`]).
    pub fn repair_tables(&mut self) -> RepairCost {
        let mut cost = RepairCost::default();
        let mut live: Vec<Handle> = self.live_list.clone();
        live.sort_unstable();
        for h in live {
            let dead: Vec<Guid> = self
                .state(h)
                .members()
                .filter(|n| !self.is_alive(n.handle))
                .map(|n| n.id)
                .collect();
            for id in dead {
                cost.add(self.notice_failure(h, id, Repair::All));
            }
        }
        cost
    }

    /// Joins `node` by the kernel's join protocol (paper 2.4):
    /// 1. the nearby node A is the live node nearest to it in the plane (the paper assumes one
    ///    is known);
    /// 2. A routes a join message for the new id hop by hop; the nodes on the way (A … Z)
    ///    hand over their state, and [`NodeState::join`] builds the new node's state from them,
    ///    probing every candidate (dead ones do not answer);
    /// 3. the second stage: the new node asks each node of its routing table for the row they
    ///    share (their row r, for a node in its row r, holds the corresponding entries) and
    ///    each neighborhood member for its neighborhood set and the rows it shares, merging
    ///    nearer nodes in ([`NodeState::merge_row`], [`NodeState::merge_neighborhood`]);
    ///    (skipped by [`JoinProtocol::RouteOnly`]);
    /// 4. the new node sends its state to every node in it; each merges the new node and the
    ///    state's members, probing them (with [`JoinProtocol::Full`], the default; the other
    ///    variants only make them learn of the new node).
    ///
    /// Dead nodes met on the way are noticed and repaired. Returns the new handle and the cost.
    ///
    /// # Errors
    /// The kernel's refusal (a live node already has the id); the network is unchanged.
    pub fn join(&mut self, node: Node) -> Result<(Handle, JoinCost), StateError> {
        let x = handle(self.nodes.len());
        let me = NodeRef::new(node.id, x);
        let mut cost = JoinCost::default();
        let route: Vec<Handle> = match self.grid.nearest(node.at) {
            None => Vec::new(),
            Some(a) => {
                let (o, repair) = self.lookup_repairing(a, node.id, Repair::All, true);
                cost.repair.add(repair);
                cost.route_hops = u64::from(o.hops);
                o.path.unwrap_or_default()
            }
        };
        let mut state = {
            let probe = prober(&self.nodes, &self.alive, node.at);
            let mut counted = |n: &Peer| {
                cost.probes += 1;
                probe(n)
            };
            let snapshots: Vec<&State> = route.iter().map(|&h| self.state(h)).collect();
            cost.state_requests += snapshots.len() as u64;
            NodeState::join(self.config, me, &snapshots, &mut counted)?
        };
        if self.protocol != JoinProtocol::RouteOnly {
            self.second_stage(&mut state, node.at, &mut cost)?;
        }
        let mut told: Vec<Handle> = state
            .members()
            .map(|p| p.handle)
            .filter(|&h| self.is_alive(h))
            .collect();
        told.sort_unstable();
        told.dedup();
        self.nodes.push(node);
        self.states.push(state);
        self.alive.push(false);
        self.live_pos.push(u32::MAX);
        self.mark_alive(x);
        cost.told += told.len() as u64;
        if self.protocol == JoinProtocol::Full {
            // Each told node merges the new state on its own: independent, so in parallel.
            let (nodes, alive) = (&self.nodes, &self.alive);
            let (others, new) = self.states.split_at_mut(x as usize);
            let new = &new[0];
            cost.announce_probes += disjoint_mut(others, &told)
                .into_par_iter()
                .map(|peer| {
                    let at = nodes[peer.own().handle as usize].at;
                    // The peer is not the new node and has its config: the merge cannot fail.
                    peer.merge_state(new, prober(nodes, alive, at))
                        .map_or(0, |m| (m.offered + m.refused) as u64)
                })
                .sum::<u64>();
        } else {
            for h in told {
                let p = self.proximity(h, x);
                // The peer is not the new node, so learn cannot refuse it.
                let _ = self.states[h as usize].learn(me, p);
            }
        }
        Ok((x, cost))
    }

    /// The second, locality stage of a join for the new state `state` of a node at `at`
    /// ([`JoinProtocol::SecondStage`]): each node of the routing table is asked for the row it
    /// shares (their row r, for a node in the new node's row r, holds the corresponding
    /// entries), each neighborhood member for its neighborhood set and the rows it shares;
    /// nearer nodes are merged in.
    fn second_stage(
        &self,
        state: &mut State,
        at: Point,
        cost: &mut JoinCost,
    ) -> Result<(), StateError> {
        let b = self.config.digit_width();
        let own = state.own().id;
        let probe = prober(&self.nodes, &self.alive, at);
        let rows: Vec<(Peer, Row)> = state.table().iter().map(|(r, _, e)| (e.node, r)).collect();
        let neighbours: Vec<Peer> = state
            .neighborhood()
            .entries()
            .iter()
            .map(|e| e.node)
            .collect();
        for (peer, row) in rows {
            if !self.is_alive(peer.handle) {
                continue;
            }
            let m = state.merge_row(&peer, self.state(peer.handle).table(), row, &probe)?;
            cost.state_requests += 1;
            cost.probes += (m.offered + m.refused) as u64;
        }
        for peer in neighbours {
            if !self.is_alive(peer.handle) {
                continue;
            }
            let theirs = self.state(peer.handle);
            let m = state.merge_neighborhood(&peer, theirs.neighborhood(), &probe)?;
            cost.probes += (m.offered + m.refused) as u64;
            #[allow(clippy::cast_possible_truncation)] // rows < 128
            for r in 0..=shl_len(peer.id, own, b).min(b.digits::<Guid>() - 1) {
                let m = state.merge_row(&peer, theirs.table(), Row(r as u8), &probe)?;
                cost.probes += (m.offered + m.refused) as u64;
            }
            cost.state_requests += 1;
        }
        Ok(())
    }

    /// Builds a network by joining `nodes` one by one ([`Network::join`]), in order, each join
    /// running `protocol`.
    ///
    /// # Panics
    /// If two nodes share an id.
    #[must_use]
    pub fn by_join(
        config: Config,
        nodes: Vec<Node>,
        protocol: JoinProtocol,
        progress: &Progress,
    ) -> (Network, JoinCost) {
        let mut net = Network::empty(config);
        net.set_join_protocol(protocol);
        net.nodes.reserve(nodes.len());
        net.states.reserve(nodes.len());
        let mut total = JoinCost::default();
        let bar = progress.bar("joins", nodes.len() as u64);
        for node in nodes {
            let (_, cost) = net.join(node).expect("distinct ids");
            total.add(&cost);
            bar.inc(1);
        }
        bar.finish_and_clear();
        net.invariants();
        (net, total)
    }

    /// Total heap bytes held by the kernel states.
    #[must_use]
    pub fn state_heap_bytes(&self) -> usize {
        self.states.iter().map(NodeState::heap_bytes).sum()
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            assert_eq!(self.nodes.len(), self.states.len());
            assert_eq!(self.nodes.len(), self.alive.len());
            assert_eq!(self.nodes.len(), self.live_pos.len());
            let alive = self.alive.iter().filter(|a| **a).count();
            assert_eq!(alive, self.live.len());
            assert_eq!(alive, self.live_list.len());
            for (i, &h) in self.live_list.iter().enumerate() {
                assert!(self.alive[h as usize]);
                assert_eq!(self.live_pos[h as usize] as usize, i);
                assert_eq!(self.live.get(&self.nodes[h as usize].id), Some(&h));
            }
            for (h, s) in self.states.iter().enumerate() {
                assert_eq!(s.id(), self.nodes[h].id);
            }
        }
    }
}

/// A node index as a [`Handle`].
///
/// # Panics
/// Past `u32::MAX` nodes.
#[must_use]
pub fn handle(i: usize) -> Handle {
    Handle::try_from(i).expect("at most u32::MAX nodes")
}

/// A route in progress: where it is, where it has been, what it cost.
struct Walk {
    at: Handle,
    path: Vec<Handle>,
    hops: u32,
    rare: u32,
    timeouts: u32,
    distance: f64,
    cap: u32,
}

impl Walk {
    fn new(source: Handle, bound: u32) -> Walk {
        Walk {
            at: source,
            path: vec![source],
            hops: 0,
            rare: 0,
            timeouts: 0,
            distance: 0.0,
            cap: 4 * bound,
        }
    }

    /// Moves to the live node `next`; returns how the route ended if it did.
    fn step(&mut self, net: &Network, next: Handle, via: Via) -> Option<End> {
        self.hops += 1;
        self.rare += u32::from(via == Via::RareCase);
        self.distance += net.distance(self.at, next);
        let looped = self.path.contains(&next);
        self.path.push(next);
        self.at = next;
        if looped {
            Some(End::Loop)
        } else if self.hops > self.cap {
            Some(End::Runaway)
        } else {
            None
        }
    }

    fn outcome(self, net: &Network, key: Guid, ending: End, keep_path: bool) -> Outcome {
        Outcome {
            key,
            source: self.path[0],
            end: self.at,
            root: net.root(key).unwrap_or(self.at),
            ending,
            hops: self.hops,
            rare_case_hops: self.rare,
            timeouts: self.timeouts,
            distance: self.distance,
            path: keep_path.then_some(self.path),
        }
    }
}
