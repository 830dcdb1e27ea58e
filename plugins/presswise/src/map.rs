//! Mapping between the canonical model and Presswise's records.
//!
//! - `map-out` of `orders`: a canonical [`Order`] → the JSON text of a
//!   [`PurchaseOrder`] (the `add_purchase_order` fields), which `push` sends as SOAP.
//! - `map-in` of `order-status`, `products`, `categories`: the JSON texts `fetch`
//!   writes ([`StatusRecord`], [`api::Product`], [`api::Category`]) → canonical entities.

use serde::{Deserialize, Serialize};
use serde_json::json;
use switchyard_sdk::money::{self, currency_decimals};
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::{self, Party, PurchaseItem, PurchaseOrder, Shipment};
use crate::settings::{is_product_id, OrderSettings};

fn some(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn party(address: Option<&Address>, customer: &Customer) -> Party {
    let first_address = customer.addresses.first();
    let a = address.or(first_address);
    let pick = |f: fn(&Address) -> &Option<String>| a.and_then(|a| some(f(a))).map(str::to_string);
    let street = a
        .map(|a| {
            a.lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Party {
        first: pick(|a| &a.first_name)
            .or_else(|| some(&customer.first_name).map(str::to_string))
            .unwrap_or_default(),
        last: pick(|a| &a.last_name)
            .or_else(|| some(&customer.last_name).map(str::to_string))
            .unwrap_or_default(),
        name_company: pick(|a| &a.company)
            .or_else(|| some(&customer.company_name).map(str::to_string))
            .unwrap_or_default(),
        street,
        city: pick(|a| &a.city).unwrap_or_default(),
        state: pick(|a| &a.region).unwrap_or_default(),
        zip: pick(|a| &a.postal_code).unwrap_or_default(),
        country: pick(|a| &a.country).unwrap_or_default(),
    }
}

fn check_party(p: &Party, canonical: &str) -> Result<()> {
    for (value, field) in [
        (&p.first, "first-name"),
        (&p.last, "last-name"),
        (&p.street, "lines"),
        (&p.city, "city"),
        (&p.zip, "postal-code"),
        (&p.country, "country"),
    ] {
        if value.is_empty() {
            let location = format!("{canonical}.{field}");
            return Err(ConnectorError::invalid_input(
                format!("Presswise needs the {canonical} address's {field} (missing {location})"),
                location,
            ));
        }
    }
    Ok(())
}

fn item_label(i: usize, item: &OrderItem) -> String {
    let code = some(&item.sku)
        .map(|s| format!("sku {s}"))
        .or_else(|| some(&item.product_code).map(|c| format!("product code {c}")))
        .unwrap_or_else(|| format!("`{}`", item.name));
    format!("item {} ({code})", i + 1)
}

/// The Presswise productID of an item: its linked product, else the default.
fn product_id(i: usize, item: &OrderItem, settings: &OrderSettings) -> Result<String> {
    let linked = some(&item.product_external_id);
    if let Some(id) = linked.filter(|id| is_product_id(id)) {
        return Ok(id.to_string());
    }
    if let Some(default) = &settings.default_product_id {
        return Ok(default.clone());
    }
    let why = match linked {
        Some(other) => format!(
            "its product id `{other}` is not a Presswise productID (the product is not linked)"
        ),
        None => "its product is not linked to a Presswise product".to_string(),
    };
    Err(ConnectorError::invalid_input(
        format!(
            "{} cannot be sent to Presswise: {why}, and no `default-product-id` is set",
            item_label(i, item)
        ),
        format!("items[{i}].product-external-id"),
    ))
}

fn quantity(i: usize, item: &OrderItem) -> Result<u64> {
    let q = item.quantity;
    if q.is_finite() && q >= 1.0 && q.fract() == 0.0 && q <= u32::MAX as f64 {
        return Ok(q as u64);
    }
    Err(ConnectorError::invalid_input(
        format!(
            "{}: Presswise needs a whole quantity of at least 1, not {q}",
            item_label(i, item)
        ),
        format!("items[{i}].quantity"),
    ))
}

fn file_href(item: &OrderItem) -> Option<String> {
    let ext: serde_json::Value = serde_json::from_str(&item.extension).ok()?;
    ["fileUrl", "file-url", "fileHref"]
        .iter()
        .find_map(|k| ext.get(k).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A readable per-item pricing summary for `comments`.
pub fn pricing_summary(order: &Order) -> String {
    let d = currency_decimals(&order.currency);
    let m = |v: i64| format!("{} {}", money::format_minor(v, d), order.currency);
    let mut lines = vec![format!("Pricing of order {}:", order.number)];
    for (i, item) in order.items.iter().enumerate() {
        let sku = some(&item.sku)
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        lines.push(format!(
            "{}. {}{sku}: {} x {} = {} (tax {})",
            i + 1,
            item.name.trim(),
            item.quantity,
            m(item.unit_price),
            m(item.total),
            m(item.tax)
        ));
    }
    lines.push(format!("Subtotal: {}", m(order.subtotal)));
    if order.shipping_total != 0 {
        lines.push(format!("Shipping: {}", m(order.shipping_total)));
    }
    for c in &order.coupons {
        lines.push(format!("Coupon {}: -{}", c.code, m(c.amount)));
    }
    lines.push(format!("Tax: {}", m(order.tax_total)));
    lines.push(format!("Total: {}", m(order.total)));
    lines.join("\n")
}

fn extension_text(order: &Order, keys: &[&str]) -> Option<String> {
    let ext: serde_json::Value = serde_json::from_str(&order.extension).ok()?;
    keys.iter()
        .find_map(|k| ext.get(k).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `map-out`: a canonical order → the `add_purchase_order` fields.
pub fn purchase_order(order: &Order, settings: &OrderSettings) -> Result<PurchaseOrder> {
    let number = order.number.trim();
    if number.is_empty() {
        return Err(ConnectorError::invalid_input(
            "the order has no number to send as sourceOrderID",
            "number",
        ));
    }
    if order.items.is_empty() {
        return Err(ConnectorError::invalid_input(
            format!("order {number} has no items; Presswise needs at least one"),
            "items",
        ));
    }
    let bill_to = party(order.billing.as_ref(), &order.customer);
    check_party(&bill_to, "billing")?;
    let ship_to = match &order.shipping {
        Some(a) => party(Some(a), &order.customer),
        None => bill_to.clone(),
    };
    check_party(&ship_to, "shipping")?;
    let d = currency_decimals(&order.currency);
    let items = order
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Ok(PurchaseItem {
                quantity: quantity(i, item)?,
                product_id: product_id(i, item, settings)?,
                product_desc: item.name.trim().to_string(),
                source_job_id: some(&item.external_id)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{number}-{}", i + 1)),
                file_href: file_href(item),
                num_pages: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(PurchaseOrder {
        customer_po: extension_text(order, &["customerPO", "poNumber", "po-number"]),
        source_order_id: number.to_string(),
        bill_to,
        ship_to,
        initial_status: settings.initial_status.clone(),
        ship_method: settings.ship_method.clone(),
        sub_total: money::format_minor(order.subtotal, d),
        tax_cost: money::format_minor(order.tax_total, d),
        total_cost: money::format_minor(order.total, d),
        due_date: extension_text(order, &["dueDate", "due-date"]),
        comments: settings.pricing_in_notes.then(|| pricing_summary(order)),
        items,
    })
}

/// The payload text of an order (JSON of [`PurchaseOrder`]).
pub fn order_payload(order: &Order, settings: &OrderSettings) -> Result<Payload> {
    let po = purchase_order(order, settings)?;
    Ok(Payload {
        data: serde_json::to_string(&po)
            .map_err(|e| ConnectorError::permanent(format!("cannot encode the payload: {e}")))?,
    })
}

/// Reads a payload `map-out` wrote.
pub fn read_payload(payload: &Payload) -> Result<PurchaseOrder> {
    serde_json::from_str(&payload.data).map_err(|e| {
        ConnectorError::invalid_input(
            format!("the payload is not a Presswise purchase order: {e}"),
            "payload",
        )
    })
}

/// The raw record of one item's status (`order-status` stream), as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    /// `orderID`.
    #[serde(rename = "orderID")]
    pub order_id: String,
    /// `sourceOrderID`.
    #[serde(rename = "sourceOrderID")]
    pub source_order_id: String,
    /// The order's status text.
    pub order_status: String,
    /// `itemID`.
    #[serde(rename = "itemID")]
    pub item_id: String,
    /// `sourceJobID`.
    #[serde(rename = "sourceJobID")]
    pub source_job_id: String,
    /// `productID`.
    #[serde(rename = "productID")]
    pub product_id: String,
    /// The item's status text.
    pub status: String,
    /// The item's `statusDate`.
    pub status_date: String,
    /// The item's shipment.
    pub shipment: Option<Shipment>,
}

impl StatusRecord {
    /// One record per item of an order.
    pub fn of_order(order: &api::OrderStatus) -> Vec<StatusRecord> {
        order
            .items
            .iter()
            .map(|i| StatusRecord {
                order_id: order.order_id.clone(),
                source_order_id: order.source_order_id.clone(),
                order_status: order.status.clone(),
                item_id: i.item_id.clone(),
                source_job_id: i.source_job_id.clone(),
                product_id: i.product_id.clone(),
                status: i.status.clone(),
                status_date: i.status_date.clone(),
                shipment: i.shipment.clone(),
            })
            .collect()
    }

    /// The raw record: external id `{orderID}/{itemID}`.
    pub fn raw(&self) -> RawRecord {
        RawRecord {
            external_id: format!("{}/{}", self.order_id, self.item_id),
            updated_at: Timestamp::parse(&self.status_date)
                .ok()
                .map(|t| t.to_string()),
            data: serde_json::to_string(self).expect("a status record serialises"),
        }
    }
}

/// The canonical status of a Presswise item status text.
pub fn item_status(text: &str, location: &str) -> Result<ItemStatus> {
    Ok(match text.trim().to_ascii_lowercase().as_str() {
        "new" | "on hold" => ItemStatus::Approved,
        "prepress" | "proof sent" | "proof approved" | "in production" | "finishing" => {
            ItemStatus::InProduction
        }
        "shipped" => ItemStatus::Shipped,
        "completed" => ItemStatus::Completed,
        "cancelled" | "canceled" => ItemStatus::Cancelled,
        _ => {
            return Err(ConnectorError::invalid_input(
                format!("unknown Presswise item status `{}`", text.trim()),
                location,
            ))
        }
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(data: &str, what: &str) -> Result<T> {
    serde_json::from_str(data).map_err(|e| {
        ConnectorError::invalid_input(format!("not a Presswise {what} record: {e}"), "data")
    })
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// `map-in` of `order-status`.
pub fn status_update(raw: &RawRecord) -> Result<StatusUpdate> {
    let r: StatusRecord = parse_json(&raw.data, "item status")?;
    let status = item_status(&r.status, "status")?;
    let shipment = match &r.shipment {
        None => None,
        Some(s) => Some(api_shipment(s)?),
    };
    Ok(StatusUpdate {
        order_external_id: r.order_id.clone(),
        item_external_id: opt(&r.item_id),
        status,
        status_text: opt(&r.status),
        shipment,
        extension: json!({
            "sourceOrderID": r.source_order_id,
            "sourceJobID": r.source_job_id,
            "productID": r.product_id,
            "orderStatus": r.order_status,
            "statusDate": Timestamp::parse(&r.status_date).ok().map(|t| t.to_string()),
        })
        .to_string(),
    })
}

fn api_shipment(s: &Shipment) -> Result<switchyard_sdk::types::Shipment> {
    let shipped_at = match opt(&s.ship_date) {
        None => None,
        Some(d) => Some(Timestamp::parse_field(&d, "shipment.shipDate")?.to_string()),
    };
    Ok(switchyard_sdk::types::Shipment {
        carrier: opt(&s.carrier),
        tracking_number: opt(&s.tracking_number),
        tracking_url: None,
        shipped_at,
    })
}

/// `map-in` of `products`; prices are in `currency` when given (else 2 decimals, no currency).
pub fn product(raw: &RawRecord, currency: Option<&str>) -> Result<Product> {
    let p: api::Product = parse_json(&raw.data, "product")?;
    if p.product_id.trim().is_empty() {
        return Err(ConnectorError::invalid_input(
            "missing productID",
            "productID",
        ));
    }
    let decimals = currency.map(currency_decimals).unwrap_or(2);
    let price = match opt(&p.price) {
        None => None,
        Some(t) => Some(money::parse_minor(&t, decimals).map_err(|e| e.at("price"))?),
    };
    let category = p.category_id.trim();
    Ok(Product {
        external_id: p.product_id.trim().to_string(),
        sku: opt(&p.sku),
        code: None,
        name: p.name.trim().to_string(),
        names: Vec::new(),
        short_description: None,
        long_description: opt(&p.description),
        price_excl_tax: price,
        price_incl_tax: None,
        currency: currency.map(str::to_string),
        ean: None,
        quantity: None,
        categories: if category.is_empty() || category == "0" {
            Vec::new()
        } else {
            vec![category.to_string()]
        },
        variants: Vec::new(),
        properties: Vec::new(),
        active: p.active,
        extension: json!({
            "modified": Timestamp::parse(&p.modified).ok().map(|t| t.to_string()),
        })
        .to_string(),
    })
}

/// `map-in` of `categories`.
pub fn category(raw: &RawRecord) -> Result<Category> {
    let c: api::Category = parse_json(&raw.data, "category")?;
    if c.category_id.trim().is_empty() {
        return Err(ConnectorError::invalid_input(
            "missing categoryID",
            "categoryID",
        ));
    }
    let parent = c.parent_id.trim();
    Ok(Category {
        external_id: c.category_id.trim().to_string(),
        name: c.name.trim().to_string(),
        parent_external_id: (!parent.is_empty() && parent != "0").then(|| parent.to_string()),
        extension: json!({ "active": c.active }).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_statuses_map_to_canonical_ones() {
        let cases = [
            ("New", ItemStatus::Approved),
            ("On Hold", ItemStatus::Approved),
            ("Prepress", ItemStatus::InProduction),
            ("Proof Sent", ItemStatus::InProduction),
            ("Proof Approved", ItemStatus::InProduction),
            ("In Production", ItemStatus::InProduction),
            ("Finishing", ItemStatus::InProduction),
            ("Shipped", ItemStatus::Shipped),
            ("Completed", ItemStatus::Completed),
            ("Cancelled", ItemStatus::Cancelled),
        ];
        for (text, expected) in cases {
            assert_eq!(item_status(text, "status").unwrap(), expected, "{text}");
        }
        match item_status("Lost in space", "status").unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "status");
                assert!(i.message.contains("Lost in space"));
            }
            other => panic!("{other:?}"),
        }
    }

    fn settings(default_product: Option<&str>) -> OrderSettings {
        OrderSettings {
            initial_status: "New".into(),
            pricing_in_notes: false,
            default_product_id: default_product.map(Into::into),
            ship_method: "Ground".into(),
        }
    }

    fn canonical_order() -> Order {
        let item = OrderItem {
            external_id: Some("li-1".into()),
            sku: None,
            product_code: Some("PC-9".into()),
            product_external_id: Some("3f2a-guid".into()),
            name: "Flyer".into(),
            quantity: 2.0,
            unit_price: 50,
            tax_rate_bp: None,
            tax: 0,
            total: 100,
            status: ItemStatus::Approved,
            files_pending: false,
            extension: r#"{"fileUrl":"https://files.example/a.pdf"}"#.into(),
        };
        Order {
            external_id: "1".into(),
            number: " 1001 ".into(),
            placed_at: "2026-12-01T10:00:00Z".into(),
            updated_at: None,
            currency: "JPY".into(),
            payment: PaymentState::Paid,
            payment_method: None,
            customer: Customer {
                external_id: None,
                kind: PartyKind::Company,
                company_name: Some("Acme".into()),
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                email: None,
                phone: None,
                vat_number: None,
                company_external_id: None,
                addresses: vec![Address {
                    external_id: None,
                    first_name: None,
                    last_name: None,
                    company: None,
                    lines: vec!["1 Main St".into(), " ".into()],
                    city: Some("Osaka".into()),
                    postal_code: Some("530-0001".into()),
                    region: None,
                    country: Some("JP".into()),
                    phone: None,
                    email: None,
                    extension: "{}".into(),
                }],
                contacts: vec![],
                extension: "{}".into(),
            },
            billing: None,
            shipping: None,
            coupons: vec![],
            items: vec![item],
            subtotal: 100,
            shipping_total: 0,
            tax_total: 0,
            total: 1234,
            status: None,
            extension: r#"{"customerPO":"PO-77"}"#.into(),
        }
    }

    #[test]
    fn map_out_falls_back_to_the_customer_and_formats_money_by_currency() {
        let po = purchase_order(&canonical_order(), &settings(Some("12"))).unwrap();
        assert_eq!(po.source_order_id, "1001");
        assert_eq!(po.customer_po.as_deref(), Some("PO-77"));
        assert_eq!(po.bill_to.first, "Ann");
        assert_eq!(po.bill_to.name_company, "Acme");
        assert_eq!(po.bill_to.street, "1 Main St");
        assert_eq!(po.bill_to.city, "Osaka");
        assert_eq!(po.ship_to, po.bill_to);
        // JPY has no minor units.
        assert_eq!(po.total_cost, "1234");
        assert_eq!(po.initial_status, "New");
        // A product id that is not a Presswise one is not linked: the default is used.
        assert_eq!(po.items[0].product_id, "12");
        assert_eq!(po.items[0].quantity, 2);
        assert_eq!(
            po.items[0].file_href.as_deref(),
            Some("https://files.example/a.pdf")
        );
        assert_eq!(po.comments, None);
    }

    #[test]
    fn map_out_refuses_what_presswise_cannot_take() {
        let mut o = canonical_order();
        match purchase_order(&o, &settings(None)).unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "items[0].product-external-id");
                assert!(
                    i.message.contains("item 1 (product code PC-9)"),
                    "{}",
                    i.message
                );
                assert!(i.message.contains("3f2a-guid"), "{}", i.message);
            }
            other => panic!("{other:?}"),
        }
        o.items[0].product_external_id = Some("55".into());
        assert_eq!(
            purchase_order(&o, &settings(None)).unwrap().items[0].product_id,
            "55"
        );
        o.items[0].quantity = 1.5;
        match purchase_order(&o, &settings(None)).unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, "items[0].quantity"),
            other => panic!("{other:?}"),
        }
        o.items[0].quantity = 1.0;
        o.customer.addresses[0].city = None;
        match purchase_order(&o, &settings(None)).unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, "billing.city"),
            other => panic!("{other:?}"),
        }
        o.items.clear();
        assert!(purchase_order(&o, &settings(None)).is_err());
    }

    #[test]
    fn products_and_categories_map_in() {
        let raw = RawRecord {
            external_id: "7".into(),
            updated_at: None,
            data: r#"{"productID":"7","sku":"BC-1","name":"Cards","description":"Nice","categoryID":"0","price":"12.5","active":false,"modified":"2026-11-01 10:00:00"}"#.into(),
        };
        let p = product(&raw, Some("USD")).unwrap();
        assert_eq!(p.price_excl_tax, Some(1250));
        assert_eq!(p.currency.as_deref(), Some("USD"));
        assert!(p.categories.is_empty());
        assert!(!p.active);
        assert!(p.extension.contains("2026-11-01T10:00:00Z"));
        let c = category(&RawRecord {
            external_id: "3".into(),
            updated_at: None,
            data: r#"{"categoryID":"3","parentID":"1","name":"Flyers","active":true}"#.into(),
        })
        .unwrap();
        assert_eq!(c.parent_external_id.as_deref(), Some("1"));
    }
}
