//! [`Guid`]: a 128-bit id on the ring Z/2^128.

use core::fmt;
use core::str::FromStr;

use crate::arith::{self, DigitWidth};
use crate::word::{RingWord, Word};

/// A 128-bit identifier on the ring Z/2^128, shown as 32 lowercase hex digits.
///
/// Node ids and keys share this type. The ordering (`Ord`) is the integer order, used for
/// sorting and maps; nearness on the ring is [`arith::closer`].
///
/// ```
/// use pastry_kernel::Guid;
///
/// let g: Guid = "0123456789abcdef0123456789abcdef".parse()?;
/// assert_eq!(g.to_string(), "0123456789abcdef0123456789abcdef");
/// assert_eq!(Guid::from_be_bytes(g.to_be_bytes()), g);
/// assert_eq!(u128::from(Guid::from(5u128)), 5);
/// # Ok::<(), pastry_kernel::ParseGuidError>(())
/// ```
///
/// `Display` and `LowerHex` print all 32 digits, leading zeros included; a precision keeps the
/// leading digits only, the prefix that routing looks at, as logs want:
///
/// ```
/// use pastry_kernel::Guid;
///
/// let g = Guid::new(0x0123_4567_89ab_cdef << 64);
/// assert_eq!(format!("{g:.8}"), "01234567");
/// assert_eq!(format!("{g:#.8x}"), "0x01234567");
/// assert_eq!(format!("[{g:>10.4}]"), "[      0123]");
/// assert_eq!(format!("{:x}", Guid::new(5)), "00000000000000000000000000000005");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Guid(u128);

impl Guid {
    /// The id 0.
    pub const ZERO: Guid = Guid(0);
    /// The id 2^128 − 1.
    pub const MAX: Guid = Guid(u128::MAX);

    /// The id with this integer value.
    #[must_use]
    pub const fn new(v: u128) -> Guid {
        Guid(v)
    }

    /// The integer value.
    #[must_use]
    pub const fn get(self) -> u128 {
        self.0
    }

    /// The id whose big-endian encoding is `bytes`.
    #[must_use]
    pub const fn from_be_bytes(bytes: [u8; 16]) -> Guid {
        Guid(u128::from_be_bytes(bytes))
    }

    /// The big-endian encoding (digit 0 in the high nibble of byte 0).
    ///
    /// ```
    /// use pastry_kernel::Guid;
    /// let g = Guid::new(0x0123 << 112 | 0x45);
    /// let bytes = g.to_be_bytes();
    /// assert_eq!((bytes[0], bytes[1], bytes[15]), (0x01, 0x23, 0x45));
    /// assert_eq!(Guid::from_be_bytes(bytes), g);
    /// ```
    #[must_use]
    pub const fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// The number of leading digits shared with `other` (shl, docs/design.md), for `b` bits per
    /// digit.
    ///
    /// ```
    /// use pastry_kernel::{arith::DigitWidth, Guid};
    /// let a = Guid::new(0x12 << 120);
    /// let b = Guid::new(0x13 << 120);
    /// assert_eq!(a.shl(b, DigitWidth::B4), 1); // one shared hex digit
    /// assert_eq!(a.shl(b, DigitWidth::B1), 7); // seven shared bits
    /// assert_eq!(a.shl(a, DigitWidth::B4), 32); // all of them
    /// ```
    #[must_use]
    pub fn shl(self, other: Guid, b: DigitWidth) -> u32 {
        arith::shl_len(self, other, b)
    }

    /// Digit number `row` (0 is the most significant); `None` past the last digit.
    ///
    /// ```
    /// use pastry_kernel::{arith::{Digit, DigitWidth}, Guid};
    /// let g = Guid::new(0xab << 120 | 0x7);
    /// assert_eq!(g.digit(0, DigitWidth::B4), Some(Digit(0xa)));
    /// assert_eq!(g.digit(1, DigitWidth::B4), Some(Digit(0xb)));
    /// assert_eq!(g.digit(31, DigitWidth::B4), Some(Digit(0x7)));
    /// assert_eq!(g.digit(32, DigitWidth::B4), None);
    /// ```
    #[must_use]
    pub fn digit(self, row: u32, b: DigitWidth) -> Option<arith::Digit> {
        arith::digit_at(self, row, b)
    }

    /// The ring distance to `other` (dist, docs/design.md).
    ///
    /// ```
    /// use pastry_kernel::Guid;
    /// assert_eq!(Guid::new(5).dist(Guid::new(3)), 2);
    /// assert_eq!(Guid::new(1).dist(Guid::new(u128::MAX)), 2); // around the top of the ring
    /// assert_eq!(Guid::new(0).dist(Guid::new(1 << 127)), 1 << 127);
    /// ```
    #[must_use]
    pub fn dist(self, other: Guid) -> u128 {
        arith::dist(&self.0, &other.0)
    }

