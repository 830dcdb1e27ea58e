//! SOAP 1.1 plumbing: reading a request envelope into a small element tree (quick-xml with
//! namespace resolution, so any prefix works) and writing answer envelopes and faults.

use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The MplusQapi target namespace.
pub const MPLUS_NS: &str = "urn:mplusqapi";

/// One element of a parsed request: namespace, local name, child elements and text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Resolved namespace URI (empty when unqualified).
    pub ns: String,
    /// Local name without prefix.
    pub name: String,
    /// Child elements in document order.
    pub children: Vec<Node>,
    /// Concatenated text content (unescaped).
    pub text: String,
}

impl Node {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child, if present.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Why a request could not be read as a SOAP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not well-formed XML.
    Syntax(String),
    /// Well-formed, but not a SOAP 1.1 envelope with a body element.
    NotEnvelope(String),
}

/// Parses a whole XML document into its root element.
pub fn parse_document(xml: &[u8]) -> Result<Node, ParseError> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut buf = Vec::new();
    let syntax = |e: &dyn std::fmt::Display, pos: u64| ParseError::Syntax(format!("{e} at {pos}"));
    loop {
        let pos = reader.buffer_position();
        let (resolved, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| syntax(&e, pos))?;
        let ns_of = |r: &ResolveResult| match r {
            ResolveResult::Bound(ns) => Ok(String::from_utf8_lossy(ns.as_ref()).into_owned()),
            ResolveResult::Unbound => Ok(String::new()),
            ResolveResult::Unknown(p) => Err(ParseError::Syntax(format!(
                "undeclared namespace prefix `{}`",
                String::from_utf8_lossy(p)
            ))),
        };
        match event {
            Event::Start(e) => {
                let ns = ns_of(&resolved)?;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node {
                    ns,
                    name,
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let ns = ns_of(&resolved)?;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let node = Node {
                    ns,
                    name,
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(ParseError::Syntax("more than one root element".into())),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| ParseError::Syntax(format!("unexpected end tag at {pos}")))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(ParseError::Syntax("more than one root element".into())),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let text = t.decode().map_err(|e| syntax(&e, pos))?;
                    let text = quick_xml::escape::unescape(&text).map_err(|e| syntax(&e, pos))?;
                    top.text.push_str(&text);
                } else if !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(ParseError::Syntax(format!(
                        "text outside the root at {pos}"
                    )));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = r.decode().map_err(|e| syntax(&e, pos))?;
                    let entity = format!("&{name};");
                    let text = quick_xml::escape::unescape(&entity).map_err(|e| syntax(&e, pos))?;
                    top.text.push_str(&text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(ParseError::Syntax("document ends inside an element".into()));
    }
    root.ok_or_else(|| ParseError::Syntax("no root element".into()))
}

/// Parses a SOAP 1.1 request and returns the body's operation element.
pub fn parse_request(xml: &[u8]) -> Result<Node, ParseError> {
    let root = parse_document(xml)?;
    if root.name != "Envelope" || root.ns != SOAP_ENV {
        return Err(ParseError::NotEnvelope(format!(
            "root is `{{{}}}{}`, expected a SOAP 1.1 Envelope",
            root.ns, root.name
        )));
    }
    let body = root
        .children
        .into_iter()
        .find(|c| c.name == "Body" && c.ns == SOAP_ENV)
        .ok_or_else(|| ParseError::NotEnvelope("the Envelope has no Body".into()))?;
    body.children
        .into_iter()
        .next()
        .ok_or_else(|| ParseError::NotEnvelope("the Body is empty".into()))
}

/// Writes the elements of an answer (all in `urn:mplusqapi`, prefix `ns`, as the schema's
/// `elementFormDefault="qualified"` requires).
#[derive(Default)]
pub struct Writer {
    out: String,
    open: Vec<&'static str>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer {
            out: String::with_capacity(4096),
            open: Vec::new(),
        }
    }

    /// Opens `<ns:name>`.
    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.out.push_str("<ns:");
        self.out.push_str(name);
        self.out.push('>');
        self.open.push(name);
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.out.push_str("</ns:");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// `<ns:name>text</ns:name>`, escaped.
    pub fn text(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.out.push_str("<ns:");
        self.out.push_str(name);
        self.out.push('>');
        self.out.push_str(&escape(value));
        self.out.push_str("</ns:");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// A number or boolean.
    pub fn val(&mut self, name: &'static str, value: impl std::fmt::Display) -> &mut Self {
        self.text(name, &value.to_string())
    }

    /// An optional string (omitted when `None`).
    pub fn opt(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// The finished body content.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Wraps answer content in a SOAP 1.1 envelope, as gSOAP writes it.
pub fn envelope(body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
            r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:ns="urn:mplusqapi">"#,
            "<SOAP-ENV:Body>{}</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
        ),
        body
    )
}

/// Who a fault blames, as SOAP 1.1 `faultcode` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultCode {
    /// `SOAP-ENV:Client`: the request is wrong.
    Client,
    /// `SOAP-ENV:Server`: the server failed.
    Server,
}

/// A SOAP 1.1 Fault envelope.
pub fn fault(code: FaultCode, string: &str, detail: Option<&str>) -> String {
    let code = match code {
        FaultCode::Client => "SOAP-ENV:Client",
        FaultCode::Server => "SOAP-ENV:Server",
    };
    let detail = detail
        .map(|d| format!("<detail>{}</detail>", escape(d)))
        .unwrap_or_default();
    envelope(&format!(
        "<SOAP-ENV:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring>{detail}</SOAP-ENV:Fault>",
        escape(string)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_prefix_and_default_namespace() {
        let a = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:getStock xmlns:m="urn:mplusqapi"><m:request><m:branchNumber>1</m:branchNumber></m:request></m:getStock></s:Body></s:Envelope>"#;
        let b = br#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><getStock xmlns="urn:mplusqapi"><request><branchNumber> 1 </branchNumber></request></getStock></Body></Envelope>"#;
        let (a, b) = (parse_request(a).unwrap(), parse_request(b).unwrap());
        assert_eq!(a.name, "getStock");
        assert_eq!(a.ns, MPLUS_NS);
        assert_eq!(b.ns, MPLUS_NS);
        let r = a.child("request").unwrap();
        assert_eq!(r.text_of("branchNumber"), Some("1"));
        assert_eq!(
            b.child("request").unwrap().text_of("branchNumber"),
            Some("1")
        );
    }

    #[test]
    fn rejects_broken_xml() {
        assert!(matches!(
            parse_request(b"<a><b></a>"),
            Err(ParseError::Syntax(_))
        ));
        assert!(matches!(
            parse_request(b"<x/>"),
            Err(ParseError::NotEnvelope(_))
        ));
        assert!(matches!(
            parse_request(b"<x:Envelope>"),
            Err(ParseError::Syntax(_))
        ));
    }

    #[test]
    fn escapes_text() {
        let mut w = Writer::new();
        w.open("a").text("b", "x < y & z").close();
        assert_eq!(w.finish(), "<ns:a><ns:b>x &lt; y &amp; z</ns:b></ns:a>");
    }
}
