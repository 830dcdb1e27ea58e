//! Postal addresses: the same place written slightly differently has one key.

use crate::words;

/// The fields of an address that say where it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostalAddress<'a> {
    /// Street, possibly with the house number in it (`Main St. 1`).
    pub street: &'a str,
    /// House number when it is kept apart from the street.
    pub house_number: &'a str,
    pub postcode: &'a str,
    pub city: &'a str,
    /// ISO 3166-1 alpha-2 code.
    pub country: &'a str,
}

/// Street words and their abbreviations, written out (English, Dutch, German).
const STREET_WORDS: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "street"),
    ("strasse", "street"),
    ("straße", "street"),
    ("straat", "street"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("blvd", "boulevard"),
    ("ln", "lane"),
    ("dr", "drive"),
    ("sq", "square"),
    ("pl", "place"),
    ("ct", "court"),
    ("hwy", "highway"),
];

fn street_word(w: &str) -> &str {
    STREET_WORDS
        .iter()
        .find(|(short, _)| *short == w)
        .map_or(w, |(_, long)| long)
}

/// The key of an address: street words lower case with abbreviations written out
/// (`St.` = `Street`), the house number last wherever it was written, the postcode without
/// blanks, the city lower case and the country upper case. `Main Street 1, 1012 AB
/// Amsterdam, NL` and `main st. 1, 1012ab AMSTERDAM, nl` share a key.
pub fn address_key(a: PostalAddress<'_>) -> String {
    let mut street: Vec<String> = words(a.street)
        .iter()
        .map(|w| street_word(w).to_string())
        .collect();
    // "Mainstreet" / "Hoofdstraat": a street word glued to the name is written apart.
    for w in &mut street {
        for (_, long) in STREET_WORDS {
            if w.len() > long.len() && w.ends_with(long) && !w.chars().any(|c| c.is_ascii_digit()) {
                let stem = w[..w.len() - long.len()].to_string();
                *w = format!("{stem} {long}");
                break;
            }
        }
    }
    // The number goes last wherever it was written: `12 Main St` (US) = `Main Street 12`.
    let (mut street, numbers): (Vec<String>, Vec<String>) = street
        .into_iter()
        .partition(|w| !w.chars().any(|c| c.is_ascii_digit()));
    street.extend(numbers);
    street.extend(words(a.house_number));
    let postcode: String = a
        .postcode
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    let country = a.country.trim().to_uppercase();
    format!(
        "{}|{}|{}|{}",
        street.join(" "),
        postcode,
        words(a.city).join(" "),
        country
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(street: &str, number: &str, postcode: &str, city: &str, country: &str) -> String {
        address_key(PostalAddress {
            street,
            house_number: number,
            postcode,
            city,
            country,
        })
    }

    #[test]
    fn spelling_variants_share_a_key() {
        let k = key("Main Street", "1", "1012 AB", "Amsterdam", "NL");
        assert_eq!(key("Main St.", "1", "1012AB", "AMSTERDAM", "nl"), k);
        assert_eq!(key("main  street 1", "", "1012 ab", "amsterdam", "NL"), k);
        assert_eq!(key("Mainstreet 1", "", "1012AB", "Amsterdam", "NL"), k);
        assert_eq!(key("1 Main St", "", "1012 AB", "Amsterdam", "NL"), k);
    }

    #[test]
    fn another_number_postcode_or_country_is_another_address() {
        let k = key("Main Street", "1", "1012 AB", "Amsterdam", "NL");
        assert_ne!(key("Main Street", "2", "1012 AB", "Amsterdam", "NL"), k);
        assert_ne!(key("Main Street", "1", "1013 AB", "Amsterdam", "NL"), k);
        assert_ne!(key("Main Street", "1", "1012 AB", "Amsterdam", "BE"), k);
    }
}
