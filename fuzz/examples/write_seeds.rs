//! Writes the committed seeds under `fuzz/seeds/<target>/`, one file per named seed.
//!
//! The seed folders are not libFuzzer corpora: a fuzz run writes its new inputs into the first
//! corpus directory it is given (by default `corpus/<target>/`, ignored by git), so runs pass a
//! scratch directory first and `seeds/<target>` second. The names written here are exactly
//! `pastry_kernel::fuzzing::seed_names(target)`, the files the seed-replay tests read; the run
//! fails if the two lists differ.
//!
//! Run from `fuzz/`: `cargo run --example write_seeds` (it rewrites the files; the output is
//! deterministic, so an unchanged kernel gives an unchanged `git diff`).
//!
//! The typed targets read their input with `Arbitrary::arbitrary_take_rest`, so a seed is the
//! byte string that `arbitrary` decodes into the intended input. [`Seed`] writes those bytes for
//! the few shapes the inputs use (little-endian integers, `bool` continuation bytes before each
//! element of a `Vec`, a `u32` that picks an enum variant, `Config`'s own three-byte encoding),
//! and every seed is decoded back with `arbitrary` and compared with the intended value before
//! it is written, so a change of the input types or of `arbitrary` fails loudly here instead of
//! leaving meaningless seeds. The `codec_decode` seeds are real encodings made by the codec.
//!
//! Seeds, for every typed target:
//! * `empty_state`: a node that knows nobody;
//! * `three_node_ring`: a node and two others, keys between them;
//! * `full_b4_state`: b = 4, L = 16, |M| = 32 with every routing-table slot filled (480 entries
//!   for 128-bit ids), so the leaf set and the neighborhood set are full too;
//! * `ids_near_zero`, `ids_near_max`: the local id at 0 or 2^128 − 1 and nodes on both sides of
//!   the wrap-around point;
//! * `equidistant_tie`: two nodes at the same distance on either side of the key (closer's
//!   clockwise tie-break decides the root).
//!
//! The protocol decoders' seeds are real encodings: one message of each kind for `node_decode`
//! (`pastry_node::fuzzing::decode_seeds`), and DHT messages for `dht_decode`
//! (`pastry_dht::fuzzing::decode_seeds`).

use std::fmt::Debug;
use std::fs;
use std::path::Path;
use std::sync::Mutex;

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use pastry_kernel::fuzzing::{
    seed_names, ArithInput, JoinMergeInput, JoinMergeOp, RoundtripInput, RoundtripStep, RouteInput,
    StateOp, StateOpsInput, StateSequence, SEED_TARGETS,
};
use pastry_kernel::{Config, DigitWidth, Guid, Row};

/// A value that can be written as the bytes `arbitrary` reads back as that value.
trait Seed {
    /// Appends the bytes that `Arbitrary::arbitrary` decodes as `self`.
    fn put(&self, out: &mut Vec<u8>);
    /// Appends the bytes that `Arbitrary::arbitrary_take_rest` (the last field) decodes as
    /// `self`.
    fn put_last(&self, out: &mut Vec<u8>) {
        self.put(out);
    }
}

