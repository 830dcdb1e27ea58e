//! Deterministic seeded data: every record is drawn from a generator seeded by (seed, kind,
//! index), so the same seed gives the same account.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::*;
use crate::clock::Millis;

/// Mean spacing of generated orders (4 minutes): 100,000 orders span about 9 months.
pub const ORDER_SPACING_MS: i64 = 240_000;

/// The first contact id.
pub const FIRST_CONTACT_ID: u32 = 1001;
/// The first address id.
pub const FIRST_ADDRESS_ID: u32 = 301;
/// The first project id.
pub const FIRST_PROJECT_ID: u32 = 5001;
/// The first Shoprenter-style order number carried in `Order_Number`.
pub const FIRST_ORDER_NUMBER: u64 = 100_001;

const KIND_PERSON: u64 = 1;
const KIND_BUSINESS: u64 = 2;
const KIND_ORDER: u64 = 3;
const KIND_WEBSHOP: u64 = 4;
const KIND_SALES: u64 = 5;

fn rng_for(seed: u64, kind: u64, index: u64) -> StdRng {
    // splitmix64 over the inputs, so neighbouring indexes get unrelated streams.
    let mut z = seed
        .wrapping_add(kind.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(index.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

const FIRST: &[&str] = &[
    "Anna", "Péter", "Zsófia", "Gábor", "Eszter", "László", "Katalin", "István", "Réka", "Attila",
    "Judit", "Tamás", "Nóra", "Zoltán", "Ágnes", "Balázs", "Dóra", "Csaba", "Lilla", "Márton",
    "Orsolya", "Bence", "Tünde", "Ádám", "Éva", "Gergely",
];
const LAST: &[&str] = &[
    "Nagy",
    "Kovács",
    "Tóth",
    "Szabó",
    "Horváth",
    "Varga",
    "Kiss",
    "Molnár",
    "Németh",
    "Farkas",
    "Balogh",
    "Papp",
    "Takács",
    "Juhász",
    "Lakatos",
    "Mészáros",
    "Oláh",
    "Simon",
    "Rácz",
    "Fekete",
    "Szűcs",
    "Török",
];
const COMPANY_STEMS: &[&str] = &[
    "Kovács és Társa",
    "Duna Print",
    "Alföld Nyomda",
    "Balaton Design",
    "Mátra Csomagolás",
    "Tisza Reklám",
    "Pannon Papír",
    "Buda Grafika",
    "Pest Marketing",
    "Bakony Kiadó",
    "Hungaro Label",
    "Zenit Média",
];
const COMPANY_FORMS: &[&str] = &["Kft.", "Bt.", "Zrt.", "Kft."];
const CITIES: &[(&str, &str, &str)] = &[
    ("1051", "Budapest", "Budapest"),
    ("1117", "Budapest", "Budapest"),
    ("4025", "Debrecen", "Hajdú-Bihar"),
    ("6720", "Szeged", "Csongrád-Csanád"),
    ("7621", "Pécs", "Baranya"),
    ("9021", "Győr", "Győr-Moson-Sopron"),
    ("8000", "Székesfehérvár", "Fejér"),
    ("3525", "Miskolc", "Borsod-Abaúj-Zemplén"),
    ("2400", "Dunaújváros", "Fejér"),
];
const STREETS: &[&str] = &[
    "Fő utca",
    "Kossuth Lajos utca",
    "Petőfi Sándor utca",
    "Rákóczi út",
    "Ady Endre utca",
    "Széchenyi tér",
    "Béke utca",
    "Arany János utca",
];
/// Coupons used on generated orders.
pub const COUPONS: &[(&str, f64)] = &[
    ("TAVASZ10", 1000.0),
    ("BLACKFRIDAY", 5000.0),
    ("INGYENSZALLITAS", 1490.0),
    ("WELCOME5", 500.0),
];
const PRODUCTS: &[(&str, &str, f64)] = &[
    ("PL-001", "Póló nyomott mintával", 4990.0),
    ("BG-002", "Bögre egyedi felirattal", 2990.0),
    ("NK-003", "Névjegykártya 500 db", 8900.0),
    ("PL-004", "Plakát A2", 3490.0),
    ("MN-005", "Matrica csomag", 1290.0),
    ("NT-006", "Naptár 2027", 5990.0),
    ("VS-007", "Vászontáska", 2490.0),
];
/// Shoprenter order status names the shop reported (free text on the CRM side).
const SHOP_STATUSES: &[&str] = &[
    "Függőben lévő",
    "Fizetésre vár",
    "Feldolgozás alatt",
    "Szállítás alatt",
    "Teljesítve",
    "Törölve",
    "Visszáru",
];

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' | 'ö' | 'ő' => 'o',
            'ú' | 'ü' | 'ű' => 'u',
            'Á' => 'A',
            'É' => 'E',
            'Í' => 'I',
            'Ó' | 'Ö' | 'Ő' => 'O',
            'Ú' | 'Ü' | 'Ű' => 'U',
            c => c,
        })
        .collect()
}

