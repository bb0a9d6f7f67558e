//! [`Behaviour`]: the libp2p `NetworkBehaviour` that hosts one Pastry node and its DHT.
//!
//! The behaviour drives a [`pastry_dht::Dht`], which owns the [`Node`]: the DHT's put, get and
//! remove travel as the node's routed messages. The behaviour is a host in the sans-I/O sense:
//! it moves bytes, keeps time and counts. Each
//! message the engine hands out ([`Dht::poll_transmit`]) becomes one request of
//! [`NODE_PROTOCOL`](crate::NODE_PROTOCOL); each request received is decoded, checked to come
//! from the `PeerId` the noise handshake proved, and handed to the engine ([`Dht::handle`]); the
//! response carries the messages the node addressed to the requester while handling it (the hop
//! `Ack` of a routed message among them). Timers come from tokio: the behaviour sleeps until
//! [`Dht::poll_timeout`] and then calls [`Dht::handle_timeout`]. Time is the node's `Time`:
//! microseconds since the behaviour was made.
//!
//! What the protocol decides stays in the node and the DHT: a failed dial or a request without response
//! changes nothing here, because the node already notices the missing `Ack`, `Pong` or reply,
//! re-routes and probes. The behaviour decides only what a host must: a peer that sends bytes
//! that are no message, an oversize frame, or a message in another node's name is cut off (its
//! connections closed, new ones refused for [`Config::ban`]) and counted.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::request_response::{self, ProtocolSupport, ResponseChannel};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{
    CloseConnection, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use pastry_dht::{Dht, DhtConfig, DhtConfigError, DhtError, DhtEvent, OpId};
use pastry_kernel::{Guid, NodeRef};
use pastry_node::message::MessageDecodeError;
use pastry_node::{CallError, Message, NoEstimate, Node, NodeConfig, NodeConfigError, Time};

use crate::client::{ClientRequest, ClientResponse, NodeDesc};
use crate::codec::{
    frame_error, Codec, FrameError, Request, Response, CLIENT_PROTOCOL, MAX_RESPONSE_MESSAGES,
    NODE_PROTOCOL,
};
use crate::handle::{guid_of, socket_multiaddr, PeerHandle, PeerIdTooLong};
use crate::payload::{Payload, OVERHEAD};

/// The default cap of one frame: 1 MiB, well over the largest message of a node with the
/// default 64 KiB payload cap (a whole state announcement with b = 4 takes under 64 KiB).
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// The host's settings, beside the node's own [`NodeConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The node's timers and caps (default [`NodeConfig::default`]; its payload cap is raised
    /// to what the DHT's largest value needs).
    pub node: NodeConfig,
    /// The DHT's replication factor, timers and caps (default [`DhtConfig::default`]).
    pub dht: DhtConfig,
    /// How long a request waits for its response before libp2p gives it up (default 10 s,
    /// the node's largest hop timeout). The node keeps its own, shorter, timeouts.
    pub request_timeout: Duration,
    /// The cap of one frame (default [`DEFAULT_MAX_FRAME`]).
    pub max_frame: usize,
    /// How long a peer that was cut off is refused (default 10 min).
    pub ban: Duration,
    /// Cap of the peers refused at once; the oldest ban ends first when it is reached
    /// (default 1024).
    pub max_banned: usize,
    /// How long a lookup, and a client's call waiting for one, waits for the root's answer
    /// (default 30 s).
    pub lookup_timeout: Duration,
    /// Cap of the lookups waiting for their answer (default 4096).
    pub max_lookups: usize,
    /// Seeds the node's random choices (mixed with the node's id).
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node: NodeConfig::default(),
            dht: DhtConfig::default(),
            request_timeout: Duration::from_secs(10),
            max_frame: DEFAULT_MAX_FRAME,
            ban: Duration::from_secs(600),
            max_banned: 1024,
            lookup_timeout: Duration::from_secs(30),
            max_lookups: 4096,
            seed: 0,
        }
    }
}

impl Config {
    /// The defaults with `node` as the node's configuration.
    #[must_use]
    pub fn with_node(node: NodeConfig) -> Self {
        Config {
            node,
            ..Config::default()
        }
    }
}

