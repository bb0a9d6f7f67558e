//! The route properties of one state for one key ([`check_route_at`]) and the input that
//! builds such a state ([`RouteInput`], [`check_route`]).

use super::paper::paper_route;
use super::reference as r;
use crate::config::Config;
use crate::error::StateError;
use crate::guid::Guid;
use crate::leafset::LeafRoot;
use crate::node::NodeRef;
use crate::node::Proximity;
use crate::route::Route;
use crate::route::Via;
use crate::state::NodeState;
use crate::word::RingWord;
use core::fmt::Debug;

/// Every node `state` holds, from the leaf set, the routing table and the neighborhood set
/// (a node held by several structures appears several times).
#[must_use]
pub fn known_nodes<H: Copy, W: RingWord>(state: &NodeState<H, W>) -> Vec<NodeRef<H, W>> {
    let leaf = state.leaf_set();
    leaf.successors()
        .iter()
        .chain(leaf.predecessors())
        .copied()
        .chain(state.table().iter().map(|(_, _, e)| e.node))
        .chain(state.neighborhood().entries().iter().map(|e| e.node))
        .collect()
}

/// The brute-force root of `key` among the leaf set and the local node.
#[must_use]
pub fn leaf_root<H: Copy, W: RingWord>(state: &NodeState<H, W>, key: W) -> W {
    let leaf = state.leaf_set();
    let ids = core::iter::once(state.id())
        .chain(leaf.successors().iter().map(|n| n.id))
        .chain(leaf.predecessors().iter().map(|n| n.id));
    r::root(key, ids).unwrap_or(state.id())
}

/// `route(key)` equals [`paper_route`] exactly: same decision, next hop, handle and step.
pub fn check_route_matches_paper<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let fast = state.route(key);
    let paper = paper_route(state, key);
    assert_eq!(
        fast,
        paper,
        "route({key:?}) at {:?} differs from the paper's Table 1",
        state.id()
    );
}

/// A covered key goes to its brute-force root among the leaf set and the local node: Deliver
/// when that is the local node, else Forward to it via the leaf set. The leaf set's own
/// `covers` and `root` agree with the definitions.
pub fn check_route_finds_covered_root<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let leaf = state.leaf_set();
    let covered = r::covered(leaf, key);
    assert_eq!(
        leaf.covers(key),
        covered,
        "covers({key:?}) at {:?}",
        state.id()
    );
    let root = leaf_root(state, key);
    let leaf_answer = match leaf.root(key) {
        LeafRoot::NotCovered => None,
        LeafRoot::Own => Some(state.id()),
        LeafRoot::Member(n) => Some(n.id),
    };
    assert_eq!(
        leaf_answer,
        covered.then_some(root),
        "LeafSet::root({key:?}) at {:?}",
        state.id()
    );
    if covered {
        match state.route(key) {
            Route::Deliver => assert_eq!(
                root,
                state.id(),
                "delivered {key:?} but the root is {root:?}"
            ),
            Route::Forward { to, via } => {
                assert_eq!(to.id, root, "covered key {key:?} not sent to its root");
                assert_eq!(
                    via,
                    Via::LeafSet,
                    "covered key {key:?} not routed by the leaf set"
                );
            }
        }
    }
}

/// **Progress**: every Forward of steps 2 and 3 strictly lengthens the prefix shared with the
/// key, or keeps it and moves strictly closer to the key. A step-1 Forward goes to the root.
pub fn check_route_makes_progress<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let b = state.config().digit_width();
    let own = state.id();
    if let Route::Forward { to, via } = state.route(key) {
        assert_ne!(to.id, own, "forwarded {key:?} to itself");
        match via {
            Via::LeafSet => {
                assert_eq!(to.id, leaf_root(state, key), "leaf-set hop not to the root")
            }
            Via::Table | Via::RareCase => {
                let (before, after) = (r::shl(own, key, b), r::shl(to.id, key, b));
                assert!(
                    after > before || (after == before && r::closer(key, to.id, own)),
                    "{via:?} hop for {key:?} from {own:?} to {:?} makes no progress \
                     (shl {before} -> {after})",
                    to.id
                );
                if via == Via::Table {
                    assert!(after > before, "a table hop must lengthen the prefix");
                }
            }
        }
    }
}

