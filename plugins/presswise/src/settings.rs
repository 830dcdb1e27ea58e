//! The connection's settings and the manifest.

use switchyard_sdk::prelude::*;

/// The target stream of orders pushed to Presswise.
pub const ORDERS: &str = "orders";
/// The source stream of per-item order status, read by order id.
pub const ORDER_STATUS: &str = "order-status";
/// The source stream of catalogue products.
pub const PRODUCTS: &str = "products";
/// The source stream of catalogue categories.
pub const CATEGORIES: &str = "categories";

/// Setting: the SOAP endpoint URL.
pub const URL: &str = "url";
/// Setting: `auth.user`.
pub const USERNAME: &str = "username";
/// Secret setting: `auth.pass`.
pub const PASSWORD: &str = "password";
/// Secret setting: `auth.code`, the tenant's authorization code.
pub const AUTHORIZATION_CODE: &str = "authorization-code";
/// Setting: the status a pushed order starts in.
pub const INITIAL_STATUS: &str = "initial-status";
/// Setting: put a pricing summary in the order's comments.
pub const PRICING_IN_NOTES: &str = "pricing-in-notes";
/// Setting: the productID for items whose product is not linked.
pub const DEFAULT_PRODUCT_ID: &str = "default-product-id";
/// Setting: the shipMethod of pushed orders.
pub const SHIP_METHOD: &str = "ship-method";
/// Setting: the currency of catalogue prices.
pub const CURRENCY: &str = "currency";

/// The initial status Presswise gives an order when none is sent.
pub const DEFAULT_INITIAL_STATUS: &str = "AUTO New";
/// The statuses a pushed order may start in (only New today).
pub const INITIAL_STATUSES: [&str; 2] = ["AUTO New", "New"];
/// The shipMethod sent when the setting is not set.
pub const DEFAULT_SHIP_METHOD: &str = "Ground";

/// Where the SOAP endpoint is, checked to be an http(s) URL.
pub fn endpoint() -> Result<String> {
    let url = config::required(URL)?;
    let ok = url.split_once("://").is_some_and(|(scheme, rest)| {
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            && !rest.is_empty()
            && !rest.starts_with('/')
    });
    if !ok {
        return Err(ConnectorError::invalid_input(
            format!(
                "`{url}` is not an http(s) URL; expected e.g. https://acme.mypresswise.com/r/wsdl-order2.php"
            ),
            URL,
        ));
    }
    // A `?wsdl` suffix is the description, not the endpoint.
    let url = url.strip_suffix("?wsdl").unwrap_or(&url).to_string();
    Ok(url)
}

/// The settings `map-out` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSettings {
    /// `initial_status` of pushed orders.
    pub initial_status: String,
    /// Whether to write a pricing summary into `comments`.
    pub pricing_in_notes: bool,
    /// The productID for items without a linked product.
    pub default_product_id: Option<String>,
    /// `shipMethod`.
    pub ship_method: String,
}

impl OrderSettings {
    /// Reads them from the connection's settings.
    pub fn load() -> Result<Self> {
        let initial_status = config::get_or(INITIAL_STATUS, DEFAULT_INITIAL_STATUS);
        if !INITIAL_STATUSES.contains(&initial_status.as_str()) {
            return Err(ConnectorError::invalid_input(
                format!(
                    "the setting `{INITIAL_STATUS}` must be one of {}, not `{initial_status}`",
                    INITIAL_STATUSES.join(", ")
                ),
                INITIAL_STATUS,
            ));
        }
        let default_product_id = config::get(DEFAULT_PRODUCT_ID);
        if let Some(id) = &default_product_id {
            if !is_product_id(id) {
                return Err(ConnectorError::invalid_input(
                    format!("the setting `{DEFAULT_PRODUCT_ID}` must be a Presswise productID (a number), not `{id}`"),
                    DEFAULT_PRODUCT_ID,
                ));
            }
        }
        Ok(OrderSettings {
            initial_status,
            pricing_in_notes: config::flag(PRICING_IN_NOTES, false)?,
            default_product_id,
            ship_method: config::get_or(SHIP_METHOD, DEFAULT_SHIP_METHOD),
        })
    }
}

/// Whether a text can be a Presswise productID (a positive integer).
pub fn is_product_id(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.bytes().any(|b| b != b'0')
}

/// The currency of catalogue prices, if set (upper case).
pub fn currency() -> Option<String> {
    config::get(CURRENCY).map(|c| c.to_ascii_uppercase())
}

fn setting(
    name: &str,
    label: &str,
    description: &str,
    secret: bool,
    required: bool,
    default_value: Option<&str>,
    choices: &[&str],
) -> Setting {
    Setting {
        name: name.into(),
        label: label.into(),
        description: description.into(),
        secret,
        required,
        default_value: default_value.map(Into::into),
        choices: choices.iter().map(|c| (*c).to_string()).collect(),
    }
}

