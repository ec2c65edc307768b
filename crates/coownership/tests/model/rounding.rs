//! Property and table tests for the equal split and the apportionment.

use coownership::apportion::{apportion, ApportionError};
use coownership::split::{equal_split, SplitError, SplitPolicy};
use coownership::{Document, OwnerId, Ownership, Rules};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

fn ids(n: usize) -> Vec<OwnerId> {
    (1..=n as i64).map(|i| OwnerId::new(i).unwrap()).collect()
}

/// Each owner's share in basis points, in the order the owners were given.
fn shares_in_order(o: &Ownership, owners: &[OwnerId]) -> Vec<i64> {
    match o {
        Ownership::Individual(_) => vec![10_000],
        Ownership::TenantsInCommon(t) => owners
            .iter()
            .map(|&id| i64::from(t.share_of(id).unwrap().basis_points()))
            .collect(),
        Ownership::JointOwnership(_) => panic!("a split never gives joint ownership"),
    }
}

/// The seed's Phase 3 formula, written independently of the crate: hundredths
/// of `ROUND(100.0 / n, 2)` for all but the last, the remainder for the last.
fn seed_reference(n: usize) -> Vec<Decimal> {
    let r = (Decimal::from(100) / Decimal::from(n))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let mut v = vec![r; n];
    v[n - 1] = Decimal::new(10000, 2) - r * Decimal::from(n - 1);
    v
}

fn bp(d: Decimal) -> i64 {
    let scaled = d * Decimal::from(100);
    assert_eq!(scaled.fract(), Decimal::ZERO);
    i64::try_from(scaled.trunc()).unwrap()
}

