//! Masking of credential-named fields in logged bodies.
//!
//! Placeholder secrets are masked by value (see `secret.rs`), but some credentials are
//! minted by the provider during a run — a session token in an authentication answer — and
//! the host never learns their value. Fields whose names say they hold a credential are
//! therefore masked in every logged body, whatever their value.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::secret::MASK;

/// Names (case-insensitive, `-`/`_` optional) of fields that hold credentials.
const NAMES: &str = r"(?:access[-_]?token|refresh[-_]?token|id[-_]?token|session[-_]?token|auth[-_]?token|token|password|passwd|pass|secret|client[-_]?secret|api[-_]?key|apikey|authorization)";

/// `"name": "value"` in JSON (an escaped quote does not end the value).
static JSON_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?i)("{NAMES}"\s*:\s*)"(?:[^"\\]|\\.)*""#)).expect("valid regex")
});

/// `<name>value</name>` in XML, with or without a namespace prefix.
static XML_ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(<(?:[\w.-]+:)?{NAMES}(?:\s[^>]*)?>)[^<]*(</)"
    ))
    .expect("valid regex")
});

/// `name=value` in a form or query string.
static FORM_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)((?:^|[?&]){NAMES}=)[^&\s]*")).expect("valid regex")
});

/// `text` with the values of credential-named fields replaced by [`MASK`].
pub(crate) fn mask(text: &str) -> Cow<'_, str> {
    let json = JSON_FIELD.replace_all(text, format!(r#"${{1}}"{MASK}""#).as_str());
    let xml = match XML_ELEMENT.replace_all(&json, format!("${{1}}{MASK}${{2}}").as_str()) {
        Cow::Borrowed(_) => json,
        Cow::Owned(s) => Cow::Owned(s),
    };
    match FORM_FIELD.replace_all(&xml, format!("${{1}}{MASK}").as_str()) {
        Cow::Borrowed(_) => xml,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_json_tokens_whatever_their_value() {
        assert_eq!(
            mask(r#"{"Token":"abc\"def","Name":"x","access_token" : "t2"}"#),
            r#"{"Token":"***","Name":"x","access_token" : "***"}"#
        );
    }

    #[test]
    fn masks_xml_and_form_credentials() {
        assert_eq!(
            mask(
                "<auth><user>u</user><pass>p4ss</pass><ns:Password a=\"1\">x</ns:Password></auth>"
            ),
            "<auth><user>u</user><pass>***</pass><ns:Password a=\"1\">***</ns:Password></auth>"
        );
        assert_eq!(
            mask("grant_type=password&password=hunter2&client_secret=s3"),
            "grant_type=password&password=***&client_secret=***"
        );
    }

    #[test]
    fn leaves_other_fields_alone() {
        let text = r#"{"TokenCount":3,"tokens_used":"x","Passenger":"y","passed":true}"#;
        assert_eq!(mask(text), text);
    }
}
