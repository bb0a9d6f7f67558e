//! The message codec: round trips for every kind, canonical decoding under corruption,
//! truncation and extension, typed errors, and the payload cap at the sender.
//!
//! * `every_kind_round_trips` (proptest): `decode(encode(m)) == m` for well-formed messages
//!   of every kind, through a vector, a slice, and with `encoded_len` exact.
//! * `corrupted_encodings_decode_canonically_or_fail` : every byte of one encoding of each
//!   kind replaced by several values; each result is a typed error or a message that
//!   re-encodes to the very bytes (the fuzz property `check_decode`).
//! * `truncations_and_extensions_are_errors`.
//! * `oversize_payloads_are_refused`.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use pastry_kernel::codec::{DecodeError, EncodeError};
use pastry_kernel::{Config, NodeRef};
use pastry_node::fuzzing::{check_decode, MessageSpec};
use pastry_node::message::{Body, Kind, MessageDecodeError, MessageEncodeError, Routed};
use pastry_node::{CallError, Message, NoEstimate, Node, NodeConfig};
use proptest::prelude::*;

const MAX: usize = 64 * 1024;

fn routing() -> Config {
    Config::new(2, 4, 4).expect("valid")
}

/// One message of each kind, from fixed specs.
fn one_of_each() -> Vec<Message<u16, u16>> {
    (0..Kind::ALL.len() as u8)
        .map(|k| {
            MessageSpec {
                kind: k,
                from: 3,
                id: 9,
                nodes: vec![1, 2, 4, 5, 7, 8, 11],
                row: 1,
                active: true,
                key: 5,
                payload: 6,
                hops: 2,
            }
            .build(routing())
        })
        .collect()
}

proptest! {
    #![proptest_config(common::seeded(256, "proptest-regressions/codec.txt"))]

    #[test]
    fn every_kind_round_trips(seed in prop::collection::vec(any::<u8>(), 16..256)) {
        let mut u = Unstructured::new(&seed);
        let spec = MessageSpec::arbitrary(&mut u).expect("enough bytes");
        let m = spec.build(routing());
        let bytes = m.to_vec(MAX).expect("encodable");
        prop_assert_eq!(bytes.len(), m.encoded_len());
        let back = Message::<u16, u16>::decode(&bytes, MAX);
        prop_assert_eq!(back.as_ref(), Ok(&m));
        let mut buf = vec![0u8; bytes.len()];
        prop_assert_eq!(m.encode_into(&mut buf, MAX), Ok(bytes.len()));
        prop_assert_eq!(&buf, &bytes);
        let mut short = vec![0u8; bytes.len() - 1];
        let refused = matches!(
            m.encode_into(&mut short, MAX),
            Err(MessageEncodeError::Part(EncodeError::BufferTooSmall { .. }))
        );
        prop_assert!(refused, "a short buffer was not refused");
        prop_assert!(short.iter().all(|b| *b == 0), "a refused encode wrote");
        check_decode(&bytes);
    }
}

#[test]
fn every_kind_is_covered() {
    let kinds: Vec<Kind> = one_of_each().iter().map(|m| m.body.kind()).collect();
    assert_eq!(kinds, Kind::ALL);
    for k in Kind::ALL {
        assert_eq!(Kind::from_byte(k.to_byte()), Some(k));
        assert!(!k.name().is_empty());
    }
    assert_eq!(Kind::from_byte(0), None);
    assert_eq!(Kind::from_byte(17), None);
}

#[test]
fn corrupted_encodings_decode_canonically_or_fail() {
    let mut accepted = 0usize;
    let mut inputs = 0usize;
    for m in one_of_each() {
        let bytes = m.to_vec(MAX).expect("encodable");
        for i in 0..bytes.len() {
            for v in [
                0u8,
                1,
                2,
                0x7f,
                0x80,
                0xfe,
                0xff,
                bytes[i] ^ 1,
                bytes[i].wrapping_add(1),
            ] {
                if v == bytes[i] {
                    continue;
                }
                let mut c = bytes.clone();
                c[i] = v;
                inputs += 1;
                if Message::<u16, u16>::decode(&c, MAX).is_ok() {
                    accepted += 1;
                }
                check_decode(&c);
            }
        }
    }
    // Most single-byte changes are caught; those accepted are other valid messages.
    assert!(inputs > 5_000, "{inputs} inputs");
    assert!(accepted < inputs, "{accepted} of {inputs} accepted");
    println!("{inputs} corrupted inputs, {accepted} decode to other canonical messages");
}

