//! Shared routing state for one writer and many readers (feature `std`).
//!
//! A node forwards messages on several threads while one maintenance thread applies joins and
//! failures. [`Writer`] owns the state and publishes each change — one learn or forget, a batch
//! of them ([`Writer::apply`]) or a whole new state ([`Writer::replace`]) — as a new immutable
//! [`Snapshot`] with the next version number. Each forwarding thread holds its own [`Reader`],
//! whose [`Reader::route`] and [`Reader::replica_set`] answer from the newest published
//! snapshot. Readers never block, never allocate and never free; a reader never sees a
//! half-applied change, because a snapshot is built completely before it is published and is
//! never changed after.
//!
//! ```
//! use pastry_kernel::sync::Writer;
//! use pastry_kernel::{Config, Guid, NodeRef, NodeState, Route};
//!
//! let own = NodeRef::new(Guid::new(0xa0 << 120), 0u32);
//! let mut writer = Writer::new(NodeState::new(Config::PAPER, own));
//! let mut reader = writer.reader(); // one per forwarding thread (`Reader: Clone + Send`)
//! assert_eq!(reader.route(Guid::new(0xb0 << 120)), Route::Deliver);
//!
//! writer.learn(NodeRef::new(Guid::new(0xb0 << 120), 7), 10)?;
//! let next = reader.route(Guid::new(0xb1 << 120)).next_hop();
//! assert_eq!(next.map(|n| n.handle), Some(7));
//! assert_eq!(reader.snapshot().version(), 1);
//! # Ok::<(), pastry_kernel::StateError>(())
//! ```
//!
//! # Mechanism: a versioned double buffer of `Arc` snapshots
//! No `unsafe` code (the crate forbids it). Snapshot `v` is published through one atomic
//! counter and two slots:
//!
//! * `live: AtomicU64`, the version of the newest published snapshot;
//! * two slots, `RwLock<Arc<Snapshot>>`; snapshot `v` goes into slot `v % 2`.
//!
//! **Writer**, publishing version `v + 1`: builds the new state on a private clone (a batch that
//! fails is dropped there, unpublished), write-locks slot `(v + 1) % 2` — the slot readers are
//! *not* being sent to, it holds `v - 1` — swaps the new `Arc` in, unlocks, then stores
//! `live = v + 1`. It keeps the replaced `Arc` in a retired list and frees a retired snapshot only
//! when its own reference is the last one, so a reader never drops the last reference (and never
//! runs a deallocation).
//!
//! **Reader**: keeps the `Arc` of the snapshot it last used. Fast path: one load of `live`; if it
//! equals the cached version, answer from the cache (no store, no read-modify-write, no shared
//! cache line written). Otherwise refresh: `try_read` slot `live % 2` (never `read`: a reader
//! does not wait for the writer), and adopt its `Arc` only if the snapshot in it has exactly the
//! version just loaded from `live`. `try_read` fails, or the slot holds a newer version, only when
//! the writer has since moved on to a later publish, so the reader reloads `live` and retries:
//! each retry is paid for by a newer publish (lock-free; with a writer publishing at a bounded
//! rate a refresh ends after one or two attempts).
//!
//! # Memory orderings
//! * Writer: `live.store(v, Release)` comes after the slot's write unlock (itself a release).
//! * Reader: `live.load(Acquire)`, then `try_read` of slot `v % 2`.
//!
//! The Release/Acquire pair makes "the reader saw `live = v`" imply "the writer's fill of slot
//! `v % 2` happens-before the reader's `try_read`", so the lock acquisition sees the slot already
//! holding `v` (or a later snapshot, which the version check rejects) — never an older one. The
//! snapshot's contents need nothing more: they are reached through the slot lock (acquire on
//! `try_read`, release on the writer's unlock) and are immutable once in an `Arc`. Data races are
//! excluded by the type system; what the orderings and the protocol decide is *which* published
//! snapshot a reader gets, and the loom tests check exactly that (`sync/loom_tests.rs`).
//!
//! (Strictly, `Relaxed` on `live` would still be correct: the lock word's read-modify-writes
//! cannot read a value older than the unlock that precedes the store the reader observed
//! without a happens-before cycle. We keep Release/Acquire because it makes the argument local
//! and costs nothing on the fast path's plain load.)
//!
//! # Invariants
//! Checked by `Writer::invariants` after every publish in debug builds and by the property test
//! `published_snapshots_follow_the_model`:
//!
//! 1. the live slot (`live % 2`) holds the writer's current snapshot, whose version is `live`;
//! 2. the other slot holds version `live - 1` (or version 0 before the first publish);
//! 3. every published snapshot keeps [`NodeState`]'s invariants;
//! 4. versions only grow; a reader's cached version is at most `live`.
//!
//! # Cost
//! The writer clones the state once per publish (a few kilobytes for the paper's parameters);
//! joins and failures are rare next to lookups. A reader pins the last snapshot it used until its
//! next read, so memory is at most (readers + 2) snapshots.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use crate::common_api::ReplicaSet;
use crate::error::StateError;
use crate::guid::Guid;
use crate::node::{NodeRef, Proximity};
use crate::route::Route;
use crate::state::{Forgotten, Learned, NodeState};
use crate::word::RingWord;