macro_rules! seed_int {
    ($($t:ty),*) => {$(
        impl Seed for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
seed_int!(u8, u16, u32, u128);

impl Seed for Guid {
    fn put(&self, out: &mut Vec<u8>) {
        self.get().put(out);
    }
}

impl<A: Seed, B: Seed> Seed for (A, B) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
}

impl<T: Seed> Seed for Vec<T> {
    /// Each element follows a `true` byte; a `false` byte ends the list.
    fn put(&self, out: &mut Vec<u8>) {
        self.put_last(out);
        out.push(0);
    }
    /// As the last field the list ends with the input.
    fn put_last(&self, out: &mut Vec<u8>) {
        for e in self {
            out.push(1);
            e.put(out);
        }
    }
}

/// The `u32` that the derived `Arbitrary` maps to variant `index` of `count`: it picks
/// `(u32 · count) >> 32`.
fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let v = (index << 32).div_ceil(count);
    (v as u32).put(out);
}

impl Seed for DigitWidth {
    fn put(&self, out: &mut Vec<u8>) {
        let index = DigitWidth::ALL.iter().position(|b| b == self).unwrap_or(0);
        variant(out, index as u64, DigitWidth::ALL.len() as u64);
    }
}

impl Seed for Config {
    /// The kernel's `Arbitrary` for `Config`: the digit width, then one byte each for
    /// `L / 2 − 1` (in 1..=32) and for |M| (in 0..=64).
    fn put(&self, out: &mut Vec<u8>) {
        self.digit_width().put(out);
        out.push((self.leaf_set_len() / 2 - 1) as u8);
        out.push(self.neighborhood_len() as u8);
    }
}

impl Seed for RouteInput {
    fn put(&self, out: &mut Vec<u8>) {
        self.config.put(out);
        self.own.put(out);
        self.nodes.put(out);
        self.forgets.put(out);
        self.key.put(out);
    }
}

impl<W: Seed + Copy> Seed for StateOp<W> {
    fn put(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 4;
        match *self {
            StateOp::Learn(id, p) => {
                variant(out, 0, COUNT);
                (id, p).put(out);
            }
            StateOp::Forget(id) => {
                variant(out, 1, COUNT);
                id.put(out);
            }
            StateOp::ForgetKnown(i) => {
                variant(out, 2, COUNT);
                i.put(out);
            }
            StateOp::Route(key) => {
                variant(out, 3, COUNT);
                key.put(out);
            }
        }
    }
}

impl Seed for StateOpsInput {
    fn put(&self, out: &mut Vec<u8>) {
        self.config.put(out);
        self.own.put(out);
        self.ops.put_last(out);
    }
}

impl<W: Seed + Copy> Seed for JoinMergeOp<W> {
    fn put(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 9;
        match self {
            JoinMergeOp::Learn(id) => {
                variant(out, 0, COUNT);
                id.put(out);
            }
            JoinMergeOp::ForgetKnown(i) => {
                variant(out, 1, COUNT);
                i.put(out);
            }
            JoinMergeOp::PeerLearn(p, id) => {
                variant(out, 2, COUNT);
                (*p, *id).put(out);
            }
            JoinMergeOp::MergeState(p) => {
                variant(out, 3, COUNT);
                p.put(out);
            }
            JoinMergeOp::MergeLeafSet(p, q) => {
                variant(out, 4, COUNT);
                (*p, *q).put(out);
            }
            JoinMergeOp::MergeRow(p, q, r) => {
                variant(out, 5, COUNT);
                (*p, (*q, *r)).put(out);
            }
            JoinMergeOp::MergeNeighborhood(p, q) => {
                variant(out, 6, COUNT);
                (*p, *q).put(out);
            }
            JoinMergeOp::Join(route) => {
                variant(out, 7, COUNT);
                route.put(out);
            }
            JoinMergeOp::Route(key) => {
                variant(out, 8, COUNT);
                key.put(out);
            }
        }
    }
}

impl<W: Seed + Copy> Seed for JoinMergeInput<W> {
    fn put(&self, out: &mut Vec<u8>) {
        self.config.put(out);
        self.own.put(out);
        self.peers.put(out);
        self.ops.put_last(out);
    }
}

impl Seed for StateSequence {
    fn put(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 3;
        match self {
            StateSequence::LearnForget(i) => {
                variant(out, 0, COUNT);
                i.put(out);
            }
            StateSequence::JoinMerge(i) => {
                variant(out, 1, COUNT);
                i.put(out);
            }
            StateSequence::JoinMergeU16(i) => {
                variant(out, 2, COUNT);
                i.put(out);
            }
        }
    }
}

impl Seed for ArithInput {
    fn put(&self, out: &mut Vec<u8>) {
        for v in [self.a, self.k, self.x, self.y] {
            v.put(out);
        }
        self.b.put(out);
    }
}

impl Seed for RoundtripStep {
    fn put(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 3;
        match *self {
            RoundtripStep::Learn {
                id,
                handle,
                proximity,
            } => {
                variant(out, 0, COUNT);
                (id, (handle, proximity)).put(out);
            }
            RoundtripStep::LearnNear {
                shared,
                id,
                handle,
                proximity,
            } => {
                variant(out, 1, COUNT);
                (shared, (id, (handle, proximity))).put(out);
            }
            RoundtripStep::Forget { pick } => {
                variant(out, 2, COUNT);
                pick.put(out);
            }
        }
    }
}

impl Seed for RoundtripInput {
    fn put(&self, out: &mut Vec<u8>) {
        self.config.put(out);
        self.own.put(out);
        self.steps.put_last(out);
    }
}

/// Encodes `value`, checks that `arbitrary` decodes the bytes back to it, and writes them to
/// `seeds/<target>/<name>`.
fn write<T>(target: &str, name: &str, value: &T)
where
    T: Seed + Debug + for<'a> Arbitrary<'a>,
{
    let mut bytes = Vec::new();
    value.put(&mut bytes);
    let back = T::arbitrary_take_rest(Unstructured::new(&bytes))
        .unwrap_or_else(|e| panic!("{target}/{name}: arbitrary rejects the seed: {e}"));
    assert_eq!(
        format!("{back:?}"),
        format!("{value:?}"),
        "{target}/{name}: the seed does not decode to its value"
    );
    write_bytes(target, name, &bytes);
}

fn write_bytes(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("seeds").join(target);
    fs::create_dir_all(&dir).expect("create the seed directory");
    fs::write(dir.join(name), bytes).expect("write a seed");
    println!("{target}/{name}: {} bytes", bytes.len());
    WRITTEN
        .lock()
        .expect("no other thread")
        .push(format!("{target}/{name}"));
}

/// `target/name` of every seed written so far.
static WRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The seeds written are exactly the ones the replay tests read.
fn check_names() {
    let mut written = WRITTEN.lock().expect("no other thread").clone();
    written.sort();
    let mut expected: Vec<String> = SEED_TARGETS
        .iter()
        .flat_map(|t| seed_names(t).into_iter().map(move |n| format!("{t}/{n}")))
        .chain(
            pastry_node::fuzzing::decode_seeds()
                .into_iter()
                .map(|(n, _)| format!("node_decode/{n}")),
        )
        .chain(
            pastry_dht::fuzzing::decode_seeds()
                .into_iter()
                .map(|(n, _)| format!("dht_decode/{n}")),
        )
        .collect();
    expected.sort();
    assert_eq!(
        written, expected,
        "the seeds written differ from pastry_kernel::fuzzing::seed_names"
    );
}

const MAX: u128 = u128::MAX;
/// Bits below the top digits, filled with a fixed pattern so ids are not all zeros.
const FILL: u128 = 0x5a5a_5a5a_5a5a_5a5a_a5a5_a5a5_a5a5_a5a5;
/// The local node of the non-edge seeds.
const OWN: u128 = 0x3c3c_3c3c_3c3c_3c3c_c3c3_c3c3_c3c3_c3c3;

/// The ids that fill every routing-table slot of `own` for b = 4: for row r and each column
/// c ≠ digit(own, r), own's first r digits, then c, then [`FILL`]'s bits.
fn full_table_ids(own: u128) -> Vec<u128> {
    let mut ids = Vec::new();
    for row in 0..32u32 {
        let shift = 124 - 4 * row;
        let prefix = own & !(MAX >> (4 * row));
        let own_digit = (own >> shift) & 0xf;
        for c in (0..16u128).filter(|&c| c != own_digit) {
            let low = if shift == 0 {
                0
            } else {
                FILL & (MAX >> (128 - shift))
            };
            ids.push(prefix | (c << shift) | low);
        }
    }
    ids
}

/// A named state: the local id, the ids it learns with their proximity figures, and keys.
struct Shape {
    name: &'static str,
    config: Config,
    own: u128,
    nodes: Vec<(u128, u8)>,
    keys: Vec<u128>,
}

fn shapes() -> Vec<Shape> {
    let full: Vec<(u128, u8)> = full_table_ids(OWN)
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, (i * 37 % 251) as u8))
        .collect();
    let three = vec![(0x1000_0000u128 << 96, 3), (0xa000_0000u128 << 96, 7)];
    let d = 0x0123_4567_89ab_cdefu128;
    vec![
        Shape {
            name: "empty_state",
            config: Config::PAPER,
            own: OWN,
            nodes: vec![],
            keys: vec![OWN ^ (1 << 127), OWN],
        },
        Shape {
            name: "three_node_ring",
            config: Config::PAPER,
            own: 0x6000_0000u128 << 96,
            nodes: three,
            keys: vec![
                0x2000_0000u128 << 96,
                0x8000_0000u128 << 96,
                0xf000_0000u128 << 96,
            ],
        },
        Shape {
            name: "full_b4_state",
            config: Config::PAPER,
            own: OWN,
            keys: vec![OWN ^ 0xffff, OWN ^ (1 << 100), OWN ^ (0xf << 124), !OWN],
            nodes: full,
        },
        Shape {
            name: "ids_near_zero",
            config: Config::new(4, 4, 4).unwrap_or(Config::PAPER),
            own: 0,
            nodes: vec![(1, 1), (2, 2), (MAX, 3), (MAX - 1, 4), (1 << 127, 5)],
            keys: vec![MAX, 0, 1, 1 << 127],
        },
        Shape {
            name: "ids_near_max",
            config: Config::new(4, 4, 4).unwrap_or(Config::PAPER),
            own: MAX,
            nodes: vec![(0, 1), (1, 2), (MAX - 1, 3), (MAX - 2, 4), (MAX >> 1, 5)],
            keys: vec![0, MAX, MAX - 1, MAX >> 1],
        },
        Shape {
            name: "equidistant_tie",
            config: Config::new(4, 2, 2).unwrap_or(Config::PAPER),
            own: OWN.wrapping_add(1 << 120),
            nodes: vec![(OWN.wrapping_add(d), 1), (OWN.wrapping_sub(d), 2)],
            keys: vec![OWN],
        },
    ]
}

