//! `switchyard demo`: the main job on embedded defaults.

use std::path::Path;

use anyhow::{Context, Result};
use switchyard_engine::{ImportOptions, ImportSummary, Switchyard};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_store::{ConnectionId, NewConnection, Secrets};

use crate::{print_summary, setup, PageBar};

#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Orders the simulated Pressero store holds.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Orders changed in the simulator between the two runs.
    #[arg(long, default_value_t = 25)]
    changes: usize,
    /// Orders added in the simulator between the two runs.
    #[arg(long, default_value_t = 10)]
    new_orders: usize,
    /// Seed of the simulated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// One JSON object with the counts instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(data_dir: &Path, plugins: &Path, args: DemoArgs) -> Result<()> {
    // A fresh embedded database for every demo, so it can run again and again.
    let demo_dir = data_dir.join("demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .with_context(|| format!("cannot clear {}", demo_dir.display()))?;
    }
    let sim = spawn_pressero(PresseroConfig {
        seed: args.seed,
        orders: args.orders,
        ..Default::default()
    })
    .await?;
    let host = setup::open_host(&demo_dir, plugins).await?;
    if host.registry().current("pressero").is_none() {
        anyhow::bail!(
            "the pressero plugin is not in {}: build it with `cargo xtask plugins`",
            plugins.display()
        );
    }
    let creds = sim.credentials().clone();
    let tenant = host.store().ensure_tenant("demo").await?;
    let mut c = NewConnection::new(tenant, "pressero", "Pressero (simulated)");
    c.settings = [
        ("data-centre", "amsterdam"),
        ("base-url", sim.base_url().as_str()),
        ("username", creds.user_name.as_str()),
        ("subscriber-id", creds.subscriber_id.as_str()),
        // A local simulator: no need to pace requests as for the real API.
        (switchyard_engine::RATE_LIMIT_SETTING, "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    c.secrets = Secrets::new()
        .with("password", creds.password.clone())
        .with("consumer-id", creds.consumer_id.clone());
    c.enabled = true;
    c.live = true;
    let conn = host.store().create_connection(c).await?;

    let check = host.check(conn).await.context("test connection")?;
    if !args.json {
        println!(
            "simulated Pressero at {} with {} orders",
            sim.base_url(),
            args.orders
        );
        println!("test connection: {check}");
    }
    let first = import(&host, conn, args.json).await?;

    let numbers = sim.order_numbers();
    let step = (numbers.len() / args.changes.max(1)).max(1);
    let changed: Vec<u64> = numbers
        .iter()
        .step_by(step)
        .take(args.changes)
        .copied()
        .collect();
    for n in &changed {
        sim.touch_order(*n)?;
    }
    sim.add_orders(args.new_orders);
    if !args.json {
        println!(
            "changed {} orders and added {} in the simulator",
            changed.len(),
            args.new_orders
        );
    }
    let second = import(&host, conn, args.json).await?;
    let stored = host.store().count_canonical(tenant, "order").await?;

    if args.json {
        let out = serde_json::json!({
            "check": check,
            "flows": [first, second],
            "canonical_orders": stored,
            "orders_in_source": sim.order_numbers().len(),
        });
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "canonical orders stored: {stored} (source holds {})",
            sim.order_numbers().len()
        );
    }
    sim.shutdown().await;
    Ok(())
}

async fn import(host: &Switchyard, conn: ConnectionId, quiet: bool) -> Result<ImportSummary> {
    let bar = PageBar::new();
    let s = host
        .import(conn, "orders", &ImportOptions::default(), &bar)
        .await
        .context("import of Pressero orders")?;
    drop(bar);
    if !quiet {
        print_summary(&s);
    }
    Ok(s)
}
