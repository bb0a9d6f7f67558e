//! The host's framing of routed payloads: one tag byte in front of what the application routes,
//! so that lookups and their answers travel beside application messages.
//!
//! | tag | body | at the root |
//! |---|---|---|
//! | 0 | the application's payload | raised to the application |
//! | 1 | a lookup: the application's payload (possibly empty) | raised, and answered to the origin |
//! | 2 | a lookup's answer: the lookup's number (8, big-endian) ‖ its hops (1) | ends the lookup at its origin |
//!
//! A lookup is the Common API's `route` followed by the root's direct answer to the origin
//! (`route` with the origin as the hint), so the origin learns the root and the round-trip
//! time, as a client asking "who is responsible for this key?" needs.

/// A routed payload, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Payload<'a> {
    /// An application message.
    App(&'a [u8]),
    /// A lookup, with the application's payload.
    Lookup(&'a [u8]),
    /// The answer to the lookup numbered `seq` at its origin, which took `hops` hops.
    Answer {
        /// The lookup's number at its origin.
        seq: u64,
        /// Its hops.
        hops: u8,
    },
}

const APP: u8 = 0;
const LOOKUP: u8 = 1;
const ANSWER: u8 = 2;
/// Extra bytes the framing adds to an application payload.
pub(crate) const OVERHEAD: usize = 1;

impl<'a> Payload<'a> {
    /// The payload's bytes.
    pub(crate) fn to_vec(self) -> Vec<u8> {
        match self {
            Payload::App(p) => [&[APP][..], p].concat(),
            Payload::Lookup(p) => [&[LOOKUP][..], p].concat(),
            Payload::Answer { seq, hops } => {
                let mut v = Vec::with_capacity(10);
                v.push(ANSWER);
                v.extend_from_slice(&seq.to_be_bytes());
                v.push(hops);
                v
            }
        }
    }

    /// Parses bytes; `None` when they are no payload of this framing.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Self> {
        let (tag, rest) = bytes.split_first()?;
        match *tag {
            APP => Some(Payload::App(rest)),
            LOOKUP => Some(Payload::Lookup(rest)),
            ANSWER => {
                let (seq, hops) = rest.split_at_checked(8)?;
                let seq = u64::from_be_bytes(seq.try_into().ok()?);
                match hops {
                    [h] => Some(Payload::Answer { seq, hops: *h }),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_inverts_to_vec() {
        for p in [
            Payload::App(b""),
            Payload::App(b"hello"),
            Payload::Lookup(b""),
            Payload::Lookup(&[2, 0, 0]),
            Payload::Answer {
                seq: u64::MAX,
                hops: 7,
            },
        ] {
            let bytes = p.to_vec();
            assert_eq!(Payload::parse(&bytes), Some(p));
        }
    }

    #[test]
    fn bad_payloads_are_refused() {
        assert_eq!(Payload::parse(&[]), None);
        assert_eq!(Payload::parse(&[3]), None);
        assert_eq!(Payload::parse(&[ANSWER, 0, 0, 0, 0, 0, 0, 0, 1]), None);
        assert_eq!(
            Payload::parse(&[ANSWER, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]),
            None
        );
    }
}
