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
