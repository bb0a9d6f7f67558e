//! Input the kernel must reject with a typed error: [`check_config_new`], [`check_guid_parse`].

use crate::config::Config;
use crate::config::ConfigError;
use crate::guid::Guid;

/// Input of [`check_config_new`]: raw parameters.
#[derive(Clone, Copy, Debug, arbitrary::Arbitrary)]
pub struct ConfigInput {
    /// b.
    pub b: u32,
    /// L.
    pub leaf_set_len: usize,
    /// |M|.
    pub neighborhood_len: usize,
}

/// `Config::new` accepts exactly the design's ranges and otherwise names the first bad parameter.
pub fn check_config_new(input: &ConfigInput) {
    let ConfigInput {
        b,
        leaf_set_len: l,
        neighborhood_len: m,
    } = *input;
    let want = if ![1, 2, 4, 8].contains(&b) {
        Err(ConfigError::DigitBits(b))
    } else if !(2..=64).contains(&l) || l % 2 == 1 {
        Err(ConfigError::LeafSetLen(l))
    } else if m > Config::MAX_NEIGHBORHOOD {
        Err(ConfigError::NeighborhoodLen(m))
    } else {
        Ok((b, l, m))
    };
    let got = Config::new(b, l, m).map(|c| {
        (
            c.digit_width().bits(),
            c.leaf_set_len(),
            c.neighborhood_len(),
        )
    });
    assert_eq!(got, want, "Config::new({b}, {l}, {m})");
}

/// Parsing a string as a [`Guid`]: exactly 32 hex digits succeed and print back in lower case;
/// anything else is a typed error naming the wrong length or the first bad byte.
pub fn check_guid_parse(s: &str) {
    let bytes = s.as_bytes();
    let want = if bytes.len() != 32 {
        Err(crate::ParseGuidError::WrongLength { len: bytes.len() })
    } else if let Some(index) = bytes.iter().position(|c| !c.is_ascii_hexdigit()) {
        Err(crate::ParseGuidError::BadDigit { index })
    } else {
        Ok(s.to_ascii_lowercase())
    };
    let got = s.parse::<Guid>().map(|g| std::format!("{g}"));
    assert_eq!(got, want, "parse {s:?}");
}
