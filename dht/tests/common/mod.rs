//! Scenarios on the test network and the checks every DHT test uses.
#![allow(dead_code)]

use std::collections::BTreeMap;

use pastry_dht::testnet::{dht_net, replica_records, results, DhtNet};
use pastry_dht::{DhtConfig, DhtEvent, PlantedBug, Record, Version};
use pastry_node::testnet::Schedule;
use pastry_node::Time;

pub use pastry_kernel::strategies::seeded_config as seeded;

/// Well-spread 16-bit ids from a seed.
pub fn ids(n: usize, seed: u64) -> Vec<u16> {
    let mut out = Vec::new();
    let mut x = seed;
    while out.len() < n {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let id = (x >> 48) as u16;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// One step of a schedule.
#[derive(Clone, Debug)]
pub enum Step {
    /// Node `node` (an index modulo the network's size) puts `value` under key `key`.
    Put { node: usize, key: u16, value: u8 },
    /// Node `node` removes `key`.
    Remove { node: usize, key: u16 },
    /// Node `node` reads `key`.
    Get { node: usize, key: u16 },
    /// Node `node` crashes.
    Crash { node: usize },
}

/// A schedule: steps with the wait before each (microseconds), over a network of `nodes`
/// nodes with message loss `loss`.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub seed: u64,
    pub nodes: usize,
    pub loss: f64,
    pub steps: Vec<(Time, Step)>,
}

/// An operation as its caller saw it.
#[derive(Clone, Debug)]
pub struct Done {
    pub node: usize,
    pub key: u16,
    pub issued: Time,
    pub done: Time,
    /// The version written (puts, removes) or read (gets; `None`: nothing found).
    pub version: Option<Version<u16>>,
    pub tombstone: bool,
    pub stored: u8,
    pub get: bool,
}

/// What a run produced.
pub struct Run {
    pub net: DhtNet<u16>,
    pub cfg: DhtConfig,
    pub done: Vec<Done>,
    pub crashes: Vec<Time>,
    pub keys: Vec<u16>,
}

/// The configuration of the scenarios: k = 3, write quorum 2 (so reads wait for 2).
pub fn config(planted: Option<PlantedBug>) -> DhtConfig {
    let mut cfg = DhtConfig::default();
    cfg.replicas = 3;
    cfg.write_quorum = Some(2);
    cfg.planted = planted;
    cfg
}

/// Runs `s`: builds the network (reliably), runs the steps under loss, then heals the
/// network and lets it run quiet for `settle` microseconds.
pub fn run(s: &Scenario, cfg: DhtConfig, settle: Time) -> Run {
    let node_ids = ids(s.nodes, s.seed);
    let mut net = dht_net(Schedule::reliable(), s.seed, &node_ids, cfg);
    assert!(net.all_active(), "the network did not form");
    net.set_schedule(Schedule {
        delay: (1_000, 30_000),
        loss: s.loss,
        duplicate: 0.0,
    });
    let mut issued: BTreeMap<(usize, u64), (Time, u16, bool)> = BTreeMap::new();
    let mut crashes = Vec::new();
    let mut keys = Vec::new();
    let n = net.nodes.len();
    for (wait, step) in &s.steps {
        let t = net.now + wait;
        net.run_until(t);
        let now = net.now;
        match *step {
            Step::Put { node, key, value } => {
                let i = node % n;
                if let Some(Ok(op)) = net.call(i, |d, now| d.put(now, key, vec![value; 3])) {
                    issued.insert((i, op.0), (now, key, false));
                }
                keys.push(key);
            }
            Step::Remove { node, key } => {
                let i = node % n;
                if let Some(Ok(op)) = net.call(i, |d, now| d.remove(now, key)) {
                    issued.insert((i, op.0), (now, key, false));
                }
                keys.push(key);
            }
            Step::Get { node, key } => {
                let i = node % n;
                if let Some(Ok(op)) = net.call(i, |d, now| d.get(now, key)) {
                    issued.insert((i, op.0), (now, key, true));
                }
            }
            Step::Crash { node } => {
                let i = node % n;
                if net.is_alive(i) {
                    net.crash(i);
                    crashes.push(now);
                }
            }
        }
    }
    // Let the operations finish under the same loss, then heal.
    let t = net.now + 60_000_000;
    net.run_until(t);
    net.set_schedule(Schedule::reliable());
    let t = net.now + settle;
    net.run_until(t);
    let mut done = Vec::new();
    for i in 0..n {
        for (at, e) in net.events[i].iter() {
            let (op, version, tombstone, stored, get) = match e {
                DhtEvent::PutDone {
                    op,
                    version,
                    stored,
                    ..
                } => (op, Some(*version), false, *stored, false),
                DhtEvent::RemoveDone {
                    op,
                    version,
                    stored,
                    ..
                } => (op, Some(*version), true, *stored, false),
                DhtEvent::GetDone {
                    op, version, value, ..
                } => (op, *version, value.is_none(), 0, true),
                _ => continue,
            };
            if let Some((issued_at, key, _)) = issued.get(&(i, op.0)) {
                done.push(Done {
                    node: i,
                    key: *key,
                    issued: *issued_at,
                    done: *at,
                    version,
                    tombstone,
                    stored,
                    get,
                });
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    Run {
        net,
        cfg,
        done,
        crashes,
        keys,
    }
}

/// The newest record of `key` held by any live node.
fn newest(run: &Run, key: u16) -> Option<Record<u16>> {
    let mut best: Option<Record<u16>> = None;
    for (i, d) in run.net.nodes.iter().enumerate() {
        if !run.net.is_alive(i) {
            continue;
        }
        if let Some(r) = d.store().get(key) {
            if best.as_ref().is_none_or(|b| r.supersedes(b)) {
                best = Some(r);
            }
        }
    }
    best
}

/// Once quiet: all k replicas of every key hold its newest version, no other live node holds
/// another version, and no acknowledged write that reached more replicas than crashed is
/// lost.
pub fn check_converged(run: &Run) -> Result<(), String> {
    let k = run.cfg.replicas;
    let crashed = run.crashes.len();
    for &key in &run.keys {
        let best = newest(run, key);
        for (i, r) in replica_records(&run.net, key, k) {
            if r != best {
                return Err(format!(
                    "key {key}: replica {i} holds {r:?}, the newest is {best:?}"
                ));
            }
        }
        for (i, d) in run.net.nodes.iter().enumerate() {
            if run.net.is_alive(i) {
                if let Some(r) = d.store().get(key) {
                    if Some(&r) != best.as_ref() {
                        return Err(format!("key {key}: node {i} still holds {r:?}"));
                    }
                }
            }
        }
        for w in run.done.iter().filter(|d| !d.get && d.key == key) {
            if usize::from(w.stored) > crashed && best.as_ref().map(|b| b.version) < w.version {
                return Err(format!(
                    "key {key}: the acknowledged write {w:?} is lost (newest {best:?})"
                ));
            }
        }
    }
    Ok(())
}

/// A removed key never reappears: after an acknowledged remove, no later get and no replica
/// returns a value older than the tombstone.
pub fn check_no_resurrection(run: &Run) -> Result<(), String> {
    let crashed = run.crashes.len();
    for &key in &run.keys {
        let Some(rm) = run
            .done
            .iter()
            .filter(|d| !d.get && d.tombstone && d.key == key && usize::from(d.stored) > crashed)
            .max_by_key(|d| d.version)
        else {
            continue;
        };
        for g in run
            .done
            .iter()
            .filter(|d| d.get && d.key == key && d.issued > rm.done)
        {
            if !g.tombstone && g.version < rm.version {
                return Err(format!(
                    "key {key}: get {g:?} after remove {rm:?} found a value"
                ));
            }
        }
        if let Some(best) = newest(run, key) {
            if best.value.is_some() && Some(best.version) < rm.version {
                return Err(format!(
                    "key {key}: {best:?} reappeared after remove {rm:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Read-your-quorum-writes: a get issued after a write's quorum answer returns that version
/// or a newer one, unless a node crashed between the two (then the quorums may meet only at
/// the crashed node).
pub fn check_quorum_reads(run: &Run) -> Result<(), String> {
    for g in run.done.iter().filter(|d| d.get) {
        for w in run
            .done
            .iter()
            .filter(|d| !d.get && d.key == g.key && d.done < g.issued)
        {
            let crash_between = run.crashes.iter().any(|c| *c >= w.done && *c <= g.done);
            if !crash_between && g.version < w.version {
                return Err(format!("get {g:?} missed the quorum write {w:?}"));
            }
        }
    }
    Ok(())
}

/// Every check.
pub fn check_all(run: &Run) -> Result<(), String> {
    check_converged(run)?;
    check_no_resurrection(run)?;
    check_quorum_reads(run)
}

/// The number of the DHT's own events at node `i` (for tests that count answers).
pub fn answers(net: &DhtNet<u16>, i: usize) -> usize {
    results(net, i).count()
}
