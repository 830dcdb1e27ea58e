//! The MplusKASSA simulator over real HTTP on 127.0.0.1, and its conformance with the vendored
//! WSDL (`reference/mpluskassa/mplusqapi.wsdl`).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::OnceLock;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use switchyard_sim::mplus::{spawn_mplus, MplusConfig, MplusSim, OPERATIONS};
use switchyard_sim::{FaultConfig, RunningSim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WSDL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/reference/mpluskassa/mplusqapi.wsdl"
);
const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const XSD: &str = "http://www.w3.org/2001/XMLSchema";
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

// ---- a small, independent XML tree (namespaces resolved) ----

#[derive(Debug, Clone, Default)]
struct El {
    ns: String,
    name: String,
    attrs: HashMap<String, String>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
    fn num(&self, name: &str) -> i64 {
        self.text_of(name)
            .unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
            .parse()
            .unwrap_or_else(|_| panic!("<{name}> is not a number"))
    }
    /// Depth-first search for the first descendant with this name.
    fn find(&self, name: &str) -> Option<&El> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(x) = c.find(name) {
                return Some(x);
            }
        }
        None
    }
}

fn parse_xml(xml: &[u8]) -> Result<El, String> {
    let mut r = NsReader::from_reader(xml);
    let mut stack: Vec<El> = Vec::new();
    let mut buf = Vec::new();
    let open = |resolved: ResolveResult, e: &quick_xml::events::BytesStart| -> Result<El, String> {
        let ns = match resolved {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(format!("unknown prefix {}", String::from_utf8_lossy(&p)))
            }
        };
        let mut attrs = HashMap::new();
        for a in e.attributes() {
            let a = a.map_err(|e| e.to_string())?;
            attrs.insert(
                String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                a.unescape_value().map_err(|e| e.to_string())?.into_owned(),
            );
        }
        Ok(El {
            ns,
            name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
            attrs,
            ..El::default()
        })
    };
    loop {
        let (res, ev) = r
            .read_resolved_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match ev {
            Event::Start(e) => stack.push(open(res, &e)?),
            Event::Empty(e) => {
                let el = open(res, &e)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced")?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.decode().map_err(|e| e.to_string())?;
                    let s = quick_xml::escape::unescape(&s).map_err(|e| e.to_string())?;
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(g) => {
                if let Some(top) = stack.last_mut() {
                    let name = g.decode().map_err(|e| e.to_string())?;
                    let s = quick_xml::escape::unescape(&format!("&{name};"))
                        .map_err(|e| e.to_string())?
                        .into_owned();
                    top.text.push_str(&s);
                }
            }
            Event::Eof => return Err("no complete root element".into()),
            _ => {}
        }
        buf.clear();
    }
}

// ---- HTTP ----

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    complete: bool,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The element inside `Envelope/Body`.
    fn body_el(&self) -> El {
        let root =
            parse_xml(&self.body).unwrap_or_else(|e| panic!("invalid XML ({e}): {}", self.text()));
        assert_eq!(root.name, "Envelope");
        assert_eq!(root.ns, SOAP_ENV);
        let body = root.child("Body").expect("Body");
        body.children.first().expect("Body content").clone()
    }
    /// `(faultcode, faultstring)` of a Fault answer.
    fn fault(&self) -> (String, String) {
        assert_eq!(self.status, 500, "a SOAP Fault travels with HTTP 500");
        let f = self.body_el();
        assert_eq!(f.name, "Fault", "{}", self.text());
        (
            f.text_of("faultcode").unwrap_or("").to_owned(),
            f.text_of("faultstring").unwrap_or("").to_owned(),
        )
    }
}

async fn post(addr: SocketAddr, path_query: &str, body: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer {
            status: 0,
            headers: Vec::new(),
            body: raw,
            complete: false,
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let announced = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let complete = announced.is_none_or(|n| n == body.len());
    Answer {
        status,
        headers,
        body,
        complete,
    }
}

/// A SOAP request with the `m:` prefix for `urn:mplusqapi`.
fn envelope(op: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:mplusqapi"><soapenv:Body><m:{op}>{inner}</m:{op}></soapenv:Body></soapenv:Envelope>"#
    )
}

/// Turns `<a><b>1</b></a>` into `<m:a><m:b>1</m:b></m:a>` so test requests stay readable.
fn m(xml: &str) -> String {
    xml.replace("</", "\u{1}")
        .replace('<', "<m:")
        .replace('\u{1}', "</m:")
}

async fn call(sim: &RunningSim<MplusSim>, op: &str, inner: &str) -> Answer {
    let q = format!("/?{}", sim.credentials_query());
    post(sim.addr(), &q, &envelope(op, &m(inner))).await
}

/// Calls and expects a successful answer whose element is `expected`.
async fn ok(sim: &RunningSim<MplusSim>, op: &str, inner: &str) -> El {
    let a = call(sim, op, inner).await;
    assert_eq!(a.status, 200, "{op}: {}", a.text());
    a.body_el()
}

async fn start(orders: usize) -> RunningSim<MplusSim> {
    spawn_mplus(MplusConfig {
        orders,
        relations: Some(60),
        products: Some(40),
        ..MplusConfig::default()
    })
    .await
    .expect("spawn")
}

// ---- auth, envelopes, faults ----

