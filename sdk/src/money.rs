//! Money: provider decimals ⇄ integer minor units, without floating-point drift.
//!
//! Canonical amounts are integers of minor units (`1999` = 19.99). Conversion
//! goes through the decimal *text* of an amount, never through `f64`
//! arithmetic: a JSON number `19.99` is read as the text `19.99` (serde_json
//! prints an `f64` as the shortest text that reads back to it, which is the
//! text the provider sent), then its digits are shifted. So `0.1 + 0.2`-style
//! drift cannot happen.
//!
//! ```
//! use switchyard_sdk::money;
//! assert_eq!(money::parse_minor("19.99", 2).unwrap(), 1999);
//! assert_eq!(money::json_to_minor(&serde_json::json!(0.3), 2).unwrap(), 30);
//! assert_eq!(money::format_minor(-5, 2), "-0.05");
//! ```

use crate::error::{ConnectorError, Result};

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is empty.
    #[error("the amount is empty")]
    Empty,
    /// The text is not a decimal number.
    #[error("`{0}` is not a decimal amount")]
    NotADecimal(String),
    /// The amount does not fit in 64-bit minor units.
    #[error("the amount `{0}` is too large")]
    TooLarge(String),
    /// The JSON value is neither a number nor a numeric string.
    #[error("expected an amount (number or numeric string), found {0}")]
    WrongType(&'static str),
}

impl MoneyError {
    /// This error as `invalid-input` at `location` (a field path).
    pub fn at(self, location: &str) -> ConnectorError {
        ConnectorError::invalid_input(format!("{location}: {self}"), location)
    }
}

/// The number of minor-unit decimals of an ISO 4217 currency: 0 for e.g. JPY,
/// HUF is 2 (as ISO says, though cash has none), 3 for e.g. KWD, else 2.
pub fn currency_decimals(currency: &str) -> u32 {
    match currency.trim().to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Decimal text (`"19.99"`, `"-3"`, `"1.5e2"`, `"+0.005"`) → minor units with
/// `decimals` places. Extra decimals are rounded half away from zero
/// (`"0.125"` → 13 at 2 places), as invoices do.
pub fn parse_minor(text: &str, decimals: u32) -> Result<i64, MoneyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(MoneyError::Empty);
    }
    let bad = || MoneyError::NotADecimal(t.to_string());
    let (negative, unsigned) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (
            &unsigned[..i],
            unsigned[i + 1..].parse::<i32>().map_err(|_| bad())?,
        ),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // All digits, and where the decimal point sits after shifting to minor units.
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + exponent as i64 + decimals as i64;
    let digits = digits.trim_start_matches('0');
    let point = point - (int_part.len() as i64 + frac_part.len() as i64 - digits.len() as i64);
    let too_large = || MoneyError::TooLarge(t.to_string());
    let mut value: i64 = 0;
    let mut round_up = false;
    for (i, b) in digits.bytes().enumerate() {
        let d = (b - b'0') as i64;
        if (i as i64) < point {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(too_large)?;
        } else {
            round_up = i as i64 == point && d >= 5;
            break;
        }
    }
    // Trailing zeros of an integer part beyond the digits (e.g. "15e2").
    for _ in digits.len() as i64..point.max(0) {
        value = value.checked_mul(10).ok_or_else(too_large)?;
    }
    if round_up {
        value = value.checked_add(1).ok_or_else(too_large)?;
    }
    Ok(if negative { -value } else { value })
}

/// A JSON amount (number, or string holding a decimal) → minor units.
/// `null` is an error here; treat optional amounts before calling.
pub fn json_to_minor(value: &serde_json::Value, decimals: u32) -> Result<i64, MoneyError> {
    match value {
        serde_json::Value::Number(n) => parse_minor(&n.to_string(), decimals),
        serde_json::Value::String(s) => parse_minor(s, decimals),
        serde_json::Value::Null => Err(MoneyError::WrongType("null")),
        serde_json::Value::Bool(_) => Err(MoneyError::WrongType("a boolean")),
        serde_json::Value::Array(_) => Err(MoneyError::WrongType("an array")),
        serde_json::Value::Object(_) => Err(MoneyError::WrongType("an object")),
    }
}

/// Minor units → decimal text with `decimals` places: `1999` → `"19.99"`.
pub fn format_minor(minor: i64, decimals: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(decimals);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = decimals as usize
    )
}

/// Minor units → a JSON number with the same decimal text (`1999` → `19.99`),
/// for providers that want numbers.
pub fn minor_to_json(minor: i64, decimals: u32) -> serde_json::Value {
    let text = format_minor(minor, decimals);
    // The shortest f64 text of a ≤15-significant-digit decimal is that decimal,
    // so the number serialises back to exactly `text`.
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::String(text))
}

