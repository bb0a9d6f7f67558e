//! Whole networks built from global knowledge, routed hop by hop: [`Network`], [`check_network`].

use super::reference as r;
use super::route::check_route_at;
use crate::config::Config;
use crate::guid::Guid;
use crate::node::NodeRef;
use crate::node::Proximity;
use crate::route::Route;
use crate::route::Via;
use crate::state::NodeState;
use crate::word::RingWord;

/// A network of nodes whose states were built from global knowledge
/// ([`NodeState::from_ring`]): true leaf sets and every routing-table slot whose prefix holds a
/// node filled. Node `i` has the handle `i`.
#[derive(Clone, Debug)]
pub struct Network<W = Guid> {
    config: Config,
    /// States in handle order.
    states: Vec<NodeState<usize, W>>,
    /// Ids sorted, for the root.
    sorted: Vec<W>,
}

/// The end of one route through a [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The handle of the node that delivered.
    pub end: usize,
    /// The number of hops (0 when the source delivers).
    pub hops: u32,
    /// How many hops were chosen by step 3, the rare case.
    pub rare_case_hops: u32,
}

impl<W: RingWord> Network<W> {
    /// The network of the distinct `ids` (duplicates dropped, first kept); node `i` of the result
    /// has handle `i` and id [`Network::id`]. `proximity(i, j)` is the host's figure from node
    /// `i` to node `j`; each slot is offered up to `candidates_per_slot` nodes.
    #[must_use]
    pub fn new(
        config: Config,
        ids: &[W],
        proximity: impl Fn(usize, usize) -> Proximity + Sync,
        candidates_per_slot: usize,
    ) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let distinct: Vec<W> = ids.iter().copied().filter(|&id| seen.insert(id)).collect();
        let sorted: Vec<W> = seen.into_iter().collect();
        let mut ring: Vec<NodeRef<usize, W>> = distinct
            .iter()
            .enumerate()
            .map(|(i, &id)| NodeRef::new(id, i))
            .collect();
        ring.sort_by_key(|n| n.id);
        let build = |i: usize, id: W| {
            NodeState::from_ring(
                config,
                NodeRef::new(id, i),
                &ring,
                |m| proximity(i, m.handle),
                candidates_per_slot,
            )
        };
        // The states are independent: build them on every available core, in order.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = distinct.len().div_ceil(threads).max(1);
        let states = std::thread::scope(|scope| {
            let workers: Vec<_> = distinct
                .chunks(chunk)
                .enumerate()
                .map(|(c, ids)| {
                    let build = &build;
                    scope.spawn(move || {
                        ids.iter()
                            .enumerate()
                            .map(|(j, &id)| build(c * chunk + j, id))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("building a state panicked"))
                .collect()
        });
        Network {
            config,
            states,
            sorted,
        }
    }

    /// The number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether the network has no node.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The id of node `i`.
    #[must_use]
    pub fn id(&self, i: usize) -> W {
        self.states[i].id()
    }

    /// The state of node `i`.
    #[must_use]
    pub fn state(&self, i: usize) -> &NodeState<usize, W> {
        &self.states[i]
    }

    /// The root of `key` among all nodes, by brute force over every id.
    #[must_use]
    pub fn root(&self, key: W) -> Option<W> {
        r::root(key, self.sorted.iter().copied())
    }

    /// Routes `key` from node `source` hop by hop, calling each node's `route`, until one
    /// delivers. Panics when a hop makes no progress (which also rules out loops).
    #[must_use]
    pub fn route(&self, source: usize, key: W) -> Trace {
        let b = self.config.digit_width();
        let mut at = source;
        let mut hops = 0;
        let mut rare_case_hops = 0;
        loop {
            let state = &self.states[at];
            match state.route(key) {
                Route::Deliver => {
                    return Trace {
                        end: at,
                        hops,
                        rare_case_hops,
                    }
                }
                Route::Forward { to, via } => {
                    let from = state.id();
                    let progress = r::shl(to.id, key, b) > r::shl(from, key, b)
                        || (r::shl(to.id, key, b) == r::shl(from, key, b)
                            && r::closer(key, to.id, from));
                    assert!(
                        via == Via::LeafSet || progress,
                        "hop {hops} for {key:?} from {from:?} to {:?} via {via:?} makes no progress",
                        to.id
                    );
                    assert!(hops as usize <= self.len(), "route for {key:?} loops");
                    rare_case_hops += u32::from(via == Via::RareCase);
                    hops += 1;
                    at = to.handle;
                }
            }
        }
    }

    /// Routes `key` from `source` and checks the promise of docs/design.md, *Progress*, for correct
    /// leaf sets: the route ends at the brute-force root of `key` among all nodes after at most
    /// `BITS / b + 1` hops.
    pub fn check_route(&self, source: usize, key: W) -> Trace {
        let trace = self.route(source, key);
        let root = self.root(key);
        assert_eq!(
            Some(self.id(trace.end)),
            root,
            "route for {key:?} from node {source} ended off the root"
        );
        let bound = self.config.digit_width().digits::<W>() + 1;
        assert!(
            trace.hops <= bound,
            "route for {key:?} took {} hops > BITS/b + 1 = {bound}",
            trace.hops
        );
        trace
    }
}

/// Input of [`check_network`]: a small network and some lookups.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct NetworkInput<W = Guid> {
    /// b, L and |M|.
    pub config: Config,
    /// The node ids (duplicates are dropped).
    pub ids: Vec<W>,
    /// Lookups: a source (an index modulo the number of nodes) and a key.
    pub lookups: Vec<(u16, W)>,
}

/// Builds the [`Network`] of [`NetworkInput`] (proximity from the ids, one candidate per slot)
/// and runs [`Network::check_route`] for every lookup, and [`check_route_at`] at each source.
pub fn check_network<W: RingWord>(input: &NetworkInput<W>) {
    if input.ids.is_empty() {
        return;
    }
    let net = Network::new(
        input.config,
        &input.ids,
        |i, j| ((i * 7 + j * 13) % 31) as Proximity,
        2,
    );
    for &(source, key) in &input.lookups {
        let source = usize::from(source) % net.len();
        check_route_at(net.state(source), key);
        let _ = net.check_route(source, key);
    }
}
