//! Pressero webhooks: subscribers register a loopback URL; events are POSTed to it in the
//! background with the envelope `{Type, TypeName, Timestamp, Data, SubscriberId, SiteId,
//! MessageID}` and, when the subscriber has a security key, a `MessageHash` header.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::clock::{format_millis, now_millis};
use crate::core::lock;
use crate::SimError;

/// The webhook event types of the reference, with the numeric `Type` we send (*choice*: the
/// reference names the types but not their numbers; we number them in the reference's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// A new order was placed.
    OrderPlaced,
    /// An order item's status changed.
    OrderItemStatusChanged,
    /// An order changed (payment aside): address, dates.
    OrderUpdated,
    /// An order item changed other than by status: shipment tracking.
    OrderItemUpdated,
    /// A payment was received.
    PaymentReceived,
    /// A product's stock fell below its low-stock threshold.
    LowInventory,
    /// A site user registered.
    NewSiteUser,
    /// A site user was updated.
    UpdatedSiteUser,
}

impl WebhookEvent {
    /// Every event type, in the reference's order.
    pub const ALL: [WebhookEvent; 8] = [
        WebhookEvent::OrderPlaced,
        WebhookEvent::OrderItemStatusChanged,
        WebhookEvent::OrderUpdated,
        WebhookEvent::OrderItemUpdated,
        WebhookEvent::PaymentReceived,
        WebhookEvent::LowInventory,
        WebhookEvent::NewSiteUser,
        WebhookEvent::UpdatedSiteUser,
    ];

    /// The `TypeName` text.
    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::OrderPlaced => "OrderPlaced",
            WebhookEvent::OrderItemStatusChanged => "OrderItemStatusChanged",
            WebhookEvent::OrderUpdated => "OrderUpdated",
            WebhookEvent::OrderItemUpdated => "OrderItemUpdated",
            WebhookEvent::PaymentReceived => "PaymentReceived",
            WebhookEvent::LowInventory => "LowInventory",
            WebhookEvent::NewSiteUser => "NewSiteUser",
            WebhookEvent::UpdatedSiteUser => "UpdatedSiteUser",
        }
    }

    /// The numeric `Type` (1-based position in [`WebhookEvent::ALL`]).
    pub fn code(self) -> u32 {
        WebhookEvent::ALL
            .iter()
            .position(|e| *e == self)
            .map_or(0, |i| i as u32 + 1)
    }

    /// Parses a `TypeName` case-insensitively.
    pub fn parse(text: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// A webhook subscription (config, control API or [`super::PresseroSim::subscribe_webhook`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSubscriber {
    /// Where events are POSTed; must be `http://` on a loopback host (127.0.0.1, ::1, localhost).
    pub url: String,
    /// Only events of this site (domain, case-insensitive); `None` = every site.
    pub site: Option<String>,
    /// The site's security key: when set, each POST carries `MessageHash`.
    pub key: Option<String>,
    /// Only these events; empty = every event.
    pub events: Vec<WebhookEvent>,
}

/// One delivery (or a drop) as recorded for inspection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// The envelope's `MessageID`.
    pub message_id: uuid::Uuid,
    /// Id of the subscription it went to.
    pub subscription_id: u64,
    /// Target URL.
    pub url: String,
    /// `TypeName`.
    pub type_name: String,
    /// HTTP attempts made (0 when dropped).
    pub attempts: u32,
    /// Status code of the last attempt, if the receiver answered.
    pub status: Option<u16>,
    /// True when a 2xx answer was received.
    pub delivered: bool,
    /// True when the `webhook_drop_rate` fault dropped it (never sent).
    pub dropped: bool,
    /// The last transport error, if any.
    pub error: Option<String>,
    /// The exact body POSTed (UTF-8 JSON).
    pub body: String,
    /// The `MessageHash` header sent, if any.
    pub message_hash: Option<String>,
}

/// How webhooks are delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Share of events (0..=1) dropped without any attempt: the "lost webhook" fault.
    pub drop_rate: f64,
    /// HTTP attempts per event before it is recorded as failed (*choice*: 3).
    pub max_attempts: u32,
    /// Delay before a retry, doubled each time (*choice*: 200 ms).
    pub retry_delay_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            drop_rate: 0.0,
            max_attempts: 3,
            retry_delay_ms: 200,
        }
    }
}

