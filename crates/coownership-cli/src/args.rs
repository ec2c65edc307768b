//! The command line: the top-level parser, the subcommands (each command's
//! own arguments are in its module), and the argument types several share.

use clap::{Parser, Subcommand, ValueEnum};
use coownership::split::SplitPolicy;
use coownership::Rules;
use coownership_postgres::{MigrateOptions, Tables};

use crate::commands;
use crate::Fatal;

#[derive(Parser)]
#[command(
    name = "coownership",
    version,
    about = "Validate, split and migrate product ownership documents"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Validate JSON Lines documents (one per line; blank lines skipped).
    ///
    /// Prints one JSON line per document: {"line":N,"valid":true} or
    /// {"line":N,"valid":false,"violations":[{"code":…,"key":…,"message":…}]}.
    /// Exit status: 0 when every document is valid, 1 when any is not, 2 on a
    /// usage or I/O error.
    Validate(commands::validate::Args),
    /// Split 100 % equally among N owners and print the canonical document.
    ///
    /// Owners default to 1..=N; with --owners, N may be omitted.
    Split(commands::split::Args),
    /// Print the shipped SQL: the strict CHECK functions, then the ALTER TABLE
    /// that puts them on client_products.ownership_details (commented out).
    Sql(commands::sql::Args),
    /// Migrate product_owner_products rows into client_products.ownership_details.
    ///
    /// One transaction (writers locked out while it runs); nothing is written
    /// on any error or with --dry-run. Exit status: 0 on success, 2 on any
    /// error (nothing written), 3 when the migration was committed but the
    /// summary or the report could not be written.
    Migrate(commands::migrate::Args),
    /// Install the shipped SQL functions and put one CHECK constraint on
    /// ownership_details.
    ///
    /// Counts the rows that break the rules first: if any, lists them and
    /// changes nothing (exit 1). Otherwise adds the constraint NOT VALID
    /// (a moment of ACCESS EXCLUSIVE) and validates it (SHARE UPDATE
    /// EXCLUSIVE: reads and writes go on). Exit status: 0 done, 1 rows break
    /// the rules, 2 on errors.
    Constrain(commands::constrain::Args),
    /// Restore what a migration replaced, from the backup it named.
    ///
    /// One transaction. Refuses, changing nothing, when documents changed
    /// after the migration (they are listed), unless --force. Exit status: 0
    /// restored (or, with --dry-run, restorable), 1 refused, 2 on errors.
    Rollback(commands::rollback::Args),
    /// Reconcile every product's ownership_details with the link table.
    ///
    /// Exit status: 0 when everything reconciles, 1 when anything does not
    /// (the first mismatches are listed), 2 on errors.
    Verify(commands::verify::Args),
    /// Remove what constrain installed: the constraint, then the shipped
    /// functions, in one transaction.
    ///
    /// If anything else still uses the functions (another table's
    /// constraint, an index, a view), it refuses and changes nothing, naming
    /// them; --keep-functions drops the constraint only. Exit status: 0
    /// done (or, with --dry-run, possible), 1 refused, 2 on errors.
    Uninstall(commands::uninstall::Args),
    /// Drop a backup table migrate made, by name (status lists them).
    ///
    /// Refuses any table that is not such a backup. Exit status: 0 dropped,
    /// 2 on errors.
    DropBackup(commands::drop_backup::Args),
    /// Where the database is in the lifecycle: the link table, the column,
    /// how many documents are valid, missing or invalid under each rule set,
    /// the constraints (VALID or NOT VALID), the shipped SQL's revision, the
    /// backups, the indexes. Changes nothing.
    ///
    /// Exit status: 0, or 2 on errors.
    Status(commands::status::Args),
    /// Start a throwaway PostgreSQL, create the legacy tables with synthetic
    /// products and run the whole lifecycle: migrate, verify, constrain, a
    /// bad write the constraint rejects, status, rollback, and a check that
    /// the original state is back. Tears the server down.
    Demo(commands::demo::Args),
    /// Apportion an amount among the owners of one ownership document.
    ///
    /// Prints [{"owner":ID,"amount":"…"},…] in owner order. Exit status: 1 if
    /// the document is invalid (violations on stderr), 2 on a usage error.
    Apportion(commands::apportion::Args),
}

