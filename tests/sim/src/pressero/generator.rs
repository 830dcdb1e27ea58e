//! Deterministic seeded data: every record is a pure function of (seed, kind, index), so the
//! same seed gives the same data and orders added later continue the same stream.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::*;
use crate::clock::Millis;

/// Mean spacing of generated order dates (4 minutes): 100,000 orders span about 9 months.
pub const ORDER_SPACING_MS: i64 = 240_000;

const KIND_USER: u64 = 1;
const KIND_ORDER: u64 = 2;
const KIND_ID: u64 = 3;

pub(crate) fn mix(seed: u64, kind: u64, index: u64) -> u64 {
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

/// A deterministic v4-shaped UUID for (seed, namespace, index).
pub fn stable_uuid(seed: u64, namespace: u64, index: u64) -> uuid::Uuid {
    let a = mix(seed, KIND_ID ^ (namespace << 8), index);
    let b = mix(a, namespace, index ^ 0x5555);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Namespaces of [`stable_uuid`].
pub mod ns {
    pub const ORDER: u64 = 1;
    pub const ITEM: u64 = 2;
    pub const USER: u64 = 3;
    pub const PRODUCT: u64 = 4;
    pub const SITE: u64 = 5;
    pub const CATEGORY: u64 = 6;
    pub const ADDRESS: u64 = 8;
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
    "Charles",
    "Karen",
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
    "Liam",
    "Emma",
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
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Nagy",
    "Kovács",
    "Müller",
    "Schmidt",
    "Dubois",
    "Lefèvre",
    "de Vries",
    "Jansen",
    "O'Brien",
    "MacDonald",
    "Clarke",
    "Wright",
];
const COMPANY_STEMS: &[&str] = &[
    "Acme Print",
    "Blue Harbor Marketing",
    "Northwind Traders",
    "Summit Realty",
    "Greenleaf Dental",
    "Riverbend School District",
    "Pioneer Insurance",
    "Brightside Events",
    "Oak & Iron Brewing",
    "Cascade Health",
    "Metro Credit Union",
    "Lakeside Church",
    "Redwood Law Group",
    "Silverline Logistics",
    "Evergreen Landscaping",
    "Harbor View Hotel",
    "Quantum Labs",
    "Sunrise Bakery",
    "Keystone Builders",
    "Maple Street Coffee",
];
const COMPANY_SUFFIXES: &[&str] = &["Inc", "LLC", "Ltd", "Co", "Group", "GmbH", "Kft"];
const PUBLIC_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "web.de",
];
const STREETS: &[&str] = &[
    "Oak Street",
    "Maple Avenue",
    "Main Street",
    "Cedar Lane",
    "Park Road",
    "Elm Street",
    "Washington Boulevard",
    "Lake Drive",
    "Hillcrest Road",
    "River Road",
    "Sunset Boulevard",
    "Church Street",
    "Mill Lane",
    "High Street",
];
/// (city, postal prefix, state/province, country)
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Chicago", "606", "IL", "US"),
    ("Austin", "787", "TX", "US"),
    ("Portland", "972", "OR", "US"),
    ("Denver", "802", "CO", "US"),
    ("Boston", "021", "MA", "US"),
    ("Atlanta", "303", "GA", "US"),
    ("Seattle", "981", "WA", "US"),
    ("Toronto", "M5V", "ON", "CA"),
    ("London", "EC1", "", "GB"),
    ("Manchester", "M1", "", "GB"),
    ("Berlin", "101", "BE", "DE"),
    ("Amsterdam", "101", "NH", "NL"),
    ("Budapest", "10", "", "HU"),
    ("Singapore", "01", "", "SG"),
];

/// The three storefronts.
pub fn sites(seed: u64) -> Vec<Site> {
    let specs: [(&'static str, &'static str, &'static str, i64); 3] = [
        ("shop.example.com", "Example Print Shop", "USD", 825),
        ("print.example.co.uk", "Example Print UK", "GBP", 2000),
        ("b2b.example.com", "Example B2B Portal", "USD", 0),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (domain, name, currency, tax_bp))| Site {
            id: stable_uuid(seed, ns::SITE, i as u64),
            domain,
            name,
            currency,
            tax_bp: *tax_bp,
        })
        .collect()
}

/// Coupon codes: (code, percent off; 0 = fixed 5.00 off).
pub const COUPONS: &[(&str, i64)] = &[
    ("WELCOME10", 10),
    ("SPRING15", 15),
    ("FIVEOFF", 0),
    ("B2B-20", 20),
];

