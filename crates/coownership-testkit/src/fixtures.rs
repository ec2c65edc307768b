//! The seed's own SQL, kept verbatim to compare the library against.

/// The seed's CHECK function `validate_ownership_percentages_precise` and its
/// constraint, as the legacy database has them.
pub const SEED_CHECK_SQL: &str = include_str!("../fixtures/seed_check.sql");

/// The seed's phase-3 migration block (the row-by-row PL/pgSQL loop that
/// `migrate` replaces).
pub const SEED_PHASE3_SQL: &str = include_str!("../fixtures/seed_phase3.sql");
