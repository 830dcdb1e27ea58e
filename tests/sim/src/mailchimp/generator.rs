//! Deterministic seeded data: every record is a function of the seed and its index, so the
//! same seed gives the same stores, customers, products, orders, promos, lists and members.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::model::*;
use crate::clock::Millis;

/// Minutes between generated orders.
const ORDER_SPACING_MS: i64 = 4 * 60_000;

/// What the generator is asked for.
#[derive(Clone, Debug)]
pub struct GenSpec {
    pub seed: u64,
    pub orders: usize,
    pub customers: usize,
    pub products: usize,
    pub base_time: Millis,
}

/// A generator for record `index` of kind `kind`: independent of every other record.
fn rng(seed: u64, kind: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ kind.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ index.wrapping_mul(0x1656_67B1_9E37_79F9),
    )
}

/// `2026-01-01T00:00:00+00:00`: the Marketing API writes offsets, not `Z`.
pub fn stamp(ms: Millis) -> String {
    crate::clock::to_datetime(ms)
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

fn hex_id(seed: u64, kind: u64, index: u64, len: usize) -> String {
    let mut r = rng(seed, kind, index);
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[r.random_range(0..16)]))
        .collect()
}

struct StoreSpec {
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    currency: &'static str,
    money_format: &'static str,
    locale: &'static str,
    timezone: &'static str,
    tax_rate: f64,
    list: usize,
    country: (&'static str, &'static str),
}

const STORES: &[StoreSpec] = &[
    StoreSpec {
        id: "store_us",
        name: "Acme Print Shop",
        domain: "shop.example.com",
        currency: "USD",
        money_format: "$",
        locale: "en",
        timezone: "America/New_York",
        tax_rate: 0.0825,
        list: 0,
        country: ("United States", "US"),
    },
    StoreSpec {
        id: "store_eu",
        name: "Acme Print Europe",
        domain: "eu.shop.example.com",
        currency: "EUR",
        money_format: "€",
        locale: "de",
        timezone: "Europe/Berlin",
        tax_rate: 0.19,
        list: 0,
        country: ("Germany", "DE"),
    },
    StoreSpec {
        id: "store_uk",
        name: "Acme Trade Counter",
        domain: "trade.example.co.uk",
        currency: "GBP",
        money_format: "£",
        locale: "en",
        timezone: "Europe/London",
        tax_rate: 0.20,
        list: 1,
        country: ("United Kingdom", "GB"),
    },
];

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "Anna",
    "Lukas",
    "Sophie",
    "Oliver",
    "Amelia",
    "Zoë",
    "José",
    "Chloé",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Müller",
    "Schmidt", "Taylor", "O'Brien", "Wilson", "Martin", "Nguyen", "Kowalski",
];
const COMPANIES: &[&str] = &[
    "Acme Print Inc",
    "Globex Corporation",
    "Initech",
    "Umbrella Signs Ltd",
    "Stark Packaging",
    "Wayne Media GmbH",
    "Hooli Events",
    "Vandelay Industries",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Hauptstraße",
    "High Street",
    "Ponce de Leon Ave NE",
    "Market Street",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Atlanta", "Georgia", "GA"),
    ("Springfield", "Illinois", "IL"),
    ("Berlin", "Berlin", "BE"),
    ("London", "Greater London", "LND"),
    ("Austin", "Texas", "TX"),
];
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("Business Cards", "Cards", "BC"),
    ("Flyer A5", "Flyers", "FLA5"),
    ("Poster A2", "Posters", "PA2"),
    ("T-Shirt Classic", "Apparel", "TSH"),
    ("Hoodie", "Apparel", "HOO"),
    ("Sticker Sheet", "Stickers", "STK"),
    ("Roll-up Banner", "Banners", "RUB"),
    ("Mug", "Merch", "MUG"),
    ("Notebook", "Stationery", "NTB"),
    ("Tote Bag", "Merch", "TOT"),
];
const COLOURS: &[&str] = &["Black", "White", "Blue", "Red", "Green"];
const SIZES: &[&str] = &["S", "M", "L", "XL"];
const PAPERS: &[&str] = &["Matte 350g", "Gloss 300g", "Recycled 300g"];
const CARRIERS: &[(&str, &str)] = &[
    ("UPS", "https://www.ups.com/track?tracknum="),
    ("FedEx", "https://www.fedex.com/fedextrack/?trknbr="),
    ("DHL", "https://www.dhl.com/en/express/tracking.html?AWB="),
];
/// (code, type, amount, target) of the promo rules every store has.
const PROMOS: &[(&str, PromoType, f64, PromoTarget)] = &[
    ("SUMMER10", PromoType::Percentage, 0.10, PromoTarget::Total),
    ("WELCOME5", PromoType::Fixed, 5.0, PromoTarget::Total),
    ("FREESHIP", PromoType::Fixed, 7.5, PromoTarget::Shipping),
    ("BULK15", PromoType::Percentage, 0.15, PromoTarget::PerItem),
];

