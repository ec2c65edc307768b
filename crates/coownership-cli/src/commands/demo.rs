//! `coownership demo`: the whole lifecycle on a throwaway server.

use std::process::ExitCode;

use coownership::split::SplitPolicy;
use coownership::Rules;
use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{ConstrainOptions, MigrateOptions, RollbackOptions};
use coownership_testkit::server::TempServer;

use super::verify::verify_into;
use crate::args::PolicyArg;
use crate::output::{progress_bar, Results};
use crate::Fatal;

/// The arguments of `coownership demo`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// How many products to create.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) products: u64,
    /// The split policy.
    #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
    pub(crate) policy: PolicyArg,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Runs the demo; exit status 1 when any step is not as expected.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let policy: SplitPolicy = args.policy.into();
    note!("coownership demo: starting a throwaway PostgreSQL server");
    let server = TempServer::start()?;
    let mut client = server.create_database("ownership_demo")?;
    load_legacy_tables(&mut client, args.products)?;
    let options = MigrateOptions {
        policy,
        ..MigrateOptions::default()
    };
    let mut config = server.config_for("ownership_demo");
    config.application_name("coownership");
    let before = coownership_postgres::demo::checksum(&mut client, "client_products")?;

    note!("\ncoownership demo: 1. migrate");
    let bar = progress_bar(args.quiet);
    let migrated = coownership_postgres::migrate(&config, &options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let migrated = migrated?;
    out!("{}", migrated.summary())?;

    note!("\ncoownership demo: 2. verify");
    let mut ok = verify_into(&config, &options, Results::open(None)?)? == ExitCode::SUCCESS;
    ok &= constrain_and_write(&config, &mut client, policy)?;

    note!("\ncoownership demo: 5. status");
    let status = coownership_postgres::status(&config, &options)?;
    out!("{}", status.summary())?;
    // Every document passes the rules the demo constrained with.
    let invalid = match policy {
        SplitPolicy::Balanced => status.invalid_strict,
        SplitPolicy::Seed => status.invalid_seed,
    };
    ok &= invalid == 0 && status.constraints.iter().all(|c| c.valid);

    note!("\ncoownership demo: 6. rollback");
    let backup = migrated
        .backup
        .ok_or_else(|| Fatal("the migration kept no backup".into()))?;
    let undone = coownership_postgres::rollback(&config, &RollbackOptions::new(backup))?;
    out!("{}", undone.summary())?;
    ok &= !undone.refused;
    let after = coownership_postgres::demo::checksum(&mut client, "client_products")?;
    if before == after {
        outln!("coownership demo: the original state is back (checksum {after} before and after)")?;
    } else {
        outln!("coownership demo: the state differs after the rollback ({before} before, {after} after)")?;
        ok = false;
    }
    drop(client);
    drop(server);
    note!("coownership demo: server stopped and removed");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The seed's legacy tables, with `products` synthetic products.
fn load_legacy_tables(client: &mut postgres::Client, products: u64) -> Result<(), Fatal> {
    note!("coownership demo: creating the legacy tables with {products} synthetic products");
    let started = std::time::Instant::now();
    load(
        client,
        Synthetic {
            products,
            anomalies: true,
        },
    )?;
    note!(
        "coownership demo: data loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Steps 3 and 4: constrain with the rules the policy's documents pass, then
/// a bad write, which the constraint must reject; true when both went so.
fn constrain_and_write(
    config: &postgres::Config,
    client: &mut postgres::Client,
    policy: SplitPolicy,
) -> Result<bool, Fatal> {
    // The balanced policy's no-owner state (NULL) passes the strict rules;
    // the seed's no-owner document only passes the seed's.
    let rules = match policy {
        SplitPolicy::Balanced => Rules::Strict,
        SplitPolicy::Seed => Rules::Seed,
    };
    note!(
        "\ncoownership demo: 3. constrain --rules {}",
        rules.as_str()
    );
    let constrained = coownership_postgres::constrain(
        config,
        &ConstrainOptions {
            rules,
            ..ConstrainOptions::default()
        },
    )?;
    out!("{}", constrained.summary())?;

    note!("\ncoownership demo: 4. a bad write, which the constraint rejects");
    let bad = r#"{"association_type":"tenants_in_common","1":50.00,"2":60.00}"#;
    outln!("UPDATE client_products SET ownership_details = '{bad}' WHERE id = 1")?;
    match client.execute(
        "UPDATE client_products SET ownership_details = $1::text::jsonb WHERE id = 1",
        &[&bad],
    ) {
        Ok(_) => {
            outln!("  accepted: the constraint did not hold")?;
            Ok(false)
        }
        Err(e) => {
            let codes: Vec<String> = client
                .query_one(
                    "SELECT ownership_strict_violations($1::text::jsonb)",
                    &[&bad],
                )?
                .get(0);
            let said = e.as_db_error().map_or(e.to_string(), |d| {
                format!("{} {}", d.code().code(), d.message())
            });
            outln!("  rejected: {said}")?;
            outln!("  ownership_strict_violations: {codes:?}")?;
            Ok(constrained.constrained)
        }
    }
}
