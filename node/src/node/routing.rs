//! Routed messages: the Common API `route`, per-hop acknowledgements with re-routing,
//! duplicate suppression, and the `forward` up-call.
//!
//! * Each hop asks the kernel for the next hop ([`NodeState::route_avoiding`]), skipping
//!   nodes it suspects and next hops that already timed out for this message (and, with
//!   [`NodeConfig::leaf_set_routing`](crate::NodeConfig::leaf_set_routing), every node outside
//!   the leaf set).
//! * A node that is not active yet never delivers: a message that would end at it is held
//!   (at most [`NodeConfig::max_in_flight`](crate::NodeConfig)) and routed again when the
//!   node becomes active. The leaf-set members of a joining node add it when it probes them,
//!   before it can become active, so from then on they send it the keys it will be the root
//!   of; holding them (rather than sending them back, or having members route around joining
//!   nodes) leaves no moment at which a key's message ends anywhere but at its root among the
//!   active nodes. Messages held by a node whose join fails are dropped (counted).
//! * Every forward is acknowledged by the next hop. Without an `Ack` within the hop timeout
//!   (the next hop's RTO from measured round trips, TCP-style: initial 1 s, bounds 50 ms to
//!   10 s), the next hop is suspected (probed), and the message is re-routed avoiding it; after
//!   [`NodeConfig::route_retries`](crate::NodeConfig) re-routes it is given up
//!   ([`Event::RouteFailed`]). Each attempt has its own message id, so each ack gives an
//!   unambiguous round-trip sample (Karn's rule).
//! * An active node delivers a message only as the root among the nodes it has not found
//!   faulty. When the node a message belongs to is only suspected (or timed out for this
//!   message), it is sent the message again, each time with twice the timeout, until it
//!   answers or its probes find it faulty and it is forgotten — re-routing around a live root
//!   whose message or ack was lost would deliver the message at the wrong node. A node found
//!   faulty has every message waiting for its ack re-routed at once.
//! * A node handles a routed message once: a copy with the same (origin, number) is
//!   acknowledged and dropped, so a message is delivered at most once per node.

use alloc::vec::Vec;

use pastry_kernel::codec::WireHandle;
use pastry_kernel::{NodeRef, RingWord, Route};

use super::{Carried, Estimator, InFlight, Node, Parked, Phase, Timer};
use crate::config::{NodeConfig, Time};
use crate::event::{CallError, Event};
use crate::message::{Body, JoinGather, Routed};

impl<H, W> Carried<H, W> {
    fn key(&self) -> W
    where
        W: Copy,
    {
        match self {
            Carried::App(r) => r.key,
            Carried::Join(r) => r.key,
        }
    }

    fn origin(&self) -> NodeRef<H, W>
    where
        H: Copy,
        W: Copy,
    {
        match self {
            Carried::App(r) => r.origin,
            Carried::Join(r) => r.origin,
        }
    }

    fn seq(&self) -> u64 {
        match self {
            Carried::App(r) => r.seq,
            Carried::Join(r) => r.seq,
        }
    }
}

