//! Pressero webhooks start work at once (R-B-5): a verified delivery for a connection queues
//! a sync of every Live flow fed by it. A lost webhook costs only latency: the schedule's
//! poll picks the change up.

use async_trait::async_trait;
use switchyard_store::{ConnectionId, Level, NewActivity, StoreError};
use switchyard_webhook::{PresseroEvent, SecurityKey, SinkError, WebhookSink};

use crate::Switchyard;

/// The connection secret holding the site's webhook security key.
pub const WEBHOOK_KEY_SECRET: &str = "webhook-key";

/// The [`WebhookSink`] of a host: the URL's connection is the connection's id.
pub struct WebhookTrigger {
    host: Switchyard,
}

impl WebhookTrigger {
    /// A sink that queues flow syncs on `host`.
    pub fn new(host: Switchyard) -> WebhookTrigger {
        WebhookTrigger { host }
    }
}

fn unavailable(e: StoreError) -> SinkError {
    SinkError::Unavailable(e.to_string())
}

#[async_trait]
impl WebhookSink for WebhookTrigger {
    async fn security_key(&self, connection: &str) -> Result<Option<SecurityKey>, SinkError> {
        let Ok(id) = connection.parse::<ConnectionId>() else {
            return Ok(None);
        };
        let conn = match self.host.store().connection(id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        if conn.provider != "pressero" {
            return Ok(None);
        }
        let secrets = self
            .host
            .store()
            .connection_secrets(id)
            .await
            .map_err(|e| SinkError::Failed(e.to_string()))?;
        Ok(secrets.get(WEBHOOK_KEY_SECRET).map(SecurityKey::new))
    }

    async fn deliver(&self, connection: &str, event: PresseroEvent) -> Result<(), SinkError> {
        let id: ConnectionId = connection
            .parse()
            .map_err(|_| SinkError::Failed(format!("{connection:?} is not a connection id")))?;
        let conn = self
            .host
            .store()
            .connection(id)
            .await
            .map_err(unavailable)?;
        let mut queued = Vec::new();
        for flow in self
            .host
            .store()
            .flows(conn.tenant)
            .await
            .map_err(unavailable)?
        {
            if flow.source != id || !flow.live {
                continue;
            }
            let e = self
                .host
                .trigger_flow_sync(flow.id, "webhook", None)
                .await
                .map_err(|e| SinkError::Unavailable(e.to_string()))?;
            queued.push(serde_json::json!({ "flow": flow.name, "job": e.id, "joined": e.joined }));
        }
        self.host
            .store()
            .log_activity(NewActivity {
                tenant: conn.tenant,
                connection: Some(id),
                run: None,
                level: Level::Info,
                kind: "webhook".into(),
                message: format!(
                    "Pressero {} (message {}{}): {} flow sync(s) queued",
                    event.type_name,
                    event.message_id,
                    event
                        .order_number
                        .map(|n| format!(", order {n}"))
                        .unwrap_or_default(),
                    queued.len()
                ),
                detail: Some(serde_json::json!({ "queued": queued, "data": event.data })),
            })
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