/// Deliver only where route's steps allow it, each step only where it applies, and every next
/// hop is a node the state holds, with the handle it holds.
pub fn check_route_delivers_only_when_allowed<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let b = state.config().digit_width();
    let own = state.id();
    let covered = r::covered(state.leaf_set(), key);
    let l = r::shl(key, own, b);
    let slot = r::digit(key, l, b).and_then(|c| {
        state
            .table()
            .iter()
            .find(|(row, column, _)| (u32::from(row.0), u32::from(column.0)) == (l, c))
            .map(|(_, _, e)| e.node)
    });
    let known = known_nodes(state);
    let admissible: Vec<NodeRef<H, W>> = known
        .iter()
        .copied()
        .filter(|t| r::shl(t.id, key, b) >= l && r::closer(key, t.id, own))
        .collect();
    match state.route(key) {
        Route::Deliver => {
            if covered {
                assert_eq!(
                    leaf_root(state, key),
                    own,
                    "delivered a covered key it is not root of"
                );
            } else {
                assert!(
                    slot.is_none(),
                    "delivered {key:?} with a table entry for it"
                );
                assert!(
                    admissible.is_empty(),
                    "delivered {key:?} although {:?} is admissible",
                    admissible.first()
                );
            }
        }
        Route::Forward { to, via } => {
            assert!(
                known.contains(&to),
                "next hop {to:?} is not a node the state holds"
            );
            match via {
                Via::LeafSet => assert!(covered, "leaf-set hop for an uncovered key"),
                Via::Table => {
                    assert!(!covered, "table hop for a covered key");
                    assert_eq!(slot, Some(to), "table hop is not R[l][digit(k, l)]");
                }
                Via::RareCase => {
                    assert!(
                        !covered && slot.is_none(),
                        "rare case where step 1 or 2 applies"
                    );
                    let best = admissible
                        .iter()
                        .min_by_key(|t| r::rare_case_rank(key, t.id, b))
                        .copied();
                    assert_eq!(Some(to), best, "rare case did not take the best candidate");
                }
            }
        }
    }
}

/// **Replica set**: the min(r, L/2 + 1) nodes of leaf set ∪ {self} closest to the key, closest
/// first, checked for several r.
pub fn check_replica_set<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    let leaf = state.leaf_set();
    let mut all: Vec<NodeRef<H, W>> = core::iter::once(*state.own())
        .chain(leaf.successors().iter().copied())
        .chain(leaf.predecessors().iter().copied())
        .collect();
    all.sort_by_key(|n| r::nearness(key, n.id));
    all.dedup_by_key(|n| n.id);
    let cap = state.config().max_replicas();
    for want in [0, 1, 2, cap - 1, cap, cap + 1, usize::MAX] {
        let got: Vec<NodeRef<H, W>> = state.replica_set(key, want).iter().copied().collect();
        let expected: Vec<NodeRef<H, W>> = all.iter().copied().take(want.min(cap)).collect();
        assert_eq!(
            got,
            expected,
            "replica_set({key:?}, {want}) at {:?}",
            state.id()
        );
    }
}

/// All route properties of one state for one key: [`check_route_matches_paper`],
/// [`check_route_finds_covered_root`], [`check_route_makes_progress`],
/// [`check_route_delivers_only_when_allowed`] and [`check_replica_set`].
pub fn check_route_at<H, W>(state: &NodeState<H, W>, key: W)
where
    H: Copy + Eq + Debug,
    W: RingWord,
{
    check_route_matches_paper(state, key);
    check_route_finds_covered_root(state, key);
    check_route_makes_progress(state, key);
    check_route_delivers_only_when_allowed(state, key);
    check_replica_set(state, key);
}

/// Input of [`check_route`]: a node that learned some nodes and forgot some of them.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct RouteInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The local node's id.
    pub own: W,
    /// Nodes offered to `learn`, in order, with the host's proximity figure (the handle of the
    /// i-th is `i`). The local id may appear; `learn` must refuse it.
    pub nodes: Vec<(W, u8)>,
    /// Indices into `nodes` (modulo its length) of nodes to `forget` afterwards.
    pub forgets: Vec<u8>,
    /// The key to route.
    pub key: W,
}

/// Builds the state of [`RouteInput`] and runs [`check_route_at`] for the key, its ring
/// neighbours, the local id and every offered id.
pub fn check_route<W: RingWord>(input: &RouteInput<W>) {
    let state = input.state();
    let one = W::from_u128(1);
    let keys = [
        input.key,
        input.key.wrapping_add(&one),
        input.key.wrapping_sub(&one),
        input.own,
    ];
    for key in keys.into_iter().chain(input.nodes.iter().map(|n| n.0)) {
        check_route_at(&state, key);
    }
}

impl<W: RingWord> RouteInput<W> {
    /// The state this input describes (refused `learn`s of the local id are checked to leave the
    /// state unchanged).
    #[must_use]
    pub fn state(&self) -> NodeState<u32, W> {
        let input = self;
        let mut state = NodeState::new(input.config, NodeRef::new(input.own, u32::MAX));
        for (i, &(id, p)) in input.nodes.iter().enumerate() {
            let node = NodeRef::new(id, i as u32);
            let before = state.clone();
            match state.learn(node, Proximity::from(p)) {
                Ok(_) => assert_ne!(id, input.own, "learned the local id"),
                Err(e) => {
                    assert_eq!(
                        (e, id),
                        (StateError::OwnId, input.own),
                        "learn refused {id:?}"
                    );
                    assert_eq!(state, before, "a refused learn changed the state");
                }
            }
        }
        if !input.nodes.is_empty() {
            for &f in &input.forgets {
                let id = input.nodes[usize::from(f) % input.nodes.len()].0;
                if id != input.own {
                    let _ = state.forget(id);
                    assert!(!state.knows(id), "forgot {id:?} but still know it");
                }
            }
        }
        state
    }
}
