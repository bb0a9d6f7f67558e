//! [`SplitMix`]: the one seeded generator of the project's tests, benches, proofs, examples and
//! test harnesses.
//!
//! The kernel itself draws no random values (they are passed in); this is for the code around
//! it that needs reproducible ids, keys and choices from a seed, so that a seed means the same
//! sequence everywhere.

use crate::guid::Guid;
use crate::word::RingWord;

/// SplitMix64 (Steele, Lea and Flood, 2014): 64 bits of state, every output a mix of a
/// Weyl sequence. Fast and small; not for cryptography or adversarial inputs.
///
/// ```
/// use pastry_kernel::seeded::SplitMix;
///
/// let mut a = SplitMix::new(7);
/// let mut b = SplitMix::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// assert_eq!(a.below(0), 0); // total: an empty range gives 0
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator with this seed.
    #[must_use]
    pub const fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 128 random bits (two 64-bit outputs, the first high).
    pub fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }

    /// A uniform id.
    pub fn guid(&mut self) -> Guid {
        Guid::new(self.next_u128())
    }

    /// A uniform id of any width (the low bits of [`SplitMix::next_u128`]).
    pub fn word<W: RingWord>(&mut self) -> W {
        W::from_u128(self.next_u128())
    }

    /// A value in `0..n`, 0 when `n` is 0 (the slight modulo bias does not matter for tests).
    pub fn below(&mut self, n: usize) -> usize {
        let v = self.next_u64() % (n.max(1) as u64);
        #[allow(clippy::cast_possible_truncation)] // below n, a usize
        let v = v as usize;
        v
    }

    /// A value in `0..=span`.
    pub fn up_to(&mut self, span: u128) -> u128 {
        match span.checked_add(1) {
            Some(m) => self.next_u128() % m,
            None => self.next_u128(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference sequence of SplitMix64 for seed 1234567 (Vigna's `splitmix64.c`), and
    /// every derived draw is the documented function of it.
    #[test]
    fn known_answers_and_derived_draws() {
        let mut g = SplitMix::new(1_234_567);
        let first: [u64; 5] = core::array::from_fn(|_| g.next_u64());
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
        let both = |g: &SplitMix| {
            let mut c = g.clone();
            (u128::from(c.next_u64()) << 64) | u128::from(c.next_u64())
        };
        let want = both(&g);
        assert_eq!(g.clone().next_u128(), want);
        assert_eq!(g.clone().guid(), Guid::new(want));
        #[allow(clippy::cast_possible_truncation)] // the low 16 bits, as documented
        let low = want as u16;
        assert_eq!(g.clone().word::<u16>(), low);
        assert_eq!(g.clone().up_to(u128::MAX), want);
        assert_eq!(g.clone().up_to(5), want % 6);
        let next = g.clone().next_u64();
        assert_eq!(g.clone().below(10), usize::try_from(next % 10).unwrap());
        for n in [1, 2, 7, 1000] {
            assert!(g.below(n) < n);
            assert!(g.up_to(n as u128) <= n as u128);
        }
    }
}
