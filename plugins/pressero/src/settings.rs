//! The connection's settings, the data centres and the manifest.

use switchyard_sdk::prelude::*;

/// The stream of Pressero orders.
pub const ORDERS: &str = "orders";
/// The stream of item status updates written back to Pressero.
pub const ITEM_STATUS: &str = "item-status";
/// The stream of a site's products (read and write).
pub const PRODUCTS: &str = "products";
/// The stream of a site's product categories (read and write).
pub const CATEGORIES: &str = "categories";
/// The stream of a site's registered users (read).
pub const USERS: &str = "users";

/// The canonical item statuses and the Pressero `StatusId` each maps to by
/// default (the ids `docs/pressero-api.md` lists). Sites with their own
/// workflow override them with the setting `item-status-ids`.
pub const DEFAULT_STATUS_IDS: [(ItemStatus, &str, &str); 7] = [
    (ItemStatus::Pending, "pending", "Pending"),
    (ItemStatus::Approved, "approved", "Approved"),
    (ItemStatus::Denied, "denied", "Denied"),
    (ItemStatus::Cancelled, "cancelled", "Cancelled"),
    (ItemStatus::InProduction, "in-production", "InProduction"),
    (ItemStatus::Shipped, "shipped", "Shipped"),
    (ItemStatus::Completed, "completed", "Completed"),
];

/// The data centres Pressero runs in: setting value, label, API root.
pub const DATA_CENTRES: [(&str, &str, &str); 3] = [
    (
        "chicago",
        "Chicago",
        "https://admin.chi.v6.pressero.com/api/",
    ),
    (
        "singapore",
        "Singapore",
        "https://admin.sg.v6.pressero.com/api/",
    ),
    (
        "amsterdam",
        "Amsterdam",
        "https://admin.ams.v6.pressero.com/api/",
    ),
];

/// The default re-read window at the end of a pass, in seconds.
pub const DEFAULT_OVERLAP_SECONDS: u64 = 300;

/// Where the connection's API lives, and how to name it to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The API root, ending in `/` (e.g. `https://admin.ams.v6.pressero.com/api/`).
    pub base: String,
    /// "Amsterdam", or the override URL.
    pub label: String,
}

/// The API root of a data centre setting (`chicago`, `singapore`, `amsterdam`;
/// any case, or the short codes `chi`, `sg`, `ams`).
pub fn data_centre_url(value: &str) -> Result<(&'static str, &'static str)> {
    let v = value.trim().to_ascii_lowercase();
    let key = match v.as_str() {
        "chi" => "chicago",
        "sg" => "singapore",
        "ams" => "amsterdam",
        other => other,
    };
    DATA_CENTRES
        .iter()
        .find(|(name, _, _)| *name == key)
        .map(|(_, label, url)| (*label, *url))
        .ok_or_else(|| {
            ConnectorError::invalid_input(
                format!(
                    "unknown Pressero data centre `{}`: choose chicago, singapore or amsterdam",
                    value.trim()
                ),
                "data-centre",
            )
        })
}

/// The API root from `base-url` (when set, it wins: e.g. the local simulator)
/// or from `data-centre`.
pub fn endpoint(base_url: Option<&str>, data_centre: Option<&str>) -> Result<Endpoint> {
    if let Some(url) = base_url {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(ConnectorError::invalid_input(
                format!("`{url}` is not an http(s) URL"),
                "base-url",
            ));
        };
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            || rest.is_empty()
        {
            return Err(ConnectorError::invalid_input(
                format!("`{url}` is not an http(s) URL"),
                "base-url",
            ));
        }
        // A bare host means the API root under it, as Pressero serves it.
        let base = if rest.trim_end_matches('/').contains('/') {
            format!("{}/", url.trim_end_matches('/'))
        } else {
            format!("{}/api/", url.trim_end_matches('/'))
        };
        return Ok(Endpoint {
            label: base.clone(),
            base,
        });
    }
    let Some(dc) = data_centre else {
        return Err(ConnectorError::invalid_input(
            "the setting `data-centre` is required (chicago, singapore or amsterdam)",
            "data-centre",
        ));
    };
    let (label, url) = data_centre_url(dc)?;
    Ok(Endpoint {
        base: url.to_string(),
        label: label.to_string(),
    })
}

/// The endpoint of this connection's settings.
pub fn configured_endpoint() -> Result<Endpoint> {
    endpoint(
        config::get("base-url").as_deref(),
        config::get("data-centre").as_deref(),
    )
}

/// The overlap window from `overlap-seconds`.
pub fn overlap_seconds() -> Result<u64> {
    Ok(config::parse::<u64>("overlap-seconds")?.unwrap_or(DEFAULT_OVERLAP_SECONDS))
}