// The one sync shim: loom's model types in the loom suite, std's everywhere else. Library code
// names `crate::sync::atomic`, `crate::sync::Arc` and `crate::sync::RwLock` only.
#[cfg(all(loom, test))]
pub(crate) use loom::{
    hint::spin_loop,
    sync::{atomic, Arc, RwLock},
};
#[cfg(not(all(loom, test)))]
pub(crate) use std::{
    hint::spin_loop,
    sync::{atomic, Arc, RwLock},
};

use atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, TryLockError};

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

/// One published state: a [`NodeState`] and the version that published it.
///
/// Immutable once published. Derefs to the state, so `snapshot.route(key)` works directly.
#[derive(Debug)]
pub struct Snapshot<H, W = Guid> {
    version: u64,
    state: NodeState<H, W>,
}

impl<H, W> Snapshot<H, W> {
    /// The version: 0 for the writer's initial state, then one more per publish.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The state.
    #[must_use]
    pub fn state(&self) -> &NodeState<H, W> {
        &self.state
    }
}

impl<H, W> Deref for Snapshot<H, W> {
    type Target = NodeState<H, W>;

    fn deref(&self) -> &NodeState<H, W> {
        &self.state
    }
}

/// One change in a batch published by [`Writer::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<H, W = Guid> {
    /// [`NodeState::learn`] the node with the host's proximity figure.
    Learn {
        /// The node.
        node: NodeRef<H, W>,
        /// The host's proximity figure for it (smaller is nearer).
        proximity: Proximity,
    },
    /// [`NodeState::forget`] the node with this id.
    Forget(W),
}

/// Why [`Writer::apply`] refused a batch. Nothing was published; the state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// The position in the batch of the first change that failed.
    pub index: usize,
    /// Why it failed.
    pub error: StateError,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "change {} of the batch was refused: {}",
            self.index, self.error
        )
    }
}

impl core::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What the writer and its readers share.
#[derive(Debug)]
struct Shared<H, W> {
    /// The version of the newest published snapshot. Stored (Release) only by the writer, after
    /// the snapshot is in its slot; loaded (Acquire) by readers.
    live: AtomicU64,
    /// Slot for even versions.
    even: RwLock<Arc<Snapshot<H, W>>>,
    /// Slot for odd versions.
    odd: RwLock<Arc<Snapshot<H, W>>>,
}

impl<H, W> Shared<H, W> {
    /// The slot of `version`: `version % 2`.
    fn slot(&self, version: u64) -> &RwLock<Arc<Snapshot<H, W>>> {
        if version % 2 == 0 {
            &self.even
        } else {
            &self.odd
        }
    }
}

/// The one writer of a shared routing state: applies changes and publishes them to the
/// [`Reader`]s atomically.
///
/// Not `Clone`: there is exactly one writer. Each successful change publishes a new
/// [`Snapshot`] whose version is one more than the last; a refused change publishes nothing.
///
/// # Invariants
/// (see the [module documentation](self#invariants); checked by `invariants` after every
/// publish in debug builds)
/// 1. the live slot holds the writer's current snapshot, whose version is `live`;
/// 2. the other slot holds version `live - 1` (version 0 before the first publish);
/// 3. every published snapshot keeps [`NodeState`]'s invariants.
#[derive(Debug)]
pub struct Writer<H, W = Guid> {
    shared: Arc<Shared<H, W>>,
    /// The newest published snapshot (also in slot `current.version % 2`).
    current: Arc<Snapshot<H, W>>,
    /// Snapshots taken out of a slot that a reader may still hold. Freed here, once the writer's
    /// reference is the last one, so that no reader ever frees a snapshot.
    retired: Vec<Arc<Snapshot<H, W>>>,
}

impl<H: Copy, W: RingWord> Writer<H, W> {
    /// A writer publishing `state` as version 0.
    #[must_use]
    pub fn new(state: NodeState<H, W>) -> Self {
        let current = Arc::new(Snapshot { version: 0, state });
        let shared = Arc::new(Shared {
            live: AtomicU64::new(0),
            even: RwLock::new(Arc::clone(&current)),
            // Never read before version 1 replaces it: readers only visit the slot of `live`.
            odd: RwLock::new(Arc::clone(&current)),
        });
        let writer = Writer {
            shared,
            current,
            retired: Vec::new(),
        };
        writer.invariants();
        writer
    }

