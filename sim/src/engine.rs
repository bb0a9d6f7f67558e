//! [`Net`]: the discrete-event engine. Many protocol engines ([`Peer`]s), one queue of events
//! ordered by (time, sequence), messages moved as bytes with a latency and a loss rate.
//!
//! The engine is a host in the sans-I/O sense: it owns the clock, the queue and the "wires";
//! each peer owns its protocol. After every input to a peer (bytes, a timer, a call of the
//! experiment) the engine polls it dry: every transmit is encoded through the node codec into a
//! recycled buffer and queued for delivery after the one-way latency between the two places
//! (or dropped with the loss probability), every event goes to the experiment's [`Observer`],
//! and the peer's earliest timer is queued as a wake-up.
//!
//! # Invariants
//! Checked by [`Net::invariants`] in debug builds:
//! 1. every queued message owns one buffer of `bufs` and no buffer is both queued and free;
//! 2. `in_flight` equals the number of queued messages, and each cause's count in
//!    `by_cause` equals the number of queued messages carrying it;
//! 3. a node's `wake` is `Some(t)` only if a wake-up for it at `t` is queued.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use pastry_kernel::Guid;
use pastry_node::{Kind, Message, Time, Transmit};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{Handle, Latency, Population};

/// A protocol engine the simulator drives: a `pastry_node::Node` today, a DHT engine owning a
/// node later. Only the sans-I/O surface is used: bytes and timers in, transmits, events and
/// the next timer out.
pub trait Peer {
    /// What the engine tells its application.
    type Event;

    /// Handles bytes received from `from`; a message that does not decode is the peer's to
    /// count and ignore.
    fn handle_bytes(&mut self, now: Time, from: Handle, bytes: &[u8]);
    /// Handles the timers due at `now`.
    fn handle_timeout(&mut self, now: Time);
    /// The earliest armed timer.
    fn poll_timeout(&self) -> Option<Time>;
    /// The next message to send.
    fn poll_transmit(&mut self) -> Option<Transmit<Handle, Guid>>;
    /// The next event for the application.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// The largest payload the peer's codec accepts.
    fn max_payload(&self) -> usize;
}

/// What the experiment sees of the network: every message sent and received (typed, before
/// encoding, or by the mark it was given), and every event of every peer. Measurement only.
pub trait Observer<E> {
    /// Node `from` sends `message` to `to` at `now`; the returned mark travels with the bytes
    /// and comes back in [`Observer::arrived`] (0: nothing to track).
    fn sent(&mut self, now: Time, from: Handle, to: Handle, message: &Message<Handle>) -> u32 {
        let _ = (now, from, to, message);
        0
    }
    /// A message with a non-zero `mark` reached the live node `to` at `now`.
    fn arrived(&mut self, now: Time, from: Handle, to: Handle, mark: u32) {
        let _ = (now, from, to, mark);
    }
    /// Node `at` raised `event` at `now`.
    fn event(&mut self, now: Time, at: Handle, event: E);
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ignore;

impl<E> Observer<E> for Ignore {
    fn event(&mut self, _now: Time, _at: Handle, _event: E) {}
}

/// What the network did with the messages, by [`Kind`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Messages handed to the network.
    pub sent: [u64; Kind::ALL.len()],
    /// Messages the network lost (the loss probability).
    pub lost: [u64; Kind::ALL.len()],
    /// Messages that arrived at a crashed or departed node.
    pub to_dead: [u64; Kind::ALL.len()],
    /// Bytes handed to the network.
    pub bytes: u64,
}

impl Traffic {
    /// Messages sent of the control kinds ([`Kind::is_control`]).
    #[must_use]
    pub fn control(&self) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.is_control())
            .map(|k| self.sent[k.index()])
            .sum()
    }

    /// Messages sent of every kind.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.sent.iter().sum()
    }

    /// Messages lost of every kind.
    #[must_use]
    pub fn total_lost(&self) -> u64 {
        self.lost.iter().sum()
    }

    /// Adds `other`, kind by kind.
    pub fn add(&mut self, other: &Traffic) {
        for (a, b) in [
            (&mut self.sent, &other.sent),
            (&mut self.lost, &other.lost),
            (&mut self.to_dead, &other.to_dead),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.bytes += other.bytes;
    }

    /// `self - earlier`, kind by kind (the traffic of a window).
    #[must_use]
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        let sub = |a: &[u64; Kind::ALL.len()], b: &[u64; Kind::ALL.len()]| {
            let mut out = [0; Kind::ALL.len()];
            for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
                *o = x - y;
            }
            out
        };
        Traffic {
            sent: sub(&self.sent, &earlier.sent),
            lost: sub(&self.lost, &earlier.lost),
            to_dead: sub(&self.to_dead, &earlier.to_dead),
            bytes: self.bytes - earlier.bytes,
        }
    }
}

