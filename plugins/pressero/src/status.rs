//! The `item-status` stream: canonical status updates written back to Pressero items.
//!
//! `map-out` turns a [`StatusUpdate`] into a [`StatusPayload`]: the order number (the orders
//! stream's `Order.external_id`), the item (`OrderItem.external_id`: the `OrderItemId`, or an
//! `OrderItemNumber` / position, which Pressero also accepts), the Pressero `StatusId` of the
//! canonical status (setting `item-status-ids`), the notes (`status-text`) and the shipment.
//!
//! `push` reads the order's items first and writes only what differs, so a repeated update
//! changes nothing at Pressero:
//! 1. a shipment (`POST V2/Orders/Shipments`) only for items whose `ShipmentTracking` does not
//!    already hold that tracking number — Pressero has no idempotency key, so this look-up is
//!    what keeps a retried push from recording a second shipment;
//! 2. the status (`PUT V2/Orders/{n}/Item/{i}/Status/{statusId}?notes=…`) only for items not
//!    already in it (with those notes);
//! 3. it reads each item's status back for the answer (`StatusName`).
//!
//! Pressero's shipment call takes a carrier and a tracking number only: the tracking URL and
//! the ship date stay in the payload (and so in the activity log) but are not sent.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_sdk::http::Method;
use switchyard_sdk::prelude::*;

use crate::api::{encode_component, order_number, Session};

/// The shipment part of a status payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShipmentPayload {
    /// The carrier, e.g. `UPS`.
    pub carrier: String,
    /// The tracking number.
    pub tracking_number: String,
    /// Not sent to Pressero (no field for it); kept for the log.
    pub tracking_url: Option<String>,
    /// Not sent to Pressero (it dates the shipment itself); kept for the log.
    pub ship_date: Option<String>,
}

/// What `map-out` produces for `push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusPayload {
    /// The order number.
    pub order_number: u64,
    /// The item reference; `None` = every item of the order.
    pub item: Option<String>,
    /// The canonical status (`in-production`, …).
    pub status: String,
    /// The Pressero `StatusId` it maps to.
    pub status_id: String,
    /// Notes for the status change (`?notes=`).
    pub notes: Option<String>,
    /// The shipment to record, if any.
    pub shipment: Option<ShipmentPayload>,
}