    /// A new reader of this state, starting at the newest published snapshot.
    #[must_use]
    pub fn reader(&self) -> Reader<H, W> {
        Reader {
            shared: Arc::clone(&self.shared),
            cache: Arc::clone(&self.current),
        }
    }

    /// The newest published snapshot.
    #[must_use]
    pub fn snapshot(&self) -> &Snapshot<H, W> {
        &self.current
    }

    /// The newest published state.
    #[must_use]
    pub fn state(&self) -> &NodeState<H, W> {
        &self.current.state
    }

    /// The version of the newest published snapshot.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.current.version
    }

    /// [`NodeState::learn`] `node`, and publish the result.
    ///
    /// # Errors
    /// As [`NodeState::learn`]; nothing is published and the state is unchanged.
    pub fn learn(
        &mut self,
        node: NodeRef<H, W>,
        proximity: Proximity,
    ) -> Result<Learned, StateError> {
        let mut draft = self.current.state.clone();
        let learned = draft.learn(node, proximity)?;
        self.publish(draft);
        Ok(learned)
    }

    /// [`NodeState::forget`] the node `id`, and publish the result.
    ///
    /// # Errors
    /// As [`NodeState::forget`]; nothing is published and the state is unchanged.
    pub fn forget(&mut self, id: W) -> Result<Forgotten<H, W>, StateError> {
        let mut draft = self.current.state.clone();
        let forgotten = draft.forget(id)?;
        self.publish(draft);
        Ok(forgotten)
    }

    /// Applies `changes` in order and publishes the result as one version: a reader sees all of
    /// them or none. Returns the new version (the current one for an empty batch, which publishes
    /// nothing).
    ///
    /// # Errors
    /// [`BatchError`] naming the first change refused; nothing is published and the state is
    /// unchanged, including the changes before it.
    pub fn apply(&mut self, changes: &[Change<H, W>]) -> Result<u64, BatchError> {
        if changes.is_empty() {
            return Ok(self.version());
        }
        let mut draft = self.current.state.clone();
        for (index, change) in changes.iter().enumerate() {
            let applied = match *change {
                Change::Learn { node, proximity } => draft.learn(node, proximity).map(drop),
                Change::Forget(id) => draft.forget(id).map(drop),
            };
            applied.map_err(|error| BatchError { index, error })?;
        }
        Ok(self.publish(draft))
    }

    /// Publishes `state` as a whole (e.g. the state a join built). Returns the new version.
    pub fn replace(&mut self, state: NodeState<H, W>) -> u64 {
        self.publish(state)
    }

    /// Publishes `state` as the next version.
    fn publish(&mut self, state: NodeState<H, W>) -> u64 {
        let version = self.current.version.wrapping_add(1);
        let snapshot = Arc::new(Snapshot { version, state });

        // The loom mutant announces the version before its slot holds it.
        #[cfg(all(loom, test, loom_mutant))]
        self.shared.live.store(version, Ordering::Release);

        // 1. Fill the slot of `version`. It holds `version - 2`; readers are sent to the other
        //    slot (`live = version - 1`), so only a reader that loaded `live` two publishes ago
        //    can be in it: we wait for it to finish cloning an `Arc` (a few instructions). Its
        //    release of the read lock happens-before our write lock; our unlock is a release.
        let replaced = {
            let mut slot = self
                .shared
                .slot(version)
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            core::mem::replace(&mut *slot, Arc::clone(&snapshot))
        };

        // 2. Announce it. Release: everything above — the new snapshot's contents and the slot
        //    fill — happens-before any reader's Acquire load that sees `version`.
        #[cfg(not(all(loom, test, loom_mutant)))]
        self.shared.live.store(version, Ordering::Release);

        // Before the first publish both slots hold version 0: that one stays in its slot.
        if !Arc::ptr_eq(&replaced, &self.current) {
            self.retired.push(replaced);
        }
        self.current = snapshot;
        self.reclaim();
        self.invariants();
        version
    }

    /// Frees the retired snapshots no reader holds any more.
    ///
    /// `strong_count == 1` means the retired list holds the only reference; since a retired
    /// snapshot is in no slot, no reader can take a new one, so the count cannot rise again.
    fn reclaim(&mut self) {
        self.retired.retain(|s| Arc::strong_count(s) > 1);
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        {
            let version = self.current.version;
            assert_eq!(
                self.shared.live.load(Ordering::Relaxed),
                version,
                "live is the writer's current version"
            );
            let live = read_slot(self.shared.slot(version));
            assert!(
                Arc::ptr_eq(&live, &self.current),
                "the live slot holds the current snapshot"
            );
            let other = read_slot(self.shared.slot(version.wrapping_add(1)));
            assert_eq!(
                other.version,
                version.saturating_sub(1),
                "the other slot holds the previous version"
            );
            self.current.state.invariants();
        }
    }
}

