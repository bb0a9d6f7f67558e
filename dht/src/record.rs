//! Versioned records and the bounded [`Store`] of one node.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use pastry_kernel::{Guid, RingWord};
use pastry_node::Time;

/// The version of a write: the writer's clock and the writer's id. Versions are ordered by
/// time, then by writer, so two writes are never equal unless one writer issued both at the
/// same time, which a [`Dht`](crate::Dht) never does (its versions strictly increase).
///
/// The greater version wins at every replica, whatever order writes arrive in, so replicas
/// converge (last writer wins, as PAST's and libp2p-kad's records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Version<W = Guid> {
    /// The writer's clock when it wrote, in microseconds (a hybrid clock: never below any
    /// version the writer has seen, so a write after a read is newer than what it read).
    pub time: Time,
    /// The writer's id.
    pub writer: W,
}

/// A value or a tombstone of a key, with its version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Record<W = Guid> {
    /// The key.
    pub key: W,
    /// The version.
    pub version: Version<W>,
    /// The value, or `None` for a tombstone (the key was removed).
    pub value: Option<Vec<u8>>,
}

impl<W: RingWord> Record<W> {
    /// Whether this record wins over `other` for the same key: the greater version, then (for
    /// equal versions, which correct writers never make) the greater content, a tombstone
    /// below any value. A strict total order, so every replica picks the same winner.
    #[must_use]
    pub fn supersedes(&self, other: &Record<W>) -> bool {
        (self.version, &self.value) > (other.version, &other.value)
    }

    /// Whether this is a tombstone.
    #[must_use]
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }
}

/// What [`Store::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Applied {
    /// The key was new here; the record is stored.
    Inserted,
    /// The record replaced an older one.
    Replaced,
    /// The store already holds this record or one that wins over it; nothing changed.
    Kept,
}

/// Why [`Store::apply`] refused a record; the store is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreError {
    /// The store holds [`DhtConfig::max_records`](crate::DhtConfig::max_records) records and
    /// the key is new: a full store refuses, it never evicts.
    Full {
        /// The cap.
        cap: usize,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Full { cap } => write!(f, "the store holds its cap of {cap} records"),
        }
    }
}

impl core::error::Error for StoreError {}

/// A stored record: its version, its value (`None`: a tombstone) and, for a tombstone, when
/// it is collected.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Stored<W> {
    pub version: Version<W>,
    pub value: Option<Vec<u8>>,
    pub collect_at: Option<Time>,
}

/// One node's records, by key, at most `cap` of them.
///
/// # Invariants
/// Checked by [`Store::invariants`] after every change in debug builds and by the property
/// test `store_matches_a_model`:
/// 1. at most `cap` records;
/// 2. a record has a collection time exactly when it is a tombstone;
/// 3. `value_bytes` is the sum of the stored values' lengths.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Store<W = Guid> {
    records: BTreeMap<W, Stored<W>>,
    cap: usize,
    value_bytes: usize,
}

