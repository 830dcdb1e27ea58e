//! SOAP 1.1 rpc/encoded on the wire, with quick-xml: writing a call envelope
//! from a small value tree and reading an answer envelope into an element tree.
//!
//! Values are escaped by quick-xml's writer. A secret placeholder
//! (`{{secret:NAME}}`) is written inside a CDATA section: the host replaces the
//! placeholder with the raw secret, so a password holding `<` or `&` still
//! yields well-formed XML (only a secret containing `]]>` could not be carried).

use std::io::Cursor;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The SOAP 1.1 encoding namespace (`SOAP-ENC:Array`).
pub const SOAP_ENC: &str = "http://schemas.xmlsoap.org/soap/encoding/";
/// The XML Schema namespace (`xsd:string`, …).
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema";
/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace of Presswise's order service (`wsdl-order2.php`).
pub const SERVICE_NS: &str = "urn:presswise:order2";

/// One parameter value of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A leaf with its `xsi:type` (`xsd:string`, `xsd:int`, `xsd:decimal`, …).
    Leaf {
        /// The `xsi:type`, e.g. `xsd:string`.
        xsi_type: &'static str,
        /// The text, escaped when written.
        text: String,
    },
    /// A leaf whose text is a `{{secret:NAME}}` placeholder, written as CDATA.
    Secret(String),
    /// A struct: named members in order, with its `xsi:type` (e.g. `ns1:Auth`).
    Struct {
        /// The `xsi:type`, e.g. `ns1:PurchaseOrder`.
        xsi_type: &'static str,
        /// The members, in order.
        members: Vec<(&'static str, Value)>,
    },
    /// A `SOAP-ENC:Array` of structs of one type (`ns1:OrderItem`), each written as `<item>`.
    Array {
        /// The element type, e.g. `ns1:OrderItem`.
        item_type: &'static str,
        /// The elements.
        items: Vec<Value>,
    },
}

impl Value {
    /// An `xsd:string` leaf.
    pub fn string(text: impl Into<String>) -> Value {
        Value::Leaf {
            xsi_type: "xsd:string",
            text: text.into(),
        }
    }

    /// An `xsd:int` leaf.
    pub fn int(n: impl std::fmt::Display) -> Value {
        Value::Leaf {
            xsi_type: "xsd:int",
            text: n.to_string(),
        }
    }

    /// An `xsd:decimal` leaf (the text is a decimal such as `12.50`).
    pub fn decimal(text: impl Into<String>) -> Value {
        Value::Leaf {
            xsi_type: "xsd:decimal",
            text: text.into(),
        }
    }
}

