//! The definitions the theorems are stated over: the kernel's own, or a deliberately wrong
//! variant of one of them.
//!
//! Every theorem in [`crate::theorems`] is generic over an [`Arith`], the trait the shared
//! claims (`pastry_kernel::fuzzing::claims`) are stated over, re-exported here with [`Kernel`].
//! [`Kernel`] delegates each function to `pastry_kernel::arith`, so the proofs are about the code
//! the router runs. The implementations here each break one definition on purpose — built, where
//! possible, by composing the kernel's functions rather than rewriting them — so that the tests
//! can show that Z3 refutes the theorems that would catch such a bug (a proof can fail).

use pastry_kernel::arith::{self, DigitWidth};
use pastry_kernel::word::{Boolean, Word};

pub use pastry_kernel::fuzzing::claims::{Arith, Kernel};

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
