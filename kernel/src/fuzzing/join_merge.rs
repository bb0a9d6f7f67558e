//! Join and the four merges against the models ([`check_join_merge_ops`]), and the `state_ops`
//! fuzz target's choice between the two model-based properties ([`check_state_sequence`]).

use super::models::check_leaf_set_sides;
use super::models::check_table_slots;
use super::models::check_true_leaf_set;
use super::models::LeafModel;
use super::models::NeighborhoodModel;
use super::models::TableModel;
use super::reference as r;
use super::route::check_route_at;
use super::route::known_nodes;
use super::state_ops::check_state_ops;
use super::state_ops::StateOpsInput;
use crate::arith::Row;
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::node::NodeRef;
use crate::node::Proximity;
use crate::state::NodeState;
use crate::table::Placement;
use crate::word::RingWord;

/// The host's proximity figure for `id` in [`check_join_merge_ops`]: fixed per id, as a host's
/// measurement would be, and `None` (the probe refuses the node) for about one id in 31.
#[must_use]
pub fn join_merge_figure<W: RingWord>(id: W) -> Option<Proximity> {
    let x = id.to_u128();
    let f = (x ^ (x >> 7) ^ (x >> 61)) % 31;
    (f != 0).then_some(f as Proximity)
}

/// One step of [`JoinMergeInput`]. Peers are named by an index taken modulo the number of
/// peers; a step naming a peer does nothing when there is none.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum JoinMergeOp<W = Guid> {
    /// The local node learns this id at its [`join_merge_figure`] (0 when the probe refuses it).
    Learn(W),
    /// The local node forgets the known node at this index (modulo the number known), if any.
    ForgetKnown(u8),
    /// A peer learns this id.
    PeerLearn(u8, W),
    /// `merge_state` of a peer's whole state.
    MergeState(u8),
    /// `merge_leaf_set(from, their)`: `from` is the first peer, `their` the second peer's leaf
    /// set (another peer's set is [`StateError::WrongOwner`]).
    MergeLeafSet(u8, u8),
    /// `merge_row(from, their, row)`, peers as in `MergeLeafSet`; the row may be past the last.
    MergeRow(u8, u8, u8),
    /// `merge_neighborhood(from, their)`, peers as in `MergeLeafSet` (a set that holds `from`
    /// is [`StateError::WrongOwner`]).
    MergeNeighborhood(u8, u8),
    /// The local state is rebuilt by `NodeState::join` along the route of these peers (A first,
    /// Z last; an empty route starts a new ring).
    Join(Vec<u8>),
    /// Route this key (and check every route property).
    Route(W),
}

/// Input of [`check_join_merge_ops`]: a local node, some peers, and a sequence of joins, merges,
/// learns, forgets and routes.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct JoinMergeInput<W = Guid> {
    /// b, L and |M|, shared by every node.
    pub config: Config,
    /// The local node.
    pub own: W,
    /// The peers' ids (the local id may appear: merging from it is [`StateError::OwnId`]).
    pub peers: Vec<W>,
    /// The steps, in order.
    pub ops: Vec<JoinMergeOp<W>>,
}

/// The three brute-force models of one node's state.
#[derive(Clone, Debug)]
struct StateModel<W> {
    leaf: LeafModel<W>,
    table: TableModel<W>,
    hood: NeighborhoodModel<W>,
    /// Every id the state accepted since it was built, for the true leaf set.
    seen: Vec<W>,
    /// Whether anything was forgotten since (the true leaf set then no longer applies).
    forgot: bool,
}

impl<W: RingWord> StateModel<W> {
    fn new(config: Config, own: W) -> Self {
        StateModel {
            leaf: LeafModel::new(own, config.leaf_set_half()),
            table: TableModel::new(own, config.digit_width()),
            hood: NeighborhoodModel {
                capacity: config.neighborhood_len(),
                entries: Vec::new(),
            },
            seen: Vec::new(),
            forgot: false,
        }
    }

    /// What `offer` in join.rs does, on the models: skip the local node, ask the probe, learn.
    fn offer(&mut self, node: NodeRef<u32, W>, merged: &mut crate::Merged) {
        if node.id == self.leaf.own {
            return;
        }
        let Some(p) = join_merge_figure(node.id) else {
            merged.refused += 1;
            return;
        };
        let leaf = self.leaf.insert(node);
        let table = self.table.insert(node, p);
        let hood = self.hood.insert(node, p);
        merged.offered += 1;
        merged.added += usize::from(
            leaf || hood || matches!(table, Some(Placement::Added(..) | Placement::Replaced(..))),
        );
        if !self.seen.contains(&node.id) {
            self.seen.push(node.id);
        }
    }

