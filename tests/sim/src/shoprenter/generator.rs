//! Seeded shop data: every generated record is a function of the seed and its index. Records
//! are kept compact ([`GenData`]) and rendered to Shoprenter's JSON fields on request.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::model::{encode_id, foreign_id, Kind, Row, Src, Table};
use crate::clock::Millis;

/// Order statuses: (inner id, Hungarian name, English name, colour).
pub const STATUSES: [(u32, &str, &str, &str); 8] = [
    (1, "Függőben", "Pending", "#ff9900"),
    (2, "Feldolgozás alatt", "Processing", "#3366ff"),
    (3, "Szállítás alatt", "Shipped", "#9933cc"),
    (4, "Teljesítve", "Complete", "#33aa33"),
    (5, "Visszavonva", "Canceled", "#999999"),
    (6, "Elutasítva", "Denied", "#cc0000"),
    (7, "Visszatérítve", "Refunded", "#ff00ff"),
    (8, "Fizetésre vár", "Awaiting payment", "#ffcc00"),
];

/// Customer groups: (name, percent discount).
pub const GROUPS: [(&str, &str); 4] = [
    ("Default", "0"),
    ("Regular customer", "5"),
    ("Wholesale", "15"),
    ("VIP", "10"),
];

/// Categories: (Hungarian name, parent inner id or 0).
pub const CATEGORIES: [(&str, u32); 12] = [
    ("Nyomtatványok", 0),
    ("Névjegykártyák", 1),
    ("Szórólapok", 1),
    ("Plakátok", 1),
    ("Irodaszerek", 0),
    ("Tollak", 5),
    ("Füzetek", 5),
    ("Ajándéktárgyak", 0),
    ("Bögrék", 8),
    ("Pólók", 8),
    ("Naptárak", 0),
    ("Akciós termékek", 0),
];

/// Coupons: (code, PERCENT|FIXED, value, free shipping, active).
pub const COUPONS: [(&str, &str, u32, bool, bool); 8] = [
    ("NYAR10", "PERCENT", 10, false, true),
    ("WELCOME5", "PERCENT", 5, false, true),
    ("FIX2000", "FIXED", 2000, false, true),
    ("INGYENSZALL", "PERCENT", 0, true, true),
    ("BLACKFRIDAY", "PERCENT", 25, true, false),
    ("VIP15", "PERCENT", 15, false, true),
    ("FIX500", "FIXED", 500, false, true),
    ("10wevb", "PERCENT", 10, true, true),
];

const FIRST: [&str; 16] = [
    "Anna", "Bence", "Csilla", "Dániel", "Eszter", "Ferenc", "Gábor", "Hanna", "István", "Judit",
    "Katalin", "László", "Márta", "Norbert", "Orsolya", "Péter",
];
const LAST: [&str; 14] = [
    "Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga", "Kiss", "Molnár", "Németh", "Farkas",
    "Balogh", "Papp", "Takács", "Juhász",
];
const COMPANIES: [&str; 8] = [
    "Print Kft.",
    "Nyomda Pont Bt.",
    "Alfa Reklám Zrt.",
    "Béta Irodaszer Kft.",
    "Gamma Design Kft.",
    "Delta Media Bt.",
    "Epszilon Kereskedelmi Kft.",
    "Zeta Marketing Kft.",
];
const CITIES: [(&str, &str); 8] = [
    ("Budapest", "1051"),
    ("Debrecen", "4033"),
    ("Szeged", "6720"),
    ("Pécs", "7621"),
    ("Győr", "9021"),
    ("Miskolc", "3530"),
    ("Eger", "3300"),
    ("Sopron", "9400"),
];
const STREETS: [&str; 8] = [
    "Kossuth Lajos utca",
    "Petőfi Sándor utca",
    "Rákóczi út",
    "Ady Endre utca",
    "Arany János utca",
    "Széchenyi tér",
    "Bajcsy-Zsilinszky út",
    "Dózsa György út",
];
const PRODUCT_WORDS: [&str; 12] = [
    "Névjegykártya",
    "Szórólap A5",
    "Plakát A2",
    "Golyóstoll",
    "Spirálfüzet",
    "Bögre",
    "Póló",
    "Falinaptár",
    "Matrica",
    "Boríték",
    "Jegyzettömb",
    "Vászontáska",
];
const SIZES: [&str; 3] = ["S", "M", "L"];
/// Shipping methods: (name, extension, net price).
const SHIPPING: [(&str, &str, i64); 3] = [
    ("Házhozszállítás futárszolgálattal", "WSESHIP", 1290),
    ("Személyes átvétel", "WSEPICKUP", 0),
    ("Csomagpont (Foxpost)", "FOXPOST", 990),
];
/// Payment methods: (name, code, after).
const PAYMENT: [(&str, &str, &str); 3] = [
    ("Utánvét", "COD", "1"),
    ("Banki átutalás", "BANK_TRANSFER", "1"),
    ("Bankkártyás fizetés", "CARD", "0"),
];
/// Countries: (inner id, name).
const COUNTRIES: [(u32, &str); 3] = [(97, "Magyarország"), (14, "Ausztria"), (189, "Szlovákia")];

