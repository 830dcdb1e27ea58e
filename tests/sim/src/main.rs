//! `switchyard-sim`: serves the provider simulators on 127.0.0.1 until killed.

use std::collections::BTreeMap;

use clap::Parser;
use switchyard_sim::cli::{faults_for, CommonArgs, Served};
use switchyard_sim::{mailchimp, minicrm, mplus, mpower, pressero, presswise, shoprenter};

/// Provider simulators for Switchyard, on 127.0.0.1.
///
/// Systems: pressero, presswise, mpower, shoprenter, minicrm, mailchimp, mplus. Each served
/// system gets its own port and a control API under /_control/{system} on that port. Give
/// --SYSTEM-port for each system to serve (0 = ephemeral); with none, every system is served on
/// an ephemeral port. Once listening, one JSON line maps each system to its base URL, e.g.
/// {"pressero":"http://127.0.0.1:PORT/api/"}; then it runs until killed (SIGINT stops
/// gracefully).
///
/// Faults: --fault SYSTEM:KEY=VALUE (repeatable). Keys: error_rate, fail_next, throttle_every,
/// throttle_burst, throttle_next, retry_after_secs, latency_ms, timeout_rate, timeout_next,
/// malformed_rate, truncated_rate, scope. Rates are 0..1. Example:
/// --fault pressero:error_rate=0.05 --fault shoprenter:throttle_every=100
/// --fault shoprenter:throttle_burst=3
#[derive(Debug, Parser)]
#[command(name = "switchyard-sim", version, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// A fault for one system: SYSTEM:KEY=VALUE (repeatable).
    #[arg(long = "fault", value_name = "SYSTEM:KEY=VALUE")]
    faults: Vec<String>,
    #[command(flatten)]
    pressero: pressero::PresseroArgs,
    #[command(flatten)]
    presswise: presswise::PresswiseArgs,
    #[command(flatten)]
    mpower: mpower::MpowerArgs,
    #[command(flatten)]
    shoprenter: shoprenter::ShoprenterArgs,
    #[command(flatten)]
    minicrm: minicrm::MinicrmArgs,
    #[command(flatten)]
    mailchimp: mailchimp::MailchimpArgs,
    #[command(flatten)]
    mplus: mplus::MplusArgs,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("switchyard-sim: {e}");
        std::process::exit(2);
    }
}

async fn run(args: Args) -> Result<(), switchyard_sim::SimError> {
    let ports = [
        args.pressero.port(),
        args.presswise.port(),
        args.mpower.port(),
        args.shoprenter.port(),
        args.minicrm.port(),
        args.mailchimp.port(),
        args.mplus.port(),
    ];
    let all = ports.iter().all(Option::is_none);
    // With no port flag at all, every system runs on an ephemeral port.
    let port = |p: Option<u16>| p.or(all.then_some(0));
    let c = &args.common;
    let f = |system: &str| faults_for(system, &args.faults);
    let mut served: Vec<Served> = Vec::new();
    // Every fault flag is checked, even for systems not served.
    f("")?;
    if let Some(p) = port(ports[0]) {
        served.push(pressero::serve_cli(&args.pressero, p, c, f("pressero")?).await?);
    }
    if let Some(p) = port(ports[1]) {
        served.push(presswise::serve_cli(&args.presswise, p, c, f("presswise")?).await?);
    }
    if let Some(p) = port(ports[2]) {
        served.push(mpower::serve_cli(&args.mpower, p, c, f("mpower")?).await?);
    }
    if let Some(p) = port(ports[3]) {
        served.push(shoprenter::serve_cli(&args.shoprenter, p, c, f("shoprenter")?).await?);
    }
    if let Some(p) = port(ports[4]) {
        served.push(minicrm::serve_cli(&args.minicrm, p, c, f("minicrm")?).await?);
    }
    if let Some(p) = port(ports[5]) {
        served.push(mailchimp::serve_cli(&args.mailchimp, p, c, f("mailchimp")?).await?);
    }
    if let Some(p) = port(ports[6]) {
        served.push(mplus::serve_cli(&args.mplus, p, c, f("mplus")?).await?);
    }
    let urls: BTreeMap<&str, &str> = served
        .iter()
        .map(|s| (s.system, s.base_url.as_str()))
        .collect();
    println!(
        "{}",
        serde_json::to_string(&urls).unwrap_or_else(|_| "{}".into())
    );
    let _ = tokio::signal::ctrl_c().await;
    for s in served {
        s.shutdown().await;
    }
    Ok(())
}
