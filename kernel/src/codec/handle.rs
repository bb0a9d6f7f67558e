//! Host handles on the wire: [`WireHandle`] and its implementations.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::MAX_HANDLE_LEN;

/// Why [`WireHandle::decode`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleError {
    /// The input ends before the handle does.
    Truncated,
    /// The bytes are not the encoding of any handle.
    Invalid,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::Truncated => "the input ends inside a handle",
            HandleError::Invalid => "the bytes are not a valid handle",
        })
    }
}

impl core::error::Error for HandleError {}

/// A host handle type that the codec can carry: a self-delimiting encoding of bounded length.
///
/// The host implements this for its handle type (a socket address, an index, a key…).
///
/// # Contract
/// * `MIN_LEN <= encoded_len() <= MAX_LEN <= MAX_HANDLE_LEN` (the last is checked at compile
///   time; a handle whose `encoded_len` breaks the first two is refused by the encoder with
///   [`EncodeError::HandleLength`](crate::codec::EncodeError::HandleLength));
/// * `encode` writes exactly `encoded_len()` bytes into `out`, which the codec passes with
///   exactly that length;
/// * `decode` reads one handle from the front of `input` (which may go on with other data) and
///   returns it with the number of bytes it used, without panicking on any input.
///
/// The codec re-encodes every decoded handle and rejects input whose bytes differ
/// ([`DecodeError::NonCanonicalHandle`](crate::codec::DecodeError::NonCanonicalHandle)), so canonical decoding holds even for an
/// implementation that accepts several spellings of one handle.
pub trait WireHandle: Copy {
    /// The fewest bytes an encoding takes.
    const MIN_LEN: usize;
    /// The most bytes an encoding takes; at most [`MAX_HANDLE_LEN`].
    const MAX_LEN: usize;
    /// The length of this handle's encoding.
    fn encoded_len(&self) -> usize;
    /// Writes the encoding into `out`, whose length is `self.encoded_len()`.
    fn encode(&self, out: &mut [u8]);
    /// Reads one handle from the front of `input`; returns it and the bytes used.
    ///
    /// # Errors
    /// [`HandleError::Truncated`] when `input` ends too early, [`HandleError::Invalid`] when the
    /// bytes are no handle's encoding.
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError>;
}

/// Copies `src` to the front of `out` (as much as fits; never panics).
pub(super) fn put(out: &mut [u8], src: &[u8]) {
    for (d, s) in out.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The first `N` bytes of `input`.
pub(super) fn front<const N: usize>(input: &[u8]) -> Result<[u8; N], HandleError> {
    input
        .get(..N)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(HandleError::Truncated)
}

macro_rules! wire_uint {
    ($($t:ty),*) => {$(
        /// Fixed length: the integer's big-endian bytes.
        impl WireHandle for $t {
            const MIN_LEN: usize = size_of::<$t>();
            const MAX_LEN: usize = size_of::<$t>();
            fn encoded_len(&self) -> usize {
                size_of::<$t>()
            }
            fn encode(&self, out: &mut [u8]) {
                put(out, &self.to_be_bytes());
            }
            fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
                Ok((<$t>::from_be_bytes(front(input)?), size_of::<$t>()))
            }
        }
    )*};
}

wire_uint!(u8, u16, u32, u64, u128);

/// Eight bytes, big-endian, on every platform; a value over `usize::MAX` is
/// [`HandleError::Invalid`].
impl WireHandle for usize {
    const MIN_LEN: usize = 8;
    const MAX_LEN: usize = 8;
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut [u8]) {
        put(out, &(*self as u64).to_be_bytes());
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let v = u64::from_be_bytes(front(input)?);
        usize::try_from(v)
            .map(|v| (v, 8))
            .map_err(|_| HandleError::Invalid)
    }
}

/// No bytes: for hosts that need no handle.
impl WireHandle for () {
    const MIN_LEN: usize = 0;
    const MAX_LEN: usize = 0;
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode(&self, _out: &mut [u8]) {}
    fn decode(_input: &[u8]) -> Result<(Self, usize), HandleError> {
        Ok(((), 0))
    }
}

