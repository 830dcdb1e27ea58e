//! The `users` stream: the site's registered users as canonical customers (R-B-9).
//!
//! Users are integrated, not synchronised: each keeps the external user id another system gave
//! it in Pressero's `IntegrationData`, and the customer carries it in its extension
//! (`externalUserId`): the `externalUserId` or `externalId` of a JSON object text, else the
//! text itself. A user with a `Business` is a company customer with the user as its contact,
//! as the orders stream maps an order's `OrderedBy`.

use serde_json::{json, Value};
use switchyard_sdk::prelude::*;

use crate::site::SiteList;

/// The users list.
pub const USER_LIST: SiteList = SiteList {
    path: "users",
    id_field: "UserId",
    query: "",
};

fn text(obj: &Value, field: &str) -> Option<String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The external user id an `IntegrationData` text holds.
pub fn external_user_id(integration: Option<&str>) -> Option<String> {
    let t = integration?.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return text(&v, "externalUserId").or_else(|| text(&v, "externalId"));
    }
    Some(t.to_string())
}

/// A Pressero user (as `site/{site}/users` serves it) → the canonical customer.
pub fn customer(data: &str) -> Result<Customer> {
    let doc: Value = serde_json::from_str(data).or_invalid("data")?;
    if !doc.is_object() {
        return Err(ConnectorError::invalid_input("not an object", "data"));
    }
    let id = text(&doc, "UserId").or_invalid("UserId")?;
    let email = text(&doc, "Email");
    let first = text(&doc, "FirstName");
    let last = text(&doc, "LastName");
    let phone = text(&doc, "Phone");
    let integration = text(&doc, "IntegrationData");
    let extension = json!({
        "externalUserId": external_user_id(integration.as_deref()),
        "integrationData": integration,
        "siteName": doc.get("SiteName"),
        "modifiedDate": doc.get("ModifiedDate"),
    })
    .to_string();
    Ok(match text(&doc, "Business") {
        Some(company) => Customer {
            external_id: Some(id.clone()),
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
                external_id: Some(id),
                first_name: first,
                last_name: last,
                email,
                phone,
                role: None,
            }],
            extension,
        },
        None => Customer {
            external_id: Some(id),
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
            extension,
        },
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_external_user_id_comes_from_the_integration_data() {
        assert_eq!(external_user_id(Some("MIS-42")).as_deref(), Some("MIS-42"));
        assert_eq!(
            external_user_id(Some(r#"{"externalUserId":"u-9"}"#)).as_deref(),
            Some("u-9")
        );
        assert_eq!(external_user_id(Some(r#"{"other":1}"#)), None);
        assert_eq!(external_user_id(Some("  ")), None);
        assert_eq!(external_user_id(None), None);
    }

    #[test]
    fn a_business_user_is_a_company_with_the_user_as_contact() {
        let c = customer(
            r#"{"UserId":"u1","Email":"a@b.c","FirstName":"Ann","LastName":"Lee","Business":"Acme",
                "Phone":"1","SiteName":"shop.example.com","IntegrationData":"E-1","ModifiedDate":"2026-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(c.kind, PartyKind::Company);
        assert_eq!(c.external_id.as_deref(), Some("u1"));
        assert_eq!(c.contacts[0].first_name.as_deref(), Some("Ann"));
        let ext: Value = serde_json::from_str(&c.extension).unwrap();
        assert_eq!(ext["externalUserId"], "E-1");
        let p = customer(r#"{"UserId":"u2","FirstName":"Bo","Business":""}"#).unwrap();
        assert_eq!(p.kind, PartyKind::Person);
        assert!(customer(r#"{"Email":"x"}"#).is_err());
    }
}
