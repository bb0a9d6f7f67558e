//! Errors of state-changing operations. Each leaves the state unchanged.

use core::fmt;

/// Why a state change was refused. The state is unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The node offered is the local node itself; no structure may hold it.
    OwnId,
    /// The offered data was built for another configuration (b, L or |M|) or another id width.
    ConfigMismatch,
    /// The offered data is about another node than expected (e.g. a leaf set whose owner is not
    /// the node it claims to come from).
    WrongOwner,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateError::OwnId => "the local node cannot be a member of its own state",
            StateError::ConfigMismatch => "the data was built for a different configuration",
            StateError::WrongOwner => "the data belongs to a different node than expected",
        })
    }
}

impl core::error::Error for StateError {}