impl<W: RingWord> Store<W> {
    /// An empty store of at most `cap` records.
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Store {
            records: BTreeMap::new(),
            cap,
            value_bytes: 0,
        }
    }

    /// The number of records (values and tombstones).
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The cap.
    #[must_use]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes of values held.
    #[must_use]
    pub fn value_bytes(&self) -> usize {
        self.value_bytes
    }

    /// The record of `key`, if any.
    #[must_use]
    pub fn get(&self, key: W) -> Option<Record<W>> {
        self.records.get(&key).map(|s| Record {
            key,
            version: s.version,
            value: s.value.clone(),
        })
    }

    /// The version held for `key`, if any.
    #[must_use]
    pub fn version(&self, key: W) -> Option<Version<W>> {
        self.records.get(&key).map(|s| s.version)
    }

    /// Every record, by key.
    pub fn iter(&self) -> impl Iterator<Item = Record<W>> + '_ {
        self.records.iter().map(|(k, s)| Record {
            key: *k,
            version: s.version,
            value: s.value.clone(),
        })
    }

    /// Up to `n` keys from `from` on (wrapping to the smallest key after the largest), each
    /// key at most once; with their versions.
    pub(crate) fn scan(
        &self,
        from: Option<W>,
        n: usize,
    ) -> Vec<(W, Version<W>, bool, Option<Time>)> {
        let start = from.unwrap_or(W::from_u128(0));
        self.records
            .range(start..)
            .chain(self.records.range(..start))
            .take(n)
            .map(|(k, s)| (*k, s.version, s.value.is_none(), s.collect_at))
            .collect()
    }

    /// The key after `key` in the store's order, wrapping; `None` when the store is empty.
    pub(crate) fn next_key(&self, key: W) -> Option<W> {
        use core::ops::Bound::{Excluded, Unbounded};
        self.records
            .range((Excluded(key), Unbounded))
            .next()
            .or_else(|| self.records.iter().next())
            .map(|(k, _)| *k)
    }

    /// Stores `record` if it wins over what is held (`older_wins` reverses the order: the
    /// planted bug of the checks). A tombstone is collected `tombstone_lifetime` after `now`.
    ///
    /// # Errors
    /// [`StoreError::Full`] for a new key when the store is full; nothing changes.
    pub fn apply(
        &mut self,
        record: Record<W>,
        now: Time,
        tombstone_lifetime: Time,
        older_wins: bool,
    ) -> Result<Applied, StoreError> {
        let collect_at = record
            .value
            .is_none()
            .then(|| now.saturating_add(tombstone_lifetime));
        let len = self.records.len();
        let r = match self.records.get_mut(&record.key) {
            Some(held) => {
                let held_rec = Record {
                    key: record.key,
                    version: held.version,
                    value: held.value.clone(),
                };
                let wins = if older_wins {
                    held_rec.supersedes(&record)
                } else {
                    record.supersedes(&held_rec)
                };
                if wins {
                    self.value_bytes = self
                        .value_bytes
                        .saturating_sub(held.value.as_ref().map_or(0, Vec::len))
                        .saturating_add(record.value.as_ref().map_or(0, Vec::len));
                    *held = Stored {
                        version: record.version,
                        value: record.value,
                        collect_at,
                    };
                    Ok(Applied::Replaced)
                } else {
                    Ok(Applied::Kept)
                }
            }
            None if len >= self.cap => Err(StoreError::Full { cap: self.cap }),
            None => {
                self.value_bytes = self
                    .value_bytes
                    .saturating_add(record.value.as_ref().map_or(0, Vec::len));
                self.records.insert(
                    record.key,
                    Stored {
                        version: record.version,
                        value: record.value,
                        collect_at,
                    },
                );
                Ok(Applied::Inserted)
            }
        };
        self.invariants();
        r
    }

    /// Drops the record of `key` (a handed-off value, a collected tombstone); returns whether
    /// there was one.
    pub fn remove(&mut self, key: W) -> bool {
        let r = match self.records.remove(&key) {
            Some(s) => {
                self.value_bytes = self
                    .value_bytes
                    .saturating_sub(s.value.as_ref().map_or(0, Vec::len));
                true
            }
            None => false,
        };
        self.invariants();
        r
    }

    /// Checks the invariants in the type's documentation (debug builds only).
    #[inline]
    pub fn invariants(&self) {
        #[cfg(debug_assertions)]
        self.check_invariants();
    }

    #[cfg(debug_assertions)]
    #[allow(clippy::panic)]
    fn check_invariants(&self) {
        assert!(self.records.len() <= self.cap, "store over its cap");
        let mut bytes = 0;
        for s in self.records.values() {
            assert_eq!(
                s.collect_at.is_some(),
                s.value.is_none(),
                "a collection time on a value, or a tombstone without one"
            );
            bytes += s.value.as_ref().map_or(0, Vec::len);
        }
        assert_eq!(bytes, self.value_bytes, "value bytes out of step");
    }
}
