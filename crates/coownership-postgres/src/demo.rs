//! The seed's legacy tables and synthetic data, for the demo, the tests and
//! the benchmarks.

use postgres::GenericClient;

/// The legacy tables as the portal has them before the migration: products,
/// and the link table the migration reads. No foreign key from the links to
/// the products (legacy data has orphans), and no `ownership_details` yet.
pub const LEGACY_SCHEMA: &str = "
CREATE TABLE client_products (
    id           bigint PRIMARY KEY,
    product_name text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE product_owner_products (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id       bigint NOT NULL,
    product_owner_id bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_owner_products_product_id ON product_owner_products (product_id);
";

/// An md5 over every row of `table` (its text form, in `id` order): equal
/// checksums mean byte-identical contents. `table` is quoted here.
pub fn checksum(client: &mut impl GenericClient, table: &str) -> Result<String, postgres::Error> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    client
        .query_one(
            &format!("SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM {quoted} t"),
            &[],
        )
        .map(|r| r.get(0))
}

/// Shapes of synthetic data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synthetic {
    /// Products to create (ids `1..=products`).
    pub products: u64,
    /// Add the anomalies real data has: repeated owner rows, orphan links
    /// (products that do not exist) and a few very large owner groups.
    pub anomalies: bool,
}

/// Creates the legacy tables and fills them, server-side, with `shape.products`
/// products and a realistic owner-count mix: 5 % none, 55 % one owner, 25 %
/// two, 10 % three, 4 % four to six, 1 % seven to eleven; created_at strictly
/// increasing within a product. With anomalies: a repeated owner row in about
/// one product in 500, 1 orphan link row per 1,000 products, and one product
/// in 20,000 with 150 to 400 owners.
pub fn load(client: &mut impl GenericClient, shape: Synthetic) -> Result<(), postgres::Error> {
    client.batch_execute(LEGACY_SCHEMA)?;
    let n = shape.products as i64;
    client.execute(
        "INSERT INTO client_products (id, product_name, updated_at)
         SELECT i, 'Product ' || i, timestamptz '2024-01-01' FROM generate_series(1, $1::bigint) AS i",
        &[&n],
    )?;
    let big = if shape.anomalies {
        "WHEN i % 20000 = 7 THEN 150 + (i / 20000) % 251"
    } else {
        ""
    };
    client.execute(
        &format!(
            "INSERT INTO product_owner_products (product_id, product_owner_id, created_at)
             SELECT c.i, 1 + (c.i * 7919 + k * 104729) % 2000003,
                    timestamptz '2020-01-01' + c.i * interval '1 second' + k * interval '1 minute'
             FROM (SELECT i, CASE {big}
                                  WHEN h < 50 THEN 0 WHEN h < 600 THEN 1 WHEN h < 850 THEN 2
                                  WHEN h < 950 THEN 3 WHEN h < 990 THEN 4 + h % 3 ELSE 7 + h % 5 END AS n
                   FROM (SELECT i, (i * 2654435761) % 1000 AS h FROM generate_series(1, $1::bigint) AS i) s) c,
                  generate_series(1, c.n) AS k"
        ),
        &[&n],
    )?;
    if shape.anomalies {
        client.execute(
            "INSERT INTO product_owner_products (product_id, product_owner_id, created_at)
             SELECT product_id, product_owner_id, created_at + interval '1 day'
             FROM product_owner_products WHERE product_id % 500 = 3 AND id IN (
                 SELECT min(id) FROM product_owner_products GROUP BY product_id)",
            &[],
        )?;
        client.execute(
            "INSERT INTO product_owner_products (product_id, product_owner_id, created_at)
             SELECT $1::bigint + i, 424242 + i, timestamptz '2021-06-01'
             FROM generate_series(1, greatest($1::bigint / 1000, 1)) AS i",
            &[&n],
        )?;
    }
    client.batch_execute("ANALYZE client_products; ANALYZE product_owner_products")?;
    Ok(())
}