/// A generated customer.
#[derive(Clone, Debug)]
pub struct GCustomer {
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    pub phone: String,
    pub company: Option<&'static str>,
    pub tax_number: Option<String>,
    pub group: u32,
    pub newsletter: bool,
    pub city: u8,
    pub street: u8,
    pub house: u16,
    pub created: Millis,
    /// Inner id of the first address; `address_count` follow.
    pub first_address: u32,
    pub address_count: u8,
}

/// A generated product.
#[derive(Clone, Debug)]
pub struct GProduct {
    pub name: String,
    pub sku: String,
    pub net: i64,
    pub tax: u8,
    pub parent: u32,
    pub category: u32,
    pub stock: u32,
    pub active: bool,
    pub created: Millis,
}

/// A generated order line.
#[derive(Clone, Copy, Debug)]
pub struct GLine {
    pub product: u32,
    pub qty: u16,
}

/// A generated order.
#[derive(Clone, Debug)]
pub struct GOrder {
    /// Customer index + 1; 0 = guest checkout.
    pub customer: u32,
    pub status: u32,
    pub email_variant: u8,
    pub lines: Vec<GLine>,
    pub coupon: Option<u8>,
    pub shipping: u8,
    pub payment: u8,
    pub ship_alt: bool,
    pub marketplace: bool,
    pub created: Millis,
    /// Total types present, in order: SUB_TOTAL, SHIPPING, COUPON?, TAX, TOTAL.
    pub has_coupon_total: bool,
}

/// The compact generated data.
#[derive(Clone, Debug, Default)]
pub struct GenData {
    pub customers: Vec<GCustomer>,
    pub products: Vec<GProduct>,
    pub orders: Vec<GOrder>,
}

fn rng_for(seed: u64, stream: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ stream.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ index,
    )
}

