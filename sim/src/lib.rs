//! The Pastry network simulator (filled in by the simulator work).
