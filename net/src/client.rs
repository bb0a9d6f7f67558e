//! The calls a client makes through a running node (the [`crate::CLIENT_PROTOCOL`]),
//! and [`call`]: one such call from a process that is not a node.
//!
//! ```no_run
//! use pastry_net::client::{call, ClientRequest, ClientResponse};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = pastry_kernel::Guid::digest(b"alice");
//! let answer = call(
//!     "127.0.0.1:4001".parse()?,
//!     ClientRequest::Route { key: key.to_string(), payload: b"hello".to_vec() },
//!     Duration::from_secs(30),
//! )
//! .await?;
//! if let ClientResponse::Routed { root, hops, .. } = answer {
//!     println!("the root of {key} is {} ({hops} hops)", root.guid);
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, noise, tcp, yamux, SwarmBuilder};
use serde::{Deserialize, Serialize};

use crate::codec::{Codec, Request, Response, CLIENT_PROTOCOL};
use crate::handle::{socket_multiaddr, PeerHandle};

/// A client's call. Keys are [`Guid`](pastry_kernel::Guid)s written as 32 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// Who is the node, and what does its leaf set hold?
    Info,
    /// Route `payload` to the root of `key` (which raises it to its application) and answer
    /// with the root.
    Route {
        /// The key.
        key: String,
        /// The payload.
        payload: Vec<u8>,
    },
    /// Store `value` under `key` (the DHT's put).
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
    },
    /// Fetch the value of `key` (the DHT's get).
    Get {
        /// The key.
        key: String,
    },
    /// Delete `key` (the DHT's remove).
    Remove {
        /// The key.
        key: String,
    },
}

/// A node as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDesc {
    /// Its `Guid`, 32 hex digits.
    pub guid: String,
    /// Its `PeerId`.
    pub peer: String,
    /// The address it listens on.
    pub addr: String,
}

impl NodeDesc {
    /// The description of a node reference.
    #[must_use]
    pub fn of(n: &pastry_kernel::NodeRef<PeerHandle>) -> Self {
        NodeDesc {
            guid: n.id.to_string(),
            peer: n.handle.peer().to_string(),
            addr: n.handle.addr().to_string(),
        }
    }
}

/// The answer to a [`ClientRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientResponse {
    /// The answer to [`ClientRequest::Info`].
    Info {
        /// The node.
        node: NodeDesc,
        /// Whether it is active.
        active: bool,
        /// Its leaf set, successors then predecessors, nearest first.
        leaf_set: Vec<NodeDesc>,
    },
    /// The answer to [`ClientRequest::Route`].
    Routed {
        /// The node that delivered the message: the key's root.
        root: NodeDesc,
        /// Overlay hops from the contacted node to the root.
        hops: u8,
        /// Microseconds from the call until the root's answer reached the contacted node.
        micros: u64,
    },
    /// The answer to [`ClientRequest::Put`].
    Put {
        /// Replicas that hold the value.
        stored: u8,
    },
    /// The answer to [`ClientRequest::Get`]: the value, if the key has one.
    Got {
        /// The value.
        value: Option<Vec<u8>>,
    },
    /// The answer to [`ClientRequest::Remove`].
    Removed {
        /// Replicas that hold the tombstone.
        stored: u8,
    },
    /// The call failed.
    Error(String),
}

/// Why [`call`] failed.
#[derive(Debug)]
pub enum CallFailed {
    /// The client's transport could not be built.
    Transport(String),
    /// The node could not be reached or did not answer in time.
    Unreachable(String),
}

impl fmt::Display for CallFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailed::Transport(e) => write!(f, "cannot build the client's transport: {e}"),
            CallFailed::Unreachable(e) => write!(f, "no answer from the node: {e}"),
        }
    }
}

impl std::error::Error for CallFailed {}

/// Makes one call to the node listening at `node` from a fresh client identity, over TCP with
/// noise and yamux, and waits at most `timeout` for the answer.
///
/// # Errors
/// [`CallFailed`] when the transport cannot be built, the node cannot be dialled, or no answer
/// comes within `timeout`.
pub async fn call(
    node: SocketAddr,
    request: ClientRequest,
    timeout: Duration,
) -> Result<ClientResponse, CallFailed> {
    let behaviour = request_response::Behaviour::with_codec(
        Codec::new(crate::DEFAULT_MAX_FRAME),
        [(CLIENT_PROTOCOL, ProtocolSupport::Outbound)],
        request_response::Config::default().with_request_timeout(timeout),
    );
    let mut swarm = SwarmBuilder::with_existing_identity(identity::Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| CallFailed::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| CallFailed::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(timeout))
        .build();
    let dial = DialOpts::unknown_peer_id()
        .address(socket_multiaddr(node))
        .build();
    swarm
        .dial(dial)
        .map_err(|e| CallFailed::Unreachable(e.to_string()))?;
    let mut request = Some(request);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        let event = tokio::select! {
            e = swarm.select_next_some() => e,
            () = &mut deadline => return Err(CallFailed::Unreachable("timed out".into())),
        };
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                if let Some(r) = request.take() {
                    swarm
                        .behaviour_mut()
                        .send_request(&peer_id, Request::Client(r));
                }
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                return Err(CallFailed::Unreachable(error.to_string()));
            }
            SwarmEvent::Behaviour(request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        response: Response::Client(r),
                        ..
                    },
                ..
            }) => return Ok(r),
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { error, .. }) => {
                return Err(CallFailed::Unreachable(error.to_string()));
            }
            _ => {}
        }
    }
}