/// An e-mail as a checkout form may carry it: other case, stray spaces.
pub fn email_variant(email: &str, variant: u8) -> String {
    match variant {
        1 => email.to_uppercase(),
        2 => format!(" {email}"),
        3 => format!("{email} "),
        4 => {
            let mut c = email.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
        _ => email.to_owned(),
    }
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' | 'ö' | 'ő' => 'o',
            'ú' | 'ü' | 'ű' => 'u',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

const MIN: Millis = 60_000;
const DAY: Millis = 86_400_000;

/// Sizes of the generated shop.
pub struct Sizes {
    pub orders: usize,
    pub customers: usize,
    pub products: usize,
}

/// Generates every table. `base` is the shop-local time of the first order.
pub fn generate(seed: u64, sizes: &Sizes, base: Millis) -> (GenData, Vec<Table>) {
    let mut tables: Vec<Table> = Kind::ALL.iter().map(|_| Table::default()).collect();
    let t = |k: Kind| k.index();
    let origin = base - 400 * DAY;
    // Fixed tables.
    for (i, _) in STATUSES.iter().enumerate() {
        let id = i as u32 + 1;
        tables[t(Kind::OrderStatus)].push(
            Kind::OrderStatus,
            Row::generated(Src::Gen(i as u32, 0), 0, 0, None, origin),
        );
        for lang in 1..=2u32 {
            tables[t(Kind::OrderStatusDescription)].push(
                Kind::OrderStatusDescription,
                Row::generated(Src::Gen(i as u32, lang as u16), id, lang, None, origin),
            );
        }
    }
    for (i, (name, _)) in GROUPS.iter().enumerate() {
        tables[t(Kind::CustomerGroup)].push(
            Kind::CustomerGroup,
            Row::generated(Src::Gen(i as u32, 0), 0, 0, Some(name), origin),
        );
    }
    for (i, (name, parent)) in CATEGORIES.iter().enumerate() {
        tables[t(Kind::Category)].push(
            Kind::Category,
            Row::generated(Src::Gen(i as u32, 0), *parent, 0, None, origin),
        );
        tables[t(Kind::CategoryDescription)].push(
            Kind::CategoryDescription,
            Row::generated(Src::Gen(i as u32, 1), i as u32 + 1, 1, Some(name), origin),
        );
    }
    for (i, c) in COUPONS.iter().enumerate() {
        tables[t(Kind::Coupon)].push(
            Kind::Coupon,
            Row::generated(
                Src::Gen(i as u32, 0),
                0,
                0,
                Some(c.0),
                origin + i as i64 * DAY,
            ),
        );
    }
    // Products: every fifth starts a family of three size variants after it.
    let mut gen = GenData::default();
    let mut i = 0usize;
    while i < sizes.products {
        let mut r = rng_for(seed, 1, i as u64);
        let word = PRODUCT_WORDS[r.random_range(0..PRODUCT_WORDS.len())];
        let family = i.is_multiple_of(5) && i + 3 < sizes.products;
        let net = r.random_range(2..400) * 100 + 90;
        let category = r.random_range(1..=CATEGORIES.len() as u32);
        let created = origin + i as i64 * 37 * MIN;
        let parent_id = i as u32 + 1;
        let base_sku = format!("SR-{:05}", i + 1);
        let push = |gen: &mut GenData, name: String, sku: String, parent: u32, r: &mut StdRng| {
            let p = GProduct {
                name,
                sku,
                net,
                tax: if word == "Falinaptár" { 5 } else { 27 },
                parent,
                category,
                stock: r.random_range(0..120),
                active: r.random_bool(0.93),
                created,
            };
            gen.products.push(p);
        };
        push(
            &mut gen,
            format!("{word} {}", i + 1),
            base_sku.clone(),
            parent_id,
            &mut r,
        );
        i += 1;
        if family {
            for s in SIZES {
                push(
                    &mut gen,
                    format!("{word} {} - {s}", parent_id),
                    format!("{base_sku}-{s}"),
                    parent_id,
                    &mut r,
                );
                i += 1;
            }
        }
    }
    for (k, p) in gen.products.iter().enumerate() {
        let id = k as u32 + 1;
        tables[t(Kind::Product)].push(
            Kind::Product,
            Row::generated(Src::Gen(k as u32, 0), p.parent, 0, Some(&p.sku), p.created),
        );
        tables[t(Kind::ProductDescription)].push(
            Kind::ProductDescription,
            Row::generated(Src::Gen(k as u32, 1), id, 1, Some(&p.name), p.created),
        );
        tables[t(Kind::ProductCategoryRelation)].push(
            Kind::ProductCategoryRelation,
            Row::generated(Src::Gen(k as u32, 0), id, p.category, None, p.created),
        );
        if k.is_multiple_of(7) && p.category != 12 {
            // On sale too.
            tables[t(Kind::ProductCategoryRelation)].push(
                Kind::ProductCategoryRelation,
                Row::generated(Src::Gen(k as u32, 1), id, 12, None, p.created),
            );
        }
    }
    // Customers; about 12 % repeat an earlier customer's e-mail in another spelling.
    for c in 0..sizes.customers {
        let mut r = rng_for(seed, 2, c as u64);
        let created = origin + c as i64 * 53 * MIN;
        let first_address = tables[t(Kind::Address)].rows.len() as u32 + 1;
        let customer = if c > 5 && r.random_bool(0.12) {
            let j = r.random_range(0..c);
            let prev = &gen.customers[j];
            let variant = r.random_range(1..=4u8);
            GCustomer {
                email: email_variant(prev.email.trim(), variant),
                created,
                first_address,
                address_count: 1,
                ..prev.clone()
            }
        } else {
            let first = FIRST[r.random_range(0..FIRST.len())];
            let last = LAST[r.random_range(0..LAST.len())];
            let company = r
                .random_bool(0.35)
                .then(|| COMPANIES[r.random_range(0..COMPANIES.len())]);
            let domain = match company {
                Some(co) => format!("{}.hu", ascii(co.split(' ').next().unwrap_or("ceg"))),
                None => ["gmail.com", "freemail.hu", "citromail.hu"][c % 3].to_owned(),
            };
            GCustomer {
                first,
                last,
                email: format!("{}.{}{}@{domain}", ascii(first), ascii(last), c + 1),
                phone: format!(
                    "+36{}{:07}",
                    [20, 30, 70][c % 3],
                    r.random_range(0..9_999_999)
                ),
                company,
                tax_number: company.map(|_| {
                    format!(
                        "{:08}-{}-{:02}",
                        r.random_range(10_000_000..99_999_999),
                        r.random_range(1..6),
                        r.random_range(1..45)
                    )
                }),
                group: if company.is_some() {
                    3
                } else {
                    [1, 1, 2, 4][c % 4]
                },
                newsletter: r.random_bool(0.4),
                city: r.random_range(0..CITIES.len() as u8),
                street: r.random_range(0..STREETS.len() as u8),
                house: r.random_range(1..120),
                created,
                first_address,
                address_count: if r.random_bool(0.3) { 2 } else { 1 },
            }
        };
        let id = c as u32 + 1;
        for a in 0..customer.address_count {
            tables[t(Kind::Address)].push(
                Kind::Address,
                Row::generated(Src::Gen(c as u32, a as u16), id, 0, None, created),
            );
        }
        tables[t(Kind::Customer)].push(
            Kind::Customer,
            Row::generated(
                Src::Gen(c as u32, 0),
                0,
                customer.group,
                Some(&customer.email),
                created,
            ),
        );
        gen.customers.push(customer);
    }
    // Orders.
    let nc = gen.customers.len().max(1);
    let np = gen.products.len().max(1);
    for o in 0..sizes.orders {
        let mut r = rng_for(seed, 3, o as u64);
        let created = base + o as i64 * 4 * MIN + r.random_range(0..180_000);
        // Skewed towards a core of repeat customers.
        let customer = if r.random_bool(0.08) {
            0
        } else if r.random_bool(0.5) {
            r.random_range(0..(nc / 10).max(1)) as u32 + 1
        } else {
            r.random_range(0..nc) as u32 + 1
        };
        let roll: f64 = r.random();
        let status = if roll < 0.03 {
            0
        } else {
            // Older orders are further along.
            let weights: [u32; 8] = [14, 14, 12, 40, 6, 4, 3, 7];
            let mut pick = r.random_range(0..weights.iter().sum::<u32>());
            let mut s = 1;
            for (k, w) in weights.iter().enumerate() {
                if pick < *w {
                    s = k as u32 + 1;
                    break;
                }
                pick -= w;
            }
            s
        };
        let lines = (0..r.random_range(1..=4))
            .map(|_| GLine {
                product: r.random_range(0..np) as u32,
                qty: if r.random_bool(0.7) {
                    1
                } else {
                    r.random_range(2..20)
                },
            })
            .collect();
        let coupon = r
            .random_bool(0.12)
            .then(|| r.random_range(0..COUPONS.len() as u8));
        let order = GOrder {
            customer,
            status,
            email_variant: if r.random_bool(0.1) {
                r.random_range(1..=4)
            } else {
                0
            },
            lines,
            coupon,
            shipping: r.random_range(0..SHIPPING.len() as u8),
            payment: r.random_range(0..PAYMENT.len() as u8),
            ship_alt: r.random_bool(0.2),
            marketplace: r.random_bool(0.04),
            created,
            has_coupon_total: coupon.is_some(),
        };
        let updated = match status {
            0 | 1 => created,
            _ => created + r.random_range(MIN..10 * DAY),
        };
        let storno = status != 0 && r.random_bool(0.02);
        let id = o as u32 + 1;
        let email = gen_order_email(&gen, &order);
        let mut row = Row::generated(
            Src::Gen(o as u32, 0),
            customer,
            status,
            Some(&email),
            created,
        );
        row.updated = updated;
        row.storno = storno;
        tables[t(Kind::Order)].push(Kind::Order, row);
        for k in 0..order.lines.len() {
            tables[t(Kind::OrderProduct)].push(
                Kind::OrderProduct,
                Row::generated(Src::Gen(o as u32, k as u16), id, 0, None, created),
            );
        }
        for k in 0..total_types(&order).len() {
            tables[t(Kind::OrderTotal)].push(
                Kind::OrderTotal,
                Row::generated(Src::Gen(o as u32, k as u16), id, 0, None, created),
            );
        }
        for (k, s) in history_path(status).iter().enumerate() {
            let at = if k == 0 {
                created
            } else {
                updated - (history_path(status).len() - 1 - k) as i64 * MIN
            };
            tables[t(Kind::OrderHistory)].push(
                Kind::OrderHistory,
                Row::generated(Src::Gen(o as u32, k as u16), id, *s, None, at),
            );
        }
        gen.orders.push(order);
    }
    (gen, tables)
}

/// The statuses an order went through to reach `status`.
pub fn history_path(status: u32) -> Vec<u32> {
    match status {
        0 => vec![],
        1 => vec![1],
        2 | 8 | 5 | 6 => vec![1, status],
        3 => vec![1, 2, 3],
        4 => vec![1, 2, 3, 4],
        7 => vec![1, 2, 4, 7],
        s => vec![s],
    }
}

fn gen_order_email(gen: &GenData, o: &GOrder) -> String {
    match o.customer {
        0 => format!("vendeg{}@example.hu", o.created % 100_000),
        c => email_variant(gen.customers[c as usize - 1].email.trim(), o.email_variant),
    }
}

/// The order total types present on an order.
pub fn total_types(o: &GOrder) -> Vec<&'static str> {
    let mut v = vec!["SUB_TOTAL", "SHIPPING"];
    if o.has_coupon_total {
        v.push("COUPON");
    }
    v.extend(["TAX", "TOTAL"]);
    v
}

/// Money of an order in HUF: (sub total, shipping, coupon discount, tax, total), all net but
/// `tax` and `total`.
pub fn amounts(gen: &GenData, o: &GOrder) -> (i64, i64, i64, i64, i64) {
    let sub: i64 = o
        .lines
        .iter()
        .map(|l| gen.products[l.product as usize].net * i64::from(l.qty))
        .sum();
    let coupon = o.coupon.map(|c| COUPONS[c as usize]);
    let mut shipping = SHIPPING[o.shipping as usize].2;
    if coupon.is_some_and(|c| c.3) || sub >= 30_000 {
        shipping = 0;
    }
    let discount = match coupon {
        Some((_, "PERCENT", v, _, _)) => sub * i64::from(v) / 100,
        Some((_, _, v, _, _)) => i64::from(v).min(sub),
        None => 0,
    };
    let tax: i64 = o
        .lines
        .iter()
        .map(|l| {
            let p = &gen.products[l.product as usize];
            p.net * i64::from(l.qty) * i64::from(p.tax)
        })
        .sum::<i64>()
        / 100
        - discount * 27 / 100
        + shipping * 27 / 100;
    let total = sub - discount + shipping + tax;
    (sub, shipping, discount, tax, total)
}

/// Formats HUF like the shop's `valueText`: `2.400 Ft`.
pub fn huf_text(v: i64) -> String {
    let s = v.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    format!("{}{out} Ft", if v < 0 { "-" } else { "" })
}

fn merge(into: &mut Value, more: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, more) {
        a.extend(b);
    }
}

