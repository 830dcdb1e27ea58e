//! Whether a 2xx body is the document its headers promise.
//!
//! Providers (or a proxy in front of them, or a connection that breaks) sometimes answer 200
//! with half a JSON or XML document, or with an HTML error page to a request that accepts only
//! JSON. That is the provider failing for a moment, like a 5xx, not bad input: an idempotent
//! request is worth sending again. The checks only parse (nothing is kept) and only trust what
//! the answer declares in `Content-Type`; a body that declares nothing is never judged.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The document type a `Content-Type` or an `Accept` media range names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
    Html,
    Other,
}

/// The format of a media type such as `application/json; charset=utf-8` or
/// `application/soap+xml`.
fn format_of(media_type: &str) -> Format {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        // `text/json` is not registered, but older APIs still send it.
        "application/json" | "text/json" => Format::Json,
        "application/xml" | "text/xml" => Format::Xml,
        "text/html" | "application/xhtml+xml" => Format::Html,
        e if e.ends_with("+json") => Format::Json,
        e if e.ends_with("+xml") => Format::Xml,
        _ => Format::Other,
    }
}

/// Whether an `Accept` value lists JSON or XML types and nothing else (no `*/*`, no HTML):
/// only then is an HTML answer certainly not what the client asked for.
fn accepts_only_json_or_xml(accept: &str) -> bool {
    let mut ranges = accept
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .peekable();
    ranges.peek().is_some() && ranges.all(|r| matches!(format_of(r), Format::Json | Format::Xml))
}

/// Why the body of a 2xx answer is not the document it declares, or `None` when it is (or
/// when nothing can be said: no `Content-Type`, another type, an empty body).
///
/// `content_type` is the answer's `Content-Type`, `accept` every `Accept` value of the
/// request joined with `,`. The text is short and holds no body content, only what the parser
/// says of it (position, expected token, element name).
pub(crate) fn body_defect(
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &[u8],
) -> Option<String> {
    let content_type = content_type?;
    // An empty 2xx is how many APIs answer a write, whatever type they declare; it is not
    // a torn document, and a client that needed content reports it itself.
    if body.is_empty() {
        return None;
    }
    let declared = content_type.split(';').next().unwrap_or("").trim();
    let len = body.len();
    match format_of(content_type) {
        Format::Json => json_defect(body).map(|why| {
            format!("the body ({len} bytes) is declared {declared} but is not JSON: {why}")
        }),
        Format::Xml => xml_defect(body).map(|why| {
            format!(
                "the body ({len} bytes) is declared {declared} but is not well-formed XML: {why}"
            )
        }),
        Format::Html => {
            let accept = accept?;
            accepts_only_json_or_xml(accept).then(|| {
                format!("the body ({len} bytes) is an HTML page ({declared}) but the request accepted only {accept}")
            })
        }
        Format::Other => None,
    }
}

/// Why `body` does not parse as JSON. A UTF-8 byte order mark is allowed: it is a permanent
/// quirk of some servers, not a transient failure, and a retry would not remove it.
fn json_defect(body: &[u8]) -> Option<String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .err()
        .map(|e| e.to_string())
}

