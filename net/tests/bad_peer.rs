//! A peer that sends garbage bytes, or a frame over the cap, is cut off and counted, is
//! refused when it comes back, and the node keeps serving.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{dial_opts::DialOpts, SwarmEvent};
use libp2p::{noise, tcp, yamux, StreamProtocol, Swarm, SwarmBuilder};
use pastry_net::testnet::{Options, Rng, Testnet};
use pastry_net::{socket_multiaddr, NODE_PROTOCOL};

/// Writes its request bytes as they are, with no framing: the bad peer's codec.
#[derive(Clone, Default)]
struct Raw;

impl request_response::Codec for Raw {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        io.read_to_end(&mut v).await?;
        Ok(v)
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        io.read_to_end(&mut v).await?;
        Ok(v)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&res).await?;
        io.close().await
    }
}

fn bad_peer() -> Swarm<request_response::Behaviour<Raw>> {
    SwarmBuilder::with_existing_identity(Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::new(
                [(NODE_PROTOCOL, ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(5)),
            )
        })
        .unwrap()
        .build()
}

/// What happened to the bad peer's request and connection.
#[derive(Debug, Default)]
struct Seen {
    connected: bool,
    closed: bool,
    failed_request: bool,
    refused: bool,
}

/// Dials `addr`, sends `bytes` once connected, and watches for at most 10 s.
async fn misbehave(
    swarm: &mut Swarm<request_response::Behaviour<Raw>>,
    addr: std::net::SocketAddr,
    bytes: Vec<u8>,
) -> Seen {
    let mut seen = Seen::default();
    swarm
        .dial(
            DialOpts::unknown_peer_id()
                .address(socket_multiaddr(addr))
                .build(),
        )
        .unwrap();
    let mut bytes = Some(bytes);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    seen.connected = true;
                    if let Some(b) = bytes.take() {
                        swarm.behaviour_mut().send_request(&peer_id, b);
                    }
                }
                SwarmEvent::ConnectionClosed { .. } => {
                    seen.closed = true;
                    if seen.failed_request {
                        return;
                    }
                }
                SwarmEvent::OutgoingConnectionError { .. } => {
                    seen.refused = true;
                    return;
                }
                SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => {
                    seen.failed_request = true;
                    if seen.closed {
                        return;
                    }
                }
                _ => {}
            }
        }
    })
    .await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversize_frames_cut_the_peer_off_and_the_node_keeps_serving() {
    let mut rng = Rng::new(3);
    let opts = Options::new(4);
    let (mut net, _, _) = Testnet::start(&opts, &mut rng)
        .await
        .expect("four nodes join");
    net.wait_leaf_sets(Duration::from_secs(60))
        .await
        .expect("leaf sets settle");
    let target = net.addr(0).unwrap();

    // Garbage: a well-framed request whose bytes are no Pastry message.
    let mut garbage = bad_peer();
    let mut frame = 9u32.to_be_bytes().to_vec();
    frame.extend_from_slice(b"not pastr");
    let seen = misbehave(&mut garbage, target, frame).await;
    assert!(
        seen.connected && seen.closed && seen.failed_request,
        "{seen:?}"
    );
    let c = net.counters(0).await.unwrap();
    assert_eq!((c.malformed, c.cut_off), (1, 1), "{c:?}");

    // The same peer coming back is refused.
    let seen = misbehave(&mut garbage, target, b"x".to_vec()).await;
    assert!(!seen.connected || seen.closed, "{seen:?}");
    assert!(net.counters(0).await.unwrap().refused >= 1);

    // Oversize: a length field of 2 GiB; the node does not wait for the body.
    let mut oversize = bad_peer();
    let mut frame = 0x7fff_ffffu32.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0; 64]);
    let seen = misbehave(&mut oversize, target, frame).await;
    assert!(
        seen.connected && seen.closed && seen.failed_request,
        "{seen:?}"
    );
    let c = net.counters(0).await.unwrap();
    assert_eq!((c.bad_frames, c.cut_off), (1, 2), "{c:?}");

    // The node keeps serving: lookups from every node still end at the true root.
    let report = net
        .lookups(&mut rng, 200, 8, &indicatif::ProgressBar::hidden())
        .await;
    assert_eq!(report.at_root, 200, "{report:?}");
    assert_eq!(net.wrong_leaf_sets().await, 0);
    net.stop().await;
}
