//! Seeded data of the MplusKASSA simulator: branches, employees, article groups, products with
//! articles, relations and orders. One `StdRng` per kind, seeded from the seed, so the same
//! seed always gives the same data.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::*;
use crate::clock::Millis;

const FIRST_NAMES: &[&str] = &[
    "Jan", "Sanne", "Pieter", "Emma", "Daan", "Lotte", "Bram", "Fleur", "Thijs", "Anouk", "Luuk",
    "Iris", "Ruben", "Noor", "Sem", "Eva", "Joost", "Femke", "Koen", "Marieke",
];
const LAST_NAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
];
const COMPANY_STEMS: &[&str] = &[
    "Bakkerij Het Zoete Hoekje",
    "Drukkerij Vermeer",
    "Café De Zwaan",
    "Groothandel Noord",
    "Fietsenmaker Bos",
    "Bloemenhuis Flora",
    "Koffiebranderij Aroma",
    "Slagerij Van Dam",
    "Boekhandel Het Leesteken",
    "Installatiebedrijf Mulder",
];
const COMPANY_SUFFIXES: &[&str] = &["B.V.", "BV", "V.O.F.", "", "Holding B.V."];
const STREETS: &[&str] = &[
    "Kerkstraat",
    "Dorpsstraat",
    "Stationsweg",
    "Molenweg",
    "Hoofdstraat",
    "Schoolstraat",
    "Julianalaan",
    "Prinsengracht",
    "Marktplein",
    "Industrieweg",
];
const CITIES: &[(&str, &str)] = &[
    ("Amsterdam", "NL"),
    ("Rotterdam", "NL"),
    ("Utrecht", "NL"),
    ("Eindhoven", "NL"),
    ("Groningen", "NL"),
    ("Zwolle", "NL"),
    ("Antwerpen", "BE"),
    ("Gent", "BE"),
    ("Düsseldorf", "DE"),
];
const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "hotmail.com",
    "ziggo.nl",
    "kpnmail.nl",
    "outlook.com",
];

/// `(name, sub groups)` of the generated article groups.
const GROUPS: &[(&str, &[&str])] = &[
    ("Brood & Banket", &["Brood", "Gebak"]),
    ("Dranken", &["Koffie", "Thee", "Frisdrank"]),
    ("Kleding", &["Shirts", "Broeken", "Jassen"]),
    ("Kantoor", &["Papier", "Pennen"]),
    ("Fietsen", &["Onderdelen", "Accessoires"]),
    ("Cadeaus", &[]),
];
const NOUNS: &[&str] = &[
    "Croissant",
    "Koffiebonen",
    "T-shirt",
    "Spijkerbroek",
    "Regenjas",
    "Notitieboek",
    "Balpen",
    "Fietsbel",
    "Binnenband",
    "Thee",
    "Appeltaart",
    "Kaarsen",
    "Mok",
    "Rugzak",
    "Sokken",
];
const ADJECTIVES: &[&str] = &[
    "Klassiek",
    "Biologisch",
    "Premium",
    "Basic",
    "Luxe",
    "Eco",
    "Stoer",
    "Zacht",
];
const BRANDS: &[&str] = &[
    "Huismerk",
    "Gazelle",
    "Douwe Egberts",
    "Levi's",
    "Moleskine",
    "Pickwick",
];
const COLOURS: &[&str] = &["Zwart", "Wit", "Rood", "Blauw", "Groen"];
const SIZES: &[&str] = &["S", "M", "L", "XL"];
/// Payment methods as MplusKASSA names them.
pub const PAYMENT_METHODS: &[&str] = &["CONTANT", "PIN", "IDEAL", "OPREKENING", "CREDITCARD"];

/// The generated branches: 1 Amsterdam, 2 Utrecht, 3 Webshop.
pub fn branches() -> Vec<Branch> {
    [
        (1, "Winkel Amsterdam"),
        (2, "Winkel Utrecht"),
        (3, "Webshop"),
    ]
    .into_iter()
    .map(|(number, name)| Branch {
        number,
        name: name.into(),
    })
    .collect()
}