/// Where a first run starts: `since`, or the epoch.
pub fn since() -> Result<time::Timestamp> {
    match config::get("since") {
        None => Ok(time::Timestamp::EPOCH),
        Some(s) => time::Timestamp::parse_field(&s, "since"),
    }
}

/// The canonical (kebab-case) name of an item status.
pub fn status_name(status: ItemStatus) -> &'static str {
    DEFAULT_STATUS_IDS
        .iter()
        .find(|(s, _, _)| *s == status)
        .map_or("pending", |(_, name, _)| name)
}

/// Parses `item-status-ids`: `canonical=StatusId` pairs separated by commas,
/// e.g. `in-production=Printing,shipped=Dispatched`. Statuses it does not name
/// keep their default id.
pub fn parse_status_ids(text: Option<&str>) -> Result<Vec<(ItemStatus, String)>> {
    let mut out: Vec<(ItemStatus, String)> = DEFAULT_STATUS_IDS
        .iter()
        .map(|(s, _, id)| (*s, (*id).to_string()))
        .collect();
    let Some(text) = text else {
        return Ok(out);
    };
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: &str| {
            ConnectorError::invalid_input(
                format!("`{pair}` in item-status-ids: {why}"),
                "item-status-ids",
            )
        };
        let (key, id) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected canonical-status=StatusId"))?;
        let key = key.trim().to_ascii_lowercase();
        let id = id.trim();
        if id.is_empty() || id.contains('/') {
            return Err(bad("the StatusId must be a non-empty path segment"));
        }
        let slot = out
            .iter_mut()
            .find(|(s, _)| status_name(*s) == key)
            .ok_or_else(|| {
                bad("unknown canonical status (pending, approved, denied, cancelled, in-production, shipped, completed)")
            })?;
        slot.1 = id.to_string();
    }
    Ok(out)
}

/// The Pressero `StatusId` of a canonical item status, by this connection's
/// `item-status-ids`.
pub fn status_id(status: ItemStatus) -> Result<String> {
    let ids = parse_status_ids(config::get("item-status-ids").as_deref())?;
    Ok(ids
        .into_iter()
        .find(|(s, _)| *s == status)
        .map(|(_, id)| id)
        .unwrap_or_default())
}

/// The site (storefront domain) the site streams read and write.
pub fn site() -> Result<String> {
    config::get("site").ok_or_else(|| {
        ConnectorError::invalid_input(
            "the setting `site` (the storefront domain, e.g. shop.example.com) is required \
             for the products, categories and users streams",
            "site",
        )
    })
}