    /// Derives an id from a name: the first 16 bytes of SHA-256(`name`), big-endian.
    ///
    /// ```
    /// use pastry_kernel::Guid;
    /// let a = Guid::digest(b"alice");
    /// assert_eq!(a, Guid::digest(b"alice"));
    /// assert_ne!(a, Guid::digest(b"bob"));
    /// ```
    #[cfg(feature = "digest")]
    #[must_use]
    pub fn digest(name: &[u8]) -> Guid {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(name);
        let mut bytes = [0u8; 16];
        for (dst, src) in bytes.iter_mut().zip(hash.iter()) {
            *dst = *src;
        }
        Guid::from_be_bytes(bytes)
    }
}

/// The id with this value (as [`Guid::new`]).
///
/// ```
/// use pastry_kernel::Guid;
/// assert_eq!(Guid::from(7u128), Guid::new(7));
/// assert_eq!(u128::from(Guid::new(9)), 9);
/// ```
impl From<u128> for Guid {
    fn from(v: u128) -> Guid {
        Guid(v)
    }
}

impl From<Guid> for u128 {
    fn from(g: Guid) -> u128 {
        g.0
    }
}

impl Guid {
    /// The 32 lowercase hex digits, most significant first, as ASCII.
    fn hex_digits(self) -> [u8; 32] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'0'; 32];
        for (i, c) in out.iter_mut().enumerate() {
            let nibble = (self.0 >> (4 * (31 - i))) & 0xf;
            // nibble < 16
            #[allow(clippy::cast_possible_truncation)]
            if let Some(&h) = HEX.get(nibble as usize) {
                *c = h;
            }
        }
        out
    }
}

/// The first `precision` of the 32 digits (all of them without a precision).
fn leading_digits<'a>(digits: &'a [u8; 32], f: &fmt::Formatter<'_>) -> Result<&'a str, fmt::Error> {
    let n = f.precision().map_or(32, |p| p.min(32));
    let digits = digits.get(..n).ok_or(fmt::Error)?;
    core::str::from_utf8(digits).map_err(|_| fmt::Error)
}

impl fmt::Display for Guid {
    /// The 32 lowercase hex digits. A precision keeps that many leading digits, the id's
    /// prefix, as logs want (`{:.8}`); width, fill and alignment pad the result as they pad a
    /// string (left-aligned unless told otherwise).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.hex_digits();
        f.pad(leading_digits(&digits, f)?)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({:032x})", self.0)
    }
}

impl fmt::LowerHex for Guid {
    /// The same 32 digits as [`Display`](fmt::Display), leading zeros included, and a precision
    /// keeps that many leading digits (`{:.8x}`). `#` adds the `0x` prefix; width, fill,
    /// alignment and the `0` flag pad the result as they pad an integer (right-aligned unless
    /// told otherwise; `0` pads with zeros after the prefix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.hex_digits();
        f.pad_integral(true, "0x", leading_digits(&digits, f)?)
    }
}

/// Why a string is not a [`Guid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseGuidError {
    /// The string is not exactly 32 characters long; `len` is its length in bytes.
    WrongLength {
        /// The length that was found.
        len: usize,
    },
    /// The byte at `index` is not a hex digit.
    BadDigit {
        /// Position of the first offending byte.
        index: usize,
    },
}

impl fmt::Display for ParseGuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseGuidError::WrongLength { len } => {
                write!(f, "a guid has 32 hex digits, found {len} characters")
            }
            ParseGuidError::BadDigit { index } => {
                write!(f, "character {index} of the guid is not a hex digit")
            }
        }
    }
}

impl core::error::Error for ParseGuidError {}

impl FromStr for Guid {
    type Err = ParseGuidError;

    /// Parses exactly 32 hex digits (either case, no prefix or separators).
    fn from_str(s: &str) -> Result<Guid, ParseGuidError> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return Err(ParseGuidError::WrongLength { len: bytes.len() });
        }
        let mut v: u128 = 0;
        for (index, &c) in bytes.iter().enumerate() {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(ParseGuidError::BadDigit { index }),
            };
            v = (v << 4) | u128::from(d);
        }
        Ok(Guid(v))
    }
}

