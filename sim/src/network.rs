//! [`Network`]: every simulated node's kernel state, its place in the plane and whether it is
//! alive; messages move hop by hop by calling each node's [`NodeState::route`].

use std::collections::BTreeMap;

use pastry_kernel::arith::closer;
use pastry_kernel::{Config, Guid, NodeRef, NodeState, Proximity, Route, Via};
use rayon::prelude::*;

use crate::model::Node;
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

/// What a node does when its chosen next hop is dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeadHop {
    /// Route around it: the node picks its next choice as if it did not know the dead node,
    /// without changing its state (the paper's "no routing-table repair").
    Avoid,
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
        }
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
    /// below and just above it on the ring (wrapping), by DESIGN.md's `closer`.
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
    }

    fn mark_alive(&mut self, h: Handle) {
        let id = self.nodes[h as usize].id;
        let previous = self.live.insert(id, h);
        assert!(previous.is_none(), "two live nodes with the id {id}");
        self.alive[h as usize] = true;
        self.live_pos[h as usize] = handle(self.live_list.len());
        self.live_list.push(h);
    }

    /// The hop bound with correct leaf sets: 128/b + 1 (DESIGN.md's Progress).
    #[must_use]
    pub fn hop_bound(&self) -> u32 {
        128 / self.config.digit_width().bits() + 1
    }

    /// The next hop node `at` chooses for `key` ignoring the nodes in `avoid` (dead next hops it
    /// has found): its own `route` when `avoid` is empty, else the `route` of a copy of its
    /// state that has forgotten them.
    #[must_use]
    pub fn next_hop_avoiding(&self, at: Handle, key: Guid, avoid: &[Guid]) -> Route<Handle> {
        let state = self.state(at);
        if avoid.is_empty() {
            return state.route(key);
        }
        let mut copy = state.clone();
        for id in avoid {
            // Only the local node's own id is refused, and it is never dead while routing.
            let _ = copy.forget(*id);
        }
        copy.route(key)
    }

    /// Routes a message for `key` from `source` hop by hop, calling each node's `route`.
    /// Dead next hops are handled by `on_dead`; the state is not changed.
    #[must_use]
    pub fn lookup(
        &self,
        source: Handle,
        key: Guid,
        on_dead: OnDeadHop,
        keep_path: bool,
    ) -> Outcome {
        let OnDeadHop::Avoid = on_dead;
        let cap = 4 * self.hop_bound();
        let mut path = vec![source];
        let mut at = source;
        let mut avoid: Vec<Guid> = Vec::new();
        let (mut hops, mut rare, mut timeouts, mut distance) = (0u32, 0u32, 0u32, 0.0f64);
        let ending = loop {
            match self.next_hop_avoiding(at, key, &avoid) {
                Route::Deliver => break End::Delivered,
                Route::Forward { to, via } => {
                    let next = to.handle;
                    if !self.is_alive(next) {
                        timeouts += 1;
                        avoid.push(to.id);
                        continue;
                    }
                    avoid.clear();
                    hops += 1;
                    rare += u32::from(via == Via::RareCase);
                    distance += self.distance(at, next);
                    let looped = path.contains(&next);
                    path.push(next);
                    at = next;
                    if looped {
                        break End::Loop;
                    }
                    if hops > cap {
                        break End::Runaway;
                    }
                }
            }
        };
        Outcome {
            key,
            source,
            end: at,
            root: self.root(key).unwrap_or(at),
            ending,
            hops,
            rare_case_hops: rare,
            timeouts,
            distance,
            path: keep_path.then_some(path),
        }
    }

    /// Routes many lookups in parallel; the outcomes are in the order of `lookups`.
    #[must_use]
    pub fn lookups(
        &self,
        lookups: &[(Handle, Guid)],
        on_dead: OnDeadHop,
        keep_paths: bool,
        progress: &Progress,
        label: &str,
    ) -> Vec<Outcome> {
        let bar = progress.bar(label, lookups.len() as u64);
        let out = lookups
            .par_iter()
            .map(|&(s, k)| {
                let o = self.lookup(s, k, on_dead, keep_paths);
                bar.inc(1);
                o
            })
            .collect();
        bar.finish_and_clear();
        out
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
