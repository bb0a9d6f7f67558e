//! Property tests of `NodeState::route` and the state operations: route against the paper's
//! Table 1 (`paper_route`), against the brute-force root when the key is covered, progress of
//! every Forward of steps 2-3, Deliver only where route's steps allow it, replica sets,
//! learn/forget/route sequences against brute-force models, and the rare case against a plain
//! fold over its candidates.

mod common;

use pastry_kernel::arith::rare_case_prefers;
use pastry_kernel::fuzzing::{
    check_replica_set, check_route, check_route_delivers_only_when_allowed,
    check_route_finds_covered_root, check_route_makes_progress, check_route_matches_paper,
    check_state_ops, paper_route, RouteInput,
};
use pastry_kernel::strategies::{self, inputs};
use pastry_kernel::{Config, Guid, NodeRef, NodeState, RingWord, Route, Via};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Step 3 written plainly: the first of `rare_case_candidates` that no later candidate is
/// preferred to, by a fold that recomputes `rare_case_prefers` for every comparison.
fn reference_rare_case<W: RingWord>(state: &NodeState<u32, W>, key: W) -> Route<u32, W> {
    let b = state.config().digit_width();
    let mut best: Option<&NodeRef<u32, W>> = None;
    for t in state.rare_case_candidates(key) {
        if best.is_none_or(|c| rare_case_prefers(&key, &t.id, &c.id, b)) {
            best = Some(t);
        }
    }
    match best {
        Some(t) => Route::Forward {
            to: *t,
            via: Via::RareCase,
        },
        None => Route::Deliver,
    }
}

/// Forgets the table entries picked by the bits of `mask` (entry i by bit i mod 64) that are not
/// leaf-set members, leaving empty slots behind a full leaf set so that keys reach the rare case.
fn thin<W: RingWord>(state: &mut NodeState<u32, W>, mask: u64) {
    let victims: Vec<W> = state
        .table()
        .iter()
        .map(|(_, _, e)| e.node.id)
        .filter(|id| !state.leaf_set().contains(*id))
        .enumerate()
        .filter(|(i, _)| mask >> (i % 64) & 1 == 1)
        .map(|(_, id)| id)
        .collect();
    for id in victims {
        assert!(state.forget(id).expect("not the local node").was_known());
    }
}

/// `rare_case(key)` equals [`reference_rare_case`], node and handle alike; where `route` takes
/// step 3 it answers the same.
fn check_rare_case_matches_reference<W: RingWord>(state: &NodeState<u32, W>, key: W) {
    let expected = reference_rare_case(state, key);
    assert_eq!(state.rare_case(key), expected, "rare_case({key:?})");
    if let route @ Route::Forward {
        via: Via::RareCase, ..
    } = state.route(key)
    {
        assert_eq!(route, expected, "route({key:?}) by step 3");
    }
}

/// A state from [`strategies::node_state`], thinned by a random mask ([`thin`]).
fn thinned_state<W: RingWord>(len: usize) -> BoxedStrategy<NodeState<u32, W>> {
    (
        strategies::node_state::<W>(strategies::config(), 0..len),
        any::<u64>(),
    )
        .prop_map(|(mut state, mask)| {
            thin(&mut state, mask);
            state
        })
        .boxed()
}

proptest! {
    // Narrow rings: small states, so many cases.
    #![proptest_config(common::seeded(256, "proptest-regressions/route.txt"))]

    /// route(k) equals the paper's Table 1 on a 16-bit ring, where the rare case and whole-ring
    /// leaf sets are common.
    #[test]
    fn route_matches_paper_route_on_u16_ring(
        state in strategies::node_state::<u16>(strategies::config(), 0..60),
        key in any::<u16>(),
    ) {
        check_route_matches_paper(&state, key);
    }

    /// Deliver only when the local node is the covered key's root, or when no step applies.
    #[test]
    fn route_delivers_only_when_allowed(
        state in strategies::node_state::<u16>(strategies::config(), 0..60),
        key in any::<u16>(),
    ) {
        check_route_delivers_only_when_allowed(&state, key);
    }

    /// Every route property after learns and forgets, on an 8-bit ring.
    #[test]
    fn route_properties_after_learn_and_forget_on_u8_ring(input in inputs::route::<u8>(60)) {
        check_route(&input);
    }

    /// learn/forget/route sequences against brute-force models, on a 16-bit ring.
    #[test]
    fn state_ops_match_model_on_u16_ring(input in inputs::state_ops::<u16>(60)) {
        check_state_ops(&input);
    }
}