/// The `Arc` in a slot, for the writer's own checks (only the writer write-locks a slot).
#[cfg(debug_assertions)]
fn read_slot<H, W>(slot: &RwLock<Arc<Snapshot<H, W>>>) -> Arc<Snapshot<H, W>> {
    Arc::clone(&slot.read().unwrap_or_else(PoisonError::into_inner))
}

/// A reader of a shared routing state: answers from the newest published snapshot without
/// blocking, allocating or freeing.
///
/// One per forwarding thread: `Reader` is `Clone` and `Send`; its methods take `&mut self`
/// because it caches the snapshot it last used. That cache pins one snapshot until the next read.
///
/// # Invariants
/// The cached snapshot was published (its version was loaded from `live`), and its version is
/// at most the writer's current one; successive reads never go back to an older version.
#[derive(Debug)]
pub struct Reader<H, W = Guid> {
    shared: Arc<Shared<H, W>>,
    cache: Arc<Snapshot<H, W>>,
}

impl<H, W> Clone for Reader<H, W> {
    fn clone(&self) -> Self {
        Reader {
            shared: Arc::clone(&self.shared),
            cache: Arc::clone(&self.cache),
        }
    }
}

impl<H, W> Reader<H, W> {
    /// The newest published snapshot. Everything asked of it answers from one published state.
    ///
    /// Never blocks, allocates or frees. Usually one atomic load; after a publish, one
    /// `try_read` of a slot and one reference-count increment (and decrement of the old one).
    #[inline]
    pub fn snapshot(&mut self) -> &Snapshot<H, W> {
        // Acquire: pairs with the writer's Release store; see `Writer::publish`.
        let live = self.shared.live.load(Ordering::Acquire);
        if live != self.cache.version {
            self.refresh(live);
        }
        &self.cache
    }

    /// The version of the newest published snapshot (one atomic load; does not refresh).
    #[must_use]
    pub fn published(&self) -> u64 {
        self.shared.live.load(Ordering::Acquire)
    }

    /// Adopts the snapshot of version `want`, or of a later one if the writer moves on.
    #[cold]
    fn refresh(&mut self, mut want: u64) {
        loop {
            let adopted = match self.shared.slot(want).try_read() {
                Ok(slot) => take(&slot, want),
                // Only the writer write-locks, and never while panicking; a poisoned slot still
                // holds a whole `Arc`, so its content is as good as an unpoisoned one.
                Err(TryLockError::Poisoned(poisoned)) => take(&poisoned.into_inner(), want),
                // The writer is filling this slot with `want + 2`: `want + 1` is published.
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(snapshot) = adopted {
                // Dropping the old cache never frees it while the writer lives: the writer still
                // holds it (in a slot, as its current snapshot or in its retired list).
                self.cache = snapshot;
                return;
            }
            spin_loop();
            want = self.shared.live.load(Ordering::Acquire);
        }
    }
}

/// The slot's snapshot if it is version `want`.
fn take<H, W>(slot: &Arc<Snapshot<H, W>>, want: u64) -> Option<Arc<Snapshot<H, W>>> {
    let found = slot.version;
    // The slot of a version announced in `live` already holds it (or, if the writer has moved
    // on twice since, `want + 2`): the writer fills a slot before announcing it, and
    // Release/Acquire on `live` carries that order to us. An older version here would mean a
    // reader waiting for the writer; the loom mutant breaks exactly this.
    #[cfg(any(debug_assertions, loom))]
    assert!(
        found >= want,
        "slot of version {want} still holds version {found}: announced before it was filled"
    );
    (found == want).then(|| Arc::clone(slot))
}

impl<H: Copy, W: RingWord> Reader<H, W> {
    /// [`NodeState::route`] on the newest published snapshot.
    #[inline]
    pub fn route(&mut self, key: W) -> Route<H, W> {
        self.snapshot().route(key)
    }

    /// [`NodeState::replica_set`] on the newest published snapshot.
    #[inline]
    pub fn replica_set(&mut self, key: W, r: usize) -> ReplicaSet<H, W> {
        self.snapshot().replica_set(key, r)
    }
}
