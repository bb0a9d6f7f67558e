//! # pastry-proofs
//!
//! Machine-checked proofs about pastry-kernel's *own* code, and exhaustive checks of its router
//! on narrow rings.
//!
//! * [`sym`]: [`SymWord<N>`](SymWord) and [`SymBool`] implement the kernel's
//!   [`Word`](pastry_kernel::Word) and [`Boolean`](pastry_kernel::Boolean) traits for Z3
//!   bit-vector and boolean terms, so `pastry_kernel::arith` (cw, dist, closer, digit, shl, slot,
//!   in_arc, makes_progress, rare_case_admissible, rare_case_prefers) runs symbolically; [`IntWord<N>`](sym::IntWord) encodes words as bounded integers for the
//!   ring theorems, which Z3's linear-arithmetic solver decides at 128 bits.
//! * [`prover`]: [`Prover`] asks Z3 for a counterexample to a claim;
//!   [`Verdict`] is the answer, with the counterexample printed when there is
//!   one.
//! * [`theorems`]: the laws of docs/design.md, each a function generic over an
//!   [`Arith`] and the word width. A law that is a claim about a few words is written once, in
//!   `pastry_kernel::fuzzing::claims` (feature `laws`): the kernel's property tests assert that
//!   function on machine words, and the theorem of the same name proves it on symbolic words.
//! * [`variants`]: the kernel's definitions ([`Kernel`]; [`Arith`] and [`Kernel`] are the
//!   kernel's `fuzzing::claims` items) and deliberately wrong variants that the tests show Z3
//!   refutes.
//! * [`exhaustive`]: runs the kernel's `NodeState::route` on whole narrow networks and checks
//!   every route against the brute-force root.
//!
//! The tests in `tests/` are the deliverable: `cargo test -p pastry-proofs --release`.
//! See `proofs/README.md` for what is proved, what is trusted and how to add a theorem.
#![forbid(unsafe_code)]

pub mod exhaustive;
pub mod prover;
pub mod sym;
pub mod theorems;
pub mod variants;

pub use prover::{Counterexample, Prover, Verdict};
pub use sym::{SymBool, SymWord};
pub use variants::{Arith, Kernel};
