//! The read path of `pastry_kernel::sync` neither allocates nor frees: counted with
//! `allocation-counter`'s global allocator (which counts per thread), on the reader's thread,
//! both in the steady state and across refreshes while a writer publishes on another thread.
//! Its own test binary because the counting allocator replaces the global one.
#![cfg(all(feature = "std", not(loom)))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use allocation_counter::{measure, AllocationInfo};
use pastry_kernel::sync::Writer;
use pastry_kernel::{Config, Guid, NodeRef, NodeState};

fn node(i: u128) -> NodeRef<u32> {
    NodeRef::new(
        Guid::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)),
        i as u32,
    )
}

fn keys() -> Vec<Guid> {
    (0..64u128)
        .map(|i| Guid::new(i.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)))
        .collect()
}

fn populated() -> NodeState<u32> {
    let mut state = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(1 << 127), u32::MAX));
    for i in 1..200 {
        state.learn(node(i), (i % 50) as u32).unwrap();
    }
    state
}

fn nothing(info: AllocationInfo) {
    assert_eq!(
        info.count_total, 0,
        "allocations on the read path: {info:?}"
    );
    assert_eq!(info.count_current, 0, "frees on the read path: {info:?}");
    assert_eq!(info.bytes_total, 0, "{info:?}");
}

/// Steady state and refresh after each publish (writer on this thread, outside `measure`).
#[test]
fn read_path_does_not_allocate() {
    let keys = keys();
    let mut writer = Writer::new(populated());
    let mut reader = writer.reader();
    for round in 0..20u128 {
        let publish = measure(|| {
            writer.learn(node(1000 + round), 3).unwrap();
        });
        assert!(
            publish.count_total > 0,
            "the counter sees the writer's clone"
        );
        if round % 3 == 0 {
            writer.forget(node(round + 1).id).unwrap();
        }
        nothing(measure(|| {
            for k in &keys {
                std::hint::black_box(reader.route(*k));
                std::hint::black_box(reader.replica_set(*k, 5));
            }
            let snapshot = reader.snapshot();
            std::hint::black_box(snapshot.route(keys[0]));
        }));
    }
}

/// Readers on their own threads, counting their own allocations while the writer publishes on
/// another; the writer waits for both readers to reach each version, so every reader refreshes
/// once per publish, inside a measured region.
#[test]
fn concurrent_reads_do_not_allocate() {
    const PUBLISHES: u64 = 50;
    let keys = Arc::new(keys());
    let mut writer = Writer::new(populated());
    let seen: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let mut reader = writer.reader();
            let (keys, seen) = (Arc::clone(&keys), Arc::clone(&seen));
            thread::spawn(move || {
                let (mut last, mut refreshes) = (0, 0);
                while last < PUBLISHES {
                    let mut first = 0;
                    nothing(measure(|| {
                        first = reader.snapshot().version();
                        for k in keys.iter() {
                            std::hint::black_box(reader.route(*k));
                        }
                    }));
                    if first > last {
                        refreshes += 1;
                        last = first;
                        seen[r].store(first, Ordering::Release);
                    }
                }
                refreshes
            })
        })
        .collect();
    for k in 1..=PUBLISHES {
        let publish = measure(|| {
            writer.learn(node(5000 + u128::from(k)), 7).unwrap();
        });
        assert!(
            publish.count_total > 0,
            "the counter sees the writer's clone"
        );
        while seen.iter().any(|s| s.load(Ordering::Acquire) < k) {
            thread::yield_now();
        }
    }
    for r in readers {
        assert_eq!(
            r.join().unwrap(),
            PUBLISHES,
            "one refresh per publish, all measured"
        );
    }
}