/// Why `body` is not a well-formed XML document: a syntax error (a tag, comment or CDATA
/// cut off), a mismatched end tag, elements left open at the end, no root element, or
/// content outside the root element.
fn xml_defect(body: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(body);
    // The default, set here because the check depends on it: `<a></b>` is an error.
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut roots = 0u32;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Some(format!("{e} (at byte {})", reader.error_position())),
        };
        let outside_root = open.is_empty();
        match event {
            Event::Start(start) => {
                if outside_root {
                    roots += 1;
                }
                open.push(start.name().as_ref().to_vec());
            }
            Event::Empty(_) if outside_root => roots += 1,
            Event::End(_) => {
                // quick-xml already refused an end tag that does not match or closes nothing.
                open.pop();
            }
            Event::Text(text) if outside_root && !text.iter().all(u8::is_ascii_whitespace) => {
                return Some("text outside the root element".to_string());
            }
            Event::CData(_) | Event::GeneralRef(_) if outside_root => {
                return Some("content outside the root element".to_string());
            }
            Event::Eof => break,
            _ => {}
        }
        if roots > 1 {
            return Some("a second root element".to_string());
        }
    }
    if let Some(name) = open.last() {
        return Some(format!(
            "the document ends before element <{}> closes",
            String::from_utf8_lossy(name)
        ));
    }
    (roots == 0).then(|| "no root element".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><ns1:r xmlns:ns1="urn:x"><a>1 &amp; 2</a><b/><![CDATA[<c>]]></ns1:r></SOAP-ENV:Body></SOAP-ENV:Envelope>
"#;

    #[test]
    fn formats_follow_the_media_type_essence() {
        assert_eq!(format_of("application/json; charset=utf-8"), Format::Json);
        assert_eq!(format_of("Application/Problem+JSON"), Format::Json);
        assert_eq!(format_of("text/xml;charset=UTF-8"), Format::Xml);
        assert_eq!(format_of("application/soap+xml"), Format::Xml);
        assert_eq!(format_of("text/html; charset=iso-8859-1"), Format::Html);
        assert_eq!(format_of("text/plain"), Format::Other);
        assert!(accepts_only_json_or_xml("application/json"));
        assert!(accepts_only_json_or_xml("application/json, text/xml;q=0.5"));
        assert!(!accepts_only_json_or_xml("application/json, */*;q=0.1"));
        assert!(!accepts_only_json_or_xml("text/html,application/json"));
        assert!(!accepts_only_json_or_xml(" "));
    }

    #[test]
    fn whole_json_passes_and_half_json_does_not() {
        let doc = br#"{"Items":[{"OrderNumber":1010,"Name":"Ann"}],"TotalItems":1}"#;
        assert_eq!(body_defect(Some("application/json"), None, doc), None);
        let bom = [b"\xEF\xBB\xBF".as_slice(), doc].concat();
        assert_eq!(body_defect(Some("application/json"), None, &bom), None);
        let why = body_defect(Some("application/json"), None, &doc[..doc.len() / 2]).unwrap();
        assert!(why.contains("is not JSON: EOF while parsing"), "{why}");
        assert!(!why.contains("Ann"), "no body content in the text: {why}");
        let why = body_defect(Some("application/json"), None, b"{} trailing").unwrap();
        assert!(why.contains("trailing characters"), "{why}");
        // Nothing declared, another type or nothing sent: not judged.
        assert_eq!(body_defect(None, None, b"{\"a\":"), None);
        assert_eq!(body_defect(Some("text/plain"), None, b"{\"a\":"), None);
        assert_eq!(body_defect(Some("application/json"), None, b""), None);
    }

    #[test]
    fn whole_xml_passes_and_broken_xml_does_not() {
        let doc = ENVELOPE.as_bytes();
        assert_eq!(xml_defect(doc), None);
        assert_eq!(xml_defect(b"\xEF\xBB\xBF<a/>"), None);
        // Cut anywhere inside the root element, the document is not well-formed.
        for cut in (40..doc.len() - 2).step_by(7) {
            assert!(xml_defect(&doc[..cut]).is_some(), "cut at {cut} passed");
        }
        let why = xml_defect(&doc[..doc.len() / 2]).unwrap();
        assert!(
            why.contains("ends before element") || why.contains("not closed"),
            "{why}"
        );
        assert!(xml_defect(b"<a><b></a></b>").unwrap().contains("b"));
        assert_eq!(xml_defect(b"<a/><b/>").unwrap(), "a second root element");
        assert_eq!(
            xml_defect(b"<a/>trailing").unwrap(),
            "text outside the root element"
        );
        assert_eq!(xml_defect(b"  ").unwrap(), "no root element");
        assert!(xml_defect(b"<a attr=\"x").is_some());
        assert!(
            body_defect(Some("text/xml; charset=utf-8"), None, &doc[..100])
                .unwrap()
                .contains("declared text/xml but is not well-formed XML")
        );
    }

    #[test]
    fn html_is_a_defect_only_when_the_request_wanted_json_or_xml_alone() {
        let page = b"<html><head><title>502 Bad Gateway</title></head></html>";
        let why = body_defect(Some("text/html"), Some("application/json"), page).unwrap();
        assert!(why.contains("accepted only application/json"), "{why}");
        assert_eq!(body_defect(Some("text/html"), None, page), None);
        assert_eq!(body_defect(Some("text/html"), Some("*/*"), page), None);
    }
}
