//! How Switchyard recognises a record it has seen before, at another system or in an
//! earlier order: normalised **keys** (equal keys = the same thing, looked up through an
//! index) and **similarity scores** (how alike two names are, for a person to judge).
//!
//! - contacts by e-mail ([`email_key`]): trimmed, lower case; plus-addressing
//!   (`ann+shop@x.com`) is kept apart unless the caller asks to merge it;
//! - companies by VAT number ([`vat_key`]), else by name without legal form, case and
//!   punctuation ([`company_key`]), scored with [`name_similarity`];
//! - addresses by street (common abbreviations expanded), house number, postcode, city and
//!   ISO country ([`address_key`]);
//! - products by product code or external id ([`code_key`]).
//!
//! Keys are plain strings so that the store can index them.

mod address;
mod company;

pub use address::{address_key, PostalAddress};
pub use company::{company_key, name_similarity};

/// How e-mail addresses are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmailRules {
    /// Treat `ann+shop@x.com` as `ann@x.com`. Off by default: many systems keep such
    /// addresses as separate people.
    pub merge_plus_addressing: bool,
}

/// The key of an e-mail address: trimmed and lower case (`" Jan.Jansen@ACME.nl"` →
/// `"jan.jansen@acme.nl"`); empty when there is no address.
pub fn email_key(email: &str, rules: EmailRules) -> String {
    let e = email.trim().to_lowercase();
    if !rules.merge_plus_addressing {
        return e;
    }
    match e.split_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}@{domain}")
        }
        None => e,
    }
}

/// The key of a VAT number: its letters and digits, upper case (`"NL 1234.56.789.B01"` →
/// `"NL123456789B01"`).
pub fn vat_key(vat: &str) -> String {
    vat.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The key of a product code or external id: trimmed, lower case (codes are compared
/// case-insensitively, as a MIS does).
pub fn code_key(code: &str) -> String {
    code.trim().to_lowercase()
}

/// Lower case, every run of non-alphanumerics made one blank, trimmed.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_meet_across_case_and_blanks_but_not_plus_addressing() {
        let r = EmailRules::default();
        assert_eq!(email_key(" Jan.Jansen@ACME.nl ", r), "jan.jansen@acme.nl");
        assert_ne!(
            email_key("jan+shop@acme.nl", r),
            email_key("jan@acme.nl", r)
        );
        let merge = EmailRules {
            merge_plus_addressing: true,
        };
        assert_eq!(
            email_key("Jan+Shop@acme.nl", merge),
            email_key("jan@acme.nl", merge)
        );
    }

    #[test]
    fn vat_numbers_are_letters_and_digits() {
        assert_eq!(vat_key("NL 1234.56.789.B01"), "NL123456789B01");
        assert_eq!(vat_key("nl123456789b01"), "NL123456789B01");
    }

    #[test]
    fn codes_ignore_case_and_blanks() {
        assert_eq!(code_key(" bc-std "), code_key("BC-STD"));
    }
}
