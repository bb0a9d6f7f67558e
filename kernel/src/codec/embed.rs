//! [`Encoder`] and [`Decoder`]: the kernel's parts as pieces inside a larger message.

use alloc::vec::Vec;

use super::error::{DecodeError, EncodeError};
use super::handle::{put, WireHandle};
use super::read::{
    read_leaf_piece, read_neighborhood_piece, read_row_piece, read_state_piece, Reader,
};
use super::write::{
    emit_leaf_piece, emit_neighborhood_piece, emit_row_piece, emit_state_piece, Counter, Sink,
    VecSink, Writer,
};
use super::{node_min, width};
use crate::arith::Row;
use crate::leafset::LeafSet;
use crate::neighborhood::NeighborhoodSet;
use crate::node::NodeRef;
use crate::state::NodeState;
use crate::table::RoutingTable;
use crate::word::RingWord;

/// Where an [`Encoder`] writes: a vector, a caller's slice, or nowhere (counting).
pub(super) enum Out<'a> {
    Vec(VecSink<'a>),
    Slice(Writer<'a>),
    Count(Counter),
}

impl Out<'_> {
    fn len(&self) -> usize {
        match self {
            Out::Vec(v) => v.out.len(),
            Out::Slice(w) => w.pos,
            Out::Count(c) => c.len,
        }
    }
}

impl Sink for Out<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        match self {
            Out::Vec(v) => v.bytes(b),
            Out::Slice(w) => w.bytes(b),
            Out::Count(c) => c.bytes(b),
        }
    }
    fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        match self {
            Out::Vec(v) => v.handle(h),
            Out::Slice(w) => {
                let len = h.encoded_len();
                if !(H::MIN_LEN..=H::MAX_LEN).contains(&len) {
                    return Err(EncodeError::HandleLength { len });
                }
                w.handle(h)
            }
            Out::Count(c) => c.handle(h),
        }
    }
}