/// Which store record `index` of a kind belongs to (by the stores' weights).
fn store_of(index: usize) -> usize {
    match index % 10 {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    }
}

/// How many of `total` records store `s` holds.
fn share(total: usize, s: usize) -> usize {
    (0..total).filter(|i| store_of(*i) == s).count()
}

fn lists(seed: u64, base: Millis) -> Vec<List> {
    [
        ("Acme Newsletter", "Acme Print Inc"),
        ("Trade Partners", "Acme Trade Counter Ltd"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, company))| {
        let id = hex_id(seed, 10, i as u64, 10);
        let web_id = 100_000 + i as i64 * 7_919;
        List {
            id: id.clone(),
            web_id,
            name: (*name).into(),
            contact: ListContact {
                company: (*company).into(),
                address1: "675 Ponce de Leon Ave NE".into(),
                address2: "Suite 5000".into(),
                city: "Atlanta".into(),
                state: "GA".into(),
                zip: "30308".into(),
                country: "US".into(),
                phone: "+1 404-555-0100".into(),
            },
            permission_reminder: "You signed up for updates on our website.".into(),
            use_archive_bar: true,
            campaign_defaults: CampaignDefaults {
                from_name: (*company).into(),
                from_email: "news@example.com".into(),
                subject: String::new(),
                language: "en".into(),
            },
            notify_on_subscribe: String::new(),
            notify_on_unsubscribe: String::new(),
            date_created: stamp(base - 400 * 86_400_000),
            list_rating: 3,
            email_type_option: false,
            subscribe_url_short: format!("https://eepurl.com/{}", &id[..6]),
            subscribe_url_long: format!(
                "https://example.us6.list-manage.com/subscribe?u=0a1b2c3d&id={id}"
            ),
            beamer_address: format!("us6-{id}@inbound.mailchimp.com"),
            visibility: "pub".into(),
            double_optin: i == 1,
            has_welcome: false,
            marketing_permissions: false,
            modules: Vec::new(),
        }
    })
    .collect()
}

fn street_variant(street: &str, variant: u8) -> String {
    match variant {
        1 => street.replace("Street", "St.").replace("Avenue", "Ave"),
        2 => street.to_uppercase(),
        3 => format!("{street} "),
        _ => street.to_owned(),
    }
}

fn company_variant(company: &str, variant: u8) -> String {
    match variant {
        1 => company.to_uppercase(),
        2 => company.replace(" Inc", ", Inc.").replace(" Ltd", " Ltd."),
        3 => company.replacen(' ', "  ", 1),
        _ => company.to_owned(),
    }
}

fn email_variant(email: &str, variant: u8) -> String {
    match variant {
        1 => email.to_uppercase(),
        2 => {
            let (local, domain) = email.split_once('@').unwrap_or((email, ""));
            let mut l = local.to_owned();
            if let Some(first) = l.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{l}@{}", domain.to_uppercase())
        }
        3 => format!(" {email} "),
        _ => email.to_owned(),
    }
}

