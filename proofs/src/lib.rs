//! Machine-checked proofs about pastry-kernel (filled in by the proofs work).
