//! The shipped SQL, available without any database dependency (the CLI's
//! `coownership sql` prints it; with the `postgres` feature, `pg::install` runs it).

/// `ownership_strict_violations(jsonb) RETURNS text[]` and
/// `ownership_is_valid_strict(jsonb) RETURNS boolean`, both `IMMUTABLE`,
/// implementing the strict rules with the same codes as
/// [`ViolationCode`](crate::ViolationCode). Idempotent (`CREATE OR REPLACE`).
///
/// SQL does not make three of the strict checks: duplicate keys (`jsonb` has
/// kept only the last), and the limits on the text's size and nesting
/// (`document_too_large`, `document_too_deep`); it recognises
/// `malformed_owner_key` in its ASCII forms only.
pub const STRICT_FUNCTIONS: &str = include_str!("../sql/ownership.sql");

/// The `ALTER TABLE` that puts the strict rule on `client_products.ownership_details`.
pub const CHECK_CONSTRAINT: &str = "ALTER TABLE client_products \
ADD CONSTRAINT ownership_details_strict CHECK (ownership_is_valid_strict(ownership_details));";