fn write_value(w: &mut Writer<Cursor<Vec<u8>>>, name: &str, value: &Value) -> std::io::Result<()> {
    match value {
        Value::Leaf { xsi_type, text } => {
            w.create_element(name)
                .with_attribute(("xsi:type", *xsi_type))
                .write_text_content(BytesText::new(text))?;
        }
        Value::Secret(placeholder) => {
            w.create_element(name)
                .with_attribute(("xsi:type", "xsd:string"))
                .write_cdata_content(BytesCData::new(placeholder.as_str()))?;
        }
        Value::Struct { xsi_type, members } => {
            w.write_event(Event::Start(
                BytesStart::new(name).with_attributes([("xsi:type", *xsi_type)]),
            ))?;
            for (member, v) in members {
                write_value(w, member, v)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
        Value::Array { item_type, items } => {
            let array_type = format!("{item_type}[{}]", items.len());
            w.write_event(Event::Start(BytesStart::new(name).with_attributes([
                ("SOAP-ENC:arrayType", array_type.as_str()),
                ("xsi:type", "SOAP-ENC:Array"),
            ])))?;
            for item in items {
                write_value(w, "item", item)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
    }
    Ok(())
}

/// The request envelope of `operation` with its parameters, in order.
pub fn envelope(operation: &str, params: &[(&'static str, Value)]) -> Vec<u8> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    let call = format!("ns1:{operation}");
    // Writing into memory cannot fail.
    let result: std::io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("SOAP-ENV:Envelope").with_attributes([
                ("xmlns:SOAP-ENV", SOAP_ENV),
                ("xmlns:ns1", SERVICE_NS),
                ("xmlns:xsd", XSD),
                ("xmlns:xsi", XSI),
                ("xmlns:SOAP-ENC", SOAP_ENC),
                ("SOAP-ENV:encodingStyle", SOAP_ENC),
            ]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("SOAP-ENV:Body")))?;
        w.write_event(Event::Start(BytesStart::new(call.as_str())))?;
        for (name, value) in params {
            write_value(&mut w, name, value)?;
        }
        w.write_event(Event::End(BytesEnd::new(call.as_str())))?;
        w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Body")))?;
        w.write_event(Event::End(BytesEnd::new("SOAP-ENV:Envelope")))?;
        Ok(())
    })();
    result.expect("writing XML into memory cannot fail");
    w.into_inner().into_inner()
}

/// One element of an answer: local name, namespace, attributes by local name,
/// text (entities and CDATA decoded) and child elements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// The local name (prefix stripped).
    pub name: String,
    /// The namespace URI; empty when unbound.
    pub ns: String,
    /// Attributes by local name (`xsi:type` is `type`, `xsi:nil` is `nil`).
    pub attrs: Vec<(String, String)>,
    /// The text content.
    pub text: String,
    /// The child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `xsi:nil="true"`: an absent value.
    pub fn is_nil(&self) -> bool {
        matches!(self.attr("nil"), Some("true" | "1"))
    }

    /// The first child called `name` that is not nil.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .filter(|c| !c.is_nil())
    }

    /// The trimmed text of child `name`; `None` when absent, nil or blank.
    pub fn text_of(&self, name: &str) -> Option<String> {
        let t = self.child(name)?.text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// The elements of an array child (`<items><item/>…</items>`); empty when absent or nil.
    pub fn array(&self, name: &str) -> &[Element] {
        self.child(name)
            .map(|c| c.children.as_slice())
            .unwrap_or(&[])
    }
}

/// Why an answer is not a usable SOAP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// Not well-formed XML (e.g. cut off).
    Malformed(String),
    /// Well-formed, but not a SOAP 1.1 envelope with a body holding one element.
    NotSoap(String),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerError::Malformed(m) => write!(f, "malformed XML: {m}"),
            AnswerError::NotSoap(m) => write!(f, "not a SOAP 1.1 answer: {m}"),
        }
    }
}

/// A SOAP Fault: `faultcode` and `faultstring`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// E.g. `SOAP-ENV:Server`.
    pub code: String,
    /// E.g. `Internal Server Error`.
    pub message: String,
}

impl Fault {
    /// Whether the fault blames the request (`Client`, `VersionMismatch`,
    /// `MustUnderstand`) rather than the server.
    pub fn is_client(&self) -> bool {
        let local = self.code.rsplit(':').next().unwrap_or("");
        !local.eq_ignore_ascii_case("Server") && !local.is_empty()
    }
}

/// The first element of an answer's `Body`.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The operation's response element (`ns1:{op}Response`).
    Response(Element),
    /// A SOAP Fault.
    Fault(Fault),
}

/// Parses a whole XML document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, AnswerError> {
    let text = std::str::from_utf8(body).map_err(|e| AnswerError::Malformed(e.to_string()))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let bad = |e: &dyn std::fmt::Display| AnswerError::Malformed(e.to_string());
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| bad(&e))?;
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(AnswerError::Malformed(format!(
                    "unknown namespace prefix `{}`",
                    String::from_utf8_lossy(&p)
                )))
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut element = Element {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ns,
                    ..Element::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(&e))?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let value = a
                        .decode_and_unescape_value(reader.decoder())
                        .map_err(|e| bad(&e))?;
                    element.attrs.push((
                        String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| AnswerError::Malformed("unexpected end tag".into()))?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml_content().map_err(|e| bad(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(|e| bad(&e))?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| bad(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| bad(&e))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                AnswerError::Malformed(format!("unknown entity &{name};"))
                            })?
                            .to_string()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => {
                return Err(AnswerError::Malformed(
                    "a DTD is not allowed in SOAP".into(),
                ))
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(AnswerError::Malformed(
            "the document ends before its elements close".into(),
        ));
    }
    root.ok_or_else(|| AnswerError::Malformed("empty document".into()))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => {
            if root.is_none() {
                *root = Some(element);
            }
        }
    }
}

