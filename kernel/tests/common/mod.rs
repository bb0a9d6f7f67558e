//! Settings shared by the property-test binaries.

pub use pastry_kernel::strategies::seeded_config as seeded;