/// `amount / quantity` in minor units, rounded half away from zero; `amount`
/// itself when `quantity` is not a positive number. For unit prices from line
/// totals.
pub fn divide(amount: i64, quantity: f64) -> i64 {
    if !(quantity.is_finite() && quantity > 0.0) {
        return amount;
    }
    if quantity.fract() == 0.0 && quantity <= i64::MAX as f64 {
        let q = quantity as i64;
        let half = q / 2;
        return if amount >= 0 {
            (amount + half) / q
        } else {
            (amount - half) / q
        };
    }
    (amount as f64 / quantity).round() as i64
}

/// Reads a JSON amount at `location` into minor units, as `invalid-input`
/// naming the field when it is missing or malformed.
pub fn field_minor(
    value: Option<&serde_json::Value>,
    decimals: u32,
    location: &str,
) -> Result<i64> {
    match value {
        None | Some(serde_json::Value::Null) => Err(ConnectorError::invalid_input(
            format!("missing {location}"),
            location,
        )),
        Some(v) => json_to_minor(v, decimals).map_err(|e| e.at(location)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_become_exact_minor_units() {
        assert_eq!(parse_minor("19.99", 2), Ok(1999));
        assert_eq!(parse_minor("0.1", 2), Ok(10));
        assert_eq!(parse_minor("12.5", 2), Ok(1250));
        assert_eq!(parse_minor("3", 2), Ok(300));
        assert_eq!(parse_minor("-0.05", 2), Ok(-5));
        assert_eq!(parse_minor("+.5", 2), Ok(50));
        assert_eq!(parse_minor("1.5e2", 2), Ok(15000));
        assert_eq!(parse_minor("15e-1", 2), Ok(150));
        assert_eq!(parse_minor("0.000", 2), Ok(0));
        assert_eq!(parse_minor("007.10", 2), Ok(710));
        assert_eq!(parse_minor("1234", 0), Ok(1234));
        assert_eq!(parse_minor("1.234", 3), Ok(1234));
    }

    #[test]
    fn extra_decimals_round_half_away_from_zero() {
        assert_eq!(parse_minor("0.125", 2), Ok(13));
        assert_eq!(parse_minor("0.124", 2), Ok(12));
        assert_eq!(parse_minor("-0.125", 2), Ok(-13));
        assert_eq!(parse_minor("3.375", 2), Ok(338));
        assert_eq!(parse_minor("0.0049", 2), Ok(0));
    }

    #[test]
    fn float_json_numbers_do_not_drift() {
        // 0.1 + 0.2 is 0.30000000000000004 as f64; amounts are read as text.
        assert_eq!(json_to_minor(&json!(0.3), 2), Ok(30));
        assert_eq!(json_to_minor(&json!(19.99), 2), Ok(1999));
        assert_eq!(json_to_minor(&json!(1.005), 2), Ok(101));
        assert_eq!(json_to_minor(&json!(4.35), 2), Ok(435));
        assert_eq!(json_to_minor(&json!(123456789.99), 2), Ok(12345678999));
        assert_eq!(json_to_minor(&json!("19.99"), 2), Ok(1999));
        assert_eq!(json_to_minor(&json!(2), 2), Ok(200));
        // Every cent from 0.00 to 99.99 survives the f64 round trip exactly.
        for cents in 0..10_000i64 {
            let v: serde_json::Value = serde_json::from_str(&format_minor(cents, 2)).unwrap();
            assert_eq!(json_to_minor(&v, 2), Ok(cents));
        }
    }

    #[test]
    fn malformed_amounts_are_errors() {
        assert_eq!(parse_minor("", 2), Err(MoneyError::Empty));
        assert!(matches!(
            parse_minor("1,99", 2),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(matches!(
            parse_minor("abc", 2),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(matches!(
            parse_minor(".", 2),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(matches!(
            parse_minor("1e", 2),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(matches!(
            parse_minor("99999999999999999999", 2),
            Err(MoneyError::TooLarge(_))
        ));
        assert_eq!(
            json_to_minor(&json!(true), 2),
            Err(MoneyError::WrongType("a boolean"))
        );
        match field_minor(None, 2, "Details.OrderTotal").unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, "Details.OrderTotal"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn minor_units_format_back() {
        assert_eq!(format_minor(1999, 2), "19.99");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-1999, 2), "-19.99");
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(format_minor(1234, 3), "1.234");
        assert_eq!(minor_to_json(1999, 2).to_string(), "19.99");
        assert_eq!(minor_to_json(30, 2).to_string(), "0.3");
        assert_eq!(currency_decimals("jpy"), 0);
        assert_eq!(currency_decimals("KWD"), 3);
        assert_eq!(currency_decimals("USD"), 2);
    }

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(divide(1250, 2.0), 625);
        assert_eq!(divide(1000, 3.0), 333);
        assert_eq!(divide(1001, 2.0), 501);
        assert_eq!(divide(-1001, 2.0), -501);
        assert_eq!(divide(1000, 0.0), 1000);
        assert_eq!(divide(1000, 2.5), 400);
    }
}
