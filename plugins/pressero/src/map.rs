//! `map-in`: a raw Pressero order document → the canonical `Order`.
//!
//! The raw document is `{"Details": {...}, "Items": [...], "Payments": [...]}`
//! as `fetch` assembles it. Malformed data is `invalid-input` naming the field
//! (`Details.OrderTotal`, `Items[1].StatusId`, …).

use serde_json::{json, Map, Value};
use switchyard_sdk::money::{self, currency_decimals, field_minor};
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::order_number;

fn text(obj: &Value, field: &str) -> Option<String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn optional_minor(obj: &Value, field: &str, decimals: u32, location: &str) -> Result<Option<i64>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => money::json_to_minor(v, decimals)
            .map(Some)
            .map_err(|e| e.at(location)),
    }
}

fn timestamp(obj: &Value, field: &str, location: &str) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(Timestamp::parse_field(s, location)?.to_string())),
        Some(_) => Err(ConnectorError::invalid_input(
            format!("{location} is not a timestamp text"),
            location,
        )),
    }
}

/// The payment state of Pressero's `PaymentStatus`.
pub fn payment_state(status: &str, location: &str) -> Result<PaymentState> {
    Ok(
        match status
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_', '-'], "")
            .as_str()
        {
            "paid" => PaymentState::Paid,
            "unpaid" => PaymentState::Unpaid,
            "onaccount" => PaymentState::OpenTerms,
            "partiallypaid" => PaymentState::PartiallyPaid,
            "refunded" => PaymentState::Refunded,
            _ => {
                return Err(ConnectorError::invalid_input(
                    format!("unknown payment status `{status}`"),
                    location,
                ))
            }
        },
    )
}

/// The item status of Pressero's `StatusId`.
pub fn item_status(status: &str, location: &str) -> Result<ItemStatus> {
    Ok(
        match status
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_', '-'], "")
            .as_str()
        {
            "pending" => ItemStatus::Pending,
            "approved" => ItemStatus::Approved,
            "denied" => ItemStatus::Denied,
            "cancelled" | "canceled" => ItemStatus::Cancelled,
            "inproduction" => ItemStatus::InProduction,
            "shipped" => ItemStatus::Shipped,
            "completed" => ItemStatus::Completed,
            _ => {
                return Err(ConnectorError::invalid_input(
                    format!("unknown item status `{status}`"),
                    location,
                ))
            }
        },
    )
}

/// An ISO 3166-1 alpha-2 code for the country names Pressero commonly stores;
/// other texts are kept as they are.
pub fn country_code(country: &str) -> String {
    let c = country.trim();
    if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return c.to_ascii_uppercase();
    }
    let code = match c.to_ascii_lowercase().as_str() {
        "united states" | "united states of america" | "usa" | "us" => "US",
        "canada" => "CA",
        "united kingdom" | "great britain" | "uk" => "GB",
        "netherlands" | "the netherlands" => "NL",
        "singapore" => "SG",
        "germany" => "DE",
        "france" => "FR",
        "hungary" => "HU",
        "australia" => "AU",
        "belgium" => "BE",
        _ => return c.to_string(),
    };
    code.to_string()
}

fn address(obj: Option<&Value>) -> Option<Address> {
    let a = obj.filter(|v| v.is_object())?;
    let lines: Vec<String> = ["Address1", "Address2", "Address3"]
        .iter()
        .filter_map(|f| text(a, f))
        .collect();
    let out = Address {
        external_id: None,
        first_name: text(a, "FirstName"),
        last_name: text(a, "LastName"),
        company: text(a, "Business"),
        lines,
        city: text(a, "City"),
        postal_code: text(a, "Postal"),
        region: text(a, "StateProvince"),
        country: text(a, "Country").map(|c| country_code(&c)),
        phone: text(a, "Phone"),
        email: text(a, "Email"),
        extension: "{}".into(),
    };
    // An all-empty address object means "none".
    let empty = out.first_name.is_none()
        && out.last_name.is_none()
        && out.company.is_none()
        && out.lines.is_empty()
        && out.city.is_none()
        && out.postal_code.is_none()
        && out.country.is_none();
    (!empty).then_some(out)
}

