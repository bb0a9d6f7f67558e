//! Keeping the state true: probes, heartbeats and suspicion, failure handling and repair,
//! merges of other nodes' parts with probes, and row maintenance.
//!
//! * **Probes.** A node probes another with a `Ping` (or a `LeafProbe` when the answer's leaf
//!   set matters or the other node should add this one) and retries with a doubling timeout
//!   from `T_o`; after [`NodeConfig::probe_attempts`] silent attempts the probed node is found
//!   faulty. Any message from a probed node counts as its answer.
//! * **Heartbeats** (every `T_ls`) go to both immediate leaf-set neighbours with the leaf set;
//!   an immediate neighbour silent for `T_ls + T_o` is suspected and probed.
//! * **Failure.** A node found faulty is forgotten (the kernel reports the holes), added to the
//!   recently-failed list that leaf-set messages carry, and the leaf set is told at once (a
//!   heartbeat to every member: MSPastry's fast propagation). Repair runs in the order the
//!   protocol asks: the leaf set first (the live farthest member of the side, then the next
//!   hint, for its leaf set, merged by the kernel's repair rule), then the table slot (a row
//!   from the slot's row, then the row below), then the neighborhood set. A node reported
//!   failed by someone else is probed, never removed on hearsay. Routed messages waiting for
//!   the failed node's ack are re-routed at once. A node that was not in the state (named by
//!   a merge, say) and fails its probes goes on the recently-failed list too, so that the
//!   next merge naming it does not probe it again: stale routing-table entries elsewhere can
//!   name a dead node over and over, and a joining node waiting on those merges would never
//!   turn active.
//! * **Merges with probes.** Another node's leaf set, row, neighborhood set or state is not
//!   merged at once: the nodes the state would take are probed first, and the kernel's merge
//!   runs when they have answered (or not), with the measured figures — never with a node that
//!   did not answer.
//! * **Row maintenance** (every `T_rt`): each row's random entry is asked for its row
//!   (FreePastry's route-set maintenance).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{
    Forgotten, LeafSet, NeighborhoodSet, NodeRef, NodeState, RepairHint, RingWord, RoutingTable,
    Row, Side,
};

use super::{Asked, Estimator, Merge, Node, Phase, Probing, Request, Source, Timer, UNMEASURED};
use crate::config::{NodeConfig, Time};
use crate::event::Event;
use crate::message::{Body, LeafInfo};

