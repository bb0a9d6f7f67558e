//! Exhaustive route checks on narrow rings, with no solver.
//!
//! A [`Network`] is a set of live node ids on a ring of `W::BITS` bits (`u8`, `u16`), each node
//! holding the state the kernel's own [`NodeState::from_ring`] builds for it: the true leaf set
//! and a routing table (full, randomly thinned or bare, see [`Tables`]). [`Network::check_keys`]
//! routes keys with the kernel's own [`NodeState::route`], hop by hop, from every node, and
//! checks each route against a brute-force scan for the root of the key.
//!
//! Nothing here re-implements routing: the only kernel definition used besides `route` is
//! `arith::closer` (for the brute-force root, the "closest member" of docs/design.md) and
//! `arith::makes_progress` (to check each hop against the progress rule of docs/design.md), both
//! proved in [`crate::theorems`].

use core::fmt;

use pastry_kernel::arith::{closer, makes_progress};
use pastry_kernel::{Config, NodeRef, NodeState, RingWord, Route, Via};

/// The project's seeded generator, re-exported for the tests.
pub use pastry_kernel::seeded::SplitMix;

/// How the routing tables of a [`Network`] are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tables {
    /// Every slot whose prefix range holds a node is filled: `from_ring` offers every candidate
    /// and keeps the proximity-nearest (proximity figures are seeded pseudo-random).
    Full {
        /// Seed of the proximity figures.
        seed: u64,
    },
    /// Full tables, then each node forgets each of its table-only entries (those not in its
    /// leaf set) with probability `forget_per_mille / 1000`.
    Thinned {
        /// Seed of the proximity figures and of the choice of forgotten entries.
        seed: u64,
        /// Probability, in thousandths, that a table-only entry is forgotten.
        forget_per_mille: u64,
    },
    /// Every table-only entry forgotten: nodes know only their leaf sets (and the neighborhood
    /// entries that are also leaf-set members).
    Bare,
}

/// A network of live nodes on a narrow ring, each with the kernel's state for it.
#[derive(Clone, Debug)]
pub struct Network<W: RingWord> {
    config: Config,
    tables: Tables,
    ids: Vec<W>,
    states: Vec<NodeState<usize, W>>,
}

/// Totals of a route check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Routes checked: (source, key) pairs.
    pub routes: u64,
    /// Hops taken by all of them.
    pub hops: u64,
    /// The longest route, in hops.
    pub max_hops: u32,
    /// Hops chosen by step 1 (leaf set), step 2 (table) and step 3 (rare case).
    pub by_step: [u64; 3],
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, other: &Tally) {
        self.routes += other.routes;
        self.hops += other.hops;
        self.max_hops = self.max_hops.max(other.max_hops);
        for (a, b) in self.by_step.iter_mut().zip(other.by_step) {
            *a += b;
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} routes, {} hops (longest {}; leaf set {}, table {}, rare case {})",
            self.routes,
            self.hops,
            self.max_hops,
            self.by_step[0],
            self.by_step[1],
            self.by_step[2]
        )
    }
}

/// A route that broke a rule, with everything needed to replay it.
#[derive(Clone, Debug)]
pub struct RouteFailure {
    /// What went wrong, with the network, the key and the path.
    pub message: String,
}