fn money(v: i64) -> Value {
    Value::String(format!("{v}.0000"))
}

fn s(v: impl ToString) -> Value {
    Value::String(v.to_string())
}

fn link(path: &str, id: String) -> Value {
    json!({ "href": format!("/{path}/{id}") })
}

fn lang(n: u32) -> Value {
    link("languages", foreign_id("language", "language_id", n))
}

fn address_line(c: &GCustomer, alt: bool, variant: u8) -> (String, &'static str, &'static str) {
    let street = if alt {
        STREETS[(c.street as usize + 3) % STREETS.len()]
    } else {
        STREETS[c.street as usize]
    };
    let house = if alt { c.house / 2 + 1 } else { c.house };
    let street = match variant {
        1 => street.replace(" utca", " u."),
        2 => street.to_uppercase(),
        _ => street.to_owned(),
    };
    let (city, post) = CITIES[if alt {
        (c.city as usize + 1) % CITIES.len()
    } else {
        c.city as usize
    }];
    (format!("{street} {house}."), city, post)
}

/// Renders a generated record's own fields (ids, dates and child links are added by the
/// caller). Links are relative (`/customers/…`).
pub fn render(kind: Kind, gen: &GenData, src: (u32, u16), row: &Row) -> Map<String, Value> {
    let (i, sub) = (src.0 as usize, src.1);
    let v = match kind {
        Kind::OrderStatus => json!({}),
        Kind::OrderStatusDescription => {
            let st = STATUSES[i];
            json!({
                "name": if sub == 1 { st.1 } else { st.2 },
                "color": st.3,
                "orderStatus": link("orderStatuses", encode_id(Kind::OrderStatus, st.0, 0)),
                "language": lang(u32::from(sub)),
            })
        }
        Kind::CustomerGroup => {
            let g = GROUPS[i];
            json!({ "name": g.0, "percentDiscount": g.1, "percentDiscountSpecialPrices": "0" })
        }
        Kind::Category => {
            let parent = CATEGORIES[i].1;
            let me = encode_id(Kind::Category, i as u32 + 1, 0);
            json!({
                "picture": format!("data/category/{}.jpg", i + 1),
                "sortOrder": s(i + 1),
                "status": if i == 11 { "0" } else { "1" },
                "productsStatus": "1",
                "parentCategory": if parent == 0 { Value::Null } else {
                    link("categories", encode_id(Kind::Category, parent, 0))
                },
                "centralCategory": link("categories", me),
            })
        }
        Kind::CategoryDescription => {
            let name = CATEGORIES[i].0;
            json!({
                "name": name,
                "metaKeywords": name.to_lowercase(),
                "metaDescription": format!("{name} webáruház"),
                "description": format!("<p>{name} kategória</p>"),
                "customTitle": "",
                "robotsMetaTag": "0",
                "footerSeoText": "",
                "heading": name,
                "category": link("categories", encode_id(Kind::Category, i as u32 + 1, 0)),
                "language": lang(1),
            })
        }
        Kind::Coupon => {
            let c = COUPONS[i];
            json!({
                "code": c.0,
                "discountType": c.1,
                "percentDiscountValue": if c.1 == "PERCENT" { format!("{}.0000", c.2) } else { "0.0000".into() },
                "fixDiscountValue": if c.1 == "FIXED" { format!("{}.0000", c.2) } else { "0.0000".into() },
                "loginRequired": if i == 5 { "1" } else { "0" },
                "freeShipping": if c.3 { "1" } else { "0" },
                "dateStart": if i == 4 { "2025-11-28" } else { "0000-00-00" },
                "dateEnd": if i == 4 { "2025-12-01" } else { "0000-00-00" },
                "totalNumberOfCoupons": "1000",
                "totalNumberOfCouponsPerCustomer": "1",
                "status": if c.4 { "1" } else { "0" },
                "email": "",
                "minOrderLimit": if c.1 == "FIXED" { "5000.00" } else { "0.00" },
                "maxOrderLimit": "0.00",
                "validToSpecialProducts": "1",
                "validWithGiftProducts": "1",
                "validWithBulkDiscount": "1",
                "validWithLoyaltyPoints": "1",
                "bypassMinOrderLimitWithCoupon": "0",
                "targetType": "ORDER",
                "taxClass": link("taxClasses", foreign_id("taxClass", "tax_class_id", 10)),
            })
        }
        Kind::Product => {
            let p = &gen.products[i];
            let tax_class = if p.tax == 5 { 11 } else { 10 };
            let stock = s(p.stock);
            let v = json!({
                "sku": p.sku, "modelNumber": format!("M{}", p.parent), "gtin": format!("599{:010}", i + 1),
                "orderable": "1", "price": money(p.net), "cost": money(p.net * 6 / 10),
                "multiplier": "1.0000", "multiplierLock": "0", "loyaltyPoints": "",
                "stock1": stock, "stock2": "0", "stock3": "0", "stock4": "0", "subtractStock": "1",
                "mainPicture": format!("product/{}.jpg", p.sku), "width": "0.00", "height": "0.00",
                "length": "0.00", "weight": "0.20", "status": if p.active { "1" } else { "0" },
                "shipped": "1", "minimalOrderNumber": "1", "maximalOrderNumber": "0",
                "minimalOrderNumberMultiply": "0", "availableDate": "0000-00-00",
                "quantity": format!("{}.0000", p.stock), "sortOrder": "0", "imageAlt": p.name,
            });
            let mut v = v;
            merge(
                &mut v,
                json!({
                    "freeShipping": "0", "durableMediaDevice": "0",
                    "taxClass": link("taxClasses", foreign_id("taxClass", "tax_class_id", tax_class)),
                    "noStockStatus": link("stockStatuses", foreign_id("stockStatus", "stock_status_id", 5)),
                    "inStockStatus": link("stockStatuses", foreign_id("stockStatus", "stock_status_id", 9)),
                    "productClass": if p.parent != i as u32 + 1 || gen.products.get(i + 1).is_some_and(|n| n.parent == i as u32 + 1) {
                        link("productClasses", foreign_id("productClass", "product_class_id", 2))
                    } else { Value::Null },
                    "parentProduct": link("products", encode_id(Kind::Product, p.parent, 0)),
                    "volumeUnit": link("lengthClasses", foreign_id("lengthClass", "length_class_id", 1)),
                    "weightUnit": link("weightClasses", foreign_id("weightClass", "weight_class_id", 1)),
                    "manufacturer": Value::Null,
                    "onlyStock1Status": Value::Null, "onlyStock2Status": Value::Null,
                    "onlyStock3Status": Value::Null, "onlyStock4Status": Value::Null,
                }),
            );
            v
        }
        Kind::ProductDescription => {
            let p = &gen.products[i];
            json!({
                "name": p.name, "metaTitle": p.name, "metaKeywords": "", "metaDescription": "",
                "shortDescription": format!("{} rövid leírás", p.name),
                "description": format!("<p>{}</p>", p.name), "customContentTitle": "",
                "customContent": "", "parameters": "", "packagingUnit": "db",
                "measurementUnit": "db", "videoCode": "",
                "product": link("products", encode_id(Kind::Product, i as u32 + 1, 0)),
                "language": lang(1),
            })
        }
        Kind::ProductCategoryRelation => json!({
            "product": link("products", encode_id(Kind::Product, row.parent, 0)),
            "category": link("categories", encode_id(Kind::Category, row.aux, 0)),
        }),
        Kind::Customer => {
            let c = &gen.customers[i];
            json!({
                "firstname": c.first, "lastname": c.last, "email": c.email, "telephone": c.phone,
                "fax": "",
                "password": format!("$2y$10${:0>53}", i),
                "newsletter": if c.newsletter { "1" } else { "0" },
                "status": "1", "approved": "1", "freeShipping": "0",
                "defaultAddress": link("addresses", encode_id(Kind::Address, c.first_address, 0)),
                "customerGroup": link("customerGroups", encode_id(Kind::CustomerGroup, c.group, 0)),
            })
        }
        Kind::Address => {
            let c = &gen.customers[i];
            let (line, city, post) = address_line(c, sub == 1, (i % 3) as u8);
            json!({
                "company": c.company.unwrap_or(""),
                "firstname": c.first, "lastname": c.last,
                "taxNumber": c.tax_number.clone().unwrap_or_default(),
                "type": if c.company.is_some() { "business" } else { "private" },
                "address1": line, "address2": if sub == 1 { "2. emelet 5." } else { "" },
                "postcode": post, "city": city, "telephone": c.phone,
                "customer": link("customers", encode_id(Kind::Customer, i as u32 + 1, 0)),
                "country": link("countries", foreign_id("country", "country_id", 97)),
                "zone": Value::Null,
            })
        }
        Kind::Order => return render_order(gen, i, row),
        Kind::OrderProduct => {
            let o = &gen.orders[i];
            let l = o.lines[sub as usize];
            let p = &gen.products[l.product as usize];
            let gross = p.net * (100 + i64::from(p.tax)) / 100;
            json!({
                "name": p.name, "sku": p.sku, "productInnerId": s(l.product + 1),
                "modelNumber": "", "originalPrice": money(p.net), "price": money(p.net),
                "grossPrice": s(gross), "originalGrossPrice": s(gross),
                "originalPriceCurrency": money(p.net), "priceCurrency": money(p.net),
                "grossPriceCurrency": money(gross), "originalGrossPriceCurrency": money(gross),
                "total": money(p.net * i64::from(l.qty)), "taxRate": format!("{}.0000", p.tax),
                "stock1": s(l.qty), "stock2": "0", "stock3": "0", "stock4": "0",
                "subtractStock": "1", "width": "0.00", "height": "0.00", "length": "0.00",
                "weight": "0.20", "gtin": format!("599{:010}", l.product + 1),
                "durableMediaDevice": "0",
                "parentProduct": link("products", encode_id(Kind::Product, p.parent, 0)),
                "order": link("orders", encode_id(Kind::Order, i as u32 + 1, 0)),
                "product": link("products", encode_id(Kind::Product, l.product + 1, 0)),
            })
        }
        Kind::OrderTotal => {
            let o = &gen.orders[i];
            let ty = total_types(o)[sub as usize];
            let (sub_t, ship, disc, tax, total) = amounts(gen, o);
            let (name, value, key, desc) = match ty {
                "SUB_TOTAL" => ("Nettó részösszeg:".to_owned(), sub_t, "", ""),
                "SHIPPING" => (
                    format!("{}:", SHIPPING[o.shipping as usize].0),
                    ship,
                    "shipping",
                    "",
                ),
                "COUPON" => {
                    let c = COUPONS[o.coupon.unwrap_or(0) as usize];
                    (
                        format!("Kupon ({}):", c.0),
                        -disc,
                        c.0,
                        "Kedvezmény kuponnal",
                    )
                }
                "TAX" => ("ÁFA (27%):".to_owned(), tax, "tax", ""),
                _ => ("Bruttó végösszeg:".to_owned(), total, "", ""),
            };
            json!({
                "name": name, "valueText": huf_text(value), "value": money(value),
                "sortOrder": s(sub + 1), "type": ty, "key": key, "description": desc,
                "order": link("orders", encode_id(Kind::Order, i as u32 + 1, 0)),
            })
        }
        Kind::OrderHistory => json!({
            "comment": if sub == 0 { "" } else { "Állapot módosítva" },
            "order": link("orders", encode_id(Kind::Order, i as u32 + 1, 0)),
            "orderStatus": link("orderStatuses", encode_id(Kind::OrderStatus, row.aux, 0)),
        }),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn render_order(gen: &GenData, i: usize, row: &Row) -> Map<String, Value> {
    let o = &gen.orders[i];
    let (_, _, _, _, total) = amounts(gen, o);
    let ship = SHIPPING[o.shipping as usize];
    let pay = PAYMENT[o.payment as usize];
    let (first, last, phone, company, tax_no, group, bill, deliver) = match o.customer {
        0 => {
            let c = GCustomer {
                first: FIRST[i % FIRST.len()],
                last: LAST[i % LAST.len()],
                email: String::new(),
                phone: format!("+3630{:07}", i),
                company: None,
                tax_number: None,
                group: 1,
                newsletter: false,
                city: (i % CITIES.len()) as u8,
                street: (i % STREETS.len()) as u8,
                house: (i % 90) as u16 + 1,
                created: 0,
                first_address: 0,
                address_count: 0,
            };
            let b = address_line(&c, false, 0);
            (
                c.first,
                c.last,
                c.phone.clone(),
                None,
                None,
                1,
                b.clone(),
                b,
            )
        }
        cu => {
            let c = &gen.customers[cu as usize - 1];
            let b = address_line(c, false, (i % 4) as u8);
            let d = if o.ship_alt {
                address_line(c, true, 0)
            } else {
                b.clone()
            };
            (
                c.first,
                c.last,
                c.phone.clone(),
                c.company,
                c.tax_number.clone(),
                c.group,
                b,
                d,
            )
        }
    };
    let country = COUNTRIES[if i % 29 == 28 { 1 + i % 2 } else { 0 }];
    let country_link = link("countries", foreign_id("country", "country_id", country.0));
    let v = json!({
        "invoiceId": if matches!(o.status, 3 | 4 | 7) { s(i + 1) } else { s(0) },
        "invoicePrefix": if matches!(o.status, 3 | 4 | 7) { "SR-2026-" } else { "" },
        "firstname": first, "lastname": last, "phone": phone, "fax": "",
        "email": row.key.as_deref().unwrap_or(""),
        "shippingFirstname": first, "shippingLastname": last,
        "shippingCompany": company.unwrap_or(""),
        "shippingAddress1": deliver.0, "shippingAddress2": "", "shippingCity": deliver.1,
        "shippingPostcode": deliver.2, "shippingCountryName": country.1, "shippingZoneName": "",
        "shippingAddressFormat": "", "shippingMethodName": ship.0,
        "shippingMethodLocalizedName": ship.0, "shippingMethodTaxRate": "27.0000",
        "shippingMethodTaxName": "27 %", "shippingMethodExtension": ship.1,
        "shippingReceivingPointId": if ship.1 == "FOXPOST" { s(1000 + i % 500) } else { s(0) },
    });
    let mut v = v;
    merge(
        &mut v,
        json!({
            "paymentFirstname": first, "paymentLastname": last,
            "paymentCompany": company.unwrap_or(""),
            "paymentAddress1": bill.0, "paymentAddress2": "", "paymentCity": bill.1,
            "paymentPostcode": bill.2, "paymentCountryName": country.1, "paymentZoneName": "",
            "paymentAddressFormat": "", "paymentMethodName": pay.0, "paymentMethodCode": pay.1,
            "paymentMethodTaxRate": "0.0000", "paymentMethodTaxName": "",
            "paymentMethodAfter": pay.2, "taxNumber": tax_no.unwrap_or_default(),
            "comment": if i.is_multiple_of(11) { "Kérem délelőtt szállítsák." } else { "" },
            "total": money(total), "value": "1.00000000", "couponTaxRate": if o.coupon.is_some() { "27.0000" } else { "-1.0000" },
        }),
    );
    merge(
        &mut v,
        json!({
            "ip": format!("84.{}.{}.{}", i % 200, (i / 200) % 250, i % 97 + 1),
            "pickPackPontShopCode": "", "loyaltyPointsTaxRate": "-1.0000",
            "customer": if o.customer == 0 { Value::Null } else {
                link("customers", encode_id(Kind::Customer, o.customer, 0))
            },
            "customerGroup": link("customerGroups", encode_id(Kind::CustomerGroup, group, 0)),
            "shippingZone": Value::Null, "shippingCountry": country_link.clone(),
            "paymentZone": Value::Null, "paymentCountry": country_link,
            "orderStatus": if row.aux == 0 { Value::Null } else {
                link("orderStatuses", encode_id(Kind::OrderStatus, row.aux, 0))
            },
            "language": lang(1),
            "currency": link("currencies", foreign_id("currency", "currency_id", 4)),
            "shippingMode": link("shippingModes", foreign_id("shippingMode", "id", u32::from(o.shipping) + 1)),
            "externalInfo": if o.marketplace {
                json!({ "partner_order_id": s(900_000 + i), "partner_prefix": "EMAG" })
            } else { json!({}) },
        }),
    );
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
