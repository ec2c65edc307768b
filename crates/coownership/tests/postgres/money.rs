//! Money by owner in SQL (`ownership_owner_ids`, `ownership_share`,
//! `ownership_apportion`) against the Rust `apportion`, on a throwaway
//! PostgreSQL.

use coownership_testkit as common;

use coownership::apportion::apportion;
use coownership::{JointOwnership, OwnerId, Ownership, Share, TenantsInCommon};
use rust_decimal::Decimal;

/// A small deterministic generator (xorshift64*), so that a failure names a
/// case that the next run produces again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn owner(id: u64) -> OwnerId {
    OwnerId::new(id as i64).unwrap()
}

/// Distinct owner ids, some small and some near i64::MAX.
fn owners(rng: &mut Rng, n: usize) -> Vec<OwnerId> {
    let mut ids: Vec<u64> = Vec::with_capacity(n);
    while ids.len() < n {
        let id = match rng.below(4) {
            0 => 1 + rng.below(20),
            1 => 1 + rng.below(1_000_000),
            2 => i64::MAX as u64 - rng.below(1000),
            _ => 1 + rng.below(i64::MAX as u64),
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.into_iter().map(owner).collect()
}

fn ownership(rng: &mut Rng) -> Ownership {
    let n = match rng.below(20) {
        0 => 65 + rng.below(140) as usize, // past the SQL's small-n loop
        1..=3 => 6 + rng.below(10) as usize,
        _ => 2 + rng.below(4) as usize,
    };
    match rng.below(6) {
        0 => Ownership::Individual(owners(rng, 1)[0]),
        1 => Ownership::JointOwnership(JointOwnership::new(owners(rng, n)).unwrap()),
        _ => {
            let ids = owners(rng, n);
            // Equal splits (many ties), or random cuts of 10,000 basis points.
            let shares: Vec<u16> = if rng.below(2) == 0 {
                let q = (10_000 / n) as u16;
                let extra = 10_000 % n;
                (0..n).map(|i| q + u16::from(i >= n - extra)).collect()
            } else {
                let mut cuts: Vec<u16> = (0..n - 1).map(|_| 1 + rng.below(9_999) as u16).collect();
                cuts.sort_unstable();
                cuts.dedup();
                if cuts.len() < n - 1 {
                    let q = (10_000 / n) as u16;
                    let extra = 10_000 % n;
                    return Ownership::TenantsInCommon(
                        TenantsInCommon::new(ids.iter().enumerate().map(|(i, &o)| {
                            (
                                o,
                                Share::from_basis_points(q + u16::from(i >= n - extra)).unwrap(),
                            )
                        }))
                        .unwrap(),
                    );
                }
                let mut prev = 0;
                let mut out: Vec<u16> = cuts
                    .iter()
                    .map(|&c| {
                        let s = c - prev;
                        prev = c;
                        s
                    })
                    .collect();
                out.push(10_000 - prev);
                out
            };
            Ownership::TenantsInCommon(
                TenantsInCommon::new(
                    ids.iter()
                        .zip(shares)
                        .map(|(&o, s)| (o, Share::from_basis_points(s).unwrap())),
                )
                .unwrap(),
            )
        }
    }
}

/// Amounts of every kind: zero, pennies, typical valuations, liabilities,
/// the 96-bit edge, and now and then one too precise or too large.
fn amount(rng: &mut Rng, decimals: u32) -> Decimal {
    let max = (1u128 << 96) - 1;
    let (mantissa, scale): (u128, u32) = match rng.below(10) {
        0 => (0, rng.below(4) as u32),
        1 => (rng.below(200) as u128, decimals),
        2 | 3 => (rng.below(1_000_000_000) as u128, decimals.min(2)),
        4 => (max - rng.below(1000) as u128, decimals.min(28)),
        5 => (
            u128::from(rng.next()) * u128::from(rng.next() >> 32) % max,
            decimals,
        ),
        6 => (rng.below(100_000) as u128, (decimals + 1).min(28)), // often too precise
        7 => (
            rng.below(1_000_000) as u128 * 1000,
            decimals.saturating_sub(1),
        ),
        _ => (rng.below(10_000_000_000) as u128, rng.below(29) as u32),
    };
    let mut d = Decimal::from_i128_with_scale(mantissa as i128, scale.min(28));
    if rng.below(3) == 0 {
        d.set_sign_negative(true);
    }
    d
}

/// Rust's answer in the form the SQL probe gives.
fn rust_answer(o: &Ownership, amount: Decimal, decimals: u32) -> String {
    match apportion(amount, o, decimals) {
        Ok(parts) => parts
            .iter()
            .map(|(id, a)| format!("{}:{a}", id.get()))
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("ERR {}", e.code()),
    }
}

fn cases_per_run() -> usize {
    std::env::var("COOWNERSHIP_DIFFERENTIAL_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000)
}

#[test]
fn sql_apportion_is_the_rust_apportion() {
    let Some(mut db) = common::database("money_differential") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    // Each case in its own subtransaction, so an error is an answer too.
    db.batch_execute(
        "CREATE FUNCTION probe(d jsonb, a numeric, places integer) RETURNS text LANGUAGE plpgsql AS $$
         BEGIN
             RETURN (SELECT coalesce(string_agg(p.owner_id || ':' || p.amount, ',' ORDER BY p.n), '')
                     FROM ownership_apportion(d, a, places) WITH ORDINALITY AS p(owner_id, amount, n));
         EXCEPTION WHEN others THEN
             RETURN 'ERR ' || split_part(SQLERRM, ':', 1) || ' ' || SQLSTATE;
         END $$",
    )
    .unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let n = cases_per_run();
    let (mut disagreements, mut errors, mut zero, mut negative, mut big) = (Vec::new(), 0, 0, 0, 0);
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(2_000);
        let mut docs = Vec::with_capacity(batch);
        let mut amounts = Vec::with_capacity(batch);
        let mut decimals = Vec::with_capacity(batch);
        let mut owned = Vec::with_capacity(batch);
        for _ in 0..batch {
            let o = ownership(&mut rng);
            let dec = match rng.below(30) {
                0 => 29 + rng.below(3) as u32, // out of range
                1..=3 => rng.below(29) as u32,
                4..=6 => 0,
                _ => 2,
            };
            let a = amount(&mut rng, dec);
            docs.push(o.to_json());
            amounts.push(a);
            decimals.push(dec as i32);
            owned.push(o);
        }
        let rows = db
            .query(
                "SELECT probe(d::jsonb, a, places) FROM unnest($1::text[], $2::numeric[], $3::int[]) \
                 WITH ORDINALITY AS u(d, a, places, i) ORDER BY i",
                &[&docs, &amounts, &decimals],
            )
            .unwrap();
        for (i, row) in rows.iter().enumerate() {
            let sql: String = row.get(0);
            let rust = rust_answer(&owned[i], amounts[i], decimals[i] as u32);
            // The SQL error carries its SQLSTATE too: 22003 for too large,
            // 22023 for the rest.
            let expected_sql = match rust.strip_prefix("ERR ") {
                Some("amount_too_large") => "ERR amount_too_large 22003".to_owned(),
                Some(code) => format!("ERR {code} 22023"),
                None => rust.clone(),
            };
            if sql != expected_sql {
                disagreements.push(format!(
                    "{} amount {} decimals {}\n    rust: {expected_sql}\n    sql:  {sql}",
                    docs[i], amounts[i], decimals[i]
                ));
            }
            errors += usize::from(rust.starts_with("ERR"));
            zero += usize::from(amounts[i].is_zero());
            negative += usize::from(amounts[i].is_sign_negative() && !amounts[i].is_zero());
            big += usize::from(owned[i].len() > 64);
        }
        done += batch;
    }
    assert!(
        disagreements.is_empty(),
        "{} of {n} cases disagree; the first:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(5)].join("\n")
    );
    // The generator reaches every kind of case.
    assert!(errors > n / 50 && errors < n / 2, "{errors} errors in {n}");
    assert!(zero > n / 50, "{zero} zero amounts");
    assert!(negative > n / 10, "{negative} negative amounts");
    assert!(big > n / 100, "{big} ownerships of more than 64 owners");
    eprintln!(
        "{n} cases agree: {errors} errors, {zero} zero and {negative} negative amounts, {big} with more than 64 owners"
    );
}

#[test]
fn owner_ids_share_and_apportion_on_each_shape() {
    let Some(mut db) = common::database("money_shapes") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    let one = |db: &mut postgres::Client, sql: &str| -> String {
        db.query_one(&format!("SELECT ({sql})::text"), &[])
            .unwrap()
            .get::<_, Option<String>>(0)
            .unwrap_or_else(|| "NULL".into())
    };
    let tic = r#"'{"association_type":"tenants_in_common","100":33.34,"9":33.33,"10":33.33,"note":"x"}'::jsonb"#;
    let joint = r#"'{"association_type":"joint_ownership","joint_owners":[9,3,5]}'::jsonb"#;
    let individual = r#"'{"association_type":"individual","7":100.00}'::jsonb"#;
    assert_eq!(
        one(&mut db, &format!("ownership_owner_ids({tic})")),
        "{9,10,100}"
    );
    assert_eq!(
        one(&mut db, &format!("ownership_owner_ids({joint})")),
        "{9,3,5}"
    );
    assert_eq!(
        one(&mut db, &format!("ownership_owner_ids({individual})")),
        "{7}"
    );
    assert_eq!(one(&mut db, "ownership_owner_ids(NULL)"), "NULL");
    // A legacy document: the ids it names, no error.
    assert_eq!(
        one(
            &mut db,
            r#"ownership_owner_ids('{"association_type":"tenants_in_common","007":50,"8":"x","joint_owners":[1]}')"#
        ),
        "{8}"
    );
    assert_eq!(
        one(&mut db, &format!("ownership_share({tic}, 100)")),
        "33.34"
    );
    assert_eq!(one(&mut db, &format!("ownership_share({tic}, 11)")), "NULL");
    assert_eq!(
        one(&mut db, &format!("ownership_share({individual}, 7)")),
        "100.00"
    );
    assert_eq!(
        one(&mut db, &format!("ownership_share({joint}, 3)")),
        "33.3333333333333333"
    );
    assert_eq!(
        one(&mut db, &format!("ownership_share({joint}, 4)")),
        "NULL"
    );
    // The examples in docs/sql.md.
    let parts = |db: &mut postgres::Client, sql: &str| -> Vec<(i64, String)> {
        db.query(&format!("SELECT owner_id, amount::text FROM {sql}"), &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    assert_eq!(
        parts(&mut db, &format!("ownership_apportion({tic}, 1000.00)")),
        [
            (9, "333.30".into()),
            (10, "333.30".into()),
            (100, "333.40".into())
        ]
    );
    assert_eq!(
        parts(&mut db, &format!("ownership_apportion({joint}, -0.10)")),
        [
            (9, "-0.04".into()),
            (3, "-0.03".into()),
            (5, "-0.03".into())
        ]
    );
    assert_eq!(
        parts(
            &mut db,
            &format!("ownership_apportion(doc => {individual}, amount => 12, decimals => 0)")
        ),
        [(7, "12".into())]
    );
    assert!(parts(&mut db, "ownership_apportion(NULL, 1.00)").is_empty());
    for (sql, state, message) in [
        (
            format!("ownership_apportion({tic}, 1.001)"),
            "22023",
            "amount_too_precise: amount 1.001 has more than 2 decimal places",
        ),
        (
            format!("ownership_apportion({tic}, 1, 29)"),
            "22023",
            "decimals_out_of_range",
        ),
        (
            r#"ownership_apportion('{"association_type":"tenants_in_common","1":50,"2":60}', 1)"#
                .into(),
            "22023",
            "invalid_ownership: the document breaks the strict rules: total_not_100",
        ),
        (
            format!("ownership_apportion({tic}, 1e30)"),
            "22003",
            "amount_too_large",
        ),
        (
            format!("ownership_apportion({tic}, 'NaN')"),
            "22023",
            "amount_not_finite: amount NaN is not a finite number",
        ),
    ]
    .into_iter()
    // PostgreSQL 14 gave numeric its infinities.
    .chain(
        (common::server_major(&mut db) >= 14)
            .then_some(())
            .into_iter()
            .flat_map(|()| {
                ["Infinity", "-Infinity"].map(|v| {
                    (
                        format!("ownership_apportion({tic}, '{v}')"),
                        "22023",
                        if v == "Infinity" {
                            "amount_not_finite: amount Infinity is not a finite number"
                        } else {
                            "amount_not_finite: amount -Infinity is not a finite number"
                        },
                    )
                })
            }),
    ) {
        let e = db.query(&format!("SELECT * FROM {sql}"), &[]).unwrap_err();
        let db_error = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e}"));
        assert_eq!(db_error.code().code(), state, "{sql}");
        assert!(
            db_error.message().starts_with(message),
            "{sql}: {}",
            db_error.message()
        );
    }
}

/// The SQL's limits are the Rust `Limits::DEFAULT`.
#[test]
fn the_sql_limits_are_the_rust_limits() {
    let Some(mut db) = common::database("money_limits") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    let row = db
        .query_one(
            "SELECT max_bytes, max_depth, max_owners FROM ownership_limits()",
            &[],
        )
        .unwrap();
    let l = coownership::Limits::DEFAULT;
    let (bytes, depth, owners): (i32, i32, i32) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (bytes as usize, depth as usize, owners as usize),
        (l.max_bytes, l.max_depth, l.max_owners)
    );
}

/// `ownership_apportion` refuses exactly the documents the strict rules
/// refuse (its fast path for tenants in common makes the strict check on its
/// own), and splits the others as Rust does; over the generated documents,
/// near misses included.
#[test]
fn sql_apportion_refuses_exactly_what_the_strict_rules_refuse() {
    let Some(mut db) = common::database("money_refusals") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    db.batch_execute(
        "CREATE FUNCTION probe(d jsonb) RETURNS text LANGUAGE plpgsql AS $$
         BEGIN
             RETURN (SELECT coalesce(string_agg(p.owner_id || ':' || p.amount, ',' ORDER BY p.n), '')
                     FROM ownership_apportion(d, 1234567.89) WITH ORDINALITY AS p(owner_id, amount, n));
         EXCEPTION WHEN others THEN
             RETURN 'ERR ' || split_part(SQLERRM, ':', 1);
         END $$",
    )
    .unwrap();
    let docs = common::documents::generated_documents(6_000);
    let amount = Decimal::new(123_456_789, 2);
    let mut wrong = Vec::new();
    let mut refused = 0;
    for chunk in docs.chunks(2_000) {
        let rows = db
            .query(
                "SELECT probe(d) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(d, i) ORDER BY i",
                &[&chunk],
            )
            .unwrap();
        for (doc, row) in chunk.iter().zip(rows) {
            if doc.has_duplicate_keys() {
                continue; // jsonb kept the last of each; Rust refuses the text
            }
            let sql: String = row.get(0);
            let rust = match doc.to_ownership() {
                Ok(o) => rust_answer(&o, amount, 2),
                Err(_) => "ERR invalid_ownership".to_owned(),
            };
            refused += usize::from(sql.starts_with("ERR"));
            if sql != rust {
                wrong.push(format!("{doc}\n    rust: {rust}\n    sql:  {sql}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
    assert!(
        refused > docs.len() / 10 && refused < docs.len() * 9 / 10,
        "{refused}"
    );
}
