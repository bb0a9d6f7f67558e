//! Allocation laws of the codec, measured with a counting allocator (per thread):
//! encoding never allocates; decoding allocates at most the stated bound
//! (`decode_alloc_bound` for the configuration in the header, `max_decode_alloc` for any input),
//! nothing when the header is bad, and nothing for entries the input cannot hold.

use allocation_counter::{measure, AllocationInfo};
use pastry_kernel::codec::{decode_alloc_bound, max_decode_alloc, DecodeError};
use pastry_kernel::fuzzing::{RoundtripInput, RoundtripStep};
use pastry_kernel::{
    Config, Guid, LeafSet, NeighborhoodSet, NodeRef, NodeState, RingWord, RoutingTable, Row,
};
use proptest::prelude::*;

mod common;

/// Runs `f` under the counter; returns its result and what it allocated.
fn counted<T>(f: impl FnOnce() -> T) -> (T, AllocationInfo) {
    let mut out = None;
    let info = measure(|| out = Some(f()));
    (out.unwrap(), info)
}

fn input() -> impl Strategy<Value = RoundtripInput> {
    let config = (0usize..4, 1usize..=32, 0usize..=64)
        .prop_map(|(b, half, m)| Config::new([1, 2, 4, 8][b], 2 * half, m).unwrap());
    let step = prop_oneof![
        (any::<u128>(), any::<u32>(), 0u32..16).prop_map(|(id, handle, proximity)| {
            RoundtripStep::Learn {
                id,
                handle,
                proximity,
            }
        }),
        (any::<u8>(), any::<u128>(), any::<u32>(), 0u32..16).prop_map(
            |(shared, id, handle, proximity)| RoundtripStep::LearnNear {
                shared,
                id,
                handle,
                proximity
            }
        ),
    ];
    (config, any::<u128>(), prop::collection::vec(step, 0..80))
        .prop_map(|(config, own, steps)| RoundtripInput { config, own, steps })
}