#[test]
fn truncations_and_extensions_are_errors() {
    for m in one_of_each() {
        let bytes = m.to_vec(MAX).expect("encodable");
        for n in 0..bytes.len() {
            assert!(
                Message::<u16, u16>::decode(&bytes[..n], MAX).is_err(),
                "{:?} cut to {n} bytes decoded",
                m.body.kind()
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Message::<u16, u16>::decode(&longer, MAX),
            Err(MessageDecodeError::Part(DecodeError::TrailingBytes {
                offset: bytes.len()
            }))
        );
    }
}

#[test]
fn header_errors_are_typed() {
    let bytes = one_of_each()[13].to_vec(MAX).expect("encodable"); // a Ping
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(
        Message::<u16, u16>::decode(&bad, MAX),
        Err(MessageDecodeError::BadMagic)
    );
    let mut bad = bytes.clone();
    bad[2] = 2;
    assert_eq!(
        Message::<u16, u16>::decode(&bad, MAX),
        Err(MessageDecodeError::UnsupportedVersion(2))
    );
    let mut bad = bytes.clone();
    bad[3] = 99;
    assert_eq!(
        Message::<u16, u16>::decode(&bad, MAX),
        Err(MessageDecodeError::UnknownKind(99))
    );
    assert_eq!(
        Message::<u16, u32>::decode(&bytes, MAX),
        Err(MessageDecodeError::IdWidth {
            expected: 4,
            found: 2
        })
    );
    for e in [
        MessageDecodeError::BadMagic,
        MessageDecodeError::BadFlag { offset: 3 },
        MessageDecodeError::WrongOwner { offset: 9 },
        MessageDecodeError::PayloadTooLarge { len: 9, max: 1 },
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn oversize_payloads_are_refused() {
    let from = NodeRef::new(7u16, 7u16);
    let m = Message {
        from,
        id: 1,
        body: Body::Route(Routed {
            key: 9,
            origin: from,
            seq: 1,
            hops: 0,
            body: vec![0; 101],
        }),
    };
    let mut out = vec![1, 2, 3];
    assert_eq!(
        m.encode(&mut out, 100),
        Err(MessageEncodeError::PayloadTooLarge { len: 101, max: 100 })
    );
    assert_eq!(out, [1, 2, 3], "a refused encode left bytes behind");
    // The receiver's cap is checked before the payload is read.
    let bytes = m.to_vec(MAX).expect("under the larger cap");
    assert_eq!(
        Message::<u16, u16>::decode(&bytes, 100),
        Err(MessageDecodeError::PayloadTooLarge { len: 101, max: 100 })
    );
    // And at the node's call.
    let mut cfg = NodeConfig::new(routing());
    cfg.max_payload = 100;
    let mut node = Node::new(cfg, from, NoEstimate, 1).expect("valid");
    node.join(0, None).expect("idle");
    let before = node.clone();
    assert_eq!(
        node.route(0, 5, vec![0; 101]),
        Err(CallError::PayloadTooLarge { len: 101, max: 100 })
    );
    assert_eq!(node, before, "a refused route changed the node");
}

/// The committed `node_decode` seeds are exactly `decode_seeds()` (run `cargo run --example
/// write_seeds` in `fuzz/` after changing the messages), and each passes the fuzz property.
#[test]
fn decode_seeds_are_committed_and_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/node_decode");
    let committed = pastry_kernel::fuzzing::committed_seeds(&dir);
    let mut expected = pastry_node::fuzzing::decode_seeds();
    expected.sort();
    assert_eq!(committed, expected, "fuzz/seeds/node_decode is stale");
    for (name, bytes) in &expected {
        assert!(
            Message::<u16, u16>::decode(bytes, MAX).is_ok(),
            "{name} does not decode"
        );
        check_decode(bytes);
    }
}
