//! Deterministic seeded data: every record is a pure function of (seed, kind, index), so the
//! same seed gives the same data and an order can be re-rendered from its index at any time.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::*;
use crate::clock::Millis;

/// Mean spacing of seeded order dates (5 minutes): 100,000 orders span about 11 months.
pub const ORDER_SPACING_MS: i64 = 300_000;
/// The first seeded user id.
pub const FIRST_USER_ID: u64 = 3001;
/// The first product id.
pub const FIRST_PRODUCT_ID: u64 = 101;

const KIND_USER: u64 = 11;
const KIND_ORDER: u64 = 12;
const KIND_STATE: u64 = 13;
const KIND_PRODUCT: u64 = 14;
const KIND_CATEGORY: u64 = 15;

fn mix(seed: u64, kind: u64, index: u64) -> u64 {
    // splitmix64 over the three inputs: cheap, well spread, stable across versions.
    let mut z = seed
        .wrapping_add(kind.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(index.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn rng_for(seed: u64, kind: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(mix(seed, kind, index))
}

fn pick<'a, T>(rng: &mut StdRng, list: &'a [T]) -> &'a T {
    &list[rng.random_range(0..list.len())]
}

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
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Anna",
    "Péter",
    "Zsófia",
    "Lukas",
    "Sophie",
    "Émile",
    "Chloé",
    "Jan",
    "Sanne",
    "Oliver",
    "Amelia",
    "Noah",
    "Olivia",
    "Mateo",
    "Lucía",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Lee",
    "Nagy",
    "Kovács",
    "Müller",
    "Schmidt",
    "Dubois",
    "de Vries",
    "Jansen",
    "O'Brien",
    "MacDonald",
    "Clarke",
];
const COMPANIES: &[&str] = &[
    "Acme Print Inc",
    "Blue Harbor Marketing LLC",
    "Northwind Traders",
    "Summit Realty Group",
    "Greenleaf Dental",
    "Riverside School District",
    "Orchard & Vine Winery",
    "Brightpath Consulting",
    "Metro Events Co.",
    "Harper & Lowe Attorneys",
    "Pixel Forge Studio",
    "St. Mary's Hospital",
    "Kovács és Társa Kft.",
    "Müller Druck GmbH",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Maple Drive",
    "Cedar Lane",
    "Park Road",
    "Elm Street",
    "Washington Boulevard",
    "Lakeview Court",
    "Industrial Parkway",
    "Hill Street",
];
/// (city, state, zip, country).
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("Chicago", "IL", "60601", "US"),
    ("Springfield", "IL", "62701", "US"),
    ("Austin", "TX", "73301", "US"),
    ("Denver", "CO", "80202", "US"),
    ("Portland", "OR", "97201", "US"),
    ("Boston", "MA", "02108", "US"),
    ("Atlanta", "GA", "30303", "US"),
    ("Toronto", "ON", "M5H 2N2", "CA"),
    ("London", "", "EC1A 1BB", "GB"),
    ("Budapest", "", "1052", "HU"),
    ("Berlin", "", "10115", "DE"),
];
const SHIP_METHODS: &[&str] = &[
    "UPS Ground",
    "UPS 2nd Day Air",
    "FedEx Ground",
    "FedEx Priority Overnight",
    "USPS Priority Mail",
    "Customer Pickup",
];
const CARRIERS: &[&str] = &["UPS", "FedEx", "USPS", "DHL"];

/// (top-level category, sub-categories, product base names).
const CATALOGUE: &[(&str, &[&str], &[&str])] = &[
    (
        "Business Cards",
        &["Standard", "Premium", "Folded"],
        &["Business Card", "Appointment Card", "Loyalty Card"],
    ),
    (
        "Flyers",
        &["Letter", "Half Letter", "A5"],
        &["Flyer", "Sell Sheet", "Menu Flyer"],
    ),
    (
        "Brochures",
        &["Tri-Fold", "Bi-Fold", "Z-Fold"],
        &["Brochure", "Pamphlet"],
    ),
    (
        "Posters",
        &["Small Format", "Large Format"],
        &["Poster", "Event Poster"],
    ),
    (
        "Banners & Signs",
        &["Vinyl Banners", "Yard Signs", "Retractable"],
        &["Banner", "Yard Sign", "Roll-Up Banner"],
    ),
    (
        "Stationery",
        &["Letterhead", "Envelopes", "Notepads"],
        &["Letterhead", "#10 Envelope", "Notepad"],
    ),
    (
        "Labels & Stickers",
        &["Roll Labels", "Sheet Labels"],
        &["Label", "Sticker"],
    ),
    (
        "Booklets",
        &["Saddle Stitch", "Perfect Bound"],
        &["Booklet", "Catalog", "Annual Report"],
    ),
];
const STOCKS: &[&str] = &[
    "14pt Matte",
    "16pt Gloss",
    "100lb Gloss Text",
    "80lb Uncoated",
    "13oz Vinyl",
    "4mm Coroplast",
    "Recycled 70lb",
];
const SIDES: &[&str] = &["4/0", "4/4", "1/0", "1/1"];

