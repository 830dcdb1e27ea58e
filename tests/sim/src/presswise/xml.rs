//! SOAP 1.1 rpc/encoded on the wire: reading a request envelope into a small element tree
//! (quick-xml, namespace-aware, any prefix) and writing answers.

use std::collections::HashMap;

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace of the service's types and operations (our own choice).
pub const SERVICE_NS: &str = "urn:presswise:order2";

/// One element of a request: local name, namespace, attributes by local name, text, children.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// Local name (prefix stripped).
    pub name: String,
    /// Namespace URI, empty when unbound.
    pub ns: String,
    /// Attributes by local name (prefix stripped; `xsi:type` is `type`).
    pub attrs: Vec<(String, String)>,
    /// Concatenated text content (entities resolved).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Node>,
}

impl Node {
    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name (case-sensitive, as PHP property names are).
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        matches!(self.attr("nil"), Some("true") | Some("1"))
    }

    /// The trimmed text of a child, `None` when absent, nil or blank.
    pub fn text_of(&self, name: &str) -> Option<String> {
        let c = self.child(name)?;
        if c.is_nil() {
            return None;
        }
        let t = c.text.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

/// Why a request body is not a usable SOAP envelope.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not well-formed XML.
    #[error("Bad Request: {0}")]
    Xml(String),
    /// Well-formed, but not a SOAP 1.1 envelope with a body.
    #[error("{0}")]
    Shape(String),
    /// An envelope in another namespace than SOAP 1.1's (e.g. SOAP 1.2).
    #[error("Wrong Version")]
    Version,
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Node, EnvelopeError> {
    let text = std::str::from_utf8(body).map_err(|e| EnvelopeError::Xml(e.to_string()))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let bad = |e: &dyn std::fmt::Display| EnvelopeError::Xml(e.to_string());
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| bad(&e))?;
        let ns_text = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(EnvelopeError::Xml(format!(
                    "unknown namespace prefix `{}`",
                    String::from_utf8_lossy(&p)
                )))
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut node = Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ns: ns_text,
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(&e))?;
                    let key = a.key;
                    // Namespace declarations are not attributes of the data.
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (_, local) = reader.resolve_attribute(key);
                    let value = a
                        .decode_and_unescape_value(reader.decoder())
                        .map_err(|e| bad(&e))?;
                    node.attrs.push((
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, node);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| EnvelopeError::Xml("unexpected end tag".into()))?;
                attach(&mut stack, &mut root, node);
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
                            .ok_or_else(|| EnvelopeError::Xml(format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                // Entity definitions are an attack surface SOAP forbids.
                return Err(EnvelopeError::Xml("DTD is not allowed in SOAP".into()));
            }
        }
    }
    if !stack.is_empty() {
        return Err(EnvelopeError::Xml("premature end of data".into()));
    }
    root.ok_or_else(|| EnvelopeError::Xml("empty document".into()))
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => {
            if root.is_none() {
                *root = Some(node);
            }
        }
    }
}

/// The operation element of a SOAP 1.1 envelope, with SOAP-ENC multi-references
/// (`href="#id"` → the element with `id="id"`) resolved.
pub fn operation(root: Node) -> Result<Node, EnvelopeError> {
    if root.name != "Envelope" {
        return Err(EnvelopeError::Shape("Bad Request".into()));
    }
    // PHP answers any envelope namespace but 1.1's (1.2 included) with "Wrong Version".
    if root.ns != SOAP_ENV {
        return Err(EnvelopeError::Version);
    }
    let body = root
        .children
        .into_iter()
        .find(|c| c.name == "Body" && c.ns == SOAP_ENV)
        .ok_or_else(|| EnvelopeError::Shape("Body not found".into()))?;
    let mut elements = body.children.into_iter();
    let op = elements
        .next()
        .ok_or_else(|| EnvelopeError::Shape("Body is empty".into()))?;
    // Multi-ref serialisation (Axis, .NET): independent elements after the call element.
    let mut refs: HashMap<String, Node> = HashMap::new();
    for e in elements {
        if let Some(id) = e.attr("id") {
            refs.insert(id.to_owned(), e);
        }
    }
    let mut op = op;
    resolve_refs(&mut op, &refs, 0)?;
    Ok(op)
}

