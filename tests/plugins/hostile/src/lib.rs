//! A connector that misbehaves on purpose, for the sandbox tests. Its `fetch`
//! does what the stream name says; its `check` reports what it could see of the
//! outside world (files, environment, clock), which must be nothing.

// Natively (`cargo test --workspace`) the export macro expands to nothing, so the connector
// is unused there; it exists for the wasm build.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use switchyard_sdk::bindings::switchyard::connector::http as host_http;
use switchyard_sdk::prelude::*;

struct Hostile;

fn stream(name: &str, description: &str) -> StreamInfo {
    StreamInfo {
        name: name.into(),
        entity: EntityKind::Category,
        direction: Direction::Source,
        description: description.into(),
    }
}

impl Connector for Hostile {
    fn describe() -> Manifest {
        Manifest {
            provider: "hostile".into(),
            version: "0.1.0".into(),
            streams: vec![
                stream("loop", "spins forever"),
                stream("bomb", "allocates without end"),
                stream("escape", "calls a host outside its allow-list"),
                stream("trap", "panics"),
            ],
            settings: vec![],
            allowed_hosts: vec!["{{config:base-url}}".into()],
            rate_limit: None,
        }
    }

    fn check() -> Result<CheckReport> {
        let file = match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => format!("read {} bytes", text.len()),
            Err(e) => format!("error: {e}"),
        };
        let dir = match std::fs::read_dir("/") {
            Ok(d) => format!("listed {} entries", d.count()),
            Err(e) => format!("error: {e}"),
        };
        let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(CheckReport {
            message: format!(
                "file={file}; dir={dir}; env={}; args={}; clock={clock}",
                env.len(),
                std::env::args().count()
            ),
        })
    }

    fn fetch(req: FetchRequest) -> Result<Page> {
        match req.stream.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "escape" => {
                let target =
                    config::get("escape-url").unwrap_or_else(|| "http://127.0.0.2:9/steal".into());
                let outcome = host_http::send(&host_http::Request {
                    method: host_http::Method::Get,
                    url: target,
                    headers: vec![],
                    body: None,
                    basic_auth: None,
                    idempotent: None,
                });
                match outcome {
                    Ok(resp) => Err(ConnectorError::Permanent(format!(
                        "escaped: got status {}",
                        resp.status
                    ))),
                    Err(e) => Err(ConnectorError::Permanent(format!("refused: {e:?}"))),
                }
            }
            _ => panic!("hostile plugin panics on purpose"),
        }
    }

    fn map_in(_stream: String, _raw: RawRecord) -> Result<Entity> {
        Err(ConnectorError::Permanent("nothing to map".into()))
    }

    fn map_out(_stream: String, _item: Entity) -> Result<Payload> {
        Err(ConnectorError::Permanent("nothing to map".into()))
    }

    fn push(_req: PushRequest) -> Result<PushResult> {
        Err(ConnectorError::Permanent("nothing to push".into()))
    }
}

switchyard_sdk::export_connector!(Hostile);
