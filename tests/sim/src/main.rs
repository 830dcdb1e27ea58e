//! `switchyard-sim`: serves the provider simulators on 127.0.0.1 until killed.

use std::collections::BTreeMap;

use clap::Parser;
use switchyard_sim::clock::parse_timestamp;
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroCredentials};
use switchyard_sim::{FaultConfig, SimError};

/// Provider simulators for Switchyard, on 127.0.0.1.
///
/// Systems: pressero (REST+JSON under /api/). Each served system gets its own port and a
/// control API under /_control/ on that port. With no --*-port flag every system is served on
/// an ephemeral port. Once listening, one JSON line maps each system to its base URL, e.g.
/// {"pressero":"http://127.0.0.1:PORT/api/"}; then it runs until killed.
///
/// Faults: --fault SYSTEM:KEY=VALUE (repeatable). Keys: error_rate, fail_next, throttle_every,
/// throttle_burst, throttle_next, retry_after_secs, latency_ms, timeout_rate, timeout_next,
/// malformed_rate, truncated_rate, scope. Rates are 0..1. Example:
/// --fault pressero:error_rate=0.05 --fault pressero:throttle_every=100
/// --fault pressero:throttle_burst=3
#[derive(Debug, Parser)]
#[command(name = "switchyard-sim", version, verbatim_doc_comment)]
struct Args {
    /// Serve Pressero on this port (0 = ephemeral).
    #[arg(long)]
    pressero_port: Option<u16>,
    /// Seed of the generated data and of fault decisions: same seed, same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of generated orders per system.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Number of generated customers/users (default: orders / 4, 20..=10000).
    #[arg(long)]
    customers: Option<usize>,
    /// Date of the first generated order (RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    base_time: String,
    /// Pressero: accepted UserName.
    #[arg(long)]
    pressero_user: Option<String>,
    /// Pressero: accepted Password.
    #[arg(long)]
    pressero_password: Option<String>,
    /// Pressero: accepted SubscriberId.
    #[arg(long)]
    pressero_subscriber_id: Option<String>,
    /// Pressero: accepted ConsumerID.
    #[arg(long)]
    pressero_consumer_id: Option<String>,
    /// Pressero: token lifetime in seconds.
    #[arg(long, default_value_t = 1200)]
    pressero_token_ttl_secs: u64,
    /// Pressero: tokens expire after this many authorised requests (mid-run expiry fault).
    #[arg(long)]
    pressero_token_max_uses: Option<u64>,
    /// A fault for one system: SYSTEM:KEY=VALUE (repeatable).
    #[arg(long = "fault", value_name = "SYSTEM:KEY=VALUE")]
    faults: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("bad --fault `{0}`: expected SYSTEM:KEY=VALUE with SYSTEM one of: pressero")]
    FaultSyntax(String),
    #[error("bad --base-time `{0}`: expected RFC 3339")]
    BaseTime(String),
}

fn faults_for(system: &str, specs: &[String]) -> Result<FaultConfig, CliError> {
    let mut faults = FaultConfig::default();
    for spec in specs {
        let (sys, kv) = spec
            .split_once(':')
            .ok_or_else(|| CliError::FaultSyntax(spec.clone()))?;
        if !["pressero"].contains(&sys) {
            return Err(CliError::FaultSyntax(spec.clone()));
        }
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| CliError::FaultSyntax(spec.clone()))?;
        if sys == system {
            faults.set(k, v)?;
        }
    }
    Ok(faults)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("switchyard-sim: {e}");
        std::process::exit(2);
    }
}

async fn run(args: Args) -> Result<(), CliError> {
    let base_time = parse_timestamp(&args.base_time)
        .ok_or_else(|| CliError::BaseTime(args.base_time.clone()))?;
    let any_port = args.pressero_port.is_some();
    let mut urls = BTreeMap::new();
    let mut running = Vec::new();
    if let Some(port) = args.pressero_port.or((!any_port).then_some(0)) {
        let defaults = PresseroCredentials::default();
        let cfg = PresseroConfig {
            port,
            seed: args.seed,
            orders: args.orders,
            users: args.customers,
            base_time,
            credentials: PresseroCredentials {
                user_name: args.pressero_user.unwrap_or(defaults.user_name),
                password: args.pressero_password.unwrap_or(defaults.password),
                subscriber_id: args
                    .pressero_subscriber_id
                    .unwrap_or(defaults.subscriber_id),
                consumer_id: args.pressero_consumer_id.unwrap_or(defaults.consumer_id),
            },
            token_ttl_secs: args.pressero_token_ttl_secs,
            token_max_uses: args.pressero_token_max_uses,
            faults: faults_for("pressero", &args.faults)?,
            ..PresseroConfig::default()
        };
        let sim = spawn_pressero(cfg).await?;
        urls.insert("pressero", sim.base_url());
        running.push(sim);
    }
    println!(
        "{}",
        serde_json::to_string(&urls).unwrap_or_else(|_| "{}".into())
    );
    let _ = tokio::signal::ctrl_c().await;
    for sim in running {
        sim.shutdown().await;
    }
    Ok(())
}