impl Word for Guid {
    type Bool = bool;
    const BITS: u32 = 128;
    #[inline(always)]
    fn constant(v: u128) -> Self {
        Guid(v)
    }
    #[inline(always)]
    fn xor(&self, other: &Self) -> Self {
        Guid(self.0 ^ other.0)
    }
    #[inline(always)]
    fn wrapping_add(&self, other: &Self) -> Self {
        Guid(self.0.wrapping_add(other.0))
    }
    #[inline(always)]
    fn wrapping_sub(&self, other: &Self) -> Self {
        Guid(self.0.wrapping_sub(other.0))
    }
    #[inline(always)]
    fn ult(&self, other: &Self) -> bool {
        self.0 < other.0
    }
    #[inline(always)]
    fn equal(&self, other: &Self) -> bool {
        self.0 == other.0
    }
    #[inline(always)]
    fn shl_by(&self, n: &Self) -> Self {
        Guid(self.0.shl_by(&n.0))
    }
    #[inline(always)]
    fn shr_by(&self, n: &Self) -> Self {
        Guid(self.0.shr_by(&n.0))
    }
    #[inline(always)]
    fn leading_zeros(&self) -> Self {
        Guid(Word::leading_zeros(&self.0))
    }
    #[inline(always)]
    fn select(cond: &bool, a: &Self, b: &Self) -> Self {
        if *cond {
            *a
        } else {
            *b
        }
    }
}

impl RingWord for Guid {
    #[inline(always)]
    fn from_u128(v: u128) -> Self {
        Guid(v)
    }
    #[inline(always)]
    fn to_u128(self) -> u128 {
        self.0
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u128(self.0)
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Guid, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Guid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 hex digits or a u128")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Guid, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Guid, E> {
                Ok(Guid(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Guid, E> {
                Ok(Guid(u128::from(v)))
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(Visitor)
        } else {
            d.deserialize_u128(Visitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    use alloc::string::ToString;

    #[test]
    fn parse_errors_are_typed() {
        assert_eq!(
            "".parse::<Guid>(),
            Err(ParseGuidError::WrongLength { len: 0 })
        );
        assert_eq!(
            "0123456789abcdef0123456789abcdef0".parse::<Guid>(),
            Err(ParseGuidError::WrongLength { len: 33 })
        );
        assert_eq!(
            "0123456789abcdef0123456789abcdeg".parse::<Guid>(),
            Err(ParseGuidError::BadDigit { index: 31 })
        );
        assert_eq!(
            "+123456789abcdef0123456789abcdef".parse::<Guid>(),
            Err(ParseGuidError::BadDigit { index: 0 })
        );
    }

    /// A precision keeps the leading digits (never more than 32); width, fill and alignment
    /// pad like a string for Display and like an integer for LowerHex; `#` and `0` work.
    #[test]
    fn precision_width_and_fill() {
        use alloc::format;
        let g = Guid::new(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        let all = "0123456789abcdeffedcba9876543210";
        assert_eq!(format!("{g}"), all);
        assert_eq!(format!("{g:.8}"), "01234567");
        assert_eq!(format!("{g:.0}"), "");
        assert_eq!(format!("{g:.32}"), all);
        assert_eq!(format!("{g:.40}"), all);
        assert_eq!(format!("{g:.*}", 3), "012");
        assert_eq!(format!("{g:10.4}|"), "0123      |");
        assert_eq!(format!("{g:>10.4}|"), "      0123|");
        assert_eq!(format!("{g:*^10.4}|"), "***0123***|");
        assert_eq!(format!("{g:>34}"), format!("  {all}"));
        assert_eq!(format!("{g:4}"), all, "a width below 32 cuts nothing");
        assert_eq!(format!("{g:x}"), all);
        assert_eq!(format!("{g:.8x}"), "01234567");
        assert_eq!(format!("{g:#x}"), format!("0x{all}"));
        assert_eq!(format!("{g:#.4x}"), "0x0123");
        assert_eq!(format!("{g:10.4x}|"), "      0123|");
        assert_eq!(format!("{g:<10.4x}|"), "0123      |");
        assert_eq!(format!("{g:#010.4x}"), "0x00000123");
        assert_eq!(format!("{:x}", Guid::ZERO), "0".repeat(32));
        assert_eq!(format!("{:.2}", Guid::MAX), "ff");
        // Debug is unchanged: the whole id.
        assert_eq!(format!("{g:?}"), format!("Guid({all})"));
    }

    #[test]
    fn display_is_32_lowercase_digits() {
        assert_eq!(Guid::ZERO.to_string(), "00000000000000000000000000000000");
        assert_eq!(Guid::MAX.to_string(), "ffffffffffffffffffffffffffffffff");
        assert_eq!(
            "ABCDEF00000000000000000000000000"
                .parse::<Guid>()
                .map(|g| g.to_string()),
            Ok("abcdef00000000000000000000000000".to_string())
        );
    }
}
