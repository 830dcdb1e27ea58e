//! The connection's settings, the stream names and the manifest.

use switchyard_sdk::prelude::*;

/// Stream of M-Power companies (canonical `customer`, kind company).
pub const COMPANIES: &str = "companies";
/// Stream of M-Power contacts (canonical `customer`, kind person, with their company).
pub const CONTACTS: &str = "contacts";
/// Stream of M-Power addresses (canonical `customer` of the company holding one address).
pub const ADDRESSES: &str = "addresses";
/// Stream of M-Power products.
pub const PRODUCTS: &str = "products";
/// Target stream of M-Power orders.
pub const ORDERS: &str = "orders";

/// Setting: the API base URL, ending in `/api/v1`.
pub const URL: &str = "url";
/// Secret setting: the API key, sent as `X-Api-Key`.
pub const API_KEY: &str = "api-key";
/// Setting: whether order lines are matched to products (read by the host).
pub const PRODUCT_MATCHING: &str = "product-matching";
/// Setting: whether `ann+shop@x` counts as `ann@x` when contacts are matched (read by the
/// host).
pub const MERGE_PLUS_ADDRESSING: &str = "merge-plus-addressing";

/// The API base URL from the `url` setting, without a trailing slash:
/// `http://127.0.0.1:8080/api/v1/` → `http://127.0.0.1:8080/api/v1`.
///
/// It must be an http(s) URL whose path ends in `/api/v1`; anything else is
/// `invalid-input` at `url`.
pub fn base_url() -> Result<String> {
    normalise_base(&config::required(URL)?)
}

/// Checks and normalises a base URL (see [`base_url`]).
pub fn normalise_base(url: &str) -> Result<String> {
    let url = url.trim();
    let trimmed = url.trim_end_matches('/');
    let scheme_ok = trimmed.split_once("://").is_some_and(|(scheme, rest)| {
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            && !rest.is_empty()
            && !rest.starts_with('/')
    });
    if !scheme_ok || !trimmed.ends_with("/api/v1") || trimmed.contains('?') {
        return Err(ConnectorError::invalid_input(
            format!(
                "`{url}` is not an M-Power API base URL; expected e.g. https://mis.example.com/api/v1/"
            ),
            URL,
        ));
    }
    Ok(trimmed.to_string())
}

fn stream(name: &str, entity: EntityKind, direction: Direction, description: &str) -> StreamInfo {
    StreamInfo {
        name: name.into(),
        entity,
        direction,
        description: description.into(),
    }
}

/// The plugin's manifest.
pub fn manifest() -> Manifest {
    Manifest {
        provider: "mpower".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        streams: vec![
            stream(
                COMPANIES,
                EntityKind::Customer,
                Direction::Both,
                "M-Power companies as company customers (`company-{id}`); pushed with \
                 find-or-create by VAT number, else name.",
            ),
            stream(
                CONTACTS,
                EntityKind::Customer,
                Direction::Both,
                "M-Power contacts as person customers (`contact-{id}`) of their company; \
                 pushed with find-or-create by e-mail within the company.",
            ),
            stream(
                ADDRESSES,
                EntityKind::Customer,
                Direction::Both,
                "M-Power addresses (`address-{id}`), each as its company customer holding \
                 that one address; pushed under the company, found by postcode and street.",
            ),
            stream(
                PRODUCTS,
                EntityKind::Product,
                Direction::Both,
                "M-Power products: code = product code, SKU = M-Power external id; pushed \
                 with find-or-create by product code, then external id.",
            ),
            stream(
                ORDERS,
                EntityKind::Order,
                Direction::Target,
                "Orders created with POST /orders and an Idempotency-Key; a retry finds the \
                 order by external reference (the source order number).",
            ),
        ],
        settings: vec![
            Setting {
                name: URL.into(),
                label: "API URL".into(),
                description: "The M-Power API base URL, ending in /api/v1, e.g. \
                              https://mis.example.com/api/v1/"
                    .into(),
                secret: false,
                required: true,
                default_value: None,
                choices: vec![],
            },
            Setting {
                name: API_KEY.into(),
                label: "API key".into(),
                description: "The M-Power API key (sent as the X-Api-Key header)".into(),
                secret: true,
                required: true,
                default_value: None,
                choices: vec![],
            },
            Setting {
                name: PRODUCT_MATCHING.into(),
                label: "Product matching".into(),
                description: "match order lines to M-Power products by product code or \
                              external id; false = every line waits for a person to link it"
                    .into(),
                secret: false,
                required: false,
                default_value: Some("true".into()),
                choices: vec!["true".into(), "false".into()],
            },
            Setting {
                name: MERGE_PLUS_ADDRESSING.into(),
                label: "Merge plus-addressing".into(),
                description: "when matching contacts by e-mail, treat ann+shop@example.com as \
                              ann@example.com; false = they are different people"
                    .into(),
                secret: false,
                required: false,
                default_value: Some("false".into()),
                choices: vec!["true".into(), "false".into()],
            },
        ],
        allowed_hosts: vec![format!("{{{{config:{URL}}}}}")],
        // M-Power publishes no limits; stay gentle.
        rate_limit: Some(RateLimitHint {
            requests_per_second: 5.0,
            max_concurrency: Some(2),
        }),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use switchyard_sdk::testing::FakeHost;

    #[test]
    fn manifest_declares_streams_settings_and_the_url_host() {
        let m = manifest();
        assert_eq!(m.provider, "mpower");
        let names: Vec<_> = m.streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [COMPANIES, CONTACTS, ADDRESSES, PRODUCTS, ORDERS]);
        assert_eq!(m.streams[4].direction, Direction::Target);
        assert!(m.streams[..4]
            .iter()
            .all(|s| s.direction == Direction::Both));
        let secret: Vec<_> = m
            .settings
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(secret, [API_KEY]);
        let pm = m
            .settings
            .iter()
            .find(|s| s.name == PRODUCT_MATCHING)
            .unwrap();
        assert_eq!(pm.default_value.as_deref(), Some("true"));
        assert_eq!(pm.choices, ["true", "false"]);
        assert_eq!(m.allowed_hosts, ["{{config:url}}"]);
    }

    #[test]
    fn base_url_needs_api_v1_and_drops_the_slash() {
        FakeHost::new()
            .config(URL, "http://127.0.0.1:9/api/v1/")
            .install();
        assert_eq!(base_url().unwrap(), "http://127.0.0.1:9/api/v1");
        assert_eq!(
            normalise_base("https://mis.example.com/api/v1").unwrap(),
            "https://mis.example.com/api/v1"
        );
        for bad in [
            "mis.example.com/api/v1",
            "https://mis.example.com/",
            "ftp://mis.example.com/api/v1",
        ] {
            match normalise_base(bad).unwrap_err() {
                ConnectorError::InvalidInput(i) => assert_eq!(i.location, URL),
                other => panic!("{other:?}"),
            }
        }
        FakeHost::new().install();
        assert!(base_url().is_err());
    }
}
