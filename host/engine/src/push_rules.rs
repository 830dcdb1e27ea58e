//! R-B-1: when an order may be pushed to a service. Each rule is a named predicate, so a
//! waiting order says exactly which rule holds it.

use std::fmt;

use serde::Serialize;
use switchyard_runtime::bindings::{ItemStatus, Order, OrderItem, PaymentState};

/// The rules, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushRule {
    /// Paid, or on open terms.
    Paid,
    /// No item waits for a file (e.g. an eDocBuilder document).
    NoFilesPending,
    /// Every item has a status that can be pushed (pending, approved or denied).
    ValidItemStatus,
    /// All items approved, or at least one approved and all others denied.
    ItemsApproved,
}

impl PushRule {
    /// Every rule.
    pub const ALL: [PushRule; 4] = [
        PushRule::Paid,
        PushRule::NoFilesPending,
        PushRule::ValidItemStatus,
        PushRule::ItemsApproved,
    ];

    /// Its name, as logs and `why` show it.
    pub fn name(self) -> &'static str {
        match self {
            PushRule::Paid => "paid-or-open-terms",
            PushRule::NoFilesPending => "no-files-pending",
            PushRule::ValidItemStatus => "valid-item-status",
            PushRule::ItemsApproved => "items-approved",
        }
    }
}

/// A rule that does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// The rule.
    pub rule: PushRule,
    /// What in the order breaks it.
    pub reason: String,
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule.name(), self.reason)
    }
}

/// Checks one rule.
pub fn check(rule: PushRule, order: &Order) -> Option<Hold> {
    let hold = |reason: String| Some(Hold { rule, reason });
    match rule {
        PushRule::Paid => match order.payment {
            PaymentState::Paid | PaymentState::OpenTerms => None,
            other => hold(format!(
                "payment is {}, not paid or open terms",
                payment_name(other)
            )),
        },
        PushRule::NoFilesPending => {
            let pending = items_where(order, |i| i.files_pending);
            (!pending.is_empty()).then(|| Hold {
                rule,
                reason: format!("files pending for {}", pending.join(", ")),
            })
        }
        PushRule::ValidItemStatus => {
            let invalid: Vec<String> = order
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    !matches!(
                        i.status,
                        ItemStatus::Pending | ItemStatus::Approved | ItemStatus::Denied
                    )
                })
                .map(|(n, i)| format!("{} is {}", item_label(n, i), status_name(i.status)))
                .collect();
            if order.items.is_empty() {
                hold("the order has no items".into())
            } else if invalid.is_empty() {
                None
            } else {
                hold(invalid.join(", "))
            }
        }
        PushRule::ItemsApproved => {
            let pending = items_where(order, |i| i.status == ItemStatus::Pending);
            let approved = order
                .items
                .iter()
                .filter(|i| i.status == ItemStatus::Approved)
                .count();
            if !pending.is_empty() {
                hold(format!("awaiting approval: {}", pending.join(", ")))
            } else if approved == 0 {
                hold("no item is approved".into())
            } else {
                None
            }
        }
    }
}

/// The holds as one sentence, as stored on a waiting push record.
pub fn reason(holds: &[Hold]) -> String {
    holds
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every rule that does not hold; empty when the order may be pushed.
pub fn holds(order: &Order) -> Vec<Hold> {
    PushRule::ALL
        .iter()
        .filter_map(|r| check(*r, order))
        .collect()
}

/// The order as a service receives it: only its approved items (denied ones stay home).
pub fn pushable_part(order: &Order) -> Order {
    let mut out = order.clone();
    out.items.retain(|i| i.status == ItemStatus::Approved);
    out
}

fn items_where(order: &Order, pred: impl Fn(&OrderItem) -> bool) -> Vec<String> {
    order
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| pred(i))
        .map(|(n, i)| item_label(n, i))
        .collect()
}

fn item_label(position: usize, item: &OrderItem) -> String {
    match &item.external_id {
        Some(id) => format!("item {} ({id})", position + 1),
        None => format!("item {}", position + 1),
    }
}

/// The canonical spelling of an item status.
pub fn status_name(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Pending => "pending",
        ItemStatus::Approved => "approved",
        ItemStatus::Denied => "denied",
        ItemStatus::Cancelled => "cancelled",
        ItemStatus::InProduction => "in-production",
        ItemStatus::Shipped => "shipped",
        ItemStatus::Completed => "completed",
    }
}