/// Writes the fields of a larger message — a protocol built on this codec — into a `Vec<u8>`,
/// by the rules of the kernel's own encodings: big-endian integers, ids in `W::BITS / 8` bytes,
/// handles by their [`WireHandle`] encoding, and the kernel's parts as **pieces**: their
/// encoding without the 5-byte header (the larger message has its own), which is
/// self-delimiting, so no length prefix is needed. [`Decoder`] reads them back.
///
/// | piece | bytes |
/// |---|---|
/// | [`Encoder::state`] | b (1), L (1), \|M\| (2), own node, leaf-set, table and neighborhood bodies |
/// | [`Encoder::leaf_set`] | L (1), owner id (w), leaf-set body |
/// | [`Encoder::row`] | b (1), owner id (w), row r (1), row body |
/// | [`Encoder::neighborhood`] | \|M\| (2), owner id (w), neighborhood body |
/// | [`Encoder::nodes`] | count (2), then `count` nodes (id, handle) in strictly increasing id order |
/// | [`Encoder::ids`] | count (2), then `count` ids in strictly increasing order |
///
/// (The bodies are those of the [module docs](crate::codec).) An encoder writes to a vector
/// ([`Encoder::new`]; on an error the vector is cut back to its length when the encoder was
/// made, so a failed message leaves nothing behind), into a caller's slice
/// ([`Encoder::slice`]; no allocation; [`EncodeError::BufferTooSmall`] when it is full), or
/// only counts ([`Encoder::counter`], to size a buffer).
///
/// ```
/// use pastry_kernel::codec::{Decoder, Encoder};
/// use pastry_kernel::{Config, Guid, NodeRef, NodeState};
///
/// let mut state = NodeState::new(Config::PAPER, NodeRef::new(Guid::new(7 << 120), 1u32));
/// state.learn(NodeRef::new(Guid::new(9 << 120), 2), 10)?;
/// let mut out = Vec::new();
/// let mut e = Encoder::new(&mut out);
/// e.u8(42)?;
/// e.leaf_set(state.leaf_set())?;
/// e.nodes(&[*state.own()])?;
///
/// let mut d = Decoder::new(&out);
/// assert_eq!(d.u8()?, 42);
/// assert_eq!(&d.leaf_set::<u32, Guid>()?, state.leaf_set());
/// assert_eq!(d.nodes::<u32, Guid>(8)?, [*state.own()]);
/// d.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encoder<'a> {
    sink: Out<'a>,
    start: usize,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let start = out.len();
        Encoder {
            sink: Out::Vec(VecSink { out }),
            start,
        }
    }

    /// An encoder writing into `buf` from its start, allocating nothing.
    pub fn slice(buf: &'a mut [u8]) -> Self {
        Encoder {
            sink: Out::Slice(Writer { buf, pos: 0 }),
            start: 0,
        }
    }

    /// An encoder that writes nothing and counts the bytes ([`Encoder::written`]).
    #[must_use]
    pub fn counter() -> Encoder<'static> {
        Encoder {
            sink: Out::Count(Counter {
                len: 0,
                strict: true,
            }),
            start: 0,
        }
    }

    /// The bytes written (or counted) so far by this encoder.
    #[must_use]
    pub fn written(&self) -> usize {
        self.sink.len() - self.start
    }

    fn check<T>(&mut self, r: Result<T, EncodeError>) -> Result<T, EncodeError> {
        if r.is_err() {
            if let Out::Vec(v) = &mut self.sink {
                v.out.truncate(self.start);
            }
        }
        r
    }

    /// One byte.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] when writing into a full slice.
    pub fn u8(&mut self, v: u8) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&[v]);
        self.check(r)
    }

    /// Two bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Four bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Eight bytes, big-endian.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn u64(&mut self, v: u64) -> Result<(), EncodeError> {
        let r = self.sink.bytes(&v.to_be_bytes());
        self.check(r)
    }

    /// Raw bytes, as they are (the caller writes their length first if the reader needs it).
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let r = self.sink.bytes(b);
        self.check(r)
    }

    /// An id in `W::BITS / 8` bytes.
    ///
    /// # Errors
    /// As [`Encoder::u8`].
    pub fn word<W: RingWord>(&mut self, w: W) -> Result<(), EncodeError> {
        let r = self.sink.word(w);
        self.check(r)
    }

    /// A handle.
    ///
    /// # Errors
    /// [`EncodeError::HandleLength`] for a handle that breaks its [`WireHandle`] bounds.
    pub fn handle<H: WireHandle>(&mut self, h: &H) -> Result<(), EncodeError> {
        let r = self.sink.handle(h);
        self.check(r)
    }

    /// A node: id, then handle.
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn node<H: WireHandle, W: RingWord>(
        &mut self,
        n: &NodeRef<H, W>,
    ) -> Result<(), EncodeError> {
        let r = self.sink.node(n);
        self.check(r)
    }

    /// A whole state as a piece (b, L, |M|, own node, leaf-set, table and neighborhood bodies).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn state<H: WireHandle, W: RingWord>(
        &mut self,
        state: &NodeState<H, W>,
    ) -> Result<(), EncodeError> {
        let r = emit_state_piece(&mut self.sink, state);
        self.check(r)
    }

    /// A leaf set as a piece (L, owner id, body).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn leaf_set<H: WireHandle, W: RingWord>(
        &mut self,
        leaf: &LeafSet<H, W>,
    ) -> Result<(), EncodeError> {
        let r = emit_leaf_piece(&mut self.sink, leaf);
        self.check(r)
    }

    /// Row `row` of `table` as a piece (b, owner id, row, body).
    ///
    /// # Errors
    /// [`EncodeError::RowOutOfRange`] when `row` is not below [`RoutingTable::row_count`];
    /// otherwise as [`Encoder::handle`].
    pub fn row<H: WireHandle, W: RingWord>(
        &mut self,
        table: &RoutingTable<H, W>,
        row: Row,
    ) -> Result<(), EncodeError> {
        let r = emit_row_piece(&mut self.sink, table, row);
        self.check(r)
    }

    /// The neighborhood set of the node `own` as a piece (|M|, owner id, body).
    ///
    /// # Errors
    /// As [`Encoder::handle`].
    pub fn neighborhood<H: WireHandle, W: RingWord>(
        &mut self,
        set: &NeighborhoodSet<H, W>,
        own: W,
    ) -> Result<(), EncodeError> {
        let r = emit_neighborhood_piece(&mut self.sink, set, own);
        self.check(r)
    }

    /// A list of nodes: a 2-byte count, then the nodes.
    ///
    /// # Errors
    /// [`EncodeError::Unsorted`] unless the ids are strictly increasing (the one canonical
    /// order of a set of nodes); [`EncodeError::TooLong`] for more than `u16::MAX` nodes;
    /// otherwise as [`Encoder::handle`].
    pub fn nodes<H: WireHandle, W: RingWord>(
        &mut self,
        nodes: &[NodeRef<H, W>],
    ) -> Result<(), EncodeError> {
        let r = self.list(nodes, |n| n.id, |s, n| s.node(n));
        self.check(r)
    }

    /// A list of ids: a 2-byte count, then the ids.
    ///
    /// # Errors
    /// [`EncodeError::Unsorted`] unless the ids are strictly increasing;
    /// [`EncodeError::TooLong`] for more than `u16::MAX` ids.
    pub fn ids<W: RingWord>(&mut self, ids: &[W]) -> Result<(), EncodeError> {
        let r = self.list(ids, |w| *w, |s, w| s.word(*w));
        self.check(r)
    }

    fn list<T, W: RingWord>(
        &mut self,
        items: &[T],
        id: impl Fn(&T) -> W,
        mut write: impl FnMut(&mut Out<'a>, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let count = u16::try_from(items.len()).map_err(|_| EncodeError::TooLong {
            len: items.len(),
            limit: usize::from(u16::MAX),
        })?;
        if items.windows(2).any(|w| match w {
            [a, b] => id(a) >= id(b),
            _ => false,
        }) {
            return Err(EncodeError::Unsorted);
        }
        self.sink.u16(count)?;
        for item in items {
            write(&mut self.sink, item)?;
        }
        Ok(())
    }
}

