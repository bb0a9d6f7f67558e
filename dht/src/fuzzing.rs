//! The properties the fuzz targets run (feature `fuzzing`), also run by the crate's tests:
//! one property, three uses (fuzz target, property test, regression test).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use arbitrary::{Arbitrary, Unstructured};
use pastry_kernel::{Config, Guid, NodeRef, RingWord};
use pastry_node::message::{Body, Routed};
use pastry_node::{Message, NoEstimate, Node, NodeConfig};

use crate::config::DhtConfig;
use crate::engine::Dht;
use crate::event::DhtEvent;
use crate::message::DhtMessage;
use crate::record::Version;

/// The value cap the properties decode with.
pub const FUZZ_MAX_VALUE: usize = 256;

/// Arbitrary bytes into the decoder, for 128-bit and 16-bit ids: a typed error, or a message
/// that re-encodes to exactly the same bytes.
///
/// # Panics
/// When a decoded message does not re-encode to its bytes (the codec is not canonical).
#[allow(clippy::panic)]
pub fn check_decode(bytes: &[u8]) {
    fn one<W: RingWord>(bytes: &[u8]) {
        if let Ok(m) = DhtMessage::<W>::decode(bytes, FUZZ_MAX_VALUE) {
            match m.to_vec(FUZZ_MAX_VALUE) {
                Ok(again) => assert_eq!(again, bytes, "decode then encode changed the bytes"),
                Err(e) => panic!("a decoded message does not encode: {e}"),
            }
            assert_eq!(m.encoded_len(), bytes.len(), "encoded_len is wrong");
        }
    }
    one::<Guid>(bytes);
    one::<u16>(bytes);
}

/// The committed seeds of the `dht_decode` target (`fuzz/seeds/dht_decode/`): encodings of
/// messages drawn from fixed byte patterns (so the list is deterministic), each named by its
/// index, for a fuzz run to mutate real bodies rather than headers. The seed-replay test holds
/// the committed files to this list.
#[must_use]
pub fn decode_seeds() -> Vec<(alloc::string::String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0u8..64 {
        let pattern: Vec<u8> = (0..256u16)
            .map(|j| (j as u8).wrapping_mul(31).wrapping_add(i.wrapping_mul(97)))
            .collect();
        let Ok(m) = DhtMessage::<Guid>::arbitrary(&mut Unstructured::new(&pattern)) else {
            continue;
        };
        let Ok(bytes) = m.to_vec(FUZZ_MAX_VALUE) else {
            continue;
        };
        if DhtMessage::<Guid>::decode(&bytes, FUZZ_MAX_VALUE).is_ok()
            && !out
                .iter()
                .any(|(_, b): &(alloc::string::String, Vec<u8>)| *b == bytes)
        {
            out.push((alloc::format!("{i:02}.msg"), bytes));
        }
    }
    out
}

/// A message into the encoder and back: after putting its lists in the wire's order, it
/// encodes (unless a value is over the cap, a typed error) and decodes to itself.
///
/// # Panics
/// When the round trip changes the message.
#[allow(clippy::panic)]
pub fn check_roundtrip(m: &DhtMessage<Guid>) {
    let mut m = m.clone();
    match &mut m {
        DhtMessage::Summary { entries } => {
            entries.sort_by_key(|e| e.0);
            entries.dedup_by_key(|e| e.0);
            entries.truncate(crate::message::MAX_ENTRIES);
        }
        DhtMessage::SummaryReply { entries } => {
            entries.sort_by_key(|e| e.0);
            entries.dedup_by_key(|e| e.0);
            entries.truncate(crate::message::MAX_ENTRIES);
        }
        DhtMessage::Push { records } => {
            records.sort_by_key(|r| r.key);
            records.dedup_by_key(|r| r.key);
            records.truncate(crate::message::MAX_ENTRIES);
        }
        DhtMessage::GetReply {
            key,
            record: Some(r),
            ..
        }
        | DhtMessage::FetchReply {
            key,
            record: Some(r),
            ..
        } => r.key = *key,
        _ => {}
    }
    match m.to_vec(FUZZ_MAX_VALUE) {
        Ok(bytes) => {
            let back = DhtMessage::<Guid>::decode(&bytes, FUZZ_MAX_VALUE);
            assert_eq!(back.as_ref(), Ok(&m), "decode(encode(m)) != m");
            assert_eq!(m.encoded_len(), bytes.len(), "encoded_len is wrong");
        }
        Err(crate::message::DhtEncodeError::ValueTooLarge { .. }) => {}
        Err(e) => panic!("a well-formed message does not encode: {e}"),
    }
}

/// One input to a lone DHT node.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    /// The application puts a value of `len` bytes under `key`.
    Put {
        /// The key.
        key: u16,
        /// The value's length (may be over the cap: a typed error).
        len: u16,
    },
    /// The application reads `key`.
    Get {
        /// The key.
        key: u16,
    },
    /// The application removes `key`.
    Remove {
        /// The key.
        key: u16,
    },
    /// Time passes by `ms` milliseconds and the due timers fire.
    Advance {
        /// Milliseconds.
        ms: u16,
    },
    /// A DHT message arrives from another node, routed to `key`.
    Deliver {
        /// The sender's id.
        from: u16,
        /// The routed key.
        key: u16,
        /// The message.
        msg: DhtMessage<u16>,
    },
    /// A routed payload of arbitrary bytes (the DHT's magic in front) arrives.
    Payload {
        /// The sender's id.
        from: u16,
        /// The bytes after the magic.
        bytes: Vec<u8>,
    },
    /// Arbitrary bytes arrive as a node message.
    Bytes(Vec<u8>),
}

