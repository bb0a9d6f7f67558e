//! # pastry-net
//!
//! Pastry on real sockets: a [rust-libp2p](libp2p) `NetworkBehaviour` ([`Behaviour`]) that hosts
//! one [`pastry_node::Node`] and its DHT ([`pastry_dht::Dht`]: put, get, remove with k-fold
//! replication) over TCP with noise and yamux, and the `pastry` binary (a node, a client, and a
//! test network of many nodes on loopback).
//!
//! The behaviour is a host of the sans-I/O engine and nothing more: every message of the node
//! is one request of [`NODE_PROTOCOL`] (its response is the transport-level acknowledgement and
//! carries the node's answers to the requester, such as the hop `Ack`), the node's timers run
//! on tokio, and its clock is microseconds since the behaviour was made. Nodes are named by a
//! [`PeerHandle`] (the `PeerId` and the TCP address the node listens on) and their
//! [`Guid`](pastry_kernel::Guid) is [`guid_of`] the `PeerId`: the first 16 bytes of its SHA-256.
//! All protocol decisions (whom to ask, when to retry, what to merge) are the node's.
//!
//! ## Running a node
//!
//! ```no_run
//! use futures::StreamExt;
//! use libp2p::identity::Keypair;
//! use libp2p::swarm::SwarmEvent;
//! use pastry_net::{build_swarm, Config, Event};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let mut swarm = build_swarm(Keypair::generate_ed25519(), Config::default())?;
//! let listen = "127.0.0.1:4001".parse()?;
//! swarm.listen_on(pastry_net::socket_multiaddr(listen))?;
//! // Join through a running node (or `None` to start a new overlay).
//! swarm.behaviour_mut().join(listen, Some("127.0.0.1:4000".parse()?))?;
//! loop {
//!     if let SwarmEvent::Behaviour(e) = swarm.select_next_some().await {
//!         match e {
//!             Event::Node(pastry_node::Event::Activated { .. }) => {
//!                 let key = pastry_kernel::Guid::digest(b"some key");
//!                 swarm.behaviour_mut().lookup(key, b"")?;
//!                 swarm.behaviour_mut().put(key, b"some value".to_vec())?;
//!                 swarm.behaviour_mut().get(key)?;
//!             }
//!             Event::LookupDone { key, result: Ok(a), .. } => {
//!                 println!("{key} is at {} ({} hops)", a.root.handle, a.hops);
//!             }
//!             Event::Delivered { payload, .. } => println!("got {payload:?}"),
//!             Event::Dht(pastry_dht::DhtEvent::GetDone { key, value, .. }) => {
//!                 println!("{key} holds {value:?}");
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! ## Embedding it in a libp2p application
//!
//! [`Behaviour`] composes with other behaviours through libp2p's derive macro; its events come
//! out as one variant of the application's event type. The transport needs nothing special
//! (TCP, noise, yamux here), but the node must be told the TCP address it is reached at, since
//! that address travels in its handle.
//!
//! ```no_run
//! use libp2p::swarm::NetworkBehaviour;
//! use libp2p::{identify, noise, tcp, yamux, SwarmBuilder};
//!
//! #[derive(NetworkBehaviour)]
//! struct App {
//!     pastry: pastry_net::Behaviour,
//!     identify: identify::Behaviour,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut swarm = SwarmBuilder::with_new_identity()
//!     .with_tokio()
//!     .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)?
//!     .with_behaviour(|key| App {
//!         pastry: pastry_net::Behaviour::new(key.public().to_peer_id(), Default::default()),
//!         identify: identify::Behaviour::new(identify::Config::new(
//!             "/my-app/1.0.0".into(),
//!             key.public(),
//!         )),
//!     })?
//!     // Keep idle connections to leaf-set neighbours between heartbeats.
//!     .with_swarm_config(|c| c.with_idle_connection_timeout(std::time::Duration::from_secs(60)))
//!     .build();
//! let listen = "127.0.0.1:4002".parse()?;
//! swarm.listen_on(pastry_net::socket_multiaddr(listen))?;
//! swarm.behaviour_mut().pastry.join(listen, Some("127.0.0.1:4001".parse()?))?;
//! // ... then poll the swarm; `AppEvent::Pastry(pastry_net::Event::...)` carries its events.
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod behaviour;
pub mod client;
mod codec;
mod handle;
pub mod kad;
mod payload;
pub mod testnet;

use std::time::Duration;

use libp2p::{identity, noise, tcp, yamux, Swarm, SwarmBuilder};

pub use behaviour::{
    Behaviour, Config, Event, JoinError, LookupAnswer, LookupError, Misbehaviour, NetCounters,
    DEFAULT_MAX_FRAME,
};
pub use codec::{
    frame_error, Codec, FrameError, Request, Response, CLIENT_PROTOCOL, MAX_RESPONSE_MESSAGES,
    NODE_PROTOCOL,
};
pub use handle::{
    guid_of, multiaddr_socket, socket_multiaddr, PeerHandle, PeerIdTooLong, MAX_PEER_ID_LEN,
};

/// How long an idle connection stays open: past the default heartbeat period (20 s), so
/// connections to leaf-set neighbours are not re-made for every heartbeat.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// A swarm of one [`Behaviour`] over TCP (no delay) with noise and yamux, on tokio, with
/// `keypair` as its identity.
///
/// # Errors
/// The transport could not be built (noise key generation failed).
///
/// # Panics
/// Outside a tokio runtime.
pub fn build_swarm(
    keypair: identity::Keypair,
    cfg: Config,
) -> Result<Swarm<Behaviour>, Box<dyn std::error::Error + Send + Sync>> {
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| Behaviour::new(key.public().to_peer_id(), cfg))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}
