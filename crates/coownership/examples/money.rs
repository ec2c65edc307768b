//! Splits 100 % equally among owners (both policies), then apportions an
//! amount among them to the penny.
//!
//! ```sh
//! cargo run -p coownership --example money                  # 3 owners, 1000.00
//! cargo run -p coownership --example money -- 7 0.10
//! ```

use std::error::Error;

use coownership::apportion::{apportion, parse_amount};
use coownership::split::{equal_split, SplitPolicy};
use coownership::OwnerId;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let n: i64 = args.next().map_or(Ok(3), |a| a.parse())?;
    let amount = parse_amount(&args.next().unwrap_or_else(|| "1000.00".into()))?;
    let owners = (1..=n).map(OwnerId::new).collect::<Result<Vec<_>, _>>()?;
    for policy in [SplitPolicy::Balanced, SplitPolicy::Seed] {
        match equal_split(&owners, policy) {
            Ok(ownership) => println!("{:<9} {ownership}", policy.as_str()),
            Err(e) => println!("{:<9} {e}", policy.as_str()),
        }
    }
    let ownership = equal_split(&owners, SplitPolicy::Balanced)?;
    let parts = apportion(amount, &ownership, 2)?;
    let total: rust_decimal::Decimal = parts.iter().map(|(_, a)| *a).sum();
    for (owner, part) in &parts {
        println!("owner {owner}: {part}");
    }
    println!("total {total} (the amount: {amount})");
    Ok(())
}