/// The database and tables of the migration's commands.
#[derive(clap::Args)]
pub(crate) struct DbArgs {
    #[command(flatten)]
    pub(crate) database: Database,
    /// The products table (may be schema-qualified).
    #[arg(long, default_value = "client_products")]
    pub(crate) products_table: String,
    /// The link table read by the migration.
    #[arg(long, default_value = "product_owner_products")]
    pub(crate) links_table: String,
    /// How long to keep trying for the table locks (never queueing, never
    /// holding one while waiting for another) before giving up: seconds
    /// (`60`), or with a unit (`500ms`, `2s`, `1min`).
    #[arg(long, default_value = "60", value_parser = parse_duration)]
    pub(crate) lock_timeout: std::time::Duration,
}

impl DbArgs {
    pub(crate) fn options(&self, policy: SplitPolicy) -> MigrateOptions {
        MigrateOptions {
            policy,
            tables: Tables {
                products: self.products_table.clone(),
                links: self.links_table.clone(),
            },
            lock_timeout: self.lock_timeout,
            ..MigrateOptions::default()
        }
    }

    pub(crate) fn config(&self) -> Result<postgres::Config, Fatal> {
        self.database.config()
    }
}

/// A duration on the command line: whole seconds (`60`, what earlier
/// versions took), or a whole number with a unit: `ms`, `s` or `min`.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected seconds (60) or a number with ms, s or min (500ms, 2s, 1min)"))?;
    let d = match unit {
        "" | "s" => std::time::Duration::from_secs(n),
        "ms" => std::time::Duration::from_millis(n),
        "min" => std::time::Duration::from_secs(n.saturating_mul(60)),
        _ => {
            return Err(format!(
                "invalid duration {text:?}: the unit must be ms, s or min (500ms, 2s, 1min)"
            ))
        }
    };
    Ok(d)
}

/// `--database-url`, which every database command takes.
#[derive(clap::Args)]
pub(crate) struct Database {
    /// The database, as a URL (postgres://user@host/db) or key=value string.
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: String,
}

impl Database {
    /// The connection settings it names, as application `coownership`.
    pub(crate) fn config(&self) -> Result<postgres::Config, Fatal> {
        db_config(&self.database_url)
    }
}

fn db_config(url: &str) -> Result<postgres::Config, Fatal> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| Fatal(format!("invalid --database-url: {e}")))?;
    config.application_name("coownership");
    Ok(config)
}

/// `constrain --rules`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ConstrainRulesArg {
    /// ownership_is_valid_strict: the rule for new writes.
    Strict,
    /// ownership_is_valid_seed: the seed's legacy CHECK.
    Seed,
}

/// `--policy`: how 100 % is split among two or more owners.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PolicyArg {
    /// Every share within 0.01 of the others (the default).
    Balanced,
    /// The seed's formula: the remainder on the last owner.
    Seed,
}

impl From<PolicyArg> for SplitPolicy {
    fn from(p: PolicyArg) -> SplitPolicy {
        match p {
            PolicyArg::Balanced => SplitPolicy::Balanced,
            PolicyArg::Seed => SplitPolicy::Seed,
        }
    }
}

/// `--rules`: a rule set.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RulesArg {
    /// The rule for new writes.
    Strict,
    /// The seed's CHECK as PostgreSQL 13 to 17 evaluate it.
    Seed,
    /// The seed's CHECK as PostgreSQL 18 and later evaluate it.
    #[value(name = "seed-pg18")]
    SeedPg18,
}

impl From<RulesArg> for Rules {
    fn from(r: RulesArg) -> Rules {
        match r {
            RulesArg::Strict => Rules::Strict,
            RulesArg::Seed => Rules::Seed,
            RulesArg::SeedPg18 => Rules::SeedPg18,
        }
    }
}

impl From<ConstrainRulesArg> for Rules {
    fn from(r: ConstrainRulesArg) -> Rules {
        match r {
            ConstrainRulesArg::Strict => Rules::Strict,
            ConstrainRulesArg::Seed => Rules::Seed,
        }
    }
}