fn stream(name: &str, entity: EntityKind, direction: Direction, description: &str) -> StreamInfo {
    StreamInfo {
        name: name.into(),
        entity,
        direction,
        description: description.into(),
    }
}

/// What the plugin is.
pub fn manifest() -> Manifest {
    Manifest {
        provider: "presswise".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        streams: vec![
            stream(
                ORDERS,
                EntityKind::Order,
                Direction::Target,
                "Orders pushed with add_purchase_order. Presswise has no idempotency key: a \
                 retry after an ambiguous failure looks the order up by sourceOrderID first.",
            ),
            stream(
                ORDER_STATUS,
                EntityKind::StatusUpdate,
                Direction::Source,
                "Per-item status and shipments of pushed orders, read by order id \
                 (Presswise has no change feed).",
            ),
            stream(
                PRODUCTS,
                EntityKind::Product,
                Direction::Source,
                "The catalogue's products, inactive ones included, in full passes.",
            ),
            stream(
                CATEGORIES,
                EntityKind::Category,
                Direction::Source,
                "The catalogue's categories, in full passes.",
            ),
        ],
        settings: vec![
            setting(
                URL,
                "SOAP endpoint URL",
                "The order service of the tenant, e.g. https://acme.mypresswise.com/r/wsdl-order2.php.",
                false,
                true,
                None,
                &[],
            ),
            setting(USERNAME, "User name", "The Presswise API user (auth.user).", false, true, None, &[]),
            setting(PASSWORD, "Password", "The API user's password (auth.pass).", true, true, None, &[]),
            setting(
                AUTHORIZATION_CODE,
                "Authorization code",
                "The tenant's API authorization code (auth.code).",
                true,
                true,
                None,
                &[],
            ),
            setting(
                INITIAL_STATUS,
                "Initial order status",
                "The status a pushed order starts in.",
                false,
                false,
                Some(DEFAULT_INITIAL_STATUS),
                &INITIAL_STATUSES,
            ),
            setting(
                PRICING_IN_NOTES,
                "Pricing in notes",
                "When true, a per-item pricing summary is written into the order's comments.",
                false,
                false,
                Some("false"),
                &["true", "false"],
            ),
            setting(
                DEFAULT_PRODUCT_ID,
                "Default product id",
                "The Presswise productID used for an item whose product is not linked; \
                 without it such an order is refused.",
                false,
                false,
                None,
                &[],
            ),
            setting(
                SHIP_METHOD,
                "Ship method",
                "The shipMethod of pushed orders.",
                false,
                false,
                Some(DEFAULT_SHIP_METHOD),
                &[],
            ),
            setting(
                CURRENCY,
                "Catalogue currency",
                "ISO 4217 code of catalogue prices (Presswise does not say); empty = unknown.",
                false,
                false,
                None,
                &[],
            ),
        ],
        allowed_hosts: vec![format!("{{{{config:{URL}}}}}")],
        // Presswise publishes no limit; a conservative choice for a PHP SOAP service.
        rate_limit: Some(RateLimitHint {
            requests_per_second: 4.0,
            max_concurrency: Some(2),
        }),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use switchyard_sdk::testing::FakeHost;

    #[test]
    fn manifest_declares_streams_secrets_and_the_url_host() {
        let m = manifest();
        assert_eq!(m.provider, "presswise");
        let names: Vec<_> = m.streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [ORDERS, ORDER_STATUS, PRODUCTS, CATEGORIES]);
        assert_eq!(m.streams[0].direction, Direction::Target);
        let secret: Vec<_> = m
            .settings
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(secret, [PASSWORD, AUTHORIZATION_CODE]);
        assert_eq!(m.allowed_hosts, ["{{config:url}}"]);
        assert!(m.rate_limit.is_some());
    }

    #[test]
    fn endpoint_and_order_settings_are_checked() {
        FakeHost::new()
            .config(URL, "https://acme.mypresswise.com/r/wsdl-order2.php?wsdl")
            .config(DEFAULT_PRODUCT_ID, "12")
            .install();
        assert_eq!(
            endpoint().unwrap(),
            "https://acme.mypresswise.com/r/wsdl-order2.php"
        );
        let s = OrderSettings::load().unwrap();
        assert_eq!(s.initial_status, "AUTO New");
        assert_eq!(s.default_product_id.as_deref(), Some("12"));
        assert!(!s.pricing_in_notes);

        FakeHost::new()
            .config(URL, "acme.mypresswise.com")
            .config(INITIAL_STATUS, "Shipped")
            .install();
        match endpoint().unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, URL),
            other => panic!("{other:?}"),
        }
        match OrderSettings::load().unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, INITIAL_STATUS),
            other => panic!("{other:?}"),
        }
        FakeHost::new().config(DEFAULT_PRODUCT_ID, "abc").install();
        assert!(OrderSettings::load().is_err());
    }
}
