//! Project tasks, so that a fresh machine needs one command for each job:
//!
//! - `cargo xtask test`  — set up the wasm target, build the plugins, run every test.
//! - `cargo xtask demo`  — the same set-up, then the end-to-end demo on embedded defaults.
//! - `cargo xtask plugins` — only build the plugins.
//! - `cargo xtask bench` — build the plugins, then print the runtime benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Connector crates shipped with Switchyard (folder under `plugins/`).
const PLUGINS: &[&str] = &["pressero", "presswise", "mpower"];
/// Test-only plugins (folder under `tests/plugins/`).
const TEST_PLUGINS: &[&str] = &["hostile", "echo"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map(|(t, r)| (t.as_str(), r))
        .unwrap_or(("help", &[]));
    // `cargo xtask demo -- --json` and `cargo xtask demo --json` mean the same.
    let rest = match rest.split_first() {
        Some((dash, r)) if dash == "--" => r,
        _ => rest,
    };
    let root = workspace_root();
    match task {
        "plugins" => {
            build_plugins(&root)?;
        }
        "test" => {
            let dirs = build_plugins(&root)?;
            run(Command::new(cargo()).current_dir(&root).args([
                "build",
                "--package",
                "switchyard",
            ]))?;
            let bin = target_dir(&root).join("debug").join("switchyard");
            run(Command::new(cargo())
                .current_dir(&root)
                .env("SWITCHYARD_PLUGIN_DIR", &dirs.plugins)
                .env("SWITCHYARD_TEST_PLUGIN_DIR", &dirs.test_plugins)
                .env("SWITCHYARD_BIN", bin)
                .args(["test", "--workspace"])
                .args(rest))?;
        }
        "demo" | "bench" => {
            let dirs = build_plugins(&root)?;
            run(Command::new(cargo())
                .current_dir(&root)
                .env("SWITCHYARD_PLUGIN_DIR", &dirs.plugins)
                .env("SWITCHYARD_TEST_PLUGIN_DIR", &dirs.test_plugins)
                .args([
                    "run",
                    "--release",
                    "--quiet",
                    "--package",
                    "switchyard",
                    "--",
                    task,
                ])
                .args(rest))?;
        }
        _ => {
            eprintln!("usage: cargo xtask <test|demo|bench|plugins> [args…]");
            if task != "help" {
                bail!("unknown task `{task}`");
            }
        }
    }
    Ok(())
}

struct PluginDirs {
    plugins: PathBuf,
    test_plugins: PathBuf,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Add the wasm target (idempotent; these machines do not auto-install it),
/// build every plugin as a component, and copy them to `target/plugins` and
/// `target/test-plugins` as `<name>.wasm`.
fn build_plugins(root: &Path) -> Result<PluginDirs> {
    run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))
        .context("the wasm32-wasip2 target is needed to build plugins")?;
    let target = target_dir(root);
    let dirs = PluginDirs {
        plugins: target.join("plugins"),
        test_plugins: target.join("test-plugins"),
    };
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2"]);
    for p in PLUGINS {
        cmd.args(["--package", &format!("switchyard-plugin-{p}")]);
    }
    for p in TEST_PLUGINS {
        cmd.args(["--package", &format!("switchyard-test-plugin-{p}")]);
    }
    run(&mut cmd)?;
    let out = target.join("wasm32-wasip2").join("release");
    for (names, prefix, dir) in [
        (PLUGINS, "switchyard_plugin_", &dirs.plugins),
        (TEST_PLUGINS, "switchyard_test_plugin_", &dirs.test_plugins),
    ] {
        std::fs::create_dir_all(dir)?;
        for name in names {
            let from = out.join(format!("{prefix}{}.wasm", name.replace('-', "_")));
            let to = dir.join(format!("{name}.wasm"));
            std::fs::copy(&from, &to)
                .with_context(|| format!("copy {} to {}", from.display(), to.display()))?;
        }
    }
    // The second version of `echo`, for the hot-swap tests.
    run(Command::new(cargo()).current_dir(root).args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--package",
        "switchyard-test-plugin-echo",
        "--features",
        "v2",
    ]))?;
    std::fs::copy(
        out.join("switchyard_test_plugin_echo.wasm"),
        dirs.test_plugins.join("echo-v2.wasm"),
    )
    .context("copy echo v2")?;
    Ok(dirs)
}