/// The category tree: top levels first (ids 1..), then sub-categories.
pub fn categories(seed: u64) -> Vec<Category> {
    let mut out = Vec::new();
    let mut next = 1u64;
    for (top, _, _) in CATALOGUE {
        out.push(Category {
            category_id: next,
            parent_id: 0,
            name: (*top).to_owned(),
            active: true,
        });
        next += 1;
    }
    for (t, (_, subs, _)) in CATALOGUE.iter().enumerate() {
        for sub in *subs {
            let mut rng = rng_for(seed, KIND_CATEGORY, next);
            out.push(Category {
                category_id: next,
                parent_id: t as u64 + 1,
                name: (*sub).to_owned(),
                // A retired sub-category now and then: sync must cope with inactive ones.
                active: rng.random_bool(0.92),
            });
            next += 1;
        }
    }
    out
}

/// `count` products spread over the sub-categories (some directly under a top level, a few
/// without category).
pub fn products(
    seed: u64,
    count: usize,
    categories: &[Category],
    base_time: Millis,
) -> Vec<Product> {
    let subs: Vec<&Category> = categories.iter().filter(|c| c.parent_id != 0).collect();
    (0..count as u64)
        .map(|j| {
            let mut rng = rng_for(seed, KIND_PRODUCT, j);
            let sub = subs[rng.random_range(0..subs.len())];
            let top = (sub.parent_id - 1) as usize;
            let (top_name, _, bases) = CATALOGUE[top];
            let base = pick(&mut rng, bases);
            let stock = pick(&mut rng, STOCKS);
            let sides = pick(&mut rng, SIDES);
            let roll: f64 = rng.random();
            let category_id = if roll < 0.03 {
                0
            } else if roll < 0.10 {
                sub.parent_id
            } else {
                sub.category_id
            };
            let initials: String = top_name
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .filter(|c| c.is_ascii_alphabetic())
                .collect();
            Product {
                product_id: FIRST_PRODUCT_ID + j,
                sku: format!(
                    "{}-{}-{:05}",
                    initials.to_ascii_uppercase(),
                    sides.replace('/', ""),
                    j + 1
                ),
                name: format!("{} {} — {} {}", sub.name, base, stock, sides),
                description: format!("{base}, {stock}, printed {sides}; {top_name}."),
                category_id,
                price_cents: rng.random_range(1_500..250_000),
                active: rng.random_bool(0.93),
                modified: base_time - rng.random_range(0..90 * 86_400_000i64),
            }
        })
        .collect()
}

/// Seeded customers: persons and companies, some near-duplicates of an earlier one.
pub fn users(seed: u64, count: usize) -> Vec<User> {
    let mut out: Vec<User> = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let mut rng = rng_for(seed, KIND_USER, i);
        let user_id = FIRST_USER_ID + i;
        if i > 5 && rng.random_bool(0.12) {
            // The same person again: e-mail in other case or with stray whitespace, company
            // name slightly different — what a matching step meets.
            let k = rng.random_range(0..out.len());
            let mut u = out[k].clone();
            u.user_id = user_id;
            u.username = format!("{}{}", u.username, i);
            u.email = match rng.random_range(0..3) {
                0 => u.email.to_ascii_uppercase(),
                1 => format!(" {} ", u.email),
                _ => {
                    let mut c = u.email.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                }
            };
            if !u.company.is_empty() {
                u.company = match rng.random_range(0..3) {
                    0 => u.company.to_ascii_uppercase(),
                    1 => u.company.replace(' ', "  "),
                    _ => format!("{}.", u.company.trim_end_matches('.')),
                };
            }
            out.push(u);
            continue;
        }
        let first = pick(&mut rng, FIRST);
        let last = pick(&mut rng, LAST);
        let company = if rng.random_bool(0.45) {
            (*pick(&mut rng, COMPANIES)).to_owned()
        } else {
            String::new()
        };
        let ascii = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        };
        let domain = if company.is_empty() {
            (*pick(
                &mut rng,
                &["gmail.com", "yahoo.com", "outlook.com", "example.net"],
            ))
            .to_owned()
        } else {
            format!(
                "{}.com",
                ascii(company.split_whitespace().next().unwrap_or("co"))
            )
        };
        let email = format!("{}.{}{}@{domain}", ascii(first), ascii(last), i % 97);
        out.push(User {
            user_id,
            username: format!("{}{}", ascii(first), i),
            email,
            first_name: (*first).to_owned(),
            last_name: (*last).to_owned(),
            company,
            phone: format!("+1 555-{:03}-{:04}", rng.random_range(100..999), i % 10_000),
            created_by_api: false,
        });
    }
    out
}