/// An e-mail as a shopper types it again: other case, stray whitespace.
fn email_variant(email: &str, variant: u32) -> String {
    match variant % 5 {
        0 => email.to_uppercase(),
        1 => {
            let mut c = email.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
        2 => format!("{email} "),
        3 => format!(" {email}"),
        _ => format!(" {} ", email.to_uppercase()),
    }
}

/// A business name as another clerk typed it.
fn company_variant(name: &str, variant: u32) -> String {
    match variant % 5 {
        0 => name.trim_end_matches('.').to_owned(),
        1 => name.to_uppercase(),
        2 => name.replacen(' ', "  ", 1),
        3 => ascii_fold(name),
        _ => name.replace(" és ", " & "),
    }
}

fn street_variant(street: &str, variant: u32) -> String {
    match variant % 3 {
        0 => street.replace(" utca", " u."),
        1 => street.to_lowercase(),
        _ => format!("{street}."),
    }
}

/// What the generator produced.
pub struct Generated {
    /// Contacts, ids from [`FIRST_CONTACT_ID`].
    pub contacts: Vec<Contact>,
    /// Addresses, ids from [`FIRST_ADDRESS_ID`].
    pub addresses: Vec<Address>,
    /// Projects, ids from [`FIRST_PROJECT_ID`].
    pub projects: Vec<Project>,
    /// The latest stamp of any record.
    pub latest: Millis,
}

struct Builder<'a> {
    seed: u64,
    base: Millis,
    modules: &'a [Module],
    contacts: Vec<Contact>,
    addresses: Vec<Address>,
    projects: Vec<Project>,
    latest: Millis,
}

impl Builder<'_> {
    fn contact_id(&self) -> u32 {
        FIRST_CONTACT_ID + self.contacts.len() as u32
    }

    fn add_address(
        &mut self,
        contact: usize,
        kind: &str,
        name: &str,
        parts: (&str, &str, &str, String),
        at: Millis,
    ) {
        let id = FIRST_ADDRESS_ID + self.addresses.len() as u32;
        let c = &mut self.contacts[contact];
        let default = c.addresses.is_empty();
        c.addresses.push(id);
        self.addresses.push(Address {
            id,
            contact_id: c.id,
            kind: kind.to_owned(),
            name: name.to_owned(),
            country: "Magyarország".to_owned(),
            postal_code: parts.0.to_owned(),
            city: parts.1.to_owned(),
            county: parts.2.to_owned(),
            address: parts.3,
            default,
            created_by: "Kovács Anna",
            created_at: at,
            updated_by: "Kovács Anna",
            updated_at: at,
        });
    }

    fn new_project(
        &mut self,
        module: &Module,
        contact: usize,
        status: u32,
        name: String,
        (created, updated): (Millis, Millis),
        user: u32,
    ) -> usize {
        let c = &self.contacts[contact];
        let business_id = match c.kind {
            ContactType::Business => Some(c.id),
            ContactType::Person => c.business_id,
        };
        self.latest = self.latest.max(updated);
        self.projects.push(Project {
            id: FIRST_PROJECT_ID + self.projects.len() as u32,
            category_id: module.id,
            contact_id: c.id,
            business_id,
            user_id: user,
            status_id: status,
            name,
            status_updated_at: updated,
            deleted: false,
            created_by: "API",
            created_at: created,
            updated_by: "API",
            updated_at: updated,
            fields: vec![None; module.fields.len()],
            history: Vec::new(),
        });
        self.projects.len() - 1
    }
}

