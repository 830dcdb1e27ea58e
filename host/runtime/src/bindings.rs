//! Rust types generated from the WIT contract, host side.

wasmtime::component::bindgen!({
    path: "../../wit/v0.1",
    world: "plugin",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use exports::switchyard::connector::connector::{
    CheckReport, Direction, FetchRequest, Manifest, Page, Payload, PushMode, PushRequest,
    PushResult, PushedItem, RateLimitHint, RawRecord, Setting, StreamInfo,
};
pub use switchyard::connector::types::{
    Address, Attribute, Category, ConnectorError, Contact, Coupon, Customer, Entity, EntityKind,
    ItemStatus, LocalizedText, Order, OrderItem, PartyKind, PaymentState, Product, Shipment,
    StatusUpdate, StockLevel, Variant,
};

/// The WIT package version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The fully qualified name of the interface a plugin must export.
pub const CONNECTOR_INTERFACE: &str = "switchyard:connector/connector@0.1.0";

impl ConnectorError {
    /// A sentence for people: the case and the plugin's own words.
    pub fn message(&self) -> String {
        match self {
            ConnectorError::Auth(m) => format!("authentication failed: {m}"),
            ConnectorError::NotFound(m) => format!("not found: {m}"),
            ConnectorError::RateLimited(r) => match r.retry_after_ms {
                Some(ms) => format!("rate limited: {} (retry after {ms} ms)", r.message),
                None => format!("rate limited: {}", r.message),
            },
            ConnectorError::InvalidInput(i) => {
                format!("invalid input at {}: {}", i.location, i.message)
            }
            ConnectorError::AlreadyExists(a) => {
                format!("already exists as {}: {}", a.external_id, a.message)
            }
            ConnectorError::Transient(m) => format!("transient failure: {m}"),
            ConnectorError::Permanent(m) => format!("permanent failure: {m}"),
        }
    }

    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::RateLimited(_) | ConnectorError::Transient(_)
        )
    }
}

impl Entity {
    /// The kind of this entity.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Order(_) => EntityKind::Order,
            Entity::Customer(_) => EntityKind::Customer,
            Entity::Product(_) => EntityKind::Product,
            Entity::Category(_) => EntityKind::Category,
            Entity::StockLevel(_) => EntityKind::StockLevel,
            Entity::StatusUpdate(_) => EntityKind::StatusUpdate,
        }
    }
}

impl Customer {
    /// A customer of `kind` with nothing else known yet (no ids, names, addresses; `{}`
    /// extension), to fill in field by field.
    pub fn blank(kind: PartyKind) -> Customer {
        Customer {
            external_id: None,
            kind,
            company_name: None,
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            vat_number: None,
            company_external_id: None,
            addresses: Vec::new(),
            contacts: Vec::new(),
            extension: "{}".into(),
        }
    }
}

impl EntityKind {
    /// The stable lower-case name used in storage and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntityKind::Order => "order",
            EntityKind::Customer => "customer",
            EntityKind::Product => "product",
            EntityKind::Category => "category",
            EntityKind::StockLevel => "stock-level",
            EntityKind::StatusUpdate => "status-update",
        }
    }
}