/// Reads the fields of a larger message written by an [`Encoder`], with every check of the
/// kernel's decoders: each read is bounds-checked, each piece is checked against every
/// invariant of its type, and errors carry the offset into the whole input.
pub struct Decoder<'a> {
    r: Reader<'a>,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `bytes`.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder {
            r: Reader::new(bytes),
        }
    }

    /// The offset of the next read.
    #[must_use]
    pub fn position(&self) -> usize {
        self.r.pos
    }

    /// The bytes left.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.r.remaining()
    }

    /// One byte.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        self.r.u8()
    }

    /// Two bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.r.u16()
    }

    /// Four bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.r.u32()
    }

    /// Eight bytes, big-endian.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        put(&mut b, self.r.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    /// The next `n` bytes.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when fewer are left.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.r.take(n)
    }

    /// An id of `W::BITS / 8` bytes.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when the input ends.
    pub fn word<W: RingWord>(&mut self) -> Result<W, DecodeError> {
        self.r.word()
    }

    /// A handle, canonically encoded.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`], [`DecodeError::BadHandle`] or
    /// [`DecodeError::NonCanonicalHandle`].
    pub fn handle<H: WireHandle>(&mut self) -> Result<H, DecodeError> {
        self.r.handle()
    }

    /// A node: id, then handle.
    ///
    /// # Errors
    /// As [`Decoder::word`] and [`Decoder::handle`].
    pub fn node<H: WireHandle, W: RingWord>(&mut self) -> Result<NodeRef<H, W>, DecodeError> {
        self.r.node()
    }

    /// A state piece ([`Encoder::state`]).
    ///
    /// # Errors
    /// The first rule of the state layout the input breaks.
    pub fn state<H: WireHandle, W: RingWord>(&mut self) -> Result<NodeState<H, W>, DecodeError> {
        read_state_piece(&mut self.r)
    }

    /// A leaf-set piece ([`Encoder::leaf_set`]).
    ///
    /// # Errors
    /// The first rule of the leaf-set layout the input breaks.
    pub fn leaf_set<H: WireHandle, W: RingWord>(&mut self) -> Result<LeafSet<H, W>, DecodeError> {
        read_leaf_piece(&mut self.r)
    }

    /// A row piece ([`Encoder::row`]): the row number and a table of the owner holding only
    /// that row, as [`RoutingTable::decode_row`] returns.
    ///
    /// # Errors
    /// The first rule of the row layout the input breaks.
    pub fn row<H: WireHandle, W: RingWord>(
        &mut self,
    ) -> Result<(Row, RoutingTable<H, W>), DecodeError> {
        read_row_piece(&mut self.r)
    }

    /// A neighborhood piece ([`Encoder::neighborhood`]): the owner's id and the set.
    ///
    /// # Errors
    /// The first rule of the neighborhood layout the input breaks.
    pub fn neighborhood<H: WireHandle, W: RingWord>(
        &mut self,
    ) -> Result<(W, NeighborhoodSet<H, W>), DecodeError> {
        read_neighborhood_piece(&mut self.r)
    }

    /// A list of at most `max` nodes ([`Encoder::nodes`]). Allocates only after the count
    /// has been checked against `max` and against the bytes left.
    ///
    /// # Errors
    /// [`DecodeError::OverLimit`] for a count over `max`, [`DecodeError::Unsorted`] for ids
    /// not strictly increasing, or an error of [`Decoder::node`].
    pub fn nodes<H: WireHandle, W: RingWord>(
        &mut self,
        max: usize,
    ) -> Result<Vec<NodeRef<H, W>>, DecodeError> {
        let count = self.count(max, node_min::<H, W>())?;
        let mut nodes: Vec<NodeRef<H, W>> = Vec::with_capacity(count);
        for _ in 0..count {
            let offset = self.r.pos;
            let n: NodeRef<H, W> = self.r.node()?;
            if nodes.last().is_some_and(|p| p.id >= n.id) {
                return Err(DecodeError::Unsorted { offset });
            }
            nodes.push(n);
        }
        Ok(nodes)
    }

    /// A list of at most `max` ids ([`Encoder::ids`]).
    ///
    /// # Errors
    /// As [`Decoder::nodes`].
    pub fn ids<W: RingWord>(&mut self, max: usize) -> Result<Vec<W>, DecodeError> {
        let count = self.count(max, usize::from(width::<W>()))?;
        let mut ids: Vec<W> = Vec::with_capacity(count);
        for _ in 0..count {
            let offset = self.r.pos;
            let w: W = self.r.word()?;
            if ids.last().is_some_and(|p| *p >= w) {
                return Err(DecodeError::Unsorted { offset });
            }
            ids.push(w);
        }
        Ok(ids)
    }

    /// A 2-byte count of items of at least `min` bytes each, checked against `max` and the
    /// bytes left.
    fn count(&mut self, max: usize, min: usize) -> Result<usize, DecodeError> {
        let offset = self.r.pos;
        let count = usize::from(self.r.u16()?);
        if count > max {
            return Err(DecodeError::OverLimit {
                offset,
                found: count as u64,
                limit: max as u64,
            });
        }
        self.r.room_for(count, min)?;
        Ok(count)
    }

    /// Succeeds when the whole input has been read.
    ///
    /// # Errors
    /// [`DecodeError::TrailingBytes`] when bytes are left.
    pub fn finish(&self) -> Result<(), DecodeError> {
        self.r.finish()
    }
}