/// What the order generator needs.
pub struct OrderContext<'a> {
    pub seed: u64,
    pub users: &'a [User],
    pub products: &'a [Product],
    pub base_time: Millis,
    /// `Some(n)`: seeded order i has `sourceOrderID` n + i (an older integration pushed those
    /// orders already — the "status only" migration case). `None`: web/manual ids.
    pub source_ids_from: Option<u64>,
}

fn address(user: &User, rng: &mut StdRng, alt: bool, variant: u8) -> PartyAddress {
    // The user's home address is a function of the user id; `alt` picks a second one.
    let mut r = rng_for(user.user_id, if alt { 2 } else { 1 }, 0);
    let (city, state, zip, country) = *pick(&mut r, PLACES);
    let number = r.random_range(1..9999);
    let mut street = format!("{number} {}", pick(&mut r, STREETS));
    // Small spelling variants of a reused address.
    match variant {
        1 => street = street.replace("Street", "St.").replace("Avenue", "Ave"),
        2 => street = street.to_ascii_uppercase(),
        3 => street = format!("{street}, Suite {}", rng.random_range(100..400)),
        _ => {}
    }
    PartyAddress {
        first: user.first_name.clone(),
        last: user.last_name.clone(),
        name_company: user.company.clone(),
        street,
        city: city.to_owned(),
        state: state.to_owned(),
        zip: zip.to_owned(),
        country: country.to_owned(),
    }
}

/// The fields of seeded order `index`, as an older integration or a clerk would have sent them.
pub fn order_fields(ctx: &OrderContext<'_>, index: u32) -> OrderFields {
    let mut rng = rng_for(ctx.seed, KIND_ORDER, u64::from(index));
    // Repeat customers: a skewed choice makes some users order often.
    let u = {
        let x: f64 = rng.random();
        ((x * x * x) * ctx.users.len() as f64) as usize % ctx.users.len().max(1)
    };
    let user = &ctx.users[u];
    let variant = if rng.random_bool(0.2) {
        rng.random_range(1..4)
    } else {
        0
    };
    let bill_to = address(user, &mut rng, false, variant);
    let ship_to = if rng.random_bool(0.3) {
        address(user, &mut rng, true, 0)
    } else {
        bill_to.clone()
    };
    let source_order_id = match ctx.source_ids_from {
        Some(first) => (first + u64::from(index)).to_string(),
        None => {
            let roll: f64 = rng.random();
            if roll < 0.01 && index > 0 {
                // A double push by an earlier integration: the same id as the order before.
                web_source_id(ctx.seed, index - 1)
            } else if roll < 0.20 {
                String::new()
            } else {
                web_source_id(ctx.seed, index)
            }
        }
    };
    let n_items = 1 + (rng.random::<f64>().powi(2) * 4.0) as usize;
    let mut sub_total = 0i64;
    let items: Vec<ItemFields> = (0..n_items)
        .map(|k| {
            let p = &ctx.products[rng.random_range(0..ctx.products.len())];
            let quantity = *pick(&mut rng, &[50u32, 100, 250, 500, 1000, 2500, 5000]);
            let per_thousand = p.price_cents;
            sub_total += per_thousand * i64::from(quantity.max(100)) / 1000;
            let booklet = p.name.contains("Booklet") || p.name.contains("Catalog");
            ItemFields {
                quantity: quantity.to_string(),
                product_id: p.product_id.to_string(),
                product_desc: p.name.clone(),
                file_href: if rng.random_bool(0.9) {
                    format!("https://files.example.com/jobs/{index}/{}.pdf", k + 1)
                } else {
                    String::new()
                },
                source_job_id: if source_order_id.is_empty() {
                    String::new()
                } else {
                    format!("{source_order_id}-{}", k + 1)
                },
                num_pages: if booklet {
                    (4 * rng.random_range(2..17)).to_string()
                } else {
                    (*pick(&mut rng, &["1", "2"])).to_owned()
                },
                extra: Vec::new(),
            }
        })
        .collect();
    let tax = if bill_to.country == "US" {
        sub_total * 825 / 10_000
    } else {
        0
    };
    let created = order_created(ctx, index);
    OrderFields {
        customer_po: if rng.random_bool(0.4) {
            format!("PO-{}", rng.random_range(10_000..99_999))
        } else {
            String::new()
        },
        source_order_id,
        user_id: user.user_id.to_string(),
        bill_to,
        ship_to,
        initial_status: (*pick(&mut rng, &["AUTO New", "New"])).to_owned(),
        ship_method: (*pick(&mut rng, SHIP_METHODS)).to_owned(),
        sub_total: money(sub_total),
        tax_cost: money(tax),
        total_cost: money(sub_total + tax),
        due_date: mysql_datetime(created + rng.random_range(3..15) * 86_400_000)[..10].to_owned(),
        comments: if rng.random_bool(0.15) {
            (*pick(
                &mut rng,
                &[
                    "Rush please",
                    "Call before delivery",
                    "Match last run's color",
                    "Proof required",
                ],
            ))
            .to_owned()
        } else {
            String::new()
        },
        items,
        extra: Vec::new(),
    }
}

