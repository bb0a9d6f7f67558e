//! The consistent join (the paper's section 2.4, made consistent after MSPastry and
//! FreePastry), seen from the joining node, from the hops of its request and from its root.
//!
//! 1. **Request.** The joining node X sends a `JoinRequest` to its contact A; it is routed
//!    towards X's id like any message (per-hop acks, re-routing), and each hop adds its part:
//!    itself, the rows [`NodeState::join_rows`] names, and, at A, its neighborhood set. A hop
//!    never routes it to X itself (X may still be in a stale leaf set).
//! 2. **Root.** The node where it ends, Z, is active and X's root. Z serves **one joining node
//!    at a time per side** (the fix for the ring split that model checking found in MSPastry's
//!    join): if another joiner holds the side X is on, Z answers `JoinBusy` and X retries;
//!    otherwise Z reserves the side for X (until X is known to be active, is found faulty, or
//!    [`NodeConfig::join_grant`] passes) and answers `JoinReply` with everything gathered and
//!    its leaf set.
//! 3. **Probing.** X probes every node its state would take before taking it: the would-be
//!    leaf-set members with a `LeafProbe` (each adds X, if X belongs in its leaf set, before
//!    answering with its own leaf set), the others with a `Ping`. Members named in an answer
//!    that would enter X's leaf set are probed the same way. X builds its state with the
//!    kernel's [`NodeState::join_from_parts`] from the nodes that answered, at their measured
//!    figures, in two merges: the would-be leaf set first, then, once their probes have
//!    ended, the other candidates (routing-table and neighborhood entries). The second merge
//!    is parked while the first waits: run on the empty state, it would find every candidate
//!    a would-be leaf-set member and send each a `LeafProbe`. The merges asked for meanwhile
//!    (the members' answers carry their leaf sets) are deferred until the first has run, for
//!    the same reason.
//! 4. **Active.** X becomes active when its leaf set is complete (both sides full, or the
//!    whole ring known) and every would-be leaf-set member has answered or been found faulty
//!    (no merge that may add a leaf-set member waits). It does not wait for the other
//!    candidates: consistency rests on the leaf set alone, and one dead table candidate would
//!    hold the activation for its probe timeouts. Before that it delivers nothing and serves
//!    no join: a message it would be the root of is held and routed again once it is active.
//!    On activation X sends its state to its leaf set (which ends Z's reservation).
//! 5. **Second stage and last step.** Once the other candidates are merged (at activation or
//!    later), X asks each routing-table entry for its row and each
//!    neighborhood member for its neighborhood set and the rows it shares with X, merges what
//!    comes back (with probes), then sends its state to every node in it that was not told
//!    yet; each merges it with probes (the paper's "those nodes in turn update their own
//!    state").

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{arith, NodeRef, RingWord, Row};

use super::{Asked, Estimator, JoinProgress, Node, Phase, Source, Timer};
use crate::config::{NodeConfig, Time};
use crate::event::Event;
use crate::message::{Body, JoinGather, JoinReply, Routed};