/// The product catalogue (fixed, so product codes are stable across seeds).
/// The largest catalogue the generator makes (order items index products with a `u16`).
pub const MAX_PRODUCTS: usize = 10_000;

/// Size of the named base catalogue; larger catalogues add variants of these.
pub const BASE_PRODUCTS: usize = 24;

/// The first [`BASE_PRODUCTS`] products are a fixed, named print catalogue (other simulators
/// mirror some of them); beyond that come seeded variants of those (finish, stock, size), up
/// to `count` ([`MAX_PRODUCTS`] at most), each with its own code, SKU and price.
pub fn catalogue(seed: u64, count: usize) -> Vec<Product> {
    const FINISHES: &[&str] = &[
        "Matte", "Gloss", "Silk", "Uncoated", "Recycled", "Linen", "Kraft", "Premium",
    ];
    const SIZES: &[&str] = &["Small", "Medium", "Large", "XL", "Square", "Slim"];
    const PRINT: &[u32] = &[100, 250, 500, 1000, 2500];
    const SMALL: &[u32] = &[1, 2, 5, 10, 25];
    const LARGE: &[u32] = &[1, 2, 3, 5];
    // (name, code, category, unit price in centicents, quantities)
    let specs: &[(&str, &str, &str, i64, &'static [u32])] = &[
        (
            "Business Cards 3.5x2 Matte",
            "BC-STD",
            "Business Cards",
            450,
            PRINT,
        ),
        (
            "Business Cards 3.5x2 Gloss",
            "BC-GLS",
            "Business Cards",
            520,
            PRINT,
        ),
        (
            "Business Cards Soft Touch",
            "BC-SFT",
            "Business Cards",
            890,
            PRINT,
        ),
        ("Flyer A5 Double Sided", "FLY-A5", "Flyers", 700, PRINT),
        ("Flyer A4 Single Sided", "FLY-A4", "Flyers", 1100, PRINT),
        ("Tri-fold Brochure", "BRO-TRI", "Brochures", 2900, PRINT),
        (
            "Saddle Stitched Booklet 16pp",
            "BKL-16",
            "Brochures",
            14500,
            PRINT,
        ),
        ("Postcard 6x4", "PC-64", "Postcards", 600, PRINT),
        ("Letterhead", "LH-STD", "Stationery", 900, PRINT),
        ("Envelope #10 Printed", "ENV-10", "Stationery", 1500, PRINT),
        ("Presentation Folder", "FLD-PRS", "Stationery", 19000, PRINT),
        ("Vinyl Banner 3x6", "BAN-36", "Large Format", 690_000, LARGE),
        (
            "Retractable Banner Stand",
            "BAN-RTR",
            "Large Format",
            1_490_000,
            LARGE,
        ),
        ("Poster 18x24", "PST-1824", "Large Format", 250_000, SMALL),
        ("Yard Sign 18x24", "SGN-YRD", "Signs", 180_000, SMALL),
        ("Foam Board Sign", "SGN-FOM", "Signs", 420_000, SMALL),
        ("Sticker Sheet", "STK-SHT", "Labels", 300, PRINT),
        ("Roll Labels 2in", "LBL-R2", "Labels", 120, PRINT),
        ("Notepad 50 sheets", "NTP-50", "Promotional", 45_000, SMALL),
        ("Wall Calendar", "CAL-WAL", "Promotional", 120_000, SMALL),
        ("Greeting Card Folded", "GC-FLD", "Cards", 1800, PRINT),
        ("Door Hanger", "DH-STD", "Marketing", 1200, PRINT),
        ("Rack Card", "RC-STD", "Marketing", 800, PRINT),
        ("Menu Laminated", "MNU-LAM", "Marketing", 35_000, SMALL),
    ];
    debug_assert_eq!(specs.len(), BASE_PRODUCTS);
    (0..count.clamp(1, MAX_PRODUCTS))
        .map(|i| {
            let (name, code, category, price, quantities) = specs[i % specs.len()];
            let round = i / specs.len();
            let r = mix(seed, 19, i as u64);
            if round == 0 {
                (
                    i,
                    name.to_owned(),
                    code.to_owned(),
                    category,
                    price,
                    quantities,
                )
            } else {
                let finish = FINISHES[(r % FINISHES.len() as u64) as usize];
                let size = SIZES[((r >> 8) % SIZES.len() as u64) as usize];
                // ±25 % around the base price, never below one centicent.
                let factor = 75 + (r >> 16) % 51;
                (
                    i,
                    format!("{name} {size} {finish}"),
                    format!("{code}-{round:03}"),
                    category,
                    (price * factor as i64 / 100).max(1),
                    quantities,
                )
            }
        })
        .map(|(i, name, code, category, price, quantities)| Product {
            id: stable_uuid(seed, ns::PRODUCT, i as u64),
            sku: format!("{code}-{:03}", 100 + (i % BASE_PRODUCTS) * 7),
            name,
            code,
            category,
            unit_price_centicents: price,
            quantities,
            // A few discontinued products: old orders still reference them.
            deleted: i == 2
                || i == 21
                || (i >= BASE_PRODUCTS && mix(seed, 23, i as u64).is_multiple_of(50)),
            site: None,
            active: true,
            category_ids: Vec::new(),
            integration_data: None,
            // Every third product has tracked stock, sized to what it sells in.
            stock: (i % 3 == 0).then(|| {
                let r = mix(seed, 13, i as u64);
                if quantities.first() == Some(&100) {
                    Stock {
                        on_hand: 20_000 + (r % 30_000) as i64,
                        threshold: 5_000,
                    }
                } else {
                    Stock {
                        on_hand: 50 + (r % 150) as i64,
                        threshold: 10,
                    }
                }
            }),
            modified: 0,
        })
        .collect()
}

/// Per site: a Root category, and under it one category per catalogue category name.
pub fn categories(seed: u64, sites: &[Site], products: &[Product], at: Millis) -> Vec<Category> {
    let mut names: Vec<&'static str> = Vec::new();
    for p in products {
        if !names.contains(&p.category) {
            names.push(p.category);
        }
    }
    let mut out = Vec::new();
    for (si, _) in sites.iter().enumerate() {
        let root = stable_uuid(seed, ns::CATEGORY, si as u64 * 1024);
        out.push(Category {
            id: root,
            site: si as u8,
            name: ROOT_CATEGORY.to_owned(),
            parent: None,
            active: true,
            integration_data: None,
            modified: at,
        });
        for (k, name) in names.iter().enumerate() {
            out.push(Category {
                id: stable_uuid(seed, ns::CATEGORY, si as u64 * 1024 + k as u64 + 1),
                site: si as u8,
                name: (*name).to_owned(),
                parent: Some(root),
                active: true,
                integration_data: None,
                modified: at,
            });
        }
    }
    out
}

/// The name of every site's top category.
pub const ROOT_CATEGORY: &str = "Root";

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'É' => 'e',
            'á' => 'a',
            'ó' | 'ö' | 'ő' => 'o',
            'ü' | 'ú' => 'u',
            'í' => 'i',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn email_variant(email: &str, variant: u8) -> String {
    match variant {
        0 => email.to_owned(),
        1 => {
            let mut cs = email.chars();
            match cs.next() {
                Some(c) => c.to_uppercase().chain(cs).collect(),
                None => String::new(),
            }
        }
        2 => email.to_ascii_uppercase(),
        3 => format!(" {email}"),
        _ => format!("{email} "),
    }
}

fn company_name(stem: &str, suffix: &str, variant: u8) -> String {
    match variant {
        0 => format!("{stem} {suffix}"),
        1 => format!("{stem} {suffix}."),
        2 => format!("{} {suffix}", stem.to_uppercase()),
        3 => format!("{stem}, {suffix}"),
        4 => stem.replacen(' ', "  ", 1) + " " + suffix,
        _ => stem.to_owned(),
    }
}

fn make_address(rng: &mut StdRng, first: &str, last: &str, business: &str, email: &str) -> Address {
    let &(city, postal, state, country) = pick(rng, CITIES);
    let postal = match country {
        "US" => format!("{postal}{:02}", rng.random_range(1..99)),
        "CA" | "GB" => format!("{postal} {}AB", rng.random_range(1..9)),
        "HU" => format!("{postal}{:02}", rng.random_range(11..99)),
        "SG" => format!("{postal}{:04}", rng.random_range(1000..9999)),
        _ => format!("{postal}{:02}", rng.random_range(10..99)),
    };
    let address2 = if rng.random_bool(0.25) {
        format!("Suite {}", rng.random_range(1..40) * 10)
    } else {
        String::new()
    };
    Address {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        business: business.to_owned(),
        address1: format!("{} {}", rng.random_range(1..9999), pick(rng, STREETS)),
        address2,
        address3: String::new(),
        city: city.to_owned(),
        postal,
        state_province: state.to_owned(),
        country: country.to_owned(),
        phone: format!(
            "+1 {:03}-{:03}-{:04}",
            rng.random_range(200..999),
            rng.random_range(200..999),
            rng.random_range(0..9999)
        ),
        email: email.to_owned(),
    }
}

/// Generates `count` users. About one in eight is a near-duplicate of an earlier user (the same
/// person registered again): e-mail in other case or with stray whitespace, company name spelled
/// a little differently, same or slightly different address.
pub fn users(seed: u64, count: usize) -> Vec<User> {
    let mut out: Vec<User> = Vec::with_capacity(count);
    for i in 0..count {
        let mut rng = rng_for(seed, KIND_USER, i as u64);
        let id = stable_uuid(seed, ns::USER, i as u64);
        if i > 4 && rng.random_bool(0.12) {
            let twin = out[rng.random_range(0..i)].clone();
            let variant = rng.random_range(1..5u8);
            let business = if twin.business.is_empty() {
                String::new()
            } else {
                let b = &twin.business;
                match variant {
                    1 => format!("{b}."),
                    2 => b.to_uppercase(),
                    3 => b.replacen(' ', "  ", 1),
                    _ => b.clone(),
                }
            };
            let email = email_variant(twin.email.trim(), variant);
            let mut address = twin.address.clone();
            address.business = business.clone();
            address.email = email.clone();
            if rng.random_bool(0.4) {
                address.address1 = address.address1.replace("Street", "St.");
            }
            out.push(User {
                id,
                email,
                business,
                address,
                ..twin
            });
            continue;
        }
        let first = *pick(&mut rng, FIRST);
        let last = *pick(&mut rng, LAST);
        let (business, domain) = if rng.random_bool(0.45) {
            let stem_index = rng.random_range(0..COMPANY_STEMS.len());
            let stem = COMPANY_STEMS[stem_index];
            let suffix = COMPANY_SUFFIXES[stem_index % COMPANY_SUFFIXES.len()];
            let variant = if rng.random_bool(0.7) {
                0
            } else {
                rng.random_range(1..6u8)
            };
            let domain = format!("{}.com", ascii_fold(&stem.replace(' ', "")));
            (company_name(stem, suffix, variant), domain)
        } else {
            (String::new(), (*pick(&mut rng, PUBLIC_MAIL)).to_owned())
        };
        let local = match rng.random_range(0..3) {
            0 => format!("{}.{}", ascii_fold(first), ascii_fold(last)),
            1 => format!("{}{}", &ascii_fold(first)[..1], ascii_fold(last)),
            _ => format!("{}{}", ascii_fold(first), rng.random_range(1..99)),
        };
        let email = format!("{local}@{domain}");
        let address = make_address(&mut rng, first, last, &business, &email);
        let alt_address = if rng.random_bool(0.5) {
            // Same building, other suite: "reused and slightly different".
            let mut a = address.clone();
            a.address2 = format!("Floor {}", rng.random_range(2..20));
            a
        } else {
            make_address(&mut rng, first, last, &business, &email)
        };
        let site = match rng.random_range(0..100) {
            0..75 => 0,
            75..90 => 1,
            _ => 2,
        };
        out.push(User {
            id,
            site,
            phone: address.phone.clone(),
            email,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            business,
            address,
            alt_address,
            integration_data: None,
            book: Vec::new(),
            default_book: None,
            modified: 0,
        });
    }
    out
}

/// Applies an order's spelling variant to a stored address.
pub fn address_variant(a: &Address, variant: u8) -> Address {
    let mut a = a.clone();
    match variant {
        0 => {}
        1 => a.address1 = a.address1.replace("Street", "St").replace("Avenue", "Ave."),
        2 => a.city = a.city.to_uppercase(),
        3 => a.address1 = format!("{} ", a.address1),
        4 => a.postal = a.postal.replace(' ', ""),
        _ => a.last_name = a.last_name.to_uppercase(),
    }
    a
}

/// Everything an order's generation depends on.
pub struct OrderContext<'a> {
    pub seed: u64,
    pub users: &'a [User],
    pub sites: &'a [Site],
    pub products: &'a [Product],
    pub base_time: Millis,
    pub first_number: u64,
}