fn customer(details: &Value) -> Customer {
    let empty = json!({});
    let by = details
        .get("OrderedBy")
        .filter(|v| v.is_object())
        .unwrap_or(&empty);
    let email = text(by, "Email").or_else(|| text(details, "OrderedByEmail"));
    let first = text(by, "FirstName");
    let last = text(by, "LastName");
    let phone = text(by, "Phone");
    let user_id = text(by, "UserId");
    match text(by, "Business") {
        Some(company) => Customer {
            external_id: None,
            kind: PartyKind::Company,
            company_name: Some(company),
            first_name: None,
            last_name: None,
            email: email.clone(),
            phone: phone.clone(),
            vat_number: None,
            company_external_id: None,
            addresses: Vec::new(),
            contacts: vec![Contact {
                external_id: user_id,
                first_name: first,
                last_name: last,
                email,
                phone,
                role: None,
            }],
            extension: "{}".into(),
        },
        None => Customer {
            external_id: user_id,
            kind: PartyKind::Person,
            company_name: None,
            first_name: first,
            last_name: last,
            email,
            phone,
            vat_number: None,
            company_external_id: None,
            addresses: Vec::new(),
            contacts: Vec::new(),
            extension: "{}".into(),
        },
    }
}

fn item(raw: &Value, i: usize, decimals: u32) -> Result<OrderItem> {
    let at = |f: &str| format!("Items[{i}].{f}");
    if !raw.is_object() {
        return Err(ConnectorError::invalid_input(
            "not an object",
            format!("Items[{i}]"),
        ));
    }
    let name = text(raw, "ProductName")
        .or_else(|| text(raw, "ProductCode"))
        .or_else(|| text(raw, "Sku"))
        .or_invalid(&at("ProductName"))?;
    let quantity = match raw.get("Quantity") {
        Some(Value::Number(n)) => n.as_f64().or_invalid(&at("Quantity"))?,
        Some(Value::String(s)) => s.trim().parse::<f64>().or_invalid(&at("Quantity"))?,
        _ => {
            return Err(ConnectorError::invalid_input(
                format!("missing {}", at("Quantity")),
                at("Quantity"),
            ))
        }
    };
    if !(quantity.is_finite() && quantity >= 0.0) {
        return Err(ConnectorError::invalid_input(
            "the quantity must not be negative",
            at("Quantity"),
        ));
    }
    // Pressero's item Price is the price of the whole line, excluding tax.
    let total = field_minor(raw.get("Price"), decimals, &at("Price"))?;
    let tax = optional_minor(raw, "Tax", decimals, &at("Tax"))?.unwrap_or(0);
    let shipping = optional_minor(raw, "Shipping", decimals, &at("Shipping"))?.unwrap_or(0);
    let status_text = text(raw, "StatusId").or_invalid(&at("StatusId"))?;
    let status = item_status(&status_text, &at("StatusId"))?;
    let files_pending = match raw.get("FilesPending") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ConnectorError::invalid_input(
                "expected true or false",
                at("FilesPending"),
            ))
        }
    };
    let extension = json!({
        "orderItemNumber": raw.get("OrderItemNumber"),
        "orderItemId": raw.get("OrderItemId"),
        "workflowStageId": raw.get("WorkflowStageId"),
        "statusId": status_text,
        "shipping": shipping,
        "shipmentTracking": raw.get("ShipmentTracking"),
        "siteName": raw.get("SiteName"),
    });
    Ok(OrderItem {
        external_id: text(raw, "OrderItemId").or_else(|| text(raw, "OrderItemNumber")),
        sku: text(raw, "Sku"),
        product_code: text(raw, "ProductCode"),
        product_external_id: text(raw, "ProductId"),
        name,
        quantity,
        unit_price: money::divide(total, quantity),
        // Pressero gives the tax amount, not its rate; a rate derived from
        // rounded amounts would be wrong, so it stays unknown.
        tax_rate_bp: None,
        tax,
        total,
        status,
        files_pending,
        extension: extension.to_string(),
    })
}