/// What a peer did to be cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A request frame over the cap, or a client frame that does not parse.
    BadFrame(FrameError),
    /// A response frame over the cap or otherwise malformed.
    BadResponse(FrameError),
    /// Bytes that are not a Pastry message.
    Malformed(MessageDecodeError),
    /// A message whose sender is not the peer that sent it (another `PeerId`, or an id that
    /// is not the `PeerId`'s [`guid_of`]).
    Spoofed,
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misbehaviour::BadFrame(e) => write!(f, "bad request frame: {e}"),
            Misbehaviour::BadResponse(e) => write!(f, "bad response frame: {e}"),
            Misbehaviour::Malformed(e) => write!(f, "not a message: {e}"),
            Misbehaviour::Spoofed => f.write_str("a message in another node's name"),
        }
    }
}

/// What the host did, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    /// Requests of the node protocol sent (one per message, less the ones that rode in
    /// responses).
    pub requests_sent: u64,
    /// Requests of the node protocol received.
    pub requests_received: u64,
    /// Messages sent inside responses.
    pub replies_in_responses: u64,
    /// Messages received inside responses.
    pub messages_in_responses: u64,
    /// Requests that failed because the dial failed.
    pub dial_failures: u64,
    /// Requests that got no response in time.
    pub timeouts: u64,
    /// Requests whose connection closed, or that failed otherwise, before the response.
    pub other_failures: u64,
    /// Oversize or malformed frames received.
    pub bad_frames: u64,
    /// Frames that decoded to no message.
    pub malformed: u64,
    /// Messages in another node's name.
    pub spoofed: u64,
    /// Peers cut off.
    pub cut_off: u64,
    /// Connections refused from or to a cut-off peer.
    pub refused: u64,
    /// Messages the node handed out that could not be encoded (a bug if ever non-zero).
    pub encode_failures: u64,
    /// Routed payloads without this host's framing.
    pub bad_payloads: u64,
    /// Client calls answered.
    pub client_calls: u64,
}

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupAnswer {
    /// The key's root: the node that delivered the lookup.
    pub root: NodeRef<PeerHandle>,
    /// Overlay hops from the origin to the root.
    pub hops: u8,
    /// Microseconds from the call until the root's answer arrived.
    pub micros: u64,
}

/// Why a lookup ended without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// The node gave the message up ([`pastry_node::Event::RouteFailed`]).
    RouteFailed,
    /// No answer within [`Config::lookup_timeout`].
    Timeout,
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LookupError::RouteFailed => "the lookup could not be routed",
            LookupError::Timeout => "no answer from the root in time",
        })
    }
}

impl std::error::Error for LookupError {}

/// What the behaviour tells the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The node's events: `Activated`, `JoinFailed`, `Update`, `Failed`, `RouteFailed`,
    /// `Forward` (deliveries come as [`Event::Delivered`]).
    Node(pastry_node::Event<PeerHandle>),
    /// The end of a put, get or remove started here: `PutDone`, `GetDone`, `RemoveDone` or
    /// `Failed` (never `Node`: those come as [`Event::Node`]).
    Dht(DhtEvent<PeerHandle>),
    /// A routed message (or lookup) ends here, at the root of its key (Common API `deliver`).
    Delivered {
        /// The key.
        key: Guid,
        /// Who routed it.
        origin: NodeRef<PeerHandle>,
        /// Its hops.
        hops: u8,
        /// The application's payload.
        payload: Vec<u8>,
        /// Whether it is a lookup (the origin is answered).
        lookup: bool,
    },
    /// A lookup started here ended.
    LookupDone {
        /// The number [`Behaviour::lookup`] returned.
        seq: u64,
        /// The key.
        key: Guid,
        /// The root, or why there is none.
        result: Result<LookupAnswer, LookupError>,
    },
    /// The bootstrap node could not be reached; the node is not joining. Call
    /// [`Behaviour::join`] again to retry.
    BootstrapFailed {
        /// The address dialled.
        addr: SocketAddr,
        /// What went wrong.
        error: String,
    },
    /// A peer was cut off.
    PeerCutOff {
        /// The peer.
        peer: PeerId,
        /// What it did.
        reason: Misbehaviour,
    },
}

/// Why [`Behaviour::join`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The node has already joined or is joining.
    AlreadyJoined,
    /// The local `PeerId` does not fit in a handle.
    PeerId(PeerIdTooLong),
    /// The node configuration is out of range.
    Config(NodeConfigError),
    /// The DHT configuration is out of range.
    Dht(DhtConfigError),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::AlreadyJoined => f.write_str("the node has already joined or is joining"),
            JoinError::PeerId(e) => e.fmt(f),
            JoinError::Config(e) => e.fmt(f),
            JoinError::Dht(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for JoinError {}

/// A connection refused because the peer was cut off.
#[derive(Debug)]
struct Banned(PeerId);

impl fmt::Display for Banned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer {} was cut off", self.0)
    }
}