/// Encodes the state and every part under the counter and checks nothing was allocated;
/// returns the encodings (made outside the counter).
fn encode_all<W: RingWord>(s: &NodeState<u32, W>) -> Vec<Vec<u8>> {
    let own = s.id();
    let rows = s.table().row_count();
    let lens: Vec<usize> = [
        s.encoded_len(),
        s.leaf_set().encoded_len(),
        s.neighborhood().encoded_len(own),
    ]
    .into_iter()
    .chain((0..rows).map(|r| s.table().encoded_row_len(Row(r as u8))))
    .collect();
    let mut bufs: Vec<Vec<u8>> = lens.iter().map(|n| vec![0u8; *n]).collect();
    let ((), info) = counted(|| {
        let mut it = bufs.iter_mut();
        let mut next = || it.next().unwrap().as_mut_slice();
        assert!(s.encoded_len() > 0);
        s.encode(next()).unwrap();
        s.leaf_set().encode(next()).unwrap();
        s.neighborhood().encode(own, next()).unwrap();
        for r in 0..rows {
            s.table().encode_row(Row(r as u8), next()).unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "encoding allocated");
    bufs
}

/// Decodes every encoding under the counter; checks the bound of `config` and returns the
/// largest figure seen.
fn decode_all<W: RingWord>(bufs: &[Vec<u8>], config: &Config) -> u64 {
    let bound = decode_alloc_bound::<u32, W>(config) as u64;
    let mut most = 0;
    for (i, b) in bufs.iter().enumerate() {
        let (ok, info) = counted(|| match i {
            0 => NodeState::<u32, W>::decode(b).is_ok(),
            1 => LeafSet::<u32, W>::decode(b).is_ok(),
            2 => NeighborhoodSet::<u32, W>::decode(b).is_ok(),
            _ => RoutingTable::<u32, W>::decode_row(b).is_ok(),
        });
        assert!(ok);
        assert!(
            info.bytes_total <= bound,
            "message {i}: {} > {bound}",
            info.bytes_total
        );
        assert_eq!(
            info.bytes_current, 0,
            "decode leaked (the value was dropped)"
        );
        most = most.max(info.bytes_total);
    }
    most
}

proptest! {
    #![proptest_config(common::seeded(64, "proptest-regressions/codec_alloc.txt"))]

    /// `encode` and `encoded_len` never allocate, for the state and every part.
    #[test]
    fn encoding_never_allocates(input in input()) {
        encode_all(&input.state::<u32, Guid>(|h| h));
        encode_all(&input.state::<u32, u16>(|h| h));
    }

    /// Decoding a valid message allocates at most `decode_alloc_bound` of its configuration.
    #[test]
    fn decoding_allocates_within_the_stated_bound(input in input()) {
        let s = input.state::<u32, Guid>(|h| h);
        decode_all::<Guid>(&encode_all(&s), s.config());
        let s = input.state::<u32, u16>(|h| h);
        decode_all::<u16>(&encode_all(&s), s.config());
    }

    /// Corrupted messages allocate at most `max_decode_alloc`, whatever their header claims.
    #[test]
    fn corrupted_input_allocates_within_the_global_bound(
        input in input(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let s = input.state::<u32, Guid>(|h| h);
        let bound = max_decode_alloc::<u32, Guid>() as u64;
        for mut b in encode_all(&s) {
            let len = b.len();
            for (at, v) in &edits {
                b[at.index(len)] = *v;
            }
            let (_, info) = counted(|| {
                let _ = NodeState::<u32>::decode(&b);
                let _ = LeafSet::<u32>::decode(&b);
                let _ = NeighborhoodSet::<u32>::decode(&b);
                let _ = RoutingTable::<u32>::decode_row(&b);
            });
            prop_assert!(info.bytes_total <= 4 * bound);
            // At most one of the four decoders gets past the kind byte.
            let (_, one) = counted(|| { let _ = NodeState::<u32>::decode(&b); });
            prop_assert!(one.bytes_total <= bound);
        }
    }
}

/// The largest state a u16 ring holds under b = 8, L = 64, |M| = 256: both rows full
/// (255 entries each), full leaf set and neighborhood. Its decode stays within the bound, and
/// the bound is not loose (the decode uses most of it).
#[test]
fn fullest_state_decodes_within_the_bound() {
    let config = Config::new(8, 64, 256).unwrap();
    let own: u16 = 0x8080;
    let mut s = NodeState::new(config, NodeRef::new(own, 0u32));
    let mut h = 1;
    for d in 0..=255u16 {
        for id in [(d << 8) | 0x11, 0x8000 | d] {
            if id != own {
                s.learn(NodeRef::new(id, h), h).unwrap();
                h += 1;
            }
        }
    }
    assert_eq!(s.table().len(), 2 * 255);
    assert_eq!(s.neighborhood().len(), 256);
    assert!(s.leaf_set().is_full());
    let bufs = encode_all(&s);
    let most = decode_all::<u16>(&bufs, &config);
    let bound = decode_alloc_bound::<u32, u16>(&config) as u64;
    assert!(most <= bound);
    assert!(
        most * 10 >= bound * 9,
        "bound {bound} is loose: used {most}"
    );
    assert_eq!(bound as usize, max_decode_alloc::<u32, u16>());
}

/// A header that claims more nodes than the input holds is refused before anything is
/// reserved for them; a bad header allocates nothing at all.
#[test]
fn claims_beyond_the_input_allocate_nothing() {
    // State header: b = 8, L = 64, |M| = 256, own id, own handle, then 32 + 32 leaf nodes
    // claimed with no bytes behind them.
    let mut b = vec![b'P', b'S', 1, 1, 16, 8, 64, 1, 0];
    b.extend_from_slice(&Guid::new(5).to_be_bytes());
    b.extend_from_slice(&7u32.to_be_bytes());
    b.extend_from_slice(&[32, 32]);
    let (r, info) = counted(|| NodeState::<u32>::decode(&b));
    assert_eq!(r, Err(DecodeError::Truncated { offset: b.len() }));
    assert_eq!(info.count_total, 0);

    // A row message claiming 255 entries with none behind them.
    let mut b = vec![b'P', b'S', 1, 3, 16, 8];
    b.extend_from_slice(&Guid::new(5).to_be_bytes());
    b.extend_from_slice(&[0, 255]);
    let (r, info) = counted(|| RoutingTable::<u32>::decode_row(&b));
    assert_eq!(r, Err(DecodeError::Truncated { offset: b.len() }));
    assert_eq!(info.count_total, 0);

    for bad in [
        &b"XS\x01\x01\x10"[..],
        b"PS\x02\x01\x10",
        b"PS\x01\x09\x10",
        b"PS\x01\x01\x08",
        b"P",
    ] {
        let (r, info) = counted(|| NodeState::<u32>::decode(bad));
        assert!(r.is_err());
        assert_eq!(info.count_total, 0);
    }
}

/// The figures the codec's documentation states (64-bit targets): with u32 handles and Guid
/// ids, a decode allocates at most 26,880 bytes under the paper's configuration and 211,072
/// bytes under any configuration.
#[cfg(target_pointer_width = "64")]
#[test]
fn documented_bound_figures() {
    assert_eq!(decode_alloc_bound::<u32, Guid>(&Config::PAPER), 26_880);
    let bound = max_decode_alloc::<u32, Guid>();
    assert_eq!(
        bound,
        decode_alloc_bound::<u32, Guid>(&Config::new(8, 64, 256).unwrap())
    );
    assert_eq!(bound, 211_072);
}

/// `NodeState::heap_bytes` is the exact heap size: for a state whose neighborhood set is full
/// (so its vector holds exactly its capacity), a clone allocates exactly `heap_bytes` bytes.
#[test]
fn heap_bytes_is_what_a_clone_or_a_row_answer_allocates() {
    let config = Config::new(4, 16, 8).unwrap();
    let mut s = NodeState::new(config, NodeRef::new(0x8080u16, 0u32));
    let mut h = 1;
    for id in (0..=u16::MAX).step_by(997) {
        if id != 0x8080 {
            s.learn(NodeRef::new(id, h), h).unwrap();
            h += 1;
        }
    }
    assert_eq!(s.neighborhood().len(), 8);
    assert!(s.leaf_set().len() == 16 && s.table().len() > 15);
    let (copy, info) = counted(|| s.clone());
    assert_eq!(info.bytes_total, copy.heap_bytes() as u64);
    assert!(copy.heap_bytes() > 0);
    // A row request's answer, `only_row`, holds that row alone and allocates exactly what it
    // keeps: its vectors are sized once, never grown.
    for r in 0..s.table().row_count() {
        let row = Row(r as u8);
        let (only, info) = counted(|| s.table().only_row(row));
        assert_eq!(info.bytes_total, only.heap_bytes() as u64, "row {r}");
        assert!(only.row(row).eq(s.table().row(row)), "row {r}");
        assert_eq!(only.len(), s.table().row(row).count());
    }
}