fn web_source_id(seed: u64, index: u32) -> String {
    format!(
        "WEB-{}",
        100_000 + u64::from(index) * 3 + mix(seed, 99, u64::from(index)) % 3
    )
}

/// When seeded order `index` was created.
pub fn order_created(ctx: &OrderContext<'_>, index: u32) -> Millis {
    let jitter = (mix(ctx.seed, KIND_ORDER ^ 0xFF, u64::from(index)) % 120_000) as i64;
    ctx.base_time + i64::from(index) * ORDER_SPACING_MS + jitter
}

/// The workflow state of seeded order `index` (with `fields` from [`order_fields`]); item ids
/// are `first_item_id..`.
pub(crate) fn order_state(
    ctx: &OrderContext<'_>,
    index: u32,
    order_id: u64,
    fields: &OrderFields,
    first_item_id: u64,
) -> Order {
    let mut rng = rng_for(ctx.seed, KIND_STATE, u64::from(index));
    let created = order_created(ctx, index);
    // Every status occurs; the mix is weighted towards finished work.
    let status = *pick(
        &mut rng,
        &[0u8, 1, 1, 2, 3, 3, 4, 5, 6, 7, 7, 7, 8, 8, 8, 8, 9],
    );
    let status_date = created + rng.random_range(60_000..5 * 86_400_000);
    let items = (0..fields.items.len())
        .map(|k| {
            let item_status = match ORDER_STATUSES[status as usize] {
                "AUTO New" | "New" => 0,
                "On Hold" => *pick(&mut rng, &[9u8, 0, 1]),
                "In Production" => *pick(&mut rng, &[1u8, 3, 4, 5]),
                "Proof Sent" => 2,
                "Ready to Ship" => 5,
                "Partially Shipped" if k == 0 => ITEM_SHIPPED,
                "Partially Shipped" => *pick(&mut rng, &[4u8, 5, ITEM_SHIPPED]),
                "Shipped" => ITEM_SHIPPED,
                "Completed" => *pick(&mut rng, &[ITEM_COMPLETED, ITEM_SHIPPED]),
                _ => ITEM_CANCELLED,
            };
            let shipment = (item_status == ITEM_SHIPPED
                || (item_status == ITEM_COMPLETED && fields.ship_method != "Customer Pickup"))
                .then(|| {
                    let carrier = fields
                        .ship_method
                        .split_whitespace()
                        .next()
                        .filter(|c| CARRIERS.contains(c))
                        .unwrap_or_else(|| *pick(&mut rng, CARRIERS));
                    Box::new(Shipment {
                        carrier: carrier.to_owned(),
                        tracking_number: tracking_number(carrier, &mut rng),
                        ship_date: mysql_datetime(status_date),
                    })
                });
            ItemState {
                id: first_item_id + k as u64,
                status: item_status,
                status_date,
                shipment,
            }
        })
        .collect();
    Order {
        id: order_id,
        source: Source::Generated(index),
        created,
        status,
        status_date,
        modified: status_date,
        items,
    }
}

fn tracking_number(carrier: &str, rng: &mut StdRng) -> String {
    match carrier {
        "UPS" => format!(
            "1Z{:06X}{:010}",
            rng.random_range(0..0xFF_FFFFu32),
            rng.random_range(0..9_999_999_999u64)
        ),
        "FedEx" => format!("{:012}", rng.random_range(0..999_999_999_999u64)),
        "USPS" => format!(
            "9400{:018}",
            rng.random_range(0..999_999_999_999_999_999u64)
        ),
        _ => format!("{:010}", rng.random_range(0..9_999_999_999u64)),
    }
}
