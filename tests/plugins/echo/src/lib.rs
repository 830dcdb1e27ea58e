//! A tiny connector whose answers name its version: the hot-swap tests build it
//! twice (default = 1.0.0, feature `v2` = 2.0.0) and check which one answers.

// Natively (`cargo test --workspace`) the export macro expands to nothing, so the connector
// is unused there; it exists for the wasm build.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use switchyard_sdk::bindings::switchyard::connector::http as host_http;
use switchyard_sdk::prelude::*;

#[cfg(not(feature = "v2"))]
const VERSION: &str = "1.0.0";
#[cfg(feature = "v2")]
const VERSION: &str = "2.0.0";

struct Echo;

impl Connector for Echo {
    fn describe() -> Manifest {
        Manifest {
            provider: "echo".into(),
            version: VERSION.into(),
            streams: vec![StreamInfo {
                name: "versions".into(),
                entity: EntityKind::Category,
                direction: Direction::Source,
                description: "one record naming the plugin version".into(),
            }],
            settings: vec![],
            allowed_hosts: vec!["{{config:base-url}}".into()],
            rate_limit: None,
        }
    }

    fn check() -> Result<CheckReport> {
        Ok(CheckReport {
            message: format!("echo {VERSION}"),
        })
    }

    fn fetch(_req: FetchRequest) -> Result<Page> {
        // With a `wait-url` setting, call it first, so a test can hold this
        // call in flight while it swaps the plugin.
        if let Some(url) = config::get("wait-url") {
            let _ = host_http::send(&host_http::Request {
                method: host_http::Method::Get,
                url,
                headers: vec![],
                body: None,
                basic_auth: None,
                idempotent: None,
            });
        }
        Ok(Page {
            records: vec![RawRecord {
                external_id: "version".into(),
                updated_at: None,
                data: VERSION.into(),
            }],
            next_cursor: None,
            has_more: false,
        })
    }

    fn map_in(_stream: String, raw: RawRecord) -> Result<Entity> {
        Ok(Entity::Category(Category {
            external_id: raw.external_id,
            name: raw.data,
            parent_external_id: None,
            extension: "{}".into(),
        }))
    }

    fn map_out(_stream: String, _item: Entity) -> Result<Payload> {
        Err(ConnectorError::Permanent("echo pushes nothing".into()))
    }

    fn push(_req: PushRequest) -> Result<PushResult> {
        Err(ConnectorError::Permanent("echo pushes nothing".into()))
    }
}

switchyard_sdk::export_connector!(Echo);