#[tokio::test]
async fn wrong_or_missing_credentials_are_a_client_fault() {
    let sim = start(20).await;
    let body = envelope("getCurrentSyncMarkers", "");
    for q in [
        "/",
        "/?ident=switchyard&secret=wrong",
        "/?ident=other&secret=mplus-secret",
    ] {
        let a = post(sim.addr(), q, &body).await;
        let (code, string) = a.fault();
        assert!(code.ends_with(":Client"), "{code}");
        assert_eq!(string, "Authentication failed");
    }
    let good = post(sim.addr(), &format!("/?{}", sim.credentials_query()), &body).await;
    assert_eq!(good.status, 200);
    assert_eq!(good.body_el().name, "getCurrentSyncMarkersResponse");
}

#[tokio::test]
async fn malformed_unknown_and_incomplete_requests_are_faults() {
    let sim = start(20).await;
    let q = format!("/?{}", sim.credentials_query());
    // Not XML at all, and XML cut off.
    for body in ["this is not xml", "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><m:getStock xmlns:m=\"urn:mplusqapi\">"] {
        let (code, string) = post(sim.addr(), &q, body).await.fault();
        assert!(code.ends_with(":Client"));
        assert!(!string.is_empty());
    }
    // Not an envelope.
    let (_, s) = post(sim.addr(), &q, "<getStock/>").await.fault();
    assert!(s.contains("tag name or namespace mismatch"), "{s}");
    // Unknown operation, and a known one in another namespace.
    let (_, s) = call(&sim, "getUnicorns", "").await.fault();
    assert_eq!(
        s,
        "Method 'getUnicorns' not implemented: method name or namespace not recognized"
    );
    let other_ns = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><getProducts xmlns="urn:other"><request/></getProducts></s:Body></s:Envelope>"#;
    let (_, s) = post(sim.addr(), &q, other_ns).await.fault();
    assert!(s.contains("not implemented"), "{s}");
    // Missing required elements.
    let a = call(&sim, "getProducts", "").await;
    let (_, s) = a.fault();
    assert!(s.contains("missing required element"), "{s}");
    assert!(a.text().contains("&lt;request&gt;"), "{}", a.text());
    let (_, s) = call(&sim, "getStock", "<request><articleNumbers/></request>")
        .await
        .fault();
    assert!(s.contains("missing required element"), "{s}");
    let (_, s) = call(
        &sim,
        "createOrderV3",
        "<request><order><employeeNumber>999999</employeeNumber></order></request>",
    )
    .await
    .fault();
    assert!(s.contains("missing required element"), "{s}");
    // A number that is not one.
    let (_, s) = call(
        &sim,
        "getStock",
        "<request><branchNumber>one</branchNumber><articleNumbers/></request>",
    )
    .await
    .fault();
    assert!(s.contains("data type mismatch"), "{s}");
    // GET is not SOAP.
    let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
}

#[tokio::test]
async fn any_namespace_prefix_is_accepted() {
    let sim = start(20).await;
    let q = format!("/?{}", sim.credentials_query());
    let prefixed = envelope(
        "getRelations",
        &m("<request><relationNumbers>1003</relationNumbers></request>"),
    );
    let default_ns = r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><getRelations xmlns="urn:mplusqapi"><request><relationNumbers>1003</relationNumbers></request></getRelations></Body></Envelope>"#;
    let other = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:q="urn:mplusqapi"><S:Header/><S:Body><q:getRelations><q:request><q:relationNumbers> 1003 </q:relationNumbers></q:request></q:getRelations></S:Body></S:Envelope>"#;
    let a = post(sim.addr(), &q, &prefixed).await;
    let b = post(sim.addr(), &q, default_ns).await;
    let c = post(sim.addr(), &q, other).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.body, b.body);
    assert_eq!(a.body, c.body);
    let rel = a.body_el();
    let list = rel.child("relationList").unwrap();
    assert_eq!(list.all("relation").count(), 1);
    assert_eq!(list.child("relation").unwrap().num("relationNumber"), 1003);
}

