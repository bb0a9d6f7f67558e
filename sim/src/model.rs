//! The paper's network model: random ids, random points of a 1000 × 1000 plane, and the
//! Euclidean distance between them as the proximity figure.

use pastry_kernel::{Guid, Proximity};
use rand::{Rng, RngExt};

/// The side of the square plane the nodes are placed in (the paper's 1000 × 1000).
pub const PLANE_SIDE: f64 = 1000.0;

/// How many proximity units make one unit of plane distance: the kernel's [`Proximity`] is an
/// integer, so distances are scaled by this factor and rounded (a resolution of 0.001).
pub const PROXIMITY_SCALE: f64 = 1000.0;

/// A point of the plane.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Point {
    /// Abscissa in `[0, PLANE_SIDE)`.
    pub x: f64,
    /// Ordinate in `[0, PLANE_SIDE)`.
    pub y: f64,
}

impl Point {
    /// A point drawn uniformly from the plane.
    pub fn random(rng: &mut impl Rng) -> Point {
        Point {
            x: rng.random_range(0.0..PLANE_SIDE),
            y: rng.random_range(0.0..PLANE_SIDE),
        }
    }

    /// The Euclidean distance to `other`.
    #[must_use]
    pub fn distance(self, other: Point) -> f64 {
        // Coordinates lie in [0, 1000], so the plain formula neither overflows nor loses
        // precision the way `hypot` guards against, and it is several times faster.
        let (dx, dy) = (self.x - other.x, self.y - other.y);
        (dx * dx + dy * dy).sqrt()
    }

    /// The proximity figure the kernel is given for `other`: the Euclidean distance scaled by
    /// [`PROXIMITY_SCALE`] and rounded. At most about 1.42 × 10^6, well inside a `u32`.
    #[must_use]
    pub fn proximity(self, other: Point) -> Proximity {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // 0 <= distance <= 1000 √2, so the scaled value fits a u32
        {
            (self.distance(other) * PROXIMITY_SCALE).round() as Proximity
        }
    }
}

/// A node of the simulated network: its ring id and its place in the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    /// The ring id, uniformly random.
    pub id: Guid,
    /// The node's place in the plane.
    pub at: Point,
}

impl Node {
    /// A node with a uniformly random id and a uniformly random place.
    pub fn random(rng: &mut impl Rng) -> Node {
        let id = random_guid(rng);
        Node {
            id,
            at: Point::random(rng),
        }
    }
}

/// A uniformly random 128-bit id.
pub fn random_guid(rng: &mut impl Rng) -> Guid {
    Guid::new(rng.random::<u128>())
}

/// log base 16 of `n`: the paper's reference curve for b = 4 (log_{2^b} N in general).
#[must_use]
pub fn log_base(n: usize, digit_bits: u32) -> f64 {
    #[allow(clippy::cast_precision_loss)] // node counts are far below 2^52
    let n = n as f64;
    n.ln() / f64::from(1u32 << digit_bits).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proximity_is_scaled_euclidean_distance() {
        let a = Point { x: 0.0, y: 0.0 };
        let b = Point { x: 3.0, y: 4.0 };
        assert_eq!(a.proximity(b), 5000);
        assert_eq!(b.proximity(a), 5000);
        assert_eq!(a.proximity(a), 0);
        let far = Point {
            x: PLANE_SIDE,
            y: PLANE_SIDE,
        };
        assert_eq!(a.proximity(far), 1_414_214);
    }

    #[test]
    fn log16_of_the_paper_sizes() {
        assert!((log_base(100_000, 4) - 4.152).abs() < 1e-3);
        assert!((log_base(1_000, 4) - 2.491).abs() < 1e-3);
    }
}
