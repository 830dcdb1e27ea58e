//! Secret placeholders (`{{secret:NAME}}`) and the redaction of secret values.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::HttpError;

const OPEN: &[u8] = b"{{secret:";
const CLOSE: &[u8] = b"}}";

/// What replaces a secret in logged text.
pub const MASK: &str = "***";

/// Everything but RFC 3986 unreserved characters: safe for a value in any URL position.
const URL_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a secret value for a URL (query value, path segment, fragment).
pub(crate) fn url_encode(value: &str) -> String {
    utf8_percent_encode(value, URL_VALUE).to_string()
}

/// The secrets of one connection, by name.
#[derive(Clone, Default)]
pub(crate) struct SecretSet {
    values: BTreeMap<String, String>,
}

impl SecretSet {
    pub(crate) fn insert(&mut self, name: String, value: String) {
        self.values.insert(name, value);
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.values.values().map(String::as_str)
    }

    /// Replaces every placeholder in `input`; each value goes through `encode` first.
    /// Returns whether any placeholder was found.
    fn fill_bytes(
        &self,
        input: &[u8],
        encode: &dyn Fn(&str) -> String,
    ) -> Result<(Vec<u8>, bool), HttpError> {
        let mut out = Vec::with_capacity(input.len());
        let mut rest = input;
        let mut found = false;
        while let Some(start) = find(rest, OPEN) {
            let after_open = &rest[start + OPEN.len()..];
            let Some(end) = find(after_open, CLOSE) else {
                break;
            };
            let name = String::from_utf8_lossy(&after_open[..end]);
            let value = self
                .values
                .get(name.as_ref())
                .ok_or_else(|| HttpError::UnknownSecret(name.to_string()))?;
            out.extend_from_slice(&rest[..start]);
            out.extend_from_slice(encode(value).as_bytes());
            rest = &after_open[end + CLOSE.len()..];
            found = true;
        }
        out.extend_from_slice(rest);
        Ok((out, found))
    }

    /// Fills placeholders in a body (raw values).
    pub(crate) fn fill_body(&self, body: &[u8]) -> Result<Vec<u8>, HttpError> {
        Ok(self.fill_bytes(body, &|v| v.to_string())?.0)
    }

    /// Fills placeholders in text (raw values); also says whether there were any.
    pub(crate) fn fill_text(&self, text: &str) -> Result<(String, bool), HttpError> {
        let (bytes, found) = self.fill_bytes(text.as_bytes(), &|v| v.to_string())?;
        // Only ASCII boundaries were cut and UTF-8 inserted, so this cannot fail.
        Ok((
            String::from_utf8(bytes).expect("placeholder filling keeps UTF-8"),
            found,
        ))
    }

    /// Fills placeholders in a URL, percent-encoding each value.
    pub(crate) fn fill_url(&self, url: &str) -> Result<String, HttpError> {
        let (bytes, _) = self.fill_bytes(url.as_bytes(), &|v| url_encode(v))?;
        Ok(String::from_utf8(bytes).expect("placeholder filling keeps UTF-8"))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Replaces secret values, and the forms they travel in, by [`MASK`].
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    /// Longest first, so a form that contains another is masked whole.
    needles: Vec<String>,
}

impl Redactor {
    /// Masks every form of every value in `secrets`.
    pub(crate) fn for_secrets<'a>(secrets: impl Iterator<Item = &'a str>) -> Redactor {
        let mut redactor = Redactor::default();
        for value in secrets {
            redactor.add(value);
        }
        redactor
    }

    /// Adds a value: raw, percent-encoded (upper and lower hex, `+` for spaces),
    /// base64 (standard and URL-safe, with and without padding) and JSON-escaped.
    pub(crate) fn add(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let encoded = url_encode(value);
        let mut forms = vec![
            value.to_string(),
            encoded.to_ascii_lowercase(),
            encoded.replace("%20", "+"),
            lower_hex_escapes(&encoded),
            encoded,
            STANDARD.encode(value),
            STANDARD_NO_PAD.encode(value),
            URL_SAFE.encode(value),
            URL_SAFE_NO_PAD.encode(value),
        ];
        let json = json_escape(value);
        forms.push(json);
        for form in forms {
            if !form.is_empty() && !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// Adds the base64 `user:pass` of a Basic `Authorization` header.
    pub(crate) fn add_basic_credentials(&mut self, encoded: &str) {
        for form in [
            encoded.to_string(),
            encoded.trim_end_matches('=').to_string(),
        ] {
            if !form.is_empty() && !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every known secret form replaced by [`MASK`].
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
}

/// `%2F` → `%2f`, leaving the other characters alone.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

fn json_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' => out.push('/'),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SecretSet {
        let mut s = SecretSet::default();
        s.insert("TOKEN".into(), "s3cr&t/ +=".into());
        s.insert("USER".into(), "ann".into());
        s
    }

    #[test]
    fn fills_text_and_reports_unknown_names() {
        let s = secrets();
        assert_eq!(
            s.fill_text("Bearer {{secret:TOKEN}}").unwrap(),
            ("Bearer s3cr&t/ +=".into(), true)
        );
        assert_eq!(
            s.fill_text("no placeholder {{secret:").unwrap(),
            ("no placeholder {{secret:".into(), false)
        );
        assert_eq!(
            s.fill_text("{{secret:NOPE}}"),
            Err(HttpError::UnknownSecret("NOPE".into()))
        );
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let s = secrets();
        assert_eq!(
            s.fill_url("https://x.com/a?key={{secret:TOKEN}}&u={{secret:USER}}")
                .unwrap(),
            "https://x.com/a?key=s3cr%26t%2F%20%2B%3D&u=ann"
        );
    }

    #[test]
    fn redacts_every_form() {
        let s = secrets();
        let r = Redactor::for_secrets(s.values());
        let value = "s3cr&t/ +=";
        for form in [
            value.to_string(),
            url_encode(value),
            url_encode(value).to_ascii_lowercase(),
            url_encode(value).replace("%20", "+"),
            STANDARD.encode(value),
            URL_SAFE_NO_PAD.encode(value),
        ] {
            let out = r.redact(&format!("before {form} after"));
            assert_eq!(out, "before *** after", "form {form:?}");
        }
    }

    #[test]
    fn empty_values_are_not_needles() {
        let r = Redactor::for_secrets(["".to_string()].iter().map(String::as_str));
        assert_eq!(r.redact("text"), "text");
    }
}