/// Maps one raw order document; `product_matching` is false when the
/// connection disables product matching (recorded in the extension for the host).
pub fn order(data: &str, product_matching: bool) -> Result<Order> {
    let doc: Value = serde_json::from_str(data).or_invalid("data")?;
    let details = doc
        .get("Details")
        .filter(|d| d.is_object())
        .or_invalid("Details")?;
    let number = order_number(details.get("OrderNumber"), "Details.OrderNumber")?.to_string();
    let currency = text(details, "Currency")
        .or_invalid("Details.Currency")?
        .to_ascii_uppercase();
    let decimals = currency_decimals(&currency);
    let placed_at =
        timestamp(details, "OrderDate", "Details.OrderDate")?.or_invalid("Details.OrderDate")?;
    let updated_at = timestamp(details, "ModifiedDate", "Details.ModifiedDate")?;
    let status_text = text(details, "PaymentStatus").or_invalid("Details.PaymentStatus")?;
    let payment = payment_state(&status_text, "Details.PaymentStatus")?;

    let items = match doc.get("Items") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, raw)| item(raw, i, decimals))
            .collect::<Result<Vec<_>>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ConnectorError::invalid_input("not a list", "Items")),
    };

    let coupons = match details.get("Coupons") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Coupon {
                    code: text(c, "Code").or_invalid(&format!("Details.Coupons[{i}].Code"))?,
                    amount: field_minor(
                        c.get("Amount"),
                        decimals,
                        &format!("Details.Coupons[{i}].Amount"),
                    )?
                    .abs(),
                    description: text(c, "Description"),
                })
            })
            .collect::<Result<Vec<_>>>()?,
        _ => Vec::new(),
    };

    let mut payments = Vec::new();
    if let Some(Value::Array(list)) = doc.get("Payments") {
        for (i, p) in list.iter().enumerate() {
            payments.push(json!({
                "amount": field_minor(p.get("Amount"), decimals, &format!("Payments[{i}].Amount"))?,
                "method": p.get("Method"),
                "date": timestamp(p, "Date", &format!("Payments[{i}].Date"))?,
            }));
        }
    }

    let item_total: i64 = items.iter().map(|i| i.total).sum();
    let item_tax: i64 = items.iter().map(|i| i.tax).sum();
    let subtotal =
        optional_minor(details, "SubTotal", decimals, "Details.SubTotal")?.unwrap_or(item_total);
    let shipping_total =
        optional_minor(details, "ShippingTotal", decimals, "Details.ShippingTotal")?.unwrap_or(0);
    let tax_total =
        optional_minor(details, "TaxTotal", decimals, "Details.TaxTotal")?.unwrap_or(item_tax);
    let total = field_minor(details.get("OrderTotal"), decimals, "Details.OrderTotal")?;

    let mut extension = Map::new();
    extension.insert(
        "orderId".into(),
        details.get("OrderId").cloned().unwrap_or(Value::Null),
    );
    extension.insert(
        "siteName".into(),
        details.get("SiteName").cloned().unwrap_or(Value::Null),
    );
    extension.insert(
        "itemCount".into(),
        details.get("ItemCount").cloned().unwrap_or(Value::Null),
    );
    extension.insert("paymentStatus".into(), Value::String(status_text));
    extension.insert("payments".into(), Value::Array(payments));
    extension.insert("productMatching".into(), Value::Bool(product_matching));

    Ok(Order {
        external_id: number.clone(),
        number,
        placed_at,
        updated_at,
        currency,
        payment,
        payment_method: text(details, "PaymentMethod"),
        customer: customer(details),
        billing: address(details.get("BillTo")),
        shipping: address(details.get("ShipTo")),
        coupons,
        items,
        subtotal,
        shipping_total,
        tax_total,
        total,
        status: text(details, "Status"),
        extension: Value::Object(extension).to_string(),
    })
}
