//! `pastry`: run a Pastry node on real sockets, call a running node as a client, or run a test
//! network of many nodes on 127.0.0.1 (and libp2p-kad beside it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use pastry_kernel::Guid;
use pastry_net::client::{call, ClientRequest, ClientResponse};
use pastry_net::testnet::{self, Engine, Options, Report};
use pastry_net::{build_swarm, guid_of, socket_multiaddr, Config, Event};
use pastry_node::NodeConfig;
use tracing::{info, warn};

#[derive(Parser)]
#[command(name = "pastry", version, about = "Pastry overlays on rust-libp2p")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node: start a new overlay, or join one through --bootstrap.
    Node {
        /// The TCP address to listen on, which other nodes use to reach this one.
        #[arg(long)]
        listen: SocketAddr,
        /// The TCP address of a running node to join through.
        #[arg(long)]
        bootstrap: Option<SocketAddr>,
        /// A file holding the node's key (created with a new key if it does not exist);
        /// without it the node has a new identity every run.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Heartbeat period in milliseconds (the protocol's default is 20,000).
        #[arg(long, default_value_t = 20_000)]
        heartbeat_ms: u64,
        /// First probe timeout in milliseconds (the protocol's default is 1,000).
        #[arg(long, default_value_t = 1_000)]
        probe_timeout_ms: u64,
    },
    /// Route a message to the root of KEY through the node at --peer and print the root.
    Route {
        /// The node to call.
        #[arg(long)]
        peer: SocketAddr,
        /// The key: 32 hex digits, or any other text (hashed to a key with SHA-256).
        key: String,
        /// The message delivered at the root.
        #[arg(long, default_value = "")]
        message: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Store VALUE under KEY through the node at --peer (on the key's replica set).
    Put {
        /// The node to call.
        #[arg(long)]
        peer: SocketAddr,
        /// The key: 32 hex digits, or any other text (hashed to a key with SHA-256).
        key: String,
        /// The value.
        value: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 40)]
        timeout: u64,
    },
    /// Print the value of KEY, fetched through the node at --peer.
    Get {
        /// The node to call.
        #[arg(long)]
        peer: SocketAddr,
        /// The key: 32 hex digits, or any other text (hashed to a key with SHA-256).
        key: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 40)]
        timeout: u64,
    },
    /// Delete KEY through the node at --peer.
    Remove {
        /// The node to call.
        #[arg(long)]
        peer: SocketAddr,
        /// The key: 32 hex digits, or any other text (hashed to a key with SHA-256).
        key: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 40)]
        timeout: u64,
    },
    /// Print the identity and leaf set of the node at --peer.
    Info {
        /// The node to call.
        #[arg(long)]
        peer: SocketAddr,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Run N nodes in this process on 127.0.0.1, joined over TCP, and measure them.
    Testnet {
        /// Nodes.
        #[arg(long, default_value_t = 50)]
        nodes: usize,
        /// Percentage of the nodes to kill after the first measurements.
        #[arg(long, default_value_t = 0)]
        kill: u32,
        /// Lookups per measurement.
        #[arg(long, default_value_t = 1000)]
        lookups: usize,
        /// Lookups in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Joins in progress at once (a root serves one joining node per side at a time, so
        /// concurrent joins near each other wait for each other).
        #[arg(long, default_value_t = 1)]
        join_parallelism: usize,
        /// The overlay: pastry, kad, or both one after the other.
        #[arg(long, value_enum, default_value_t = EngineArg::Pastry)]
        engine: EngineArg,
        /// Seed of keys, origins and identities.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Pastry,
    Kad,
    Both,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libp2p_swarm=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Node {
                listen,
                bootstrap,
                key,
                heartbeat_ms,
                probe_timeout_ms,
            } => {
                run_node(
                    listen,
                    bootstrap,
                    key.as_deref(),
                    heartbeat_ms,
                    probe_timeout_ms,
                )
                .await
            }
            Command::Route {
                peer,
                key,
                message,
                timeout,
            } => route(peer, &key, message, timeout).await,
            Command::Info { peer, timeout } => node_info(peer, timeout).await,
            Command::Put {
                peer,
                key,
                value,
                timeout,
            } => {
                let key = parse_key(&key).to_string();
                let value = value.into_bytes();
                dht_call(peer, ClientRequest::Put { key, value }, timeout).await
            }
            Command::Get { peer, key, timeout } => {
                let key = parse_key(&key).to_string();
                dht_call(peer, ClientRequest::Get { key }, timeout).await
            }
            Command::Remove { peer, key, timeout } => {
                let key = parse_key(&key).to_string();
                dht_call(peer, ClientRequest::Remove { key }, timeout).await
            }
            Command::Testnet {
                nodes,
                kill,
                lookups,
                concurrency,
                join_parallelism,
                engine,
                seed,
                json,
            } => {
                let mut opts = Options::new(nodes);
                opts.join_parallelism = join_parallelism;
                opts.kill_percent = kill;
                opts.lookups = lookups;
                opts.concurrency = concurrency;
                opts.seed = seed;
                opts.progress = !json;
                run_testnet(opts, engine, json).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The key of a `route` argument: 32 hex digits as they are, other text hashed.
fn parse_key(s: &str) -> Guid {
    if s.len() == 32 {
        if let Ok(g) = s.parse::<Guid>() {
            return g;
        }
    }
    Guid::digest(s.as_bytes())
}

fn load_or_create_key(path: &Path) -> Result<Keypair, Box<dyn std::error::Error + Send + Sync>> {
    if path.exists() {
        let bytes = std::fs::read(path)?;
        return Ok(Keypair::from_protobuf_encoding(&bytes)?);
    }
    let k = Keypair::generate_ed25519();
    std::fs::write(path, k.to_protobuf_encoding()?)?;
    Ok(k)
}

async fn run_node(
    listen: SocketAddr,
    bootstrap: Option<SocketAddr>,
    key: Option<&Path>,
    heartbeat_ms: u64,
    probe_timeout_ms: u64,
) -> Res {
    let keypair = match key {
        Some(p) => load_or_create_key(p)?,
        None => Keypair::generate_ed25519(),
    };
    let peer = keypair.public().to_peer_id();
    let mut node = NodeConfig::default();
    node.heartbeat = Duration::from_millis(heartbeat_ms.max(1));
    node.probe_timeout = Duration::from_millis(probe_timeout_ms.max(1));
    node.validate()?;
    let mut swarm = build_swarm(keypair, Config::with_node(node))?;
    swarm.listen_on(socket_multiaddr(listen))?;
    println!("peer {peer}");
    println!("guid {}", guid_of(&peer));
    println!("listen {listen}");
    swarm.behaviour_mut().join(listen, bootstrap)?;
    match bootstrap {
        None => info!("started a new overlay"),
        Some(b) => info!(%b, "joining through"),
    }
    loop {
        tokio::select! {
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::Behaviour(e) => log_event(&e),
                SwarmEvent::NewListenAddr { address, .. } => info!(%address, "listening"),
                _ => {}
            },
            _ = tokio::signal::ctrl_c() => {
                info!("leaving");
                let _ = swarm.behaviour_mut().leave();
                // Give the leave messages a moment to go out.
                let _ = tokio::time::timeout(Duration::from_millis(500), async {
                    loop { swarm.select_next_some().await; }
                }).await;
                return Ok(());
            }
        }
    }
}

fn log_event(e: &Event) {
    match e {
        Event::Node(pastry_node::Event::Activated { at }) => {
            info!(after_ms = at / 1000, "active");
        }
        Event::Node(pastry_node::Event::JoinFailed) => warn!("every join attempt failed"),
        Event::Node(pastry_node::Event::Update { node, joined }) => {
            info!(id = %node.id, peer = %node.handle, joined, "leaf set changed");
        }
        Event::Node(pastry_node::Event::Failed { node }) => {
            warn!(id = %node.id, peer = %node.handle, "node failed; repairing");
        }
        Event::Node(pastry_node::Event::RouteFailed { key, .. }) => {
            warn!(%key, "a message could not be routed");
        }
        Event::Node(_) => {}
        Event::Delivered {
            key,
            origin,
            hops,
            payload,
            ..
        } => info!(
            %key,
            origin = %origin.id,
            hops,
            message = %String::from_utf8_lossy(payload),
            "delivered"
        ),
        Event::LookupDone { key, result, .. } => info!(%key, ?result, "lookup done"),
        Event::BootstrapFailed { addr, error } => warn!(%addr, %error, "bootstrap failed"),
        Event::PeerCutOff { peer, reason } => warn!(%peer, %reason, "peer cut off"),
        Event::Dht(e) => info!(?e, "dht operation done"),
    }
}

async fn route(peer: SocketAddr, key: &str, message: String, timeout: u64) -> Res {
    let k = parse_key(key);
    let answer = call(
        peer,
        ClientRequest::Route {
            key: k.to_string(),
            payload: message.into_bytes(),
        },
        Duration::from_secs(timeout),
    )
    .await?;
    match answer {
        ClientResponse::Routed { root, hops, micros } => {
            println!("key {k}");
            println!("root {}", root.guid);
            println!("root-peer {}", root.peer);
            println!("root-addr {}", root.addr);
            println!("hops {hops}");
            println!("ms {:.3}", micros as f64 / 1000.0);
            Ok(())
        }
        ClientResponse::Error(e) => Err(e.into()),
        other => Err(format!("unexpected answer {other:?}").into()),
    }
}

/// A put, get or remove through a node; prints its answer.
async fn dht_call(peer: SocketAddr, request: ClientRequest, timeout: u64) -> Res {
    match call(peer, request, Duration::from_secs(timeout)).await? {
        ClientResponse::Put { stored } => println!("stored {stored}"),
        ClientResponse::Removed { stored } => println!("removed {stored}"),
        ClientResponse::Got { value: Some(v) } => {
            println!("value {}", String::from_utf8_lossy(&v));
        }
        ClientResponse::Got { value: None } => println!("none"),
        ClientResponse::Error(e) => return Err(e.into()),
        other => return Err(format!("unexpected answer {other:?}").into()),
    }
    Ok(())
}

async fn node_info(peer: SocketAddr, timeout: u64) -> Res {
    match call(peer, ClientRequest::Info, Duration::from_secs(timeout)).await? {
        ClientResponse::Info {
            node,
            active,
            leaf_set,
        } => {
            println!("guid {}", node.guid);
            println!("peer {}", node.peer);
            println!("addr {}", node.addr);
            println!("active {active}");
            for m in leaf_set {
                println!("leaf {} {} {}", m.guid, m.peer, m.addr);
            }
            Ok(())
        }
        ClientResponse::Error(e) => Err(e.into()),
        other => Err(format!("unexpected answer {other:?}").into()),
    }
}

async fn run_testnet(opts: Options, engine: EngineArg, json: bool) -> Res {
    let engines: &[Engine] = match engine {
        EngineArg::Pastry => &[Engine::Pastry],
        EngineArg::Kad => &[Engine::Kad],
        EngineArg::Both => &[Engine::Pastry, Engine::Kad],
    };
    let mut reports = Vec::new();
    for e in engines {
        let mut o = opts.clone();
        o.engine = *e;
        let r = testnet::run(&o).await?;
        if !json {
            print_report(&r);
        }
        reports.push(r);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    if engines.len() > 1 {
        print_comparison(&reports, json);
    }
    Ok(())
}

fn print_lookups(what: &str, l: &testnet::LookupReport) {
    println!(
        "{what}: {} lookups, {:.1}% at the true root ({} elsewhere, {} failed); latency p50 {:.2} ms, p99 {:.2} ms; {}{:.2} requests per lookup{}; {:.1} s",
        l.lookups,
        l.at_root_percent(),
        l.wrong_root,
        l.failed,
        l.p50_ms,
        l.p99_ms,
        l.mean_hops.map_or(String::new(), |h| format!("{h:.2} hops, ")),
        l.requests_per_lookup,
        l.reroutes.map_or(String::new(), |r| format!(" ({r} re-routes)")),
        l.seconds
    );
}

fn print_dht(what: &str, d: &testnet::DhtReport) {
    if d.puts > 0 {
        println!(
            "{what}: {} of {} puts succeeded (p50 {:.2} ms)",
            d.puts_ok, d.puts, d.put_p50_ms
        );
    }
    println!(
        "{what}: {} of {} gets from another node returned the value ({:.1}%; p50 {:.2} ms, p99 {:.2} ms)",
        d.gets_correct,
        d.gets,
        d.gets_correct_percent(),
        d.get_p50_ms,
        d.get_p99_ms
    );
}

fn print_report(r: &Report) {
    println!("== {:?}: {} nodes", r.engine, r.nodes);
    println!(
        "joined {} of {} in {:.2} s (one join: p50 {:.3} s, p99 {:.3} s)",
        r.joined, r.nodes, r.join_seconds, r.join_p50_s, r.join_p99_s
    );
    if let Some(c) = r.converge_seconds {
        println!("every leaf set true {c:.2} s after the last activation");
    }
    if let Some(w) = r.wrong_leaf_sets_before {
        println!("wrong leaf sets before lookups: {w}");
    }
    print_lookups("before kill", &r.before);
    print_dht("before kill", &r.dht_before);
    if let Some(a) = &r.after {
        println!("killed {} nodes", r.killed);
        match (r.repair_seconds, r.repair_bound_seconds) {
            (Some(s), Some(b)) => println!(
                "every leaf set true again {s:.2} s after the kill (detection bound plus repair allowance: {b:.2} s)"
            ),
            (None, Some(b)) => println!("leaf sets NOT all true again within the settle timeout (bound {b:.2} s)"),
            _ => {}
        }
        if let Some(w) = r.wrong_leaf_sets_after {
            println!("wrong leaf sets before lookups: {w}");
        }
        print_lookups("after repair", a);
        if let Some(d) = &r.dht_after {
            print_dht("after repair", d);
        }
    }
    println!("peers cut off: {}", r.cut_off);
}

fn print_comparison(reports: &[Report], to_stderr: bool) {
    let mut lines = vec![
        "| engine | nodes | at true root | latency p50 (ms) | latency p99 (ms) | requests per lookup | puts ok | gets correct | get p50 (ms) |".to_string(),
        "|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for r in reports {
        lines.push(format!(
            "| {:?} | {} | {:.1}% | {:.2} | {:.2} | {:.2} | {}/{} | {:.1}% | {:.2} |",
            r.engine,
            r.nodes,
            r.before.at_root_percent(),
            r.before.p50_ms,
            r.before.p99_ms,
            r.before.requests_per_lookup,
            r.dht_before.puts_ok,
            r.dht_before.puts,
            r.dht_before.gets_correct_percent(),
            r.dht_before.get_p50_ms
        ));
    }
    for l in lines {
        if to_stderr {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
}
