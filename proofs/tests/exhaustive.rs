//! Exhaustive route checks with no solver: the kernel's own `NodeState::route`, run hop by hop
//! on narrow rings, from every node of a network, ends every route at the brute-force root
//! within `W::BITS / b + 1` hops, and every hop obeys the progress rule of docs/design.md.
//!
//! Heavy: run in release (`cargo test -p pastry-proofs --release`); ignored in debug builds.
//!
//! * `u8` ring, b ∈ {1, 2, 4}, L = 2, |M| = 0: **every** network of 1 to 5 nodes whose ids are
//!   drawn from the 20-id alphabet [`ALPHABET_U8`] (21 699 id sets), each with full, randomly
//!   thinned and bare routing tables; every one of the 256 keys from every node.
//! * `u8` ring, b = 4, L = 2: every network of 1 or 2 nodes anywhere on the ring (32 896
//!   networks), every key from every node (the leaf set knows the whole ring, so b plays no
//!   part).
//! * `u16` ring, b = 4: 2 000 seeded random networks of 2 to 300 nodes with L ∈ {2, 4, 8, 16} and
//!   |M| ∈ {0, 8}, each with full and with randomly thinned tables; from every node, 32 random
//!   keys plus the ids, their neighbours and the midpoints between ring neighbours of 8
//!   random nodes. And 2 networks (300 and 17 nodes) with every one of the 65 536 keys from
//!   every node, full and thinned.

use pastry_kernel::Config;
use pastry_proofs::exhaustive::{Network, SplitMix, Tables, Tally};

/// The ids the exhaustive `u8` networks are drawn from: both ends of the ring and of its two
/// halves (wrap-around), ids sharing every prefix length from 0 to 7 bits with a neighbour, and
/// ids spread over the ring.
pub const ALPHABET_U8: [u8; 20] = [
    0x00, 0x01, 0x03, 0x07, 0x0f, 0x10, 0x1f, 0x3f, 0x40, 0x55, 0x7e, 0x7f, 0x80, 0x81, 0xa5, 0xaa,
    0xc0, 0xf0, 0xfe, 0xff,
];

fn config(b: u32, l: usize, m: usize) -> Config {
    Config::new(b, l, m).expect("valid parameters")
}

/// Every subset of `alphabet` with 1 to `max` elements, passed to `f`.
fn subsets(alphabet: &[u8], max: usize, f: &mut impl FnMut(&[u8])) {
    fn go(alphabet: &[u8], from: usize, max: usize, cur: &mut Vec<u8>, f: &mut impl FnMut(&[u8])) {
        if !cur.is_empty() {
            f(cur);
        }
        if cur.len() == max {
            return;
        }
        for i in from..alphabet.len() {
            cur.push(alphabet[i]);
            go(alphabet, i + 1, max, cur, f);
            cur.pop();
        }
    }
    go(alphabet, 0, max, &mut Vec::new(), f);
}

fn check<W: pastry_kernel::RingWord>(
    net: &Network<W>,
    keys: impl IntoIterator<Item = W>,
    tally: &mut Tally,
) {
    match net.check_keys(keys) {
        Ok(t) => tally.add(&t),
        Err(e) => panic!("{e}"),
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "heavy: run with --release")]
fn every_route_on_every_small_u8_network_reaches_the_root() {
    let mut total = Tally::default();
    let mut networks = 0u64;
    for b in [1, 2, 4] {
        let mut tally = Tally::default();
        let mut index = 0u64;
        subsets(&ALPHABET_U8, 5, &mut |ids| {
            index += 1;
            for tables in [
                Tables::Full { seed: index },
                Tables::Thinned {
                    seed: index,
                    forget_per_mille: 500,
                },
                Tables::Bare,
            ] {
                let net = Network::build(config(b, 2, 0), ids, tables);
                check(&net, 0..=u8::MAX, &mut tally);
                networks += 1;
            }
        });
        println!("u8, alphabet networks, b = {b}: {index} id sets; {tally}");
        total.add(&tally);
    }
    println!("u8 alphabet family: {networks} networks checked; {total}");
    assert_eq!(networks, 3 * 3 * 21_699);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "heavy: run with --release")]
fn every_route_on_every_u8_network_of_two_nodes_reaches_the_root() {
    let mut total = Tally::default();
    let mut networks = 0u64;
    for x in 0..=u8::MAX {
        for y in x..=u8::MAX {
            let ids: &[u8] = if x == y { &[x] } else { &[x, y] };
            let net = Network::build(config(4, 2, 0), ids, Tables::Full { seed: 1 });
            check(&net, 0..=u8::MAX, &mut total);
            networks += 1;
        }
    }
    println!("u8, all networks of 1 or 2 nodes, b = 4: {networks} networks; {total}");
    assert_eq!(networks, 256 + 256 * 255 / 2);
}