fn set(p: &mut Project, m: &Module, name: &str, v: FieldValue) {
    if let Some(i) = m.field_index(name) {
        p.fields[i] = Some(v);
    }
}

fn enum_id(m: &Module, field: &str, label: &str) -> FieldValue {
    let id = m
        .fields
        .iter()
        .find(|f| f.name == field)
        .and_then(|f| match &f.ty {
            FieldType::Enum(opts) => opts.iter().find(|(_, l)| *l == label).map(|(i, _)| *i),
            _ => None,
        })
        .unwrap_or(0);
    FieldValue::Enum(id)
}

/// Generates the account's contacts, addresses and projects.
pub fn generate(
    seed: u64,
    customers: usize,
    orders: usize,
    base: Millis,
    modules: &[Module],
) -> Generated {
    let mut b = Builder {
        seed,
        base,
        modules,
        contacts: Vec::with_capacity(customers + customers / 2),
        addresses: Vec::with_capacity(customers * 2),
        projects: Vec::with_capacity(orders + customers + orders / 20),
        latest: base,
    };
    // ---- contacts: persons, a third of them with a business ----
    let mut businesses: Vec<usize> = Vec::new();
    let mut persons: Vec<usize> = Vec::with_capacity(customers);
    // Distinct persons (not re-registrations) and their own e-mail.
    let mut originals: Vec<(usize, String)> = Vec::new();
    let before = base - 400 * 86_400_000;
    for i in 0..customers as u64 {
        let mut rng = rng_for(b.seed, KIND_PERSON, i);
        let at = before + (i as i64) * 3_600_000 + rng.random_range(0..3_600_000);
        let business = if rng.random_bool(0.33) {
            if !businesses.is_empty() && rng.random_bool(0.3) {
                // Another colleague of an existing business.
                Some(*pick(&mut rng, &businesses))
            } else {
                let k = businesses.len() as u64;
                let mut brng = rng_for(b.seed, KIND_BUSINESS, k);
                let stem = pick(&mut brng, COMPANY_STEMS);
                let form = pick(&mut brng, COMPANY_FORMS);
                let mut name = format!("{stem} {form}");
                if k >= COMPANY_STEMS.len() as u64 && brng.random_bool(0.2) {
                    // A near-duplicate of an earlier business.
                    name = company_variant(&name, brng.random_range(0..5));
                } else if k >= COMPANY_STEMS.len() as u64 {
                    name = format!(
                        "{stem} {} {form}",
                        pick(
                            &mut brng,
                            &["Hungary", "Plusz", "Trade", "Service", "Group"]
                        )
                    );
                }
                let id = b.contact_id();
                let domain = ascii_fold(&stem.to_lowercase()).replace([' ', '.'], "");
                b.contacts.push(Contact {
                    id,
                    kind: ContactType::Business,
                    name,
                    first_name: String::new(),
                    last_name: String::new(),
                    email: format!("info@{domain}.hu"),
                    phone: format!(
                        "+36 1 {:03} {:04}",
                        brng.random_range(100..999),
                        brng.random_range(0..9999)
                    ),
                    description: String::new(),
                    business_id: None,
                    vat_number: format!(
                        "{:08}-2-{:02}",
                        brng.random_range(10_000_000..99_999_999),
                        brng.random_range(1..44)
                    ),
                    position: String::new(),
                    deleted: false,
                    created_by: "Kovács Anna",
                    created_at: at,
                    updated_by: "Kovács Anna",
                    updated_at: at,
                    addresses: Vec::new(),
                });
                let idx = b.contacts.len() - 1;
                let (pc, city, county) = *pick(&mut brng, CITIES);
                let street = format!(
                    "{} {}.",
                    pick(&mut brng, STREETS),
                    brng.random_range(1..120)
                );
                b.add_address(idx, "Székhely", "Székhely", (pc, city, county, street), at);
                businesses.push(idx);
                Some(idx)
            }
        } else {
            None
        };
        // About one in ten is the same shopper registered again.
        let repeat = (!originals.is_empty() && rng.random_bool(0.1)).then(|| {
            let k = rng.random_range(0..originals.len());
            originals[k].clone()
        });
        let id = b.contact_id();
        let (first, last, email) = match &repeat {
            Some((orig, email)) => {
                let o = &b.contacts[*orig];
                (
                    o.first_name.clone(),
                    o.last_name.clone(),
                    email_variant(email, rng.random_range(0..5)),
                )
            }
            None => {
                let first = (*pick(&mut rng, FIRST)).to_owned();
                let last = (*pick(&mut rng, LAST)).to_owned();
                let email = format!(
                    "{}.{}{}@{}",
                    ascii_fold(&first.to_lowercase()),
                    ascii_fold(&last.to_lowercase()),
                    i,
                    pick(
                        &mut rng,
                        &["gmail.com", "freemail.hu", "citromail.hu", "example.hu"]
                    )
                );
                (first, last, email)
            }
        };
        b.contacts.push(Contact {
            id,
            kind: ContactType::Person,
            name: String::new(),
            first_name: first,
            last_name: last,
            email: email.clone(),
            phone: format!(
                "+36 {} {:03} {:04}",
                pick(&mut rng, &["20", "30", "70"]),
                rng.random_range(100..999),
                rng.random_range(0..9999)
            ),
            description: String::new(),
            business_id: business.map(|k| b.contacts[k].id),
            vat_number: String::new(),
            position: if business.is_some() {
                (*pick(&mut rng, &["ügyvezető", "beszerző", "marketing vezető", ""])).to_owned()
            } else {
                String::new()
            },
            deleted: false,
            created_by: "Kovács Anna",
            created_at: at,
            updated_by: "Kovács Anna",
            updated_at: at,
            addresses: Vec::new(),
        });
        let idx = b.contacts.len() - 1;
        let (pc, city, county) = *pick(&mut rng, CITIES);
        let street = pick(&mut rng, STREETS);
        let number = rng.random_range(1..150);
        let variant = rng.random_range(0..3);
        let billing = if repeat.is_some() {
            street_variant(street, variant)
        } else {
            (*street).to_owned()
        };
        b.add_address(
            idx,
            "Számlázási cím",
            "Számlázási cím",
            (pc, city, county, format!("{billing} {number}.")),
            at,
        );
        if rng.random_bool(0.3) {
            let (pc2, city2, county2) = *pick(&mut rng, CITIES);
            let s2 = format!(
                "{} {}.",
                street_variant(pick::<&str>(&mut rng, STREETS), variant),
                rng.random_range(1..80)
            );
            b.add_address(
                idx,
                "Szállítási cím",
                "Szállítási cím",
                (pc2, city2, county2, s2),
                at,
            );
        }
        if repeat.is_none() {
            originals.push((idx, email));
        }
        persons.push(idx);
    }
    // ---- Order module: one project per order ----
    let order_module = b
        .modules
        .iter()
        .find(|m| m.kind == ModuleKind::Order)
        .cloned();
    let mut per_person: HashMap<usize, (i64, f64, Millis)> = HashMap::new();
    if let (Some(m), false) = (&order_module, persons.is_empty()) {
        for i in 0..orders as u64 {
            let mut rng = rng_for(b.seed, KIND_ORDER, i);
            // Skewed: a few customers order often.
            let r: f64 = rng.random();
            let person = persons[((r * r) * persons.len() as f64) as usize % persons.len()];
            let created =
                b.base + (i as i64) * ORDER_SPACING_MS + rng.random_range(0..ORDER_SPACING_MS / 2);
            let updated = if rng.random_bool(0.6) {
                created + rng.random_range(0..3_600_000)
            } else {
                created + rng.random_range(3_600_000..10 * 86_400_000)
            };
            let weights = [10u32, 8, 10, 12, 48, 8, 4];
            let mut roll = rng.random_range(0..weights.iter().sum::<u32>());
            let mut k = 0;
            while roll >= weights[k] {
                roll -= weights[k];
                k += 1;
            }
            let status = &m.statuses[k];
            let number = FIRST_ORDER_NUMBER + i;
            let user = pick(&mut rng, USERS).id;
            let idx = b.new_project(
                m,
                person,
                status.id,
                format!("Rendelés #{number}"),
                (created, updated),
                user,
            );
            let lines = rng.random_range(1..4);
            let mut total = 0.0;
            let mut items = Vec::new();
            for _ in 0..lines {
                let (sku, name, price) = *pick(&mut rng, PRODUCTS);
                let qty = rng.random_range(1..5);
                total += price * f64::from(qty);
                items.push(format!("{qty} x {name} ({sku})"));
            }
            let shipping = if rng.random_bool(0.7) { 1490.0 } else { 0.0 };
            total += shipping;
            let coupon = rng.random_bool(0.1).then(|| *pick(&mut rng, COUPONS));
            if let Some((_, v)) = coupon {
                total = (total - v).max(0.0);
            }
            let currency = match rng.random_range(0..50) {
                0..=44 => "HUF",
                45..=48 => "EUR",
                _ => "USD",
            };
            let amount = if currency == "HUF" {
                total
            } else {
                (total / 390.0 * 100.0).round() / 100.0
            };
            let paid =
                matches!(status.group, StatusGroup::Success) || (2..=3).contains(&k) || (k == 6);
            let p = &mut b.projects[idx];
            set(
                p,
                m,
                "Order_Number",
                FieldValue::Text(format!("SR-{number}").into()),
            );
            set(
                p,
                m,
                "Order_Date",
                FieldValue::DateTime(created - created % 1000),
            );
            set(p, m, "Order_Total", FieldValue::Float(amount));
            set(
                p,
                m,
                "Order_Currency",
                enum_id(m, "Order_Currency", currency),
            );
            let pay = *pick(
                &mut rng,
                &["Bankkártya", "Bankkártya", "Utánvét", "Átutalás", "PayPal"],
            );
            set(
                p,
                m,
                "Order_PaymentMethod",
                enum_id(m, "Order_PaymentMethod", pay),
            );
            let ship = *pick(
                &mut rng,
                &[
                    "Futárszolgálat",
                    "Futárszolgálat",
                    "Személyes átvétel",
                    "Csomagautomata",
                ],
            );
            set(
                p,
                m,
                "Order_ShippingMethod",
                enum_id(m, "Order_ShippingMethod", ship),
            );
            set(p, m, "Order_Paid", FieldValue::Bool(paid));
            if let Some((code, value)) = coupon {
                set(p, m, "Order_CouponCode", FieldValue::Text(code.into()));
                set(p, m, "Order_CouponValue", FieldValue::Float(value));
            }
            set(
                p,
                m,
                "Order_ShopStatus",
                FieldValue::Text(SHOP_STATUSES[k].into()),
            );
            set(
                p,
                m,
                "Order_Items",
                FieldValue::Text(items.join("; ").into()),
            );
            set(
                p,
                m,
                "Order_ExternalId",
                FieldValue::Text(format!("order-order_id={}", 170 + i).into()),
            );
            p.deleted = rng.random_bool(0.02);
            if k > 0 && rng.random_bool(0.5) {
                // It went through the first status before reaching this one.
                p.history.push(StatusChange {
                    id: 0,
                    old: Some(m.statuses[0].id),
                    new: status.id,
                    user_id: user,
                    at: updated,
                });
                p.status_updated_at = updated;
            } else {
                p.status_updated_at = created;
            }
            let e = per_person.entry(person).or_insert((0, 0.0, created));
            e.0 += 1;
            e.1 += total;
            e.2 = e.2.max(created);
        }
    }
    // ---- Webshop module: one project per customer who ordered ----
    if let Some(m) = b
        .modules
        .iter()
        .find(|m| m.kind == ModuleKind::Webshop)
        .cloned()
    {
        let mut buyers: Vec<(usize, (i64, f64, Millis))> = per_person.into_iter().collect();
        buyers.sort_by_key(|(p, _)| *p);
        for (n, (person, (count, spent, last))) in buyers.into_iter().enumerate() {
            let mut rng = rng_for(b.seed, KIND_WEBSHOP, n as u64);
            let status = match count {
                1 => &m.statuses[0],
                2..=4 => &m.statuses[1],
                _ => &m.statuses[2],
            };
            let status = if rng.random_bool(0.08) {
                &m.statuses[3]
            } else {
                status
            };
            let name = b.contacts[person].display_name();
            let created = b.contacts[person].created_at.max(b.base);
            let idx = b.new_project(&m, person, status.id, name, (created, last), USERS[0].id);
            let p = &mut b.projects[idx];
            set(
                p,
                &m,
                "Webshop_CustomerId",
                FieldValue::Text(format!("customer-customer_id={}", 10 + person).into()),
            );
            set(p, &m, "Webshop_OrderCount", FieldValue::Int(count));
            set(p, &m, "Webshop_TotalSpent", FieldValue::Float(spent));
            set(
                p,
                &m,
                "Webshop_LastOrderDate",
                FieldValue::DateTime(last - last % 1000),
            );
            set(
                p,
                &m,
                "Webshop_Newsletter",
                FieldValue::Bool(rng.random_bool(0.4)),
            );
        }
    }
    // ---- Sales module: unrelated pipeline records on some contacts ----
    if let Some(m) = b
        .modules
        .iter()
        .find(|m| m.kind == ModuleKind::Sales)
        .cloned()
    {
        let count = (orders / 20).max(10).min(b.contacts.len() * 2);
        for i in 0..count as u64 {
            let mut rng = rng_for(b.seed, KIND_SALES, i);
            let contact = rng.random_range(0..b.contacts.len());
            let status = pick(&mut rng, &m.statuses).id;
            let created = b.base + rng.random_range(0..(orders.max(1) as i64) * ORDER_SPACING_MS);
            let updated = created + rng.random_range(0..20 * 86_400_000);
            let name = format!("{} – ajánlat", b.contacts[contact].display_name());
            let user = pick(&mut rng, USERS).id;
            let idx = b.new_project(&m, contact, status, name, (created, updated), user);
            let p = &mut b.projects[idx];
            set(
                p,
                &m,
                "Sales_ExpectedRevenue",
                FieldValue::Float(f64::from(rng.random_range(10..500u32)) * 10_000.0),
            );
            let source = *pick(&mut rng, &["Facebook", "SEO", "Google Ads", "Ajánlás"]);
            set(p, &m, "Sales_Source", enum_id(&m, "Sales_Source", source));
        }
    }
    Generated {
        latest: b.latest.max(
            b.contacts
                .iter()
                .map(|c| c.updated_at)
                .max()
                .unwrap_or(base),
        ),
        contacts: b.contacts,
        addresses: b.addresses,
        projects: b.projects,
    }
}
