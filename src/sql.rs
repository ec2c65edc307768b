//! The shipped SQL, available without any database dependency (the CLI's
//! `coownership sql` prints it; with the `postgres` feature, `pg::install` runs it).

/// The shipped functions, all `IMMUTABLE`, plain SQL and PL/pgSQL
/// (PostgreSQL 13 and later), idempotent (`CREATE OR REPLACE`):
///
/// - `ownership_sql_version() RETURNS integer`: [`VERSION`];
/// - `ownership_strict_violations(jsonb) RETURNS text[]` and
///   `ownership_is_valid_strict(jsonb) RETURNS boolean`: the strict rules,
///   with the same codes as [`ViolationCode`](crate::ViolationCode);
/// - `ownership_is_valid_seed(jsonb) RETURNS boolean`: the seed's legacy
///   CHECK (with `ownership_seed_percentages`, the seed's own function under
///   our name), FALSE where the seed's CHECK raises an error;
/// - `ownership_owner_ids(jsonb) RETURNS bigint[]`, `ownership_share(jsonb,
///   bigint) RETURNS numeric` and `ownership_apportion(doc jsonb, amount
///   numeric, decimals integer DEFAULT 2) RETURNS TABLE(owner_id bigint,
///   amount numeric)`: money by owner, `ownership_apportion` giving exactly
///   what [`apportion`](crate::apportion::apportion) gives.
///
/// SQL does not make three of the strict checks: duplicate keys (`jsonb` has
/// kept only the last), and the limits on the text's size and nesting
/// (`document_too_large`, `document_too_deep`); it recognises
/// `malformed_owner_key` in its ASCII forms only.
pub const STRICT_FUNCTIONS: &str = include_str!("../sql/ownership.sql");

/// The revision of [`STRICT_FUNCTIONS`], which `ownership_sql_version()`
/// returns once they are installed (revision 1 had no such function).
pub const VERSION: i32 = 3;

/// The name of the one CHECK constraint `coownership constrain` keeps on the
/// products table.
pub const CONSTRAINT_NAME: &str = "ownership_details_valid";

/// The `ALTER TABLE` that puts the strict rule on `client_products.ownership_details`
/// (what `coownership constrain` does, without its checks and its lock care).
pub const CHECK_CONSTRAINT: &str = "ALTER TABLE client_products \
ADD CONSTRAINT ownership_details_valid CHECK (ownership_is_valid_strict(ownership_details));";