/// One queued item: a message in flight or a node's wake-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    at: Time,
    seq: u64,
    what: What,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Message {
        to: Handle,
        from: Handle,
        buf: u32,
        cause: u32,
        mark: u32,
    },
    Wake {
        node: Handle,
    },
}

/// One node's slot: its engine while alive, and its queued wake-up.
#[derive(Debug)]
struct Slot<P> {
    peer: Option<P>,
    wake: Option<Time>,
}

/// The discrete-event network of peers `P`.
///
/// Handles are indices into the [`Population`]: node `h` lives at `population.place(h)` and
/// is reachable once [`Net::insert`]ed, until [`Net::remove`]d (a crash: it stops at once and
/// messages to it are lost). Every random choice of the network (which messages are lost) comes
/// from its own seeded generator.
#[derive(Debug)]
pub struct Net<P> {
    population: std::sync::Arc<Population>,
    latency: Latency,
    loss: f64,
    rng: ChaCha8Rng,
    now: Time,
    seq: u64,
    queue: BinaryHeap<Reverse<Item>>,
    slots: Vec<Slot<P>>,
    bufs: Vec<Vec<u8>>,
    free: Vec<u32>,
    in_flight: u64,
    by_cause: HashMap<u32, u64>,
    cause: u32,
    traffic: Traffic,
    inputs: u64,
}