impl WebhookSettings {
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&self.drop_rate) {
            return Err(SimError::InvalidConfig(
                "webhook drop rate must be within 0..=1".into(),
            ));
        }
        if self.max_attempts == 0 || self.max_attempts > 10 {
            return Err(SimError::InvalidConfig(
                "webhook max attempts must be 1..=10".into(),
            ));
        }
        Ok(())
    }
}

/// The SHA1 of `key` + `payload`, as lower-case hex: our `MessageHash` encoding.
pub fn message_hash(key: &str, payload: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(payload);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that a subscriber URL is plain HTTP on loopback: the simulator never calls out.
pub fn check_loopback_url(url: &str) -> Result<(), SimError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| SimError::InvalidConfig(format!("webhook url `{url}`: {e}")))?;
    let host = parsed.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    };
    if parsed.scheme() != "http" || !loopback {
        return Err(SimError::InvalidConfig(format!(
            "webhook url `{url}` must be http:// on 127.0.0.1, ::1 or localhost"
        )));
    }
    Ok(())
}

/// An event raised by a change, waiting to be sent once the data lock is released.
#[derive(Clone, Debug)]
pub(crate) struct PendingEvent {
    pub event: WebhookEvent,
    pub site_id: uuid::Uuid,
    pub site_domain: String,
    pub data: Value,
}

struct Subscription {
    id: u64,
    sub: WebhookSubscriber,
}

struct Job {
    subscription_id: u64,
    url: String,
    body: String,
    hash: Option<String>,
    message_id: uuid::Uuid,
    type_name: String,
}

/// The webhook state shared by the simulator and its delivery task.
pub(crate) struct WebhookHub {
    seed: u64,
    subscriber_id: String,
    subscriptions: Mutex<Vec<Subscription>>,
    next_id: AtomicU64,
    settings: Arc<Mutex<WebhookSettings>>,
    deliveries: Arc<Mutex<Vec<WebhookDelivery>>>,
    pending: Arc<AtomicUsize>,
    messages: AtomicU64,
    sender: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Job>>>,
}

impl WebhookHub {
    pub fn new(seed: u64, subscriber_id: String, settings: WebhookSettings) -> WebhookHub {
        WebhookHub {
            seed,
            subscriber_id,
            subscriptions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            settings: Arc::new(Mutex::new(settings)),
            deliveries: Arc::new(Mutex::new(Vec::new())),
            pending: Arc::new(AtomicUsize::new(0)),
            messages: AtomicU64::new(0),
            sender: Mutex::new(None),
        }
    }

