//! A small ring for the hand-driven node tests: b = 4, L = 8, |M| = 8 over 16-bit ids.

use pastry_kernel::{Config, NodeRef};
use pastry_node::NodeConfig;

/// b = 4, L = 8, |M| = 8.
pub fn cfg() -> NodeConfig {
    NodeConfig::new(Config::new(4, 8, 8).unwrap())
}

/// 64 evenly spread ids `i · 1024`, node `i` with handle `i`.
pub fn ring() -> Vec<NodeRef<u32, u16>> {
    (0..64u16)
        .map(|i| NodeRef::new(i * 1024, u32::from(i)))
        .collect()
}