const METHODS: &[&str] = &["CreditCard", "CreditCard", "CreditCard", "PayPal", "Check"];

/// Generates order `number`. Dates: `OrderDate` grows with the number; `ModifiedDate` is the
/// order date or up to ten days later.
pub fn order(ctx: &OrderContext<'_>, number: u64) -> Order {
    let mut rng = rng_for(ctx.seed, KIND_ORDER, number);
    let ordinal = number - ctx.first_number;
    let order_date =
        ctx.base_time + ordinal as i64 * ORDER_SPACING_MS + rng.random_range(0..ORDER_SPACING_MS);
    let modified = order_date
        + match rng.random_range(0..10) {
            0..4 => 0,
            4..7 => rng.random_range(1..3_600_000),
            _ => rng.random_range(3_600_000..864_000_000),
        };
    // Skewed towards low indexes: a few customers order often.
    let u: f64 = rng.random();
    let user = ((u * u * ctx.users.len() as f64) as usize).min(ctx.users.len() - 1);
    let site = ctx.users[user].site;
    let site_info = &ctx.sites[site as usize];
    let currency = match rng.random_range(0..100) {
        0..2 => "EUR",
        2..3 => "CAD",
        3..4 if site == 1 => "EUR",
        _ => site_info.currency,
    };
    let (payment_status, payment_method) = match rng.random_range(0..100) {
        0..68 => (PaymentStatus::Paid, *pick(&mut rng, METHODS)),
        68..80 => (PaymentStatus::Unpaid, "CreditCard"),
        80..93 => (PaymentStatus::OnAccount, "OnAccount"),
        93..97 => (PaymentStatus::PartiallyPaid, "PurchaseOrder"),
        _ => (PaymentStatus::Refunded, "CreditCard"),
    };
    let item_count = match rng.random_range(0..100) {
        0..55 => 1,
        55..80 => 2,
        80..92 => 3,
        _ => rng.random_range(4..7),
    };
    // Most orders move through the workflow as a whole; some items stray.
    let order_stage = match rng.random_range(0..100) {
        0..15 => ItemStatus::Pending,
        15..60 => ItemStatus::Approved,
        60..70 => ItemStatus::InProduction,
        70..80 => ItemStatus::Shipped,
        80..90 => ItemStatus::Completed,
        90..95 => ItemStatus::Denied,
        _ => ItemStatus::Cancelled,
    };
    let mut items = Vec::with_capacity(item_count);
    for k in 0..item_count {
        let product_index = rng.random_range(0..ctx.products.len());
        let product = &ctx.products[product_index];
        let quantity = *pick(&mut rng, product.quantities);
        let discount_pct = if rng.random_bool(0.2) {
            rng.random_range(1..15)
        } else {
            0
        };
        let price_cents = (product.unit_price_centicents * i64::from(quantity) / 100)
            * (100 - discount_pct)
            / 100;
        let price_cents = price_cents.max(1);
        let tax_cents = (price_cents * site_info.tax_bp + 5_000) / 10_000;
        let shipping_cents = if k == 0 && rng.random_bool(0.7) {
            rng.random_range(5..30) * 100 - 1
        } else {
            0
        };
        let status = if rng.random_bool(0.8) {
            order_stage
        } else {
            *pick(&mut rng, &ItemStatus::ALL)
        };
        let files_pending = status == ItemStatus::Pending && rng.random_bool(0.35);
        let tracking = matches!(status, ItemStatus::Shipped | ItemStatus::Completed).then(|| {
            Box::new(Tracking {
                carrier: (*pick(&mut rng, &["UPS", "FedEx", "USPS", "DHL"])).to_owned(),
                tracking_number: format!("1Z{:016}", rng.random_range(0..10u64.pow(16))),
                ship_date: crate::clock::format_millis(modified),
            })
        });
        items.push(Item {
            product: product_index as u16,
            quantity,
            price_cents,
            tax_cents,
            shipping_cents,
            status,
            files_pending,
            status_modified: modified,
            tracking,
            notes: None,
        });
    }
    let coupon = if rng.random_bool(0.1) {
        let c = rng.random_range(0..COUPONS.len());
        let sub: i64 = items.iter().map(|i| i.price_cents).sum();
        let amount_cents = match COUPONS[c].1 {
            0 => 500.min(sub),
            pct => sub * pct / 100,
        };
        Some(CouponUse {
            coupon: c as u8,
            amount_cents,
        })
    } else {
        None
    };
    let variant = |rng: &mut StdRng| {
        if rng.random_bool(0.8) {
            0
        } else {
            rng.random_range(1..6u8)
        }
    };
    Order {
        number,
        user: user as u32,
        site,
        currency,
        payment_status,
        payment_method,
        coupon,
        bill_variant: variant(&mut rng),
        ship_alt: rng.random_bool(0.3),
        ship_variant: variant(&mut rng),
        email_variant: if rng.random_bool(0.9) {
            0
        } else {
            rng.random_range(1..5u8)
        },
        order_date,
        modified,
        paid_at: None,
        ship_revision: 0,
        items,
    }
}

/// The e-mail typed at checkout for a user and variant.
pub fn checkout_email(user: &User, variant: u8) -> String {
    email_variant(&user.email, variant)
}
