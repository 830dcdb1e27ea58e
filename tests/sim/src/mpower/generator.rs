//! Deterministic seeded data: every record is a function of (seed, kind, index) and of the
//! records before it, so the same seed gives the same data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::*;
use crate::clock::Millis;

/// Mean spacing of generated order dates (5 minutes).
pub const ORDER_SPACING_MS: i64 = 300_000;

const KIND_COMPANY: u64 = 11;
const KIND_CONTACT: u64 = 12;
const KIND_ADDRESS: u64 = 13;
const KIND_PRODUCT: u64 = 14;
const KIND_ORDER: u64 = 15;
const KIND_REQUEST: u64 = 16;

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

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Skewed choice in `0..n`: low indexes come up far more often (repeat customers).
fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * u) * n as f64) as usize % n.max(1)
}

const STEMS: &[&str] = &[
    "Acme",
    "Drukkerij De Vries",
    "Northwind",
    "Blue Harbour",
    "Van Dijk Media",
    "Greenleaf",
    "Oak & Iron",
    "Summit",
    "Printwerk",
    "Brightside",
    "Keystone",
    "Riverside",
    "Maple",
    "Silverline",
    "Cascade",
    "Pioneer",
    "Redwood",
    "Quantum",
    "Sunrise",
    "Evergreen",
    "Harbor View",
    "Metro",
    "Lakeside",
    "Bakker & Zn",
    "Jansen Communicatie",
    "Hendriks",
    "Müller Druck",
    "Kovács",
    "Dupont",
    "Atlas",
];
const QUALIFIERS: &[&str] = &[
    "Print",
    "Media",
    "Holding",
    "Marketing",
    "Events",
    "Logistics",
    "Dental",
    "Legal",
    "Retail",
    "Reclame",
    "Design",
    "Services",
    "Group",
    "Packaging",
    "Signs",
    "Foods",
];

/// (country, legal forms as written, VAT prefix, VAT digits)
const COUNTRIES: &[(&str, &[&str], &str, usize)] = &[
    ("NL", &["B.V.", "BV", "N.V.", "V.O.F."], "NL", 9),
    ("NL", &["B.V.", "BV", "bv"], "NL", 9),
    ("GB", &["Ltd", "Ltd.", "Limited", "PLC"], "GB", 9),
    ("DE", &["GmbH", "GmbH & Co. KG", "AG"], "DE", 9),
    ("BE", &["BV", "NV", "BVBA"], "BE0", 9),
    ("HU", &["Kft.", "Kft", "Zrt."], "HU", 8),
];

/// (street, abbreviated form) per country.
fn streets(country: &str) -> &'static [(&'static str, &'static str)] {
    match country {
        "NL" | "BE" => &[
            ("Hoofdstraat", "Hoofdstr."),
            ("Kerkstraat", "Kerkstr."),
            ("Industrieweg", "Industrieweg"),
            ("Stationsplein", "Stationspl."),
            ("Molenweg", "Molenweg"),
            ("Dorpsstraat", "Dorpsstr."),
        ],
        "DE" => &[
            ("Hauptstraße", "Hauptstr."),
            ("Bahnhofstraße", "Bahnhofstr."),
            ("Industriestraße", "Industriestr."),
        ],
        "HU" => &[
            ("Fő utca", "Fő u."),
            ("Kossuth Lajos utca", "Kossuth L. u."),
        ],
        _ => &[
            ("Main Street", "Main St."),
            ("High Road", "High Rd"),
            ("Station Road", "Station Rd."),
            ("Church Lane", "Church Ln"),
            ("Mill Avenue", "Mill Ave."),
        ],
    }
}

