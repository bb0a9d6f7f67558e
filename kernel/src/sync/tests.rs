//! Single-threaded laws of the shared state (the concurrent ones are in `loom_tests.rs`,
//! `tests/sync_stress.rs` and `tests/sync_alloc.rs`).

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, RngSeed};

use super::{BatchError, Change, Writer};
use crate::{Config, Guid, NodeRef, NodeState, StateError};

const OWN: u128 = 0x8000_0000_0000_0000_0000_0000_0000_0000;

fn empty() -> NodeState<u32> {
    NodeState::new(Config::PAPER, NodeRef::new(Guid::new(OWN), u32::MAX))
}

fn node(id: u128, handle: u32) -> NodeRef<u32> {
    NodeRef::new(Guid::new(id), handle)
}

/// One step of a writer's life; ids are drawn from a small pool so that forgets hit known nodes.
#[derive(Clone, Debug)]
enum Step {
    Learn(u128, u32),
    Forget(u128),
    Batch(Vec<Change<u32>>),
    Replace(Vec<(u128, u32)>),
}

fn id() -> impl Strategy<Value = u128> {
    // Mostly a pool of 24 ids spread over the ring; sometimes the local id (refused).
    prop_oneof![
        20 => (0u128..24).prop_map(|i| i.wrapping_mul(0x0b00_0000_0000_0000_0000_0000_0000_0001)),
        1 => Just(OWN),
    ]
}

fn change() -> impl Strategy<Value = Change<u32>> {
    prop_oneof![
        (id(), 0u32..16).prop_map(|(i, p)| Change::Learn {
            node: node(i, (i >> 100) as u32),
            proximity: p
        }),
        id().prop_map(|i| Change::Forget(Guid::new(i))),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (id(), 0u32..16).prop_map(|(i, p)| Step::Learn(i, p)),
        2 => id().prop_map(Step::Forget),
        2 => prop::collection::vec(change(), 0..5).prop_map(Step::Batch),
        1 => prop::collection::vec((id(), 0u32..16), 0..6).prop_map(Step::Replace),
    ]
}

fn seeded(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_2001),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/sync.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(seeded(64))]

    /// Model-based: a writer driven by random steps publishes, version by version, exactly the
    /// states a plain `NodeState` goes through; a refused step publishes nothing; a reader
    /// created at the start sees each of them; the writer's invariants hold after every step.
    #[test]
    fn published_snapshots_follow_the_model(steps in prop::collection::vec(step(), 1..24)) {
        let mut model = empty();
        let mut version = 0u64;
        let mut writer = Writer::new(model.clone());
        let mut reader = writer.reader();
        let mut stale = writer.reader(); // never reads: pins version 0 throughout
        for step in steps {
            let published = match step {
                Step::Learn(i, p) => {
                    let expected = model.clone().learn(node(i, 1), p);
                    let got = writer.learn(node(i, 1), p);
                    prop_assert_eq!(got, expected);
                    got.is_ok().then(|| model.learn(node(i, 1), p).map(drop))
                }
                Step::Forget(i) => {
                    let expected = model.clone().forget(Guid::new(i));
                    let got = writer.forget(Guid::new(i));
                    prop_assert_eq!(got, expected);
                    got.is_ok().then(|| model.forget(Guid::new(i)).map(drop))
                }
                Step::Batch(changes) => {
                    let mut draft = model.clone();
                    let mut refused = None;
                    for (index, c) in changes.iter().enumerate() {
                        let r = match *c {
                            Change::Learn { node, proximity } => draft.learn(node, proximity).map(drop),
                            Change::Forget(id) => draft.forget(id).map(drop),
                        };
                        if let Err(error) = r {
                            refused = Some(BatchError { index, error });
                            break;
                        }
                    }
                    let got = writer.apply(&changes);
                    match refused {
                        Some(e) => {
                            prop_assert_eq!(got, Err(e));
                            None
                        }
                        None if changes.is_empty() => {
                            prop_assert_eq!(got, Ok(version));
                            None
                        }
                        None => {
                            model = draft;
                            prop_assert_eq!(got, Ok(version + 1));
                            Some(Ok(()))
                        }
                    }
                }
                Step::Replace(nodes) => {
                    let mut state = empty();
                    for (i, p) in nodes {
                        let _ = state.learn(node(i, 2), p);
                    }
                    model = state.clone();
                    prop_assert_eq!(writer.replace(state), version + 1);
                    Some(Ok(()))
                }
            };
            if published.is_some() {
                version += 1;
            }
            writer.invariants();
            prop_assert_eq!(writer.version(), version);
            prop_assert_eq!(writer.state(), &model);
            let snapshot = reader.snapshot();
            prop_assert_eq!(snapshot.version(), version);
            prop_assert_eq!(snapshot.state(), &model);
            // Pinned snapshots are bounded: the stale reader's, the two in the slots.
            prop_assert!(writer.retired.len() <= 2, "retired {}", writer.retired.len());
        }
        prop_assert_eq!(stale.snapshot().version(), version);
    }
}

/// A batch whose second change is refused publishes nothing, not even its first change.
#[test]
fn rejected_batch_leaves_state_unchanged() {
    let mut writer = Writer::new(empty());
    let mut reader = writer.reader();
    writer.learn(node(1 << 120, 1), 3).unwrap();
    let before = writer.state().clone();
    let batch = [
        Change::Learn {
            node: node(2 << 120, 2),
            proximity: 1,
        },
        Change::Learn {
            node: node(OWN, 9),
            proximity: 1,
        },
    ];
    assert_eq!(
        writer.apply(&batch),
        Err(BatchError {
            index: 1,
            error: StateError::OwnId
        })
    );
    assert_eq!(writer.version(), 1);
    assert_eq!(writer.state(), &before);
    assert_eq!(reader.snapshot().version(), 1);
    assert_eq!(reader.snapshot().state(), &before);
    assert_eq!(writer.forget(Guid::new(OWN)), Err(StateError::OwnId));
    assert_eq!(writer.version(), 1);
}

/// A reader that stops reading pins one snapshot; the writer frees every other retired one.
#[test]
fn retired_snapshots_are_freed_once_unpinned() {
    let mut writer = Writer::new(empty());
    let mut pinned = writer.reader();
    let mut active = writer.reader();
    for i in 1..=20u128 {
        writer.learn(node(i << 100, i as u32), 0).unwrap();
        active.snapshot();
    }
    // The pinned reader's version 0 snapshot is the only one retired and still held.
    assert_eq!(writer.retired.len(), 1);
    assert_eq!(writer.retired[0].version(), 0);
    assert_eq!(pinned.snapshot().version(), 20);
    writer.learn(node(21 << 100, 21), 0).unwrap();
    assert!(writer.retired.is_empty(), "{:?}", writer.retired.len());
}

/// Successive reads through one reader never go back to an older version.
#[test]
fn reader_versions_are_monotonic() {
    let mut writer = Writer::new(empty());
    let mut reader = writer.reader();
    let mut last = reader.snapshot().version();
    for i in 1..=10u128 {
        writer.learn(node(i << 110, i as u32), 0).unwrap();
        let v = reader.snapshot().version();
        assert!(v >= last);
        assert_eq!(v, reader.published());
        last = v;
    }
    assert_eq!(last, 10);
}

#[test]
fn batch_error_display_names_the_change() {
    let e = BatchError {
        index: 3,
        error: StateError::OwnId,
    };
    assert!(e
        .to_string()
        .starts_with("change 3 of the batch was refused: "));
    assert!(core::error::Error::source(&e).is_some());
}
