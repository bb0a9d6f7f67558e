//! [`PeerHandle`]: how a Pastry node names another on a libp2p network, and [`guid_of`]: a
//! node's id from its `PeerId`.
//!
//! Pastry messages name nodes by handle: a leaf set, a routing-table row or a join reply hands a
//! node handles of nodes it has never spoken to, and it must be able to send to every one of
//! them. A libp2p `PeerId` alone cannot be dialled (it names a key, not a place), so the handle
//! is the `PeerId` together with the TCP socket address the node listens on, as the kernel's
//! socket-address handles are. The `PeerId` is what counts: the noise handshake proves it on
//! every connection, so a wrong address can only make a dial fail (the protocol then treats the
//! node as silent), never let another key speak for it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use pastry_kernel::codec::{HandleError, WireHandle};
use pastry_kernel::Guid;

/// The longest `PeerId` a handle carries, in bytes: an identity multihash of a public key of
/// up to 42 bytes (the longest libp2p inlines; Ed25519 keys take 38 bytes in all). Longer keys
/// are hashed by libp2p into a 34-byte SHA-256 `PeerId`, which fits as well.
pub const MAX_PEER_ID_LEN: usize = 44;

/// A node's name on the network: its `PeerId` and the TCP socket address it listens on.
///
/// IPv6 flow information and scope ids are not carried (they are set to zero), so a handle
/// decodes to exactly what was encoded.
///
/// # Wire encoding ([`WireHandle`], at most 64 bytes)
/// `peer id length (1) ‖ peer id bytes ‖ address tag (1: 4 or 6) ‖ IP address (4 or 16) ‖
/// port (2, big-endian)`.
///
/// ```
/// use libp2p::identity::Keypair;
/// use pastry_kernel::codec::WireHandle;
/// use pastry_net::PeerHandle;
///
/// let peer = Keypair::generate_ed25519().public().to_peer_id();
/// let h = PeerHandle::new(peer, "127.0.0.1:4001".parse()?)?;
/// let mut buf = vec![0; h.encoded_len()];
/// h.encode(&mut buf);
/// assert_eq!(PeerHandle::decode(&buf), Ok((h, buf.len())));
/// assert_eq!(h.multiaddr().to_string(), "/ip4/127.0.0.1/tcp/4001");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerHandle {
    peer: PeerId,
    addr: SocketAddr,
}

/// A `PeerId` longer than [`MAX_PEER_ID_LEN`] bytes: it does not fit in a handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerIdTooLong(pub usize);

impl fmt::Display for PeerIdTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a PeerId of {} bytes is over the handle's limit of {MAX_PEER_ID_LEN}",
            self.0
        )
    }
}

impl std::error::Error for PeerIdTooLong {}

impl PeerHandle {
    /// The handle of `peer` listening at `addr`.
    ///
    /// # Errors
    /// [`PeerIdTooLong`] when the `PeerId` takes more than [`MAX_PEER_ID_LEN`] bytes (no key
    /// type libp2p generates does).
    pub fn new(peer: PeerId, addr: SocketAddr) -> Result<Self, PeerIdTooLong> {
        let len = peer.to_bytes().len();
        if len > MAX_PEER_ID_LEN {
            return Err(PeerIdTooLong(len));
        }
        let addr = match addr {
            SocketAddr::V4(a) => SocketAddr::V4(a),
            SocketAddr::V6(a) => SocketAddr::new(IpAddr::V6(*a.ip()), a.port()),
        };
        Ok(PeerHandle { peer, addr })
    }

    /// The `PeerId`.
    #[must_use]
    pub fn peer(&self) -> PeerId {
        self.peer
    }

    /// The socket address the node listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node's [`Guid`]: [`guid_of`] its `PeerId`.
    #[must_use]
    pub fn guid(&self) -> Guid {
        guid_of(&self.peer)
    }

    /// The address as a multiaddr, `/ip4/…/tcp/…` or `/ip6/…/tcp/…`.
    #[must_use]
    pub fn multiaddr(&self) -> Multiaddr {
        socket_multiaddr(self.addr)
    }
}

impl fmt::Debug for PeerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.peer, self.addr)
    }
}

impl fmt::Display for PeerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.peer, self.addr)
    }
}