impl<H, W, E> Node<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// Sends (or sends again) the join request to the contact and arms the join timer.
    pub(super) fn send_join_request(&mut self, now: Time) {
        let Some(contact) = self.join.contact else {
            return;
        };
        self.join.attempt = self.join.attempt.saturating_add(1);
        self.counters.join_attempts += 1;
        let seq = self.fresh_id();
        self.join.seq = seq;
        let own = *self.state.own();
        let routed = Routed {
            key: own.id,
            origin: own,
            seq,
            hops: 0,
            body: JoinGather {
                route: Vec::new(),
                next_row: 0,
                rows: Vec::new(),
                neighborhood: None,
            },
        };
        self.send_new(contact, Body::JoinRequest(routed));
        self.arm_join_timer(now);
    }

    /// Arms the join timer at `join_retry · 2^(attempt − 1)` (at most 64 · `join_retry`).
    fn arm_join_timer(&mut self, now: Time) {
        if let Some(at) = self.join.timer.take() {
            self.timers.disarm(at, Timer::Join);
        }
        let exp = u32::from(self.join.attempt.saturating_sub(1).min(6));
        let wait = NodeConfig::micros(self.cfg.join_retry).saturating_mul(1 << exp);
        let at = now.saturating_add(wait);
        self.join.timer = Some(at);
        self.timers.arm(at, Timer::Join);
    }

    /// The join timer: no answer (or a busy root) — try again, or give up; while probing, look
    /// again for the members a short leaf set lacks.
    pub(super) fn on_join_timer(&mut self, now: Time) {
        self.join.timer = None;
        match self.phase {
            Phase::Joining => {
                if self.join.attempt >= self.cfg.join_attempts {
                    self.phase = Phase::Idle;
                    self.join = JoinProgress::default();
                    self.release_held(now);
                    self.emit(Event::JoinFailed);
                } else {
                    self.send_join_request(now);
                }
            }
            Phase::Probing => self.ask_for_missing_members(now),
            _ => {}
        }
    }

    /// `JoinBusy`: the root serves another joining node on our side. The request goes again
    /// after `join_retry` times a random factor in [0.5, 1.5) (so joiners that met at one root
    /// spread out), and a busy root does not count as a failed attempt.
    pub(super) fn on_join_busy(&mut self, now: Time, id: u64) {
        if self.phase != Phase::Joining || id != self.join.seq {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        self.join.attempt = self.join.attempt.saturating_sub(1);
        if let Some(at) = self.join.timer.take() {
            self.timers.disarm(at, Timer::Join);
        }
        let base = NodeConfig::micros(self.cfg.join_retry);
        let wait = base / 2 + self.random() % base.max(1);
        let at = now.saturating_add(wait);
        self.join.timer = Some(at);
        self.timers.arm(at, Timer::Join);
    }

    /// `JoinReply`: probe what the join gathered, then build the state.
    pub(super) fn on_join_reply(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        reply: JoinReply<H, W>,
    ) {
        if self.phase != Phase::Joining || id != self.join.seq {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        let g = &reply.gather;
        let rows: Vec<(Row, &pastry_kernel::RoutingTable<H, W>)> =
            g.rows.iter().map(|(r, t)| (*r, t)).collect();
        let Some(hood) = g.neighborhood.as_ref() else {
            self.counters.dropped.invalid += 1;
            return;
        };
        if g.route.last().map(|n| n.id) != Some(sender.id) {
            self.counters.dropped.invalid += 1;
            return;
        }
        let parts = pastry_kernel::JoinParts {
            route: &g.route,
            rows: &rows,
            leaf_set: &reply.leaf_set,
            neighborhood: hood,
        };
        let own = *self.state.own();
        // The would-be leaf set does not depend on figures; the rest is what the state keeps
        // at the host's estimates, or every candidate when there are none.
        let leaf =
            match pastry_kernel::NodeState::join_from_parts(self.cfg.routing, own, &parts, |_| {
                Some(0u32)
            }) {
                Ok(s) => s,
                Err(_) => {
                    self.counters.dropped.invalid += 1;
                    return;
                }
            };
        let estimated = {
            let est = &self.estimator;
            let mut all = true;
            let s = pastry_kernel::NodeState::join_from_parts(self.cfg.routing, own, &parts, |n| {
                let e = est.estimate(&n.handle);
                all &= e.is_some();
                e
            });
            s.ok().filter(|_| all)
        };
        let leaf_members: BTreeSet<W> = leaf.leaf_set().iter().map(|n| n.id).collect();
        let mut targets: Vec<(NodeRef<H, W>, bool)> =
            leaf.leaf_set().iter().map(|n| (*n, true)).collect();
        let others: Vec<NodeRef<H, W>> = match &estimated {
            Some(s) => s.members().copied().collect(),
            None => self.join_candidates(&reply),
        };
        for n in others {
            if !leaf_members.contains(&n.id) && !targets.iter().any(|(t, _)| t.id == n.id) {
                targets.push((n, false));
            }
        }
        if let Some(at) = self.join.timer.take() {
            self.timers.disarm(at, Timer::Join);
        }
        let named = self.join_candidates(&reply);
        self.saw(named);
        self.phase = Phase::Probing;
        if self.cfg.planted == Some(crate::config::PlantedBug::EarlyActivation) {
            // The planted bug: take every node named, probe the leaf set, but do not wait.
            let (est, peers) = (&self.estimator, &self.peers);
            if let Ok(s) =
                pastry_kernel::NodeState::join_from_parts(self.cfg.routing, own, &parts, |n| {
                    Some(Self::figure_of(est, peers, n))
                })
            {
                self.state = s;
            }
            for (n, is_leaf) in targets {
                if is_leaf {
                    self.probe(now, n, true, |_| {});
                }
            }
            self.activate(now);
            return;
        }
        if self.merges.len() >= self.cfg.max_merges {
            self.counters.dropped.merges += 1;
            return;
        }
        // Two merges: the would-be leaf set, which the activation waits for, and the other
        // candidates (routing-table and neighborhood entries), merged once their probes have
        // ended and the first merge has run (`resolve_merge` parks it until then).
        // Consistency needs only the leaf set; a dead table candidate would otherwise hold
        // the activation, and every lookup for the keys this node takes over, for its probe
        // timeouts. Without room for two merges, one merge holds both.
        let leaf_mid = self.fresh_id();
        let rest_mid = if self.merges.len() + 2 <= self.cfg.max_merges {
            self.fresh_id()
        } else {
            leaf_mid
        };
        let (mut leaf_wait, mut rest_wait) = (BTreeSet::new(), BTreeSet::new());
        for (n, is_leaf) in targets {
            let mid = if is_leaf { leaf_mid } else { rest_mid };
            let ok = self.probe(now, n, is_leaf, |p| {
                p.merges.push(mid);
                p.join |= is_leaf;
            });
            if ok {
                if mid == leaf_mid {
                    leaf_wait.insert(n.id);
                } else {
                    rest_wait.insert(n.id);
                }
            }
        }
        if leaf_wait.is_empty() {
            // No would-be leaf-set member could be probed: start over.
            self.unlink_merge(rest_mid);
            self.restart_join(now);
            return;
        }
        if !rest_wait.is_empty() {
            self.merges.insert(
                rest_mid,
                super::Merge {
                    source: Source::Join(reply.clone()),
                    waiting: rest_wait,
                    alive: BTreeSet::new(),
                    known: BTreeSet::new(),
                    dead: BTreeSet::new(),
                    leaf: false,
                },
            );
        }
        self.merges.insert(
            leaf_mid,
            super::Merge {
                source: Source::Join(reply),
                waiting: leaf_wait,
                alive: BTreeSet::new(),
                known: BTreeSet::new(),
                dead: BTreeSet::new(),
                leaf: true,
            },
        );
    }

    /// Removes the links from probes to merge `mid` (a merge that is not, or no longer, kept).
    fn unlink_merge(&mut self, mid: u64) {
        for p in self.probing.values_mut() {
            p.merges.retain(|m| *m != mid);
        }
    }

    /// Drops the merges of a join reply still waiting (their probes go on, for nothing).
    fn drop_join_merges(&mut self) {
        let mids: Vec<u64> = self
            .merges
            .iter()
            .filter(|(_, m)| matches!(m.source, Source::Join(_)))
            .map(|(mid, _)| *mid)
            .collect();
        for mid in mids {
            self.merges.remove(&mid);
            self.unlink_merge(mid);
        }
    }

    /// Whether a merge of the join reply still waits for probes.
    fn join_merge_pending(&self) -> bool {
        self.merges
            .values()
            .any(|m| matches!(m.source, Source::Join(_)))
    }

    /// Remembers nodes named during the join (up to `max_peers` of them).
    pub(super) fn saw(&mut self, nodes: impl IntoIterator<Item = NodeRef<H, W>>) {
        let own = self.state.id();
        for n in nodes {
            if n.id != own
                && !self.join.seen.contains_key(&n.id)
                && self.join.seen.len() < self.cfg.max_peers
            {
                self.join.seen.insert(n.id, n);
            }
        }
    }

    /// Every distinct node a join reply names.
    fn join_candidates(&self, reply: &JoinReply<H, W>) -> Vec<NodeRef<H, W>> {
        let g = &reply.gather;
        let mut out: Vec<NodeRef<H, W>> = Vec::new();
        let mut push = |n: NodeRef<H, W>| {
            if !out.iter().any(|m| m.id == n.id) {
                out.push(n);
            }
        };
        for n in &g.route {
            push(*n);
        }
        for (row, t) in &g.rows {
            for (_, e) in t.row(*row) {
                push(e.node);
            }
        }
        for n in reply.leaf_set.iter() {
            push(*n);
        }
        if let Some(m) = &g.neighborhood {
            for e in m.entries() {
                push(e.node);
            }
        }
        let own = self.state.id();
        out.retain(|n| n.id != own);
        out
    }

    /// Nothing could be probed: back to the joining phase, to try again at the join timer.
    fn restart_join(&mut self, now: Time) {
        self.phase = Phase::Joining;
        self.arm_join_timer(now);
    }

    /// While probing: once nothing is pending, become active if the leaf set is complete;
    /// otherwise ask the farthest member of each short side for its leaf set (and look again
    /// after `join_retry`), or start over when no member is left.
    pub(super) fn check_activation(&mut self, now: Time) {
        if self.phase != Phase::Probing {
            return;
        }
        let pending = self.merges.values().any(|m| m.leaf) || self.probing.values().any(|p| p.join);
        if pending {
            return;
        }
        let leaf = self.state.leaf_set();
        if leaf.is_empty() {
            // Every would-be member was faulty: join again.
            self.drop_join_merges();
            self.phase = Phase::Joining;
            self.join.acked.clear();
            self.join.seen.clear();
            if self.join.attempt >= self.cfg.join_attempts {
                self.phase = Phase::Idle;
                self.join = JoinProgress::default();
                self.release_held(now);
                self.emit(Event::JoinFailed);
            } else {
                self.send_join_request(now);
            }
            return;
        }
        if self.state.leaf_set_shortfall() != (0, 0) {
            if self.join.timer.is_none() {
                self.ask_for_missing_members(now);
            }
            return;
        }
        if self.anchors_acknowledged(now) {
            self.activate(now);
        }
    }

    /// Whether the nearest node on each side that has not said it is joining (in its answer
    /// to this node's probe) — an active node, whose key range borders this node's once the
    /// joining nodes between them are left out — has answered a `LeafProbe` from this node,
    /// and so holds this node, or a nearer one, in its leaf set. The nodes looked at are those
    /// of the state and those named during the join (a table slot keeps one of several nodes).
    /// Probes (and waits for) the ones that have not answered.
    ///
    /// Without this, a node whose nearest member on a side is another joining node could turn
    /// active while the active node beyond both knows neither, and both would deliver the keys
    /// between them (model checking found this with two nodes joining through different
    /// roots, L = 2). When every node known is joining, the join timer looks again later.
    fn anchors_acknowledged(&mut self, now: Time) -> bool {
        let own = self.state.id();
        let mut known: Vec<NodeRef<H, W>> = self
            .state
            .members()
            .chain(self.join.seen.values())
            .filter(|n| n.id != own && !self.is_failed(n.id))
            .copied()
            .collect();
        known.sort_by_key(|n| n.id);
        known.dedup_by_key(|n| n.id);
        self.join
            .acked
            .retain(|id, _| known.iter().any(|n| n.id == *id));
        let mut ask: Vec<NodeRef<H, W>> = Vec::new();
        let mut stuck = false;
        for successor in [true, false] {
            known.sort_by_key(|n| {
                if successor {
                    arith::cw(&own, &n.id)
                } else {
                    arith::cw(&n.id, &own)
                }
            });
            let anchor = known
                .iter()
                .find(|n| self.join.acked.get(&n.id) != Some(&false));
            match anchor {
                Some(n) if self.join.acked.get(&n.id) == Some(&true) => {}
                Some(n) => ask.push(*n),
                None => stuck = true,
            }
        }
        if ask.is_empty() && !stuck {
            return true;
        }
        for n in ask {
            self.probe(now, n, true, |p| p.join = true);
        }
        if stuck && self.join.timer.is_none() {
            self.arm_join_timer(now);
        }
        false
    }

    /// Asks the farthest member of each short side for its leaf set, and arms the join timer
    /// to look again.
    fn ask_for_missing_members(&mut self, now: Time) {
        let leaf = self.state.leaf_set();
        let (short_s, short_p) = self.state.leaf_set_shortfall();
        let mut ask: Vec<NodeRef<H, W>> = Vec::new();
        if short_s > 0 {
            ask.extend(leaf.farthest_successor().copied());
        }
        if short_p > 0 {
            ask.extend(leaf.farthest_predecessor().copied());
        }
        if short_s == 0 && short_p == 0 {
            // Complete, but waiting for joining neighbours: ask the nearest ones again, whose
            // answers say whether they are active by now.
            ask.extend(leaf.successors().first().copied());
            ask.extend(leaf.predecessors().first().copied());
        }
        for n in ask {
            self.probe(now, n, true, |p| p.join = true);
        }
        self.arm_join_timer(now);
    }

    /// The node becomes active: the event, the periodic timers, its state to its leaf set,
    /// and the second stage.
    pub(super) fn activate(&mut self, now: Time) {
        self.phase = Phase::Active;
        self.activated = true;
        self.join.acked.clear();
        self.join.seen.clear();
        if let Some(at) = self.join.timer.take() {
            self.timers.disarm(at, Timer::Join);
        }
        self.emit(Event::Activated { at: now });
        self.arm_periodic(now);
        self.release_held(now);
        // The leaf set learns that this node is active (and has its state).
        let leaf: Vec<NodeRef<H, W>> = self.state.leaf_set().iter().copied().collect();
        for m in &leaf {
            self.send_new(m.handle, Body::StateAnnounce(self.state.clone()));
        }
        self.join.told = leaf.iter().map(|n| n.id).collect();
        // The second stage starts from the whole table: after the join's other candidates
        // are merged ([`Node::check_second_stage`] starts it then).
        if !self.join_merge_pending() {
            self.start_second_stage(now);
        }
    }

    /// Arms the heartbeat and row-maintenance timers, each at a random point of the second half
    /// of its first period (which keeps neighbours' timers apart).
    pub(super) fn arm_periodic(&mut self, now: Time) {
        let period = NodeConfig::micros(self.cfg.heartbeat);
        let offset = self.random() % period.max(1);
        let at = now.saturating_add(period / 2).saturating_add(offset / 2);
        self.heartbeat_at = Some(at);
        self.timers.arm(at, Timer::Heartbeat);
        let rt = NodeConfig::micros(self.cfg.row_maintenance);
        let offset = self.random() % rt.max(1);
        let at = now.saturating_add(rt / 2).saturating_add(offset / 2);
        self.row_maintenance_at = Some(at);
        self.timers.arm(at, Timer::RowMaintenance);
    }

    /// The paper's second stage: rows from the table's entries, neighborhood sets and shared
    /// rows from the neighborhood members.
    fn start_second_stage(&mut self, now: Time) {
        self.join.second_stage_started = true;
        let own = self.state.id();
        let b = self.cfg.routing.digit_width();
        let rows: Vec<(NodeRef<H, W>, Row)> = self
            .state
            .table()
            .iter()
            .map(|(r, _, e)| (e.node, r))
            .collect();
        let hood: Vec<NodeRef<H, W>> = self
            .state
            .neighborhood()
            .entries()
            .iter()
            .map(|e| e.node)
            .collect();
        let mut sent = 0;
        for (n, r) in rows {
            if self.request(now, n, Asked::Row(r, true)) {
                sent += 1;
            }
        }
        let last = b.digits::<W>().saturating_sub(1);
        for n in hood {
            if self.request(now, n, Asked::Neighborhood(true)) {
                sent += 1;
            }
            let shared = arith::shl_len(n.id, own, b).min(last);
            for r in 0..=shared {
                #[allow(clippy::cast_possible_truncation)] // rows < 128
                let row = Row(r as u8);
                if row.index() < self.state.table().row_count()
                    && self.request(now, n, Asked::Row(row, true))
                {
                    sent += 1;
                }
            }
        }
        self.join.second_stage = sent;
    }

    /// Starts the second stage once the join's candidates are merged; after it, the last step:
    /// the state to every node of it not told yet.
    pub(super) fn check_second_stage(&mut self, now: Time) {
        if self.phase == Phase::Active
            && self.activated
            && !self.join.second_stage_started
            && !self.join.announced
            && !self.join_merge_pending()
        {
            self.start_second_stage(now);
        }
        if self.phase != Phase::Active
            || !self.join.second_stage_started
            || self.join.announced
            || self.join.second_stage > 0
        {
            return;
        }
        self.join.announced = true;
        let told = core::mem::take(&mut self.join.told);
        let members: Vec<NodeRef<H, W>> = self
            .state
            .members()
            .filter(|n| !told.contains(&n.id))
            .copied()
            .collect();
        for m in members {
            self.send_new(m.handle, Body::StateAnnounce(self.state.clone()));
        }
    }

    // -----------------------------------------------------------------------------------------
    // The root's reservations
    // -----------------------------------------------------------------------------------------

    /// The root answers a join request that ends here: one joining node at a time per side.
    pub(super) fn answer_join(&mut self, now: Time, routed: Routed<JoinGather<H, W>, H, W>) {
        let joiner = routed.origin;
        let own = self.state.id();
        if joiner.id == own {
            self.counters.dropped.invalid += 1;
            return;
        }
        let successor = arith::cw(&own, &joiner.id) < arith::cw(&joiner.id, &own);
        let grant = if successor {
            self.grant_successor
        } else {
            self.grant_predecessor
        };
        let rule = self.cfg.planted != Some(crate::config::PlantedBug::NoJoinGrant);
        if let Some((holder, until)) = grant {
            if rule && holder != joiner.id && until > now {
                self.send(joiner, routed.seq, Body::JoinBusy);
                return;
            }
            self.timers.disarm(until, Timer::Grant(successor));
        }
        let until = now.saturating_add(NodeConfig::micros(self.cfg.join_grant));
        if successor {
            self.grant_successor = Some((joiner.id, until));
        } else {
            self.grant_predecessor = Some((joiner.id, until));
        }
        self.timers.arm(until, Timer::Grant(successor));
        let reply = JoinReply {
            gather: routed.body,
            leaf_set: self.state.leaf_set().clone(),
        };
        self.send(joiner, routed.seq, Body::JoinReply(reply));
    }

    /// Ends the reservation held by `id`, if any.
    pub(super) fn release_grant(&mut self, _now: Time, id: W) {
        if let Some((holder, until)) = self.grant_successor {
            if holder == id {
                self.timers.disarm(until, Timer::Grant(true));
                self.grant_successor = None;
            }
        }
        if let Some((holder, until)) = self.grant_predecessor {
            if holder == id {
                self.timers.disarm(until, Timer::Grant(false));
                self.grant_predecessor = None;
            }
        }
    }

    /// A reservation expired.
    pub(super) fn on_grant_timeout(&mut self, _now: Time, successor: bool, at: Time) {
        let slot = if successor {
            &mut self.grant_successor
        } else {
            &mut self.grant_predecessor
        };
        if slot.is_some_and(|(_, until)| until == at) {
            *slot = None;
        }
    }

    /// Adds this hop's part to a join request: itself, its rows, and (as the contact) its
    /// neighborhood set.
    pub(super) fn add_join_part(&self, gather: &mut JoinGather<H, W>, joiner: W) {
        let own = *self.state.own();
        if gather.route.iter().any(|n| n.id == own.id) {
            return;
        }
        if gather.route.is_empty() {
            gather.neighborhood = Some(self.state.neighborhood().clone());
        }
        if gather.route.len() >= crate::codec::MAX_ROUTE {
            return;
        }
        gather.route.push(own);
        let rows = self.state.join_rows(joiner, usize::from(gather.next_row));
        let table = self.state.table();
        for r in rows.clone() {
            if r < table.row_count() {
                #[allow(clippy::cast_possible_truncation)] // rows < 128
                let row = Row(r as u8);
                if table.row(row).next().is_some() {
                    gather.rows.push((row, table.only_row(row)));
                }
            }
        }
        gather.next_row = u8::try_from(rows.end).unwrap_or(u8::MAX);
    }
}