fn city(rng: &mut StdRng, country: &str) -> (&'static str, String) {
    match country {
        "NL" => {
            let c = *pick(
                rng,
                &["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Zwolle"],
            );
            let pc = format!(
                "{} {}{}",
                rng.random_range(1000..9999),
                (b'A' + rng.random_range(0..26u8)) as char,
                (b'A' + rng.random_range(0..26u8)) as char
            );
            (c, pc)
        }
        "BE" => (
            *pick(rng, &["Antwerpen", "Gent", "Brussel"]),
            format!("{}", rng.random_range(1000..9999)),
        ),
        "DE" => (
            *pick(rng, &["Berlin", "Hamburg", "Köln", "München"]),
            format!("{:05}", rng.random_range(10000..99999)),
        ),
        "HU" => (
            *pick(rng, &["Budapest", "Debrecen", "Szeged"]),
            format!("{}", rng.random_range(1011..9999)),
        ),
        _ => (
            *pick(rng, &["London", "Manchester", "Leeds", "Bristol"]),
            format!(
                "{}{} {}{}{}",
                *pick(rng, &["EC", "M", "LS", "BS", "SW"]),
                rng.random_range(1..20),
                rng.random_range(1..9),
                (b'A' + rng.random_range(0..26u8)) as char,
                (b'A' + rng.random_range(0..26u8)) as char
            ),
        ),
    }
}

fn vat(rng: &mut StdRng, prefix: &str, digits: usize) -> String {
    let mut s = prefix.to_owned();
    for _ in 0..digits {
        s.push((b'0' + rng.random_range(0..10u8)) as char);
    }
    if prefix == "NL" {
        s.push_str("B01");
    }
    s
}

/// A VAT number as people type it: spaces, dots, lower case.
fn vat_variant(v: &str, variant: u8) -> String {
    match variant {
        0 => v.to_owned(),
        1 => format!("{} {}", &v[..2], &v[2..]),
        2 => v.to_ascii_lowercase(),
        _ => {
            let (p, rest) = v.split_at(2);
            let mut s = p.to_owned();
            for (i, ch) in rest.chars().enumerate() {
                if i > 0 && i % 4 == 0 {
                    s.push('.');
                }
                s.push(ch);
            }
            s
        }
    }
}

/// The country of a generated company (kept beside the record for its addresses).
pub struct CompanySeed {
    pub country: &'static str,
    /// The company this one is a near-duplicate of.
    pub duplicate_of: Option<usize>,
}

fn name_variant(stem: &str, qualifier: &str, form: &str, variant: u8) -> String {
    let base = if qualifier.is_empty() {
        stem.to_owned()
    } else {
        format!("{stem} {qualifier}")
    };
    match variant {
        0 => format!("{base} {form}"),
        1 => format!("{} {}", base.to_uppercase(), form.replace('.', "")),
        2 => base,
        3 => format!("{base}, {form}"),
        4 => format!("{}  {form}", base),
        _ => format!("{} {form}", base.to_lowercase()),
    }
}