/// The `N` bytes as they are; `N` must be at most [`MAX_HANDLE_LEN`] (a compile-time error
/// otherwise).
impl<const N: usize> WireHandle for [u8; N] {
    const MIN_LEN: usize = N;
    const MAX_LEN: usize = {
        assert!(
            N <= MAX_HANDLE_LEN,
            "handle arrays are at most MAX_HANDLE_LEN bytes"
        );
        N
    };
    fn encoded_len(&self) -> usize {
        N
    }
    fn encode(&self, out: &mut [u8]) {
        put(out, self);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        Ok((front(input)?, N))
    }
}

/// Six bytes: the address (4), then the port (2).
impl WireHandle for SocketAddrV4 {
    const MIN_LEN: usize = 6;
    const MAX_LEN: usize = 6;
    fn encoded_len(&self) -> usize {
        6
    }
    fn encode(&self, out: &mut [u8]) {
        let mut b = [0u8; 6];
        put(&mut b, &self.ip().octets());
        put(
            b.get_mut(4..).unwrap_or_default(),
            &self.port().to_be_bytes(),
        );
        put(out, &b);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let [a, b, c, d, p0, p1] = front::<6>(input)?;
        let addr = SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), u16::from_be_bytes([p0, p1]));
        Ok((addr, 6))
    }
}

/// Twenty-six bytes: the address (16), the port (2), the flow info (4), the scope id (4).
impl WireHandle for SocketAddrV6 {
    const MIN_LEN: usize = 26;
    const MAX_LEN: usize = 26;
    fn encoded_len(&self) -> usize {
        26
    }
    fn encode(&self, out: &mut [u8]) {
        let mut b = [0u8; 26];
        put(&mut b, &self.ip().octets());
        put(
            b.get_mut(16..).unwrap_or_default(),
            &self.port().to_be_bytes(),
        );
        put(
            b.get_mut(18..).unwrap_or_default(),
            &self.flowinfo().to_be_bytes(),
        );
        put(
            b.get_mut(22..).unwrap_or_default(),
            &self.scope_id().to_be_bytes(),
        );
        put(out, &b);
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let b = front::<26>(input)?;
        let part = |from: usize| -> [u8; 4] {
            let mut x = [0u8; 4];
            put(&mut x, b.get(from..).unwrap_or_default());
            x
        };
        let mut ip = [0u8; 16];
        put(&mut ip, &b);
        let mut port = [0u8; 2];
        put(&mut port, b.get(16..).unwrap_or_default());
        let addr = SocketAddrV6::new(
            Ipv6Addr::from(ip),
            u16::from_be_bytes(port),
            u32::from_be_bytes(part(18)),
            u32::from_be_bytes(part(22)),
        );
        Ok((addr, 26))
    }
}

/// A tag byte, 4 or 6, then the [`SocketAddrV4`] (7 bytes in all) or [`SocketAddrV6`] (27)
/// encoding. Any other tag is [`HandleError::Invalid`].
impl WireHandle for SocketAddr {
    const MIN_LEN: usize = 7;
    const MAX_LEN: usize = 27;
    fn encoded_len(&self) -> usize {
        match self {
            SocketAddr::V4(_) => 7,
            SocketAddr::V6(_) => 27,
        }
    }
    fn encode(&self, out: &mut [u8]) {
        let (tag, rest) = match out.split_first_mut() {
            Some(split) => split,
            None => return,
        };
        match self {
            SocketAddr::V4(a) => {
                *tag = 4;
                a.encode(rest);
            }
            SocketAddr::V6(a) => {
                *tag = 6;
                a.encode(rest);
            }
        }
    }
    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let (tag, rest) = input.split_first().ok_or(HandleError::Truncated)?;
        match tag {
            4 => SocketAddrV4::decode(rest).map(|(a, n)| (SocketAddr::V4(a), n + 1)),
            6 => SocketAddrV6::decode(rest).map(|(a, n)| (SocketAddr::V6(a), n + 1)),
            _ => Err(HandleError::Invalid),
        }
    }
}
