//! `arith/*`: the kernel's generic ring and prefix arithmetic on [`Guid`] against plain `u128`
//! code, over batches of [`BATCH`] inputs.
//!
//! Groups `arith/digit` and `arith/shl` (parameter: b), `arith/dist` and `arith/closer`
//! (parameter: `guid`); implementations `kernel` (the generic functions of
//! `pastry_kernel::arith`) and `u128` (the same formula written directly on integers).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use pastry_kernel::arith::{closer, digit_at, dist, shl_len, DigitWidth};
use pastry_kernel::Guid;

use crate::fixtures::SplitMix;

/// Inputs per timed iteration.
pub const BATCH: usize = 4096;

/// Seed of the inputs.
pub const SEED: u64 = 0x5eed_0003;

/// Pairs (a, k) sharing a random number of leading bits, so shl takes every value.
fn pairs(rng: &mut SplitMix) -> Vec<(Guid, Guid)> {
    (0..BATCH)
        .map(|_| {
            let k = rng.next_u128();
            let shared = rng.below(129) as u32;
            let mask = u128::MAX.checked_shr(shared).unwrap_or(0);
            let a = (k & !mask) | (rng.next_u128() & mask);
            (Guid::new(a), Guid::new(k))
        })
        .collect()
}

/// `digit(a, row)` written directly; `None` past the last row.
#[inline(always)]
fn digit_u128(a: u128, row: u32, b: u32) -> Option<u8> {
    if row >= 128 / b {
        return None;
    }
    Some((a << (row * b) >> (128 - b)) as u8)
}

/// `shl(a, k)` written directly.
#[inline(always)]
fn shl_u128(a: u128, k: u128, log2b: u32) -> u32 {
    (a ^ k).leading_zeros() >> log2b
}

/// `dist(a, k)` written directly.
#[inline(always)]
fn dist_u128(a: u128, k: u128) -> u128 {
    k.wrapping_sub(a).min(a.wrapping_sub(k))
}

/// `closer(k, x, y)` written directly.
#[inline(always)]
fn closer_u128(k: u128, x: u128, y: u128) -> bool {
    let (dx, dy) = (dist_u128(x, k), dist_u128(y, k));
    dx < dy || (dx == dy && x != y && x.wrapping_sub(k) == dx)
}

/// Every `arith/*` group.
pub fn benchmarks(c: &mut Criterion) {
    let mut rng = SplitMix::new(SEED);
    let pairs = pairs(&mut rng);
    let rows: Vec<u32> = (0..BATCH).map(|_| rng.below(128) as u32).collect();

    let mut group = c.benchmark_group("arith/digit");
    group.throughput(Throughput::Elements(BATCH as u64));
    for width in DigitWidth::ALL {
        let b = width.bits();
        // Rows within the id's digits (a few past the end exercise the None answer).
        let input: Vec<(Guid, u32)> = pairs
            .iter()
            .zip(&rows)
            .map(|((a, _), r)| (*a, r % (128 / b + 1)))
            .collect();
        group.bench_with_input(BenchmarkId::new("kernel", b), &input, |bch, input| {
            bch.iter(|| {
                for (a, r) in input {
                    black_box(digit_at(black_box(*a), black_box(*r), width));
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("u128", b), &input, |bch, input| {
            bch.iter(|| {
                for (a, r) in input {
                    black_box(digit_u128(black_box(a.get()), black_box(*r), b));
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("arith/shl");
    group.throughput(Throughput::Elements(BATCH as u64));
    for width in DigitWidth::ALL {
        let b = width.bits();
        group.bench_with_input(BenchmarkId::new("kernel", b), &pairs, |bch, input| {
            bch.iter(|| {
                for (a, k) in input {
                    black_box(shl_len(black_box(*a), black_box(*k), width));
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("u128", b), &pairs, |bch, input| {
            bch.iter(|| {
                for (a, k) in input {
                    black_box(shl_u128(
                        black_box(a.get()),
                        black_box(k.get()),
                        width.log2(),
                    ));
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("arith/dist");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_with_input(BenchmarkId::new("kernel", "guid"), &pairs, |bch, input| {
        bch.iter(|| {
            for (a, k) in input {
                black_box(dist(black_box(a), black_box(k)));
            }
        });
    });
    group.bench_with_input(BenchmarkId::new("u128", "guid"), &pairs, |bch, input| {
        bch.iter(|| {
            for (a, k) in input {
                black_box(dist_u128(black_box(a.get()), black_box(k.get())));
            }
        });
    });
    group.finish();

    // Triples (k, x, y) with x and y at random distances, some of them tied.
    let triples: Vec<(Guid, Guid, Guid)> = pairs
        .iter()
        .map(|(a, k)| {
            let d = a.get().wrapping_sub(k.get());
            let y = if rng.below(8) == 0 {
                k.get().wrapping_sub(d)
            } else {
                rng.next_u128()
            };
            (*k, *a, Guid::new(y))
        })
        .collect();
    let mut group = c.benchmark_group("arith/closer");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_with_input(
        BenchmarkId::new("kernel", "guid"),
        &triples,
        |bch, input| {
            bch.iter(|| {
                for (k, x, y) in input {
                    black_box(closer(black_box(k), black_box(x), black_box(y)));
                }
            });
        },
    );
    group.bench_with_input(BenchmarkId::new("u128", "guid"), &triples, |bch, input| {
        bch.iter(|| {
            for (k, x, y) in input {
                black_box(closer_u128(
                    black_box(k.get()),
                    black_box(x.get()),
                    black_box(y.get()),
                ));
            }
        });
    });
    group.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_formulas_match_the_kernel() {
        let mut rng = SplitMix::new(1);
        let pairs = pairs(&mut rng);
        for (a, k) in &pairs {
            for width in DigitWidth::ALL {
                assert_eq!(
                    shl_len(*a, *k, width),
                    shl_u128(a.get(), k.get(), width.log2())
                );
                for row in [0, 1, 5, 127 / width.bits(), 128 / width.bits()] {
                    assert_eq!(
                        digit_at(*a, row, width).map(|d| d.0),
                        digit_u128(a.get(), row, width.bits())
                    );
                }
            }
            assert_eq!(dist(a, k).get(), dist_u128(a.get(), k.get()));
            let y = k.get().wrapping_sub(a.get().wrapping_sub(k.get()));
            for y in [y, rng.next_u128(), a.get()] {
                assert_eq!(
                    closer(k, a, &Guid::new(y)),
                    closer_u128(k.get(), a.get(), y)
                );
            }
        }
    }
}