proptest! {
    // 128-bit ids: b = 1 gives 128-row tables, slow to build in unoptimised test builds.
    #![proptest_config(common::seeded(64, "proptest-regressions/route.txt"))]

    /// route(k) equals the reference transcribed from the paper's Table 1, on 128-bit ids.
    #[test]
    fn route_matches_paper_route(
        state in strategies::node_state::<Guid>(strategies::config(), 0..60),
        key in strategies::guid(),
        near_key in any::<u64>(),
    ) {
        check_route_matches_paper(&state, key);
        // A key sharing a long prefix with the local node exercises rows past 0.
        check_route_matches_paper(&state, Guid::new(state.id().get() ^ u128::from(near_key)));
    }

    /// A covered key goes to its brute-force root among the leaf set and the local node.
    #[test]
    fn route_finds_the_root_of_a_covered_key(
        state in strategies::node_state::<Guid>(strategies::config(), 0..60),
        offset in -1000i64..1000,
    ) {
        // Keys near the local node are usually covered.
        let key = Guid::new(state.id().get().wrapping_add(offset as u128));
        check_route_finds_covered_root(&state, key);
        for n in state.leaf_set().iter() {
            check_route_finds_covered_root(&state, n.id);
        }
    }

    /// Every Forward of steps 2 and 3 lengthens the shared prefix or keeps it and gets closer.
    #[test]
    fn route_makes_progress(
        state in strategies::node_state::<Guid>(strategies::config(), 0..60),
        key in strategies::guid(),
        u16_state in strategies::node_state::<u16>(strategies::config(), 0..60),
        u16_key in any::<u16>(),
    ) {
        check_route_makes_progress(&state, key);
        check_route_makes_progress(&u16_state, u16_key);
    }

    /// replica_set(k, r) is the min(r, L/2 + 1) nodes of leaf set ∪ {self} closest to k.
    #[test]
    fn replica_set_is_the_closest_of_the_leaf_set(
        state in strategies::node_state::<Guid>(strategies::config(), 0..60),
        key in strategies::guid(),
    ) {
        check_replica_set(&state, key);
    }

    /// Every route property after learns and forgets, on 128-bit ids.
    #[test]
    fn route_properties_after_learn_and_forget(input in inputs::route::<Guid>(60)) {
        check_route(&input);
    }

    /// learn/forget/route sequences against brute-force models of all three structures.
    #[test]
    fn state_ops_match_model(input in inputs::state_ops::<Guid>(50)) {
        check_state_ops(&input);
    }
}

proptest! {
    // 256 keys per case.
    #![proptest_config(common::seeded(32, "proptest-regressions/route.txt"))]

    /// Every key of an 8-bit ring, at a state that learned and forgot nodes: every route
    /// property holds for all 256 keys.
    #[test]
    fn route_properties_for_every_key_on_u8_ring(input in inputs::route::<u8>(40)) {
        let state = input.state();
        for key in 0..=u8::MAX {
            pastry_kernel::fuzzing::check_route_at(&state, key);
        }
    }
}

proptest! {
    #![proptest_config(common::seeded(256, "proptest-regressions/route.txt"))]

    /// The rare case (step 3) equals the plain fold over `rare_case_candidates` with
    /// `rare_case_prefers`, on 128-bit ids: uniform keys, and keys sharing a long prefix with the
    /// local node (rows past 0).
    #[test]
    fn rare_case_matches_fold_over_candidates(
        state in thinned_state::<Guid>(80),
        key in strategies::guid(),
        near_key in any::<u64>(),
    ) {
        let own = state.id().get();
        check_rare_case_matches_reference(&state, key);
        check_rare_case_matches_reference(&state, Guid::new(own ^ u128::from(near_key)));
        check_rare_case_matches_reference(&state, Guid::new(own ^ u128::from(near_key) << 40));
        for n in state.leaf_set().iter() {
            check_rare_case_matches_reference(&state, Guid::new(n.id.get().wrapping_add(1)));
        }
    }

    /// The same on a 16-bit ring, where ties, shared prefixes and a node known under two
    /// handles (learned twice) are common.
    #[test]
    fn rare_case_matches_fold_over_candidates_on_u16_ring(
        state in thinned_state::<u16>(80),
        key in any::<u16>(),
    ) {
        check_rare_case_matches_reference(&state, key);
    }
}