impl<H, W, E> Node<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    // -----------------------------------------------------------------------------------------
    // Probes
    // -----------------------------------------------------------------------------------------

    /// Probes `node` (a `LeafProbe` if `leaf`, else a `Ping`) unless it is already being
    /// probed, and sets the reasons with `why`. A probe already running as a `Ping` when a
    /// `LeafProbe` is wanted is sent again as one. Returns whether the node is being probed.
    pub(super) fn probe(
        &mut self,
        now: Time,
        node: NodeRef<H, W>,
        leaf: bool,
        why: impl FnOnce(&mut Probing<H, W>),
    ) -> bool {
        if node.id == self.state.id() {
            return false;
        }
        if let Some(p) = self.probing.get_mut(&node.id) {
            why(p);
            if leaf && !p.leaf {
                p.leaf = true;
                let attempt = p.attempt;
                self.send_probe_attempt(now, node.id, attempt);
            }
            return true;
        }
        if self.requests.len() >= self.cfg.max_requests {
            self.counters.dropped.requests += 1;
            return false;
        }
        let mut p = Probing {
            node,
            attempt: 0,
            request: 0,
            leaf,
            liveness: false,
            join: false,
            repair: false,
            measure: false,
            merges: Vec::new(),
        };
        why(&mut p);
        self.probing.insert(node.id, p);
        self.send_probe_attempt(now, node.id, 1);
        true
    }

    /// Sends attempt `attempt` of the probe of `id`, replacing the request of any earlier one.
    fn send_probe_attempt(&mut self, now: Time, id: W, attempt: u8) {
        let Some(p) = self.probing.get(&id) else {
            return;
        };
        let (node, leaf, old) = (p.node, p.leaf, p.request);
        if let Some(r) = self.requests.remove(&old) {
            self.timers.disarm(r.deadline, Timer::Request(old));
        }
        let body = if leaf {
            Body::LeafProbe(self.leaf_info())
        } else {
            Body::Ping
        };
        let request = self.send_new(node.handle, body);
        let base = NodeConfig::micros(self.cfg.probe_timeout);
        let timeout = base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let deadline = now.saturating_add(timeout);
        self.requests.insert(
            request,
            Request {
                to: node,
                sent_at: now,
                deadline,
                asked: Asked::Probe,
            },
        );
        self.timers.arm(deadline, Timer::Request(request));
        self.counters.probes += 1;
        if let Some(p) = self.probing.get_mut(&id) {
            p.attempt = attempt;
            p.request = request;
        }
    }

    /// What this node tells others about its leaf set.
    pub(super) fn leaf_info(&self) -> LeafInfo<H, W> {
        let mut failed: Vec<W> = self.failed.iter().map(|(id, _)| *id).collect();
        failed.sort_unstable();
        failed.dedup();
        LeafInfo {
            leaf_set: self.state.leaf_set().clone(),
            active: self.phase == Phase::Active,
            failed,
        }
    }

    /// An outstanding request timed out.
    pub(super) fn on_request_timeout(&mut self, now: Time, id: u64, at: Time) {
        let Some(r) = self.requests.get(&id) else {
            return;
        };
        if r.deadline != at {
            return;
        }
        let Some(r) = self.requests.remove(&id) else {
            return;
        };
        match r.asked {
            Asked::Probe => {
                let Some(p) = self.probing.get(&r.to.id) else {
                    return;
                };
                if p.request != id {
                    return;
                }
                if p.attempt >= self.cfg.probe_attempts {
                    self.probe_failed(now, r.to.id);
                } else {
                    let next = p.attempt + 1;
                    self.send_probe_attempt(now, r.to.id, next);
                }
            }
            Asked::Row(_, second) | Asked::Neighborhood(second) => {
                if second {
                    self.join.second_stage = self.join.second_stage.saturating_sub(1);
                }
                // The asked node did not answer: suspect it.
                if self.state.knows(r.to.id) {
                    self.suspect(now, r.to);
                }
            }
        }
    }

    /// Starts a liveness probe of a node of the state.
    pub(super) fn suspect(&mut self, now: Time, node: NodeRef<H, W>) {
        let already = self.probing.get(&node.id).is_some_and(|p| p.liveness);
        if !already {
            self.counters.suspicions += 1;
        }
        self.probe(now, node, false, |p| p.liveness = true);
    }

    /// The probe of `id` ended without an answer.
    fn probe_failed(&mut self, now: Time, id: W) {
        let Some(p) = self.probing.remove(&id) else {
            return;
        };
        self.join.seen.remove(&id);
        self.join.acked.remove(&id);
        for m in &p.merges {
            self.resolve_merge(now, *m, id, false);
        }
        if p.liveness || self.state.knows(id) {
            self.declare_failed(now, p.node);
        } else {
            // Not in the state: nothing to forget, but a node that does not answer is not
            // probed again for every merge that names it (a stale routing-table entry at
            // some other node can name it over and over; a joining node waiting on such
            // merges would never turn active). Others hear of it in the leaf-set messages.
            self.remember_failed(now, id);
            self.peers.remove(id);
            if p.repair {
                // Not a member any more (or never was): ask the next one.
                self.repair_holes(now);
            }
        }
        // Messages waiting for this node's ack go another way now, not at their hop timers
        // (which double for a suspected root and could hold a message for seconds more).
        self.reroute_in_flight_to(now, id);
    }

    /// The probe of `id` was answered (by any message from it); `rtt` when this was the
    /// answer to the probe's own request.
    pub(super) fn probe_answered(&mut self, now: Time, id: W, rtt: Option<Time>) {
        let Some(p) = self.probing.remove(&id) else {
            return;
        };
        if let Some(r) = self.requests.remove(&p.request) {
            self.timers.disarm(r.deadline, Timer::Request(p.request));
        }
        if let Some(rtt) = rtt {
            self.sample(id, rtt);
        }
        for m in &p.merges {
            self.resolve_merge(now, *m, id, true);
        }
        if p.measure && rtt.is_some() && self.state.knows(id) {
            let figure = self.figure(&p.node);
            let _ = self.state.learn(p.node, figure);
        }
    }

    /// A `Pong`: the answer to a probe.
    pub(super) fn on_pong(&mut self, now: Time, sender: NodeRef<H, W>, id: u64) {
        match self.requests.get(&id) {
            Some(r) if r.asked == Asked::Probe && r.to.id == sender.id => {
                let rtt = now.saturating_sub(r.sent_at);
                self.probe_answered(now, sender.id, Some(rtt));
            }
            _ => self.counters.dropped.unexpected += 1,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Leaf-set messages
    // -----------------------------------------------------------------------------------------

    /// What every leaf-set message says besides its leaf set: whether the sender is active
    /// (which ends the root's reservation for it) and whom it found faulty (probed here).
    fn absorb_leaf_info(&mut self, now: Time, sender: NodeRef<H, W>, info: &LeafInfo<H, W>) {
        if info.active {
            self.mark_active(now, sender.id);
        }
        for f in &info.failed {
            if *f == self.state.id() {
                continue;
            }
            let known = self.state.members().find(|n| n.id == *f).copied();
            if let Some(n) = known {
                self.suspect(now, n);
            }
        }
    }

    /// `id` said it is active: the reservation it held at this root ends, the nodes it pushed
    /// out need no longer be named to it, and a joining node that took it for joining when it
    /// answered its probe must hear from it again.
    fn mark_active(&mut self, now: Time, id: W) {
        self.release_grant(now, id);
        self.displaced.remove(&id);
        if self.join.acked.get(&id) == Some(&false) {
            self.join.acked.remove(&id);
        }
    }

    /// `LeafProbe`: add the sender if it belongs, answer with the leaf set (naming the nodes the
    /// sender pushed out while it joins), merge the sender's.
    pub(super) fn on_leaf_probe(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        info: LeafInfo<H, W>,
    ) {
        let before: Vec<NodeRef<H, W>> = self.state.leaf_set().iter().copied().collect();
        self.learn_live(now, sender);
        self.absorb_leaf_info(now, sender, &info);
        if !info.active {
            self.note_displaced(sender.id, &before);
        }
        let reply = Body::LeafProbeReply(self.leaf_view(sender.id));
        self.send(sender, id, reply);
        self.plan_merge(now, Source::Leaf(sender, info.leaf_set));
    }

    /// Records, under `joiner` (a joining node that just entered the leaf set), the members of
    /// `before` it pushed out (those no longer in the leaf set and not failed), at most L.
    fn note_displaced(&mut self, joiner: W, before: &[NodeRef<H, W>]) {
        let leaf = self.state.leaf_set();
        if !leaf.contains(joiner) {
            return;
        }
        let pushed: Vec<NodeRef<H, W>> = before
            .iter()
            .filter(|n| !leaf.contains(n.id) && !self.is_failed(n.id))
            .copied()
            .collect();
        if pushed.is_empty() {
            return;
        }
        let cap = self.cfg.routing.leaf_set_len();
        let list = self.displaced.entry(joiner).or_default();
        for n in pushed {
            if list.len() < cap && !list.iter().any(|m| m.id == n.id) {
                list.push(n);
            }
        }
    }

    /// Forgets the records of nodes no longer in the leaf set, and recorded nodes back in it or
    /// failed.
    pub(super) fn prune_displaced(&mut self) {
        let Node {
            displaced,
            state,
            failed,
            ..
        } = self;
        let leaf = state.leaf_set();
        displaced.retain(|x, list| {
            list.retain(|n| !leaf.contains(n.id) && !Self::in_failed(failed, n.id));
            leaf.contains(*x) && !list.is_empty()
        });
    }

    /// What this node tells `to`, answering its probe: the leaf-set information, where the
    /// leaf set also names, in place of `to`, the nodes that joining members pushed out
    /// (a joining node must learn of them before it turns active: two nodes joining into one
    /// gap that push each other out at its two ends otherwise never learn of each other, and
    /// both deliver the keys between them — found by model checking, with L = 2).
    fn leaf_view(&self, to: W) -> LeafInfo<H, W> {
        let mut info = self.leaf_info();
        if self.displaced.is_empty() {
            return info;
        }
        let own = self.state.id();
        let mut view = LeafSet::new(own, self.state.config());
        for n in self
            .state
            .leaf_set()
            .iter()
            .chain(self.displaced.values().flatten())
        {
            if n.id != to && !self.is_failed(n.id) {
                let _ = view.insert(*n);
            }
        }
        info.leaf_set = view;
        info
    }

    /// `LeafProbeReply`: the answer to a probe (a joining node's, a repair's, a suspicion's).
    pub(super) fn on_leaf_probe_reply(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        info: LeafInfo<H, W>,
    ) {
        match self.requests.get(&id) {
            Some(r) if r.asked == Asked::Probe && r.to.id == sender.id => {
                let rtt = now.saturating_sub(r.sent_at);
                self.probe_answered(now, sender.id, Some(rtt));
            }
            _ => {
                self.counters.dropped.unexpected += 1;
                return;
            }
        }
        if self.phase == Phase::Probing {
            self.join.acked.insert(sender.id, info.active);
            self.saw(info.leaf_set.iter().copied());
        }
        self.learn_live(now, sender);
        self.absorb_leaf_info(now, sender, &info);
        self.plan_merge(now, Source::Leaf(sender, info.leaf_set));
    }

    /// `Heartbeat`: a neighbour is alive; merge its leaf set.
    pub(super) fn on_heartbeat(&mut self, now: Time, sender: NodeRef<H, W>, info: LeafInfo<H, W>) {
        self.absorb_leaf_info(now, sender, &info);
        if self.phase == Phase::Joining {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        self.learn_live(now, sender);
        self.plan_merge(now, Source::Leaf(sender, info.leaf_set));
    }

    /// `Leave`: forget the sender at once (it said so itself) and repair from its leaf set.
    pub(super) fn on_leave(&mut self, now: Time, sender: NodeRef<H, W>, leaf: LeafSet<H, W>) {
        self.remember_failed(now, sender.id);
        self.peers.remove(sender.id);
        self.reroute_in_flight_to(now, sender.id);
        if let Some(p) = self.probing.remove(&sender.id) {
            if let Some(r) = self.requests.remove(&p.request) {
                self.timers.disarm(r.deadline, Timer::Request(p.request));
            }
            for m in &p.merges {
                self.resolve_merge(now, *m, sender.id, false);
            }
        }
        if let Ok(gone) = self.state.forget(sender.id) {
            self.release_grant(now, sender.id);
            self.repair(now, &gone);
        }
        self.plan_merge(now, Source::Leaf(sender, leaf));
    }

    /// The heartbeat timer: heartbeats, suspicion of silent neighbours, repair of holes.
    pub(super) fn on_heartbeat_timer(&mut self, now: Time) {
        self.heartbeat_at = None;
        if self.phase != Phase::Active {
            return;
        }
        let period = NodeConfig::micros(self.cfg.heartbeat);
        let silence = period.saturating_add(NodeConfig::micros(self.cfg.probe_timeout));
        let leaf = self.state.leaf_set();
        let mut neighbours: Vec<NodeRef<H, W>> = leaf
            .successors()
            .first()
            .into_iter()
            .chain(leaf.predecessors().first())
            .copied()
            .collect();
        neighbours.dedup_by_key(|n| n.id);
        let info = self.leaf_info();
        for n in &neighbours {
            self.send_new(n.handle, Body::Heartbeat(info.clone()));
            let heard = self.peers.get(n.id).and_then(|p| p.last_heard);
            let quiet_since = heard.unwrap_or(self.join.started);
            if now.saturating_sub(quiet_since) > silence {
                let already = self.probing.get(&n.id).is_some_and(|p| p.liveness);
                if !already {
                    self.counters.suspicions += 1;
                }
                // A LeafProbe, so the answer also shows whom the neighbour has nearer.
                self.probe(now, *n, true, |p| p.liveness = true);
            }
        }
        self.repair_holes(now);
        // Once the peer table is past its cap, forget peers that are neither in the state nor
        // heard from lately.
        if self.peers.over(self.cfg.max_peers) {
            let (state, probing) = (&self.state, &self.probing);
            self.peers.prune(now.saturating_sub(2 * period), |id| {
                Self::protected(state, probing, id)
            });
        }
        let at = now.saturating_add(period);
        self.heartbeat_at = Some(at);
        self.timers.arm(at, Timer::Heartbeat);
    }

    // -----------------------------------------------------------------------------------------
    // Failure and repair
    // -----------------------------------------------------------------------------------------

    /// Adds `id` to the recently-failed list (bounded: the oldest goes first).
    fn remember_failed(&mut self, now: Time, id: W) {
        self.failed.retain(|(f, _)| *f != id);
        if self.failed.len() >= self.cfg.max_failed {
            self.failed.pop_front();
        }
        self.failed.push_back((id, now));
    }

    /// `node` did not answer its probes: forget it, tell the leaf set, repair.
    pub(super) fn declare_failed(&mut self, now: Time, node: NodeRef<H, W>) {
        self.counters.failures += 1;
        self.remember_failed(now, node.id);
        self.peers.remove(node.id);
        self.release_grant(now, node.id);
        let Ok(gone) = self.state.forget(node.id) else {
            return;
        };
        if !gone.was_known() {
            return;
        }
        self.emit(Event::Failed { node });
        if gone.leaf_set.any() && self.phase == Phase::Active {
            // Tell the leaf set at once; each member probes the node itself.
            let info = self.leaf_info();
            let members: Vec<NodeRef<H, W>> = self.state.leaf_set().iter().copied().collect();
            for m in members {
                self.send_new(m.handle, Body::Heartbeat(info.clone()));
            }
        }
        self.repair(now, &gone);
    }

    /// Repairs the holes `gone` left: leaf set first, then the table slot, then the
    /// neighborhood set.
    pub(super) fn repair(&mut self, now: Time, gone: &Forgotten<H, W>) {
        self.repair_holes(now);
        let mut row_asked = false;
        let mut hood_asked = false;
        let hints: Vec<RepairHint<H, W>> = self.state.repair_hints(gone).collect();
        for hint in hints {
            match hint {
                RepairHint::LeafSet { .. } => {}
                RepairHint::Row { ask, row, .. } if !row_asked && self.usable(ask.id) => {
                    row_asked = self.request(now, ask, Asked::Row(row, false));
                }
                RepairHint::Neighborhood { ask } if !hood_asked && self.usable(ask.id) => {
                    hood_asked = self.request(now, ask, Asked::Neighborhood(false));
                }
                _ => {}
            }
        }
    }

    /// Whether `id` may be asked: not failed recently and not suspected.
    fn usable(&self, id: W) -> bool {
        !self.is_failed(id) && !self.probing.get(&id).is_some_and(|p| p.liveness)
    }

    /// Asks for the leaf set of the first usable hint of each side with a hole, unless a
    /// repair probe is already out.
    pub(super) fn repair_holes(&mut self, now: Time) {
        if self.phase != Phase::Active || self.probing.values().any(|p| p.repair) {
            return;
        }
        let holes = self.state.leaf_set().holes();
        for (hole, side) in [
            (holes.successor, Side::Successor),
            (holes.predecessor, Side::Predecessor),
        ] {
            if !hole {
                continue;
            }
            let ask = self
                .state
                .leaf_repair_hints(side)
                .map(|h| h.ask())
                .find(|n| self.usable(n.id));
            if let Some(n) = ask {
                self.probe(now, n, true, |p| p.repair = true);
                return;
            }
        }
    }

    /// Sends a row or neighborhood request; returns whether it went out.
    pub(super) fn request(&mut self, now: Time, to: NodeRef<H, W>, asked: Asked) -> bool {
        if self.requests.len() >= self.cfg.max_requests {
            self.counters.dropped.requests += 1;
            return false;
        }
        let body = match asked {
            Asked::Row(row, _) => Body::RowRequest(row),
            Asked::Neighborhood(_) => Body::NeighborhoodRequest,
            Asked::Probe => return false,
        };
        let id = self.send_new(to.handle, body);
        let deadline = now.saturating_add(self.rto(&to).saturating_mul(2));
        self.requests.insert(
            id,
            Request {
                to,
                sent_at: now,
                deadline,
                asked,
            },
        );
        self.timers.arm(deadline, Timer::Request(id));
        true
    }

    // -----------------------------------------------------------------------------------------
    // Rows and neighborhood sets
    // -----------------------------------------------------------------------------------------

    /// `RowRequest`: answer with the row (a row past the last has no answer).
    pub(super) fn on_row_request(&mut self, _now: Time, sender: NodeRef<H, W>, id: u64, row: Row) {
        if self.phase != Phase::Active {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        let table = self.state.table();
        if row.index() >= table.row_count() {
            self.counters.dropped.invalid += 1;
            return;
        }
        let only = table.only_row(row);
        self.send(sender, id, Body::RowReply(row, only));
    }

    /// `RowReply`: merge the row with probes.
    pub(super) fn on_row_reply(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        row: Row,
        table: RoutingTable<H, W>,
    ) {
        let Some(second) = self.take_reply(now, sender, id, |a| match a {
            Asked::Row(r, second) if r == row => Some(second),
            _ => None,
        }) else {
            return;
        };
        if second {
            self.join.second_stage = self.join.second_stage.saturating_sub(1);
        }
        self.plan_merge(now, Source::Row(sender, row, table));
    }

    /// `NeighborhoodRequest`: answer with the neighborhood set.
    pub(super) fn on_neighborhood_request(&mut self, _now: Time, sender: NodeRef<H, W>, id: u64) {
        if self.phase != Phase::Active {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        let set = self.state.neighborhood().clone();
        self.send(sender, id, Body::NeighborhoodReply(set));
    }

    /// `NeighborhoodReply`: merge the set with probes.
    pub(super) fn on_neighborhood_reply(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        set: NeighborhoodSet<H, W>,
    ) {
        let Some(second) = self.take_reply(now, sender, id, |a| match a {
            Asked::Neighborhood(second) => Some(second),
            _ => None,
        }) else {
            return;
        };
        if second {
            self.join.second_stage = self.join.second_stage.saturating_sub(1);
        }
        self.plan_merge(now, Source::Neighborhood(sender, set));
    }

    /// Removes the outstanding request `id` if `sender` was asked and `matches` its kind;
    /// records the round trip. `None` (counted as unexpected) otherwise.
    fn take_reply<T>(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        matches: impl Fn(Asked) -> Option<T>,
    ) -> Option<T> {
        let found = self
            .requests
            .get(&id)
            .filter(|r| r.to.id == sender.id)
            .and_then(|r| matches(r.asked).map(|t| (t, r.deadline, r.sent_at)));
        let Some((t, deadline, sent_at)) = found else {
            self.counters.dropped.unexpected += 1;
            return None;
        };
        self.requests.remove(&id);
        self.timers.disarm(deadline, Timer::Request(id));
        self.sample(sender.id, now.saturating_sub(sent_at));
        Some(t)
    }

    /// `StateAnnounce`: a new, active node; merge its state with probes.
    pub(super) fn on_state_announce(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        state: NodeState<H, W>,
    ) {
        if state.config() != self.state.config() {
            self.counters.dropped.invalid += 1;
            return;
        }
        self.mark_active(now, sender.id);
        if self.phase == Phase::Joining {
            self.counters.dropped.out_of_phase += 1;
            return;
        }
        self.learn_live(now, sender);
        self.plan_merge(now, Source::State(state));
    }

    /// The row-maintenance timer: one random entry of each row is asked for its row.
    pub(super) fn on_row_maintenance_timer(&mut self, now: Time) {
        self.row_maintenance_at = None;
        if self.phase != Phase::Active {
            return;
        }
        let rows = self.state.table().row_count();
        for r in 0..rows {
            #[allow(clippy::cast_possible_truncation)] // rows <= 128
            let row = Row(r as u8);
            let count = self.state.table().row(row).count();
            if count == 0 {
                continue;
            }
            let pick = usize::try_from(self.random() % count as u64).unwrap_or(0);
            let ask = self.state.table().row(row).nth(pick).map(|(_, e)| e.node);
            if let Some(ask) = ask {
                if self.usable(ask.id) {
                    self.request(now, ask, Asked::Row(row, false));
                }
            }
        }
        let at = now.saturating_add(NodeConfig::micros(self.cfg.row_maintenance));
        self.row_maintenance_at = Some(at);
        self.timers.arm(at, Timer::RowMaintenance);
    }

    // -----------------------------------------------------------------------------------------
    // Merges with probes
    // -----------------------------------------------------------------------------------------

    /// Whether `node` answered lately (within two heartbeat periods) and is not failed.
    fn fresh(&self, now: Time, id: W) -> bool {
        let window = 2 * NodeConfig::micros(self.cfg.heartbeat);
        !self.is_failed(id)
            && self
                .peers
                .get(id)
                .and_then(|p| p.last_heard)
                .is_some_and(|t| now.saturating_sub(t) <= window)
    }

    /// The candidates a source offers, the sender first.
    fn candidates(&self, source: &Source<H, W>) -> Vec<NodeRef<H, W>> {
        let mut out: Vec<NodeRef<H, W>> = Vec::new();
        match source {
            Source::Join(reply) => {
                let g = &reply.gather;
                out.extend(g.route.iter().copied());
                for (row, t) in &g.rows {
                    out.extend(t.row(*row).map(|(_, e)| e.node));
                }
                out.extend(reply.leaf_set.iter().copied());
                if let Some(m) = &g.neighborhood {
                    out.extend(m.entries().iter().map(|e| e.node));
                }
            }
            Source::Leaf(from, leaf) => {
                out.push(*from);
                out.extend(leaf.iter().copied());
            }
            Source::Row(from, row, t) => {
                out.push(*from);
                out.extend(t.row(*row).map(|(_, e)| e.node));
            }
            Source::Neighborhood(from, set) => {
                out.push(*from);
                out.extend(set.entries().iter().map(|e| e.node));
            }
            Source::State(s) => {
                out.push(*s.own());
                out.extend(s.members().copied());
            }
        }
        let own = self.state.id();
        out.retain(|n| n.id != own);
        out
    }

    /// Whether merging `source` would bring `id` into the leaf set by the kernel's repair rule
    /// although a plain insert would not: a leaf set from another node may extend a side that
    /// has a hole, which an insert may not. Computed on a copy of the state, once per merge
    /// (`cache`), and only for a leaf set merged into a side with a hole; nodes found faulty
    /// lately are left out, as the merge leaves them out.
    fn repair_newcomer(&self, source: &Source<H, W>, id: W, cache: &mut Option<Vec<W>>) -> bool {
        let Source::Leaf(from, leaf) = source else {
            return false;
        };
        if !self.state.leaf_set().holes().any() {
            return false;
        }
        let newcomers = cache.get_or_insert_with(|| {
            let mut scratch = self.state.clone();
            // Never a node found faulty lately: the merge itself does not take those.
            let _ =
                scratch.repair_leaf_set(from, leaf, |n| (!self.is_failed(n.id)).then_some(0u32));
            scratch
                .leaf_set()
                .iter()
                .filter(|n| !self.state.leaf_set().contains(n.id))
                .map(|n| n.id)
                .collect()
        });
        newcomers.contains(&id)
    }

    /// Starts a merge: probes the candidates the state would take that have not answered
    /// lately, and merges at once when there are none.
    pub(super) fn plan_merge(&mut self, now: Time, source: Source<H, W>) {
        if self.phase == Phase::Probing
            && !matches!(source, Source::Join(_))
            && self.join.deferred.len() < self.cfg.max_merges
            && self.join_leaf_merge_pending()
        {
            // A joining node's state is empty until its would-be leaf set is merged: planned
            // now, every node the source names would look like a leaf-set member and get a
            // `LeafProbe`. Planned once that merge has run (`resolve_merge`).
            self.join.deferred.push(source);
            return;
        }
        let candidates = self.candidates(&source);
        // The leaf-set members a merge would add. For a leaf set, by the kernel's repair rule
        // on a copy (it may extend a side with a hole, which a plain insert may not). Without
        // a hole the rule adds no node that `admits` refuses, and the copy is not needed; with
        // one it is made at the first candidate that needs it.
        let mut leaf_newcomers: Option<Vec<W>> = None;
        // The nodes that may be offered without a probe (`ok`: known to the state, or heard
        // from lately), and those to probe first (`wanted`); never one recently found faulty.
        // A candidate that the state refuses at the host's estimate is neither, and is not
        // looked up in the peer table: at figures no merge changes, nothing a merge adds makes
        // the state take a node it refused before, so offering it would change nothing.
        let mut ok: BTreeSet<W> = BTreeSet::new();
        let mut wanted: Vec<(NodeRef<H, W>, bool)> = Vec::new();
        for c in &candidates {
            if ok.contains(&c.id)
                || self.is_failed(c.id)
                || wanted.iter().any(|(n, _)| n.id == c.id)
            {
                continue;
            }
            if self.state.knows(c.id) {
                ok.insert(c.id);
                continue;
            }
            let estimate = self.estimator.estimate(&c.handle);
            let admitted = self.state.admits(c.id, estimate.unwrap_or(0));
            let leaf =
                admitted.leaf_set || self.repair_newcomer(&source, c.id, &mut leaf_newcomers);
            let taken = leaf || admitted.any();
            if !taken && estimate.is_some() {
                continue;
            }
            if self.fresh(now, c.id) {
                ok.insert(c.id);
            } else if taken {
                wanted.push((*c, leaf));
            }
        }
        if wanted.is_empty() {
            self.apply_merge(source, &ok, &BTreeSet::new());
            return;
        }
        if self.merges.len() >= self.cfg.max_merges {
            self.counters.dropped.merges += 1;
            return;
        }
        let mid = self.fresh_id();
        let mut waiting = BTreeSet::new();
        let mut gates = false;
        for (n, leaf) in wanted {
            if self.probe(now, n, leaf, |p| p.merges.push(mid)) {
                waiting.insert(n.id);
                gates |= leaf;
            }
        }
        if waiting.is_empty() {
            // Every probe was refused (the request table is full): merge what is known.
            for p in self.probing.values_mut() {
                p.merges.retain(|m| *m != mid);
            }
            self.apply_merge(source, &ok, &BTreeSet::new());
            return;
        }
        self.merges.insert(
            mid,
            Merge {
                source,
                waiting,
                alive: BTreeSet::new(),
                known: ok,
                dead: BTreeSet::new(),
                leaf: gates,
            },
        );
    }

    /// A node a merge waits for answered (or not); the merge runs when none is left.
    ///
    /// The nodes that needed no probe when the merge was planned (known, or heard from lately)
    /// are taken only if they still are: in the meantime one may have been found faulty and
    /// forgotten, and its entry in the recently-failed list may even have expired — offering
    /// it again would bring a dead node back.
    fn resolve_merge(&mut self, now: Time, mid: u64, id: W, alive: bool) {
        let Some(m) = self.merges.get_mut(&mid) else {
            return;
        };
        m.waiting.remove(&id);
        if alive {
            m.alive.insert(id);
        } else {
            m.dead.insert(id);
        }
        if !m.waiting.is_empty() {
            return;
        }
        let join = matches!(m.source, Source::Join(_));
        let leaf_join = join && m.leaf;
        if join && !leaf_join && self.join_leaf_merge_pending() {
            // Parked: a joining node's table candidates are merged after its would-be leaf
            // set. Merged first, into the empty state, every one of them would enter the leaf
            // set and get a `LeafProbe` (see `leaf_probe_entrants`).
            return;
        }
        self.run_merge(now, mid);
        if leaf_join {
            // What came meanwhile: the answers' leaf sets, then the table candidates (each
            // checked against the fullest leaf set).
            for source in core::mem::take(&mut self.join.deferred) {
                self.plan_merge(now, source);
            }
            let parked: Vec<u64> = self
                .merges
                .iter()
                .filter(|(_, m)| m.waiting.is_empty())
                .map(|(mid, _)| *mid)
                .collect();
            for mid in parked {
                self.run_merge(now, mid);
            }
        }
    }

    /// Whether the merge of a joining node's would-be leaf set still waits for probes.
    fn join_leaf_merge_pending(&self) -> bool {
        self.merges
            .values()
            .any(|m| m.leaf && matches!(m.source, Source::Join(_)))
    }

    /// Runs merge `mid`, whose probes have all ended.
    fn run_merge(&mut self, now: Time, mid: u64) {
        if let Some(mut m) = self.merges.remove(&mid) {
            let still: Vec<W> = m
                .known
                .iter()
                .filter(|x| self.state.knows(**x) || self.fresh(now, **x))
                .copied()
                .collect();
            m.alive.extend(still);
            if !m.leaf {
                self.leaf_probe_entrants(now, &m.source, &mut m.alive);
            }
            self.apply_merge(m.source, &m.alive, &m.dead);
        }
    }

    /// Before a merge that did not probe for the leaf set runs (the join's table and
    /// neighborhood candidates, merged after the would-be leaf set): a candidate that would now
    /// enter the leaf set (it answered a `Ping`, and the leaf set changed since the merge was
    /// planned) is not taken from it. It gets a `LeafProbe` instead, adds this node before it
    /// answers, and enters through the answer, as every leaf-set member does; taken on a
    /// `Ping`, it could be this node's nearest neighbour without knowing this node, and deliver
    /// keys that are this node's.
    fn leaf_probe_entrants(&mut self, now: Time, source: &Source<H, W>, alive: &mut BTreeSet<W>) {
        let joining = self.phase == Phase::Probing;
        let mut newcomers: Option<Vec<W>> = None;
        for c in self.candidates(source) {
            if !alive.contains(&c.id) || self.state.knows(c.id) {
                continue;
            }
            let figure = Self::figure_of(&self.estimator, &self.peers, &c);
            if self.state.admits(c.id, figure).leaf_set
                || self.repair_newcomer(source, c.id, &mut newcomers)
            {
                alive.remove(&c.id);
                self.probe(now, c, true, |p| p.join |= joining);
            }
        }
    }

    /// Runs the kernel's merge for `source`, offering each node at its figure if it is in
    /// `alive` (known, heard from lately, or answered its probe); never a node that failed.
    ///
    /// For a joining node's state, the would-be members found faulty (`dead`) are taken and
    /// then forgotten, so that the leaf set marks the holes they leave (a side short of a
    /// faulty member must be refilled by repair, never padded with far nodes).
    fn apply_merge(&mut self, source: Source<H, W>, alive: &BTreeSet<W>, dead: &BTreeSet<W>) {
        let Node {
            state,
            peers,
            estimator,
            failed,
            counters,
            cfg,
            ..
        } = self;
        let joining = matches!(source, Source::Join(_));
        let figure = |n: &NodeRef<H, W>| -> Option<u32> {
            if joining && dead.contains(&n.id) {
                return Some(UNMEASURED);
            }
            if Self::in_failed(failed, n.id) || !alive.contains(&n.id) {
                return None;
            }
            Some(Self::figure_of(estimator, peers, n))
        };
        let result = match &source {
            Source::Join(reply) => {
                let g = &reply.gather;
                let rows: Vec<(Row, &RoutingTable<H, W>)> =
                    g.rows.iter().map(|(r, t)| (*r, t)).collect();
                let empty;
                let hood = match &g.neighborhood {
                    Some(m) => m,
                    None => {
                        let a = g.route.first().map_or(state.id(), |n| n.id);
                        empty = NeighborhoodSet::new(a, cfg.routing.neighborhood_len());
                        &empty
                    }
                };
                let parts = pastry_kernel::JoinParts {
                    route: &g.route,
                    rows: &rows,
                    leaf_set: &reply.leaf_set,
                    neighborhood: hood,
                };
                match NodeState::join_from_parts(cfg.routing, *state.own(), &parts, figure) {
                    Ok(built) => {
                        if state.members().next().is_none() {
                            *state = built;
                        } else {
                            // Leaf-set answers merged already: add the join's nodes to them.
                            let nodes: Vec<NodeRef<H, W>> = built.members().copied().collect();
                            for n in nodes {
                                let f = if dead.contains(&n.id) {
                                    UNMEASURED
                                } else {
                                    Self::figure_of(estimator, peers, &n)
                                };
                                let _ = state.learn(n, f);
                            }
                        }
                        for d in dead {
                            let _ = state.forget(*d);
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Source::Leaf(from, leaf) => state.repair_leaf_set(from, leaf, figure).map(|_| ()),
            Source::Row(from, row, t) => state.merge_row(from, t, *row, figure).map(|_| ()),
            Source::Neighborhood(from, set) => {
                state.merge_neighborhood(from, set, figure).map(|_| ())
            }
            Source::State(s) => state.merge_state(s, figure).map(|_| ()),
        };
        if result.is_err() {
            counters.dropped.invalid += 1;
        }
    }
}