    pub fn subscribe(&self, sub: WebhookSubscriber) -> Result<u64, SimError> {
        check_loopback_url(&sub.url)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.subscriptions).push(Subscription { id, sub });
        Ok(id)
    }

    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut subs = lock(&self.subscriptions);
        let before = subs.len();
        subs.retain(|s| s.id != id);
        subs.len() != before
    }

    pub fn subscriptions(&self) -> Vec<(u64, WebhookSubscriber)> {
        lock(&self.subscriptions)
            .iter()
            .map(|s| (s.id, s.sub.clone()))
            .collect()
    }

    pub fn settings(&self) -> WebhookSettings {
        lock(&self.settings).clone()
    }

    pub fn set_settings(&self, s: WebhookSettings) -> Result<(), SimError> {
        s.validate()?;
        *lock(&self.settings) = s;
        Ok(())
    }

    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.deliveries).clone()
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Forgets subscriptions and deliveries (the delivery task keeps running).
    pub fn clear(&self, settings: WebhookSettings) {
        lock(&self.subscriptions).clear();
        lock(&self.deliveries).clear();
        *lock(&self.settings) = settings;
        self.messages.store(0, Ordering::Relaxed);
    }

    /// Queues `events` for every matching subscription.
    pub fn emit(&self, events: Vec<PendingEvent>) {
        if events.is_empty() {
            return;
        }
        let subs: Vec<(u64, WebhookSubscriber)> = self.subscriptions();
        if subs.is_empty() {
            return;
        }
        let drop_rate = lock(&self.settings).drop_rate;
        for ev in events {
            for (id, sub) in &subs {
                if !sub.events.is_empty() && !sub.events.contains(&ev.event) {
                    continue;
                }
                if sub
                    .site
                    .as_ref()
                    .is_some_and(|s| !s.trim().eq_ignore_ascii_case(&ev.site_domain))
                {
                    continue;
                }
                let n = self.messages.fetch_add(1, Ordering::Relaxed);
                let message_id = super::generator::stable_uuid(self.seed, 11, n);
                let envelope = serde_json::json!({
                    "Type": ev.event.code(),
                    "TypeName": ev.event.name(),
                    "Timestamp": format_millis(now_millis()),
                    "Data": ev.data,
                    "SubscriberId": self.subscriber_id,
                    "SiteId": ev.site_id,
                    "MessageID": message_id,
                });
                let body = envelope.to_string();
                let hash = sub.key.as_ref().map(|k| message_hash(k, body.as_bytes()));
                // Deterministic drop decision per message, from the seed.
                let dropped =
                    drop_rate > 0.0 && unit(super::generator::mix(self.seed, 12, n)) < drop_rate;
                if dropped {
                    lock(&self.deliveries).push(WebhookDelivery {
                        message_id,
                        subscription_id: *id,
                        url: sub.url.clone(),
                        type_name: ev.event.name().to_owned(),
                        attempts: 0,
                        status: None,
                        delivered: false,
                        dropped: true,
                        error: None,
                        body,
                        message_hash: hash,
                    });
                    continue;
                }
                self.enqueue(Job {
                    subscription_id: *id,
                    url: sub.url.clone(),
                    body,
                    hash,
                    message_id,
                    type_name: ev.event.name().to_owned(),
                });
            }
        }
    }

    fn enqueue(&self, job: Job) {
        let mut sender = lock(&self.sender);
        if sender.is_none() {
            // The delivery task needs a runtime; without one (a sim built by `new` and never
            // served) the event is recorded as failed rather than lost silently.
            let Ok(handle) = tokio::runtime::Handle::try_current() else {
                drop(sender);
                self.record_failure(job, "no tokio runtime to deliver from");
                return;
            };
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            handle.spawn(deliver_loop(
                rx,
                self.deliveries.clone(),
                self.pending.clone(),
                self.settings.clone(),
            ));
            *sender = Some(tx);
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = sender.as_ref() {
            if let Err(e) = tx.send(job) {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                drop(sender);
                self.record_failure(e.0, "delivery task stopped");
            }
        }
    }

    fn record_failure(&self, job: Job, error: &str) {
        lock(&self.deliveries).push(WebhookDelivery {
            message_id: job.message_id,
            subscription_id: job.subscription_id,
            url: job.url,
            type_name: job.type_name,
            attempts: 0,
            status: None,
            delivered: false,
            dropped: false,
            error: Some(error.to_owned()),
            body: job.body,
            message_hash: job.hash,
        });
    }
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Sends jobs one after another (events reach a subscriber in the order they happened).
async fn deliver_loop(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Job>,
    deliveries: Arc<Mutex<Vec<WebhookDelivery>>>,
    pending: Arc<AtomicUsize>,
    settings: Arc<Mutex<WebhookSettings>>,
) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build();
    while let Some(job) = rx.recv().await {
        let settings = lock(&settings).clone();
        let mut record = WebhookDelivery {
            message_id: job.message_id,
            subscription_id: job.subscription_id,
            url: job.url.clone(),
            type_name: job.type_name.clone(),
            attempts: 0,
            status: None,
            delivered: false,
            dropped: false,
            error: None,
            body: job.body.clone(),
            message_hash: job.hash.clone(),
        };
        match &client {
            Err(e) => record.error = Some(format!("http client: {e}")),
            Ok(client) => {
                let mut delay = settings.retry_delay_ms;
                while record.attempts < settings.max_attempts {
                    if record.attempts > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        delay = delay.saturating_mul(2);
                    }
                    record.attempts += 1;
                    let mut req = client
                        .post(&job.url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(job.body.clone());
                    if let Some(h) = &job.hash {
                        req = req.header("MessageHash", h);
                    }
                    match req.send().await {
                        Ok(resp) => {
                            let status = resp.status();
                            record.status = Some(status.as_u16());
                            record.error = None;
                            if status.is_success() {
                                record.delivered = true;
                                break;
                            }
                        }
                        Err(e) => {
                            record.status = None;
                            record.error = Some(e.to_string());
                        }
                    }
                }
            }
        }
        lock(&deliveries).push(record);
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}
