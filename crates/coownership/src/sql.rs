//! The shipped SQL, available without any database dependency (the CLI's
//! `coownership sql` prints it; with the `postgres` feature, `pg::install`
//! runs it).
//!
//! The functions install into a schema you name, the way an extension's
//! `@extschema@` works, and every name inside them is resolved without the
//! caller's `search_path`: a restore (which runs with an empty one) and a
//! role that puts a schema of its own first on its path get the same
//! answers as anyone else. Installing needs `CREATE` on the schema; calling
//! needs `USAGE` on it (`EXECUTE` on functions is granted to `PUBLIC` by
//! default).
//!
//! ```
//! use coownership::sql;
//!
//! let script = sql::functions("portal")?;
//! assert!(script.contains("CREATE OR REPLACE FUNCTION portal.ownership_is_valid_strict("));
//! assert_eq!(
//!     sql::check_constraint("client_products", "portal")?,
//!     "ALTER TABLE client_products ADD CONSTRAINT ownership_details_valid \
//!      CHECK (portal.ownership_is_valid_strict(ownership_details));"
//! );
//! assert!(sql::functions("no such schema").is_err());
//! # Ok::<(), coownership::sql::SchemaNameError>(())
//! ```

use std::fmt;

/// The shipped functions, with `@extschema@` where the schema goes; see
/// [`functions`] for a script ready to run. All `IMMUTABLE`, plain SQL and
/// PL/pgSQL (PostgreSQL 13 and later), idempotent (`CREATE OR REPLACE`):
///
/// - `ownership_sql_version() RETURNS integer`: [`VERSION`];
/// - `ownership_limits() RETURNS TABLE(max_bytes, max_depth, max_owners)`:
///   [`Limits::DEFAULT`](crate::Limits::DEFAULT);
/// - `ownership_strict_violations(jsonb) RETURNS text[]` and
///   `ownership_is_valid_strict(jsonb) RETURNS boolean`: the strict rules,
///   with the same codes as [`ViolationCode`](crate::ViolationCode), the
///   limits included;
/// - `ownership_is_valid_seed(jsonb) RETURNS boolean`: the seed's legacy
///   CHECK (with `ownership_seed_percentages`, the seed's own function under
///   our name), FALSE where the seed's CHECK raises an error;
/// - `ownership_owner_ids(jsonb) RETURNS bigint[]`, `ownership_share(jsonb,
///   bigint) RETURNS numeric` and `ownership_apportion(doc jsonb, amount
///   numeric, decimals integer DEFAULT 2) RETURNS TABLE(owner_id bigint,
///   amount numeric)`: money by owner, `ownership_apportion` giving exactly
///   what [`apportion`](crate::apportion::apportion) gives.
///
/// SQL cannot see duplicate keys (`jsonb` has kept only the last), so it
/// never reports `duplicate_key`; every other code agrees with Rust.
pub const TEMPLATE: &str = include_str!("../sql/ownership.sql");

/// The placeholder for the schema in [`TEMPLATE`].
pub const SCHEMA_PLACEHOLDER: &str = "@extschema@";

/// The schema the functions go into unless told otherwise.
pub const DEFAULT_SCHEMA: &str = "public";

/// The revision of [`TEMPLATE`], which `ownership_sql_version()` returns
/// once the functions are installed (revision 1 had no such function).
pub const VERSION: i32 = 4;

/// Every function [`TEMPLATE`] creates, by signature (what `coownership
/// uninstall` drops).
pub const FUNCTIONS: [&str; 10] = [
    "ownership_sql_version()",
    "ownership_limits()",
    "ownership_strict_violations(jsonb)",
    "ownership_is_valid_strict(jsonb)",
    "ownership_seed_percentages(jsonb)",
    "ownership_is_valid_seed(jsonb)",
    "ownership_owner_ids(jsonb)",
    "ownership_share(jsonb, bigint)",
    "ownership_apportion_parts(jsonb, numeric, integer)",
    "ownership_apportion(jsonb, numeric, integer)",
];

/// The name of the one CHECK constraint `coownership constrain` keeps on the
/// products table.
pub const CONSTRAINT_NAME: &str = "ownership_details_valid";

/// A schema name that cannot be used: [`functions`] and [`check_constraint`]
/// take plain lower-case identifiers only (`[a-z_][a-z0-9_$]*`, at most 63
/// bytes), the names that need no quoting, so that the name means the same
/// in every statement and in the `search_path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaNameError(pub String);

impl fmt::Display for SchemaNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid schema name {:?}: expected a plain lower-case identifier such as public or portal \
             (letters a-z, digits, _ and $, not starting with a digit or $, at most 63 bytes)",
            self.0
        )
    }
}

impl std::error::Error for SchemaNameError {}

/// Checks `schema` for [`functions`] and [`check_constraint`].
pub fn check_schema(schema: &str) -> Result<&str, SchemaNameError> {
    let mut bytes = schema.bytes();
    let ok = matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'$'))
        && schema.len() <= 63;
    if ok {
        Ok(schema)
    } else {
        Err(SchemaNameError(schema.to_owned()))
    }
}

/// The shipped functions as a script that installs them into `schema`
/// (which must exist).
pub fn functions(schema: &str) -> Result<String, SchemaNameError> {
    Ok(TEMPLATE.replace(SCHEMA_PLACEHOLDER, check_schema(schema)?))
}

/// The `ALTER TABLE` that puts the strict rule on `table.ownership_details`,
/// calling the functions installed in `schema` (what `coownership constrain`
/// does, without its checks and its lock care). `table` is written as given.
pub fn check_constraint(table: &str, schema: &str) -> Result<String, SchemaNameError> {
    Ok(format!(
        "ALTER TABLE {table} ADD CONSTRAINT {CONSTRAINT_NAME} \
         CHECK ({}.ownership_is_valid_strict(ownership_details));",
        check_schema(schema)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        for ok in ["public", "portal", "_x", "a1$", &"s".repeat(63)] {
            assert_eq!(check_schema(ok), Ok(ok));
        }
        for bad in [
            "",
            "Public",
            "1a",
            "$a",
            "a b",
            "a;drop",
            "a\"b",
            "a.b",
            "é",
            &"s".repeat(64),
        ] {
            assert!(check_schema(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_template_names_every_schema_through_the_placeholder() {
        let script = functions("s1").unwrap();
        assert!(!script.contains(SCHEMA_PLACEHOLDER));
        // Every function created or commented on is in the schema.
        for line in script.lines() {
            if let Some(rest) = line
                .strip_prefix("CREATE OR REPLACE FUNCTION ")
                .or_else(|| line.strip_prefix("COMMENT ON FUNCTION "))
            {
                assert!(rest.starts_with("s1."), "{line}");
            }
        }
        // FUNCTIONS names every function the template creates, and only those.
        let created: Vec<&str> = script
            .lines()
            .filter_map(|l| l.strip_prefix("CREATE OR REPLACE FUNCTION s1."))
            .map(|rest| rest.split('(').next().unwrap())
            .collect();
        let listed: Vec<&str> = FUNCTIONS
            .iter()
            .map(|f| f.split('(').next().unwrap())
            .collect();
        assert_eq!(created, listed);
        // The revision in the SQL is VERSION.
        assert!(TEMPLATE.contains(&format!("AS $fn$ SELECT {VERSION} $fn$;")));
        // The limits in the SQL are Limits::DEFAULT.
        let l = crate::Limits::DEFAULT;
        assert!(TEMPLATE.contains(&format!(
            "AS $fn$ SELECT {}, {}, {} $fn$;",
            l.max_bytes, l.max_depth, l.max_owners
        )));
    }
}
