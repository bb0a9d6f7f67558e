//! Stress test of `pastry_kernel::sync` on real threads (no loom): 1 writer and 4 readers over a
//! bounded number of publishes; every read is checked against the answers of the published
//! states. Seeded; runs in about a second in debug builds.
#![cfg(all(feature = "std", not(loom)))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use pastry_kernel::seeded::SplitMix;
use pastry_kernel::sync::{Change, Writer};
use pastry_kernel::{Config, Guid, NodeRef, NodeState, ReplicaSet, Route};

const READERS: usize = 4;
const PUBLISHES: usize = 300;
const KEYS: usize = 8;

type Answer = (Vec<Route<u32>>, ReplicaSet<u32>);

fn answer(state: &NodeState<u32>, keys: &[Guid]) -> Answer {
    (
        keys.iter().map(|k| state.route(*k)).collect(),
        state.replica_set(keys[0], 4),
    )
}

/// The start state, the batches to publish, the answers of every version and the keys asked.
type Fixture = (
    NodeState<u32>,
    Vec<Vec<Change<u32>>>,
    Vec<Answer>,
    Vec<Guid>,
);

/// The batches to publish (learns, forgets and mixed batches) and the answers of every version.
fn fixture(rng: &mut SplitMix) -> Fixture {
    let own = NodeRef::new(rng.guid(), u32::MAX);
    let start = NodeState::new(Config::PAPER, own);
    let keys: Vec<Guid> = (0..KEYS).map(|_| rng.guid()).collect();
    let mut known: Vec<Guid> = Vec::new();
    let mut state = start.clone();
    let mut batches = Vec::new();
    let mut answers = vec![answer(&state, &keys)];
    for i in 0..PUBLISHES {
        let mut batch = Vec::new();
        for _ in 0..1 + rng.next_u64() % 3 {
            let forget = !known.is_empty() && rng.next_u64() % 3 == 0;
            if forget {
                let at = (rng.next_u64() % known.len() as u64) as usize;
                batch.push(Change::Forget(known.swap_remove(at)));
            } else {
                let id = rng.guid();
                known.push(id);
                let proximity = (rng.next_u64() % 100) as u32;
                batch.push(Change::Learn {
                    node: NodeRef::new(id, i as u32),
                    proximity,
                });
            }
        }
        for c in &batch {
            match *c {
                Change::Learn { node, proximity } => drop(state.learn(node, proximity).unwrap()),
                Change::Forget(id) => drop(state.forget(id).unwrap()),
            }
        }
        answers.push(answer(&state, &keys));
        batches.push(batch);
    }
    (start, batches, answers, keys)
}

/// Every read answers as the state of a version published between the last publish finished
/// before the read and the last begun after it; readers never go back; all updates arrive.
#[test]
fn stress_readers_see_only_published_states() {
    let mut rng = SplitMix::new(0x5eed_2001);
    let (start, batches, answers, keys) = fixture(&mut rng);
    let answers = Arc::new(answers);
    let keys = Arc::new(keys);
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let mut writer = Writer::new(start);

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let mut reader = writer.reader();
            let (answers, keys) = (Arc::clone(&answers), Arc::clone(&keys));
            let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
            thread::spawn(move || {
                let mut last = 0u64;
                let mut reads = 0u64;
                let mut versions_seen = 0u64;
                loop {
                    let floor = finished.load(Ordering::Acquire);
                    let snapshot = reader.snapshot();
                    let version = snapshot.version();
                    let got = answer(snapshot, &keys);
                    let ceil = started.load(Ordering::Acquire);
                    assert!(
                        (floor..=ceil).contains(&version),
                        "{version} not in {floor}..={ceil}"
                    );
                    assert!(version >= last, "went back from {last} to {version}");
                    assert_eq!(
                        got, answers[version as usize],
                        "answers of version {version}"
                    );
                    if version > last {
                        versions_seen += 1;
                    }
                    last = version;
                    reads += 1;
                    if version == PUBLISHES as u64 {
                        return (reads, versions_seen);
                    }
                    // Bounded: the writer finishes in far fewer reads than this.
                    assert!(reads < 50_000_000, "the writer never finished");
                }
            })
        })
        .collect();

    for (k, batch) in (1u64..).zip(&batches) {
        started.store(k, Ordering::Release);
        assert_eq!(writer.apply(batch), Ok(k));
        finished.store(k, Ordering::Release);
        if k % 4 == 0 {
            thread::yield_now();
        }
    }
    for r in readers {
        let (reads, seen) = r.join().unwrap();
        assert!(reads >= 1 && seen >= 1);
    }
    assert_eq!(writer.version(), PUBLISHES as u64);
    assert_eq!(answer(writer.state(), &keys), answers[PUBLISHES]);
}
