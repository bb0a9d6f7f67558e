//! Rejected operations: bad input gets a typed error and leaves the state unchanged (the whole
//! state is compared with a clone taken before the call).

mod common;

use pastry_kernel::fuzzing::{check_config_new, check_guid_parse, ConfigInput};
use pastry_kernel::strategies;
use pastry_kernel::{
    Config, ConfigError, Guid, LeafSet, NeighborhoodSet, NodeRef, ParseGuidError, RoutingTable,
    StateError,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::seeded(128, "proptest-regressions/rejected.txt"))]

    /// learn(own id) is refused with `OwnId`, whatever the handle and figure, and changes nothing.
    #[test]
    fn learn_of_own_id_is_rejected_and_changes_nothing(
        state in strategies::node_state::<u16>(strategies::config(), 0..40),
        handle in any::<u32>(),
        proximity in any::<u32>(),
    ) {
        let mut after = state.clone();
        let own = NodeRef::new(state.id(), handle);
        prop_assert_eq!(after.learn(own, proximity), Err(StateError::OwnId));
        prop_assert_eq!(&after, &state);
    }

    /// forget(own id) is refused with `OwnId` and changes nothing.
    #[test]
    fn forget_of_own_id_is_rejected_and_changes_nothing(
        state in strategies::node_state::<Guid>(strategies::config(), 0..40),
    ) {
        let mut after = state.clone();
        prop_assert_eq!(after.forget(state.id()).map(|_| ()), Err(StateError::OwnId));
        prop_assert_eq!(&after, &state);
    }

    /// Each structure refuses its owner on its own, unchanged.
    #[test]
    fn structures_reject_their_owner_unchanged(
        state in strategies::node_state::<u16>(strategies::config(), 0..40),
        proximity in any::<u32>(),
    ) {
        let own = NodeRef::new(state.id(), 7u32);
        let mut leaf: LeafSet<u32, u16> = state.leaf_set().clone();
        prop_assert_eq!(leaf.insert(own), Err(StateError::OwnId));
        prop_assert_eq!(&leaf, state.leaf_set());
        let mut table: RoutingTable<u32, u16> = state.table().clone();
        prop_assert_eq!(table.insert(own, proximity), Err(StateError::OwnId));
        prop_assert_eq!(&table, state.table());
        let mut hood: NeighborhoodSet<u32, u16> = state.neighborhood().clone();
        prop_assert_eq!(hood.insert(own, proximity), Err(StateError::OwnId));
        prop_assert_eq!(&hood, state.neighborhood());
    }

    /// Bad parameters get a typed `ConfigError` naming the first bad one.
    #[test]
    fn bad_config_is_rejected_with_a_typed_error((b, l, m) in strategies::invalid_config_params()) {
        prop_assert!(Config::new(b, l, m).is_err());
        check_config_new(&ConfigInput { b, leaf_set_len: l, neighborhood_len: m });
    }

    /// Config::new accepts exactly the ranges of docs/design.md, *Digits*.
    #[test]
    fn config_accepts_exactly_the_valid_ranges(b in 0u32..10, l in 0usize..70, m in 250usize..260) {
        check_config_new(&ConfigInput { b, leaf_set_len: l, neighborhood_len: m });
    }

    /// Strings that are not 32 hex digits get a typed `ParseGuidError`; valid ones round-trip.
    #[test]
    fn bad_guid_strings_are_rejected_with_a_typed_error(s in "[0-9a-fA-Fg-z+ -]{0,40}") {
        check_guid_parse(&s);
    }

    /// Display then parse is the identity; display is 32 lowercase hex digits.
    #[test]
    fn guid_display_parse_round_trip(g in strategies::guid()) {
        let text = g.to_string();
        prop_assert_eq!(text.len(), 32);
        prop_assert!(text.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        prop_assert_eq!(text.parse::<Guid>(), Ok(g));
        check_guid_parse(&text);
        check_guid_parse(&text.to_uppercase());
    }
}

#[test]
fn typed_errors_by_example() {
    assert_eq!(Config::new(3, 16, 32), Err(ConfigError::DigitBits(3)));
    assert_eq!(Config::new(4, 0, 32), Err(ConfigError::LeafSetLen(0)));
    assert_eq!(Config::new(4, 66, 32), Err(ConfigError::LeafSetLen(66)));
    assert_eq!(
        Config::new(4, 16, 257),
        Err(ConfigError::NeighborhoodLen(257))
    );
    assert_eq!(
        "abc".parse::<Guid>(),
        Err(ParseGuidError::WrongLength { len: 3 })
    );
    assert_eq!(
        "0123456789abcdef0123456789abcdeX".parse::<Guid>(),
        Err(ParseGuidError::BadDigit { index: 31 })
    );
    // Multi-byte characters count in bytes and are never digits.
    check_guid_parse("é123456789abcdef0123456789abcde");
    check_guid_parse("0123456789abcdef0123456789abcdé");
}

/// Each error's message says what was wrong (with the offending value where there is one),
/// and the messages of different errors differ.
#[test]
fn error_messages_name_the_fault() {
    let config = [
        (ConfigError::DigitBits(3), "3"),
        (ConfigError::LeafSetLen(65), "65"),
        (ConfigError::NeighborhoodLen(9999), "9999"),
    ];
    for (e, value) in config {
        let text = e.to_string();
        assert!(text.contains(value), "{e:?}: {text}");
        assert!(text.contains("must"), "{e:?}: {text}");
    }
    let state = [
        StateError::OwnId,
        StateError::ConfigMismatch,
        StateError::WrongOwner,
    ]
    .map(|e| e.to_string());
    for (i, text) in state.iter().enumerate() {
        assert!(text.len() > 20, "{text}");
        assert!(state[i + 1..].iter().all(|t| t != text), "{text}");
    }
    let short = "abc".parse::<Guid>().expect_err("too short").to_string();
    assert!(short.contains('3') && short.contains("32"), "{short}");
    let bad = format!("{}x", "0".repeat(31));
    let digit = bad.parse::<Guid>().expect_err("not hex").to_string();
    assert!(digit.contains("31"), "{digit}");
}

/// `Config`'s `Arbitrary` (what the fuzz targets start from) never fails on enough input and
/// reaches every valid leaf-set size and digit width.
#[test]
fn arbitrary_configs_are_valid_and_span_every_size() {
    use pastry_kernel::fuzzing::arbitrary::{Arbitrary, Unstructured};
    let mut rng = pastry_kernel::seeded::SplitMix::new(0xc0f1);
    let mut sizes = std::collections::BTreeSet::new();
    let mut widths = std::collections::BTreeSet::new();
    for _ in 0..4_000 {
        let bytes: Vec<u8> = (0..32).map(|_| rng.next_u64() as u8).collect();
        let config = Config::arbitrary(&mut Unstructured::new(&bytes)).expect("enough bytes");
        sizes.insert(config.leaf_set_len());
        widths.insert(config.digit_width().bits());
        assert!(config.neighborhood_len() <= 64);
    }
    assert_eq!(sizes, (1..=32).map(|h| 2 * h).collect());
    assert_eq!(widths, [1, 2, 4, 8].into());
}