impl<P: Peer> Net<P> {
    /// An empty network over `population`, with `latency`, each message lost with
    /// probability `loss`, the losses drawn from `seed`.
    #[must_use]
    pub fn new(
        population: std::sync::Arc<Population>,
        latency: Latency,
        loss: f64,
        seed: u64,
    ) -> Net<P> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0x4e45_5400); // "NET"
        let mut slots = Vec::new();
        slots.resize_with(population.len(), || Slot {
            peer: None,
            wake: None,
        });
        Net {
            population,
            latency,
            loss,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            slots,
            bufs: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            by_cause: HashMap::new(),
            cause: 0,
            traffic: Traffic::default(),
            inputs: 0,
        }
    }

    /// The present time.
    #[must_use]
    pub fn now(&self) -> Time {
        self.now
    }

    /// The places of every node that may take part.
    #[must_use]
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// The latency model.
    #[must_use]
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// Messages sent, lost and sent to dead nodes so far, by kind.
    #[must_use]
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Inputs handled so far (messages delivered and wake-ups).
    #[must_use]
    pub fn inputs(&self) -> u64 {
        self.inputs
    }

    /// Messages in flight.
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Messages in flight that an input with `cause` led to (see [`Net::call`]).
    #[must_use]
    pub fn in_flight_of(&self, cause: u32) -> u64 {
        self.by_cause.get(&cause).copied().unwrap_or(0)
    }

    /// Node `h`'s engine, if it is alive.
    #[must_use]
    pub fn peer(&self, h: Handle) -> Option<&P> {
        self.slots.get(h as usize)?.peer.as_ref()
    }

    /// Whether node `h` is alive (inserted and not removed).
    #[must_use]
    pub fn is_alive(&self, h: Handle) -> bool {
        self.peer(h).is_some()
    }

    /// The live engines, with their handles.
    pub fn peers(&self) -> impl Iterator<Item = (Handle, &P)> + '_ {
        self.slots.iter().enumerate().filter_map(|(h, s)| {
            s.peer
                .as_ref()
                .map(|p| (Handle::try_from(h).unwrap_or(Handle::MAX), p))
        })
    }

    /// Puts node `h`'s engine on the network (it was not alive) and polls it.
    ///
    /// # Panics
    /// If `h` is outside the population or already alive.
    pub fn insert<O: Observer<P::Event>>(&mut self, h: Handle, peer: P, obs: &mut O) {
        let slot = &mut self.slots[h as usize];
        assert!(slot.peer.is_none(), "node {h} is already on the network");
        slot.peer = Some(peer);
        self.drain(h, obs);
    }

    /// Takes node `h` off the network at once (a crash): it handles nothing more, and messages
    /// to it are lost. Returns its engine.
    pub fn remove(&mut self, h: Handle) -> Option<P> {
        let slot = self.slots.get_mut(h as usize)?;
        slot.wake = None;
        slot.peer.take()
    }

    /// Calls `f` on node `h`'s engine at the present time (an application call: join, route,
    /// leave), then polls it. Messages it sends, and every message they lead to, carry `cause`
    /// ([`Net::in_flight_of`]). Returns `f`'s result, or `None` when `h` is not alive.
    pub fn call<O: Observer<P::Event>, R>(
        &mut self,
        h: Handle,
        cause: u32,
        obs: &mut O,
        f: impl FnOnce(&mut P, Time) -> R,
    ) -> Option<R> {
        let now = self.now;
        let peer = self.slots.get_mut(h as usize)?.peer.as_mut()?;
        let r = f(peer, now);
        self.cause = cause;
        self.drain(h, obs);
        self.cause = 0;
        Some(r)
    }

    /// The time of the earliest queued item.
    #[must_use]
    pub fn next_at(&self) -> Option<Time> {
        self.queue.peek().map(|Reverse(i)| i.at)
    }

    /// Handles every item due at or before `limit`, then sets the clock to `limit`.
    pub fn run_until<O: Observer<P::Event>>(&mut self, limit: Time, obs: &mut O) {
        while self.next_at().is_some_and(|t| t <= limit) {
            self.step(obs);
        }
        self.now = self.now.max(limit);
    }

    /// Handles items until `done` holds (checked before each item) or nothing is due by
    /// `limit`. Returns whether `done` held.
    pub fn run_while<O: Observer<P::Event>>(
        &mut self,
        limit: Time,
        obs: &mut O,
        mut done: impl FnMut(&Net<P>, &O) -> bool,
    ) -> bool {
        loop {
            if done(self, obs) {
                return true;
            }
            if self.next_at().is_none_or(|t| t > limit) {
                return false;
            }
            self.step(obs);
        }
    }

    /// Handles the earliest queued item.
    fn step<O: Observer<P::Event>>(&mut self, obs: &mut O) {
        let Some(Reverse(item)) = self.queue.pop() else {
            return;
        };
        self.now = self.now.max(item.at);
        match item.what {
            What::Message {
                to,
                from,
                buf,
                cause,
                mark,
            } => {
                self.in_flight -= 1;
                if cause != 0 {
                    if let Some(c) = self.by_cause.get_mut(&cause) {
                        *c -= 1;
                        if *c == 0 {
                            self.by_cause.remove(&cause);
                        }
                    }
                }
                let bytes = std::mem::take(&mut self.bufs[buf as usize]);
                let now = self.now;
                match self.slots[to as usize].peer.as_mut() {
                    Some(peer) => {
                        self.inputs += 1;
                        if mark != 0 {
                            obs.arrived(now, from, to, mark);
                        }
                        peer.handle_bytes(now, from, &bytes);
                        self.cause = cause;
                        self.drain(to, obs);
                        self.cause = 0;
                    }
                    None => {
                        if let Some(k) = bytes.get(3).and_then(|b| Kind::from_byte(*b)) {
                            self.traffic.to_dead[k.index()] += 1;
                        }
                    }
                }
                self.recycle(buf, bytes);
            }
            What::Wake { node } => {
                let slot = &mut self.slots[node as usize];
                if slot.wake != Some(item.at) {
                    return; // superseded by an earlier wake-up
                }
                slot.wake = None;
                if let Some(peer) = slot.peer.as_mut() {
                    self.inputs += 1;
                    peer.handle_timeout(self.now);
                    self.drain(node, obs);
                }
            }
        }
    }

    fn recycle(&mut self, buf: u32, mut bytes: Vec<u8>) {
        bytes.clear();
        self.bufs[buf as usize] = bytes;
        self.free.push(buf);
    }

    fn push(&mut self, at: Time, what: What) {
        self.seq += 1;
        self.queue.push(Reverse(Item {
            at,
            seq: self.seq,
            what,
        }));
    }

    /// Polls node `h` dry: transmits onto the wire, events to the observer, its timer queued.
    fn drain<O: Observer<P::Event>>(&mut self, h: Handle, obs: &mut O) {
        let now = self.now;
        let from_at = self.population.place(h);
        loop {
            let Some(peer) = self.slots[h as usize].peer.as_mut() else {
                return;
            };
            let Some(t) = peer.poll_transmit() else {
                break;
            };
            let max = peer.max_payload();
            let kind = t.message.body.kind();
            let buf = match self.free.pop() {
                Some(b) => b,
                None => {
                    self.bufs.push(Vec::new());
                    u32::try_from(self.bufs.len() - 1).expect("fewer than 2^32 buffers")
                }
            };
            let mut bytes = std::mem::take(&mut self.bufs[buf as usize]);
            if t.message.encode(&mut bytes, max).is_err() {
                // The engine refuses what it cannot encode before queueing it; nothing to send.
                self.recycle(buf, bytes);
                continue;
            }
            self.traffic.sent[kind.index()] += 1;
            self.traffic.bytes += bytes.len() as u64;
            let mark = obs.sent(now, h, t.to, &t.message);
            if self.loss > 0.0 && self.rng.random::<f64>() < self.loss {
                self.traffic.lost[kind.index()] += 1;
                self.recycle(buf, bytes);
                continue;
            }
            self.bufs[buf as usize] = bytes;
            let to_at = self.population.place(t.to);
            let at = now + self.latency.one_way(from_at, to_at);
            self.in_flight += 1;
            if self.cause != 0 {
                *self.by_cause.entry(self.cause).or_insert(0) += 1;
            }
            self.push(
                at,
                What::Message {
                    to: t.to,
                    from: h,
                    buf,
                    cause: self.cause,
                    mark,
                },
            );
        }
        loop {
            let Some(peer) = self.slots[h as usize].peer.as_mut() else {
                return;
            };
            let Some(e) = peer.poll_event() else {
                break;
            };
            obs.event(now, h, e);
        }
        let slot = &mut self.slots[h as usize];
        let Some(peer) = slot.peer.as_ref() else {
            return;
        };
        if let Some(t) = peer.poll_timeout() {
            let t = t.max(now);
            if slot.wake.is_none_or(|w| t < w) {
                slot.wake = Some(t);
                self.push(t, What::Wake { node: h });
            }
        }
    }

    /// Checks the invariants in the type's documentation (debug builds only; it scans the
    /// whole queue).
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            let mut owned = vec![false; self.bufs.len()];
            let mut messages = 0;
            let mut causes: HashMap<u32, u64> = HashMap::new();
            let mut wakes: Vec<(Handle, Time)> = Vec::new();
            for Reverse(i) in &self.queue {
                match i.what {
                    What::Message { buf, cause, .. } => {
                        assert!(!owned[buf as usize], "a buffer queued twice");
                        owned[buf as usize] = true;
                        messages += 1;
                        if cause != 0 {
                            *causes.entry(cause).or_insert(0) += 1;
                        }
                    }
                    What::Wake { node } => wakes.push((node, i.at)),
                }
            }
            for f in &self.free {
                assert!(!owned[*f as usize], "a queued buffer is free");
                owned[*f as usize] = true;
            }
            assert!(owned.iter().all(|o| *o), "a buffer neither queued nor free");
            assert_eq!(messages, self.in_flight);
            assert_eq!(causes, self.by_cause);
            for (h, s) in self.slots.iter().enumerate() {
                if let Some(t) = s.wake {
                    assert!(
                        wakes.contains(&(Handle::try_from(h).unwrap_or(0), t)),
                        "node {h}: wake-up at {t} not queued"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pastry_kernel::NodeRef;
    use pastry_node::Body;
    use std::sync::Arc;

    /// A toy engine: answers every Ping with a Pong, sends `pings` Pings to `to` when asked,
    /// and keeps a timer that fires once at `alarm`.
    struct Echo {
        own: NodeRef<Handle>,
        outbox: Vec<Transmit<Handle, Guid>>,
        got: Vec<(Time, Handle, Kind)>,
        alarm: Option<Time>,
        rung: Vec<Time>,
    }

    impl Echo {
        fn new(pop: &Population, h: Handle) -> Echo {
            Echo {
                own: NodeRef::new(pop.id(h), h),
                outbox: Vec::new(),
                got: Vec::new(),
                alarm: None,
                rung: Vec::new(),
            }
        }

        fn send(&mut self, to: Handle, id: u64, body: Body<Handle>) {
            self.outbox.push(Transmit {
                to,
                message: Message {
                    from: self.own,
                    id,
                    body,
                },
            });
        }
    }

    impl Peer for Echo {
        type Event = (Handle, Kind);

        fn handle_bytes(&mut self, now: Time, from: Handle, bytes: &[u8]) {
            let m: Message<Handle> = Message::decode(bytes, 1024).expect("the engine's bytes");
            assert_eq!(m.from.handle, from);
            self.got.push((now, from, m.body.kind()));
            if m.body == Body::Ping {
                self.send(from, m.id, Body::Pong);
            }
        }

        fn handle_timeout(&mut self, now: Time) {
            if self.alarm.is_some_and(|a| a <= now) {
                self.alarm = None;
                self.rung.push(now);
            }
        }

        fn poll_timeout(&self) -> Option<Time> {
            self.alarm
        }

        fn poll_transmit(&mut self) -> Option<Transmit<Handle, Guid>> {
            self.outbox.pop()
        }

        fn poll_event(&mut self) -> Option<(Handle, Kind)> {
            None
        }

        fn max_payload(&self) -> usize {
            1024
        }
    }

    fn net(loss: f64, seed: u64) -> (Net<Echo>, Arc<Population>) {
        let pop = Arc::new(Population::random(seed, 4));
        let mut net = Net::new(Arc::clone(&pop), Latency::WAN, loss, seed);
        for h in 0..4 {
            net.insert(h, Echo::new(&pop, h), &mut Ignore);
        }
        (net, pop)
    }

    fn pings(net: &mut Net<Echo>, from: Handle, to: Handle, n: u64, cause: u32) {
        net.call(from, cause, &mut Ignore, |e, _| {
            for id in 0..n {
                e.send(to, id, Body::Ping);
            }
        });
    }

    #[test]
    fn a_message_arrives_after_the_one_way_latency_and_its_answer_after_the_round_trip() {
        let (mut net, pop) = net(0.0, 1);
        pings(&mut net, 0, 1, 1, 7);
        assert_eq!((net.in_flight(), net.in_flight_of(7)), (1, 1));
        net.invariants();
        net.run_until(10 * SECOND_US, &mut Ignore);
        let one_way = Latency::WAN.one_way(pop.place(0), pop.place(1));
        assert_eq!(net.peer(1).unwrap().got, vec![(one_way, 0, Kind::Ping)]);
        assert_eq!(net.peer(0).unwrap().got, vec![(2 * one_way, 1, Kind::Pong)]);
        // The answer carried the ping's cause; both are delivered now.
        assert_eq!((net.in_flight(), net.in_flight_of(7)), (0, 0));
        assert_eq!(net.traffic().sent[Kind::Ping.index()], 1);
        assert_eq!(net.traffic().sent[Kind::Pong.index()], 1);
        net.invariants();
    }

    const SECOND_US: Time = 1_000_000;

    #[test]
    fn loss_drops_about_the_given_fraction_and_buffers_are_reused() {
        let (mut net, _) = net(0.25, 2);
        pings(&mut net, 0, 2, 20_000, 0);
        net.run_until(10 * SECOND_US, &mut Ignore);
        let t = net.traffic();
        let sent = t.total();
        let lost = t.total_lost() as f64 / sent as f64;
        assert!((lost - 0.25).abs() < 0.01, "lost {lost}");
        // Every Ping that arrived was answered: pings + pongs sent.
        let arrived = net.peer(2).unwrap().got.len() as u64;
        assert_eq!(sent, 20_000 + arrived);
        // At most one buffer per message in flight at once, every one back in the free list.
        assert!(net.bufs.len() <= 20_000);
        assert_eq!(net.free.len(), net.bufs.len());
        net.invariants();
    }

    #[test]
    fn messages_to_a_removed_node_are_counted_and_dropped() {
        let (mut net, _) = net(0.0, 3);
        pings(&mut net, 0, 3, 5, 0);
        assert!(net.remove(3).is_some());
        assert!(!net.is_alive(3));
        net.run_until(10 * SECOND_US, &mut Ignore);
        assert_eq!(net.traffic().to_dead[Kind::Ping.index()], 5);
        assert_eq!(net.in_flight(), 0);
    }

    #[test]
    fn timers_fire_at_their_time_and_earlier_ones_supersede_later_ones() {
        let (mut net, _) = net(0.0, 4);
        net.call(1, 0, &mut Ignore, |e, _| e.alarm = Some(5 * SECOND_US));
        net.call(1, 0, &mut Ignore, |e, _| e.alarm = Some(2 * SECOND_US));
        net.invariants();
        net.run_until(10 * SECOND_US, &mut Ignore);
        assert_eq!(net.peer(1).unwrap().rung, vec![2 * SECOND_US]);
        assert_eq!(net.now(), 10 * SECOND_US);
    }

    #[test]
    fn the_same_seed_gives_the_same_deliveries() {
        let run = |seed| {
            let (mut net, _) = net(0.3, seed);
            pings(&mut net, 0, 1, 200, 0);
            pings(&mut net, 2, 1, 200, 0);
            net.run_until(10 * SECOND_US, &mut Ignore);
            net.peer(1).unwrap().got.clone()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }
}
