//! Match keys: normalised values under which a canonical record can be found
//! again (contacts by e-mail, companies by name or VAT, addresses by postal
//! fields, products by SKU, code or external id).

use switchyard_matching::{
    address_key as postal_key, code_key, company_key, email_key, vat_key, EmailRules, PostalAddress,
};
use switchyard_runtime::bindings::switchyard::connector::matching::MatchKind;
use switchyard_runtime::bindings::{Address, Customer, Entity, PartyKind};
use switchyard_store::MatchKey;

/// Normalise a value for a key type so that trivial variants meet (see
/// `switchyard_matching`): e-mails trimmed and lower-cased, company names without legal
/// form, case and punctuation, VAT numbers as upper-case letters and digits, codes and SKUs
/// without case.
pub fn normalise(key_type: &str, value: &str) -> String {
    match key_type {
        "email" => email_key(value, EmailRules::default()),
        EMAIL_BASE => email_key(
            value,
            EmailRules {
                merge_plus_addressing: true,
            },
        ),
        "vat" => vat_key(value),
        "company" => company_key(value),
        "name" => value
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        "sku" | "code" | "ean" => code_key(value),
        _ => value.trim().to_string(),
    }
}

/// The key type of an e-mail with plus-addressing merged (`ann+shop@x` = `ann@x`), for
/// connections configured to treat them as one person.
pub const EMAIL_BASE: &str = "email-base";

/// Which stored kind and key type a matching query field looks under.
pub(crate) fn match_key_type(kind: MatchKind, field: &str) -> (&'static str, String) {
    match kind {
        MatchKind::Customer => ("customer", field_or(field, "email")),
        MatchKind::Company => (
            "customer",
            match field {
                "vat" | "vat-number" => "vat".into(),
                _ => "company".into(),
            },
        ),
        MatchKind::Address => ("customer", "address".into()),
        MatchKind::Product => ("product", field_or(field, "sku")),
    }
}

fn field_or(field: &str, default: &str) -> String {
    if field.is_empty() {
        default.to_string()
    } else {
        field.to_string()
    }
}

/// The postal key of an address: street (number last, abbreviations written out),
/// postcode, city and country.
pub fn address_key(a: &Address) -> String {
    postal_key(PostalAddress {
        street: a.lines.first().map(String::as_str).unwrap_or(""),
        house_number: "",
        postcode: a.postal_code.as_deref().unwrap_or(""),
        city: a.city.as_deref().unwrap_or(""),
        country: a.country.as_deref().unwrap_or(""),
    })
}

fn push(keys: &mut Vec<MatchKey>, key_type: &str, value: Option<&str>) {
    if let Some(v) = value {
        let value = if key_type == "address" {
            v.to_string()
        } else {
            normalise(key_type, v)
        };
        if !value.is_empty()
            && !keys
                .iter()
                .any(|k| k.key_type == key_type && k.value == value)
        {
            keys.push(MatchKey {
                key_type: key_type.to_string(),
                value,
            });
        }
    }
}

fn customer_keys(keys: &mut Vec<MatchKey>, c: &Customer) {
    push(keys, "email", c.email.as_deref());
    push(keys, EMAIL_BASE, c.email.as_deref());
    for contact in &c.contacts {
        push(keys, "email", contact.email.as_deref());
        push(keys, EMAIL_BASE, contact.email.as_deref());
    }
    if c.kind == PartyKind::Company {
        push(keys, "company", c.company_name.as_deref());
    }
    push(keys, "vat", c.vat_number.as_deref());
    for a in &c.addresses {
        push(keys, "address", Some(&address_key(a)));
    }
}

/// Every match key of an entity.
pub fn match_keys_of(entity: &Entity) -> Vec<MatchKey> {
    let mut keys = Vec::new();
    match entity {
        Entity::Order(o) => {
            push(&mut keys, "number", Some(&o.number));
            customer_keys(&mut keys, &o.customer);
        }
        Entity::Customer(c) => customer_keys(&mut keys, c),
        Entity::Product(p) => {
            push(&mut keys, "external-id", Some(&p.external_id));
            push(&mut keys, "sku", p.sku.as_deref());
            push(&mut keys, "code", p.code.as_deref());
            push(&mut keys, "ean", p.ean.as_deref());
            for v in &p.variants {
                push(&mut keys, "sku", v.sku.as_deref());
                push(&mut keys, "ean", v.ean.as_deref());
            }
        }
        Entity::Category(c) => push(&mut keys, "name", Some(&c.name)),
        Entity::StockLevel(s) => push(&mut keys, "sku", Some(&s.sku)),
        Entity::StatusUpdate(_) => {}
    }
    keys
}

/// A one-line description of a stored canonical record, for match candidates.
pub(crate) fn summary(data: &serde_json::Value) -> String {
    let Some((kind, body)) = data.as_object().and_then(|o| o.iter().next()) else {
        return String::new();
    };
    let pick = |k: &str| body.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let text = [
        pick("company_name"),
        pick("first_name"),
        pick("last_name"),
        pick("email"),
        pick("name"),
        pick("sku"),
        pick("number"),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    format!("{kind}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_meet_across_case_and_blanks() {
        assert_eq!(
            normalise("email", "  Ann.Lee@Example.COM "),
            "ann.lee@example.com"
        );
    }

    #[test]
    fn company_names_lose_punctuation_case_and_legal_form() {
        assert_eq!(
            normalise("company", "Print-Works,  Ltd."),
            normalise("company", "print works")
        );
        assert_ne!(
            normalise("company", "Print Works"),
            normalise("company", "Print Worx")
        );
    }

    #[test]
    fn vat_is_letters_and_digits() {
        assert_eq!(normalise("vat", "hu 1234-5678"), "HU12345678");
    }
}