/// Companies: a few fixed fixtures first (`Acme B.V.`, `ACME BV`, `Acme`), then generated ones,
/// about 12 % near-duplicates of an earlier company.
pub fn companies(seed: u64, n: usize, base: Millis) -> (Vec<Company>, Vec<CompanySeed>) {
    let mut out: Vec<Company> = Vec::with_capacity(n);
    let mut seeds: Vec<CompanySeed> = Vec::with_capacity(n);
    // (stem index, qualifier index, country index, form index) of each company, to vary it.
    let mut keys: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        let mut rng = rng_for(seed, KIND_COMPANY, i as u64);
        let created = base - 400 * 86_400_000 + (i as i64) * 3_600_000;
        let id = i as u64 + 1;
        let (name, vat_number, legal_form, country, dup, key) = match i {
            0 => (
                "Acme B.V.".to_owned(),
                Some("NL123456789B01".to_owned()),
                Some("B.V.".to_owned()),
                "NL",
                None,
                (0, usize::MAX, 0, 0),
            ),
            1 => (
                "ACME BV".to_owned(),
                Some("NL 1234.56.789.B01".to_owned()),
                Some("BV".to_owned()),
                "NL",
                Some(0),
                (0, usize::MAX, 0, 1),
            ),
            2 => (
                "Acme".to_owned(),
                None,
                None,
                "NL",
                Some(0),
                (0, usize::MAX, 0, 0),
            ),
            _ if i > 10 && rng.random_bool(0.12) => {
                let j = rng.random_range(0..i);
                let (s, q, c, _) = keys[j];
                let (country, forms, _, _) = COUNTRIES[c];
                let f = rng.random_range(0..forms.len());
                let qualifier = if q == usize::MAX { "" } else { QUALIFIERS[q] };
                let name = name_variant(STEMS[s], qualifier, forms[f], rng.random_range(0..6));
                let vat = out[j]
                    .vat_number
                    .as_deref()
                    .filter(|_| rng.random_bool(0.6))
                    .map(|v| vat_variant(v, rng.random_range(0..4)));
                let form = (!name.ends_with(qualifier) || qualifier.is_empty())
                    .then(|| forms[f].to_owned());
                (name, vat, form, country, Some(j), (s, q, c, f))
            }
            _ => {
                let s = rng.random_range(0..STEMS.len());
                let q = rng.random_range(0..QUALIFIERS.len());
                let c = rng.random_range(0..COUNTRIES.len());
                let (country, forms, prefix, digits) = COUNTRIES[c];
                let f = rng.random_range(0..forms.len());
                let name = format!("{} {} {}", STEMS[s], QUALIFIERS[q], forms[f]);
                let vat = rng.random_bool(0.7).then(|| vat(&mut rng, prefix, digits));
                (
                    name,
                    vat,
                    Some(forms[f].to_owned()),
                    country,
                    None,
                    (s, q, c, f),
                )
            }
        };
        let phone = rng.random_bool(0.8).then(|| phone(&mut rng, country));
        let domain = domain_of(&out, &seeds, i, &name, dup);
        let email = rng.random_bool(0.6).then(|| format!("info@{domain}"));
        out.push(Company {
            id,
            name,
            vat_number,
            legal_form,
            email,
            phone,
            created,
            updated: created + rng.random_range(0..30) * 86_400_000,
        });
        seeds.push(CompanySeed {
            country,
            duplicate_of: dup,
        });
        keys.push(key);
    }
    (out, seeds)
}

fn phone(rng: &mut StdRng, country: &str) -> String {
    match country {
        "NL" => format!(
            "+31 20 {:03} {:04}",
            rng.random_range(100..999),
            rng.random_range(0..9999)
        ),
        "BE" => format!(
            "+32 3 {:03} {:02} {:02}",
            rng.random_range(100..999),
            rng.random_range(0..99),
            rng.random_range(0..99)
        ),
        "DE" => format!("+49 30 {:08}", rng.random_range(0..99_999_999)),
        "HU" => format!(
            "+36 1 {:03} {:04}",
            rng.random_range(100..999),
            rng.random_range(0..9999)
        ),
        _ => format!(
            "+44 20 {:04} {:04}",
            rng.random_range(0..9999),
            rng.random_range(0..9999)
        ),
    }
}

/// The mail domain of company `i`: a duplicate shares its original's domain.
fn domain_of(
    out: &[Company],
    seeds: &[CompanySeed],
    i: usize,
    name: &str,
    dup: Option<usize>,
) -> String {
    let root = match dup {
        Some(j) => {
            // Follow the chain to the original.
            let mut k = j;
            while let Some(p) = seeds[k].duplicate_of {
                k = p;
            }
            out[k].name.clone()
        }
        None => name.to_owned(),
    };
    let slug: String = fold(&root)
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join("");
    let slug: String = slug.chars().filter(char::is_ascii_alphanumeric).collect();
    let tld = match seeds.get(dup.unwrap_or(usize::MAX)).map(|s| s.country) {
        Some(c) => c,
        None if i < 3 => "NL",
        None => "NL",
    };
    let tld = match tld {
        "GB" => "co.uk",
        other => match other {
            "NL" => "nl",
            "DE" => "de",
            "BE" => "be",
            _ => "hu",
        },
    };
    if root.starts_with("Acme") {
        return "acme.nl".to_owned();
    }
    format!("{}{}.{tld}", slug, if dup.is_none() { i % 7 } else { 0 })
}

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'É' => 'e',
            'á' => 'a',
            'ó' | 'ö' | 'ő' => 'o',
            'ü' | 'ú' => 'u',
            'í' => 'i',
            'ß' => 's',
            '&' => ' ',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

