//! [`Config`]: the run-time parameters b, L and |M|.

use core::fmt;

use crate::arith::DigitWidth;

/// The routing parameters, chosen at run time and validated.
///
/// * `b` ∈ {1, 2, 4, 8}: bits per digit ([`DigitWidth`]);
/// * `L` ∈ {2, 4, …, 64}: leaf-set size, `L/2` on each side;
/// * `|M|` ∈ `0..=`[`Config::MAX_NEIGHBORHOOD`]: neighborhood-set size.
///
/// ```
/// use pastry_kernel::{Config, ConfigError};
///
/// let c = Config::new(4, 16, 32)?;
/// assert_eq!((c.digit_width().bits(), c.leaf_set_len(), c.neighborhood_len()), (4, 16, 32));
/// assert_eq!(c, Config::PAPER);
/// assert_eq!(Config::new(3, 16, 32), Err(ConfigError::DigitBits(3)));
/// assert_eq!(Config::new(4, 15, 32), Err(ConfigError::LeafSetLen(15)));
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Config {
    b: DigitWidth,
    leaf_set_len: u8,
    neighborhood_len: u16,
}

impl Config {
    /// The largest leaf set, L = 64.
    pub const MAX_LEAF_SET: usize = 64;
    /// The largest neighborhood set.
    pub const MAX_NEIGHBORHOOD: usize = 256;

    /// The paper's experimental setup: b = 4, L = 16, |M| = 32.
    pub const PAPER: Config = Config {
        b: DigitWidth::B4,
        leaf_set_len: 16,
        neighborhood_len: 32,
    };
    /// FreePastry's defaults: b = 4, L = 24, |M| = 32.
    pub const FREEPASTRY: Config = Config {
        b: DigitWidth::B4,
        leaf_set_len: 24,
        neighborhood_len: 32,
    };

    /// Validates and builds a configuration.
    ///
    /// # Errors
    /// The first parameter out of range, as a [`ConfigError`].
    pub fn new(
        b: u32,
        leaf_set_len: usize,
        neighborhood_len: usize,
    ) -> Result<Config, ConfigError> {
        let b = DigitWidth::from_bits(b).ok_or(ConfigError::DigitBits(b))?;
        if !(2..=Self::MAX_LEAF_SET).contains(&leaf_set_len) || leaf_set_len % 2 != 0 {
            return Err(ConfigError::LeafSetLen(leaf_set_len));
        }
        if neighborhood_len > Self::MAX_NEIGHBORHOOD {
            return Err(ConfigError::NeighborhoodLen(neighborhood_len));
        }
        #[allow(clippy::cast_possible_truncation)] // both checked above
        Ok(Config {
            b,
            leaf_set_len: leaf_set_len as u8,
            neighborhood_len: neighborhood_len as u16,
        })
    }

    /// Bits per digit.
    #[must_use]
    pub const fn digit_width(&self) -> DigitWidth {
        self.b
    }

    /// L, the leaf-set size (both sides together).
    #[must_use]
    pub const fn leaf_set_len(&self) -> usize {
        self.leaf_set_len as usize
    }

    /// L/2, the size of one side of the leaf set.
    #[must_use]
    pub const fn leaf_set_half(&self) -> usize {
        (self.leaf_set_len / 2) as usize
    }

    /// |M|, the neighborhood-set size.
    #[must_use]
    pub const fn neighborhood_len(&self) -> usize {
        self.neighborhood_len as usize
    }

    /// The largest replica set, L/2 + 1 (the cap on `replicaSet(k, r)`: docs/design.md,
    /// *Replica set*).
    #[must_use]
    pub const fn max_replicas(&self) -> usize {
        self.leaf_set_half() + 1
    }
}

impl Default for Config {
    /// [`Config::PAPER`].
    fn default() -> Config {
        Config::PAPER
    }
}

/// Why a [`Config`] was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// b is not one of 1, 2, 4, 8.
    DigitBits(u32),
    /// L is odd or outside 2..=64.
    LeafSetLen(usize),
    /// |M| is over [`Config::MAX_NEIGHBORHOOD`].
    NeighborhoodLen(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::DigitBits(b) => write!(f, "bits per digit must be 1, 2, 4 or 8, not {b}"),
            ConfigError::LeafSetLen(l) => {
                write!(f, "leaf-set size must be even and in 2..=64, not {l}")
            }
            ConfigError::NeighborhoodLen(m) => write!(
                f,
                "neighborhood-set size must be at most {}, not {m}",
                Config::MAX_NEIGHBORHOOD
            ),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Config, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            b: DigitWidth,
            leaf_set_len: usize,
            neighborhood_len: usize,
        }
        let raw = Raw::deserialize(d)?;
        Config::new(raw.b.bits(), raw.leaf_set_len, raw.neighborhood_len)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Config {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Config> {
        let b: DigitWidth = u.arbitrary()?;
        let half = u.int_in_range(1..=Config::MAX_LEAF_SET / 2)?;
        let m = u.int_in_range(0..=64)?;
        Config::new(b.bits(), half * 2, m).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}