fn payment_name(p: PaymentState) -> &'static str {
    match p {
        PaymentState::Unpaid => "unpaid",
        PaymentState::PartiallyPaid => "partially paid",
        PaymentState::Paid => "paid",
        PaymentState::OpenTerms => "open terms",
        PaymentState::Refunded => "refunded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_runtime::bindings::{Customer, PartyKind};

    fn item(status: ItemStatus, files_pending: bool) -> OrderItem {
        OrderItem {
            external_id: Some("i".into()),
            sku: None,
            product_code: None,
            product_external_id: None,
            name: "Cards".into(),
            quantity: 1.0,
            unit_price: 100,
            tax_rate_bp: None,
            tax: 0,
            total: 100,
            status,
            files_pending,
            extension: "{}".into(),
        }
    }

    fn order(payment: PaymentState, items: Vec<OrderItem>) -> Order {
        Order {
            external_id: "1".into(),
            number: "1".into(),
            placed_at: "2026-12-01T00:00:00Z".into(),
            updated_at: None,
            currency: "USD".into(),
            payment,
            payment_method: None,
            customer: Customer {
                external_id: None,
                kind: PartyKind::Person,
                company_name: None,
                first_name: None,
                last_name: None,
                email: None,
                phone: None,
                vat_number: None,
                company_external_id: None,
                addresses: vec![],
                contacts: vec![],
                extension: "{}".into(),
            },
            billing: None,
            shipping: None,
            coupons: vec![],
            items,
            subtotal: 0,
            shipping_total: 0,
            tax_total: 0,
            total: 0,
            status: None,
            extension: "{}".into(),
        }
    }

    fn rules_of(o: &Order) -> Vec<PushRule> {
        holds(o).into_iter().map(|h| h.rule).collect()
    }

    #[test]
    fn each_rule_holds_and_breaks() {
        use ItemStatus::*;
        let ok = order(PaymentState::Paid, vec![item(Approved, false)]);
        assert!(holds(&ok).is_empty());
        assert!(holds(&order(PaymentState::OpenTerms, vec![item(Approved, false)])).is_empty());
        assert!(holds(&order(
            PaymentState::Paid,
            vec![item(Approved, false), item(Denied, false)]
        ))
        .is_empty());

        assert_eq!(
            rules_of(&order(PaymentState::Unpaid, vec![item(Approved, false)])),
            [PushRule::Paid]
        );
        assert_eq!(
            rules_of(&order(
                PaymentState::PartiallyPaid,
                vec![item(Approved, false)]
            )),
            [PushRule::Paid]
        );
        assert_eq!(
            rules_of(&order(PaymentState::Paid, vec![item(Approved, true)])),
            [PushRule::NoFilesPending]
        );
        assert_eq!(
            rules_of(&order(
                PaymentState::Paid,
                vec![item(Approved, false), item(Cancelled, false)]
            )),
            [PushRule::ValidItemStatus]
        );
        assert_eq!(
            rules_of(&order(
                PaymentState::Paid,
                vec![item(Approved, false), item(Pending, false)]
            )),
            [PushRule::ItemsApproved]
        );
        assert_eq!(
            rules_of(&order(PaymentState::Paid, vec![item(Denied, false)])),
            [PushRule::ItemsApproved]
        );
        assert_eq!(
            rules_of(&order(PaymentState::Paid, vec![])),
            [PushRule::ValidItemStatus, PushRule::ItemsApproved]
        );
    }

    #[test]
    fn reasons_name_the_items() {
        let o = order(
            PaymentState::Unpaid,
            vec![
                item(ItemStatus::Approved, true),
                item(ItemStatus::Pending, false),
            ],
        );
        let text: Vec<String> = holds(&o).iter().map(|h| h.to_string()).collect();
        assert_eq!(
            text,
            [
                "paid-or-open-terms: payment is unpaid, not paid or open terms",
                "no-files-pending: files pending for item 1 (i)",
                "items-approved: awaiting approval: item 2 (i)",
            ]
        );
    }

    #[test]
    fn denied_items_are_not_sent() {
        let o = order(
            PaymentState::Paid,
            vec![
                item(ItemStatus::Approved, false),
                item(ItemStatus::Denied, false),
            ],
        );
        assert_eq!(pushable_part(&o).items.len(), 1);
    }
}