const FIRST: &[&str] = &[
    "Jan", "Piet", "Sanne", "Anna", "Lotte", "Daan", "Emma", "Lukas", "Sophie", "Thomas", "James",
    "Mary", "Oliver", "Amelia", "Péter", "Zsófia", "Émile", "Chloé", "Noah", "Julia", "Max",
    "Lena", "Bram", "Fleur",
];
const LAST: &[&str] = &[
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "Smith",
    "Brown",
    "Taylor",
    "Müller",
    "Schmidt",
    "Nagy",
    "Kovács",
    "Dubois",
    "Peeters",
    "Janssens",
    "O'Brien",
    "Wright",
    "Hendriks",
];
const PUBLIC_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "hotmail.nl",
    "ziggo.nl",
    "web.de",
];

/// An e-mail as people type it: capitalised, upper case, stray spaces.
pub fn email_variant(email: &str, variant: u8) -> String {
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

fn local_part(first: &str, last: &str, style: u8) -> String {
    let f: String = fold(first)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let l: String = fold(last)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    match style {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", f.chars().next().unwrap_or('x')),
        _ => f,
    }
}

/// Contacts: every company gets one, then repeat companies get more; about 10 % are the same
/// person entered again (e-mail in another case or with stray whitespace, sometimes under the
/// near-duplicate company). Fixtures: Jan Jansen at Acme B.V. and again at ACME BV, Piet Bakker
/// at Acme B.V.
pub fn contacts(
    seed: u64,
    n: usize,
    companies: &[Company],
    cseeds: &[CompanySeed],
) -> Vec<Contact> {
    let mut out: Vec<Contact> = Vec::with_capacity(n);
    for i in 0..n {
        let mut rng = rng_for(seed, KIND_CONTACT, i as u64);
        let id = i as u64 + 1;
        let created = base_of(companies) + (i as i64) * 600_000;
        let fixture: Option<(u64, &str, &str, &str)> = match i {
            0 => Some((1, "Jan", "Jansen", "jan.jansen@acme.nl")),
            1 => Some((2, "Jan", "Jansen", " Jan.Jansen@ACME.nl")),
            2 => Some((1, "Piet", "Bakker", "piet.bakker@acme.nl")),
            _ => None,
        };
        let c = if let Some((company_id, first, last, email)) =
            fixture.filter(|f| f.0 as usize <= companies.len())
        {
            Contact {
                id,
                company_id,
                first_name: Some(first.to_owned()),
                last_name: last.to_owned(),
                email: Some(email.to_owned()),
                phone: None,
                created,
                updated: created,
            }
        } else if i > 20 && rng.random_bool(0.10) {
            let j = rng.random_range(0..i);
            let orig = &out[j];
            let mut company_id = orig.company_id;
            if rng.random_bool(0.4) {
                // Entered again under a near-duplicate of its company, when one exists.
                let ci = (orig.company_id - 1) as usize;
                if let Some(k) = (0..companies.len().min(ci + 200))
                    .skip(ci + 1)
                    .find(|&k| cseeds[k].duplicate_of == Some(ci))
                {
                    company_id = k as u64 + 1;
                }
            }
            Contact {
                id,
                company_id,
                first_name: orig.first_name.clone(),
                last_name: orig.last_name.clone(),
                email: orig
                    .email
                    .as_deref()
                    .map(|e| email_variant(e.trim(), rng.random_range(1..5))),
                phone: orig.phone.clone().filter(|_| rng.random_bool(0.5)),
                created,
                updated: created,
            }
        } else {
            let ci = if i < companies.len() {
                i
            } else {
                skewed(&mut rng, companies.len())
            };
            let company = &companies[ci];
            let first = *pick(&mut rng, FIRST);
            let last = *pick(&mut rng, LAST);
            let domain = company
                .email
                .as_deref()
                .and_then(|e| e.split_once('@'))
                .map(|(_, d)| d.to_owned())
                .filter(|_| rng.random_bool(0.8))
                .unwrap_or_else(|| (*pick(&mut rng, PUBLIC_MAIL)).to_owned());
            let local = local_part(first, last, rng.random_range(0..3));
            // A number keeps unrelated people with the same name apart.
            let email = rng.random_bool(0.93).then(|| {
                format!(
                    "{local}{}@{domain}",
                    if i % 3 == 0 {
                        String::new()
                    } else {
                        (i % 97).to_string()
                    }
                )
            });
            Contact {
                id,
                company_id: company.id,
                first_name: rng.random_bool(0.95).then(|| first.to_owned()),
                last_name: last.to_owned(),
                email,
                phone: rng
                    .random_bool(0.6)
                    .then(|| phone(&mut rng, cseeds[ci].country)),
                created,
                updated: created + rng.random_range(0..10) * 86_400_000,
            }
        };
        out.push(c);
    }
    out
}

fn base_of(companies: &[Company]) -> Millis {
    companies.first().map(|c| c.created).unwrap_or(0) + 86_400_000
}

/// Addresses: every company has a main address, some a second one; about 15 % also hold a
/// slightly different copy of the main one ("Main Street 1" / "Main St. 1", "1012 AB" /
/// "1012AB"); near-duplicate companies reuse their original's address.
pub fn addresses(seed: u64, companies: &[Company], cseeds: &[CompanySeed]) -> Vec<Address> {
    let mut out: Vec<Address> = Vec::with_capacity(companies.len() * 2);
    // Index of the main address of each company, for duplicates to copy.
    let mut main: Vec<usize> = Vec::with_capacity(companies.len());
    for (i, company) in companies.iter().enumerate() {
        let mut rng = rng_for(seed, KIND_ADDRESS, i as u64);
        let country = cseeds[i].country;
        let created = company.created + 60_000;
        let push = |out: &mut Vec<Address>, a: Address| {
            let mut a = a;
            a.id = out.len() as u64 + 1;
            out.push(a);
            out.len() - 1
        };
        let first = if i == 0 || i == 1 {
            // Fixture: Acme's "Main Street 1" (and ACME BV's "Main St. 1" below).
            Address {
                id: 0,
                company_id: company.id,
                label: Some("Head office".into()),
                street: if i == 0 { "Main Street" } else { "Main St." }.into(),
                house_number: Some("1".into()),
                postcode: if i == 0 { "1012 AB" } else { "1012AB" }.into(),
                city: "Amsterdam".into(),
                country: "NL".into(),
                created,
                updated: created,
            }
        } else if let Some(j) = cseeds[i].duplicate_of.filter(|_| rng.random_bool(0.7)) {
            let mut a = out[main[j]].clone();
            a.company_id = company.id;
            a.created = created;
            a.updated = created;
            if rng.random_bool(0.5) {
                a = slight_variant(&mut rng, a, country);
            }
            a
        } else {
            fresh_address(&mut rng, company.id, country, created, "Head office")
        };
        let m = push(&mut out, first);
        main.push(m);
        if i > 2 && rng.random_bool(0.35) {
            let label = *pick(&mut rng, &["Warehouse", "Delivery", "Invoice", "Branch"]);
            let a = fresh_address(&mut rng, company.id, country, created + 1000, label);
            push(&mut out, a);
        }
        if i > 2 && rng.random_bool(0.15) {
            let mut a = slight_variant(&mut rng, out[m].clone(), country);
            a.label = None;
            a.created = created + 2000;
            a.updated = a.created;
            push(&mut out, a);
        }
    }
    out
}

fn fresh_address(
    rng: &mut StdRng,
    company_id: u64,
    country: &str,
    created: Millis,
    label: &str,
) -> Address {
    let (street, _) = *pick(rng, streets(country));
    let (city, postcode) = city(rng, country);
    Address {
        id: 0,
        company_id,
        label: Some(label.to_owned()),
        street: street.to_owned(),
        house_number: Some(match rng.random_range(0..6) {
            0 => format!("{}a", rng.random_range(1..200)),
            1 => format!("{}-{}", rng.random_range(1..200), rng.random_range(1..9)),
            _ => rng.random_range(1..300).to_string(),
        }),
        postcode,
        city: city.to_owned(),
        country: country.to_owned(),
        created,
        updated: created,
    }
}

/// The same place written a little differently.
fn slight_variant(rng: &mut StdRng, mut a: Address, country: &str) -> Address {
    match rng.random_range(0..4) {
        0 => {
            if let Some((_, short)) = streets(country).iter().find(|(long, _)| *long == a.street) {
                a.street = (*short).to_owned();
            } else {
                a.street = a.street.to_uppercase();
            }
        }
        1 => a.postcode = a.postcode.replace(' ', ""),
        2 => {
            // House number written into the street.
            if let Some(n) = a.house_number.take() {
                a.street = format!("{} {n}", a.street);
            }
        }
        _ => a.city = a.city.to_uppercase(),
    }
    a
}

const FAMILIES: &[(&str, &str, i64)] = &[
    ("BC", "Business cards", 4_500),
    ("FLY", "Flyer", 6_900),
    ("BRO", "Brochure", 29_000),
    ("PST", "Poster", 2_500),
    ("BAN", "Banner", 69_000),
    ("STK", "Stickers", 3_000),
    ("LH", "Letterhead", 9_000),
    ("ENV", "Envelope", 15_000),
    ("FLD", "Presentation folder", 19_000),
    ("CAL", "Wall calendar", 12_000),
    ("BKL", "Booklet", 14_500),
    ("LBL", "Roll labels", 1_200),
];
const FORMATS: &[&str] = &["A3", "A4", "A5", "A6", "DL", "85x55", "SQ148"];
const PAPERS: &[(&str, &str)] = &[
    ("135G", "135g gloss"),
    ("170S", "170g silk"),
    ("300M", "300g matt"),
    ("350U", "350g uncoated"),
    ("90O", "90g offset"),
];

/// Products: the first ones mirror the Pressero simulator's catalogue (half by product code,
/// half by external id = Pressero SKU, a few left out), then variants of product families.
pub fn products(seed: u64, n: usize, base: Millis) -> Vec<Product> {
    let pressero =
        crate::pressero::generator::catalogue(seed, crate::pressero::generator::BASE_PRODUCTS);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut rng = rng_for(seed, KIND_PRODUCT, i as u64);
        let id = i as u64 + 1;
        let created = base - 300 * 86_400_000 + (i as i64) * 60_000;
        let (product_code, external_id, name, price_cents) = match pressero.get(i) {
            // Every eighth Pressero product has no M-Power counterpart: a "link or create" case.
            Some(p) if i % 8 != 7 => {
                // Pressero prices a piece in 1/100 cent; M-Power keeps whole cents per unit.
                let price = (p.unit_price_centicents / 100).max(1);
                if i % 2 == 0 {
                    (p.code.clone(), None, p.name.clone(), price)
                } else {
                    (
                        format!("MP-{:05}", 90_000 + i),
                        Some(p.sku.clone()),
                        p.name.clone(),
                        price,
                    )
                }
            }
            _ => {
                let &(prefix, family, base_price) = pick(&mut rng, FAMILIES);
                let format = *pick(&mut rng, FORMATS);
                let &(pcode, pname) = pick(&mut rng, PAPERS);
                let sides = if rng.random_bool(0.5) { "4/4" } else { "4/0" };
                let code = format!("{prefix}-{format}-{pcode}-{:05}", i);
                let external = rng
                    .random_bool(0.6)
                    .then(|| format!("EXT-{:08X}", mix(seed, KIND_PRODUCT + 100, i as u64) as u32));
                let name = format!("{family} {format} {pname} {sides}");
                let price = base_price * rng.random_range(80..160) / 100;
                (code, external, name, price)
            }
        };
        out.push(Product {
            id,
            product_code,
            external_id,
            name,
            price_cents,
            active: i < 24 || rng.random_bool(0.95),
            created,
            updated: created + rng.random_range(0..60) * 86_400_000,
        });
    }
    out
}