/// A sequence of inputs to one node.
#[derive(Arbitrary, Debug, Clone)]
pub struct OpsInput {
    /// The inputs, in order.
    pub ops: Vec<Op>,
}

/// Runs `input` into a lone DHT node with small caps (4 records, 4 operations, 64-byte
/// values): invariants after every input (debug builds), no panic, oversize values refused
/// with a typed error and no change, and every answer consistent with the node's own writes
/// — a write's version is held (or a newer one), a get returns at least the newest write done
/// before it was issued (checked for inputs without deliveries from other nodes).
///
/// # Panics
/// When a property fails.
#[allow(clippy::panic, clippy::too_many_lines)]
pub fn check_ops(input: &OpsInput) {
    let mut cfg = DhtConfig::new();
    cfg.replicas = 1;
    cfg.max_records = 4;
    cfg.max_ops = 4;
    cfg.max_value = 64;
    let node_cfg = cfg.node_config(NodeConfig::new(Config::PAPER));
    let Ok(node) = Node::new(node_cfg, NodeRef::new(0x8000u16, 0u32), NoEstimate, 1) else {
        panic!("a valid node configuration");
    };
    let Ok(mut dht) = Dht::new(cfg, node) else {
        panic!("a valid DHT configuration");
    };
    let mut now = 0;
    if dht.join(now, None).is_err() {
        panic!("a lone node starts its overlay");
    }
    // The newest write acknowledged per key, and the gets issued with the newest then.
    let mut done: BTreeMap<u16, Version<u16>> = BTreeMap::new();
    let mut gets: BTreeMap<u64, (u16, Option<Version<u16>>)> = BTreeMap::new();
    let mut seq = 1u64;
    // A delivered reply may answer a pending get in another node's name (the protocol trusts
    // its peers); the get check holds only for inputs without deliveries.
    let spoofable = input
        .ops
        .iter()
        .any(|o| matches!(o, Op::Deliver { .. } | Op::Payload { .. }));
    for op in &input.ops {
        now += 1;
        match op {
            Op::Put { key, len } => {
                let before = dht.clone();
                let r = dht.put(now, *key, alloc::vec![7; usize::from(*len)]);
                if usize::from(*len) > cfg.max_value {
                    assert!(r.is_err(), "an oversize value was taken");
                    assert!(dht == before, "a refused put changed the node");
                }
            }
            Op::Remove { key } => {
                let _ = dht.remove(now, *key);
            }
            Op::Get { key } => {
                if let Ok(op) = dht.get(now, *key) {
                    gets.insert(op.0, (*key, done.get(key).copied()));
                }
            }
            Op::Advance { ms } => {
                now += u64::from(*ms) * 1_000;
                dht.handle_timeout(now);
            }
            Op::Deliver { from, key, msg } => {
                if let Ok(bytes) = msg.to_vec(cfg.max_value) {
                    deliver(&mut dht, now, *from, *key, bytes, &mut seq);
                }
            }
            Op::Payload { from, bytes } => {
                let mut p = crate::message::MAGIC.to_vec();
                p.extend_from_slice(bytes);
                deliver(&mut dht, now, *from, 0x8000, p, &mut seq);
            }
            Op::Bytes(b) => {
                let _ = dht.handle_bytes(now, 1, b);
            }
        }
        while dht.poll_transmit().is_some() {}
        while let Some(e) = dht.poll_event() {
            match e {
                DhtEvent::PutDone { key, version, .. }
                | DhtEvent::RemoveDone { key, version, .. } => {
                    let held = dht.store().version(key);
                    assert!(held >= Some(version), "a done write is not held");
                    let d = done.entry(key).or_insert(version);
                    *d = (*d).max(version);
                }
                DhtEvent::GetDone {
                    op, key, version, ..
                } => {
                    if let Some((k, newest)) = gets.remove(&op.0) {
                        assert_eq!(k, key, "an answer for another key");
                        assert!(
                            spoofable || version >= newest,
                            "a get missed a write done before it"
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// Hands `dht` a routed message from node `from` carrying `payload` to `key`.
fn deliver(
    dht: &mut Dht<u32, u16>,
    now: u64,
    from: u16,
    key: u16,
    payload: Vec<u8>,
    seq: &mut u64,
) {
    if from == dht.node().own().id {
        return;
    }
    let sender = NodeRef::new(from, 1u32);
    *seq += 1;
    let msg = Message {
        from: sender,
        id: *seq,
        body: Body::Route(Routed {
            key,
            origin: sender,
            seq: *seq,
            hops: 0,
            body: payload,
        }),
    };
    dht.handle(now, 1, msg);
}