/// Employees: the API employee 999999 and a few cashiers.
pub fn employees() -> Vec<(i64, String)> {
    let mut e = vec![(999_999, "API".to_owned())];
    for (i, n) in FIRST_NAMES.iter().take(8).enumerate() {
        e.push((101 + i as i64, (*n).to_owned()));
    }
    e
}

fn rng(seed: u64, kind: u64) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ kind)
}

fn pick<'a, T>(r: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[r.random_range(0..xs.len())]
}

/// Article groups with sub groups; markers are assigned by the caller in list order.
pub fn article_groups() -> Vec<ArticleGroup> {
    let mut out = Vec::new();
    let mut number = 1;
    for (i, (name, subs)) in GROUPS.iter().enumerate() {
        let parent = number;
        out.push(ArticleGroup {
            number,
            name: (*name).into(),
            text: format!("Alle artikelen in {name}"),
            parent: None,
            sort_order: i as i32 + 1,
            marker: 0,
        });
        number += 1;
        for (k, sub) in subs.iter().enumerate() {
            out.push(ArticleGroup {
                number,
                name: (*sub).into(),
                text: (*sub).into(),
                parent: Some(parent),
                sort_order: k as i32 + 1,
                marker: 0,
            });
            number += 1;
        }
    }
    out
}