fn resolve_refs(
    node: &mut Node,
    refs: &HashMap<String, Node>,
    depth: usize,
) -> Result<(), EnvelopeError> {
    if depth > 32 {
        return Err(EnvelopeError::Shape("references nest too deeply".into()));
    }
    for child in &mut node.children {
        if child.children.is_empty() {
            if let Some(target) = child.attr("href").and_then(|h| h.strip_prefix('#')) {
                let target = refs.get(target).ok_or_else(|| {
                    EnvelopeError::Shape(format!("unresolved reference #{target}"))
                })?;
                let name = std::mem::take(&mut child.name);
                *child = target.clone();
                child.name = name;
            }
        }
        resolve_refs(child, refs, depth + 1)?;
    }
    Ok(())
}

/// Builds an rpc/encoded answer element by element.
#[derive(Default)]
pub struct Out {
    buf: String,
}

impl Out {
    /// Opens `<name xsi:type="type">`.
    pub fn open(&mut self, name: &str, xsi_type: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xsi:type=\"");
        self.buf.push_str(xsi_type);
        self.buf.push_str("\">");
        self
    }

    /// Opens a SOAP-ENC array of `len` elements of `item_type`.
    pub fn open_array(&mut self, name: &str, item_type: &str, len: usize) -> &mut Self {
        self.buf.push_str(&format!(
            "<{name} SOAP-ENC:arrayType=\"{item_type}[{len}]\" xsi:type=\"SOAP-ENC:Array\">"
        ));
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// `<name xsi:type="xsd:string">text</name>`.
    pub fn string(&mut self, name: &str, text: &str) -> &mut Self {
        self.typed(name, "xsd:string", text)
    }

    /// `<name xsi:type="xsd:int">n</name>`.
    pub fn int(&mut self, name: &str, n: impl std::fmt::Display) -> &mut Self {
        self.typed(name, "xsd:int", &n.to_string())
    }

    /// `<name xsi:type="xsd:boolean">true|false</name>`.
    pub fn boolean(&mut self, name: &str, b: bool) -> &mut Self {
        self.typed(name, "xsd:boolean", if b { "true" } else { "false" })
    }

    /// A typed leaf element with escaped text.
    pub fn typed(&mut self, name: &str, xsi_type: &str, text: &str) -> &mut Self {
        self.open(name, xsi_type);
        self.buf.push_str(&escape(text));
        self.close(name)
    }

    /// `<name xsi:nil="true"/>`: an absent struct.
    pub fn nil(&mut self, name: &str) -> &mut Self {
        self.buf.push_str(&format!("<{name} xsi:nil=\"true\"/>"));
        self
    }

    /// `<status><code/><text/></status>`.
    pub fn status(&mut self, code: u32, text: &str) -> &mut Self {
        self.open("status", "ns1:Status")
            .int("code", code)
            .string("text", text)
            .close("status")
    }

    /// Wraps the result in `<ns1:{op}Response><result …>…</result></ns1:{op}Response>` and the
    /// envelope, as PHP's SoapServer writes rpc/encoded answers.
    pub fn envelope(self, op: &str, result_type: &str) -> String {
        format!(
            "{}<SOAP-ENV:Body><ns1:{op}Response><result xsi:type=\"{result_type}\">{}</result></ns1:{op}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
            envelope_open(),
            self.buf
        )
    }
}

fn envelope_open() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\" xmlns:ns1=\"{SERVICE_NS}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"{XSI}\" xmlns:SOAP-ENC=\"http://schemas.xmlsoap.org/soap/encoding/\" SOAP-ENV:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
    )
}

/// A SOAP 1.1 Fault document (`faultcode` is `SOAP-ENV:Client`, `SOAP-ENV:Server`, …).
pub fn fault(code: &str, text: &str) -> String {
    format!(
        "{}<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
        envelope_open(),
        escape(code),
        escape(text)
    )
}