impl fmt::Display for RouteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<W: RingWord> Network<W> {
    /// The network of the distinct ids `ids` (any order), each node's state built by
    /// [`NodeState::from_ring`] with `config`, then thinned as `tables` says.
    ///
    /// # Panics
    /// When `ids` holds a duplicate.
    #[must_use]
    pub fn build(config: Config, ids: &[W], tables: Tables) -> Self {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        assert!(ids.windows(2).all(|w| w[0] != w[1]), "duplicate id");
        let ring: Vec<NodeRef<usize, W>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| NodeRef::new(*id, i))
            .collect();
        let seed = match tables {
            Tables::Full { seed } | Tables::Thinned { seed, .. } => seed,
            Tables::Bare => 0,
        };
        let states = ring
            .iter()
            .map(|own| {
                let prox = |m: &NodeRef<usize, W>| {
                    let mut g = SplitMix::new(seed ^ ((own.handle as u64) << 32) ^ m.handle as u64);
                    // Truncation is fine: any figure will do.
                    #[allow(clippy::cast_possible_truncation)]
                    let p = g.next_u64() as u32;
                    p
                };
                let mut state = NodeState::from_ring(config, *own, &ring, prox, usize::MAX);
                thin(&mut state, tables);
                state
            })
            .collect();
        Network {
            config,
            tables,
            ids,
            states,
        }
    }

    /// The node ids, in increasing order (a node's index is its handle).
    #[must_use]
    pub fn ids(&self) -> &[W] {
        &self.ids
    }

    /// The node states, in the order of [`Network::ids`].
    #[must_use]
    pub fn states(&self) -> &[NodeState<usize, W>] {
        &self.states
    }

    /// The index of the root of `key`: the node closest to it by `closer`, by a scan of all
    /// nodes. `None` for an empty network.
    #[must_use]
    pub fn root(&self, key: W) -> Option<usize> {
        (0..self.ids.len()).reduce(|best, i| {
            if closer(&key, &self.ids[i], &self.ids[best]) {
                i
            } else {
                best
            }
        })
    }

    /// The longest route allowed.
    ///
    /// * Full tables: `W::BITS / b + 1` hops (the bound of docs/design.md, *Progress*).
    /// * Thinned or bare tables: one hop fewer than there are nodes, i.e. the route visits no
    ///   node twice. The 128/b + 1 bound does not hold there: with a slot empty the rare case may
    ///   keep the shared prefix and move only a little closer, several times in a row (the
    ///   test `hop_bound_needs_full_tables` shows a 4-hop route on a 5-node `u8` network with
    ///   b = 4, where the bound is 3).
    #[must_use]
    pub fn hop_bound(&self) -> u32 {
        match self.tables {
            Tables::Full { .. } => self.config.digit_width().digits::<W>() + 1,
            Tables::Thinned { .. } | Tables::Bare => {
                u32::try_from(self.ids.len().saturating_sub(1)).unwrap_or(u32::MAX)
            }
        }
    }

    /// The tables this network was built with.
    #[must_use]
    pub fn tables(&self) -> Tables {
        self.tables
    }

    /// Routes every key of `keys` from every node with the kernel's `route`, hop by hop, and
    /// checks that
    ///
    /// * every Forward names a node of the network other than the current one;
    /// * a leaf-set hop goes to a node closer to the key, and a table or rare-case hop obeys
    ///   the progress rule (`makes_progress`);
    /// * the route ends (Deliver) at the brute-force root within [`Network::hop_bound`] hops.
    ///
    /// # Errors
    /// The first route that breaks a rule.
    pub fn check_keys(&self, keys: impl IntoIterator<Item = W>) -> Result<Tally, RouteFailure> {
        let mut tally = Tally::default();
        let mut next: Vec<Option<(usize, Via)>> = vec![None; self.ids.len()];
        for key in keys {
            self.check_key(key, &mut next, &mut tally)?;
        }
        Ok(tally)
    }

    fn check_key(
        &self,
        key: W,
        next: &mut [Option<(usize, Via)>],
        tally: &mut Tally,
    ) -> Result<(), RouteFailure> {
        let Some(root) = self.root(key) else {
            return Ok(());
        };
        let b = self.config.digit_width();
        for (i, state) in self.states.iter().enumerate() {
            next[i] = match state.route(key) {
                Route::Deliver => None,
                Route::Forward { to, via } => {
                    let from = self.ids[i];
                    if to.handle >= self.ids.len() || self.ids[to.handle] != to.id || to.handle == i
                    {
                        return Err(self.failure(key, i, "forwards to a bad node"));
                    }
                    let ok = match via {
                        Via::LeafSet => closer(&key, &to.id, &from),
                        Via::Table | Via::RareCase => makes_progress(&key, &from, &to.id, b),
                    };
                    if !ok {
                        return Err(self.failure(key, i, "a hop breaks the progress rule"));
                    }
                    Some((to.handle, via))
                }
            };
        }
        let bound = self.hop_bound();
        for source in 0..self.ids.len() {
            let mut at = source;
            let mut hops = 0u32;
            while let Some((to, via)) = next[at] {
                hops += 1;
                if hops > bound {
                    return Err(self.failure(key, source, "route longer than the hop bound"));
                }
                tally.by_step[match via {
                    Via::LeafSet => 0,
                    Via::Table => 1,
                    Via::RareCase => 2,
                }] += 1;
                at = to;
            }
            if at != root {
                return Err(self.failure(key, source, "route ends away from the root"));
            }
            tally.routes += 1;
            tally.hops += u64::from(hops);
            tally.max_hops = tally.max_hops.max(hops);
        }
        Ok(())
    }

    fn failure(&self, key: W, source: usize, what: &str) -> RouteFailure {
        let mut path = vec![format!("{:?}", self.ids[source])];
        let mut at = source;
        for _ in 0..=self.hop_bound() + 1 {
            match self.states[at].route(key) {
                Route::Deliver => break,
                Route::Forward { to, via } => {
                    path.push(format!("{via:?}→{:?}", to.id));
                    match self.ids.get(to.handle) {
                        Some(_) => at = to.handle,
                        None => break,
                    }
                }
            }
        }
        let root = self.root(key).map(|r| self.ids[r]);
        RouteFailure {
            message: format!(
                "{what} ({}): config {:?}, tables {:?}, key {key:?}, root {root:?}, network {:?}, \
                 path {}",
                self.hop_bound(),
                self.config,
                self.tables,
                self.ids,
                path.join(" ")
            ),
        }
    }
}

/// Forgets table-only entries as `tables` says.
fn thin<W: RingWord>(state: &mut NodeState<usize, W>, tables: Tables) {
    let (mut rng, per_mille) = match tables {
        Tables::Full { .. } => return,
        Tables::Thinned {
            seed,
            forget_per_mille,
        } => (
            SplitMix::new(seed ^ 0x7468_696e ^ (state.own().handle as u64) << 40),
            forget_per_mille,
        ),
        Tables::Bare => (SplitMix::new(0), 1000),
    };
    let table_only: Vec<W> = state
        .table()
        .iter()
        .map(|(_, _, e)| e.node.id)
        .filter(|id| !state.leaf_set().contains(*id))
        .collect();
    for id in table_only {
        if (rng.below(1000) as u64) < per_mille {
            // The id is not the local node's, so forget cannot fail.
            let _ = state.forget(id);
        }
    }
}