/// An EAN-13 barcode in the Dutch range (87…) with a valid check digit.
pub fn ean13(n: u64) -> String {
    let body = format!("87{:010}", n % 10_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Price excluding VAT from a price including it, rounded to the cent.
pub fn excl(incl: i64, vat_percentage: i32) -> i64 {
    let div = 100 + i64::from(vat_percentage);
    (incl * 100 + div / 2) / div
}

/// `count` products (product numbers from 1, article numbers from 10001), dated around
/// `base_time`. Markers are assigned by the caller.
pub fn products(
    seed: u64,
    count: usize,
    groups: &[ArticleGroup],
    base_time: Millis,
) -> Vec<Product> {
    let mut r = rng(seed, 1);
    let mut next_article = 10_001i64;
    let leaf_groups: Vec<&ArticleGroup> = groups
        .iter()
        .filter(|g| g.parent.is_some() || !groups.iter().any(|s| s.parent == Some(g.number)))
        .collect();
    (0..count)
        .map(|i| {
            let number = i as i64 + 1;
            let noun = pick(&mut r, NOUNS);
            let adjective = pick(&mut r, ADJECTIVES);
            let description = format!("{adjective} {noun} {number}");
            let group = pick(&mut r, &leaf_groups);
            let mut group_numbers = vec![group.number];
            if let Some(p) = group.parent {
                group_numbers.push(p);
            }
            // Food and drinks carry the low VAT rate (9 %), a few gift cards none.
            let (vat_code, vat_percentage) = match group.number {
                1..=7 => (2, 9),
                _ if r.random_bool(0.02) => (0, 0),
                _ => (1, 21),
            };
            let base_price: i64 = r.random_range(95..=14_995);
            let variants = match r.random_range(0..10) {
                0..=5 => 1,
                6 | 7 => 3,
                _ => 6,
            };
            let colours_sizes: Vec<(Option<&str>, Option<&str>)> = if variants == 1 {
                vec![(None, None)]
            } else if variants == 3 {
                SIZES[..3].iter().map(|s| (None, Some(*s))).collect()
            } else {
                COLOURS[..2]
                    .iter()
                    .flat_map(|c| SIZES[..3].iter().map(move |s| (Some(*c), Some(*s))))
                    .collect()
            };
            let brand = pick(&mut r, BRANDS).to_string();
            let created = base_time - r.random_range(30..400i64) * 86_400_000;
            let stock_article = !r.random_bool(0.08);
            let articles = colours_sizes
                .into_iter()
                .enumerate()
                .map(|(k, (colour, size))| {
                    let a = next_article;
                    next_article += 1;
                    // Bigger sizes cost a little more on some products.
                    let price_incl = base_price + if k > 0 && r.random_bool(0.3) { 200 } else { 0 };
                    let mut d = description.clone();
                    for extra in [colour, size].into_iter().flatten() {
                        d.push(' ');
                        d.push_str(extra);
                    }
                    Article {
                        number: a,
                        plu: format!("{:06}", a),
                        description: d,
                        colour: colour.map(str::to_owned),
                        size: size.map(str::to_owned),
                        barcode: ean13(seed.wrapping_add(a as u64 * 7919) % 10_000_000_000),
                        price_incl,
                        price_excl: excl(price_incl, vat_percentage),
                        purchase_price: price_incl * r.random_range(35..=60) / 100,
                        vat_code,
                        vat_percentage,
                        turnover_group: if vat_code == 2 { 2 } else { 1 },
                        brand: brand.clone(),
                        active: !r.random_bool(0.04),
                        webshop: r.random_bool(0.7),
                        stock_article,
                        created,
                        changed: created + r.random_range(0..30i64) * 86_400_000,
                        marker: 0,
                    }
                })
                .collect();
            Product {
                number,
                description,
                extra_text: format!("{brand} — {noun}"),
                articles,
                groups: group_numbers,
                marker: 0,
            }
        })
        .collect()
}

fn postcode(r: &mut StdRng, country: &str) -> String {
    match country {
        "NL" => format!(
            "{} {}{}",
            r.random_range(1000..9999),
            char::from(b'A' + r.random_range(0..26u8)),
            char::from(b'A' + r.random_range(0..26u8))
        ),
        "BE" => format!("{}", r.random_range(1000..9999)),
        _ => format!("{:05}", r.random_range(10000..99999)),
    }
}

/// A variant of an e-mail address as people type it again: other case, stray spaces.
pub fn email_variant(email: &str, variant: u32) -> String {
    match variant % 4 {
        0 => email.to_uppercase(),
        1 => format!(" {email} "),
        2 => {
            let mut c = email.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
        _ => format!("{email}\t"),
    }
}

fn company_variant(name: &str, variant: u32) -> String {
    match variant % 4 {
        0 => name.replace("B.V.", "BV"),
        1 => name.to_uppercase(),
        2 => name.replacen(' ', "  ", 1),
        _ => format!("{name}."),
    }
}

/// `count` relations (numbers from 1001): persons and companies (40 %); about 12 % repeat an
/// earlier relation with a variant of its e-mail and name (near-duplicates, as real debtor
/// lists have them).
pub fn relations(seed: u64, count: usize, base_time: Millis) -> Vec<Relation> {
    let mut r = rng(seed, 2);
    let mut out: Vec<Relation> = Vec::with_capacity(count);
    for i in 0..count {
        let number = 1001 + i as i64;
        let created = base_time - r.random_range(1..700i64) * 86_400_000;
        if i > 5 && r.random_bool(0.12) {
            let k = r.random_range(0..i);
            let mut dup = out[k].clone();
            let variant = r.random_range(0..100u32);
            dup.number = number;
            dup.email = dup.email.as_deref().map(|e| email_variant(e, variant));
            if let Some(c) = &dup.company_name {
                let c = company_variant(c, variant);
                dup.name = c.clone();
                dup.company_name = Some(c);
            }
            if r.random_bool(0.5) {
                dup.address = dup.address.replace("straat", "str.");
            }
            dup.ext_id = None;
            dup.created = created;
            dup.changed = created;
            out.push(dup);
            continue;
        }
        let first = pick(&mut r, FIRST_NAMES);
        let last = pick(&mut r, LAST_NAMES);
        let person = format!("{first} {last}");
        let (city, country) = *pick(&mut r, CITIES);
        let company = r.random_bool(0.4).then(|| {
            let stem = pick(&mut r, COMPANY_STEMS);
            let suffix = pick(&mut r, COMPANY_SUFFIXES);
            format!("{stem} {suffix}").trim().to_owned()
        });
        let local = format!("{}.{}", first, last.replace(' ', "")).to_lowercase();
        let email = match &company {
            Some(c) => format!(
                "{}@{}.nl",
                first.to_lowercase(),
                c.split_whitespace()
                    .nth(1)
                    .unwrap_or("bedrijf")
                    .to_lowercase()
                    .replace(|ch: char| !ch.is_ascii_alphanumeric(), "")
            ),
            None => format!("{local}{}@{}", i % 97, pick(&mut r, MAIL_DOMAINS)),
        };
        let other_delivery = r.random_bool(0.2);
        let (dcity, dcountry) = *pick(&mut r, CITIES);
        out.push(Relation {
            number,
            ext_id: r.random_bool(0.3).then(|| format!("WEB-C{}", 50_000 + i)),
            name: company.clone().unwrap_or_else(|| person.clone()),
            company_name: company.clone(),
            contact: company.as_ref().map(|_| person.clone()),
            address: format!("{} {}", pick(&mut r, STREETS), r.random_range(1..200)),
            zipcode: postcode(&mut r, country),
            city: city.into(),
            country: country.into(),
            delivery_address: other_delivery
                .then(|| format!("{} {}", pick(&mut r, STREETS), r.random_range(1..200))),
            delivery_zipcode: other_delivery.then(|| postcode(&mut r, dcountry)),
            delivery_city: other_delivery.then(|| dcity.to_owned()),
            delivery_country: other_delivery.then(|| dcountry.to_owned()),
            telephone: r.random_bool(0.6).then(|| {
                format!(
                    "0{}-{}",
                    r.random_range(10..99),
                    r.random_range(1_000_000..9_999_999)
                )
            }),
            mobile: r
                .random_bool(0.5)
                .then(|| format!("06-{}", r.random_range(10_000_000..99_999_999))),
            email: (!r.random_bool(0.05)).then_some(email),
            vat_number: company
                .as_ref()
                .filter(|_| country == "NL")
                .map(|_| format!("NL{:09}B01", r.random_range(100_000_000..999_999_999))),
            commerce_number: company
                .as_ref()
                .map(|_| format!("{:08}", r.random_range(10_000_000..99_999_999))),
            extra_text: None,
            category_id: if company.is_some() { 2 } else { 1 },
            payment_within_days: if company.is_some() { 30 } else { 0 },
            active: !r.random_bool(0.03),
            created,
            changed: created + r.random_range(0..60i64) * 86_400_000,
            marker: 0,
        });
    }
    out
}

/// What order generation reads.
pub struct OrderContext<'a> {
    /// The seed.
    pub seed: u64,
    /// Products to sell.
    pub products: &'a [Product],
    /// Relations to sell to.
    pub relations: &'a [Relation],
    /// Employees (number, name).
    pub employees: &'a [(i64, String)],
    /// Date of the first order.
    pub base_time: Millis,
}

/// A stable id in the shape MplusKASSA answers (a GUID).
pub fn guid(seed: u64, kind: u64, n: u64) -> String {
    let mut x =
        seed ^ kind.wrapping_mul(0xA076_1D64_78BD_642F) ^ n.wrapping_mul(0xE703_7ED1_A0B4_28DB);
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let (a, b) = (next(), next());
    uuid::Builder::from_random_bytes(((u128::from(a) << 64) | u128::from(b)).to_be_bytes())
        .into_uuid()
        .to_string()
}

/// `count` orders (numbers per year from 1), one every ~5 minutes from `base_time`, with
/// repeat customers, 1–5 lines, every delivery / cancel / complete state, paid, unpaid and
/// partially paid, on account for companies. Markers are assigned by the caller.
pub fn orders(ctx: &OrderContext<'_>, count: usize) -> Vec<Order> {
    let mut r = rng(ctx.seed, 3);
    let mut out = Vec::with_capacity(count);
    let mut per_year: std::collections::HashMap<i32, i64> = Default::default();
    let mut t = ctx.base_time;
    for i in 0..count {
        t += r.random_range(60_000..540_000i64);
        let year = crate::clock::to_datetime(t)
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026);
        let n = per_year.entry(year).or_insert(0);
        *n += 1;
        let webshop = r.random_bool(0.45);
        let branch = if webshop { 3 } else { r.random_range(1..=2) };
        // Skewed choice: a third of the orders come from the first tenth of the customers.
        let relation = if !webshop && r.random_bool(0.3) {
            None
        } else if r.random_bool(0.33) {
            Some(r.random_range(0..ctx.relations.len().div_ceil(10)))
        } else {
            Some(r.random_range(0..ctx.relations.len()))
        };
        let rel = relation.map(|k| &ctx.relations[k]);
        let line_count = r.random_range(1..=5);
        let id = guid(ctx.seed, 3, i as u64);
        let lines: Vec<Line> = (0..line_count)
            .map(|k| {
                let p = &ctx.products[r.random_range(0..ctx.products.len())];
                let a = &p.articles[r.random_range(0..p.articles.len())];
                let quantity = if a.vat_code == 2 && r.random_bool(0.2) {
                    r.random_range(1..=20) * 250 // weighed goods: 0.25 kg steps
                } else {
                    r.random_range(1..=4) * QTY_ONE
                };
                Line {
                    id: guid(ctx.seed, 4, i as u64 * 8 + k as u64),
                    article: a.number,
                    plu: a.plu.clone(),
                    text: a.description.clone(),
                    quantity,
                    delivered: 0,
                    cancelled: 0,
                    price: a.price_incl,
                    price_excl: a.price_excl,
                    vat_code: a.vat_code,
                    vat_percentage: a.vat_percentage,
                    turnover_group: a.turnover_group,
                    discount_percentage: if r.random_bool(0.08) { 10 } else { 0 },
                }
            })
            .collect();
        let employee = if webshop {
            999_999
        } else {
            pick(&mut r, &ctx.employees[1..]).0
        };
        let mut order = Order {
            id,
            ext_id: webshop.then(|| format!("WEB-{}", 100_000 + i)),
            year,
            number: *n,
            order_type: if webshop {
                "ORDER-TYPE-EXTERNAL-SALES-ORDER"
            } else {
                "ORDER-TYPE-SALES-ORDER"
            },
            branch,
            workplace: if webshop { 99 } else { r.random_range(1..=3) },
            employee,
            relation: rel.map_or(0, |x| x.number),
            entry: t,
            financial: t - t.rem_euclid(86_400_000),
            reference: (r.random_bool(0.3)).then(|| format!("PO-{}", r.random_range(1000..99999))),
            delivery_address: rel.filter(|_| webshop).map(|x| {
                Arc::new(Address {
                    name: Some(x.name.clone()),
                    contact: x.contact.clone(),
                    address: Some(
                        x.delivery_address
                            .clone()
                            .unwrap_or_else(|| x.address.clone()),
                    ),
                    zipcode: Some(
                        x.delivery_zipcode
                            .clone()
                            .unwrap_or_else(|| x.zipcode.clone()),
                    ),
                    city: Some(x.delivery_city.clone().unwrap_or_else(|| x.city.clone())),
                    country: Some(
                        x.delivery_country
                            .clone()
                            .unwrap_or_else(|| x.country.clone()),
                    ),
                    company_name: x.company_name.clone(),
                })
            }),
            invoice_address: rel.filter(|_| webshop).map(|x| {
                Arc::new(Address {
                    name: Some(x.name.clone()),
                    contact: x.contact.clone(),
                    address: Some(x.address.clone()),
                    zipcode: Some(x.zipcode.clone()),
                    city: Some(x.city.clone()),
                    country: Some(x.country.clone()),
                    company_name: x.company_name.clone(),
                })
            }),
            delivery_method: webshop.then(|| {
                if r.random_bool(0.8) {
                    "VERZENDEN"
                } else {
                    "AFHALEN"
                }
                .to_owned()
            }),
            payment_method: None,
            lines,
            payments: Vec::new(),
            delivery: Progress::Nothing,
            cancel: Progress::Nothing,
            complete: Progress::Nothing,
            change_counter: 0,
            version: 1,
            marker: 0,
        };
        let total = order.total_incl();
        let on_account = rel.is_some_and(|x| x.payment_within_days > 0) && r.random_bool(0.5);
        let paid_roll: f64 = r.random();
        let method = if on_account {
            "OPREKENING"
        } else if webshop {
            "IDEAL"
        } else {
            pick(&mut r, &PAYMENT_METHODS[..2])
        };
        order.payment_method = Some(method.to_owned());
        let paid = if on_account {
            0
        } else if paid_roll < 0.75 {
            total
        } else if paid_roll < 0.85 {
            total / 2
        } else {
            0
        };
        if paid > 0 {
            order.payments.push(Payment {
                id: guid(ctx.seed, 5, i as u64),
                method: method.to_owned(),
                amount: paid,
                at: t + 30_000,
            });
        }
        // States: most are delivered and complete; some open, partial or cancelled.
        let state: u32 = r.random_range(0..100);
        let (delivery, cancel, complete) = match state {
            0..=54 => (Progress::Complete, Progress::Nothing, Progress::Complete),
            55..=74 => (Progress::Nothing, Progress::Nothing, Progress::Nothing),
            75..=84 => (Progress::Partial, Progress::Nothing, Progress::Partial),
            85..=91 => (Progress::Nothing, Progress::Complete, Progress::Complete),
            _ => (Progress::Complete, Progress::Partial, Progress::Complete),
        };
        order.delivery = delivery;
        order.cancel = cancel;
        order.complete = complete;
        let lines_n = order.lines.len();
        for (k, l) in order.lines.iter_mut().enumerate() {
            match (delivery, cancel) {
                (_, Progress::Complete) => l.cancelled = l.quantity,
                (Progress::Complete, Progress::Partial) if k + 1 == lines_n => {
                    l.cancelled = l.quantity
                }
                (Progress::Complete, _) => l.delivered = l.quantity,
                (Progress::Partial, _) if k == 0 => l.delivered = l.quantity,
                _ => {}
            }
        }
        out.push(order);
    }
    out
}

/// Stock for every stock article in every branch, deterministic from the seed.
pub fn stock(seed: u64, products: &[Product], branches: &[Branch]) -> Vec<(i32, i64, Stock)> {
    let mut r = rng(seed, 6);
    let mut out = Vec::new();
    for p in products {
        for a in p.articles.iter().filter(|a| a.stock_article) {
            for b in branches {
                out.push((
                    b.number,
                    a.number,
                    Stock {
                        free: r.random_range(-2..=80i64) * QTY_ONE,
                        reserved: if r.random_bool(0.25) {
                            r.random_range(1..=6i64) * QTY_ONE
                        } else {
                            0
                        },
                        incoming: if r.random_bool(0.15) {
                            r.random_range(5..=50i64) * QTY_ONE
                        } else {
                            0
                        },
                        stock_id: 0,
                        changed: a.changed,
                    },
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean_check_digit() {
        // 8712345678906 is a valid EAN-13 in the Dutch range.
        assert_eq!(ean13(1_234_567_890), "8712345678906");
    }

    #[test]
    fn excl_rounds() {
        assert_eq!(excl(121, 21), 100);
        assert_eq!(excl(109, 9), 100);
        assert_eq!(excl(0, 21), 0);
    }
}