    /// The state equals the models; while nothing was forgotten its leaf set is the true leaf
    /// set among every node it accepted.
    fn compare(&self, state: &NodeState<u32, W>) {
        state.invariants();
        check_leaf_set_sides(state.leaf_set());
        self.leaf.compare(state.leaf_set());
        check_table_slots(state.table());
        self.table.compare(state.table());
        assert_eq!(
            state.neighborhood().entries(),
            &self.hood.entries[..],
            "neighborhood differs from the model"
        );
        if !self.forgot {
            check_true_leaf_set(state.leaf_set(), &self.seen);
        }
    }
}

/// Replays [`JoinMergeInput`] on the local [`NodeState`] and on brute-force models of its
/// structures. Every merge (`merge_state`, `merge_leaf_set`, `merge_row`, `merge_neighborhood`)
/// must act as offering its candidates one by one through `learn` at the host's figure, and
/// report that count of offered, added and refused nodes; a join must give the state that
/// learned, in order, each route node with the rows it supplies (row r from the first route
/// node sharing r digits with the local id), Z's leaf set and A's neighborhood set. A refused
/// merge or join (the local id, a wrong owner) returns its error and changes nothing. After
/// every step the invariants hold, the structures equal their models, and while nothing was
/// forgotten the leaf set is the true leaf set among all nodes accepted; routed keys pass
/// [`check_route_at`].
pub fn check_join_merge_ops<W: RingWord>(input: &JoinMergeInput<W>) {
    let config = input.config;
    let own = input.own;
    let b = config.digit_width();
    let probe = |n: &NodeRef<u32, W>| join_merge_figure(n.id);
    let mut peers: Vec<NodeState<u32, W>> = input
        .peers
        .iter()
        .enumerate()
        .map(|(j, &id)| NodeState::new(config, NodeRef::new(id, 1_000_000 + j as u32)))
        .collect();
    let peer_count = peers.len().max(1);
    let pick = move |i: u8| usize::from(i) % peer_count;
    let mut state: NodeState<u32, W> = NodeState::new(config, NodeRef::new(own, u32::MAX));
    let mut model = StateModel::new(config, own);
    for (i, op) in input.ops.iter().enumerate() {
        let before = state.clone();
        match op {
            JoinMergeOp::Learn(id) => {
                let node = NodeRef::new(*id, i as u32);
                if *id == own {
                    assert_eq!(state.learn(node, 0), Err(StateError::OwnId), "learn own id");
                    assert_eq!(state, before, "a refused learn changed the state");
                } else {
                    let p = join_merge_figure(*id).unwrap_or(0);
                    let learned = state.learn(node, p).expect("learn of another id");
                    let leaf = model.leaf.insert(node);
                    let table = model.table.insert(node, p);
                    let hood = model.hood.insert(node, p);
                    assert_eq!(
                        (learned.leaf_set, Some(learned.table), learned.neighborhood),
                        (leaf, table, hood),
                        "learn({id:?})"
                    );
                    if !model.seen.contains(id) {
                        model.seen.push(*id);
                    }
                }
            }
            JoinMergeOp::ForgetKnown(m) => {
                let known = known_nodes(&state);
                if let Some(n) = known.get(usize::from(*m) % known.len().max(1)) {
                    let f = state.forget(n.id).expect("forget of a known node");
                    assert_eq!(f.node.map(|x| x.id), Some(n.id), "forget reports the node");
                    let _ = model.leaf.remove(n.id);
                    let _ = model.table.remove(n.id);
                    let _ = model.hood.remove(n.id);
                    model.forgot = true;
                }
            }
            JoinMergeOp::PeerLearn(p, id) => {
                let p = pick(*p);
                if let Some(peer) = peers.get_mut(p) {
                    let handle = 2_000_000 + i as u32;
                    let _ = peer.learn(
                        NodeRef::new(*id, handle),
                        join_merge_figure(*id).unwrap_or(0),
                    );
                }
            }
            JoinMergeOp::MergeState(p) => {
                let Some(peer) = peers.get(pick(*p)) else {
                    continue;
                };
                let got = state.merge_state(peer, probe);
                if peer.id() == own {
                    assert_eq!(got, Err(StateError::OwnId), "merge_state from the own id");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    // The candidates: the peer, then each distinct node it holds.
                    let members: Vec<NodeRef<u32, W>> = peer.members().copied().collect();
                    let mut ids: Vec<W> = members.iter().map(|n| n.id).collect();
                    ids.sort();
                    ids.dedup();
                    assert_eq!(ids.len(), members.len(), "members() repeats a node");
                    let mut all: Vec<W> = known_nodes(peer).iter().map(|n| n.id).collect();
                    all.sort();
                    all.dedup();
                    assert_eq!(ids, all, "members() is not every node the state holds");
                    let mut want = crate::Merged::default();
                    for n in core::iter::once(*peer.own()).chain(members) {
                        model.offer(n, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_state from {:?}", peer.id());
                }
            }
            JoinMergeOp::MergeLeafSet(p, q) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let got = state.merge_leaf_set(from.own(), their.leaf_set(), probe);
                if from.id() == own {
                    assert_eq!(
                        got,
                        Err(StateError::OwnId),
                        "merge_leaf_set from the own id"
                    );
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if their.id() != from.id() {
                    assert_eq!(got, Err(StateError::WrongOwner), "another node's leaf set");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    for n in their.leaf_set().iter() {
                        model.offer(*n, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_leaf_set from {:?}", from.id());
                }
            }
            JoinMergeOp::MergeRow(p, q, row) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let row = Row(*row);
                let got = state.merge_row(from.own(), their.table(), row, probe);
                if from.id() == own {
                    assert_eq!(got, Err(StateError::OwnId), "merge_row from the own id");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if their.id() != from.id() {
                    assert_eq!(got, Err(StateError::WrongOwner), "another node's table");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    // The row's entries, read from the whole table by their slot.
                    for (_, _, e) in their.table().iter().filter(|(r, _, _)| *r == row) {
                        model.offer(e.node, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_row({row:?}) from {:?}", from.id());
                }
            }
            JoinMergeOp::MergeNeighborhood(p, q) => {
                let (Some(from), Some(their)) = (peers.get(pick(*p)), peers.get(pick(*q))) else {
                    continue;
                };
                let set = their.neighborhood();
                let got = state.merge_neighborhood(from.own(), set, probe);
                if from.id() == own {
                    assert_eq!(
                        got,
                        Err(StateError::OwnId),
                        "merge_neighborhood from own id"
                    );
                    assert_eq!(state, before, "a refused merge changed the state");
                } else if set.entries().iter().any(|e| e.node.id == from.id()) {
                    assert_eq!(got, Err(StateError::WrongOwner), "a set holding its sender");
                    assert_eq!(state, before, "a refused merge changed the state");
                } else {
                    let mut want = crate::Merged::default();
                    model.offer(*from.own(), &mut want);
                    for e in set.entries() {
                        model.offer(e.node, &mut want);
                    }
                    assert_eq!(got, Ok(want), "merge_neighborhood from {:?}", from.id());
                }
            }
            JoinMergeOp::Join(route) => {
                if peers.is_empty() && !route.is_empty() {
                    continue;
                }
                let route: Vec<&NodeState<u32, W>> =
                    route.iter().map(|&p| &peers[pick(p)]).collect();
                let me = NodeRef::new(own, u32::MAX);
                match NodeState::join(config, me, &route, probe) {
                    Err(e) => {
                        assert_eq!(e, StateError::OwnId, "join refused");
                        assert!(route.iter().any(|s| s.id() == own), "join refused {e:?}");
                    }
                    Ok(joined) => {
                        assert!(route.iter().all(|s| s.id() != own), "joined via itself");
                        let mut fresh = StateModel::new(config, own);
                        let mut merged = crate::Merged::default();
                        // Row r comes from the first route node N with shl(N, X) >= r.
                        let mut next_row = 0;
                        for s in &route {
                            fresh.offer(*s.own(), &mut merged);
                            let top = r::shl(s.id(), own, b);
                            for (row, _, e) in s.table().iter() {
                                let row = u32::from(row.0);
                                if row >= next_row && row <= top {
                                    fresh.offer(e.node, &mut merged);
                                }
                            }
                            next_row = next_row.max(top + 1);
                        }
                        if let Some(z) = route.last() {
                            for n in z.leaf_set().iter() {
                                fresh.offer(*n, &mut merged);
                            }
                        }
                        if let Some(a) = route.first() {
                            for e in a.neighborhood().entries() {
                                fresh.offer(e.node, &mut merged);
                            }
                        }
                        state = joined;
                        model = fresh;
                    }
                }
            }
            JoinMergeOp::Route(key) => {
                let _ = state.route(*key);
                assert_eq!(state, before, "route changed the state");
                check_route_at(&state, *key);
            }
        }
        model.compare(&state);
        assert_eq!(state.config(), &config, "config changed");
        assert_eq!(state.own().id, own, "own id changed");
    }
}

/// Input of the `state_ops` fuzz target: a sequence of state operations for one of the two
/// model-based properties, on 128-bit ids or on a 16-bit ring (where ties, collisions and
/// whole-ring leaf sets are common).
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum StateSequence {
    /// Learns, forgets and routes: [`check_state_ops`].
    LearnForget(StateOpsInput),
    /// Joins, merges, learns, forgets and routes: [`check_join_merge_ops`].
    JoinMerge(JoinMergeInput),
    /// Joins and merges on a 16-bit ring.
    JoinMergeU16(JoinMergeInput<u16>),
}

/// Runs the property that [`StateSequence`] names.
pub fn check_state_sequence(input: &StateSequence) {
    match input {
        StateSequence::LearnForget(i) => check_state_ops(i),
        StateSequence::JoinMerge(i) => check_join_merge_ops(i),
        StateSequence::JoinMergeU16(i) => check_join_merge_ops(i),
    }
}