proptest! {
    // 256 keys per case.
    #![proptest_config(common::seeded(64, "proptest-regressions/route.txt"))]

    /// The same for every key of an 8-bit ring.
    #[test]
    fn rare_case_matches_fold_over_candidates_for_every_key_on_u8_ring(
        state in thinned_state::<u8>(60),
    ) {
        for key in 0..=u8::MAX {
            check_rare_case_matches_reference(&state, key);
        }
    }
}

/// The thinned states of the properties above do send keys through step 3, with a choice to
/// make: of 64 states with a uniform key each, at least 16 keys go by step 3 (38 with the
/// fixed seed) and at least 8 of those have two candidates or more.
#[test]
fn thinned_states_reach_the_rare_case() {
    let mut runner = TestRunner::new(common::seeded(64, "proptest-regressions/route.txt"));
    let strategy = (thinned_state::<Guid>(80), strategies::guid());
    let (mut rare, mut contested) = (0, 0);
    for _ in 0..64 {
        let (state, key) = strategy.new_tree(&mut runner).expect("strategy").current();
        if matches!(
            state.route(key),
            Route::Forward {
                via: Via::RareCase,
                ..
            }
        ) {
            rare += 1;
            contested += usize::from(state.rare_case_candidates(key).nth(1).is_some());
        }
    }
    assert!(
        rare >= 16 && contested >= 8,
        "rare {rare}, contested {contested}"
    );
}

/// A hand-checked example of each step on a 16-bit ring with b = 4, L = 2.
#[test]
fn route_steps_by_example() {
    let config = Config::new(4, 2, 4).unwrap();
    let mut s: NodeState<u32, u16> = NodeState::new(config, NodeRef::new(0x1234, 0));
    for (i, id) in [0x1230u16, 0x1240, 0x5000, 0x1300, 0x8000]
        .into_iter()
        .enumerate()
    {
        s.learn(NodeRef::new(id, i as u32 + 1), 1).unwrap();
    }
    // Leaf set: successor 0x1240, predecessor 0x1230; 0x1238 is covered, its root is 0x1234.
    assert_eq!(s.route(0x1236), Route::Deliver);
    assert_eq!(
        s.route(0x123f).next_hop().map(|n| n.id),
        Some(0x1240),
        "covered, nearer to 0x1240"
    );
    // Not covered, row 0 digit 5: the table entry 0x5000.
    assert_eq!(
        s.route(0x5fff),
        Route::Forward {
            to: NodeRef::new(0x5000, 3),
            via: Via::Table
        }
    );
    // Not covered, row 1 digit 3: 0x1300.
    assert!(matches!(
        s.route(0x1399),
        Route::Forward {
            via: Via::Table,
            ..
        }
    ));
    // Not covered, row 2 slot "12f" is empty: rare case. 0x1300 is closer to 0x12f0 but shares
    // only one digit with it; 0x1240 shares "12" and is closer than 0x1234.
    assert_eq!(
        s.route(0x12f0),
        Route::Forward {
            to: NodeRef::new(0x1240, 2),
            via: Via::RareCase
        }
    );
    for key in [0x1236u16, 0x123f, 0x5fff, 0x1399, 0x12f0, 0x0000, 0xffff] {
        assert_eq!(s.route(key), paper_route(&s, key));
    }
}

/// A lone node delivers every key; with one other node, the key goes to the closer of the two.
#[test]
fn route_on_tiny_rings() {
    check_route(&RouteInput::<Guid> {
        config: Config::PAPER,
        own: Guid::new(5),
        nodes: vec![],
        forgets: vec![],
        key: Guid::MAX,
    });
    check_route(&RouteInput::<u8> {
        config: Config::new(1, 2, 0).unwrap(),
        own: 0,
        nodes: vec![(128, 0), (0, 0)],
        forgets: vec![],
        key: 64,
    });
}