impl std::error::Error for Banned {}

/// A lookup waiting for its answer.
struct Lookup {
    key: Guid,
    started: Time,
    deadline: Time,
    client: Option<ResponseChannel<Response>>,
}

/// The libp2p `NetworkBehaviour` that hosts one Pastry node.
///
/// Made idle with [`Behaviour::new`]; [`Behaviour::join`] (after the swarm listens) makes the
/// node and starts its join. Its events are [`Event`]s. See the [crate docs](crate) for a whole
/// program and for embedding it in a bigger behaviour.
pub struct Behaviour {
    rr: request_response::Behaviour<Codec>,
    cfg: Config,
    local: PeerId,
    epoch: tokio::time::Instant,
    last_now: Time,
    node: Option<Dht<PeerHandle, Guid, NoEstimate>>,
    /// Clients' puts, gets and removes waiting for their end.
    client_ops: BTreeMap<OpId, ResponseChannel<Response>>,
    /// The dial to the bootstrap node, waiting for its `PeerId`.
    bootstrap: Option<(ConnectionId, SocketAddr)>,
    lookups: BTreeMap<u64, Lookup>,
    lookup_deadlines: BTreeSet<(Time, u64)>,
    banned: HashMap<PeerId, Time>,
    banned_order: VecDeque<PeerId>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    sleep_at: Option<Time>,
    actions: VecDeque<ToSwarm<Event, THandlerInEvent<Self>>>,
    counters: NetCounters,
}

impl Behaviour {
    /// An idle behaviour for the local peer `local`.
    ///
    /// # Panics
    /// Outside a tokio runtime (its timer is tokio's).
    #[must_use]
    pub fn new(local: PeerId, cfg: Config) -> Self {
        let rr = request_response::Behaviour::with_codec(
            Codec::new(cfg.max_frame),
            [
                (NODE_PROTOCOL, ProtocolSupport::Full),
                (CLIENT_PROTOCOL, ProtocolSupport::Inbound),
            ],
            request_response::Config::default()
                .with_request_timeout(cfg.request_timeout)
                .with_max_concurrent_streams(256),
        );
        let epoch = tokio::time::Instant::now();
        Behaviour {
            rr,
            cfg,
            local,
            epoch,
            last_now: 0,
            node: None,
            client_ops: BTreeMap::new(),
            bootstrap: None,
            lookups: BTreeMap::new(),
            lookup_deadlines: BTreeSet::new(),
            banned: HashMap::new(),
            banned_order: VecDeque::new(),
            sleep: Box::pin(tokio::time::sleep_until(epoch)),
            sleep_at: None,
            actions: VecDeque::new(),
            counters: NetCounters::default(),
        }
    }

    /// Makes the node, named by the local `PeerId` and `listen` (the TCP address other nodes
    /// reach it at), and joins: through the node listening at `bootstrap` (dialled first to
    /// learn its `PeerId`), or, with `None`, as the first node of a new overlay (active at once).
    ///
    /// # Errors
    /// [`JoinError`]; nothing changes then.
    pub fn join(
        &mut self,
        listen: SocketAddr,
        bootstrap: Option<SocketAddr>,
    ) -> Result<(), JoinError> {
        self.make_node(listen)?;
        match bootstrap {
            None => {
                let now = self.now();
                if let Some(n) = self.node.as_mut() {
                    n.join(now, None).map_err(|_| JoinError::AlreadyJoined)?;
                }
                self.pump(now, None);
            }
            Some(addr) => {
                let opts = DialOpts::unknown_peer_id()
                    .address(socket_multiaddr(addr))
                    .build();
                self.bootstrap = Some((opts.connection_id(), addr));
                self.actions.push_back(ToSwarm::Dial { opts });
            }
        }
        Ok(())
    }

    /// As [`Behaviour::join`], through a contact whose `PeerId` is known.
    ///
    /// # Errors
    /// [`JoinError`]; nothing changes then.
    pub fn join_through(
        &mut self,
        listen: SocketAddr,
        contact: PeerHandle,
    ) -> Result<(), JoinError> {
        self.make_node(listen)?;
        let now = self.now();
        if let Some(n) = self.node.as_mut() {
            n.join(now, Some(contact))
                .map_err(|_| JoinError::AlreadyJoined)?;
        }
        self.pump(now, None);
        Ok(())
    }

