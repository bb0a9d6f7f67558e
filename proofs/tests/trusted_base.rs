//! The trusted base, tested: each Z3 encoding of a word operation (`SymWord`: bit-vectors;
//! `IntWord`: bounded integers) agrees with the machine-word implementation on seeded random
//! inputs, and the kernel's arith functions instantiated on symbolic constants agree with the
//! same functions on `u128`.

use pastry_kernel::arith::{closer, cw, digit, dist, in_arc, shl, DigitWidth};
use pastry_kernel::word::Word;
use pastry_proofs::sym::IntWord;
use pastry_proofs::{SymBool, SymWord};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config() -> Config {
    Config {
        cases: 200,
        rng_seed: RngSeed::Fixed(0x7a33_5eed),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any u128, with many values of every leading-zero count.
fn word() -> impl Strategy<Value = u128> {
    (any::<u128>(), 0u32..=128).prop_map(|(x, s)| x.checked_shr(s).unwrap_or(0))
}

fn bval(b: &SymBool) -> bool {
    b.value().expect("closed boolean term")
}

/// Every word operation of `S` against `u128` reduced to `n` bits.
macro_rules! check_ops {
    ($s:ty, $n:expr, $x:expr, $y:expr, $amt:expr, $val:ident) => {{
        let n: u32 = $n;
        let mask = if n == 128 {
            u128::MAX
        } else {
            (1u128 << n) - 1
        };
        let (x, y) = ($x & mask, $y & mask);
        let (sx, sy) = (<$s>::constant($x), <$s>::constant($y));
        prop_assert_eq!(sx.$val(), Some(x), "constant");
        prop_assert_eq!(sx.xor(&sy).$val(), Some(x ^ y), "xor");
        prop_assert_eq!(
            sx.wrapping_add(&sy).$val(),
            Some(x.wrapping_add(y) & mask),
            "add"
        );
        prop_assert_eq!(
            sx.wrapping_sub(&sy).$val(),
            Some(x.wrapping_sub(y) & mask),
            "sub"
        );
        prop_assert_eq!(bval(&sx.ult(&sy)), x < y, "ult");
        prop_assert_eq!(bval(&sx.equal(&sy)), x == y, "equal");
        prop_assert_eq!(bval(&sx.equal(&sx)), true, "equal self");
        let amt = u128::from($amt);
        let sa = <$s>::constant(amt);
        let shl = if amt >= u128::from(n) {
            0
        } else {
            (x << amt) & mask
        };
        let shr = if amt >= u128::from(n) { 0 } else { x >> amt };
        prop_assert_eq!(sx.shl_by(&sa).$val(), Some(shl), "shl_by {}", amt);
        prop_assert_eq!(sx.shr_by(&sa).$val(), Some(shr), "shr_by {}", amt);
        let lz = u128::from(x.leading_zeros() - (128 - n));
        prop_assert_eq!(sx.leading_zeros().$val(), Some(lz), "leading_zeros");
        let c = SymBool::constant(x < y);
        let pick = if x < y { x } else { y };
        prop_assert_eq!(<$s>::select(&c, &sx, &sy).$val(), Some(pick), "select");
    }};
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bit_vector_encoding_matches_u128(x in word(), y in word(), amt in 0u32..=260) {
        check_ops!(SymWord<128>, 128, x, y, amt, value);
        check_ops!(SymWord<16>, 16, x, y, amt % 40, value);
        check_ops!(SymWord<8>, 8, x, y, amt % 20, value);
    }

    #[test]
    fn integer_encoding_matches_u128(x in word(), y in word(), amt in 0u32..=260) {
        check_ops!(IntWord<128>, 128, x, y, amt, value);
        check_ops!(IntWord<16>, 16, x, y, amt % 40, value);
        check_ops!(IntWord<8>, 8, x, y, amt % 20, value);
    }

    /// The kernel's arith functions on symbolic constants compute what they compute on u128.
    #[test]
    fn kernel_arith_on_symbolic_constants_matches_u128(
        a in word(), k in word(), x in word(), row in 0u128..40,
    ) {
        let (sa, sk, sx) = (SymWord::<128>::constant(a), SymWord::<128>::constant(k),
                            SymWord::<128>::constant(x));
        let (ia, ik, ix) = (IntWord::<128>::constant(a), IntWord::<128>::constant(k),
                            IntWord::<128>::constant(x));
        prop_assert_eq!(cw(&sa, &sk).value(), Some(cw(&a, &k)));
        prop_assert_eq!(dist(&sa, &sk).value(), Some(dist(&a, &k)));
        prop_assert_eq!(bval(&closer(&sk, &sa, &sx)), closer(&k, &a, &x));
        prop_assert_eq!(bval(&in_arc(&sa, &sx, &sk)), in_arc(&a, &x, &k));
        prop_assert_eq!(cw(&ia, &ik).value(), Some(cw(&a, &k)));
        prop_assert_eq!(dist(&ia, &ik).value(), Some(dist(&a, &k)));
        prop_assert_eq!(bval(&closer(&ik, &ia, &ix)), closer(&k, &a, &x));
        prop_assert_eq!(bval(&in_arc(&ia, &ix, &ik)), in_arc(&a, &x, &k));
        for b in DigitWidth::ALL {
            prop_assert_eq!(shl(&sa, &sk, b).value(), Some(shl(&a, &k, b)));
            let r = SymWord::<128>::constant(row);
            prop_assert_eq!(digit(&sa, &r, b).value(), Some(digit(&a, &row, b)));
        }
    }
}

/// Leading zeros of every 8-bit and 16-bit value, both encodings.
#[test]
fn leading_zeros_encoding_is_exact_on_narrow_words() {
    for x in 0..=u8::MAX {
        let want = u128::from(x.leading_zeros());
        assert_eq!(
            SymWord::<8>::constant(x.into()).leading_zeros().value(),
            Some(want)
        );
        assert_eq!(
            IntWord::<8>::constant(x.into()).leading_zeros().value(),
            Some(want)
        );
    }
    for x in (0..=u16::MAX).step_by(7).chain([u16::MAX, 1, 2, 0x8000]) {
        let want = u128::from(x.leading_zeros());
        assert_eq!(
            SymWord::<16>::constant(x.into()).leading_zeros().value(),
            Some(want)
        );
    }
}
