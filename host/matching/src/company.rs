//! Company names: legal forms, case and punctuation do not make another company.

use crate::words;

/// Legal-form words and abbreviations, as they appear once punctuation is gone
/// (`B.V.` → `b v`, `Kft.` → `kft`). Multi-word forms are matched as word sequences.
const LEGAL_FORMS: &[&[&str]] = &[
    &["b", "v"],
    &["bv"],
    &["n", "v"],
    &["nv"],
    &["v", "o", "f"],
    &["vof"],
    &["ltd"],
    &["limited"],
    &["llc"],
    &["inc"],
    &["incorporated"],
    &["plc"],
    &["llp"],
    &["corp"],
    &["gmbh"],
    &["ag"],
    &["kg"],
    &["ug"],
    &["e", "v"],
    &["kft"],
    &["zrt"],
    &["nyrt"],
    &["bt"],
    &["sa"],
    &["sas"],
    &["sarl"],
    &["srl"],
    &["spa"],
    &["sprl"],
    &["bvba"],
    &["oy"],
    &["ab"],
    &["as"],
    &["aps"],
    &["co"],
    &["company"],
];

/// The key of a company name: lower case, punctuation gone, a trailing legal form (or
/// several, `Acme Ltd. Co`) removed. `"Acme B.V."`, `"ACME BV"` and `"Acme"` share a key;
/// a name that is only a legal form keeps it.
pub fn company_key(name: &str) -> String {
    let mut w = words(name);
    loop {
        let before = w.len();
        for form in LEGAL_FORMS {
            if w.len() > form.len()
                && w.ends_with(&form.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            {
                w.truncate(w.len() - form.len());
                break;
            }
        }
        if w.len() == before {
            break;
        }
    }
    w.join(" ")
}

/// How alike two company names are, 0–100, after normalising both
/// ([`company_key`]); Jaro-Winkler similarity, which favours a shared beginning
/// (`Acme Print` / `Acme Printing`).
pub fn name_similarity(a: &str, b: &str) -> u8 {
    let (a, b) = (company_key(a), company_key(b));
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    (strsim::jaro_winkler(&a, &b) * 100.0)
        .round()
        .clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_case_and_punctuation_do_not_count() {
        let k = company_key("Acme B.V.");
        assert_eq!(k, "acme");
        assert_eq!(company_key("ACME BV"), k);
        assert_eq!(company_key("Acme"), k);
        assert_eq!(company_key("acme,  b.v."), k);
        assert_eq!(company_key("Print Works Ltd. Co"), "print works");
        assert_eq!(company_key("Nagy és Társa Kft."), "nagy és társa");
    }

    #[test]
    fn a_name_that_is_only_a_legal_form_is_kept() {
        assert_eq!(company_key("B.V."), "b v");
        assert_eq!(company_key("Limited"), "limited");
    }

    #[test]
    fn different_companies_keep_different_keys() {
        assert_ne!(company_key("Acme Print"), company_key("Acme Paint"));
    }

    #[test]
    fn similarity_ranks_near_names_above_far_ones() {
        assert_eq!(name_similarity("Acme B.V.", "ACME BV"), 100);
        let near = name_similarity("Acme Print", "Acme Printing");
        let far = name_similarity("Acme Print", "Zeta Media");
        assert!(near > 85 && far < 60, "near {near} far {far}");
        assert_eq!(name_similarity("", "Acme"), 0);
    }
}