/// The site's currency (`currency` setting, upper case), when set.
pub fn currency() -> Option<String> {
    config::get("currency").map(|c| c.to_ascii_uppercase())
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

/// What the plugin is.
pub fn manifest() -> Manifest {
    Manifest {
        provider: "pressero".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        streams: vec![
            StreamInfo {
                name: ORDERS.into(),
                entity: EntityKind::Order,
                direction: Direction::Source,
                description: "Orders of every site of the subscriber, with items and payments, \
                              incrementally by modification date."
                    .into(),
            },
            StreamInfo {
                name: ITEM_STATUS.into(),
                entity: EntityKind::StatusUpdate,
                direction: Direction::Target,
                description: "Item status and shipment (carrier, tracking number) written back \
                              to Pressero order items; a repeated update changes nothing."
                    .into(),
            },
            StreamInfo {
                name: PRODUCTS.into(),
                entity: EntityKind::Product,
                direction: Direction::Both,
                description: "Products of the site: read, created and updated, with the \
                              integration data kept on the product."
                    .into(),
            },
            StreamInfo {
                name: CATEGORIES.into(),
                entity: EntityKind::Category,
                direction: Direction::Both,
                description: "Product categories of the site: read, created and updated."
                    .into(),
            },
            StreamInfo {
                name: USERS.into(),
                entity: EntityKind::Customer,
                direction: Direction::Source,
                description: "Registered users of the site, with their external user id \
                              (the user's integration data)."
                    .into(),
            },
        ],
        settings: vec![
            setting(
                "data-centre",
                "Data centre",
                "Where the Pressero account is hosted. Needed unless `base-url` is set.",
                false,
                false,
                None,
                &["chicago", "singapore", "amsterdam"],
            ),
            setting(
                "base-url",
                "API base URL (override)",
                "Replaces the data centre's URL, e.g. http://127.0.0.1:8080/api/ for the local simulator.",
                false,
                false,
                None,
                &[],
            ),
            setting("username", "User name", "The Pressero admin API user.", false, true, None, &[]),
            setting("password", "Password", "The API user's password.", true, true, None, &[]),
            setting("subscriber-id", "Subscriber id", "The Pressero subscriber id.", false, true, None, &[]),
            setting("consumer-id", "Consumer id", "The API consumer id.", true, true, None, &[]),
            setting(
                "disable-product-matching",
                "Disable product matching",
                "When true, imported orders are not matched to products (R-A-4).",
                false,
                false,
                Some("false"),
                &["true", "false"],
            ),
            setting(
                "overlap-seconds",
                "Overlap (seconds)",
                "At the end of each pass the next run re-reads this many seconds of changes, \
                 so late-committed changes are not missed.",
                false,
                false,
                Some("300"),
                &[],
            ),
            setting(
                "site",
                "Site",
                "The storefront domain (e.g. shop.example.com) of the products, categories and \
                 users streams.",
                false,
                false,
                None,
                &[],
            ),
            setting(
                "currency",
                "Site currency",
                "ISO 4217 code of the site's prices (e.g. USD); product prices carry it.",
                false,
                false,
                None,
                &[],
            ),
            setting(
                "item-status-ids",
                "Item status ids",
                "The Pressero StatusId of each canonical item status, as \
                 `canonical=StatusId` pairs separated by commas; statuses not named keep the \
                 default (pending=Pending, approved=Approved, denied=Denied, \
                 cancelled=Cancelled, in-production=InProduction, shipped=Shipped, \
                 completed=Completed).",
                false,
                false,
                None,
                &[],
            ),
            setting(
                "default-category-id",
                "Default category",
                "The CategoryId new products go under when none of their categories exists \
                 on the site; empty = the site's Root.",
                false,
                false,
                None,
                &[],
            ),
            setting(
                "since",
                "Import orders changed since",
                "RFC 3339 date where the very first run starts; empty = all orders.",
                false,
                false,
                None,
                &[],
            ),
        ],
        allowed_hosts: vec![
            "admin.chi.v6.pressero.com".into(),
            "admin.sg.v6.pressero.com".into(),
            "admin.ams.v6.pressero.com".into(),
            "{{config:base-url}}".into(),
        ],
        // Pressero publishes no limit; a conservative choice.
        rate_limit: Some(RateLimitHint {
            requests_per_second: 5.0,
            max_concurrency: Some(2),
        }),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn data_centres_map_to_their_api_roots() {
        assert_eq!(
            data_centre_url("chicago").unwrap().1,
            "https://admin.chi.v6.pressero.com/api/"
        );
        assert_eq!(
            data_centre_url("Singapore").unwrap().1,
            "https://admin.sg.v6.pressero.com/api/"
        );
        assert_eq!(
            data_centre_url(" AMS ").unwrap(),
            ("Amsterdam", "https://admin.ams.v6.pressero.com/api/")
        );
        match data_centre_url("london").unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "data-centre");
                assert!(i.message.contains("london"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn base_url_overrides_the_data_centre() {
        let e = endpoint(Some("http://127.0.0.1:8080/api/"), Some("chicago")).unwrap();
        assert_eq!(e.base, "http://127.0.0.1:8080/api/");
        assert_eq!(
            endpoint(Some("http://127.0.0.1:8080"), None).unwrap().base,
            "http://127.0.0.1:8080/api/"
        );
        assert_eq!(
            endpoint(Some("http://127.0.0.1:8080/api"), None)
                .unwrap()
                .base,
            "http://127.0.0.1:8080/api/"
        );
        assert!(endpoint(Some("ftp://x"), None).is_err());
        assert_eq!(
            endpoint(None, Some("amsterdam")).unwrap().label,
            "Amsterdam"
        );
        match endpoint(None, None).unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, "data-centre"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_ids_default_and_can_be_overridden() {
        let ids = parse_status_ids(None).unwrap();
        assert!(ids.contains(&(ItemStatus::InProduction, "InProduction".into())));
        let ids = parse_status_ids(Some("in-production = Printing, shipped=Dispatched")).unwrap();
        assert!(ids.contains(&(ItemStatus::InProduction, "Printing".into())));
        assert!(ids.contains(&(ItemStatus::Shipped, "Dispatched".into())));
        assert!(ids.contains(&(ItemStatus::Approved, "Approved".into())));
        for bad in ["lost=Lost", "shipped", "shipped=a/b"] {
            match parse_status_ids(Some(bad)).unwrap_err() {
                ConnectorError::InvalidInput(i) => assert_eq!(i.location, "item-status-ids"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn manifest_declares_the_orders_stream_and_settings() {
        let m = manifest();
        assert_eq!(m.provider, "pressero");
        assert_eq!(m.streams[0].name, "orders");
        let names: Vec<_> = m.streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["orders", "item-status", "products", "categories", "users"]
        );
        let secret: Vec<_> = m
            .settings
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(secret, ["password", "consumer-id"]);
        assert!(m.allowed_hosts.contains(&"{{config:base-url}}".to_string()));
    }
}