    fn make_node(&mut self, listen: SocketAddr) -> Result<(), JoinError> {
        if self.bootstrap.is_some()
            || self
                .node
                .as_ref()
                .is_some_and(|n| n.node().phase() != pastry_node::Phase::Idle)
        {
            return Err(JoinError::AlreadyJoined);
        }
        let own = PeerHandle::new(self.local, listen).map_err(JoinError::PeerId)?;
        let seed = self.cfg.seed
            ^ u64::from_be_bytes(own.guid().to_be_bytes()[..8].try_into().unwrap_or_default());
        let node_cfg = self.cfg.dht.node_config(self.cfg.node);
        let node = Node::new(node_cfg, NodeRef::new(own.guid(), own), NoEstimate, seed)
            .map_err(JoinError::Config)?;
        self.node = Some(Dht::new(self.cfg.dht, node).map_err(JoinError::Dht)?);
        Ok(())
    }

    /// Routes `payload` to the root of `key` (Common API `route`); the root raises
    /// [`Event::Delivered`]. Returns the message's number.
    ///
    /// # Errors
    /// The engine's [`DhtError`] (not active, payload too large); nothing changes then.
    pub fn route(&mut self, key: Guid, payload: &[u8]) -> Result<u64, DhtError> {
        let now = self.now();
        let node = self
            .node
            .as_mut()
            .ok_or(DhtError::Node(CallError::NotActive))?;
        let seq = node.route(now, key, Payload::App(payload).to_vec())?;
        self.pump(now, None);
        Ok(seq)
    }

    /// Starts a lookup of `key`: routes `payload` to the key's root, which raises it as
    /// [`Event::Delivered`] and answers; [`Event::LookupDone`] with the returned number ends
    /// it here.
    ///
    /// # Errors
    /// The engine's [`DhtError`], or [`CallError::QueueFull`] when
    /// [`Config::max_lookups`] lookups are waiting; nothing changes then.
    pub fn lookup(&mut self, key: Guid, payload: &[u8]) -> Result<u64, DhtError> {
        self.start_lookup(key, payload, None).map_err(|(e, _)| e)
    }

    /// Stores `value` under `key` on the key's replica set (the DHT's `put`);
    /// [`Event::Dht`] with `PutDone` or `Failed` and the returned operation ends it.
    ///
    /// # Errors
    /// The engine's [`DhtError`]; nothing changes then.
    pub fn put(&mut self, key: Guid, value: Vec<u8>) -> Result<OpId, DhtError> {
        let now = self.now();
        let d = self
            .node
            .as_mut()
            .ok_or(DhtError::Node(CallError::NotActive))?;
        let op = d.put(now, key, value)?;
        self.pump(now, None);
        Ok(op)
    }

    /// Fetches the value of `key` from its replica set (the DHT's `get`); [`Event::Dht`]
    /// with `GetDone` or `Failed` ends it.
    ///
    /// # Errors
    /// The engine's [`DhtError`]; nothing changes then.
    pub fn get(&mut self, key: Guid) -> Result<OpId, DhtError> {
        let now = self.now();
        let d = self
            .node
            .as_mut()
            .ok_or(DhtError::Node(CallError::NotActive))?;
        let op = d.get(now, key)?;
        self.pump(now, None);
        Ok(op)
    }

    /// Deletes `key` from its replica set (a versioned tombstone; the DHT's `remove`);
    /// [`Event::Dht`] with `RemoveDone` or `Failed` ends it.
    ///
    /// # Errors
    /// The engine's [`DhtError`]; nothing changes then.
    pub fn remove(&mut self, key: Guid) -> Result<OpId, DhtError> {
        let now = self.now();
        let d = self
            .node
            .as_mut()
            .ok_or(DhtError::Node(CallError::NotActive))?;
        let op = d.remove(now, key)?;
        self.pump(now, None);
        Ok(op)
    }

    /// Leaves the overlay gracefully (the node tells its leaf set).
    ///
    /// # Errors
    /// [`CallError::NotActive`] when the node is not active.
    pub fn leave(&mut self) -> Result<(), CallError> {
        let now = self.now();
        self.node.as_mut().ok_or(CallError::NotActive)?.leave(now)?;
        self.pump(now, None);
        Ok(())
    }

    /// The node, once [`Behaviour::join`] made it.
    #[must_use]
    pub fn node(&self) -> Option<&Node<PeerHandle, Guid, NoEstimate>> {
        self.node.as_ref().map(Dht::node)
    }

