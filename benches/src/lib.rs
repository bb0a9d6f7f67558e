//! Benchmarks of pastry-kernel (filled in by the benches work).
