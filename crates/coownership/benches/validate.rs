//! Documents per second for parse + validate, beside serde_json parsing the
//! same bytes in the same run (`validate/serde_value`, `validate/serde_ignored`).
// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use coownership::{Document, Rules};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// A deterministic realistic mix: half individual, most of the rest 2–3
/// tenants in common, some joint ownerships, a little metadata.
fn mixed(n: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let id = 1000 + next() % 900_000;
            let doc = match next() % 100 {
                0..=49 => format!(r#"{{"association_type": "individual", "{id}": 100.00}}"#),
                50..=79 => format!(
                    r#"{{"association_type": "tenants_in_common", "{id}": 50.00, "{}": 50.00}}"#,
                    id + 1
                ),
                80..=89 => format!(
                    r#"{{"association_type": "tenants_in_common", "{id}": 33.33, "{}": 33.33, "{}": 33.34}}"#,
                    id + 1,
                    id + 2
                ),
                90..=94 => format!(
                    r#"{{"association_type": "joint_ownership", "joint_owners": [{id}, {}]}}"#,
                    id + 1
                ),
                _ => format!(
                    r#"{{"association_type": "individual", "{id}": 100.00, "note": "transferred from legacy system"}}"#
                ),
            };
            doc.into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = mixed(10_000);
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.bench_function("strict/mixed", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for d in &docs {
                let doc = Document::from_slice(black_box(d)).unwrap();
                ok += doc.to_ownership().is_ok() as usize;
            }
            ok
        });
    });
    g.bench_function("seed/mixed", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for d in &docs {
                let doc = Document::from_slice(black_box(d)).unwrap();
                ok += doc.validate(Rules::Seed).is_ok() as usize;
            }
            ok
        });
    });
    g.bench_function("serde_value/mixed", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                let v: serde_json::Value = serde_json::from_slice(black_box(d)).unwrap();
                n += v.as_object().map_or(0, |o| o.len());
            }
            n
        });
    });
    g.bench_function("serde_ignored/mixed", |b| {
        b.iter(|| {
            for d in &docs {
                let _: serde::de::IgnoredAny = serde_json::from_slice(black_box(d)).unwrap();
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