fn clean(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// `map-out` of the `item-status` stream.
pub fn map_out(update: &StatusUpdate) -> Result<Payload> {
    let number = order_number(
        Some(&Value::String(update.order_external_id.clone())),
        "order-external-id",
    )
    .map_err(|_| {
        ConnectorError::invalid_input(
            format!(
                "`{}` is not a Pressero order number (the orders stream's external id)",
                update.order_external_id
            ),
            "order-external-id",
        )
    })?;
    let item = clean(&update.item_external_id);
    if item.as_deref().is_some_and(|i| i.contains('/')) {
        return Err(ConnectorError::invalid_input(
            "an item id cannot contain `/`",
            "item-external-id",
        ));
    }
    let shipment = match &update.shipment {
        None => None,
        Some(s) => {
            let carrier = clean(&s.carrier);
            let tracking = clean(&s.tracking_number);
            match (carrier, tracking) {
                (None, None) if s.tracking_url.is_none() => None,
                (Some(carrier), Some(tracking_number)) => Some(ShipmentPayload {
                    carrier,
                    tracking_number,
                    tracking_url: clean(&s.tracking_url),
                    ship_date: clean(&s.shipped_at),
                }),
                (None, _) => {
                    return Err(ConnectorError::invalid_input(
                        "Pressero records a shipment only with a carrier",
                        "shipment.carrier",
                    ))
                }
                (_, None) => {
                    return Err(ConnectorError::invalid_input(
                        "Pressero records a shipment only with a tracking number",
                        "shipment.tracking-number",
                    ))
                }
            }
        }
    };
    let payload = StatusPayload {
        order_number: number,
        item,
        status: crate::settings::status_name(update.status).to_string(),
        status_id: crate::settings::status_id(update.status)?,
        notes: clean(&update.status_text),
        shipment,
    };
    Ok(Payload {
        data: serde_json::to_string(&payload)
            .map_err(|e| ConnectorError::permanent(format!("cannot encode the payload: {e}")))?,
    })
}

/// Parses a payload `map-out` made.
pub fn parse_payload(payload: &Payload) -> Result<StatusPayload> {
    serde_json::from_str(&payload.data).or_invalid("payload")
}

fn item_text(item: &Value, field: &str) -> Option<String> {
    match item.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The indices of the items `reference` names: an `OrderItemId`, an `OrderItemNumber`
/// (`1001-2`) or a 1-based position; every item when `None`.
pub fn select_items(items: &[Value], reference: Option<&str>) -> Vec<usize> {
    let Some(r) = reference.map(str::trim) else {
        return (0..items.len()).collect();
    };
    let by = |field: &str| {
        items
            .iter()
            .position(|it| item_text(it, field).is_some_and(|v| v.eq_ignore_ascii_case(r)))
    };
    by("OrderItemId")
        .or_else(|| by("OrderItemNumber"))
        .or_else(|| {
            r.parse::<usize>()
                .ok()
                .filter(|k| (1..=items.len()).contains(k))
                .map(|k| k - 1)
        })
        .into_iter()
        .collect()
}

/// Whether the item already carries this shipment's tracking number.
pub fn has_tracking(item: &Value, shipment: &ShipmentPayload) -> bool {
    item.get("ShipmentTracking")
        .and_then(|t| t.get("TrackingNumber"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(&shipment.tracking_number))
}

/// Whether the item is already in the wanted status (with the wanted notes, when given).
pub fn has_status(item: &Value, payload: &StatusPayload) -> bool {
    let same_status =
        item_text(item, "StatusId").is_some_and(|s| s.eq_ignore_ascii_case(&payload.status_id));
    let same_notes = match &payload.notes {
        None => true,
        Some(n) => item_text(item, "Notes").as_deref() == Some(n.as_str()),
    };
    same_status && same_notes
}

fn items_of(session: &mut Session, number: u64) -> Result<Vec<Value>> {
    match session.get(&format!("v2/orders/{number}/items"))? {
        None => Err(ConnectorError::not_found(format!(
            "Pressero has no order {number}"
        ))),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(ConnectorError::invalid_input(
            "the items answer is not a list",
            format!("response of GET v2/orders/{number}/items"),
        )),
    }
}

fn item_ref(item: &Value, index: usize) -> String {
    item_text(item, "OrderItemId")
        .or_else(|| item_text(item, "OrderItemNumber"))
        .unwrap_or_else(|| (index + 1).to_string())
}

/// `push` of the `item-status` stream.
pub fn push(req: &PushRequest) -> Result<PushResult> {
    let p = parse_payload(&req.payload)?;
    let n = p.order_number;
    let mut session = Session::from_config(None)?;
    let mut items = items_of(&mut session, n)?;
    let targets = select_items(&items, p.item.as_deref());
    if targets.is_empty() {
        return Err(match &p.item {
            Some(i) => ConnectorError::not_found(format!("Pressero order {n} has no item `{i}`")),
            None => ConnectorError::not_found(format!("Pressero order {n} has no items")),
        });
    }
    let mut shipped = false;
    if req.mode != PushMode::Find {
        if let Some(s) = &p.shipment {
            let lacking: Vec<String> = targets
                .iter()
                .filter(|&&k| !has_tracking(&items[k], s))
                .map(|&k| item_ref(&items[k], k))
                .collect();
            if !lacking.is_empty() {
                session.send(
                    Method::Post,
                    "V2/Orders/Shipments",
                    Some(&json!({
                        "OrderNumber": n,
                        "OrderItemIds": lacking,
                        "Carrier": s.carrier,
                        "TrackingNumber": s.tracking_number,
                    })),
                    // Not retried blindly: a lost answer is settled by the look-up next push.
                    Some(false),
                    &[],
                )?;
                shipped = true;
                // The shipment moves items to Shipped: read what it left before the status.
                items = items_of(&mut session, n)?;
            }
        }
        for &k in &targets {
            if has_status(&items[k], &p) {
                continue;
            }
            let mut path = format!(
                "V2/Orders/{n}/Item/{}/Status/{}",
                encode_component(&item_ref(&items[k], k)),
                encode_component(&p.status_id)
            );
            if let Some(notes) = &p.notes {
                path.push_str(&format!("?notes={}", encode_component(notes)));
            }
            session.send(Method::Put, &path, None, None, &[])?;
        }
    }
    // Read each item's status back: it names the status, and confirms the write.
    let mut pushed = Vec::with_capacity(targets.len());
    for &k in &targets {
        let r = item_ref(&items[k], k);
        let status = session
            .get(&format!(
                "v2/orders/{n}/item/{}/Status",
                encode_component(&r)
            ))?
            .and_then(|s| item_text(&s, "StatusName").or_else(|| item_text(&s, "StatusId")));
        let source_id = match &p.item {
            Some(given) => given.clone(),
            None => r.clone(),
        };
        pushed.push(PushedItem {
            source_id,
            external_id: r,
            status,
        });
    }
    let (external_id, status) = match &p.item {
        Some(_) => (pushed[0].external_id.clone(), pushed[0].status.clone()),
        None => {
            let first = pushed[0].status.clone();
            let same = pushed.iter().all(|i| i.status == first);
            (n.to_string(), if same { first } else { None })
        }
    };
    Ok(PushResult {
        external_id,
        status,
        created: shipped,
        items: pushed,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn items() -> Vec<Value> {
        vec![
            json!({"OrderItemId": "AAA", "OrderItemNumber": "1001-1", "StatusId": "Approved", "Notes": null,
                   "ShipmentTracking": null}),
            json!({"OrderItemId": "bbb", "OrderItemNumber": "1001-2", "StatusId": "Shipped", "Notes": "x",
                   "ShipmentTracking": {"Carrier": "UPS", "TrackingNumber": "1Z9", "ShipDate": "2026-12-01T10:00:00Z"}}),
        ]
    }

    #[test]
    fn items_are_found_by_id_number_or_position() {
        let it = items();
        assert_eq!(select_items(&it, Some("aaa")), [0]);
        assert_eq!(select_items(&it, Some("1001-2")), [1]);
        assert_eq!(select_items(&it, Some("2")), [1]);
        assert!(select_items(&it, Some("3")).is_empty());
        assert!(select_items(&it, Some("zzz")).is_empty());
        assert_eq!(select_items(&it, None), [0, 1]);
    }

    #[test]
    fn what_is_already_there_is_recognised() {
        let it = items();
        let s = ShipmentPayload {
            carrier: "UPS".into(),
            tracking_number: "1z9".into(),
            tracking_url: None,
            ship_date: None,
        };
        assert!(!has_tracking(&it[0], &s));
        assert!(has_tracking(&it[1], &s));
        let mut p = StatusPayload {
            order_number: 1001,
            item: None,
            status: "shipped".into(),
            status_id: "Shipped".into(),
            notes: None,
            shipment: None,
        };
        assert!(has_status(&it[1], &p));
        p.notes = Some("y".into());
        assert!(!has_status(&it[1], &p));
        assert!(!has_status(&it[0], &p));
    }
}
