//! loom models of the shared state: 1 writer and 2 readers over 2 or 3 publishes.
//!
//! Run (release, about a minute on 2 cores):
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release -p pastry-kernel --lib loom_`
//!
//! The mutant (the writer announces a version before its slot holds it), which loom must reject:
//! `RUSTFLAGS="--cfg loom --cfg loom_mutant" CARGO_TARGET_DIR=target/loom-mutant cargo test --release -p pastry-kernel --lib loom_mutant`
//!
//! Preemption bounds (loom's `preemption_bound`, the forced context switches per execution):
//! 3 for two publishes, 2 for three publishes (3 there takes over 15 minutes on 2 cores), 1 for
//! the mutant, which one switch between the writer's announce and its fill exposes.
//!
//! What each model checks, for every explored execution:
//! * **linearizable snapshot**: every answer a reader gets (two routes and a replica set, all
//!   from one snapshot) equals the answers of a state some publish produced, of a version no
//!   later than the publishes begun when the read ended, and the whole snapshot equals the
//!   state that sequentially applying the first `version` changes gives (so a batch is never
//!   seen half applied: the half-applied state answers differently, checked in `fixture`);
//! * **no lost update**: after the writer finishes, the writer and a new reader hold exactly the
//!   sequential result of all changes, as version = number of publishes;
//! * **freshness**: a read that starts after publish k returned (the writer then stores k in
//!   `finished`, read with Acquire before the read) sees version k or later; and a reader's
//!   second read never goes back.

use std::sync::Arc as StdArc;

use loom::sync::atomic::{AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;

use super::{Change, Reader, Writer};
use crate::{Config, Guid, NodeRef, NodeState, ReplicaSet, Route};

/// The changes, one publish each; the second is a batch of two.
fn changes() -> Vec<Vec<Change<u32>>> {
    let learn = |top: u128, handle| Change::Learn {
        node: NodeRef::new(Guid::new(top << 120), handle),
        proximity: 1,
    };
    vec![
        vec![learn(0x30, 3)],
        vec![Change::Forget(Guid::new(0x20 << 120)), learn(0x28, 4)],
        vec![Change::Forget(Guid::new(0x30 << 120))],
    ]
}

/// The keys asked: near 0x20, 0x28 and 0x30.
const KEYS: [u128; 3] = [0x21 << 120, 0x29 << 120, 0x2f << 120];

/// What a reader asks one snapshot.
type Answer = ([Route<u32>; 3], ReplicaSet<u32>);

fn answer(state: &NodeState<u32>) -> Answer {
    (
        KEYS.map(|k| state.route(Guid::new(k))),
        state.replica_set(Guid::new(0x24 << 120), 2),
    )
}

/// The states and answers of versions 0..=publishes, computed sequentially.
struct Fixture {
    states: Vec<NodeState<u32>>,
    answers: Vec<Answer>,
}

fn fixture(publishes: usize) -> StdArc<Fixture> {
    let mut state = NodeState::new(
        Config::PAPER,
        NodeRef::new(Guid::new(0x80 << 120), u32::MAX),
    );
    state
        .learn(NodeRef::new(Guid::new(0x10 << 120), 1), 1)
        .unwrap();
    state
        .learn(NodeRef::new(Guid::new(0x20 << 120), 2), 1)
        .unwrap();
    let mut states = vec![state.clone()];
    let mut answers = vec![answer(&state)];
    for batch in changes().into_iter().take(publishes) {
        for (i, change) in batch.iter().enumerate() {
            match *change {
                Change::Learn { node, proximity } => drop(state.learn(node, proximity).unwrap()),
                Change::Forget(id) => drop(state.forget(id).unwrap()),
            }
            // Every intermediate state of a batch answers unlike every published one, so a
            // half-applied batch cannot pass for a published state.
            if i + 1 < batch.len() {
                assert!(!answers.contains(&answer(&state)), "fixture: half batch");
            }
        }
        assert!(!answers.contains(&answer(&state)), "fixture: indistinct");
        answers.push(answer(&state));
        states.push(state.clone());
    }
    StdArc::new(Fixture { states, answers })
}

/// One read: checks it against the versions `floor..=ceil` around it; returns its version.
fn checked_read(
    reader: &mut Reader<u32>,
    fixture: &Fixture,
    started: &AtomicU64,
    finished: &AtomicU64,
) -> u64 {
    let floor = finished.load(Ordering::Acquire);
    let snapshot = reader.snapshot();
    let version = snapshot.version();
    let got = answer(snapshot);
    let ceil = started.load(Ordering::Acquire);
    let index = usize::try_from(version).unwrap();
    assert!(
        (floor..=ceil).contains(&version),
        "version {version} outside {floor}..={ceil}"
    );
    assert_eq!(
        snapshot.state(),
        &fixture.states[index],
        "not the sequential state"
    );
    let (lo, hi) = (
        usize::try_from(floor).unwrap(),
        usize::try_from(ceil).unwrap(),
    );
    assert!(
        fixture.answers[lo..=hi].contains(&got),
        "answer of no state published between {floor} and {ceil}"
    );
    version
}

/// 1 writer (the model's main thread) and 2 reader threads, each reading `reads` times.
fn model(publishes: usize, reads: usize, preemptions: usize) {
    let fixture = fixture(publishes);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(move || {
        let fx = StdArc::clone(&fixture);
        let mut writer = Writer::new(fx.states[0].clone());
        let started = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mut reader = writer.reader();
                let (fx, started, finished) = (
                    StdArc::clone(&fx),
                    Arc::clone(&started),
                    Arc::clone(&finished),
                );
                thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..reads {
                        let v = checked_read(&mut reader, &fx, &started, &finished);
                        assert!(v >= last, "read went back from {last} to {v}");
                        last = v;
                    }
                })
            })
            .collect();
        for (k, batch) in (1u64..).zip(changes().into_iter().take(publishes)) {
            started.store(k, Ordering::Release);
            assert_eq!(writer.apply(&batch), Ok(k));
            finished.store(k, Ordering::Release);
        }
        for r in readers {
            r.join().unwrap();
        }
        let last = fx.states.last().unwrap();
        assert_eq!(writer.state(), last, "an update was lost");
        let mut fresh = writer.reader();
        let snapshot = fresh.snapshot();
        assert_eq!(snapshot.version(), publishes as u64);
        assert_eq!(snapshot.state(), last, "an update was lost");
    });
}

/// Two publishes (a learn, then a batch), one read per reader.
#[test]
#[cfg(not(loom_mutant))]
fn loom_two_publishes_linearizable() {
    model(2, 1, 3);
}

/// Three publishes, one read per reader: the slots are reused (version 3 overwrites version 1's
/// slot while a reader may still be in it).
#[test]
#[cfg(not(loom_mutant))]
fn loom_three_publishes_slot_reuse() {
    model(3, 1, 2);
}

/// The mutant (`cfg(loom_mutant)`): `Writer::publish` stores `live` before the slot holds the
/// snapshot. loom must find the execution where a reader goes to the announced slot and finds
/// the old snapshot there.
#[test]
#[cfg(loom_mutant)]
#[should_panic(expected = "announced before it was filled")]
fn loom_mutant_announce_before_fill_is_rejected() {
    model(2, 1, 1);
}
