//! `switchyard flow …`, `push-again`, `why`, `runs`, `log`, `jobs`, `global-sync`, `work`.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use switchyard_engine::{check_schedule, FlowSettings, PushProgress, PushSummary, Switchyard};
use switchyard_store::{Flow, NewFlow, PushState, TenantId};

#[derive(Subcommand)]
pub(crate) enum FlowCommand {
    /// Add a flow: SOURCE-CONNECTION[/STREAM] → TARGET-CONNECTION[/STREAM].
    Add {
        name: String,
        /// The source connection and stream (default stream `orders`).
        #[arg(long)]
        from: String,
        /// The target connection and stream (default stream `orders`).
        #[arg(long)]
        to: String,
        /// A flow setting, e.g. `window-days=30` (see `FlowSettings`).
        #[arg(long = "set", value_parser = crate::key_value)]
        settings: Vec<(String, String)>,
        /// Push nothing; link what an older integration pushed and sync statuses.
        #[arg(long)]
        status_only: bool,
        /// A cron schedule with seconds, e.g. `0 */15 * * * *`.
        #[arg(long)]
        schedule: Option<String>,
        /// Leave it not Live (nothing flows).
        #[arg(long)]
        paused: bool,
        /// Leave it not Enabled.
        #[arg(long)]
        disabled: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// List the flows with their switches and push counts.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Set a flow's Enabled / Live switches (R-CONN-5).
    Switch {
        name: String,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        live: Option<bool>,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Synchronise a flow now: import the source, push what is due, poll statuses.
    Sync {
        name: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Push what is due now, without importing first.
    Push {
        name: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Poll the target for statuses and write them back to the source (R-B-5).
    Status {
        name: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Queue a sync of the flow for the background worker (`switchyard work`).
    Queue {
        name: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
}

/// The tenant a command acts for.
#[derive(Args, Clone)]
pub(crate) struct TenantArg {
    #[arg(long, default_value = "default")]
    pub tenant: String,
}

impl TenantArg {
    pub(crate) async fn id(&self, host: &Switchyard) -> Result<TenantId> {
        Ok(host.store().ensure_tenant(&self.tenant).await?)
    }
}

/// A spinner with the push counts.
struct PushBar(ProgressBar);

impl PushBar {
    fn new() -> PushBar {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
        );
        PushBar(bar)
    }
}

impl PushProgress for PushBar {
    fn record_done(&self, s: &PushSummary) {
        self.0.set_message(format!(
            "{}: {} considered, {} pushed, {} linked, {} waiting, {} failed, {} dead",
            s.flow, s.considered, s.pushed, s.linked, s.waiting, s.failed, s.dead
        ));
        self.0.tick();
    }
}

impl Drop for PushBar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

pub(crate) fn print_push(s: &PushSummary) {
    println!(
        "push {}: considered {}, pushed {}, linked {}, waiting {}, failed {}, dead {}, not due {}",
        s.flow, s.considered, s.pushed, s.linked, s.waiting, s.failed, s.dead, s.skipped
    );
}

pub(crate) fn print_status(s: &switchyard_engine::StatusSummary) {
    println!(
        "status {}: polled {}, changed {}, written back {}, failed {}",
        s.flow, s.polled, s.changed, s.written_back, s.failed
    );
}

fn split_endpoint(s: &str) -> (&str, &str) {
    s.split_once('/').unwrap_or((s, "orders"))
}

pub(crate) async fn find_flow(host: &Switchyard, tenant: TenantId, name: &str) -> Result<Flow> {
    match host.store().flow_by_name(tenant, name).await? {
        Some(f) => Ok(f),
        None => bail!("no flow named {name:?}"),
    }
}

pub(crate) async fn run(host: &Switchyard, cmd: FlowCommand) -> Result<()> {
    match cmd {
        FlowCommand::Add {
            name,
            from,
            to,
            settings,
            status_only,
            schedule,
            paused,
            disabled,
            tenant,
        } => {
            let tenant = tenant.id(host).await?;
            let (source_name, source_stream) = split_endpoint(&from);
            let (target_name, target_stream) = split_endpoint(&to);
            let connection = |n: &str| {
                let n = n.to_string();
                async move {
                    host.store()
                        .connection_by_name(tenant, &n)
                        .await?
                        .with_context(|| format!("no connection named {n:?}"))
                }
            };
            let source = connection(source_name).await?;
            let target = connection(target_name).await?;
            let mut map = Map::new();
            for (k, v) in settings {
                // Numbers and booleans as such, everything else as text.
                let value = serde_json::from_str::<Value>(&v)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean())
                    .unwrap_or(Value::String(v));
                map.insert(k, value);
            }
            if status_only {
                map.insert("mode".into(), json!("status-only"));
            }
            let settings = Value::Object(map);
            FlowSettings::parse(&name, &settings)?;
            if let Some(s) = &schedule {
                check_schedule(s).map_err(anyhow::Error::msg)?;
            }
            let id = host
                .store()
                .create_flow(NewFlow {
                    tenant,
                    name: name.clone(),
                    source: source.id,
                    source_stream: source_stream.into(),
                    target: target.id,
                    target_stream: target_stream.into(),
                    settings,
                    enabled: !disabled,
                    live: !paused && !disabled,
                    schedule,
                })
                .await?;
            println!("flow {name} added ({id}): {from} → {to}");
        }
        FlowCommand::List { tenant, json } => {
            let tenant = tenant.id(host).await?;
            let mut out = Vec::new();
            for f in host.store().flows(tenant).await? {
                let counts = host.store().push_counts(f.id).await?;
                out.push(json!({
                    "name": f.name, "enabled": f.enabled, "live": f.live,
                    "schedule": f.schedule, "settings": f.settings,
                    "source_stream": f.source_stream, "target_stream": f.target_stream,
                    "pushes": counts.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<_, _>>(),
                }));
                if !json {
                    let counts: Vec<String> =
                        counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    println!(
                        "{}: {} → {}{}{} [{}]",
                        f.name,
                        f.source_stream,
                        f.target_stream,
                        if f.enabled {
                            ", enabled"
                        } else {
                            ", not enabled"
                        },
                        if f.live { ", live" } else { ", not live" },
                        counts.join(", ")
                    );
                }
            }
            if json {
                println!("{}", Value::Array(out));
            }
        }
        FlowCommand::Switch {
            name,
            enabled,
            live,
            tenant,
        } => {
            let tenant = tenant.id(host).await?;
            let f = find_flow(host, tenant, &name).await?;
            let enabled = enabled.unwrap_or(f.enabled);
            let live = live.unwrap_or(f.live);
            host.store().set_flow_flags(f.id, enabled, live).await?;
            println!("flow {name}: enabled {enabled}, live {live}");
        }
        FlowCommand::Sync { name, tenant, json } => {
            let tenant = tenant.id(host).await?;
            let f = find_flow(host, tenant, &name).await?;
            let summary = host
                .sync_flow(f.id)
                .await
                .with_context(|| format!("sync of flow {name} failed"))?;
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                if let Some(i) = &summary.import {
                    crate::print_summary(i);
                }
                if let Some(p) = &summary.push {
                    print_push(p);
                }
                if let Some(s) = &summary.status {
                    print_status(s);
                }
                for r in &summary.reference {
                    crate::print_summary(r);
                }
                if let Some(i) = &summary.inbox {
                    crate::inbox::print_inbox_summary(i);
                }
            }
            let failures: Vec<String> = [
                summary.import.as_ref().map(|i| &i.failures),
                summary.push.as_ref().map(|p| &p.failures),
                summary.status.as_ref().map(|s| &s.failures),
            ]
            .into_iter()
            .flatten()
            .flatten()
            .cloned()
            .collect();
            crate::outcome::exit_if_failed(
                summary.failed_records(),
                &failures,
                &summary.step_errors,
            );
        }
        FlowCommand::Push { name, tenant, json } => {
            let tenant = tenant.id(host).await?;
            let f = find_flow(host, tenant, &name).await?;
            let summary = {
                let bar = PushBar::new();
                host.push_flow(f.id, &bar)
                    .await
                    .with_context(|| format!("push of flow {name} failed"))?
            };
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                print_push(&summary);
            }
            crate::outcome::exit_if_failed(summary.failed + summary.dead, &summary.failures, &[]);
        }
        FlowCommand::Status { name, tenant, json } => {
            let tenant = tenant.id(host).await?;
            let f = find_flow(host, tenant, &name).await?;
            let s = host
                .sync_status(f.id)
                .await
                .with_context(|| format!("status sync of flow {name} failed"))?;
            if json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                print_status(&s);
            }
            crate::outcome::exit_if_failed(s.failed, &s.failures, &[]);
        }
        FlowCommand::Queue { name, tenant } => {
            let tenant = tenant.id(host).await?;
            let f = find_flow(host, tenant, &name).await?;
            let e = host.trigger_flow_sync(f.id, "cli", None).await?;
            if e.joined {
                println!(
                    "a sync of flow {name} is already queued (job {}); joined it",
                    e.id
                );
            } else {
                println!("sync of flow {name} queued (job {})", e.id);
            }
        }
    }
    Ok(())
}

/// `switchyard push-again ORDER [--service S]`.
pub(crate) async fn push_again(
    host: &Switchyard,
    tenant: TenantId,
    order: &str,
    service: Option<&str>,
    json: bool,
) -> Result<()> {
    let results = host.push_again(tenant, order, service).await?;
    if json {
        println!("{}", serde_json::to_string(&results)?);
        return Ok(());
    }
    for r in &results {
        println!(
            "order {order} → {} (flow {}): {}",
            r.service,
            r.flow,
            serde_json::to_string(&r.outcome)?
        );
    }
    Ok(())
}

/// `switchyard why ORDER [--service S]`.
pub(crate) async fn why(
    host: &Switchyard,
    tenant: TenantId,
    order: &str,
    service: Option<&str>,
    json: bool,
) -> Result<()> {
    let views = host.why(tenant, order, service).await?;
    if json {
        println!("{}", serde_json::to_string(&views)?);
        return Ok(());
    }
    for v in &views {
        let state = v
            .push
            .as_ref()
            .map(|p| p.state.to_string())
            .unwrap_or_else(|| "not yet considered".into());
        println!("order {order} → {} (flow {}): {state}", v.service, v.flow);
        if let Some(p) = &v.push {
            if let Some(id) = &p.external_id {
                println!(
                    "  at the target as {id}{}",
                    p.external_status
                        .as_deref()
                        .map(|s| format!(", status {s}"))
                        .unwrap_or_default()
                );
            }
            if let Some(e) = &p.last_error {
                println!("  last error (attempt {}): {e}", p.attempts);
            }
            if let Some(t) = p.next_attempt_at.filter(|_| p.state == PushState::Failed) {
                println!("  tried again from {}", t.to_rfc3339());
            }
            if let Some(e) = &p.status_error {
                println!("  status not read on the last poll: {e}");
            }
            if p.status_final {
                println!("  every item is final: its status is no longer polled");
            }
        }
        if v.holds.is_empty() {
            println!("  every push rule holds");
        }
        for h in &v.holds {
            println!("  held by {h}");
        }
        for i in &v.items {
            println!(
                "  item {} → {}: {}{}",
                i.source_item_id,
                i.external_id.as_deref().unwrap_or("-"),
                i.external_status
                    .as_deref()
                    .or(i.status.as_deref())
                    .unwrap_or("-"),
                i.shipment
                    .as_ref()
                    .map(|s| format!(", shipment {s}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