impl<H, W, E> Node<H, W, E>
where
    H: WireHandle + Eq,
    W: RingWord,
    E: Estimator<H>,
{
    /// Common API `route(key, msg)`: sends `payload` to the root of `key`. Returns the
    /// message's number (its `seq` in the events about it).
    ///
    /// # Errors
    /// [`CallError::NotActive`] before the join completes or after leaving;
    /// [`CallError::PayloadTooLarge`] over [`NodeConfig::max_payload`](crate::NodeConfig).
    /// Nothing changes then.
    pub fn route(&mut self, now: Time, key: W, payload: Vec<u8>) -> Result<u64, CallError> {
        self.check_call(&payload)?;
        let seq = self.fresh_id();
        let routed = Routed {
            key,
            origin: *self.state.own(),
            seq,
            hops: 0,
            body: payload,
        };
        self.remember(routed.origin.id, seq);
        self.route_step(now, Carried::App(routed), 0, Vec::new());
        self.settle(now);
        Ok(seq)
    }

    /// Common API `route(key, msg, hint)` with the hint as the destination: sends `payload`
    /// straight to `node` (routed by `node`'s id if `node` does not acknowledge, so it ends at
    /// the node that is then the root of that id). Returns the message's number.
    ///
    /// # Errors
    /// As [`Node::route`].
    pub fn route_to(
        &mut self,
        now: Time,
        node: NodeRef<H, W>,
        payload: Vec<u8>,
    ) -> Result<u64, CallError> {
        self.check_call(&payload)?;
        let seq = self.fresh_id();
        let routed = Routed {
            key: node.id,
            origin: *self.state.own(),
            seq,
            hops: 0,
            body: payload,
        };
        self.remember(routed.origin.id, seq);
        if node.id == self.state.id() {
            self.deliver(now, Carried::App(routed));
        } else {
            self.send_hop(now, Carried::App(routed), node, 0, Vec::new());
        }
        self.settle(now);
        Ok(seq)
    }

    /// Answers an [`Event::Forward`]: sends the held message on with `payload`, or drops it
    /// with `None`.
    ///
    /// # Errors
    /// [`CallError::UnknownToken`] when no message is held under `token`;
    /// [`CallError::PayloadTooLarge`] for a payload over the cap (the message stays held).
    pub fn forward(
        &mut self,
        now: Time,
        token: u64,
        payload: Option<Vec<u8>>,
    ) -> Result<(), CallError> {
        if let Some(p) = &payload {
            if p.len() > self.cfg.max_payload {
                return Err(CallError::PayloadTooLarge {
                    len: p.len(),
                    max: self.cfg.max_payload,
                });
            }
        }
        let Some(mut held) = self.parked.remove(&token) else {
            return Err(CallError::UnknownToken);
        };
        self.timers.disarm(held.deadline, Timer::Parked(token));
        if let Some(p) = payload {
            held.routed.body = p;
            self.send_hop(
                now,
                Carried::App(held.routed),
                held.next,
                held.retries,
                held.avoid,
            );
        }
        self.settle(now);
        Ok(())
    }

    fn check_call(&self, payload: &[u8]) -> Result<(), CallError> {
        if self.phase != Phase::Active {
            return Err(CallError::NotActive);
        }
        if payload.len() > self.cfg.max_payload {
            return Err(CallError::PayloadTooLarge {
                len: payload.len(),
                max: self.cfg.max_payload,
            });
        }
        Ok(())
    }

    /// Remembers (origin, seq); returns false when it was already handled here.
    fn remember(&mut self, origin: W, seq: u64) -> bool {
        self.seen.insert((origin, seq), self.cfg.dedup_capacity)
    }

    /// `Route` from the previous hop.
    pub(super) fn on_route(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        mut routed: Routed<Vec<u8>, H, W>,
    ) {
        self.send(sender, id, Body::Ack);
        if !self.remember(routed.origin.id, routed.seq) {
            self.counters.duplicates += 1;
            return;
        }
        routed.hops = routed.hops.saturating_add(1);
        self.route_step(now, Carried::App(routed), 0, Vec::new());
    }

    /// `JoinRequest` from the joining node or the previous hop.
    pub(super) fn on_join_request(
        &mut self,
        now: Time,
        sender: NodeRef<H, W>,
        id: u64,
        mut routed: Routed<JoinGather<H, W>, H, W>,
    ) {
        self.send(sender, id, Body::Ack);
        if routed.key != routed.origin.id || routed.origin.id == self.state.id() {
            self.counters.dropped.invalid += 1;
            return;
        }
        if !self.remember(routed.origin.id, routed.seq) {
            self.counters.duplicates += 1;
            return;
        }
        routed.hops = routed.hops.saturating_add(1);
        self.route_step(now, Carried::Join(routed), 0, Vec::new());
    }

    /// The next hop for `key` avoiding `avoid` (and suspects, and for a join the joining node
    /// itself); `None` when the message ends here.
    fn next_hop(&self, key: W, avoid: &[W], joiner: Option<W>) -> Option<NodeRef<H, W>> {
        let leaf_only = self.cfg.leaf_set_routing && joiner.is_none();
        let skip = |n: &NodeRef<H, W>| {
            avoid.contains(&n.id)
                || Some(n.id) == joiner
                || self.probing.get(&n.id).is_some_and(|p| p.liveness)
                || (leaf_only && !self.state.leaf_set().contains(n.id))
        };
        match self.state.route_avoiding(key, skip) {
            Route::Deliver => None,
            Route::Forward { to, .. } => Some(to),
        }
    }

    /// Delivers or forwards a routed message (`retries` re-routes so far, `avoid` next hops
    /// that timed out).
    fn route_step(&mut self, now: Time, carried: Carried<H, W>, retries: u8, avoid: Vec<W>) {
        let joiner = match &carried {
            Carried::Join(r) => Some(r.origin.id),
            Carried::App(_) => None,
        };
        match self.next_hop(carried.key(), &avoid, joiner) {
            // Deliver only as the root among the nodes not found faulty: a suspect, or a next
            // hop that timed out for this message, may well be alive (its message or its ack
            // was lost). It gets the message again, with a doubled timeout each time
            // (`send_hop`), until it answers or its probes find it faulty and it is forgotten.
            None if self.phase == Phase::Active => match self.root_elsewhere(carried.key(), joiner)
            {
                Some(root) => self.forward_to(now, carried, root, retries, avoid),
                None => self.deliver(now, carried),
            },
            None => self.hold(carried),
            Some(next) => self.forward_to(now, carried, next, retries, avoid),
        }
    }

    /// Where a message that [`Node::next_hop`] would end here belongs instead, when the node it
    /// belongs to was skipped only for being suspected or for timing out: `route` with only a
    /// join's joiner avoided. `None` when it does end here.
    fn root_elsewhere(&self, key: W, joiner: Option<W>) -> Option<NodeRef<H, W>> {
        let leaf_only = self.cfg.leaf_set_routing && joiner.is_none();
        let route = self.state.route_avoiding(key, |n| {
            Some(n.id) == joiner || (leaf_only && !self.state.leaf_set().contains(n.id))
        });
        match route {
            Route::Deliver => None,
            Route::Forward { to, .. } => Some(to),
        }
    }

    /// Holds a message that would end at this node until it is active.
    fn hold(&mut self, carried: Carried<H, W>) {
        if self.held.len() >= self.cfg.max_in_flight {
            self.counters.dropped.in_flight += 1;
            return;
        }
        self.held.push_back(carried);
    }

    /// Routes the held messages again (the node has just become active), or drops them (its
    /// join failed).
    pub(super) fn release_held(&mut self, now: Time) {
        let held = core::mem::take(&mut self.held);
        for carried in held {
            if self.phase == Phase::Active {
                self.route_step(now, carried, 0, Vec::new());
            } else {
                self.counters.dropped.in_flight += 1;
            }
        }
    }

    /// The message ends here.
    fn deliver(&mut self, now: Time, carried: Carried<H, W>) {
        match carried {
            Carried::App(r) => {
                self.counters.delivered += 1;
                self.emit(Event::Deliver {
                    key: r.key,
                    origin: r.origin,
                    seq: r.seq,
                    hops: r.hops,
                    payload: r.body,
                });
            }
            Carried::Join(mut r) => {
                let joiner = r.origin.id;
                self.add_join_part(&mut r.body, joiner);
                self.answer_join(now, r);
            }
        }
    }

    /// Forwards to `next`: adds this hop's join part, or shows an application message to the
    /// application first when it asked for the forward up-call.
    fn forward_to(
        &mut self,
        now: Time,
        mut carried: Carried<H, W>,
        next: NodeRef<H, W>,
        retries: u8,
        avoid: Vec<W>,
    ) {
        match &mut carried {
            Carried::Join(r) => {
                let joiner = r.origin.id;
                self.add_join_part(&mut r.body, joiner);
            }
            Carried::App(r) if self.cfg.forward_upcall => {
                if self.parked.len() >= self.cfg.max_in_flight {
                    self.counters.dropped.in_flight += 1;
                    return;
                }
                let token = self.fresh_id();
                let deadline = now.saturating_add(NodeConfig::micros(self.cfg.rto_max));
                self.emit(Event::Forward {
                    token,
                    key: r.key,
                    origin: r.origin,
                    next_hop: next,
                    payload: r.body.clone(),
                });
                if let Carried::App(routed) = carried {
                    self.parked.insert(
                        token,
                        Parked {
                            routed,
                            next,
                            deadline,
                            retries,
                            avoid,
                        },
                    );
                    self.timers.arm(deadline, Timer::Parked(token));
                }
                return;
            }
            Carried::App(_) => {}
        }
        self.send_hop(now, carried, next, retries, avoid);
    }

    /// Sends one hop and waits for its ack.
    fn send_hop(
        &mut self,
        now: Time,
        carried: Carried<H, W>,
        to: NodeRef<H, W>,
        retries: u8,
        avoid: Vec<W>,
    ) {
        if self.in_flight.len() >= self.cfg.max_in_flight {
            self.counters.dropped.in_flight += 1;
            return;
        }
        let body = match &carried {
            Carried::App(r) => Body::Route(r.clone()),
            Carried::Join(r) => Body::JoinRequest(r.clone()),
        };
        let id = self.send_new(to.handle, body);
        // Each earlier timeout of this message at `to` doubles the wait (at most `rto_max`):
        // a root that is suspected, not failed, is tried again until its probes decide.
        let tries = avoid.iter().filter(|a| **a == to.id).count();
        let rto = self.rto(&to);
        let max = NodeConfig::micros(self.cfg.rto_max).max(rto);
        let wait = rto.saturating_mul(1 << tries.min(16)).min(max);
        let deadline = now.saturating_add(wait);
        self.in_flight.insert(
            id,
            InFlight {
                carried,
                to,
                sent_at: now,
                deadline,
                retries,
                avoid,
            },
        );
        self.timers.arm(deadline, Timer::Hop(id));
        self.counters.forwarded += 1;
    }

    /// `Ack` from the next hop.
    pub(super) fn on_ack(&mut self, now: Time, sender: NodeRef<H, W>, id: u64) {
        let matches = self
            .in_flight
            .get(&id)
            .is_some_and(|f| f.to.id == sender.id);
        if !matches {
            self.counters.dropped.unexpected += 1;
            return;
        }
        if let Some(f) = self.in_flight.remove(&id) {
            self.timers.disarm(f.deadline, Timer::Hop(id));
            self.sample(sender.id, now.saturating_sub(f.sent_at));
        }
    }

    /// No ack in time: suspect the next hop and re-route avoiding it.
    pub(super) fn on_hop_timeout(&mut self, now: Time, id: u64, at: Time) {
        if self.in_flight.get(&id).is_none_or(|f| f.deadline != at) {
            return;
        }
        let Some(f) = self.in_flight.remove(&id) else {
            return;
        };
        if self.state.knows(f.to.id) {
            self.suspect(now, f.to);
        }
        self.reroute(now, f);
    }

    /// `failed` was found faulty (or left): every message waiting for its ack is re-routed
    /// now, as its hop timer would have done later.
    pub(super) fn reroute_in_flight_to(&mut self, now: Time, failed: W) {
        let ids: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.to.id == failed)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(f) = self.in_flight.remove(&id) {
                self.timers.disarm(f.deadline, Timer::Hop(id));
                self.reroute(now, f);
            }
        }
    }

    /// Routes a message whose hop went unacknowledged again, avoiding that hop, or gives it
    /// up after [`NodeConfig::route_retries`](crate::NodeConfig) re-routes.
    fn reroute(&mut self, now: Time, mut f: InFlight<H, W>) {
        f.avoid.push(f.to.id);
        if f.retries >= self.cfg.route_retries {
            self.give_up(f.carried);
            return;
        }
        self.counters.retries += 1;
        self.route_step(now, f.carried, f.retries + 1, f.avoid);
    }

    /// A held forward up-call was not answered in time: the message is dropped.
    pub(super) fn on_parked_timeout(&mut self, token: u64, at: Time) {
        if self.parked.get(&token).is_some_and(|p| p.deadline == at) {
            self.parked.remove(&token);
            self.counters.dropped.forwards += 1;
        }
    }

    /// Gives a message up: `RouteFailed` for an application message; a join request is
    /// retried by its joining node.
    fn give_up(&mut self, carried: Carried<H, W>) {
        self.counters.route_failed += 1;
        if let Carried::App(_) = &carried {
            self.emit(Event::RouteFailed {
                key: carried.key(),
                origin: carried.origin(),
                seq: carried.seq(),
            });
        }
    }
}
