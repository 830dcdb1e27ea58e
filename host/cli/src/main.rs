//! The `switchyard` command line.

mod bench;
mod demo;
mod exit;
mod flows;
mod inbox;
mod outcome;
mod setup;
mod sigbus;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_engine::{ImportOptions, ImportProgress, ImportSummary};
use switchyard_store::{NewConnection, Secrets};

/// Switchyard: an integration runtime whose connectors are sandboxed wasm components.
#[derive(Parser)]
#[command(name = "switchyard", version, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    /// On an error, print every cause and the backtrace, not only the one line.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Where the embedded database, the secret key and the compile cache live.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_DATA_DIR",
        default_value = ".switchyard"
    )]
    data_dir: PathBuf,
    /// Directory of connector plugins (`*.wasm`).
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_PLUGIN_DIR",
        default_value = "target/plugins"
    )]
    plugins: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The end-to-end demo on embedded defaults: a local Pressero simulator,
    /// a tenant and connection in SQLite, the built plugin, an import.
    Demo(demo::DemoArgs),
    /// Plugins: build, inspect.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Connections: add, test.
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Import one source stream of a connection.
    Sync {
        /// The connection's friendly name.
        connection: String,
        /// The stream, e.g. `orders`.
        stream: String,
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long, default_value_t = 100)]
        page_size: u32,
        /// One JSON object with the counts instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Flows: add, list, switch, sync, push, status, queue.
    #[command(subcommand)]
    Flow(flows::FlowCommand),
    /// Order requests (Flow A): list, show, choose, link, edit, convert, add.
    #[command(subcommand)]
    Inbox(inbox::InboxCommand),
    /// Push an order again now (after a failure or dead letter); never duplicates.
    PushAgain {
        /// The order's id at the source (e.g. the Pressero order number).
        order: String,
        /// Only the flow(s) to this service (connection name or provider).
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        tenant: flows::TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Where an order stands per service, and which push rule holds it.
    Why {
        order: String,
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        tenant: flows::TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Queue a global synchronisation of a service for every site where it is Enabled and
    /// Live (R-B-6); `switchyard work` runs it.
    GlobalSync {
        /// The service: a target connection's name or provider, e.g. `presswise`.
        service: String,
        #[command(flatten)]
        tenant: flows::TenantArg,
    },
    /// Run queued jobs (and due schedules) until the queue is idle, or keep serving.
    Work {
        /// Keep running: poll the queue and the schedules every second.
        #[arg(long)]
        serve: bool,
        /// With `--serve`: receive Pressero webhooks on this address, e.g. 127.0.0.1:8787,
        /// at `/webhooks/pressero/{connection-id}` (the key is the connection's `webhook-key`
        /// secret).
        #[arg(long)]
        webhooks: Option<std::net::SocketAddr>,
    },
    /// Recent jobs.
    Jobs {
        #[command(flatten)]
        tenant: flows::TenantArg,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Recent runs of a connection (or of all of the tenant's connections).
    Runs {
        #[arg(long)]
        connection: Option<String>,
        #[command(flatten)]
        tenant: flows::TenantArg,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// The activity log: what came from the source and what was sent to the target (R-P-2).
    Log {
        /// Only this run's entries (oldest first).
        #[arg(long)]
        run: Option<String>,
        /// Only this connection's entries.
        #[arg(long)]
        connection: Option<String>,
        #[command(flatten)]
        tenant: flows::TenantArg,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print each entry's detail (payloads, HTTP exchanges) too.
        #[arg(long)]
        detail: bool,
        #[arg(long)]
        json: bool,
    },
    /// Runtime benchmark: per-call overhead, instantiation, map-in wasm vs native.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Build plugin crates (all of `plugins/`, or one) as wasm components.
    Build { name: Option<String> },
    /// Show a plugin's manifest and the world it was built for.
    Inspect { file: PathBuf },
}

#[derive(Subcommand)]
enum ConnectionCommand {
    /// Add a connection (settings `--set k=v`, secrets `--secret k=v`).
    Add {
        provider: String,
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long = "set", value_parser = key_value)]
        settings: Vec<(String, String)>,
        #[arg(long = "secret", value_parser = key_value)]
        secrets: Vec<(String, String)>,
        /// Leave the connection not Live (nothing flows).
        #[arg(long)]
        paused: bool,
    },
    /// Test a connection's credentials against its provider.
    Check {
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
    },
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

/// A progress bar on stderr, drawn only on a terminal.
pub(crate) struct PageBar(ProgressBar);

impl PageBar {
    pub(crate) fn new() -> PageBar {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
        );
        PageBar(bar)
    }
}

impl ImportProgress for PageBar {
    fn page_stored(&self, s: &ImportSummary) {
        self.0.set_message(format!(
            "{}: {} pages, {} fetched, {} created, {} updated, {} unchanged, {} failed",
            s.stream, s.pages, s.fetched, s.created, s.updated, s.unchanged, s.failed
        ));
        self.0.tick();
    }
}

impl Drop for PageBar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

pub(crate) fn print_summary(s: &ImportSummary) {
    println!(
        "{} {} on {}: fetched {}, created {}, updated {}, unchanged {}, failed {} ({} pages)",
        s.flow,
        s.stream,
        s.connection,
        s.fetched,
        s.created,
        s.updated,
        s.unchanged,
        s.failed,
        s.pages
    );
}

/// Runs queued jobs; with `serve`, keeps polling the queue and the schedules.
async fn work(host: &switchyard_engine::Switchyard, serve: bool) -> Result<()> {
    let holder = format!("{}/{}", std::process::id(), uuid::Uuid::new_v4());
    let mut since = chrono::Utc::now();
    loop {
        let now = chrono::Utc::now();
        host.enqueue_due_schedules(since, now).await?;
        since = now;
        for (job, state) in host.run_jobs_until_idle(&holder).await? {
            println!(
                "job {} ({}, trigger {}): {state}{}",
                job.id,
                job.kind,
                job.trigger,
                host.store()
                    .job(job.id)
                    .await?
                    .last_error
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default()
            );
        }
        if !serve {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn main() -> ExitCode {
    // First: before wasmtime installs its own handler, which passes on to this one the
    // faults that are not its traps.
    sigbus::install();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    // Usage errors end here with code 2 (clap).
    let cli = Cli::parse();
    // RUST_BACKTRACE asks for the details as `-v` does.
    let verbose = cli.verbose || std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    if cli.verbose {
        // anyhow captures a backtrace only when asked by the environment; set before any
        // thread exists (the runtime is built below), as set_var requires.
        std::env::set_var("RUST_LIB_BACKTRACE", "1");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let code = exit::report(&anyhow::Error::new(e).context("starting"), verbose);
            std::process::exit(i32::from(code))
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit::report(&e, verbose);
            // At once: the error is said; shutting the runtime and the database down would
            // only add noise (or, on an unwritable WAL index, a second fault). SQLite's
            // commits do not depend on a clean close.
            std::process::exit(i32::from(code))
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(&cli.data_dir, &cli.plugins, args).await,
        Command::Bench(args) => bench::run(&cli.plugins, args).await,
        Command::Plugin(PluginCommand::Build { name }) => setup::build_plugins(name.as_deref()),
        Command::Plugin(PluginCommand::Inspect { file }) => setup::inspect(&file).await,
        Command::Connection(ConnectionCommand::Add {
            provider,
            name,
            tenant,
            settings,
            secrets,
            paused,
        }) => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant = host.store().ensure_tenant(&tenant).await?;
            let mut c = NewConnection::new(tenant, provider, name.clone());
            c.settings = settings.into_iter().collect::<BTreeMap<_, _>>();
            let mut s = Secrets::new();
            for (k, v) in secrets {
                s.insert(k, v);
            }
            c.secrets = s;
            c.enabled = true;
            c.live = !paused;
            let id = host.store().create_connection(c).await?;
            println!("connection {name} added ({id})");
            Ok(())
        }
        Command::Connection(ConnectionCommand::Check { name, tenant }) => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let conn = setup::find_connection(&host, &tenant, &name).await?;
            match host.check(conn).await {
                Ok(message) => {
                    println!("connected: {message}");
                    Ok(())
                }
                Err(e) => bail!("connection failed: {e}"),
            }
        }
        Command::Flow(cmd) => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            flows::run(&host, cmd).await
        }
        Command::Inbox(cmd) => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            inbox::run(&host, cmd).await
        }
        Command::PushAgain {
            order,
            service,
            tenant,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant = tenant.id(&host).await?;
            flows::push_again(&host, tenant, &order, service.as_deref(), json).await
        }
        Command::Why {
            order,
            service,
            tenant,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant = tenant.id(&host).await?;
            flows::why(&host, tenant, &order, service.as_deref(), json).await
        }
        Command::GlobalSync { service, tenant } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant = tenant.id(&host).await?;
            let e = host.trigger_global_sync(tenant, &service, "cli").await?;
            if e.joined {
                println!(
                    "a global synchronisation of {service} is already queued (job {}); joined it",
                    e.id
                );
            } else {
                println!("global synchronisation of {service} queued (job {})", e.id);
            }
            Ok(())
        }
        Command::Work { serve, webhooks } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            if let Some(addr) = webhooks {
                if !serve {
                    bail!("--webhooks needs --serve");
                }
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?;
                eprintln!(
                    "receiving Pressero webhooks on http://{}/webhooks/pressero/{{connection-id}}",
                    listener.local_addr()?
                );
                let app = switchyard_webhook::router(std::sync::Arc::new(
                    switchyard_engine::WebhookTrigger::new(host.clone()),
                ));
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        eprintln!("webhook receiver stopped: {e}");
                    }
                });
            }
            work(&host, serve).await
        }
        Command::Jobs {
            tenant,
            limit,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant = tenant.id(&host).await?;
            let jobs = host.store().jobs(tenant, limit).await?;
            if json {
                println!("{}", serde_json::to_string(&jobs)?);
            } else {
                for j in jobs {
                    println!(
                        "{} {} {} (trigger {}, attempt {}/{}){}",
                        j.id,
                        j.kind,
                        j.state,
                        j.trigger,
                        j.attempts,
                        j.max_attempts,
                        j.last_error.map(|e| format!(": {e}")).unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Runs {
            connection,
            tenant,
            limit,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant_id = tenant.id(&host).await?;
            let conns = match &connection {
                Some(name) => vec![setup::find_connection(&host, &tenant.tenant, name).await?],
                None => host
                    .store()
                    .connections(tenant_id)
                    .await?
                    .into_iter()
                    .map(|c| c.id)
                    .collect(),
            };
            let mut runs = Vec::new();
            for c in conns {
                runs.extend(host.store().runs(c, limit).await?);
            }
            runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
            runs.truncate(limit as usize);
            if json {
                println!("{}", serde_json::to_string(&runs)?);
            } else {
                for r in runs {
                    println!(
                        "{} {} {} {} {}: fetched {}, created {}, updated {}, unchanged {}, failed {}{}",
                        r.id, r.started_at.format("%Y-%m-%d %H:%M:%S"), r.flow.as_deref().unwrap_or("-"), r.stream, r.status,
                        r.counts.fetched, r.counts.created, r.counts.updated, r.counts.unchanged, r.counts.failed,
                        r.error.map(|e| format!(" — {e}")).unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Log {
            run,
            connection,
            tenant,
            limit,
            detail,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let tenant_id = tenant.id(&host).await?;
            let entries = match (&run, &connection) {
                (Some(run), _) => {
                    let run = run
                        .parse()
                        .with_context(|| format!("{run:?} is not a run id"))?;
                    host.store().run_activity(run, limit).await?
                }
                (None, Some(name)) => {
                    let conn = setup::find_connection(&host, &tenant.tenant, name).await?;
                    host.store().activity(conn, None, limit).await?
                }
                (None, None) => host.store().tenant_activity(tenant_id, limit).await?,
            };
            if json {
                println!("{}", serde_json::to_string(&entries)?);
            } else {
                for e in entries {
                    println!(
                        "{} {:5} {:14} {}",
                        e.at.format("%Y-%m-%d %H:%M:%S%.3f"),
                        e.level.as_str(),
                        e.kind,
                        e.message
                    );
                    if detail {
                        if let Some(d) = e.detail {
                            println!("    {d}");
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Sync {
            connection,
            stream,
            tenant,
            page_size,
            json,
        } => {
            let host = setup::open_host(&cli.data_dir, &cli.plugins).await?;
            let conn = setup::find_connection(&host, &tenant, &connection).await?;
            let opts = ImportOptions {
                page_size,
                ..Default::default()
            };
            let summary = {
                let bar = PageBar::new();
                host.import(conn, &stream, &opts, &bar)
                    .await
                    .with_context(|| format!("sync of {connection}/{stream} failed"))?
            };
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                print_summary(&summary);
            }
            outcome::exit_if_failed(summary.failed, &summary.failures, &[]);
            Ok(())
        }
    }
}