    /// The DHT engine (which owns the node), once [`Behaviour::join`] made it.
    #[must_use]
    pub fn dht(&self) -> Option<&Dht<PeerHandle, Guid, NoEstimate>> {
        self.node.as_ref()
    }

    /// Whether the node is active.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.node().is_some_and(Node::is_active)
    }

    /// The local `PeerId`'s [`Guid`].
    #[must_use]
    pub fn guid(&self) -> Guid {
        guid_of(&self.local)
    }

    /// What the host did.
    #[must_use]
    pub fn counters(&self) -> &NetCounters {
        &self.counters
    }

    /// The host's settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Microseconds since the behaviour was made (never going back).
    fn now(&mut self) -> Time {
        let t = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_now = self.last_now.max(t);
        self.last_now
    }

    fn start_lookup(
        &mut self,
        key: Guid,
        payload: &[u8],
        client: Option<ResponseChannel<Response>>,
    ) -> Result<u64, (DhtError, Option<ResponseChannel<Response>>)> {
        if self.lookups.len() >= self.cfg.max_lookups {
            return Err((DhtError::Node(CallError::QueueFull), client));
        }
        let now = self.now();
        let Some(node) = self.node.as_mut() else {
            return Err((DhtError::Node(CallError::NotActive), client));
        };
        let max = node.node().config().max_payload;
        if payload.len() + OVERHEAD > max {
            let len = payload.len() + OVERHEAD;
            let e = DhtError::Node(CallError::PayloadTooLarge { len, max });
            return Err((e, client));
        }
        let seq = match node.route(now, key, Payload::Lookup(payload).to_vec()) {
            Ok(seq) => seq,
            Err(e) => return Err((e, client)),
        };
        let deadline = now.saturating_add(micros(self.cfg.lookup_timeout));
        self.lookups.insert(
            seq,
            Lookup {
                key,
                started: now,
                deadline,
                client,
            },
        );
        self.lookup_deadlines.insert((deadline, seq));
        self.pump(now, None);
        Ok(seq)
    }

    fn finish_lookup(
        &mut self,
        now: Time,
        seq: u64,
        result: Result<(NodeRef<PeerHandle>, u8), LookupError>,
    ) {
        let Some(l) = self.lookups.remove(&seq) else {
            return;
        };
        self.lookup_deadlines.remove(&(l.deadline, seq));
        let micros = now.saturating_sub(l.started);
        let result = result.map(|(root, hops)| LookupAnswer { root, hops, micros });
        if let Some(ch) = l.client {
            let answer = match &result {
                Ok(a) => ClientResponse::Routed {
                    root: NodeDesc::of(&a.root),
                    hops: a.hops,
                    micros: a.micros,
                },
                Err(e) => ClientResponse::Error(e.to_string()),
            };
            self.counters.client_calls += 1;
            let _ = self.rr.send_response(ch, Response::Client(answer));
        }
        self.emit(Event::LookupDone {
            seq,
            key: l.key,
            result,
        });
    }

    fn emit(&mut self, e: Event) {
        self.actions.push_back(ToSwarm::GenerateEvent(e));
    }

    /// Moves the node's events and transmits out of it after an input. Transmits to
    /// `reply_to` (the peer whose request is being handled) are returned, to ride in the
    /// response; the others are sent as requests.
    fn pump(&mut self, now: Time, reply_to: Option<PeerHandle>) -> Vec<Vec<u8>> {
        let mut replies = Vec::new();
        while let Some(node) = self.node.as_mut() {
            if let Some(e) = node.poll_event() {
                match e {
                    DhtEvent::Node(e) => self.on_node_event(now, e),
                    other => self.on_dht_event(other),
                }
                continue;
            }
            let Some(t) = node.poll_transmit() else {
                break;
            };
            let bytes = match t.message.to_vec(node.node().config().max_payload) {
                Ok(b) => b,
                Err(_) => {
                    self.counters.encode_failures += 1;
                    continue;
                }
            };
            if Some(t.to) == reply_to && replies.len() < MAX_RESPONSE_MESSAGES {
                self.counters.replies_in_responses += 1;
                replies.push(bytes);
            } else {
                self.send(t.to, bytes);
            }
        }
        replies
    }

    fn send(&mut self, to: PeerHandle, bytes: Vec<u8>) {
        let peer = to.peer();
        if peer == self.local {
            return;
        }
        if self.is_banned(peer) {
            self.counters.refused += 1;
            return;
        }
        self.counters.requests_sent += 1;
        self.rr
            .send_request_with_addresses(&peer, Request::Node(bytes), vec![to.multiaddr()]);
    }

    fn on_dht_event(&mut self, e: DhtEvent<PeerHandle>) {
        let op = match &e {
            DhtEvent::PutDone { op, .. }
            | DhtEvent::GetDone { op, .. }
            | DhtEvent::RemoveDone { op, .. }
            | DhtEvent::Failed { op, .. } => Some(*op),
            DhtEvent::Node(_) => None,
        };
        if let Some(ch) = op.and_then(|op| self.client_ops.remove(&op)) {
            let answer = match &e {
                DhtEvent::PutDone { stored, .. } => ClientResponse::Put { stored: *stored },
                DhtEvent::GetDone { value, .. } => ClientResponse::Got {
                    value: value.clone(),
                },
                DhtEvent::RemoveDone { stored, .. } => ClientResponse::Removed { stored: *stored },
                DhtEvent::Failed { reason, .. } => ClientResponse::Error(reason.to_string()),
                DhtEvent::Node(_) => return,
            };
            self.counters.client_calls += 1;
            let _ = self.rr.send_response(ch, Response::Client(answer));
            return;
        }
        self.emit(Event::Dht(e));
    }

    fn on_node_event(&mut self, now: Time, e: pastry_node::Event<PeerHandle>) {
        match e {
            pastry_node::Event::Deliver {
                key,
                origin,
                seq,
                hops,
                payload,
            } => match Payload::parse(&payload) {
                Some(Payload::App(p)) => self.emit(Event::Delivered {
                    key,
                    origin,
                    hops,
                    payload: p.to_vec(),
                    lookup: false,
                }),
                Some(Payload::Lookup(p)) => {
                    self.emit(Event::Delivered {
                        key,
                        origin,
                        hops,
                        payload: p.to_vec(),
                        lookup: true,
                    });
                    let answer = Payload::Answer { seq, hops }.to_vec();
                    if let Some(n) = self.node.as_mut() {
                        let _ = n.route_to(now, origin, answer);
                    }
                }
                Some(Payload::Answer { seq, hops }) => {
                    self.finish_lookup(now, seq, Ok((origin, hops)));
                }
                None => self.counters.bad_payloads += 1,
            },
            pastry_node::Event::RouteFailed { key, origin, seq } => {
                if origin.handle.peer() == self.local {
                    self.finish_lookup(now, seq, Err(LookupError::RouteFailed));
                }
                self.emit(Event::Node(pastry_node::Event::RouteFailed {
                    key,
                    origin,
                    seq,
                }));
            }
            other => self.emit(Event::Node(other)),
        }
    }

    fn is_banned(&mut self, peer: PeerId) -> bool {
        let now = self.now();
        match self.banned.get(&peer) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.banned.remove(&peer);
                self.banned_order.retain(|p| *p != peer);
                false
            }
            None => false,
        }
    }

    fn cut_off(&mut self, peer: PeerId, reason: Misbehaviour) {
        match reason {
            Misbehaviour::BadFrame(_) | Misbehaviour::BadResponse(_) => {
                self.counters.bad_frames += 1;
            }
            Misbehaviour::Malformed(_) => self.counters.malformed += 1,
            Misbehaviour::Spoofed => self.counters.spoofed += 1,
        }
        tracing::warn!(%peer, %reason, "cutting off peer");
        self.counters.cut_off += 1;
        let until = self.now().saturating_add(micros(self.cfg.ban));
        if !self.banned.contains_key(&peer) {
            if self.banned_order.len() >= self.cfg.max_banned {
                if let Some(old) = self.banned_order.pop_front() {
                    self.banned.remove(&old);
                }
            }
            self.banned_order.push_back(peer);
        }
        self.banned.insert(peer, until);
        self.actions.push_back(ToSwarm::CloseConnection {
            peer_id: peer,
            connection: CloseConnection::All,
        });
        self.emit(Event::PeerCutOff { peer, reason });
    }

    /// Decodes a message from `peer` and checks that `peer` sent it in its own name.
    fn accept(&self, peer: PeerId, bytes: &[u8]) -> Result<Message<PeerHandle>, Misbehaviour> {
        let max = self
            .node
            .as_ref()
            .map_or(self.cfg.node.max_payload, |n| n.node().config().max_payload);
        let msg = Message::<PeerHandle>::decode(bytes, max).map_err(Misbehaviour::Malformed)?;
        if msg.from.handle.peer() != peer || msg.from.id != guid_of(&peer) {
            return Err(Misbehaviour::Spoofed);
        }
        Ok(msg)
    }

    fn on_request(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
        if self.is_banned(peer) {
            return;
        }
        match request {
            Request::Refused(e) => self.cut_off(peer, Misbehaviour::BadFrame(e)),
            Request::Client(c) => self.on_client(c, channel),
            Request::Node(bytes) => {
                self.counters.requests_received += 1;
                match self.accept(peer, &bytes) {
                    Err(m) => self.cut_off(peer, m),
                    Ok(msg) => {
                        let now = self.now();
                        let from = msg.from.handle;
                        let replies = match self.node.as_mut() {
                            Some(n) => {
                                n.handle(now, from, msg);
                                self.pump(now, Some(from))
                            }
                            None => Vec::new(),
                        };
                        let _ = self.rr.send_response(channel, Response::Node(replies));
                    }
                }
            }
        }
    }

    fn on_response(&mut self, peer: PeerId, response: Response) {
        let Response::Node(messages) = response else {
            return;
        };
        for bytes in messages {
            match self.accept(peer, &bytes) {
                Err(m) => {
                    self.cut_off(peer, m);
                    return;
                }
                Ok(msg) => {
                    self.counters.messages_in_responses += 1;
                    let now = self.now();
                    if let Some(n) = self.node.as_mut() {
                        n.handle(now, msg.from.handle, msg);
                        self.pump(now, None);
                    }
                }
            }
        }
    }

    fn on_client(&mut self, request: ClientRequest, channel: ResponseChannel<Response>) {
        match request {
            ClientRequest::Info => {
                let answer = match self.node.as_ref() {
                    Some(d) => {
                        let n = d.node();
                        let leaf = n.state().leaf_set();
                        ClientResponse::Info {
                            node: NodeDesc::of(n.own()),
                            active: n.is_active(),
                            leaf_set: leaf
                                .successors()
                                .iter()
                                .chain(leaf.predecessors())
                                .map(NodeDesc::of)
                                .collect(),
                        }
                    }
                    None => ClientResponse::Error("the node has not joined".into()),
                };
                self.counters.client_calls += 1;
                let _ = self.rr.send_response(channel, Response::Client(answer));
            }
            ClientRequest::Put { key, value } => {
                self.client_op(&key, channel, |b, k| b.put(k, value));
            }
            ClientRequest::Get { key } => self.client_op(&key, channel, Behaviour::get),
            ClientRequest::Remove { key } => self.client_op(&key, channel, Behaviour::remove),
            ClientRequest::Route { key, payload } => {
                let (error, channel) = match key.parse::<Guid>() {
                    Err(e) => (format!("bad key {key:?}: {e}"), Some(channel)),
                    Ok(k) => match self.start_lookup(k, &payload, Some(channel)) {
                        Ok(_) => return,
                        Err((e, channel)) => (e.to_string(), channel),
                    },
                };
                let Some(channel) = channel else {
                    return;
                };
                self.counters.client_calls += 1;
                let _ = self
                    .rr
                    .send_response(channel, Response::Client(ClientResponse::Error(error)));
            }
        }
    }

    /// Starts a client's put, get or remove; its answer goes out when the operation ends.
    fn client_op(
        &mut self,
        key: &str,
        channel: ResponseChannel<Response>,
        start: impl FnOnce(&mut Self, Guid) -> Result<OpId, DhtError>,
    ) {
        let error = match key.parse::<Guid>() {
            Err(e) => format!("bad key {key:?}: {e}"),
            Ok(k) => match start(self, k) {
                Ok(op) => {
                    // The operation may have ended at once (this node the only replica): its
                    // event is then already queued; it is taken back and answered here.
                    let ended = self.actions.iter().position(|a| {
                        matches!(a, ToSwarm::GenerateEvent(Event::Dht(
                            DhtEvent::PutDone { op: o, .. }
                            | DhtEvent::GetDone { op: o, .. }
                            | DhtEvent::RemoveDone { op: o, .. }
                            | DhtEvent::Failed { op: o, .. },
                        )) if *o == op)
                    });
                    self.client_ops.insert(op, channel);
                    if let Some(i) = ended {
                        if let Some(ToSwarm::GenerateEvent(Event::Dht(e))) = self.actions.remove(i)
                        {
                            self.on_dht_event(e);
                        }
                    }
                    return;
                }
                Err(e) => e.to_string(),
            },
        };
        self.counters.client_calls += 1;
        let _ = self
            .rr
            .send_response(channel, Response::Client(ClientResponse::Error(error)));
    }

    fn on_rr_event(&mut self, e: request_response::Event<Request, Response>) {
        match e {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_request(peer, request, channel),
                request_response::Message::Response { response, .. } => {
                    self.on_response(peer, response);
                }
            },
            request_response::Event::OutboundFailure { peer, error, .. } => match error {
                request_response::OutboundFailure::DialFailure => self.counters.dial_failures += 1,
                request_response::OutboundFailure::Timeout => self.counters.timeouts += 1,
                request_response::OutboundFailure::Io(e) => match frame_error(&e) {
                    Some(f) => self.cut_off(peer, Misbehaviour::BadResponse(f)),
                    None => self.counters.other_failures += 1,
                },
                _ => self.counters.other_failures += 1,
            },
            request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// The next time the behaviour must act: the node's earliest timer or a lookup's deadline.
    fn next_deadline(&self) -> Option<Time> {
        let node = self.node.as_ref().and_then(Dht::poll_timeout);
        let lookup = self.lookup_deadlines.first().map(|(t, _)| *t);
        match (node, lookup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, now: Time) {
        if let Some(n) = self.node.as_mut() {
            if n.poll_timeout().is_some_and(|t| t <= now) {
                n.handle_timeout(now);
            }
        }
        while let Some(&(at, seq)) = self.lookup_deadlines.first() {
            if at > now {
                break;
            }
            self.finish_lookup(now, seq, Err(LookupError::Timeout));
        }
        self.pump(now, None);
    }

    fn deny_banned(&mut self, peer: PeerId) -> Result<(), ConnectionDenied> {
        if self.is_banned(peer) {
            self.counters.refused += 1;
            return Err(ConnectionDenied::new(Banned(peer)));
        }
        Ok(())
    }
}

/// A duration in microseconds, saturating.
fn micros(d: Duration) -> Time {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler =
        <request_response::Behaviour<Codec> as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = Event;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.rr
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.deny_banned(peer)?;
        self.rr
            .handle_established_inbound_connection(connection_id, peer, local_addr, remote_addr)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(p) = maybe_peer {
            self.deny_banned(p)?;
        }
        self.rr.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.deny_banned(peer)?;
        self.rr.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(c) => {
                if let Some((id, addr)) = self.bootstrap {
                    if id == c.connection_id {
                        self.bootstrap = None;
                        let now = self.now();
                        match PeerHandle::new(c.peer_id, addr) {
                            Ok(contact) if c.peer_id != self.local => {
                                if let Some(n) = self.node.as_mut() {
                                    let _ = n.join(now, Some(contact));
                                }
                                self.pump(now, None);
                            }
                            _ => {
                                self.node = None;
                                self.emit(Event::BootstrapFailed {
                                    addr,
                                    error: format!("{} cannot be a contact", c.peer_id),
                                });
                            }
                        }
                    }
                }
            }
            FromSwarm::DialFailure(f) => {
                if let Some((id, addr)) = self.bootstrap {
                    if id == f.connection_id {
                        self.bootstrap = None;
                        self.node = None;
                        self.emit(Event::BootstrapFailed {
                            addr,
                            error: f.error.to_string(),
                        });
                    }
                }
            }
            _ => {}
        }
        self.rr.on_swarm_event(event);
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.rr
            .on_connection_handler_event(peer_id, connection_id, event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        loop {
            if let Some(a) = self.actions.pop_front() {
                return Poll::Ready(a);
            }
            if let Some(at) = self.next_deadline() {
                let now = self.now();
                if at <= now {
                    self.on_timeout(now);
                    continue;
                }
                if self.sleep_at != Some(at) {
                    self.sleep
                        .as_mut()
                        .reset(self.epoch + Duration::from_micros(at));
                    self.sleep_at = Some(at);
                }
                if self.sleep.as_mut().poll(cx).is_ready() {
                    // The timer's clock may round below `at`: the node is told `at`.
                    self.sleep_at = None;
                    self.last_now = self.last_now.max(at);
                    self.on_timeout(at.max(now));
                    continue;
                }
            }
            match self.rr.poll(cx) {
                Poll::Ready(ToSwarm::GenerateEvent(e)) => self.on_rr_event(e),
                Poll::Ready(other) => {
                    return Poll::Ready(other.map_out(|_| unreachable!("handled above")));
                }
                Poll::Pending => {
                    if let Some(a) = self.actions.pop_front() {
                        return Poll::Ready(a);
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
