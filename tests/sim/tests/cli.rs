//! The `switchyard-sim` binary prints its base URLs as JSON and serves them.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_ports_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-sim"))
        .args(["--pressero-port", "0", "--seed", "9", "--orders", "50"])
        .args(["--fault", "pressero:throttle_next=1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
    let url = urls["pressero"].as_str().unwrap().to_owned();
    let addr = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/api/"))
        .expect("base URL shape");
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    // The configured fault hits the first API request; control requests are never faulted.
    assert!(get("/api/v2/orders/1001/Details").starts_with("HTTP/1.1 429"));
    assert!(get("/api/v2/orders/1001/Details").starts_with("HTTP/1.1 401"));
    let control = get("/_control/pressero");
    assert!(control.starts_with("HTTP/1.1 200"), "{control}");
    assert!(control.contains("\"orders\":50"), "{control}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Kills the child when the test ends, passed or not, so no simulator outlives it.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn with_no_port_flag_every_system_is_served() {
    let mut child = Reaped(
        Command::new(env!("CARGO_BIN_EXE_switchyard-sim"))
            .args(["--seed", "3", "--orders", "40", "--customers", "20"])
            .args(["--products", "30"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start binary"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
    let urls = urls.as_object().expect("an object of base URLs");
    let mut systems: Vec<&str> = urls.keys().map(String::as_str).collect();
    systems.sort_unstable();
    let mut expected = switchyard_sim::cli::SYSTEMS.to_vec();
    expected.sort_unstable();
    assert_eq!(systems, expected);
    let mut ports = std::collections::HashSet::new();
    for (system, url) in urls {
        let url = url.as_str().unwrap();
        let addr = url
            .strip_prefix("http://")
            .and_then(|u| u.split('/').next())
            .expect("an http base URL");
        assert!(
            addr.starts_with("127.0.0.1:"),
            "{system} on loopback: {url}"
        );
        assert!(ports.insert(addr.to_owned()), "{system} has its own port");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /_control/{system} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{system} control: {out}");
        assert!(
            out.contains("\"seed\":3"),
            "{system} reports its seed: {out}"
        );
    }
}

#[test]
fn a_fault_for_an_unknown_system_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-sim"))
        .args(["--fault", "nosuch:error_rate=0.5"])
        .output()
        .expect("run binary");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nosuch:error_rate=0.5"), "{err}");
    assert!(err.contains("shoprenter"), "lists the systems: {err}");
}