/// A node's [`Guid`] from its `PeerId`: the first 16 bytes of SHA-256 of the `PeerId`'s bytes.
///
/// ```
/// use libp2p::identity::Keypair;
/// use pastry_kernel::Guid;
/// use pastry_net::guid_of;
///
/// let peer = Keypair::generate_ed25519().public().to_peer_id();
/// assert_eq!(guid_of(&peer), Guid::digest(&peer.to_bytes()));
/// ```
#[must_use]
pub fn guid_of(peer: &PeerId) -> Guid {
    Guid::digest(&peer.to_bytes())
}

/// `/ip4/a/tcp/p` or `/ip6/a/tcp/p` for a socket address.
#[must_use]
pub fn socket_multiaddr(addr: SocketAddr) -> Multiaddr {
    let ip = match addr.ip() {
        IpAddr::V4(a) => Protocol::Ip4(a),
        IpAddr::V6(a) => Protocol::Ip6(a),
    };
    Multiaddr::empty().with(ip).with(Protocol::Tcp(addr.port()))
}

/// The TCP socket address in a multiaddr that starts `/ip4/…/tcp/…` or `/ip6/…/tcp/…` (any
/// further parts, such as `/p2p/…`, are ignored); `None` for any other multiaddr.
///
/// ```
/// use pastry_net::multiaddr_socket;
/// let a = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
/// assert_eq!(multiaddr_socket(&a.parse()?), Some("127.0.0.1:4001".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn multiaddr_socket(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut it = addr.iter();
    let ip = match it.next()? {
        Protocol::Ip4(a) => IpAddr::V4(a),
        Protocol::Ip6(a) => IpAddr::V6(a),
        _ => return None,
    };
    match it.next()? {
        Protocol::Tcp(port) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

impl WireHandle for PeerHandle {
    // The shortest multihash is a code and a length byte.
    const MIN_LEN: usize = 1 + 2 + 1 + 4 + 2;
    const MAX_LEN: usize = 1 + MAX_PEER_ID_LEN + 1 + 16 + 2;

    fn encoded_len(&self) -> usize {
        let ip = if self.addr.is_ipv4() { 4 } else { 16 };
        1 + self.peer.to_bytes().len() + 1 + ip + 2
    }

    fn encode(&self, out: &mut [u8]) {
        let peer = self.peer.to_bytes();
        let mut bytes = Vec::with_capacity(Self::MAX_LEN);
        // `new` keeps the length within MAX_PEER_ID_LEN, which is under 256.
        bytes.push(u8::try_from(peer.len()).unwrap_or(u8::MAX));
        bytes.extend_from_slice(&peer);
        match self.addr.ip() {
            IpAddr::V4(a) => {
                bytes.push(4);
                bytes.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                bytes.push(6);
                bytes.extend_from_slice(&a.octets());
            }
        }
        bytes.extend_from_slice(&self.addr.port().to_be_bytes());
        for (d, s) in out.iter_mut().zip(&bytes) {
            *d = *s;
        }
    }

    fn decode(input: &[u8]) -> Result<(Self, usize), HandleError> {
        let len = usize::from(*input.first().ok_or(HandleError::Truncated)?);
        if !(2..=MAX_PEER_ID_LEN).contains(&len) {
            return Err(HandleError::Invalid);
        }
        let peer_bytes = input.get(1..1 + len).ok_or(HandleError::Truncated)?;
        let peer = PeerId::from_bytes(peer_bytes).map_err(|_| HandleError::Invalid)?;
        if peer.to_bytes() != peer_bytes {
            return Err(HandleError::Invalid);
        }
        let mut at = 1 + len;
        let tag = *input.get(at).ok_or(HandleError::Truncated)?;
        at += 1;
        let ip = match tag {
            4 => {
                let b: [u8; 4] = input
                    .get(at..at + 4)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(HandleError::Truncated)?;
                at += 4;
                IpAddr::V4(Ipv4Addr::from(b))
            }
            6 => {
                let b: [u8; 16] = input
                    .get(at..at + 16)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(HandleError::Truncated)?;
                at += 16;
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => return Err(HandleError::Invalid),
        };
        let port: [u8; 2] = input
            .get(at..at + 2)
            .and_then(|s| s.try_into().ok())
            .ok_or(HandleError::Truncated)?;
        at += 2;
        let addr = SocketAddr::new(ip, u16::from_be_bytes(port));
        Ok((PeerHandle { peer, addr }, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::identity::Keypair;

    fn ed25519_peer(seed: u8) -> PeerId {
        let mut secret = [seed; 32];
        Keypair::ed25519_from_bytes(&mut secret)
            .map(|k| k.public().to_peer_id())
            .unwrap_or_else(|_| PeerId::random())
    }

    fn encode(h: &PeerHandle) -> Vec<u8> {
        let mut buf = vec![0; h.encoded_len()];
        h.encode(&mut buf);
        buf
    }

    #[test]
    fn encode_decode_roundtrip_v4_and_v6() {
        for addr in ["127.0.0.1:4001", "[::1]:65535", "[fe80::1%7]:1"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let h = PeerHandle::new(ed25519_peer(3), addr).unwrap();
            let bytes = encode(&h);
            assert!(bytes.len() >= PeerHandle::MIN_LEN && bytes.len() <= PeerHandle::MAX_LEN);
            assert_eq!(PeerHandle::decode(&bytes), Ok((h, bytes.len())));
            // Decoding reads only the handle: what follows is left alone.
            let mut longer = bytes.clone();
            longer.extend_from_slice(b"rest");
            assert_eq!(PeerHandle::decode(&longer), Ok((h, bytes.len())));
        }
    }

    #[test]
    fn max_len_is_within_the_codec_limit() {
        const { assert!(PeerHandle::MAX_LEN <= pastry_kernel::codec::MAX_HANDLE_LEN) };
        // Ed25519 PeerIds are 38 bytes; an IPv6 handle of one takes 58.
        let h = PeerHandle::new(ed25519_peer(1), "[::1]:1".parse().unwrap()).unwrap();
        assert_eq!(h.encoded_len(), 58);
    }

    #[test]
    fn every_truncation_is_refused() {
        let h = PeerHandle::new(ed25519_peer(9), "10.1.2.3:9".parse().unwrap()).unwrap();
        let bytes = encode(&h);
        for n in 0..bytes.len() {
            assert!(
                PeerHandle::decode(&bytes[..n]).is_err(),
                "prefix of {n} bytes"
            );
        }
    }

    #[test]
    fn bad_bytes_are_refused_without_panic() {
        let h = PeerHandle::new(ed25519_peer(4), "127.0.0.1:1".parse().unwrap()).unwrap();
        let bytes = encode(&h);
        // Every single-byte change either fails or decodes to a handle that re-encodes to it.
        for i in 0..bytes.len() {
            for v in [0u8, 1, 5, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok((d, n)) = PeerHandle::decode(&b) {
                    assert_eq!(encode(&d), b[..n]);
                }
            }
        }
        // A bad address tag.
        let mut b = bytes.clone();
        let tag_at = 1 + usize::from(bytes[0]);
        b[tag_at] = 5;
        assert_eq!(PeerHandle::decode(&b), Err(HandleError::Invalid));
        // A peer-id length over the limit.
        assert_eq!(PeerHandle::decode(&[45; 64]), Err(HandleError::Invalid));
    }

    #[test]
    fn ipv6_scope_is_not_carried() {
        let a = PeerHandle::new(ed25519_peer(2), "[fe80::1%7]:80".parse().unwrap()).unwrap();
        let b = PeerHandle::new(ed25519_peer(2), "[fe80::1]:80".parse().unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn guid_is_the_digest_of_the_peer_id() {
        let p = ed25519_peer(5);
        let h = PeerHandle::new(p, "127.0.0.1:1".parse().unwrap()).unwrap();
        assert_eq!(h.guid(), Guid::digest(&p.to_bytes()));
        assert_ne!(guid_of(&ed25519_peer(6)), h.guid());
    }

    #[test]
    fn multiaddr_roundtrip() {
        for a in ["127.0.0.1:4001", "[::1]:9"] {
            let addr: SocketAddr = a.parse().unwrap();
            assert_eq!(multiaddr_socket(&socket_multiaddr(addr)), Some(addr));
        }
        assert_eq!(multiaddr_socket(&"/dns4/x/tcp/1".parse().unwrap()), None);
        assert_eq!(
            multiaddr_socket(&"/ip4/1.2.3.4/udp/1".parse().unwrap()),
            None
        );
    }
}