/// What orders are drawn from.
pub struct OrderContext<'a> {
    pub seed: u64,
    pub base_time: Millis,
    /// Indexes of the companies that can order (they have a contact and an address).
    pub eligible: &'a [usize],
    /// Contact ids per company index.
    pub contacts_of: &'a [Vec<u64>],
    /// Address ids per company index.
    pub addresses_of: &'a [Vec<u64>],
    pub products: &'a [Product],
}

/// Order `index` (id = index + 1); `true` when it came through the "Pressero" integration.
pub fn order(ctx: &OrderContext<'_>, index: u64) -> (Order, bool) {
    let mut rng = rng_for(ctx.seed, KIND_ORDER, index);
    // Skewed towards companies that have contacts (all do) and addresses (all do).
    let ci = ctx.eligible[skewed(&mut rng, ctx.eligible.len())];
    let contact_id = *pick(&mut rng, &ctx.contacts_of[ci]);
    let address_id = *pick(&mut rng, &ctx.addresses_of[ci]);
    let n_lines = *pick(&mut rng, &[1usize, 1, 1, 2, 2, 3, 4]);
    let lines = (0..n_lines)
        .map(|_| {
            let p = &ctx.products[skewed(&mut rng, ctx.products.len())];
            let quantity = *pick(&mut rng, &[1u32, 2, 5, 100, 250, 500, 1000, 2500]);
            let discount = if rng.random_bool(0.2) { 90 } else { 100 };
            OrderLine {
                product_id: p.id,
                description: rng
                    .random_bool(0.3)
                    .then(|| format!("{} — reprint", p.name)),
                quantity,
                price_cents: p.price_cents * discount / 100,
            }
        })
        .collect();
    let created = ctx.base_time + index as i64 * ORDER_SPACING_MS + rng.random_range(0..60_000);
    let status = match rng.random_range(0..100) {
        0..20 => OrderStatus::Open,
        20..45 => OrderStatus::InProduction,
        45..90 => OrderStatus::Completed,
        _ => OrderStatus::Cancelled,
    };
    let updated = match status {
        OrderStatus::Open => created,
        _ => created + rng.random_range(3_600_000..20 * 86_400_000),
    };
    let web = rng.random_bool(0.5);
    let order = Order {
        id: index + 1,
        company_id: ci as u64 + 1,
        contact_id,
        address_id,
        invoice_address_id: None,
        external_reference: web.then(|| format!("WS-{}", 500_000 + index)),
        notes: rng
            .random_bool(0.1)
            .then(|| "Deliver before 10:00".to_owned()),
        status,
        lines,
        order_request_id: None,
        created,
        updated,
    };
    (order, web && rng.random_bool(0.8))
}

