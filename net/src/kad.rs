//! libp2p-kad nodes for the side-by-side comparison of the [test network](crate::testnet):
//! `kad::Behaviour` with its defaults (replication factor 20, parallelism 3) in server mode,
//! with identify so that each node learns the listen addresses of the nodes that dial it, as
//! libp2p's own examples run it. A lookup is `get_closest_peers` of the key's bytes; its
//! requests are the query's own count (`QueryStats::num_requests`). A put is `put_record` with
//! quorum one, a get `get_record` (its first answer counts).

use std::collections::HashMap;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore, KBucketKey, Mode, QueryResult};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, tcp, yamux, SwarmBuilder};
use pastry_kernel::Guid;
use tokio::sync::{mpsc, oneshot};

use crate::testnet::{Cmd, Member, Outcome, Snapshot};
use crate::{guid_of, socket_multiaddr};

/// The kad key of a lookup for `key`: its 16 bytes, as kad hashes them into its key space.
#[must_use]
pub fn key_of(key: Guid) -> KBucketKey<Vec<u8>> {
    KBucketKey::new(key.to_be_bytes().to_vec())
}

/// A kad node and identify.
#[derive(NetworkBehaviour)]
pub(crate) struct KadNode {
    kad: kad::Behaviour<MemoryStore>,
    identify: identify::Behaviour,
}

/// Starts a kad node listening on 127.0.0.1 (a free port).
pub(crate) async fn spawn(keypair: Keypair) -> Result<Member, String> {
    let peer = keypair.public().to_peer_id();
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| e.to_string())?
        .with_behaviour(|key| {
            let id = key.public().to_peer_id();
            let mut kad = kad::Behaviour::new(id, MemoryStore::new(id));
            kad.set_mode(Some(Mode::Server));
            KadNode {
                kad,
                identify: identify::Behaviour::new(identify::Config::new(
                    "/pastry-testnet/kad/1.0.0".into(),
                    key.public(),
                )),
            }
        })
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(crate::IDLE_CONNECTION_TIMEOUT))
        .build();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().map_err(|_| "address")?)
        .map_err(|e| e.to_string())?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            if let Some(a) = crate::multiaddr_socket(&address) {
                break a;
            }
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
    let task = tokio::spawn(async move {
        let mut lookups: HashMap<kad::QueryId, oneshot::Sender<Outcome>> = HashMap::new();
        let mut puts: HashMap<kad::QueryId, oneshot::Sender<bool>> = HashMap::new();
        let mut gets: HashMap<kad::QueryId, oneshot::Sender<Option<Option<Vec<u8>>>>> =
            HashMap::new();
        let mut joining: Option<(kad::QueryId, oneshot::Sender<Result<(), String>>)> = None;
        loop {
            tokio::select! {
                ev = swarm.select_next_some() => match ev {
                    SwarmEvent::Behaviour(KadNodeEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                        for a in info.listen_addrs {
                            swarm.behaviour_mut().kad.add_address(&peer_id, a);
                        }
                    }
                    SwarmEvent::Behaviour(KadNodeEvent::Kad(kad::Event::OutboundQueryProgressed { id, result, stats, step })) => {
                        match result {
                            QueryResult::Bootstrap(r) if step.last || r.is_err() => {
                                if let Some((q, done)) = joining.take() {
                                    if q == id {
                                        let _ = done.send(r.map(|_| ()).map_err(|e| e.to_string()));
                                    } else {
                                        joining = Some((q, done));
                                    }
                                }
                            }
                            QueryResult::PutRecord(r) => {
                                if let Some(reply) = puts.remove(&id) {
                                    let _ = reply.send(r.is_ok());
                                }
                            }
                            QueryResult::GetRecord(r) => {
                                let found = match r {
                                    Ok(kad::GetRecordOk::FoundRecord(p)) => Some(Some(p.record.value)),
                                    Ok(kad::GetRecordOk::FinishedWithNoAdditionalRecord { .. }) => Some(None),
                                    Err(kad::GetRecordError::NotFound { .. }) => Some(None),
                                    Err(_) => None,
                                };
                                // The first answer counts; the query's later steps find the reply gone.
                                if let Some(reply) = gets.remove(&id) {
                                    let _ = reply.send(found);
                                }
                            }
                            QueryResult::GetClosestPeers(r) => {
                                if let Some(reply) = lookups.remove(&id) {
                                    let peers = match r {
                                        Ok(ok) => ok.peers,
                                        Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
                                    };
                                    let _ = reply.send(Outcome {
                                        root: peers.first().map(|p| p.peer_id),
                                        hops: None,
                                        requests: Some(stats.num_requests()),
                                    });
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                },
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Cmd::Join { bootstrap, done }) => match bootstrap {
                        None => { let _ = done.send(Ok(())); }
                        Some((p, a)) => {
                            let k = &mut swarm.behaviour_mut().kad;
                            k.add_address(&p, socket_multiaddr(a));
                            match k.bootstrap() {
                                Ok(q) => joining = Some((q, done)),
                                Err(e) => { let _ = done.send(Err(e.to_string())); }
                            }
                        }
                    },
                    Some(Cmd::Lookup { key, reply }) => {
                        let q = swarm.behaviour_mut().kad.get_closest_peers(key.to_be_bytes().to_vec());
                        lookups.insert(q, reply);
                    }
                    Some(Cmd::Put { key, value, reply }) => {
                        let record = kad::Record::new(kad::RecordKey::new(&key.to_be_bytes()), value);
                        match swarm.behaviour_mut().kad.put_record(record, kad::Quorum::One) {
                            Ok(q) => { puts.insert(q, reply); }
                            Err(_) => { let _ = reply.send(false); }
                        }
                    }
                    Some(Cmd::Get { key, reply }) => {
                        let q = swarm.behaviour_mut().kad.get_record(kad::RecordKey::new(&key.to_be_bytes()));
                        gets.insert(q, reply);
                    }
                    Some(Cmd::Snapshot(reply)) => {
                        let _ = reply.send(Snapshot { active: true, ..Snapshot::default() });
                    }
                },
            }
        }
    });
    Ok(Member {
        peer,
        guid: guid_of(&peer),
        addr,
        tx,
        task,
    })
}