fn ascii_local(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ä' => 'a',
            'ö' | 'ø' => 'o',
            'ü' => 'u',
            'é' | 'ë' => 'e',
            'ß' => 's',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

fn customer(seed: u64, s: usize, k: usize, base: Millis) -> Customer {
    let spec = &STORES[s];
    let mut r = rng(seed, 20 + s as u64, k as u64);
    // About one customer in eight re-registers: same person, new id, e-mail in another case or
    // with stray spaces, company and street spelled slightly differently.
    if k > 10 && r.random_bool(0.12) {
        let original = r.random_range(0..k);
        let mut c = customer(seed, s, original, base);
        let variant = r.random_range(1..4u8);
        c.id = format!("{}_cust_{:06}", spec.id, k + 1);
        c.email_address = email_variant(c.email_address.trim(), variant);
        c.company = company_variant(&c.company, r.random_range(0..4u8));
        c.address.address1 = street_variant(&c.address.address1, r.random_range(0..4u8));
        let t = stamp(base - (k as i64 % 300) * 3_600_000);
        c.created_at = t.clone();
        c.updated_at = t;
        return c;
    }
    let first = FIRST[r.random_range(0..FIRST.len())];
    let last = LAST[r.random_range(0..LAST.len())];
    let company = if r.random_bool(0.4) {
        COMPANIES[r.random_range(0..COMPANIES.len())].to_owned()
    } else {
        String::new()
    };
    let domain = if company.is_empty() {
        ["example.com", "example.org", "mail.example.net"][r.random_range(0..3)].to_owned()
    } else {
        format!("{}.example.com", ascii_local(&company))
    };
    let email = format!("{}.{}{}@{domain}", ascii_local(first), ascii_local(last), k);
    let (city, province, province_code) = CITIES[r.random_range(0..CITIES.len())];
    let t = stamp(base - (k as i64 % 300) * 3_600_000);
    Customer {
        id: format!("{}_cust_{:06}", spec.id, k + 1),
        email_address: email,
        opt_in_status: r.random_bool(0.6),
        company,
        first_name: first.into(),
        last_name: last.into(),
        address: Address {
            address1: format!(
                "{} {}",
                r.random_range(1..999),
                STREETS[r.random_range(0..STREETS.len())]
            ),
            address2: if r.random_bool(0.2) {
                format!("Suite {}", r.random_range(100..900))
            } else {
                String::new()
            },
            city: city.into(),
            province: province.into(),
            province_code: province_code.into(),
            postal_code: format!("{:05}", r.random_range(10_000..99_999)),
            country: spec.country.0.into(),
            country_code: spec.country.1.into(),
        },
        created_at: t.clone(),
        updated_at: t,
    }
}

fn product(seed: u64, s: usize, k: usize, base: Millis) -> Product {
    let spec = &STORES[s];
    let mut r = rng(seed, 30 + s as u64, k as u64);
    let (name, kind, code) = PRODUCTS[k % PRODUCTS.len()];
    let series = k / PRODUCTS.len() + 1;
    let id = format!("{}_prod_{:05}", spec.id, k + 1);
    let title = if series > 1 {
        format!("{name} {series}")
    } else {
        name.to_owned()
    };
    let handle = title.to_lowercase().replace(' ', "-");
    let url = format!("https://{}/products/{handle}", spec.domain);
    let t = stamp(base - 200 * 86_400_000 + k as i64 * 60_000);
    let base_price = f64::from(r.random_range(300..9_000u32)) / 100.0;
    let apparel = kind == "Apparel";
    let n = r.random_range(1..=4usize);
    let variants = (0..n)
        .map(|v| {
            // Attributes: colour and size for apparel, paper for print, colour otherwise.
            let (label, sku_part) = if apparel {
                let c = COLOURS[(k + v) % COLOURS.len()];
                let sz = SIZES[v % SIZES.len()];
                (format!("{c} / {sz}"), format!("{}-{sz}", &c[..3]))
            } else if matches!(kind, "Cards" | "Flyers" | "Posters") {
                let p = PAPERS[v % PAPERS.len()];
                (p.to_owned(), p[..3].to_owned())
            } else {
                let c = COLOURS[(k + v) % COLOURS.len()];
                (c.to_owned(), c[..3].to_owned())
            };
            let price = ((base_price + v as f64 * 1.5) * 100.0).round() / 100.0;
            Variant {
                id: format!("{id}_v{}", v + 1),
                title: label,
                url: format!("{url}?variant={}", v + 1),
                sku: format!("{code}-{:04}-{}", k + 1, sku_part.to_uppercase()),
                price,
                inventory_quantity: r.random_range(0..500),
                image_url: String::new(),
                backorders: if r.random_bool(0.2) { "true" } else { "false" }.into(),
                visibility: if r.random_bool(0.95) {
                    "visible"
                } else {
                    "hidden"
                }
                .into(),
                created_at: t.clone(),
                updated_at: t.clone(),
            }
        })
        .collect::<Vec<_>>();
    let image = format!("https://cdn.example.com/{handle}.jpg");
    Product {
        id: id.clone(),
        currency_code: spec.currency.into(),
        title,
        handle,
        url,
        description: format!("{name} printed to order."),
        kind: kind.into(),
        vendor: "Acme".into(),
        image_url: image.clone(),
        images: vec![Image {
            id: format!("{id}_img1"),
            url: image,
            variant_ids: variants.iter().map(|v| v.id.clone()).collect(),
        }],
        variants,
        published_at_foreign: t,
    }
}

fn promo_rules(seed: u64, s: usize, base: Millis) -> BTreeMap<String, PromoRuleData> {
    let spec = &STORES[s];
    PROMOS
        .iter()
        .enumerate()
        .map(|(i, (code, kind, amount, target))| {
            let mut r = rng(seed, 40 + s as u64, i as u64);
            let id = format!("rule_{}", code.to_lowercase());
            let t = stamp(base - 90 * 86_400_000);
            let rule = PromoRule {
                id: id.clone(),
                title: (*code).into(),
                description: match kind {
                    PromoType::Percentage => format!("{:.0} % off", amount * 100.0),
                    PromoType::Fixed => format!("{amount:.2} {} off", spec.currency),
                },
                starts_at: t.clone(),
                ends_at: if i == 0 {
                    stamp(base + 120 * 86_400_000)
                } else {
                    String::new()
                },
                amount: *amount,
                kind: *kind,
                target: *target,
                enabled: i != 3 || r.random_bool(0.5),
                created_at_foreign: t.clone(),
                updated_at_foreign: t.clone(),
            };
            let codes = (0..r.random_range(1..=3usize))
                .map(|c| {
                    let text = if c == 0 {
                        (*code).to_owned()
                    } else {
                        format!("{code}-{:03}", r.random_range(100..999))
                    };
                    let pc = PromoCode {
                        id: format!("{id}_code{}", c + 1),
                        redemption_url: format!("https://{}/discount/{text}", spec.domain),
                        code: text,
                        usage_count: r.random_range(0..400),
                        enabled: c != 2,
                        created_at_foreign: t.clone(),
                        updated_at_foreign: t.clone(),
                    };
                    (pc.id.clone(), pc)
                })
                .collect();
            (id, PromoRuleData { rule, codes })
        })
        .collect()
}

fn order_address(c: &Customer, r: &mut StdRng, other: bool) -> OrderAddress {
    let mut a = OrderAddress {
        name: format!("{} {}", c.first_name, c.last_name),
        address1: c.address.address1.clone(),
        address2: c.address.address2.clone(),
        city: c.address.city.clone(),
        province: c.address.province.clone(),
        province_code: c.address.province_code.clone(),
        postal_code: c.address.postal_code.clone(),
        country: c.address.country.clone(),
        country_code: c.address.country_code.clone(),
        longitude: 0.0,
        latitude: 0.0,
        phone: format!("+1 555-01{:02}", r.random_range(0..100)),
        company: c.company.clone(),
    };
    if other {
        a.address1 = format!(
            "{} {}",
            r.random_range(1..999),
            STREETS[r.random_range(0..STREETS.len())]
        );
        a.address2 = String::new();
    } else if r.random_bool(0.15) {
        a.address1 = street_variant(&a.address1, r.random_range(1..4u8));
    }
    a
}

fn order(
    seed: u64,
    s: usize,
    index: usize,
    data: &StoreData,
    customers: &[String],
    products: &[String],
    base: Millis,
) -> Order {
    let spec = &STORES[s];
    let mut r = rng(seed, 50, index as u64);
    // Skewed choice: a few customers order often.
    let u: f64 = r.random();
    let cust = &customers[((u * u) * customers.len() as f64) as usize % customers.len()];
    let c = &data.customers[cust];
    let n_lines = r.random_range(1..=5usize);
    let mut lines = Vec::with_capacity(n_lines);
    let mut subtotal = 0.0;
    for l in 0..n_lines {
        let p = &data.products[&products[r.random_range(0..products.len())]];
        let v = &p.variants[r.random_range(0..p.variants.len())];
        let quantity = r.random_range(1..=4i64);
        let price = v.price;
        subtotal += price * quantity as f64;
        lines.push(OrderLine {
            id: format!("{}", l + 1),
            product_id: p.id.clone(),
            product_variant_id: v.id.clone(),
            quantity,
            price,
            discount: 0.0,
        });
    }
    let mut promos = Vec::new();
    let mut discount = 0.0;
    if r.random_bool(0.12) {
        let (code, kind, amount, _) = PROMOS[r.random_range(0..PROMOS.len())];
        let off = match kind {
            PromoType::Percentage => subtotal * amount,
            PromoType::Fixed => amount.min(subtotal),
        };
        discount = (off * 100.0).round() / 100.0;
        promos.push(OrderPromo {
            code: code.into(),
            amount_discounted: discount,
            kind,
        });
    }
    let shipping = if subtotal > 100.0 { 0.0 } else { 6.95 };
    let tax = ((subtotal - discount) * spec.tax_rate * 100.0).round() / 100.0;
    let total = ((subtotal - discount + tax + shipping) * 100.0).round() / 100.0;
    let roll: f64 = r.random();
    let financial = match roll {
        x if x < 0.62 => "paid",
        x if x < 0.76 => "pending",
        x if x < 0.82 => "refunded",
        x if x < 0.86 => "partially_refunded",
        x if x < 0.92 => "cancelled",
        _ => "authorized",
    };
    let fulfillment = match financial {
        "paid" | "partially_refunded" => match r.random_range(0..10) {
            0..=5 => "shipped",
            6 => "partially_shipped",
            _ => "",
        },
        "refunded" if r.random_bool(0.5) => "shipped",
        _ => "",
    };
    let processed = base + index as i64 * ORDER_SPACING_MS;
    let updated = match r.random_range(0..10) {
        0..=5 => processed,
        6..=8 => processed + r.random_range(60_000..3_600_000),
        _ => processed + r.random_range(3_600_000..10 * 86_400_000),
    };
    let (carrier, number, url) = if fulfillment.contains("shipped") {
        let (name, track) = CARRIERS[r.random_range(0..CARRIERS.len())];
        let number = format!("1Z{:016}", r.random_range(0..9_999_999_999_999_999u64));
        (name.to_owned(), number.clone(), format!("{track}{number}"))
    } else {
        (String::new(), String::new(), String::new())
    };
    let billing = order_address(c, &mut r, false);
    let shipping_address = if r.random_bool(0.25) {
        order_address(c, &mut r, true)
    } else {
        billing.clone()
    };
    let id = format!("{}", 100_001 + index);
    Order {
        order_url: format!("https://{}/orders/{id}", spec.domain),
        id,
        customer: CustomerRef { id: c.id.clone() },
        campaign_id: if r.random_bool(0.2) {
            hex_id(seed, 60, r.random_range(0..8), 10)
        } else {
            String::new()
        },
        landing_site: if r.random_bool(0.3) {
            format!("https://{}/?utm_source=newsletter", spec.domain)
        } else {
            String::new()
        },
        financial_status: financial.into(),
        fulfillment_status: fulfillment.into(),
        currency_code: spec.currency.into(),
        order_total: total,
        discount_total: discount,
        tax_total: tax,
        shipping_total: shipping,
        processed_at_foreign: stamp(processed),
        cancelled_at_foreign: if financial == "cancelled" {
            stamp(updated.max(processed + 60_000))
        } else {
            String::new()
        },
        updated_at_foreign: stamp(updated),
        shipping_address: Some(shipping_address),
        billing_address: Some(billing),
        promos,
        lines,
        tracking_number: number,
        tracking_carrier: carrier,
        tracking_url: url,
    }
}

fn cart(seed: u64, s: usize, k: usize, data: &StoreData, base: Millis) -> Option<Cart> {
    let spec = &STORES[s];
    let mut r = rng(seed, 70 + s as u64, k as u64);
    let customer = data
        .customers
        .keys()
        .nth(r.random_range(0..data.customers.len()))?;
    let product = data
        .products
        .values()
        .nth(r.random_range(0..data.products.len()))?;
    let variant = product.variants.first()?;
    let quantity = r.random_range(1..=3i64);
    let total = ((variant.price * quantity as f64) * 100.0).round() / 100.0;
    let t = stamp(base - k as i64 * 3_600_000);
    let id = format!("cart_{:05}", k + 1);
    Some(Cart {
        checkout_url: format!("https://{}/checkout/{id}", spec.domain),
        id,
        customer: CustomerRef {
            id: customer.clone(),
        },
        campaign_id: String::new(),
        currency_code: spec.currency.into(),
        order_total: total,
        tax_total: ((total * spec.tax_rate) * 100.0).round() / 100.0,
        lines: vec![CartLine {
            id: "1".into(),
            product_id: product.id.clone(),
            product_variant_id: variant.id.clone(),
            quantity,
            price: variant.price,
        }],
        created_at: t.clone(),
        updated_at: t,
    })
}

fn member_from_customer(seed: u64, list: &List, c: &Customer, index: u64) -> Member {
    let email = c.email_address.trim().to_owned();
    let mut m = Member {
        id: subscriber_hash(&email),
        email_address: email,
        unique_email_id: hex_id(seed, 80, index, 10),
        contact_id: hex_id(seed, 81, index, 32),
        full_name: format!("{} {}", c.first_name, c.last_name),
        web_id: 500_000 + index as i64,
        email_type: "html".into(),
        status: if c.opt_in_status {
            MemberStatus::Subscribed
        } else {
            MemberStatus::Transactional
        },
        merge_fields: serde_json::Map::new(),
        ip_signup: String::new(),
        timestamp_signup: String::new(),
        ip_opt: String::new(),
        timestamp_opt: c.created_at.clone(),
        member_rating: 2,
        last_changed: c.updated_at.clone(),
        language: String::new(),
        vip: false,
        email_client: String::new(),
        location: Location::default(),
        source: "E-Commerce".into(),
        tags: Vec::new(),
        list_id: list.id.clone(),
    };
    m.merge_fields
        .insert("FNAME".into(), Value::String(c.first_name.clone()));
    m.merge_fields
        .insert("LNAME".into(), Value::String(c.last_name.clone()));
    m
}

/// Everything the simulator starts with.
pub struct Generated {
    pub lists: BTreeMap<String, ListData>,
    pub stores: BTreeMap<String, StoreData>,
}

/// Generates the whole data set.
pub fn generate(spec: &GenSpec) -> Generated {
    let seed = spec.seed;
    let base = spec.base_time;
    let mut lists: BTreeMap<String, ListData> = lists(seed, base)
        .into_iter()
        .map(|l| {
            (
                l.id.clone(),
                ListData {
                    list: l,
                    members: BTreeMap::new(),
                },
            )
        })
        .collect();
    let list_ids: Vec<String> = lists.keys().cloned().collect();
    // The keys sort, so map the generator's list order (by index) explicitly.
    let list_by_index: Vec<String> = (0..2).map(|i| hex_id(seed, 10, i, 10)).collect();
    debug_assert!(list_by_index.iter().all(|l| list_ids.contains(l)));
    let mut stores = BTreeMap::new();
    let mut member_index = 0u64;
    for (s, st) in STORES.iter().enumerate() {
        let list_id = list_by_index[st.list].clone();
        let mut data = StoreData {
            store: Store {
                id: st.id.into(),
                list_id: list_id.clone(),
                name: st.name.into(),
                platform: "Switchyard Shop".into(),
                domain: st.domain.into(),
                is_syncing: false,
                email_address: format!("orders@{}", st.domain),
                currency_code: st.currency.into(),
                money_format: st.money_format.into(),
                primary_locale: st.locale.into(),
                timezone: st.timezone.into(),
                phone: "+1 404-555-0199".into(),
                address: StoreAddress {
                    address1: "675 Ponce de Leon Ave NE".into(),
                    city: "Atlanta".into(),
                    province: "Georgia".into(),
                    province_code: "GA".into(),
                    postal_code: "30308".into(),
                    country: st.country.0.into(),
                    country_code: st.country.1.into(),
                    ..StoreAddress::default()
                },
                created_at: stamp(base - 365 * 86_400_000),
                updated_at: stamp(base - 30 * 86_400_000),
            },
            promo_rules: promo_rules(seed, s, base),
            ..StoreData::default()
        };
        let n_customers = share(spec.customers, s).max(1);
        for k in 0..n_customers {
            let c = customer(seed, s, k, base);
            data.customers.insert(c.id.clone(), c);
        }
        let n_products = share(spec.products, s).max(1);
        for k in 0..n_products {
            let p = product(seed, s, k, base);
            data.products.insert(p.id.clone(), p);
        }
        let customer_ids: Vec<String> = data.customers.keys().cloned().collect();
        let product_ids: Vec<String> = data.products.keys().cloned().collect();
        for index in (0..spec.orders).filter(|i| store_of(*i) == s) {
            let o = order(seed, s, index, &data, &customer_ids, &product_ids, base);
            data.account(&o, 1);
            data.orders.insert(o.id.clone(), o);
        }
        for k in 0..(n_customers / 20).clamp(2, 500) {
            if let Some(c) = cart(seed, s, k, &data, base) {
                data.carts.insert(c.id.clone(), c);
            }
        }
        if let Some(list) = lists.get_mut(&list_id) {
            for c in data.customers.values() {
                member_index += 1;
                let m = member_from_customer(seed, &list.list, c, member_index);
                // Case and whitespace variants of one address are one member.
                list.members.entry(m.id.clone()).or_insert(m);
            }
        }
        stores.insert(st.id.to_owned(), data);
    }
    // Newsletter-only members in every status.
    for (li, list_id) in list_by_index.iter().enumerate() {
        let Some(list) = lists.get_mut(list_id) else {
            continue;
        };
        let extra = (spec.customers / 5).clamp(10, 2_000) / (li + 1);
        for k in 0..extra {
            let mut r = rng(seed, 90 + li as u64, k as u64);
            member_index += 1;
            let first = FIRST[r.random_range(0..FIRST.len())];
            let last = LAST[r.random_range(0..LAST.len())];
            let c = Customer {
                first_name: first.into(),
                last_name: last.into(),
                email_address: format!(
                    "{}{}.news{k}@example.net",
                    ascii_local(first),
                    ascii_local(last)
                ),
                opt_in_status: true,
                created_at: stamp(base - k as i64 * 7_200_000),
                updated_at: stamp(base - k as i64 * 3_600_000),
                ..Customer::default()
            };
            let mut m = member_from_customer(seed, &list.list, &c, member_index);
            m.source = "Hosted Signup Form".into();
            m.status = match r.random_range(0..10) {
                0..=5 => MemberStatus::Subscribed,
                6 | 7 => MemberStatus::Unsubscribed,
                8 => MemberStatus::Cleaned,
                _ => MemberStatus::Pending,
            };
            m.vip = r.random_bool(0.03);
            list.members.entry(m.id.clone()).or_insert(m);
        }
    }
    Generated { lists, stores }
}