/// (product code, external id, description, quantity, unit price in cents)
pub type SeedLine = (Option<String>, Option<String>, Option<String>, u32, i64);

/// A generated order request's input (matching is done by the data store).
pub struct RequestSeed {
    pub source: Source,
    pub integration: Option<String>,
    pub external_reference: Option<String>,
    pub customer: RequestCustomer,
    pub address: RequestAddress,
    /// (product code, external id, description, quantity, unit price in cents)
    pub lines: Vec<SeedLine>,
    pub created: Millis,
}

/// Open order requests waiting in the inbox (arguments: the data drawn from): known contacts (sometimes in another case, so
/// several can match), unknown ones, known and unknown product codes.
#[allow(clippy::too_many_arguments)]
pub fn request(
    seed: u64,
    index: u64,
    contacts: &[Contact],
    companies: &[Company],
    addresses_of: &[Vec<u64>],
    addresses: &[Address],
    products: &[Product],
    created: Millis,
) -> RequestSeed {
    let mut rng = rng_for(seed, KIND_REQUEST, index);
    let source = match rng.random_range(0..10) {
        0..7 => Source::Integration,
        7..9 => Source::Email,
        _ => Source::Manual,
    };
    let known = rng.random_bool(0.6);
    let (customer, address) = if known {
        let c = &contacts[skewed(&mut rng, contacts.len())];
        let company = &companies[(c.company_id - 1) as usize];
        let ai = *pick(&mut rng, &addresses_of[(c.company_id - 1) as usize]);
        let a = &addresses[(ai - 1) as usize];
        (
            RequestCustomer {
                email: c
                    .email
                    .as_deref()
                    .map(|e| email_variant(e.trim(), rng.random_range(0..3))),
                first_name: c.first_name.clone(),
                last_name: Some(c.last_name.clone()),
                phone: c.phone.clone(),
                company_name: Some(company.name.clone()),
                vat_number: company.vat_number.clone(),
            },
            RequestAddress {
                street: a.street.clone(),
                house_number: a.house_number.clone(),
                postcode: a.postcode.clone(),
                city: a.city.clone(),
                country: a.country.clone(),
            },
        )
    } else {
        let first = *pick(&mut rng, FIRST);
        let last = *pick(&mut rng, LAST);
        let country = COUNTRIES[rng.random_range(0..COUNTRIES.len())].0;
        let a = fresh_address(&mut rng, 0, country, created, "");
        (
            RequestCustomer {
                email: Some(format!(
                    "{}.new{index}@{}",
                    local_part(first, last, 0),
                    pick(&mut rng, PUBLIC_MAIL)
                )),
                first_name: Some(first.to_owned()),
                last_name: Some(last.to_owned()),
                phone: None,
                company_name: Some(format!(
                    "{} {}",
                    pick(&mut rng, STEMS),
                    pick(&mut rng, QUALIFIERS)
                )),
                vat_number: None,
            },
            RequestAddress {
                street: a.street,
                house_number: a.house_number,
                postcode: a.postcode,
                city: a.city,
                country: a.country,
            },
        )
    };
    let n_lines = *pick(&mut rng, &[1usize, 1, 2, 3]);
    let lines = (0..n_lines)
        .map(|k| {
            let quantity = *pick(&mut rng, &[100u32, 250, 500, 1000]);
            if rng.random_bool(0.15) {
                // A product M-Power does not know.
                (
                    Some(format!("NEW-{index}-{k}")),
                    None,
                    Some("Custom job".to_owned()),
                    quantity,
                    9_900,
                )
            } else {
                let p = &products[skewed(&mut rng, products.len())];
                let by_ext = p.external_id.is_some() && rng.random_bool(0.5);
                (
                    (!by_ext).then(|| p.product_code.clone()),
                    if by_ext { p.external_id.clone() } else { None },
                    Some(p.name.clone()),
                    quantity,
                    p.price_cents,
                )
            }
        })
        .collect();
    RequestSeed {
        source,
        integration: (source == Source::Integration).then(|| "Pressero".to_owned()),
        external_reference: match source {
            Source::Integration => Some(format!("PR-{}", 900_000 + index)),
            Source::Email => Some(format!("MAIL-{}", 70_000 + index)),
            Source::Manual => None,
        },
        customer,
        address,
        lines,
        created,
    }
}
