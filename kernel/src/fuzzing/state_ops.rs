//! Whole-state operations (learn, forget, route) against the three models: [`check_state_ops`].

use super::models::check_leaf_set_sides;
use super::models::check_table_slots;
use super::models::LeafModel;
use super::models::NeighborhoodModel;
use super::models::TableModel;
use super::route::check_route_at;
use super::route::known_nodes;
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::node::NodeRef;
use crate::node::Proximity;
use crate::state::NodeState;
use crate::word::RingWord;

/// One step of [`StateOpsInput`].
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub enum StateOp<W = Guid> {
    /// `learn` this id at this proximity.
    Learn(W, u8),
    /// `forget` this id.
    Forget(W),
    /// `forget` the known node at this index (modulo the number known), if any.
    ForgetKnown(u8),
    /// Route this key (and check every route property).
    Route(W),
}

/// Input of [`check_state_ops`]: a sequence of learns, forgets and routes on one node.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct StateOpsInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The local node.
    pub own: W,
    /// The operations, in order.
    pub ops: Vec<StateOp<W>>,
}

/// Replays [`StateOpsInput`] on a [`NodeState`] and on the brute-force models of its three
/// structures. After every step the structures equal their models; `learn` and `forget` report
/// exactly what changed; `learn`/`forget` of the local id return [`StateError::OwnId`] and leave
/// the whole state unchanged; every routed key passes [`check_route_at`].
pub fn check_state_ops<W: RingWord>(input: &StateOpsInput<W>) {
    let config = input.config;
    let own = input.own;
    let mut state: NodeState<u32, W> = NodeState::new(config, NodeRef::new(own, u32::MAX));
    let mut leaf = LeafModel::new(own, config.leaf_set_half());
    let mut table = TableModel::new(own, config.digit_width());
    let mut hood = NeighborhoodModel {
        capacity: config.neighborhood_len(),
        entries: Vec::new(),
    };
    for (i, op) in input.ops.iter().enumerate() {
        let before = state.clone();
        match *op {
            StateOp::Learn(id, p) => {
                let node = NodeRef::new(id, i as u32);
                let p = Proximity::from(p);
                match state.learn(node, p) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "learn refused {id:?}");
                        assert_eq!(state, before, "a refused learn changed the state");
                    }
                    Ok(learned) => {
                        assert_eq!(learned.leaf_set, leaf.insert(node), "learn: leaf set");
                        assert_eq!(Some(learned.table), table.insert(node, p), "learn: table");
                        assert_eq!(
                            learned.neighborhood,
                            hood.insert(node, p),
                            "learn: neighborhood"
                        );
                    }
                }
            }
            StateOp::Forget(_) | StateOp::ForgetKnown(_) => {
                let id = match *op {
                    StateOp::Forget(id) => id,
                    StateOp::ForgetKnown(m) => {
                        let known = known_nodes(&state);
                        match known.get(usize::from(m) % known.len().max(1)) {
                            Some(n) => n.id,
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                match state.forget(id) {
                    Err(e) => {
                        assert_eq!((e, id), (StateError::OwnId, own), "forget refused {id:?}");
                        assert_eq!(state, before, "a refused forget changed the state");
                    }
                    Ok(f) => {
                        let was_known = before.knows(id);
                        let (s, p) = leaf.remove(id);
                        assert_eq!(
                            (f.leaf_set.successor, f.leaf_set.predecessor),
                            (s, p),
                            "forget: sides"
                        );
                        assert_eq!(
                            f.slot,
                            table.remove(id).map(|(a, c, _)| (a, c)),
                            "forget: slot"
                        );
                        assert_eq!(
                            f.neighborhood,
                            hood.remove(id).is_some(),
                            "forget: neighborhood"
                        );
                        assert_eq!(f.was_known(), was_known, "forget: was_known");
                        assert_eq!(
                            f.node.map(|n| n.id),
                            was_known.then_some(id),
                            "forget: node"
                        );
                        assert!(!state.knows(id), "forgotten {id:?} still known");
                    }
                }
            }
            StateOp::Route(key) => {
                let r = state.route(key);
                assert_eq!(state, before, "route changed the state");
                assert_eq!(r, state.route(key), "route is not a function of the state");
                check_route_at(&state, key);
            }
        }
        state.invariants();
        check_leaf_set_sides(state.leaf_set());
        leaf.compare(state.leaf_set());
        check_table_slots(state.table());
        table.compare(state.table());
        assert_eq!(
            state.neighborhood().entries(),
            &hood.entries[..],
            "neighborhood differs from the model"
        );
        assert_eq!(state.config(), &config, "config changed");
        assert_eq!(state.own().id, own, "own id changed");
    }
}