fn shuffled_ids(n: usize, seed: u64) -> Vec<OwnerId> {
    let mut v: Vec<OwnerId> = (0..n as i64)
        .map(|i| OwnerId::new(1_000_000 - i * 7).unwrap())
        .collect();
    let mut s = seed | 1;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn balanced_totals_100_with_spread_at_most_one_point(n in 1usize..=10_000, seed in any::<u64>()) {
        let owners = shuffled_ids(n, seed);
        let o = equal_split(&owners, SplitPolicy::Balanced).unwrap();
        let shares = shares_in_order(&o, &owners);
        prop_assert_eq!(shares.iter().sum::<i64>(), 10_000);
        let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
        prop_assert!(max - min <= 1);
        // Only the order matters: the same count of other ids gets the same shares by position.
        let plain = equal_split(&ids(n), SplitPolicy::Balanced).unwrap();
        prop_assert_eq!(shares_in_order(&plain, &ids(n)), shares.clone());
        // The extra points go to the last owners.
        prop_assert!(shares.windows(2).all(|w| w[0] <= w[1]));
        // And strict validation accepts the written document.
        let doc = Document::parse(&o.to_json()).unwrap();
        prop_assert_eq!(doc.to_ownership().unwrap(), o);
    }

    #[test]
    fn seed_policy_matches_the_reference_and_fails_exactly_where_it_breaks(n in 2usize..=10_000) {
        let reference = seed_reference(n);
        let breaks = reference.iter().any(|&s| s <= Decimal::ZERO);
        match equal_split(&ids(n), SplitPolicy::Seed) {
            Ok(o) => {
                prop_assert!(!breaks, "n = {} should fail", n);
                let want: Vec<i64> = reference.iter().map(|&d| bp(d)).collect();
                prop_assert_eq!(shares_in_order(&o, &ids(n)), want);
                prop_assert!(Document::parse(&o.to_json()).unwrap().validate(Rules::Strict).is_ok());
            }
            Err(SplitError::SeedShareNotPositive { owners, share }) => {
                prop_assert!(breaks, "n = {} should succeed", n);
                prop_assert_eq!(owners, n);
                prop_assert!(share <= Decimal::ZERO);
                prop_assert!(reference.contains(&share));
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }

    #[test]
    fn apportionment_is_exact_and_within_one_minor_unit(
        o in ownership_strategy(),
        units in -10_000_000_000i64..10_000_000_000,
        decimals in 0u32..5,
    ) {
        let amount = Decimal::new(units, decimals);
        let parts = apportion(amount, &o, decimals).unwrap();
        prop_assert_eq!(parts.len(), o.len());
        prop_assert_eq!(parts.iter().map(|&(_, a)| a).sum::<Decimal>(), amount);
        let unit = Decimal::new(1, decimals);
        for ((owner, part), (owner2, share)) in parts.iter().zip(o.economic_shares()) {
            prop_assert_eq!(*owner, owner2);
            prop_assert_eq!(part.scale(), decimals);
            let exact = amount * share / Decimal::from(100);
            prop_assert!((*part - exact).abs() < unit, "{} vs exact {}", part, exact);
        }
        let negated = apportion(-amount, &o, decimals).unwrap();
        let flipped: Vec<_> = parts.iter().map(|&(id, a)| (id, -a)).collect();
        prop_assert_eq!(negated, flipped);
        let zeros = apportion(Decimal::ZERO, &o, decimals).unwrap();
        prop_assert!(zeros.iter().all(|&(_, a)| a.is_zero()));
    }
}

fn ownership_strategy() -> impl Strategy<Value = Ownership> {
    prop_oneof![
        (1usize..50, any::<u64>()).prop_map(|(n, seed)| equal_split(
            &shuffled_ids(n, seed),
            SplitPolicy::Balanced
        )
        .unwrap()),
        (prop::collection::btree_set(1u16..10_000, 1..8)).prop_map(|cuts| {
            let mut shares = Vec::new();
            let mut last = 0;
            for (i, c) in cuts.iter().copied().chain([10_000]).enumerate() {
                shares.push(format!(
                    r#""{}": {}.{:02}"#,
                    i + 1,
                    (c - last) / 100,
                    (c - last) % 100
                ));
                last = c;
            }
            Ownership::parse(&format!(
                r#"{{"association_type": "tenants_in_common", {}}}"#,
                shares.join(", ")
            ))
            .unwrap()
        }),
        (2usize..7).prop_map(|n| {
            let list: Vec<String> = (1..=n).map(|i| (i * 3).to_string()).collect();
            Ownership::parse(&format!(
                r#"{{"association_type": "joint_ownership", "joint_owners": [{}]}}"#,
                list.join(",")
            ))
            .unwrap()
        }),
    ]
}

#[test]
fn balanced_and_seed_agree_for_small_counts() {
    for n in 1..=5 {
        assert_eq!(
            equal_split(&ids(n), SplitPolicy::Balanced).unwrap(),
            equal_split(&ids(n), SplitPolicy::Seed).unwrap(),
            "n = {n}"
        );
    }
}

#[test]
fn seed_policy_table() {
    // (n, share of each owner but the last, share of the last), from the seed's formula by hand.
    let table: &[(usize, &str, &str)] = &[
        (2, "50.00", "50.00"),
        (3, "33.33", "33.34"),
        (4, "25.00", "25.00"),
        (5, "20.00", "20.00"),
        (6, "16.67", "16.65"),
        (7, "14.29", "14.26"),
        (8, "12.50", "12.50"),
        (9, "11.11", "11.12"),
        (10, "10.00", "10.00"),
        (11, "9.09", "9.10"),
        (12, "8.33", "8.37"),
        (100, "1.00", "1.00"),
        (150, "0.67", "0.17"),
        (1000, "0.10", "0.10"),
        (3000, "0.03", "10.03"),
        (250, "0.40", "0.40"),
        (10_000, "0.01", "0.01"),
    ];
    for &(n, each, last) in table {
        let o = equal_split(&ids(n), SplitPolicy::Seed).unwrap();
        let shares = shares_in_order(&o, &ids(n));
        let each: Decimal = each.parse().unwrap();
        let last: Decimal = last.parse().unwrap();
        assert!(shares[..n - 1].iter().all(|&s| s == bp(each)), "n = {n}");
        assert_eq!(shares[n - 1], bp(last), "n = {n}");
    }
    for (n, share) in [(155, "-0.10"), (201, "0.00"), (202, "-0.50")] {
        let err = equal_split(&ids(n), SplitPolicy::Seed).unwrap_err();
        assert_eq!(
            err,
            SplitError::SeedShareNotPositive {
                owners: n,
                share: share.parse().unwrap()
            },
            "n = {n}"
        );
        assert!(err.to_string().contains(&n.to_string()));
    }
}

#[test]
fn seed_policy_breaks_for_3725_counts_first_at_155() {
    let broken: Vec<usize> = (2..=10_000)
        .filter(|&n| seed_reference(n).iter().any(|&s| s <= Decimal::ZERO))
        .collect();
    // docs/design.md §4: 3,725 of the counts from 2 to 10,000, the first being 155.
    assert_eq!(broken.len(), 3725);
    assert_eq!(broken[0], 155);
    for n in [155, 201, broken[broken.len() - 1]] {
        assert!(matches!(
            equal_split(&ids(n), SplitPolicy::Seed),
            Err(SplitError::SeedShareNotPositive { .. })
        ));
    }
}

#[test]
fn split_errors_are_typed() {
    assert_eq!(
        equal_split(&[], SplitPolicy::Balanced),
        Err(SplitError::NoOwners)
    );
    let a = OwnerId::new(4).unwrap();
    let b = OwnerId::new(5).unwrap();
    assert_eq!(
        equal_split(&[a, b, a], SplitPolicy::Balanced),
        Err(SplitError::DuplicateOwner(a))
    );
    assert_eq!(
        equal_split(&ids(10_001), SplitPolicy::Seed),
        Err(SplitError::TooManyOwners(10_001))
    );
    assert_eq!(
        equal_split(&[a], SplitPolicy::Seed),
        Ok(Ownership::individual(a))
    );
    let all = equal_split(&ids(10_000), SplitPolicy::Balanced).unwrap();
    assert_eq!(all.len(), 10_000);
}

#[test]
fn apportion_examples_and_errors() {
    let tic = Ownership::parse(
        r#"{"association_type":"tenants_in_common","1":33.33,"2":33.33,"3":33.34}"#,
    )
    .unwrap();
    let amounts = |a: &str, d: u32| -> Vec<String> {
        apportion(a.parse().unwrap(), &tic, d)
            .unwrap()
            .iter()
            .map(|(_, x)| x.to_string())
            .collect()
    };
    assert_eq!(amounts("0.05", 2), ["0.02", "0.01", "0.02"]);
    assert_eq!(amounts("-0.05", 2), ["-0.02", "-0.01", "-0.02"]);
    assert_eq!(amounts("1", 0), ["0", "0", "1"]);
    assert_eq!(amounts("100", 2), ["33.33", "33.33", "33.34"]);
    // Ties go to the earlier owner.
    let joint =
        Ownership::parse(r#"{"association_type":"joint_ownership","joint_owners":[9,4,7]}"#)
            .unwrap();
    let parts = apportion(Decimal::from(100), &joint, 0).unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|(o, a)| (o.get(), a.to_string()))
            .collect::<Vec<_>>(),
        [
            (9, "34".to_string()),
            (4, "33".to_string()),
            (7, "33".to_string())
        ]
    );
    let one = Ownership::individual(OwnerId::new(1).unwrap());
    assert_eq!(
        apportion("12.34".parse().unwrap(), &one, 2).unwrap()[0]
            .1
            .to_string(),
        "12.34"
    );
    assert_eq!(
        apportion("12.3".parse().unwrap(), &one, 2).unwrap()[0]
            .1
            .to_string(),
        "12.30"
    );
    assert!(matches!(
        apportion("1.001".parse().unwrap(), &tic, 2),
        Err(ApportionError::TooPrecise { decimals: 2, .. })
    ));
    // Trailing zeros are not extra precision.
    assert!(apportion("1.000".parse().unwrap(), &tic, 2).is_ok());
    assert_eq!(
        apportion(Decimal::ONE, &tic, 29),
        Err(ApportionError::DecimalsOutOfRange(29))
    );
    assert!(matches!(
        apportion(Decimal::MAX, &tic, 28),
        Err(ApportionError::Overflow(_))
    ));
    // Found by fuzzing: at 16 decimals this amount needs more than 96 bits,
    // so its parts could not be added back exactly; refuse it.
    assert!(matches!(
        apportion(Decimal::from(17_046_658_088_959i64), &tic, 16),
        Err(ApportionError::Overflow(_))
    ));
    assert!(apportion(Decimal::from(7_046_658_088_959i64), &tic, 15).is_ok());
    let big = apportion(Decimal::MAX, &tic, 0).unwrap();
    assert_eq!(big.iter().map(|&(_, a)| a).sum::<Decimal>(), Decimal::MAX);
}

/// Amounts are parsed with the crate's own number rules: exact, and nothing a
/// JSON document could not hold.
#[test]
fn amounts_parse_exactly_or_not_at_all() {
    use coownership::apportion::{parse_amount, AmountError};
    for (text, want) in [
        ("1000.00", "1000.00"),
        ("-250", "-250"),
        ("0", "0"),
        ("-0.00", "0.00"),
        ("1e3", "1000"),
        ("-2.5e2", "-250"),
        ("2.50E+1", "25.0"),
        ("12345e-4", "1.2345"),
        ("1.000e-27", "0.000000000000000000000000001"),
        (
            "79228162514264337593543950335",
            "79228162514264337593543950335",
        ),
        (
            "0.0000000000000000000000000001",
            "0.0000000000000000000000000001",
        ),
    ] {
        assert_eq!(
            parse_amount(text).map(|d| d.to_string()),
            Ok(want.to_owned()),
            "{text}"
        );
    }
    for bad in [
        "1_0.0_1", "+5", " 5", "5 ", "", "-", "1.", ".5", "0x10", "1,000.00", "١٢", "NaNa", "in",
    ] {
        assert_eq!(
            parse_amount(bad),
            Err(AmountError::NotANumber(bad.to_owned())),
            "{bad:?}"
        );
    }
    // NaN and the infinities have an error of their own, naming the value,
    // in every spelling PostgreSQL and Python's Decimal use.
    for bad in [
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "+inf",
        "INF",
        "-infinity",
    ] {
        let err = parse_amount(bad).unwrap_err();
        assert_eq!(err, AmountError::NotFinite(bad.to_owned()), "{bad:?}");
        assert_eq!(err.code(), "amount_not_finite");
        assert!(err.to_string().contains(bad), "{err}");
    }
    for big in [
        "79228162514264337593543950336",
        "0.00000000000000000000000000001",
        "1e29",
        "1e-29",
        "1e999999999999",
        "5e-99999999999999999999",
    ] {
        assert!(
            matches!(parse_amount(big), Err(AmountError::OutOfRange(_))),
            "{big}"
        );
    }
}
