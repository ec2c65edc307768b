#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod backup;
mod constrain;
mod copy;
mod db;
pub mod demo;
mod error;
mod merge;
mod migrate;
pub mod plan;
mod report;
mod rollback;
mod status;
mod uninstall;
mod verify;

use std::time::Duration;

use coownership::split::SplitPolicy;

pub use constrain::{constrain, ConstrainError, ConstrainOptions, ConstrainReport};
pub use error::DbError;
pub use migrate::{migrate, MigrateError};
pub use report::{MigrationReport, Phase, Sampled, VerifyReport};
pub use rollback::{rollback, RollbackError, RollbackOptions, RollbackReport};
pub use status::{status, StatusReport};
pub use uninstall::{drop_backup, uninstall, UninstallError, UninstallOptions, UninstallReport};
pub use verify::verify;

/// The legacy tables (names may be schema-qualified: `legacy.client_products`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// The products table; gets the `ownership_details` column. Default `client_products`.
    pub products: String,
    /// The link table `(product_id, product_owner_id, created_at)`. Default `product_owner_products`.
    pub links: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            products: "client_products".into(),
            links: "product_owner_products".into(),
        }
    }
}

/// How to migrate.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// How 100 % is split among two or more owners.
    pub policy: SplitPolicy,
    /// Plan and count everything, write nothing.
    pub dry_run: bool,
    /// The tables.
    pub tables: Tables,
    /// How long to try for the table locks before giving up. Default 60 s.
    /// The locks are tried together without waiting (`NOWAIT`) and retried,
    /// so the tool never holds one while waiting for the other.
    pub lock_timeout: Duration,
    /// Keep what the migration replaces in a backup table, in the same
    /// transaction, for [`rollback`]. Default `true`.
    pub backup: bool,
    /// Migrate even when the link table is empty, which gives every product
    /// no owner. Default `false`: an empty link table is refused
    /// ([`MigrateError::EmptyLinks`]), since it usually means the wrong
    /// table, or one already emptied after a migration.
    pub allow_empty_links: bool,
    /// Replace documents that name owners with no-owner ones (products
    /// with no links left). Default `false`: refused
    /// ([`MigrateError::WouldRemoveOwners`]), nothing written.
    pub allow_removing_owners: bool,
    /// [`verify`] only: the rules every document must pass. Default
    /// [`Rules::Seed`](coownership::Rules::Seed) (what the legacy CHECK accepts);
    /// with [`Rules::Strict`](coownership::Rules::Strict), any strict violation is
    /// a mismatch, so a document that reconciles by value but is not what
    /// `migrate` writes (a key `"010"`, stray `joint_owners`) is reported.
    pub verify_rules: coownership::Rules,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            policy: SplitPolicy::Balanced,
            dry_run: false,
            tables: Tables::default(),
            lock_timeout: Duration::from_secs(60),
            backup: true,
            allow_empty_links: false,
            allow_removing_owners: false,
            verify_rules: coownership::Rules::Seed,
        }
    }
}

/// `Serialize` for the reports, so that a service can put one in its own
/// serde output: exactly the JSON of the report's `to_json` (what
/// `coownership … --report FILE` writes).
macro_rules! serialize_as_json {
    ($($report:ty),*) => {$(
        impl serde::Serialize for $report {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }
    )*};
}

serialize_as_json!(
    MigrationReport,
    VerifyReport,
    ConstrainReport,
    RollbackReport,
    StatusReport,
    UninstallReport
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_serialize_as_their_json() {
        let migration = MigrationReport {
            products: 3,
            backup: Some("public.ownership_backup_1".into()),
            ..MigrationReport::default()
        };
        assert_eq!(
            serde_json::to_value(&migration).unwrap(),
            migration.to_json()
        );
        assert_eq!(serde_json::to_value(&migration).unwrap()["products"], 3);
        let rollback = RollbackReport {
            restored: 2,
            ..RollbackReport::default()
        };
        assert_eq!(serde_json::to_value(&rollback).unwrap()["restored"], 2);
        for (value, json) in [
            (
                serde_json::to_value(VerifyReport::default()),
                VerifyReport::default().to_json(),
            ),
            (
                serde_json::to_value(ConstrainReport::default()),
                ConstrainReport::default().to_json(),
            ),
            (
                serde_json::to_value(StatusReport::default()),
                StatusReport::default().to_json(),
            ),
            (
                serde_json::to_value(UninstallReport::default()),
                UninstallReport::default().to_json(),
            ),
        ] {
            assert_eq!(value.unwrap(), json);
        }
    }
}
