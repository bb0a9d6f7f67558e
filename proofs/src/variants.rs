//! The definitions the theorems are stated over: the kernel's own, or a deliberately wrong
//! variant of one of them.
//!
//! Every theorem in [`crate::theorems`] is generic over an [`Arith`]. [`Kernel`] delegates each
//! function to `pastry_kernel::arith`, so the proofs are about the code the router runs. The
//! other implementations each break one definition on purpose — built, where possible, by
//! composing the kernel's functions rather than rewriting them — so that the tests can show
//! that Z3 refutes the theorems that would catch such a bug (a proof can fail).

use pastry_kernel::arith::{self, DigitWidth};
use pastry_kernel::word::{Boolean, Word};

/// The ring and prefix definitions a theorem is stated over (the contract of docs/design.md).
///
/// The default methods are the kernel's functions.
pub trait Arith {
    /// A short name shown in verdicts.
    const NAME: &'static str;

    /// cw(a, k).
    fn cw<W: Word>(a: &W, k: &W) -> W {
        arith::cw(a, k)
    }
    /// dist(a, k).
    fn dist<W: Word>(a: &W, k: &W) -> W {
        arith::dist(a, k)
    }
    /// closer(k, x, y).
    fn closer<W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
        arith::closer(k, x, y)
    }
    /// digit(a, row).
    fn digit<W: Word>(a: &W, row: &W, b: DigitWidth) -> W {
        arith::digit(a, row, b)
    }
    /// shl(a, k).
    fn shl<W: Word>(a: &W, k: &W, b: DigitWidth) -> W {
        arith::shl(a, k, b)
    }
    /// The routing-table slot (row, column) of `node` in the table of `own`.
    fn slot<W: Word>(own: &W, node: &W, b: DigitWidth) -> (W, W) {
        arith::slot(own, node, b)
    }
    /// Whether `k` is on the clockwise arc `start ..= end`.
    fn in_arc<W: Word>(start: &W, end: &W, k: &W) -> W::Bool {
        arith::in_arc(start, end, k)
    }
    /// The progress rule for a hop `from → to` towards `k`.
    fn makes_progress<W: Word>(k: &W, from: &W, to: &W, b: DigitWidth) -> W::Bool {
        arith::makes_progress(k, from, to, b)
    }
    /// Whether routing step 3 at `own` may choose `t` for `k`.
    fn rare_case_admissible<W: Word>(k: &W, own: &W, t: &W, b: DigitWidth) -> W::Bool {
        arith::rare_case_admissible(k, own, t, b)
    }
    /// Whether step 3 prefers `x` to `y` for `k`.
    fn rare_case_prefers<W: Word>(k: &W, x: &W, y: &W, b: DigitWidth) -> W::Bool {
        arith::rare_case_prefers(k, x, y, b)
    }
}

/// The kernel's definitions, unchanged: what the theorems are proved about.
#[derive(Clone, Copy, Debug)]
pub struct Kernel;

impl Arith for Kernel {
    const NAME: &'static str = "kernel";
}

fn one<W: Word>() -> W {
    W::constant(1)
}

fn neg<W: Word>(x: &W) -> W {
    W::constant(0).wrapping_sub(x)
}

/// Wrong on purpose: cw off by one, cw(a, k) = k − a + 1, and dist built on it (which is
/// the kernel's dist plus one).
#[derive(Clone, Copy, Debug)]
pub struct CwOffByOne;

impl Arith for CwOffByOne {
    const NAME: &'static str = "cw-off-by-one";

    fn cw<W: Word>(a: &W, k: &W) -> W {
        arith::cw(a, k).wrapping_add(&one())
    }
    /// min(cw(a, k) + 1, cw(k, a) + 1) = dist(a, k) + 1.
    fn dist<W: Word>(a: &W, k: &W) -> W {
        arith::dist(a, k).wrapping_add(&one())
    }
}

/// Wrong on purpose: the tie-break of closer flipped, so that of two equidistant ids the
/// counter-clockwise one (k − d) wins. Built as the kernel's closer on the mirrored ring
/// (x ↦ −x), which swaps the two directions.
#[derive(Clone, Copy, Debug)]
pub struct TieBreakFlipped;

impl Arith for TieBreakFlipped {
    const NAME: &'static str = "tie-break-flipped";

    fn closer<W: Word>(k: &W, x: &W, y: &W) -> W::Bool {
        arith::closer(&neg(k), &neg(x), &neg(y))
    }
}

/// Wrong on purpose: shl counts one digit too many, and the slot of a node is computed with it.
#[derive(Clone, Copy, Debug)]
pub struct ShlOneTooMany;

impl Arith for ShlOneTooMany {
    const NAME: &'static str = "shl-one-too-many";

    fn shl<W: Word>(a: &W, k: &W, b: DigitWidth) -> W {
        arith::shl(a, k, b).wrapping_add(&one())
    }
    fn slot<W: Word>(own: &W, node: &W, b: DigitWidth) -> (W, W) {
        let row = Self::shl(own, node, b);
        let column = arith::digit(node, &row, b);
        (row, column)
    }
}

/// Wrong on purpose: step 3 admits any node sharing at least as long a prefix with the key,
/// forgetting the requirement that it be closer to the key than the local node.
#[derive(Clone, Copy, Debug)]
pub struct RareCaseIgnoresDistance;

impl Arith for RareCaseIgnoresDistance {
    const NAME: &'static str = "rare-case-ignores-distance";

    fn rare_case_admissible<W: Word>(k: &W, own: &W, t: &W, b: DigitWidth) -> W::Bool {
        arith::shl(t, k, b).ult(&arith::shl(own, k, b)).not()
    }
}

/// Wrong on purpose: the covered arc reaches one id past its end, as if the farthest
/// successor's clockwise neighbour were covered too.
#[derive(Clone, Copy, Debug)]
pub struct ArcOneTooLong;

impl Arith for ArcOneTooLong {
    const NAME: &'static str = "arc-one-too-long";

    fn in_arc<W: Word>(start: &W, end: &W, k: &W) -> W::Bool {
        arith::in_arc(start, &end.wrapping_add(&one()), k)
    }
}