fn main() {
    for s in shapes() {
        let g = Guid::new;
        let n = s.nodes.len();
        // route: learn everything, forget the first node now and then, route the first key.
        let route = RouteInput {
            config: s.config,
            own: g(s.own),
            nodes: s.nodes.iter().map(|&(id, p)| (g(id), p)).collect(),
            forgets: if n > 8 { vec![0, 5] } else { vec![] },
            key: g(s.keys[0]),
        };
        write("route", s.name, &route);

        // state_ops: learn everything, route every key, forget a known node and the local id,
        // route again.
        let mut ops: Vec<StateOp> = s
            .nodes
            .iter()
            .map(|&(id, p)| StateOp::Learn(g(id), p))
            .collect();
        ops.push(StateOp::Learn(g(s.own), 0));
        ops.extend(s.keys.iter().map(|&k| StateOp::Route(g(k))));
        ops.push(StateOp::ForgetKnown(1));
        ops.push(StateOp::Forget(g(s.own)));
        ops.extend(s.keys.iter().map(|&k| StateOp::Route(g(k))));
        let state_ops = StateSequence::LearnForget(StateOpsInput {
            config: s.config,
            own: g(s.own),
            ops,
        });
        write("state_ops", s.name, &state_ops);

        // state_ops, join and merges: three peers; the first learns the shape's nodes, the
        // others learn the first; the local node joins via the first and the last peer, then
        // merges every part of every peer (including refused merges: another node's leaf set,
        // the local id as a peer), forgets, routes the keys.
        let peers = vec![
            g(s.own ^ (1 << 120)),
            g(s.own ^ (1 << 90)),
            g(s.own.wrapping_add(0x10_0000)),
            g(s.own),
        ];
        let mut ops: Vec<JoinMergeOp> = s
            .nodes
            .iter()
            .map(|&(id, _)| JoinMergeOp::PeerLearn(0, g(id)))
            .collect();
        ops.extend([
            JoinMergeOp::PeerLearn(1, peers[0]),
            JoinMergeOp::PeerLearn(2, peers[1]),
            JoinMergeOp::PeerLearn(2, peers[0]),
            JoinMergeOp::Join(vec![1, 0]),
        ]);
        ops.extend(s.keys.iter().map(|&k| JoinMergeOp::Route(g(k))));
        ops.extend([
            JoinMergeOp::MergeState(2),
            JoinMergeOp::MergeLeafSet(1, 1),
            JoinMergeOp::MergeLeafSet(1, 0),
            JoinMergeOp::MergeRow(0, 0, 0),
            JoinMergeOp::MergeRow(2, 2, 30),
            JoinMergeOp::MergeNeighborhood(2, 2),
            JoinMergeOp::MergeNeighborhood(1, 2),
            JoinMergeOp::MergeState(3),
            JoinMergeOp::Join(vec![3]),
            JoinMergeOp::ForgetKnown(0),
            JoinMergeOp::Learn(peers[2]),
        ]);
        ops.extend(s.keys.iter().map(|&k| JoinMergeOp::Route(g(k))));
        let join_merge = JoinMergeInput {
            config: s.config,
            own: g(s.own),
            peers: peers.clone(),
            ops: ops.clone(),
        };
        write(
            "state_ops",
            &format!("join_merge.{}", s.name),
            &StateSequence::JoinMerge(join_merge),
        );
        // The same on a 16-bit ring (top bits of each id).
        let top = |id: Guid| (id.get() >> 112) as u16;
        let narrow = |op: &JoinMergeOp| match op.clone() {
            JoinMergeOp::Learn(id) => JoinMergeOp::Learn(top(id)),
            JoinMergeOp::PeerLearn(p, id) => JoinMergeOp::PeerLearn(p, top(id)),
            JoinMergeOp::Route(k) => JoinMergeOp::Route(top(k)),
            JoinMergeOp::ForgetKnown(i) => JoinMergeOp::ForgetKnown(i),
            JoinMergeOp::MergeState(p) => JoinMergeOp::MergeState(p),
            JoinMergeOp::MergeLeafSet(p, q) => JoinMergeOp::MergeLeafSet(p, q),
            JoinMergeOp::MergeRow(p, q, r) => JoinMergeOp::MergeRow(p, q, r),
            JoinMergeOp::MergeNeighborhood(p, q) => JoinMergeOp::MergeNeighborhood(p, q),
            JoinMergeOp::Join(route) => JoinMergeOp::Join(route),
        };
        let join_merge_u16 = JoinMergeInput {
            config: s.config,
            own: top(g(s.own)),
            peers: peers.iter().map(|&p| top(p)).collect(),
            ops: ops.iter().map(narrow).collect(),
        };
        write(
            "state_ops",
            &format!("join_merge_u16.{}", s.name),
            &StateSequence::JoinMergeU16(join_merge_u16),
        );

        // codec_roundtrip: the same state, with handles and 32-bit proximity figures.
        let mut steps: Vec<RoundtripStep> = s
            .nodes
            .iter()
            .enumerate()
            .map(|(i, &(id, p))| RoundtripStep::Learn {
                id,
                handle: 0x0a00_0000 + i as u32,
                proximity: u32::from(p) * 1000,
            })
            .collect();
        if n > 2 {
            steps.push(RoundtripStep::Forget { pick: 1 });
        }
        let roundtrip = RoundtripInput {
            config: s.config,
            own: s.own,
            steps,
        };
        write("codec_roundtrip", s.name, &roundtrip);

        // codec_decode: the codec's encodings of that state and of its parts.
        let state = roundtrip.state::<u32, Guid>(|h| h);
        let mut buf = vec![0u8; state.encoded_len()];
        let len = state.encode(&mut buf).expect("encode a state");
        write_bytes("codec_decode", &format!("{}.state", s.name), &buf[..len]);
        let leaf = state.leaf_set();
        let mut buf = vec![0u8; leaf.encoded_len()];
        let len = leaf.encode(&mut buf).expect("encode a leaf set");
        write_bytes("codec_decode", &format!("{}.leaf_set", s.name), &buf[..len]);
        let hood = state.neighborhood();
        let mut buf = vec![0u8; hood.encoded_len(state.id())];
        let len = hood
            .encode(state.id(), &mut buf)
            .expect("encode a neighborhood set");
        write_bytes(
            "codec_decode",
            &format!("{}.neighborhood", s.name),
            &buf[..len],
        );
        let table = state.table();
        let row = Row(0);
        let mut buf = vec![0u8; table.encoded_row_len(row)];
        let len = table.encode_row(row, &mut buf).expect("encode a row");
        write_bytes("codec_decode", &format!("{}.row0", s.name), &buf[..len]);

        // arith: the local id, the first key and the first two nodes, for every digit width.
        let id = |i: usize| s.nodes.get(i).map_or(s.own ^ MAX, |x| x.0);
        for b in DigitWidth::ALL {
            let arith = ArithInput {
                a: s.own,
                k: s.keys[0],
                x: id(0),
                y: id(1),
                b,
            };
            write("arith", &format!("{}.b{}", s.name, b.bits()), &arith);
        }
    }
    // arith: the exact tie k ± d, and the opposite point k + 2^127.
    let k = OWN;
    for (name, x, y) in [
        ("tie_k_plus_minus_d", k.wrapping_add(5), k.wrapping_sub(5)),
        ("opposite_point", k.wrapping_add(1 << 127), k),
        ("wrap_max_to_zero", MAX, 0),
    ] {
        let arith = ArithInput {
            a: y,
            k,
            x,
            y,
            b: DigitWidth::B4,
        };
        write("arith", name, &arith);
    }
    // The protocol decoders: real encodings of every node message kind and of DHT messages.
    for (name, bytes) in pastry_node::fuzzing::decode_seeds() {
        write_bytes("node_decode", &name, &bytes);
    }
    for (name, bytes) in pastry_dht::fuzzing::decode_seeds() {
        write_bytes("dht_decode", &name, &bytes);
    }
    check_names();
}
