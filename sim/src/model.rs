//! The paper's network model: random ids, random points of a 1000 × 1000 plane, the Euclidean
//! distance between them as the proximity metric, and (for messages) a one-way latency that
//! grows with that distance.

use std::sync::Arc;

use pastry_kernel::{Guid, Proximity};
use pastry_node::{Estimator, Time};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The simulator's handle for a node: its index in the [`Population`].
pub type Handle = u32;

/// The side of the square plane the nodes are placed in (the paper's 1000 × 1000).
pub const PLANE_SIDE: f64 = 1000.0;

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
}

/// The one-way latency of a message between two points of the plane:
/// `base + per_unit × distance`, in microseconds, rounded.
///
/// The default, [`Latency::WAN`], makes one plane unit 0.1 ms and adds 1 ms per message
/// (sending, receiving, the access link): one-way latencies run from 1 ms to 142 ms and
/// average 53 ms over random pairs, round trips average about 106 ms — the range of a
/// wide-area network. The latency grows with the distance, so ordering nodes by latency orders
/// them by distance: the proximity the nodes measure is the paper's metric.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Microseconds added to every message.
    pub base_us: f64,
    /// Microseconds per unit of plane distance.
    pub per_unit_us: f64,
}

impl Latency {
    /// 1 ms + 0.1 ms per plane unit.
    pub const WAN: Latency = Latency {
        base_us: 1_000.0,
        per_unit_us: 100.0,
    };

    /// The one-way latency from `a` to `b` in microseconds.
    #[must_use]
    pub fn one_way(self, a: Point, b: Point) -> Time {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // non-negative and below 2^32 for any plane point
        {
            (self.base_us + self.per_unit_us * a.distance(b)).round() as Time
        }
    }

    /// The round-trip time between `a` and `b` in microseconds: what a node measures with a
    /// probe, and the proximity figure it gives the kernel.
    #[must_use]
    pub fn round_trip(self, a: Point, b: Point) -> Proximity {
        let rtt = 2 * self.one_way(a, b);
        Proximity::try_from(rtt).unwrap_or(Proximity::MAX - 1)
    }
}

/// A node of the simulated network: its ring id and its place in the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Site {
    /// The ring id, uniformly random.
    pub id: Guid,
    /// The node's place in the plane.
    pub at: Point,
}

impl Site {
    /// A site with a uniformly random id and a uniformly random place.
    pub fn random(rng: &mut impl Rng) -> Site {
        let id = random_guid(rng);
        Site {
            id,
            at: Point::random(rng),
        }
    }
}

/// Every node that takes part in a run, by handle: the first `n` of a seed are the same
/// whatever the run's length, so the networks of one run nest.
///
/// # Invariants
/// The ids are distinct (checked at construction).
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    sites: Vec<Site>,
}

impl Population {
    /// `n` sites with distinct random ids at random places, from `seed`'s node stream.
    #[must_use]
    pub fn random(seed: u64, n: usize) -> Population {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(1);
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut sites = Vec::with_capacity(n);
        while sites.len() < n {
            let s = Site::random(&mut r);
            if seen.insert(s.id) {
                sites.push(s);
            }
        }
        Population { sites }
    }

    /// The given sites.
    ///
    /// # Panics
    /// If two share an id, or there are more than `u32::MAX`.
    #[must_use]
    pub fn of(sites: Vec<Site>) -> Population {
        let mut ids: Vec<Guid> = sites.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        assert!(
            ids.windows(2).all(|w| w[0] != w[1]),
            "node ids must be distinct"
        );
        assert!(u32::try_from(sites.len()).is_ok(), "at most 2^32 nodes");
        Population { sites }
    }

    /// The number of sites.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Node `h`'s site.
    #[must_use]
    pub fn site(&self, h: Handle) -> Site {
        self.sites[h as usize]
    }

    /// Node `h`'s place.
    #[must_use]
    pub fn place(&self, h: Handle) -> Point {
        self.sites[h as usize].at
    }

    /// Node `h`'s id.
    #[must_use]
    pub fn id(&self, h: Handle) -> Guid {
        self.sites[h as usize].id
    }

    /// Every site, by handle.
    #[must_use]
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }
}

/// The proximity estimate a simulated node gets from its host: the round-trip time the
/// latency model gives between the two places — exactly what the node would measure with a
/// probe, known before any message is exchanged. With it a node probes only the candidates its
/// state would keep at that figure.
#[derive(Clone, Debug)]
pub struct PlaneEstimator {
    population: Arc<Population>,
    latency: Latency,
    at: Point,
}

impl PlaneEstimator {
    /// The estimator of the node at `at`.
    #[must_use]
    pub fn new(population: Arc<Population>, latency: Latency, at: Point) -> PlaneEstimator {
        PlaneEstimator {
            population,
            latency,
            at,
        }
    }
}

impl Estimator<Handle> for PlaneEstimator {
    fn estimate(&self, to: &Handle) -> Option<Proximity> {
        let site = self.population.sites.get(*to as usize)?;
        Some(self.latency.round_trip(self.at, site.at))
    }
}

/// A node index as a [`Handle`].
///
/// # Panics
/// Past `u32::MAX` nodes.
#[must_use]
pub fn handle(i: usize) -> Handle {
    Handle::try_from(i).expect("at most 2^32 nodes")
}

/// A uniformly random 128-bit id.
pub fn random_guid(rng: &mut impl Rng) -> Guid {
    Guid::new(rng.random::<u128>())
}

/// log base 2^b of `n`: the paper's reference curve (log16 N for b = 4).
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
    fn latency_is_the_wan_scale() {
        let a = Point { x: 0.0, y: 0.0 };
        let b = Point { x: 3.0, y: 4.0 };
        assert_eq!(Latency::WAN.one_way(a, b), 1_500);
        assert_eq!(Latency::WAN.one_way(b, a), 1_500);
        assert_eq!(Latency::WAN.one_way(a, a), 1_000);
        assert_eq!(Latency::WAN.round_trip(a, b), 3_000);
        let far = Point {
            x: PLANE_SIDE,
            y: PLANE_SIDE,
        };
        assert_eq!(Latency::WAN.one_way(a, far), 142_421);
    }

    #[test]
    fn latency_orders_like_distance() {
        let mut r = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..1000 {
            let (a, b, c) = (
                Point::random(&mut r),
                Point::random(&mut r),
                Point::random(&mut r),
            );
            if a.distance(b) + 0.01 < a.distance(c) {
                assert!(Latency::WAN.round_trip(a, b) <= Latency::WAN.round_trip(a, c));
            }
        }
    }

    #[test]
    fn populations_nest_and_estimates_are_round_trips() {
        let small = Population::random(5, 100);
        let large = Population::random(5, 300);
        assert_eq!(small.sites(), &large.sites()[..100]);
        let p = Arc::new(small);
        let e = PlaneEstimator::new(p.clone(), Latency::WAN, p.place(0));
        assert_eq!(
            e.estimate(&7),
            Some(Latency::WAN.round_trip(p.place(0), p.place(7)))
        );
        assert_eq!(e.estimate(&100), None);
    }

    #[test]
    fn log16_of_the_paper_sizes() {
        assert!((log_base(100_000, 4) - 4.152).abs() < 1e-3);
        assert!((log_base(1_000, 4) - 2.491).abs() < 1e-3);
    }
}