#[tokio::test]
async fn injected_faults_take_soap_and_gateway_shapes() {
    let sim = start(20).await;
    let body = "";
    sim.set_faults(FaultConfig {
        fail_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let (code, _) = call(&sim, "getCurrentSyncMarkers", body).await.fault();
    assert!(code.ends_with(":Server"));
    sim.set_faults(FaultConfig {
        throttle_next: 1,
        retry_after_secs: 7,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(&sim, "getCurrentSyncMarkers", body).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("7"));
    assert_eq!(a.body_el().name, "Fault");
    // With every request failing, both shapes show up: SOAP 500 and a bare gateway 503.
    sim.set_faults(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let mut seen = HashSet::new();
    for _ in 0..30 {
        let a = call(&sim, "getCurrentSyncMarkers", body).await;
        if a.status == 503 {
            assert!(a.text().contains("<html>"));
        } else {
            assert_eq!(a.fault().0, "SOAP-ENV:Server");
        }
        seen.insert(a.status);
    }
    assert_eq!(seen, HashSet::from([500, 503]));
    // Malformed: a complete HTTP answer whose XML is cut.
    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(&sim, "getCurrentSyncMarkers", body).await;
    assert_eq!(a.status, 200);
    assert!(a.complete);
    assert!(parse_xml(&a.body).is_err());
    // Truncated: the connection breaks before the announced length.
    sim.set_faults(FaultConfig {
        truncated_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(
        &sim,
        "getProducts",
        "<request><productNumbers>1</productNumbers></request>",
    )
    .await;
    assert!(!a.complete);
    // Timeout: no answer.
    sim.set_faults(FaultConfig {
        timeout_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let waited = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        call(&sim, "getCurrentSyncMarkers", body),
    )
    .await;
    assert!(waited.is_err(), "the request should hang");
    // Scoped faults hit only that operation.
    sim.set_faults(FaultConfig {
        error_rate: 1.0,
        scope: Some("getStock".into()),
        ..FaultConfig::default()
    })
    .unwrap();
    assert_eq!(call(&sim, "getCurrentSyncMarkers", body).await.status, 200);
    let stats = sim.fault_stats();
    assert!(stats.server_errors >= 31 && stats.throttled == 1 && stats.timeouts == 1);
    assert!(stats.malformed == 1 && stats.truncated == 1);
    assert!(sim.request_count("getCurrentSyncMarkers") >= 35);
}

// ---- feeds ----

/// Reads a feed from marker 0 with `limit`, returning the markers in order.
async fn drain(
    sim: &RunningSim<MplusSim>,
    op: &str,
    extra: &str,
    limit: usize,
    list: &str,
    item: &str,
) -> Vec<i64> {
    let mut marker = 0i64;
    let mut out = Vec::new();
    loop {
        let r = ok(
            sim,
            op,
            &format!(
                "<request>{extra}<syncMarker>{marker}</syncMarker><syncMarkerLimit>{limit}</syncMarkerLimit></request>"
            ),
        )
        .await;
        let list = r.child(list).unwrap_or_else(|| panic!("{op}: no {list}"));
        let markers: Vec<i64> = list.all(item).map(|x| x.num("syncMarker")).collect();
        assert!(markers.len() <= limit);
        if markers.is_empty() {
            return out;
        }
        marker = *markers.last().unwrap();
        out.extend(markers);
    }
}

#[tokio::test]
async fn sync_marker_feeds_page_without_gaps_or_repeats() {
    let sim = start(120).await;
    let counts = sim.counts();
    for (op, list, item, total) in [
        ("getRelations", "relationList", "relation", counts.relations),
        ("getProducts", "productList", "product", counts.products),
        ("getOrders", "orderList", "order", counts.orders),
    ] {
        let markers = drain(&sim, op, "", 7, list, item).await;
        assert_eq!(markers.len(), total, "{op}");
        assert!(markers.windows(2).all(|w| w[0] < w[1]), "{op}: increasing");
    }
    let changes = drain(
        &sim,
        "getOrderChanges",
        "",
        13,
        "orderChangeList",
        "orderChange",
    )
    .await;
    assert!(
        changes.len() > counts.orders,
        "later changes of some orders"
    );
    let m = ok(&sim, "getCurrentSyncMarkers", "").await;
    assert_eq!(m.num("orderSyncMarker"), *changes.last().unwrap());
    // A change moves the record to the end of its feed with a new, higher marker.
    let before = m.num("relationSyncMarker");
    let r = ok(
        &sim,
        "updateRelation",
        "<relation><relationNumber>1005</relationNumber><telephone>020-1234567</telephone></relation>",
    )
    .await;
    assert_eq!(r.text_of("result"), Some("UPDATE-RELATION-RESULT-OK"));
    assert_eq!(r.num("syncMarker"), before + 1);
    let after = ok(
        &sim,
        "getRelations",
        &format!("<request><syncMarker>{before}</syncMarker><syncMarkerLimit>10</syncMarkerLimit></request>"),
    )
    .await;
    let rels: Vec<&El> = after
        .child("relationList")
        .unwrap()
        .all("relation")
        .collect();
    assert_eq!(rels.len(), 1);
    assert_eq!(rels[0].num("relationNumber"), 1005);
    assert_eq!(rels[0].text_of("telephone"), Some("020-1234567"));
    // A huge limit is cut to 1000.
    let big = start(1500).await;
    let r = ok(
        &big,
        "getOrders",
        "<request><syncMarker>0</syncMarker><syncMarkerLimit>5000</syncMarkerLimit></request>",
    )
    .await;
    assert_eq!(r.child("orderList").unwrap().all("order").count(), 1000);
}

// ---- push then read ----

#[tokio::test]
async fn relations_created_and_updated_are_read_back() {
    let sim = start(20).await;
    let r = ok(
        &sim,
        "createRelation",
        "<relation><name>Drukkerij Test B.V.</name><companyName>Drukkerij Test B.V.</companyName><contact>Eva Bos</contact><email>eva@drukkerijtest.nl</email><address>Kerkstraat 1</address><zipcode>1234 AB</zipcode><city>Zwolle</city><country>NL</country></relation>",
    )
    .await;
    assert_eq!(r.text_of("result"), Some("CREATE-RELATION-RESULT-OK"));
    let number = r.num("relationNumber");
    assert_eq!(number, 1061, "numbers continue after the seeded ones");
    let got = ok(
        &sim,
        "getRelations",
        &format!("<request><relationNumbers>{number}</relationNumbers></request>"),
    )
    .await;
    let rel = got.find("relation").expect("created relation");
    assert_eq!(rel.text_of("email"), Some("eva@drukkerijtest.nl"));
    assert_eq!(rel.text_of("companyName"), Some("Drukkerij Test B.V."));
    assert_eq!(sim.relations_by_email(" EVA@drukkerijtest.nl").len(), 1);
    // A taken number, a missing name, an unknown relation.
    let r = ok(
        &sim,
        "createRelation",
        &format!("<relation><relationNumber>{number}</relationNumber><name>X</name></relation>"),
    )
    .await;
    assert_eq!(
        r.text_of("result"),
        Some("CREATE-RELATION-RESULT-FAILED-RELATION-NUMBER-ALREADY-TAKEN")
    );
    let r = ok(
        &sim,
        "createRelation",
        "<relation><email>a@b.c</email></relation>",
    )
    .await;
    assert_eq!(r.text_of("result"), Some("CREATE-RELATION-RESULT-FAILED"));
    let r = ok(
        &sim,
        "updateRelation",
        "<relation><relationNumber>999999</relationNumber><name>X</name></relation>",
    )
    .await;
    assert_eq!(
        r.text_of("result"),
        Some("UPDATE-RELATION-RESULT-NOT-FOUND")
    );
    let r = ok(
        &sim,
        "updateRelation",
        &format!("<relation><relationNumber>{number}</relationNumber><email>eva.bos@drukkerijtest.nl</email></relation>"),
    )
    .await;
    assert_eq!(r.text_of("result"), Some("UPDATE-RELATION-RESULT-OK"));
    assert_eq!(
        sim.relation(number).unwrap().email.as_deref(),
        Some("eva.bos@drukkerijtest.nl")
    );
    assert_eq!(sim.counts().relations_created, 1);
}

fn order_xml(key: &str, ext: &str, article: i64, qty: i64) -> String {
    format!(
        "<request><idempotencyKey>{key}</idempotencyKey><order><orderId></orderId><extOrderId>{ext}</extOrderId><employeeNumber>999999</employeeNumber><entryBranchNumber>1</entryBranchNumber><relationNumber>1002</relationNumber><reference>Webshop {ext}</reference><lineList><line><articleNumber>{article}</articleNumber><data><quantity>{qty}</quantity><decimalPlaces>0</decimalPlaces></data></line></lineList></order></request>"
    )
}

#[tokio::test]
async fn create_order_is_idempotent_and_refuses_known_external_ids() {
    let sim = start(30).await;
    let article = sim.stock_article_numbers()[0];
    let stock_before = sim.stock(1, article).unwrap();
    let before = sim.counts().orders;
    let a = ok(
        &sim,
        "createOrderV3",
        &order_xml("key-1", "SHOP-9001", article, 2),
    )
    .await;
    assert_eq!(a.text_of("result"), Some("CREATE-ORDER-RESULT-OK"));
    assert_eq!(
        a.text_of("idempotencyResult"),
        Some("IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE")
    );
    let id = a
        .child("info")
        .unwrap()
        .text_of("orderId")
        .unwrap()
        .to_owned();
    assert_eq!(
        a.child("order").unwrap().text_of("orderId"),
        Some(id.as_str())
    );
    assert_eq!(sim.counts().orders, before + 1);
    // The same key again: the first answer, flagged as a replay, nothing created.
    let b = ok(
        &sim,
        "createOrderV3",
        &order_xml("key-1", "SHOP-9001", article, 2),
    )
    .await;
    assert_eq!(
        b.text_of("idempotencyResult"),
        Some("IDEMPOTENCY-RESULT-REPLAY-RESPONSE")
    );
    assert_eq!(b.text_of("result"), Some("CREATE-ORDER-RESULT-OK"));
    assert_eq!(
        b.child("info").unwrap().text_of("orderId"),
        Some(id.as_str())
    );
    assert_eq!(sim.counts().orders, before + 1);
    // A new key with the same external id: refused, carrying the existing order id.
    let c = ok(
        &sim,
        "createOrderV3",
        &order_xml("key-2", "SHOP-9001", article, 2),
    )
    .await;
    assert_eq!(
        c.text_of("result"),
        Some("CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS")
    );
    assert_eq!(
        c.child("info").unwrap().text_of("orderId"),
        Some(id.as_str())
    );
    assert_eq!(sim.counts().orders, before + 1);
    // Seeded webshop orders count too.
    let seeded_ext = (0..30)
        .map(|i| format!("WEB-{}", 100_000 + i))
        .find(|e| sim.order_by_ext_id(e).is_some())
        .expect("a seeded webshop order");
    let d = ok(
        &sim,
        "createOrderV3",
        &order_xml("key-3", &seeded_ext, article, 1),
    )
    .await;
    assert_eq!(
        d.text_of("result"),
        Some("CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS")
    );
    // Unknown article, missing employee.
    let e = ok(
        &sim,
        "createOrderV3",
        &order_xml("key-4", "SHOP-9002", 1, 1),
    )
    .await;
    assert_eq!(e.text_of("result"), Some("CREATE-ORDER-RESULT-FAILED"));
    assert!(e.text_of("errorMessage").unwrap().contains("Article 1"));
    let no_employee = order_xml("key-5", "SHOP-9003", article, 1)
        .replace("<employeeNumber>999999</employeeNumber>", "");
    let f = ok(&sim, "createOrderV3", &no_employee).await;
    assert_eq!(f.text_of("result"), Some("CREATE-ORDER-RESULT-FAILED"));
    // Read back with its lines; money in cents, quantity with decimals.
    let got = ok(
        &sim,
        "getOrders",
        &format!("<request><orderIds>{id}</orderIds><includeLineList>true</includeLineList><articlePluNumbers/><articleBarcodes/></request>"),
    )
    .await;
    let o = got.find("order").expect("order");
    assert_eq!(o.text_of("extOrderId"), Some("SHOP-9001"));
    assert_eq!(o.num("relationNumber"), 1002);
    let line = o.find("line").expect("line");
    assert_eq!(line.num("articleNumber"), article);
    let data = line.child("data").unwrap();
    assert_eq!((data.num("quantity"), data.num("decimalPlaces")), (2, 0));
    assert_eq!(o.num("totalInclAmount"), data.num("price") * 2);
    assert_eq!(sim.order_by_ext_id("SHOP-9001").unwrap().order_id, id);
    // The open order reserves its stock, and the change feed shows the new order.
    let stock_after = sim.stock(1, article).unwrap();
    assert_eq!(stock_after.reserved, stock_before.reserved + 2.0);
    let marker = sim.order(&id).unwrap().sync_marker;
    let ch = ok(
        &sim,
        "getOrderChanges",
        &format!("<request><syncMarker>{}</syncMarker></request>", marker - 1),
    )
    .await;
    let c = ch.find("orderChange").unwrap();
    assert_eq!(c.text_of("orderId"), Some(id.as_str()));
    assert!(c.child("totalInclAmountOld").is_none());
    assert!(c.child("totalInclAmountNew").is_some());
}

#[tokio::test]
async fn update_order_changes_are_visible_in_the_change_feed() {
    let sim = start(30).await;
    let id = sim.order_ids()[4].clone();
    let version = sim.order(&id).unwrap();
    let from = ok(&sim, "getCurrentSyncMarkers", "")
        .await
        .num("orderSyncMarker");
    let r = ok(
        &sim,
        "updateOrder",
        &format!("<order><orderId>{id}</orderId><relationNumber>1007</relationNumber><reference>changed</reference></order>"),
    )
    .await;
    assert_eq!(r.text_of("result"), Some("UPDATE-ORDER-RESULT-OK"));
    let again = ok(
        &sim,
        "updateOrder",
        &format!("<order><orderId>{id}</orderId><reference>changed</reference></order>"),
    )
    .await;
    assert_eq!(
        again.text_of("result"),
        Some("UPDATE-ORDER-RESULT-NO-CHANGES")
    );
    let stale = ok(
        &sim,
        "updateOrder",
        &format!("<order><orderId>{id}</orderId><versionNumber>0</versionNumber><reference>x</reference></order>"),
    )
    .await;
    assert_eq!(
        stale.text_of("result"),
        Some("UPDATE-ORDER-RESULT-ORDER-HAS-CHANGED")
    );
    let missing = ok(
        &sim,
        "updateOrder",
        "<order><orderId>nope</orderId></order>",
    )
    .await;
    assert_eq!(
        missing.text_of("result"),
        Some("UPDATE-ORDER-RESULT-NOT-FOUND")
    );
    let ch = ok(
        &sim,
        "getOrderChanges",
        &format!("<request><syncMarker>{from}</syncMarker></request>"),
    )
    .await;
    let changes: Vec<&El> = ch
        .child("orderChangeList")
        .unwrap()
        .all("orderChange")
        .collect();
    assert_eq!(changes.len(), 1);
    let c = changes[0];
    assert_eq!(c.num("relationNumberOld"), version.relation_number);
    assert_eq!(c.num("relationNumberNew"), 1007);
    assert_eq!(
        c.num("changeCounter"),
        i64::from(version.change_counter) + 1
    );
    // A cashier's change (control API) also lands in the feed.
    let m = sim
        .touch_order(&id, switchyard_sim::mplus::OrderTouch::Deliver)
        .unwrap();
    let got = ok(
        &sim,
        "getOrders",
        &format!(
            "<request><syncMarker>{}</syncMarker><articlePluNumbers/><articleBarcodes/></request>",
            m - 1
        ),
    )
    .await;
    let o = got.find("order").unwrap();
    assert_eq!(
        o.text_of("deliveryState"),
        Some("ORDER-DELIVERY-STATE-COMPLETE")
    );
}

#[tokio::test]
async fn stock_is_set_changed_and_read_per_branch() {
    let sim = start(20).await;
    let article = sim.stock_article_numbers()[1];
    let r = ok(
        &sim,
        "setStock",
        &format!("<request><branchNumber>2</branchNumber><articleNumber>{article}</articleNumber><amount>10</amount></request>"),
    )
    .await;
    assert_eq!(r.text_of("result"), Some("SET-STOCK-RESULT-OK"));
    let r = ok(
        &sim,
        "updateStock",
        &format!("<request><branchNumber>2</branchNumber><articleNumber>{article}</articleNumber><amountChanged>-25</amountChanged><decimalPlaces>1</decimalPlaces></request>"),
    )
    .await;
    assert_eq!(r.text_of("result"), Some("UPDATE-STOCK-RESULT-OK"));
    let stock_id = r.num("stockId");
    let s = ok(
        &sim,
        "getStock",
        &format!("<request><branchNumber>2</branchNumber><articleNumbers><articleNumbers>{article}</articleNumbers></articleNumbers></request>"),
    )
    .await;
    let st = s.child("articleStocks").unwrap();
    assert_eq!((st.num("amountFree"), st.num("decimalPlacesFree")), (75, 1));
    assert_eq!(st.num("stockId"), stock_id);
    assert_eq!(sim.stock(2, article).unwrap().free, 7.5);
    // Other branch untouched; stockId feed lists only the changed record.
    let since = ok(
        &sim,
        "getStock",
        &format!("<request><branchNumber>2</branchNumber><articleNumbers/><stockId>{}</stockId></request>", stock_id - 1),
    )
    .await;
    assert_eq!(since.all("articleStocks").count(), 1);
    let m = ok(&sim, "getCurrentSyncMarkers", "").await;
    assert_eq!(m.num("stockId"), stock_id);
    // Errors as result values.
    let non_stock = sim
        .article_numbers()
        .into_iter()
        .find(|a| !sim.stock_article_numbers().contains(a));
    if let Some(a) = non_stock {
        let r = ok(
            &sim,
            "updateStock",
            &format!("<request><branchNumber>1</branchNumber><articleNumber>{a}</articleNumber><amountChanged>1</amountChanged></request>"),
        )
        .await;
        assert_eq!(
            r.text_of("result"),
            Some("UPDATE-STOCK-RESULT-NO-STOCK-ARTICLE")
        );
    }
    for (branch, art, expected) in [
        (9, article, "SET-STOCK-RESULT-BRANCH-NOT-FOUND"),
        (1, 42, "SET-STOCK-RESULT-ARTICLE-NOT-FOUND"),
    ] {
        let r = ok(
            &sim,
            "setStock",
            &format!("<request><branchNumber>{branch}</branchNumber><articleNumber>{art}</articleNumber><amount>1</amount></request>"),
        )
        .await;
        assert_eq!(r.text_of("result"), Some(expected));
    }
}

#[tokio::test]
async fn seeded_data_is_varied_and_deterministic() {
    let a = start(200).await;
    let b = start(200).await;
    let c = spawn_mplus(MplusConfig {
        seed: 7,
        orders: 200,
        relations: Some(60),
        products: Some(40),
        ..MplusConfig::default()
    })
    .await
    .unwrap();
    for (op, inner) in [
        ("getProducts", "<request><pluNumbers/></request>"),
        ("getRelations", "<request/>"),
        ("getOrders", "<request><includeLineList>true</includeLineList><articlePluNumbers/><articleBarcodes/></request>"),
        ("getArticleGroups", "<request/>"),
    ] {
        let x = call(&a, op, inner).await;
        let y = call(&b, op, inner).await;
        assert_eq!(x.status, 200);
        assert_eq!(x.body, y.body, "{op}: same seed, same data");
        if op != "getArticleGroups" {
            assert_ne!(x.body, call(&c, op, inner).await.body, "{op}: other seed");
        }
    }
    let rels = ok(&a, "getRelations", "<request/>").await;
    let rels: Vec<&El> = rels
        .child("relationList")
        .unwrap()
        .all("relation")
        .collect();
    assert!(rels.iter().any(|r| r.child("companyName").is_some()));
    assert!(rels.iter().any(|r| r.child("companyName").is_none()));
    // Near-duplicates: the same address differing only in e-mail case or whitespace.
    let emails: Vec<String> = rels
        .iter()
        .filter_map(|r| r.text_of("email").map(str::to_owned))
        .collect();
    let raw: Vec<String> = rels
        .iter()
        .filter_map(|r| r.child("email").map(|e| e.text.clone()))
        .collect();
    let normal: HashSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    assert!(normal.len() < raw.len(), "some e-mails repeat in variants");
    let products = ok(&a, "getProducts", "<request><pluNumbers/></request>").await;
    let articles: Vec<&El> = products
        .child("productList")
        .unwrap()
        .all("product")
        .flat_map(|p| p.child("articleList").unwrap().all("article"))
        .collect();
    assert!(articles.iter().any(|x| x.child("size").is_some()));
    for x in &articles {
        let code = x.text_of("barcode").unwrap();
        assert_eq!(code.len(), 13);
        assert!(x.num("priceIncl") >= x.num("priceExcl"));
    }
    let orders = ok(
        &a,
        "getOrders",
        "<request><articlePluNumbers/><articleBarcodes/></request>",
    )
    .await;
    let states: HashSet<String> = orders
        .child("orderList")
        .unwrap()
        .all("order")
        .flat_map(|o| {
            ["deliveryState", "cancelState", "fullyPaid"]
                .map(|f| format!("{f}={}", o.text_of(f).unwrap_or("")))
        })
        .collect();
    for s in [
        "deliveryState=ORDER-DELIVERY-STATE-NOTHING",
        "deliveryState=ORDER-DELIVERY-STATE-PARTIAL",
        "deliveryState=ORDER-DELIVERY-STATE-COMPLETE",
        "cancelState=ORDER-CANCEL-STATE-COMPLETE",
        "fullyPaid=true",
        "fullyPaid=false",
    ] {
        assert!(states.contains(s), "{s} missing");
    }
}

#[tokio::test]
async fn control_api_reports_and_resets() {
    let sim = start(20).await;
    ok(&sim, "getCurrentSyncMarkers", "").await;
    let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let body = r#"{"seed":9}"#;
    stream
        .write_all(
            format!(
                "POST /_control/mplus/reset HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains(r#""seed":9"#), "{raw}");
    assert_eq!(sim.seed(), 9);
    assert_eq!(sim.request_count("getCurrentSyncMarkers"), 0);
}

// ---- conformance with the WSDL ----

/// What the WSDL says: operations → (input element, output element); element and type
/// definitions.
struct Wsdl {
    operations: HashMap<String, (String, String)>,
    /// Global element name → its complex content (inline type or named type).
    elements: HashMap<String, Content>,
    /// Named complex types.
    types: HashMap<String, Content>,
    /// Named simple types with enumerations.
    enums: HashMap<String, HashSet<String>>,
}

/// The child elements a complex type allows, in sequence order.
#[derive(Clone, Default)]
struct Content {
    children: Vec<Child>,
}

#[derive(Clone)]
struct Child {
    name: String,
    /// Local type name (`None` for an inline anonymous type).
    ty: Option<String>,
    inline: Option<Box<Content>>,
    min: u32,
    many: bool,
}

fn local(q: &str) -> String {
    q.rsplit(':').next().unwrap_or(q).to_owned()
}

impl Wsdl {
    fn load() -> &'static Wsdl {
        static W: OnceLock<Wsdl> = OnceLock::new();
        W.get_or_init(|| {
            let text = std::fs::read(WSDL).expect("read WSDL");
            // Skip a UTF-8 byte order mark.
            let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
            let root = parse_xml(text).expect("WSDL parses");
            assert_eq!(root.ns, WSDL_NS);
            let schema = root
                .child("types")
                .and_then(|t| t.child("schema"))
                .expect("schema");
            assert_eq!(
                schema.attrs.get("targetNamespace").map(String::as_str),
                Some("urn:mplusqapi")
            );
            let mut w = Wsdl {
                operations: HashMap::new(),
                elements: HashMap::new(),
                types: HashMap::new(),
                enums: HashMap::new(),
            };
            let mut raw_types: HashMap<String, &El> = HashMap::new();
            for c in &schema.children {
                if c.ns != XSD {
                    continue;
                }
                match c.name.as_str() {
                    "complexType" => {
                        raw_types.insert(c.attrs["name"].clone(), c);
                    }
                    "simpleType" => {
                        let values: HashSet<String> = c
                            .find("restriction")
                            .map(|r| {
                                r.all("enumeration")
                                    .map(|e| e.attrs["value"].clone())
                                    .collect()
                            })
                            .unwrap_or_default();
                        if !values.is_empty() {
                            w.enums.insert(c.attrs["name"].clone(), values);
                        }
                    }
                    _ => {}
                }
            }
            fn content(ct: &El, raw: &HashMap<String, &El>) -> Content {
                let mut out = Content::default();
                fn walk(n: &El, raw: &HashMap<String, &El>, out: &mut Content) {
                    for c in &n.children {
                        match c.name.as_str() {
                            "element" => out.children.push(Child {
                                name: c.attrs["name"].clone(),
                                ty: c.attrs.get("type").map(|t| local(t)),
                                inline: c.child("complexType").map(|ct| Box::new(content(ct, raw))),
                                min: c.attrs.get("minOccurs").map_or(1, |m| m.parse().unwrap()),
                                many: c.attrs.get("maxOccurs").is_some_and(|m| m != "1"),
                            }),
                            "extension" => {
                                if let Some(base) = raw.get(&local(&c.attrs["base"])) {
                                    walk(base, raw, out);
                                }
                                walk(c, raw, out);
                            }
                            "sequence" | "all" | "choice" | "complexContent" => walk(c, raw, out),
                            _ => {}
                        }
                    }
                }
                walk(ct, raw, &mut out);
                out
            }
            for (name, ct) in &raw_types {
                w.types.insert(name.clone(), content(ct, &raw_types));
            }
            for e in schema.all("element") {
                let c = match (e.attrs.get("type"), e.child("complexType")) {
                    (Some(t), _) => w.types.get(&local(t)).cloned().unwrap_or_default(),
                    (None, Some(ct)) => content(ct, &raw_types),
                    (None, None) => Content::default(),
                };
                w.elements.insert(e.attrs["name"].clone(), c);
            }
            let messages: HashMap<String, String> = root
                .all("message")
                .map(|m| {
                    let part = m.child("part").expect("part");
                    (m.attrs["name"].clone(), local(&part.attrs["element"]))
                })
                .collect();
            let port = root.child("portType").expect("portType");
            for op in port.all("operation") {
                let msg =
                    |dir: &str| messages[&local(&op.child(dir).unwrap().attrs["message"])].clone();
                w.operations
                    .insert(op.attrs["name"].clone(), (msg("input"), msg("output")));
            }
            w
        })
    }

    /// Checks an answer element (and everything under it) against `content`; collects
    /// problems as `path: text`.
    fn check(
        &self,
        el: &El,
        content: &Content,
        path: &str,
        problems: &mut Vec<String>,
        seen: &mut HashSet<String>,
    ) {
        let mut last_index = 0usize;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &el.children {
            let here = format!("{path}/{}", c.name);
            seen.insert(here.clone());
            if c.ns != "urn:mplusqapi" {
                problems.push(format!("{here}: namespace `{}`", c.ns));
            }
            let Some(idx) = content.children.iter().position(|d| d.name == c.name) else {
                problems.push(format!("{here}: not in the WSDL type"));
                continue;
            };
            if idx < last_index {
                problems.push(format!("{here}: out of sequence order"));
            }
            last_index = idx;
            let def = &content.children[idx];
            let n = counts.entry(def.name.as_str()).or_default();
            *n += 1;
            if *n > 1 && !def.many {
                problems.push(format!("{here}: repeated but maxOccurs is 1"));
            }
            if let Some(inline) = &def.inline {
                self.check(c, inline, &here, problems, seen);
            } else if let Some(ty) = &def.ty {
                if let Some(t) = self.types.get(ty) {
                    self.check(c, t, &here, problems, seen);
                } else if let Some(values) = self.enums.get(ty) {
                    if !values.contains(c.text.trim()) {
                        problems.push(format!("{here}: `{}` is not a {ty} value", c.text));
                    }
                } else if !c.children.is_empty() {
                    problems.push(format!("{here}: children inside simple type {ty}"));
                } else {
                    check_simple(&here, ty, c.text.trim(), problems);
                }
            }
        }
        for d in &content.children {
            if d.min > 0 && !el.children.iter().any(|c| c.name == d.name) {
                problems.push(format!("{path}: required <{}> missing", d.name));
            }
        }
    }
}

fn check_simple(path: &str, ty: &str, v: &str, problems: &mut Vec<String>) {
    let ok = match ty {
        "long" => v.parse::<i64>().is_ok(),
        "int" => v.parse::<i32>().is_ok(),
        "short" => v.parse::<i16>().is_ok(),
        "boolean" => matches!(v, "true" | "false" | "1" | "0"),
        _ => true,
    };
    if !ok {
        problems.push(format!("{path}: `{v}` is not xsd:{ty}"));
    }
}

#[test]
fn every_served_operation_exists_in_the_wsdl() {
    let w = Wsdl::load();
    assert_eq!(w.operations.len(), 374, "the WSDL's operation count");
    for op in OPERATIONS {
        let (input, output) = w
            .operations
            .get(*op)
            .unwrap_or_else(|| panic!("{op} is not a WSDL operation"));
        assert_eq!(
            input, op,
            "{op}: request element is named after the operation"
        );
        assert!(w.elements.contains_key(input), "{op}: element {input}");
        assert!(w.elements.contains_key(output), "{op}: element {output}");
    }
}

/// One request per served operation that makes the answer as rich as it gets.
fn conformance_requests(sim: &MplusSim) -> Vec<(&'static str, String)> {
    let article = sim.stock_article_numbers()[0];
    let order = sim.order_ids()[3].clone();
    vec![
        ("getProducts", "<request><pluNumbers/></request>".into()),
        ("getProducts", "<request><pluNumbers/><syncMarker>0</syncMarker><syncMarkerLimit>5</syncMarkerLimit></request>".into()),
        ("getArticleGroups", "<request><retrieveArticleNumbers>true</retrieveArticleNumbers></request>".into()),
        ("getArticleGroups", "<request><syncMarker>0</syncMarker></request>".into()),
        ("getRelations", "<request/>".into()),
        ("createRelation", "<relation><name>Conformance B.V.</name><email>c@example.nl</email></relation>".into()),
        ("createRelation", "<relation><relationNumber>1001</relationNumber><name>Taken</name></relation>".into()),
        ("updateRelation", "<relation><relationNumber>1001</relationNumber><city>Gouda</city></relation>".into()),
        ("updateRelation", "<relation><relationNumber>5</relationNumber></relation>".into()),
        ("createOrderV3", order_xml("conf-1", "CONF-1", article, 3)),
        ("createOrderV3", order_xml("conf-1", "CONF-1", article, 3)),
        ("createOrderV3", order_xml("conf-2", "CONF-1", article, 3)),
        ("createOrderV3", order_xml("conf-3", "CONF-3", 7, 3)),
        ("updateOrder", format!("<order><orderId>{order}</orderId><reference>conformance</reference><deliveryState>ORDER-DELIVERY-STATE-COMPLETE</deliveryState></order>")),
        ("updateOrder", "<order><orderId>missing</orderId></order>".into()),
        ("getOrders", "<request><includeLineList>true</includeLineList><articlePluNumbers/><articleBarcodes/></request>".into()),
        ("getOrderChanges", "<request><syncMarker>0</syncMarker></request>".into()),
        ("getStock", "<request><branchNumber>1</branchNumber><articleNumbers/></request>".into()),
        ("updateStock", format!("<request><branchNumber>1</branchNumber><articleNumber>{article}</articleNumber><amountChanged>5</amountChanged></request>")),
        ("updateStock", "<request><branchNumber>1</branchNumber><articleNumber>1</articleNumber><amountChanged>5</amountChanged></request>".into()),
        ("setStock", format!("<request><branchNumber>1</branchNumber><articleNumber>{article}</articleNumber><amount>15</amount><decimalPlaces>1</decimalPlaces></request>")),
        ("getCurrentSyncMarkers", String::new()),
    ]
}

#[tokio::test]
async fn every_element_the_simulator_writes_is_in_the_wsdl() {
    let w = Wsdl::load();
    let sim = start(150).await;
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut ops_seen = HashSet::new();
    for (op, inner) in conformance_requests(&sim) {
        let a = call(&sim, op, &inner).await;
        assert_eq!(a.status, 200, "{op}: {}", a.text());
        let el = a.body_el();
        let (_, output) = &w.operations[op];
        assert_eq!(&el.name, output, "{op}: answer element");
        assert_eq!(el.ns, "urn:mplusqapi");
        w.check(&el, &w.elements[output], output, &mut problems, &mut seen);
        ops_seen.insert(op);
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let served: HashSet<&str> = OPERATIONS.iter().copied().collect();
    assert_eq!(ops_seen, served, "every served operation was exercised");
    // The walk reached deep into the answers (so the check is not vacuous).
    for deep in [
        "GetOrdersResponse/orderList/order/lineList/line/data/quantity",
        "GetOrdersResponse/orderList/order/paymentList/payment/amount",
        "GetProductsResponse/productList/product/articleList/article/priceIncl",
        "GetRelationsResponse/relationList/relation/changeTimestamp/timezone",
        "GetOrderChangesResponse/orderChangeList/orderChange/totalInclAmountOld",
        "GetStockResponse/articleStocks/decimalPlacesFree",
        "CreateOrderV3Response/info/orderId",
        "GetArticleGroupsResponse/articleGroupList/articleGroups/subGroupList/articleGroups/name",
    ] {
        assert!(seen.contains(deep), "not exercised: {deep}");
    }
}

#[test]
fn the_conformance_check_catches_foreign_elements() {
    // The checker itself must fail on an element the WSDL does not have.
    let w = Wsdl::load();
    let xml = br#"<ns:GetStockResponse xmlns:ns="urn:mplusqapi"><ns:articleStocks><ns:articleNumber>1</ns:articleNumber><ns:stockId>1</ns:stockId><ns:amountFree>1</ns:amountFree><ns:amountReserved>x</ns:amountReserved><ns:amountIncoming>0</ns:amountIncoming><ns:isDayStockArticle>false</ns:isDayStockArticle><ns:colour>red</ns:colour></ns:articleStocks></ns:GetStockResponse>"#;
    let el = parse_xml(xml).unwrap();
    let mut problems = Vec::new();
    w.check(
        &el,
        &w.elements["GetStockResponse"],
        "GetStockResponse",
        &mut problems,
        &mut HashSet::new(),
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("colour: not in the WSDL type")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("amountReserved: `x` is not xsd:long")),
        "{problems:?}"
    );
}