fn random_u16_network(rng: &mut SplitMix, n: usize) -> Vec<u16> {
    let mut ids: Vec<u16> = Vec::with_capacity(n);
    while ids.len() < n {
        #[allow(clippy::cast_possible_truncation)]
        let id = rng.next_u64() as u16;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Keys that probe a network: random ones, and around 8 random nodes their own id, its ring
/// neighbours, and the midpoints to the next node (where closer's tie-break decides).
fn probe_keys(rng: &mut SplitMix, ids: &[u16]) -> Vec<u16> {
    #[allow(clippy::cast_possible_truncation)]
    let mut keys: Vec<u16> = (0..32).map(|_| rng.next_u64() as u16).collect();
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    for _ in 0..8 {
        let i = rng.below(sorted.len());
        let (id, next) = (sorted[i], sorted[(i + 1) % sorted.len()]);
        let gap = next.wrapping_sub(id);
        keys.extend([
            id,
            id.wrapping_add(1),
            id.wrapping_sub(1),
            id.wrapping_add(gap / 2),
            id.wrapping_add(gap.div_ceil(2)),
        ]);
    }
    keys
}

#[test]
#[cfg_attr(debug_assertions, ignore = "heavy: run with --release")]
fn routes_on_random_u16_networks_reach_the_root() {
    let mut rng = SplitMix::new(0x7061_7374_7279);
    let mut total = Tally::default();
    let networks = 2_000;
    for index in 0..networks {
        let n = 2 + rng.below(299);
        let l = [2, 4, 8, 16][rng.below(4)];
        let m = [0, 8][rng.below(2)];
        let ids = random_u16_network(&mut rng, n);
        let keys = probe_keys(&mut rng, &ids);
        for tables in [
            Tables::Full { seed: index },
            Tables::Thinned {
                seed: index,
                forget_per_mille: 100 + rng.below(800) as u64,
            },
        ] {
            let net = Network::build(config(4, l, m), &ids, tables);
            check(&net, keys.iter().copied(), &mut total);
        }
    }
    println!("u16, b = 4: {networks} random networks of 2..=300 nodes, full and thinned; {total}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "heavy: run with --release")]
fn every_key_on_two_u16_networks_reaches_the_root() {
    let mut rng = SplitMix::new(0x6b65_7973);
    let mut total = Tally::default();
    for (n, l) in [(300, 8), (17, 2)] {
        let ids = random_u16_network(&mut rng, n);
        for tables in [
            Tables::Full { seed: 7 },
            Tables::Thinned {
                seed: 7,
                forget_per_mille: 600,
            },
        ] {
            let net = Network::build(config(4, l, 0), &ids, tables);
            check(&net, 0..=u16::MAX, &mut total);
        }
    }
    println!("u16, b = 4: every key from every node of 2 networks (300, 17 nodes); {total}");
}

/// The bound of `W::BITS / b + 1` hops (docs/design.md, *Progress*) needs full routing tables: with
/// every table-only entry forgotten, on the `u8` ring with b = 4 (bound 3 hops), the key 0x05
/// travels 0x10 → 0x00 → 0x01 → 0x03 → 0x07: each rare-case hop keeps the shared prefix and moves
/// only to the next leaf. The route still ends at the root and obeys the progress rule.
#[test]
fn hop_bound_needs_full_tables() {
    let ids = [0x00u8, 0x01, 0x03, 0x07, 0x10];
    let bare = Network::build(config(4, 2, 0), &ids, Tables::Bare);
    let mut at = 4; // 0x10
    let mut path = vec![ids[at]];
    while let pastry_kernel::Route::Forward { to, .. } = bare.states()[at].route(0x05) {
        at = to.handle;
        path.push(to.id);
        assert!(path.len() <= ids.len(), "route loops: {path:x?}");
    }
    assert_eq!(path, [0x10, 0x00, 0x01, 0x03, 0x07]);
    assert_eq!(bare.root(0x05), Some(3));
    assert!(bare.check_keys(0..=u8::MAX).is_ok());
    // With full tables the same network meets the bound.
    let full = Network::build(config(4, 2, 0), &ids, Tables::Full { seed: 1 });
    let tally = full.check_keys(0..=u8::MAX).expect("routes reach the root");
    assert!(tally.max_hops <= 3, "{tally}");
}