/// Reads an answer envelope: the response element or the Fault in its `Body`.
pub fn read_answer(body: &[u8]) -> Result<Answer, AnswerError> {
    let root = parse(body)?;
    if root.name != "Envelope" || root.ns != SOAP_ENV {
        return Err(AnswerError::NotSoap(format!(
            "the document element is `{}`, not a SOAP 1.1 Envelope",
            root.name
        )));
    }
    let body = root
        .children
        .into_iter()
        .find(|c| c.name == "Body" && c.ns == SOAP_ENV)
        .ok_or_else(|| AnswerError::NotSoap("the Envelope has no Body".into()))?;
    let first = body
        .children
        .into_iter()
        .next()
        .ok_or_else(|| AnswerError::NotSoap("the Body is empty".into()))?;
    if first.name == "Fault" && first.ns == SOAP_ENV {
        return Ok(Answer::Fault(Fault {
            code: first.text_of("faultcode").unwrap_or_default(),
            message: first
                .text_of("faultstring")
                .unwrap_or_else(|| "no faultstring".into()),
        }));
    }
    Ok(Answer::Response(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_escapes_values_and_keeps_placeholders_in_cdata() {
        let xml = envelope(
            "find_orders",
            &[
                (
                    "auth",
                    Value::Struct {
                        xsi_type: "ns1:Auth",
                        members: vec![
                            ("user", Value::string("ann & <bob>")),
                            ("pass", Value::Secret("{{secret:password}}".into())),
                        ],
                    },
                ),
                ("sourceOrderID", Value::string("A\"1'")),
            ],
        );
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(text.contains("<user xsi:type=\"xsd:string\">ann &amp; &lt;bob&gt;</user>"));
        assert!(text.contains("<![CDATA[{{secret:password}}]]>"));
        assert!(text.contains("SOAP-ENV:encodingStyle"));
        // It reads back: the writer and the reader agree.
        let root = parse(&xml).unwrap();
        let call = &root.children[0].children[0];
        assert_eq!(call.name, "find_orders");
        assert_eq!(call.ns, SERVICE_NS);
        let auth = call.child("auth").unwrap();
        assert_eq!(auth.text_of("user").unwrap(), "ann & <bob>");
        assert_eq!(auth.text_of("pass").unwrap(), "{{secret:password}}");
        assert_eq!(call.text_of("sourceOrderID").unwrap(), "A\"1'");
    }

    #[test]
    fn arrays_carry_their_soap_enc_type() {
        let xml = envelope(
            "add_purchase_order",
            &[(
                "items",
                Value::Array {
                    item_type: "ns1:OrderItem",
                    items: vec![Value::Struct {
                        xsi_type: "ns1:OrderItem",
                        members: vec![("quantity", Value::int(2))],
                    }],
                },
            )],
        );
        let text = String::from_utf8(xml).unwrap();
        assert!(text.contains(
            "<items SOAP-ENC:arrayType=\"ns1:OrderItem[1]\" xsi:type=\"SOAP-ENC:Array\"><item xsi:type=\"ns1:OrderItem\"><quantity xsi:type=\"xsd:int\">2</quantity></item></items>"
        ));
    }

    #[test]
    fn answers_faults_and_garbage() {
        let ok = br#"<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><S:Body><ns1:x xmlns:ns1="urn:presswise:order2"><result><a>A &amp; B</a><b xsi:nil="true"/><c><![CDATA[<c>]]></c></result></ns1:x></S:Body></S:Envelope>"#;
        let Answer::Response(r) = read_answer(ok).unwrap() else {
            panic!()
        };
        let result = r.child("result").unwrap();
        assert_eq!(result.text_of("a").unwrap(), "A & B");
        assert_eq!(result.text_of("b"), None);
        assert!(result.child("b").is_none());
        assert_eq!(result.text_of("c").unwrap(), "<c>");

        let fault = br#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>Internal Server Error</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        let Answer::Fault(f) = read_answer(fault).unwrap() else {
            panic!()
        };
        assert_eq!(f.code, "SOAP-ENV:Server");
        assert!(!f.is_client());
        assert!(Fault {
            code: "SOAP-ENV:Client".into(),
            message: String::new()
        }
        .is_client());

        let cut = &ok[..ok.len() / 2];
        assert!(matches!(read_answer(cut), Err(AnswerError::Malformed(_))));
        assert!(matches!(
            read_answer(b"<html><body>hi</body></html>"),
            Err(AnswerError::NotSoap(_))
        ));
        assert!(matches!(
            read_answer(b"not xml at all"),
            Err(AnswerError::Malformed(_)) | Err(AnswerError::NotSoap(_))
        ));
        assert!(read_answer(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>").is_err());
    }
}
