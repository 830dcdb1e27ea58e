//! The `switchyard` command line.

mod bench;
mod demo;
mod setup;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_engine::{ImportOptions, ImportProgress, ImportSummary};
use switchyard_store::{NewConnection, Secrets};

/// Switchyard: an integration runtime whose connectors are sandboxed wasm components.
#[derive(Parser)]
#[command(name = "switchyard", version)]
struct Cli {
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

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
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
            Ok(())
        }
    }
}
