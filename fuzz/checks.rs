// Properties the fuzz targets assert, one function per target. Shared by the
// cargo-fuzz targets (`include!`d) and by `tests/fuzz_corpus.rs`.

#[allow(unused_imports)]
use coownership::apportion::apportion;
#[allow(unused_imports)]
use coownership::split::{equal_split, SplitError, SplitPolicy};
#[allow(unused_imports)]
use coownership::{Document, JointOwnership, OwnerId, Ownership, Rules, Share, TenantsInCommon};
#[allow(unused_imports)]
use rust_decimal::Decimal;

/// Arbitrary bytes through the parser and both rule sets: never a panic;
/// whatever strict accepts is seed-valid, and written canonically and parsed
/// again it is the same ownership.
#[allow(dead_code)]
pub fn check_parse_validate(data: &[u8]) {
    let Ok(doc) = Document::from_slice(data) else {
        return;
    };
    // The size as PostgreSQL stores it (compared with the server's in
    // tests/pg.rs): computed for any document, at least `{}`.
    let stored = doc.stored_len();
    assert!(stored >= 2, "{doc:?}: stored_len {stored}");
    let strict = doc.validate(Rules::Strict);
    let seed = doc.validate(Rules::Seed);
    if strict.is_err() {
        return;
    }
    assert!(seed.is_ok(), "strict accepts but seed rejects {doc:?}: {seed:?}");
    let o = doc.to_ownership().expect("strict accepted it");
    let again = Ownership::parse(&o.to_json()).expect("the canonical form parses");
    assert_eq!(again, o);
    let canonical = doc.to_canonical().expect("strict accepted it");
    let reparsed = Document::parse(&canonical).expect("the canonical document parses");
    assert_eq!(reparsed.to_ownership().expect("still valid"), o);
    assert_eq!(reparsed.to_canonical().expect("still valid"), canonical);
    assert_eq!(reparsed.metadata().count(), doc.metadata().count());
}

/// Owners and a policy from bytes: byte 0 picks the policy and the shape;
/// the rest are owner ids (3 bytes each, so duplicates and zero happen) or a
/// count for `1..=n`. Never a panic; every `Ok` totals exactly 100.00 and is
/// strictly valid; every `Err` has its stated cause.
#[allow(dead_code)]
pub fn check_split(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let policy = if head & 1 == 0 { SplitPolicy::Balanced } else { SplitPolicy::Seed };
    let owners: Vec<i64> = if head & 2 == 0 {
        rest.chunks(3)
            .map(|c| c.iter().fold(0i64, |v, &b| v << 8 | i64::from(b)))
            .collect()
    } else {
        let n = rest.iter().take(2).fold(0usize, |v, &b| v << 8 | usize::from(b));
        (1..=n as i64).collect()
    };
    let ids: Vec<OwnerId> = owners.iter().filter_map(|&i| OwnerId::new(i).ok()).collect();
    match equal_split(&ids, policy) {
        Ok(o) => {
            assert_eq!(o.len(), ids.len());
            let total: u32 = match &o {
                Ownership::Individual(_) => 10_000,
                Ownership::TenantsInCommon(t) => t.shares().iter().map(|(_, s)| u32::from(s.basis_points())).sum(),
                Ownership::JointOwnership(_) => panic!("a split is never joint"),
            };
            assert_eq!(total, 10_000);
            let doc = Document::parse(&o.to_json()).expect("canonical");
            assert_eq!(doc.to_ownership().expect("strictly valid"), o);
        }
        Err(SplitError::NoOwners) => assert!(ids.is_empty()),
        Err(SplitError::TooManyOwners(n)) => assert!(n > 10_000 && n == ids.len()),
        Err(SplitError::DuplicateOwner(d)) => assert!(ids.iter().filter(|&&i| i == d).count() > 1),
        Err(SplitError::SeedShareNotPositive { owners, share }) => {
            assert_eq!(policy, SplitPolicy::Seed);
            assert_eq!(owners, ids.len());
            assert!(share <= Decimal::ZERO);
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// An ownership, an amount and a number of decimals from bytes. Never a
/// panic; every `Ok` sums exactly to the amount, one part per owner, each
/// within one minor unit of the exact pro-rata value.
#[allow(dead_code)]
pub fn check_apportion(data: &[u8]) {
    if data.len() < 19 {
        return;
    }
    let kind = data[0] % 3;
    let decimals = u32::from(data[1] % 32);
    let mut mantissa_bytes = [0u8; 16];
    mantissa_bytes.copy_from_slice(&data[2..18]);
    // Decimal holds 96 bits; keep the sign bit and the low 96.
    let raw = i128::from_le_bytes(mantissa_bytes);
    let mantissa = raw % (1i128 << 96);
    let scale = u32::from(data[18] % 29);
    let Ok(amount) = Decimal::try_from_i128_with_scale(mantissa, scale) else {
        return;
    };
    let rest = &data[19..];
    let ids: Vec<OwnerId> = rest
        .chunks(2)
        .map(|c| OwnerId::new(1 + c.iter().fold(0i64, |v, &b| v << 8 | i64::from(b))).unwrap())
        .collect();
    let ownership = match kind {
        0 => Ownership::individual(ids.first().copied().unwrap_or(OwnerId::new(1).unwrap())),
        1 => {
            let mut distinct = ids.clone();
            distinct.sort();
            distinct.dedup();
            match equal_split(&distinct, SplitPolicy::Balanced) {
                Ok(o) => o,
                Err(_) => return,
            }
        }
        _ => {
            let mut distinct = ids.clone();
            distinct.sort();
            distinct.dedup();
            match JointOwnership::new(distinct) {
                Ok(j) => j.into(),
                Err(_) => return,
            }
        }
    };
    let Ok(parts) = apportion(amount, &ownership, decimals) else {
        return;
    };
    assert_eq!(parts.len(), ownership.len());
    let sum = parts.iter().try_fold(Decimal::ZERO, |s, &(_, p)| s.checked_add(p)).expect("parts add up without overflow");
    assert_eq!(sum, amount);
    let unit = Decimal::new(1, decimals);
    for ((owner, part), (owner2, share)) in parts.iter().zip(ownership.economic_shares()) {
        assert_eq!(*owner, owner2);
        let exact = amount
            .checked_mul(share)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED));
        if let Some(exact) = exact {
            // The exact value itself is rounded to 28 digits: allow for that.
            let slack = unit + Decimal::new(1, 20).max(exact.abs() * Decimal::new(1, 24));
            assert!((*part - exact).abs() < slack, "{part} vs {exact}");
        }
    }
}

/// Arbitrary text as an amount: never a panic; an accepted amount is
/// exactly the number written (its digits read back the same value), and
/// anything accepted is a JSON number.
#[allow(dead_code)]
pub fn check_parse_amount(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(amount) = coownership::apportion::parse_amount(text) else {
        return;
    };
    assert!(
        serde_json::from_str::<serde_json::Number>(text).is_ok(),
        "{text:?} accepted but is not a JSON number"
    );
    // The value printed parses back to the same value.
    let again = coownership::apportion::parse_amount(&amount.to_string())
        .expect("a printed amount parses");
    assert_eq!(again, amount, "{text:?}");
    // The sign survives; a value is zero exactly when every digit is.
    assert!(!text.starts_with('-') || amount <= Decimal::ZERO, "{text:?}");
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    let all_zero = mantissa.chars().all(|c| matches!(c, '0' | '-' | '.'));
    assert_eq!(amount.is_zero(), all_zero, "{text:?}");
}
