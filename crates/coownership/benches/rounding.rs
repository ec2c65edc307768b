//! Equal split and apportionment; throughput is per owner, so a flat
//! owners-per-second figure across n shows the cost is linear in n.
// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use coownership::apportion::apportion;
use coownership::split::{equal_split, SplitPolicy};
use coownership::OwnerId;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut split = c.benchmark_group("split");
    for n in [2usize, 3, 10, 10_000] {
        let owners: Vec<OwnerId> = (1..=n as i64).map(|i| OwnerId::new(i).unwrap()).collect();
        split.throughput(Throughput::Elements(n as u64));
        split.bench_with_input(BenchmarkId::new("balanced", n), &owners, |b, o| {
            b.iter(|| equal_split(black_box(o), SplitPolicy::Balanced).unwrap());
        });
        split.bench_with_input(BenchmarkId::new("seed", n), &owners, |b, o| {
            b.iter(|| equal_split(black_box(o), SplitPolicy::Seed).unwrap());
        });
    }
    split.finish();

    let mut app = c.benchmark_group("apportion");
    for n in [2usize, 3, 10, 10_000] {
        let owners: Vec<OwnerId> = (1..=n as i64).map(|i| OwnerId::new(i).unwrap()).collect();
        let o = equal_split(&owners, SplitPolicy::Balanced).unwrap();
        let amount = Decimal::new(123_456_789, 2);
        app.throughput(Throughput::Elements(n as u64));
        app.bench_with_input(BenchmarkId::new("tenants_in_common", n), &o, |b, o| {
            b.iter(|| apportion(black_box(amount), black_box(o), 2).unwrap());
        });
    }
    app.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
