//! [`NodeRef`]: a node id together with the host's handle for it.

use crate::guid::Guid;

/// A node as the kernel knows it: its ring id and the host's handle.
///
/// The handle (a socket address, an index into the host's own table, …) travels with the id and
/// is never inspected by the kernel. Two `NodeRef`s name the same node when their ids are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NodeRef<H, W = Guid> {
    /// The node's id on the ring.
    pub id: W,
    /// The host's handle for the node.
    pub handle: H,
}

impl<H, W> NodeRef<H, W> {
    /// A node reference.
    pub const fn new(id: W, handle: H) -> Self {
        NodeRef { id, handle }
    }
}

/// A node with the host's proximity figure for it (smaller is nearer).
///
/// Routing-table slots and the neighborhood set keep the figure so that a later candidate can be
/// compared with the incumbent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Entry<H, W = Guid> {
    /// The node.
    pub node: NodeRef<H, W>,
    /// Proximity figure supplied by the host (latency, hop count, distance…); smaller is nearer.
    pub proximity: Proximity,
}

/// The host's proximity figure for a node: smaller is nearer. The kernel only compares them.
pub type Proximity = u32;
