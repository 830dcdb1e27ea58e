//! The Presswise simulator over real HTTP on 127.0.0.1: SOAP 1.1 rpc/encoded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_sim::presswise::model::{Shipment, ORDER_STATUSES};
use switchyard_sim::presswise::xml::{parse, Node};
use switchyard_sim::presswise::{
    spawn_presswise, PresswiseConfig, PresswiseCredentials, PresswiseSim, OPERATIONS,
};
use switchyard_sim::{FaultConfig, RunningSim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 answer; `complete` is false when the body is shorter than announced.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    complete: bool,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `<result>` of an rpc answer (HTTP 200).
    fn result(&self) -> Node {
        assert_eq!(self.status, 200, "{}", self.text());
        let root = parse(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()));
        let body = root.child("Body").expect("Body");
        let response = &body.children[0];
        assert!(response.name.ends_with("Response"), "{}", response.name);
        response.child("result").expect("result").clone()
    }
    /// `(faultcode, faultstring)` of a SOAP Fault answer.
    fn fault(&self) -> (String, String) {
        assert_eq!(self.status, 500, "{}", self.text());
        assert!(self
            .header("content-type")
            .unwrap_or("")
            .contains("text/xml"));
        let root = parse(&self.body).expect("fault XML");
        let f = root
            .child("Body")
            .and_then(|b| b.child("Fault"))
            .expect("Fault");
        (
            f.text_of("faultcode").unwrap_or_default(),
            f.text_of("faultstring").unwrap_or_default(),
        )
    }
}

fn code(result: &Node) -> (u32, String) {
    let s = result.child("status").expect("status");
    (
        s.text_of("code")
            .and_then(|c| c.parse().ok())
            .expect("code"),
        s.text_of("text").unwrap_or_default(),
    )
}

async fn http(addr: SocketAddr, method: &str, path: &str, extra: &str, body: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: acme.mypresswise.com\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
        .expect("status line");
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

const SOAP_HEADERS: &str = "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"#POST\"\r\n";

/// An rpc/encoded request as a PHP or Axis client writes it; `prefix` is the service prefix.
fn envelope(prefix: &str, op: &str, params: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:{prefix}="urn:presswise:order2" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
<SOAP-ENV:Body><{prefix}:{op}>{params}</{prefix}:{op}></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

fn auth(c: &PresswiseCredentials) -> String {
    format!(
        r#"<auth xsi:type="ns1:Auth"><user xsi:type="xsd:string">{}</user><pass xsi:type="xsd:string">{}</pass><code xsi:type="xsd:string">{}</code></auth>"#,
        c.user, c.pass, c.code
    )
}

fn s(name: &str, value: &str) -> String {
    format!(r#"<{name} xsi:type="xsd:string">{value}</{name}>"#)
}

/// A complete order; `skip` leaves one field out, `items` are (quantity, productID, sourceJobID).
fn order_xml(source: &str, items: &[(&str, u64, &str)], skip: &str) -> String {
    let mut fields = String::new();
    for (k, v) in [
        ("customerPO", "PO-77"),
        ("sourceOrderID", source),
        ("btFirst", "Ann"),
        ("btLast", "O'Brien &amp; Sons"),
        ("btNameCompany", "Acme Print Inc"),
        ("btStreet", "12 Main Street"),
        ("btCity", "Chicago"),
        ("btState", "IL"),
        ("btZip", "60601"),
        ("btCountry", "US"),
        ("stFirst", "Bob"),
        ("stLast", "Lee"),
        ("stNameCompany", ""),
        ("stStreet", "9 Oak Avenue"),
        ("stCity", "Denver"),
        ("stState", "CO"),
        ("stZip", "80202"),
        ("stCountry", "US"),
        ("initial_status", "AUTO New"),
        ("shipMethod", "UPS Ground"),
        ("subTotal", "100.00"),
        ("taxCost", "8.25"),
        ("totalCost", "108.25"),
        ("dueDate", "2026-02-01"),
        ("comments", "Rush &lt;please&gt;"),
    ] {
        if k != skip {
            fields.push_str(&s(k, v));
        }
    }
    let mut it = String::new();
    for (q, p, j) in items {
        it.push_str(&format!(
            r#"<item xsi:type="ns1:OrderItem"><quantity xsi:type="xsd:int">{q}</quantity><productID xsi:type="xsd:string">{p}</productID><productDesc xsi:type="xsd:string">Cards</productDesc><fileF xsi:type="ns1:FileRef"><href xsi:type="xsd:string">https://files.example.com/{j}.pdf</href></fileF><sourceJobID xsi:type="xsd:string">{j}</sourceJobID><numPages xsi:type="xsd:int">2</numPages></item>"#
        ));
    }
    if skip != "items" {
        fields.push_str(&format!(
            r#"<items SOAP-ENC:arrayType="ns1:OrderItem[{}]" xsi:type="SOAP-ENC:Array">{it}</items>"#,
            items.len()
        ));
    }
    format!(r#"<order xsi:type="ns1:PurchaseOrder">{fields}</order>"#)
}

async fn start(orders: usize) -> RunningSim<PresswiseSim> {
    spawn_presswise(PresswiseConfig {
        orders,
        ..PresswiseConfig::default()
    })
    .await
    .expect("spawn")
}

async fn call(sim: &RunningSim<PresswiseSim>, op: &str, params: &str) -> Answer {
    let body = envelope("ns1", op, &format!("{}{params}", auth(sim.credentials())));
    http(
        sim.addr(),
        "POST",
        "/r/wsdl-order2.php",
        SOAP_HEADERS,
        &body,
    )
    .await
}

async fn control(sim: &RunningSim<PresswiseSim>, method: &str, path: &str, body: &str) -> Value {
    let a = http(
        sim.addr(),
        method,
        &format!("/_control/presswise{path}"),
        "Content-Type: application/json\r\n",
        body,
    )
    .await;
    assert_eq!(a.status, 200, "{path}: {}", a.text());
    serde_json::from_slice(&a.body).expect("json")
}

fn active_products(sim: &PresswiseSim) -> Vec<u64> {
    sim.catalogue()
        .1
        .iter()
        .filter(|p| p.active)
        .map(|p| p.product_id)
        .collect()
}

async fn push(sim: &RunningSim<PresswiseSim>, source: &str) -> Node {
    let p = active_products(sim);
    let order = order_xml(source, &[("250", p[0], "j1"), ("1000", p[1], "j2")], "");
    let r = call(sim, "add_purchase_order", &order).await.result();
    assert_eq!(code(&r).0, 0, "{:?}", code(&r));
    r
}

#[tokio::test]
async fn wsdl_describes_exactly_the_operations_served() {
    let sim = start(50).await;
    let a = http(sim.addr(), "GET", "/r/wsdl-order2.php?wsdl", "", "").await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").unwrap().contains("text/xml"));
    let wsdl = parse(&a.body).expect("WSDL is XML");
    let port_type = wsdl.child("portType").expect("portType");
    let ops: BTreeSet<String> = port_type
        .children
        .iter()
        .filter_map(|o| o.attr("name").map(str::to_owned))
        .collect();
    let served: BTreeSet<String> = OPERATIONS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(ops, served);
    let binding = wsdl.child("binding").expect("binding");
    for op in &binding.children[1..] {
        let action = op.child("operation").and_then(|o| o.attr("soapAction"));
        assert_eq!(action, Some("#POST"));
        let body = op.child("input").and_then(|i| i.child("body")).unwrap();
        assert_eq!(body.attr("use"), Some("encoded"));
    }
    let location = wsdl
        .child("service")
        .and_then(|s| s.child("port"))
        .and_then(|p| p.child("address"))
        .and_then(|a| a.attr("location"))
        .unwrap();
    assert_eq!(location, "http://acme.mypresswise.com/r/wsdl-order2.php");

    // Every answer carries only what the WSDL's result type declares (conformance).
    let schema = wsdl.child("types").and_then(|t| t.child("schema")).unwrap();
    let declared = |type_name: &str| -> BTreeSet<String> {
        schema
            .children
            .iter()
            .find(|t| t.attr("name") == Some(type_name))
            .and_then(|t| t.child("all"))
            .map(|all| {
                all.children
                    .iter()
                    .filter_map(|e| e.attr("name").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let pushed = push(&sim, "WSDL-1").await;
    let id = pushed.text_of("orderID").unwrap();
    let calls = [
        ("get_order_status", format!("<orderID>{id}</orderID>")),
        ("find_orders", "<sourceOrderID>WSDL-1</sourceOrderID>".to_owned()),
        ("get_categories", String::new()),
        ("get_products", "<pageSize>5</pageSize>".to_owned()),
        (
            "create_user",
            "<user><email>wsdl@example.org</email><firstName>W</firstName><lastName>S</lastName></user>".to_owned(),
        ),
    ];
    let check = |op: &str, result: &Node| {
        let message = wsdl
            .children
            .iter()
            .find(|m| m.name == "message" && m.attr("name") == Some(&format!("{op}Response")))
            .unwrap();
        let type_name = message.children[0].attr("type").unwrap();
        let allowed = declared(type_name.trim_start_matches("tns:"));
        for c in &result.children {
            assert!(
                allowed.contains(&c.name),
                "{op}: {} not in {type_name}",
                c.name
            );
        }
    };
    check("add_purchase_order", &pushed);
    for (op, params) in calls {
        let r = call(&sim, op, &params).await.result();
        assert_eq!(code(&r).0, 0, "{op}: {:?}", code(&r));
        check(op, &r);
    }
    let item = pushed.child("items").unwrap().children[0].clone();
    let allowed = declared("ItemRef");
    assert!(item.children.iter().all(|c| allowed.contains(&c.name)));
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_answer_status_not_fault() {
    let sim = start(20).await;
    let mut bad = sim.credentials().clone();
    bad.code = "WRONG".into();
    let p = active_products(&sim);
    let order = order_xml("AUTH-1", &[("1", p[0], "j")], "");
    let body = envelope(
        "ns1",
        "add_purchase_order",
        &format!("{}{order}", auth(&bad)),
    );
    let a = http(
        sim.addr(),
        "POST",
        "/r/wsdl-order2.php",
        SOAP_HEADERS,
        &body,
    )
    .await;
    let (c, text) = code(&a.result());
    assert_eq!(c, 1);
    assert!(text.contains("Authentication failed"), "{text}");
    // No auth element at all.
    let body = envelope("ns1", "get_categories", "");
    let a = http(
        sim.addr(),
        "POST",
        "/r/wsdl-order2.php",
        SOAP_HEADERS,
        &body,
    )
    .await;
    assert_eq!(code(&a.result()).0, 1);
    assert_eq!(sim.count_for_source("AUTH-1"), 0);
    assert_eq!(sim.counts().pushed_orders, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn push_then_read_status_and_inspect_fields_as_received() {
    let sim = start(30).await;
    let p = active_products(&sim);
    // Another prefix for the service namespace, and a default-namespace envelope child.
    let order = order_xml(
        "PR-5001",
        &[("250", p[0], "5001-1"), ("500", p[2], "5001-2")],
        "",
    );
    let body = envelope(
        "pw",
        "add_purchase_order",
        &format!("{}{order}", auth(sim.credentials())),
    )
    .replace("SOAP-ENV:", "soapenv:")
    .replace("xmlns:SOAP-ENV", "xmlns:soapenv");
    let a = http(
        sim.addr(),
        "POST",
        "/r/wsdl-order2.php",
        SOAP_HEADERS,
        &body,
    )
    .await;
    let r = a.result();
    assert_eq!(code(&r), (0, "OK".to_owned()));
    let id: u64 = r.text_of("orderID").unwrap().parse().unwrap();
    assert_eq!(id, 20_001 + 30, "ids continue after the seeded orders");
    let items = r.child("items").unwrap();
    assert_eq!(items.attr("arrayType"), Some("ns1:ItemRef[2]"));
    assert_eq!(
        items.children[1].text_of("sourceJobID").as_deref(),
        Some("5001-2")
    );

    let st = call(
        &sim,
        "get_order_status",
        &format!("<orderID xsi:type=\"xsd:int\">{id}</orderID>"),
    )
    .await
    .result();
    let o = st.child("order").unwrap();
    assert_eq!(o.text_of("status").as_deref(), Some("AUTO New"));
    assert_eq!(o.text_of("sourceOrderID").as_deref(), Some("PR-5001"));
    let it = &o.child("items").unwrap().children;
    assert_eq!(it.len(), 2);
    assert_eq!(it[0].text_of("status").as_deref(), Some("New"));
    assert_eq!(it[0].child("shipment").unwrap().attr("nil"), Some("true"));

    let found = call(
        &sim,
        "find_orders",
        "<sourceOrderID>PR-5001</sourceOrderID>",
    )
    .await
    .result();
    assert_eq!(found.text_of("count").as_deref(), Some("1"));

    // Inspection shows every field exactly as sent (entities resolved).
    let pushed = sim.pushed_orders();
    assert_eq!(pushed.len(), 1);
    let f = &pushed[0].fields;
    assert_eq!(f.bill_to.last, "O'Brien & Sons");
    assert_eq!(f.ship_to.city, "Denver");
    assert_eq!(f.comments, "Rush <please>");
    assert_eq!(f.total_cost, "108.25");
    assert_eq!(f.items[0].file_href, "https://files.example.com/5001-1.pdf");
    assert_eq!(f.items[1].quantity, "500");
    let via_control = control(&sim, "GET", "/orders?pushed=true", "").await;
    assert_eq!(via_control[0]["fields"]["sourceOrderID"], "PR-5001");
    assert_eq!(via_control[0]["orderID"], id);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_push_creates_a_duplicate_order() {
    let sim = start(20).await;
    let first = push(&sim, "DUP-9").await.text_of("orderID").unwrap();
    let second = push(&sim, "DUP-9").await.text_of("orderID").unwrap();
    assert_ne!(first, second, "no idempotency: a new order each time");
    assert_eq!(sim.count_for_source("DUP-9"), 2);
    let found = call(&sim, "find_orders", "<sourceOrderID>DUP-9</sourceOrderID>")
        .await
        .result();
    assert_eq!(found.text_of("count").as_deref(), Some("2"));
    assert_eq!(found.child("orders").unwrap().children.len(), 2);
    let c = control(&sim, "GET", "/sources/DUP-9", "").await;
    assert_eq!(c["count"], 2);
    let by_source = control(&sim, "GET", "/orders?sourceOrderID=DUP-9&pushed=true", "").await;
    assert_eq!(by_source.as_array().unwrap().len(), 2);
    let dups = control(&sim, "GET", "/duplicates", "").await;
    assert!(dups
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["sourceOrderID"] == "DUP-9"));
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    let sim = start(20).await;
    let p = active_products(&sim);
    let inactive = sim
        .catalogue()
        .1
        .iter()
        .find(|p| !p.active)
        .map(|p| p.product_id);
    let cases: Vec<(String, u32, &str)> = vec![
        (order_xml("B-1", &[("1", p[0], "j")], "btCity"), 2, "btCity"),
        (
            order_xml("B-1", &[("1", p[0], "j")], "sourceOrderID"),
            2,
            "sourceOrderID",
        ),
        (order_xml("B-1", &[], "items"), 2, "items"),
        (
            order_xml("B-1", &[("0", p[0], "j")], ""),
            3,
            "items[1].quantity",
        ),
        (
            order_xml("B-1", &[("1", p[0], "j"), ("1", 999_999, "k")], ""),
            4,
            "items[2].productID",
        ),
        (
            order_xml("B-1", &[("1", p[0], "")], ""),
            2,
            "items[1].sourceJobID",
        ),
        (
            order_xml("B-1", &[("1", p[0], "j")], "").replace("108.25", "lots"),
            3,
            "totalCost",
        ),
        (
            order_xml("B-1", &[("1", p[0], "j")], "").replace("AUTO New", "Bogus"),
            3,
            "initial_status",
        ),
        (
            order_xml("B-1", &[("1", p[0], "j")], "").replace("2026-02-01", "soon"),
            3,
            "dueDate",
        ),
        (String::new(), 2, "order"),
    ];
    for (order, want, field) in cases {
        let r = call(&sim, "add_purchase_order", &order).await.result();
        let (c, text) = code(&r);
        assert_eq!(c, want, "{field}: {text}");
        assert!(text.contains(field), "{field}: {text}");
        assert!(r.child("orderID").is_none());
    }
    if let Some(id) = inactive {
        let r = call(
            &sim,
            "add_purchase_order",
            &order_xml("B-1", &[("1", id, "j")], ""),
        )
        .await;
        assert_eq!(code(&r.result()).0, 3);
    }
    let r = call(&sim, "get_order_status", "<orderID>99999999</orderID>")
        .await
        .result();
    assert_eq!(code(&r).0, 4);
    let r = call(&sim, "get_order_status", "<orderID>abc</orderID>")
        .await
        .result();
    assert_eq!(code(&r).0, 3);
    let r = call(&sim, "get_order_status", "").await.result();
    assert_eq!(code(&r), (2, "Missing required field: orderID".to_owned()));
    assert_eq!(sim.counts().pushed_orders, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn soap_level_errors_are_faults() {
    let sim = start(20).await;
    let addr = sim.addr();
    let ep = "/r/wsdl-order2.php";
    let (c, s) = call(&sim, "delete_everything", "").await.fault();
    assert_eq!(c, "SOAP-ENV:Server");
    assert_eq!(s, "Procedure 'delete_everything' not present");
    let (c, _) = http(addr, "POST", ep, SOAP_HEADERS, "<SOAP-ENV:Envelope><broken")
        .await
        .fault();
    assert_eq!(c, "SOAP-ENV:Client");
    let body = envelope("ns1", "get_categories", &auth(sim.credentials()));
    let (_, s) = http(addr, "POST", ep, "Content-Type: text/xml\r\n", &body)
        .await
        .fault();
    assert!(s.contains("SOAPAction"), "{s}");
    let soap12 = body.replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    let (c, _) = http(addr, "POST", ep, SOAP_HEADERS, &soap12).await.fault();
    assert_eq!(c, "SOAP-ENV:VersionMismatch");
    let (c, _) = http(addr, "GET", ep, "", "").await.fault();
    assert_eq!(c, "SOAP-ENV:Client");
    assert_eq!(
        http(addr, "POST", "/r/WSDL-order2.php", SOAP_HEADERS, &body)
            .await
            .status,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn multi_ref_encoding_is_resolved() {
    // Axis/.NET style: the order and items travel as independent elements referenced by href.
    let sim = start(20).await;
    let p = active_products(&sim);
    let order = order_xml("MR-1", &[("5", p[0], "mr-1")], "");
    let (head, tail) = order.split_once("<items").unwrap();
    // The item element's own content, moved into a multiRef of its own.
    let item_start = tail.find("<item ").unwrap();
    let item_inner = &tail[item_start..tail.find("</item>").unwrap()];
    let item_inner = &item_inner[item_inner.find('>').unwrap() + 1..];
    let params = format!(r##"{}<order href="#id0"/>"##, auth(sim.credentials()));
    let refs = format!(
        r##"<multiRef id="id0" xsi:type="ns1:PurchaseOrder">{}<items href="#id1"/></multiRef><multiRef id="id1" SOAP-ENC:arrayType="ns1:OrderItem[1]" xsi:type="SOAP-ENC:Array"><item href="#id2"/></multiRef><multiRef id="id2" xsi:type="ns1:OrderItem">{item_inner}</multiRef>"##,
        head.trim_start_matches(r#"<order xsi:type="ns1:PurchaseOrder">"#),
    );
    let body = envelope("ns1", "add_purchase_order", &params)
        .replace("</SOAP-ENV:Body>", &format!("{refs}</SOAP-ENV:Body>"));
    let a = http(
        sim.addr(),
        "POST",
        "/r/wsdl-order2.php",
        SOAP_HEADERS,
        &body,
    )
    .await;
    let r = a.result();
    assert_eq!(code(&r).0, 0, "{:?}", code(&r));
    let v = &sim.pushed_orders()[0];
    assert_eq!(v.fields.source_order_id, "MR-1");
    assert_eq!(v.fields.items.len(), 1);
    assert_eq!(v.fields.items[0].source_job_id, "mr-1");
    sim.shutdown().await;
}

#[tokio::test]
async fn production_progress_shows_in_status_reads() {
    let sim = start(20).await;
    let r = push(&sim, "PROG-1").await;
    let id: u64 = r.text_of("orderID").unwrap().parse().unwrap();
    let item_id = r.child("items").unwrap().children[0]
        .text_of("itemID")
        .unwrap();
    sim.set_order_status(id, "In Production").unwrap();
    sim.set_item_status(id, "2", "Finishing").unwrap();
    control(
        &sim,
        "PUT",
        &format!("/orders/{id}/items/{item_id}"),
        r#"{"shipment":{"carrier":"UPS","trackingNumber":"1Z999AA10123456784","shipDate":"2026-03-02T10:00:00Z"}}"#,
    )
    .await;
    let st = call(
        &sim,
        "get_order_status",
        &format!("<orderID>{id}</orderID>"),
    )
    .await
    .result();
    let o = st.child("order").unwrap();
    assert_eq!(o.text_of("status").as_deref(), Some("In Production"));
    let items = &o.child("items").unwrap().children;
    assert_eq!(items[0].text_of("status").as_deref(), Some("Shipped"));
    let ship = items[0].child("shipment").unwrap();
    assert_eq!(ship.text_of("carrier").as_deref(), Some("UPS"));
    assert_eq!(
        ship.text_of("trackingNumber").as_deref(),
        Some("1Z999AA10123456784")
    );
    assert_eq!(
        ship.text_of("shipDate").as_deref(),
        Some("2026-03-02 10:00:00")
    );
    assert_eq!(items[1].text_of("status").as_deref(), Some("Finishing"));
    // Control errors: unknown status, unknown item, unknown order.
    assert!(sim.set_order_status(id, "Flying").is_err());
    assert!(sim
        .set_item_shipment(
            id,
            "9",
            Shipment {
                carrier: "UPS".into(),
                tracking_number: "1".into(),
                ship_date: String::new()
            }
        )
        .is_err());
    let a = http(
        sim.addr(),
        "PUT",
        "/_control/presswise/orders/1/status",
        "",
        r#"{"status":"New"}"#,
    )
    .await;
    assert_eq!(a.status, 404);
    control_status_ok(&sim).await;
    sim.shutdown().await;
}

async fn control_status_ok(sim: &RunningSim<PresswiseSim>) {
    let v = control(sim, "GET", "", "").await;
    assert_eq!(v["system"], "presswise");
    assert!(
        v["requests"]["post /r/wsdl-order2.php get_order_status"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn catalogue_pages_cover_every_product_once() {
    let sim = spawn_presswise(PresswiseConfig {
        orders: 10,
        products: 230,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut seen = BTreeSet::new();
    let mut page = 1;
    loop {
        let r = call(
            &sim,
            "get_products",
            &format!("<page>{page}</page><pageSize>50</pageSize>"),
        )
        .await
        .result();
        assert_eq!(r.text_of("total").as_deref(), Some("230"));
        let products = r.child("products").unwrap();
        if products.children.is_empty() {
            break;
        }
        assert_eq!(
            products.attr("arrayType"),
            Some(format!("ns1:Product[{}]", products.children.len()).as_str())
        );
        for p in &products.children {
            assert!(seen.insert(p.text_of("productID").unwrap()));
        }
        page += 1;
    }
    assert_eq!(seen.len(), 230);
    assert_eq!(page, 6);
    let cats = call(&sim, "get_categories", "").await.result();
    let cat_list = &cats.child("categories").unwrap().children;
    assert!(cat_list.len() > 8);
    assert!(cat_list
        .iter()
        .any(|c| c.text_of("parentID").as_deref() != Some("0")));
    let sub = cat_list[9].text_of("categoryID").unwrap();
    let r = call(
        &sim,
        "get_products",
        &format!("<categoryID>{sub}</categoryID><pageSize>500</pageSize>"),
    )
    .await
    .result();
    for p in &r.child("products").unwrap().children {
        assert_eq!(p.text_of("categoryID").as_deref(), Some(sub.as_str()));
    }
    for bad in [
        "<pageSize>501</pageSize>",
        "<page>0</page>",
        "<categoryID>x</categoryID>",
    ] {
        assert_eq!(
            code(&call(&sim, "get_products", bad).await.result()).0,
            3,
            "{bad}"
        );
    }
    assert_eq!(
        code(
            &call(&sim, "get_products", "<categoryID>9999</categoryID>")
                .await
                .result()
        )
        .0,
        4
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn create_user_and_duplicate_email() {
    let sim = start(40).await;
    let r = call(
        &sim,
        "create_user",
        "<user><email>New.Person@Example.org</email><firstName>New</firstName><lastName>Person</lastName><company>Acme</company></user>",
    )
    .await
    .result();
    assert_eq!(code(&r).0, 0);
    let id = r.text_of("userID").unwrap();
    let again = call(
        &sim,
        "create_user",
        "<user><email>new.person@example.org</email><firstName>N</firstName><lastName>P</lastName></user>",
    )
    .await
    .result();
    assert_eq!(code(&again).0, 5);
    assert_eq!(again.text_of("userID"), Some(id.clone()));
    let r = call(
        &sim,
        "create_user",
        "<user><email>nope</email><firstName>a</firstName><lastName>b</lastName></user>",
    )
    .await
    .result();
    assert_eq!(code(&r).0, 3);
    let r = call(
        &sim,
        "create_user",
        "<user><email>a@b.org</email><lastName>b</lastName></user>",
    )
    .await
    .result();
    assert_eq!(
        code(&r),
        (2, "Missing required field: firstName".to_owned())
    );
    assert_eq!(sim.created_users().len(), 1);
    // The order may name the user; an unknown one is refused.
    let p = active_products(&sim);
    let order = order_xml("U-1", &[("1", p[0], "j")], "")
        .replace("<customerPO", &format!("<userID>{id}</userID><customerPO"));
    assert_eq!(
        code(&call(&sim, "add_purchase_order", &order).await.result()).0,
        0
    );
    let order = order.replace(&format!(">{id}<"), ">1<");
    assert_eq!(
        code(&call(&sim, "add_purchase_order", &order).await.result()).0,
        4
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_faults_in_soap_shapes() {
    let sim = start(20).await;
    sim.set_faults(FaultConfig {
        fail_next: 6,
        ..Default::default()
    })
    .unwrap();
    let mut saw = BTreeSet::new();
    for _ in 0..6 {
        let a = call(&sim, "get_categories", "").await;
        match a.status {
            500 => {
                assert_eq!(a.fault().0, "SOAP-ENV:Server");
                saw.insert(500);
            }
            503 => {
                assert!(a.header("content-type").unwrap().contains("text/html"));
                saw.insert(503);
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(!saw.is_empty());
    assert_eq!(sim.fault_stats().server_errors, 6);

    sim.set_faults(FaultConfig {
        throttle_next: 1,
        retry_after_secs: 7,
        ..Default::default()
    })
    .unwrap();
    let a = call(&sim, "get_categories", "").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("7"));

    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..Default::default()
    })
    .unwrap();
    let a = call(&sim, "get_categories", "").await;
    assert_eq!(a.status, 200);
    assert!(parse(&a.body).is_err(), "malformed body must not parse");

    sim.set_faults(FaultConfig {
        truncated_rate: 1.0,
        ..Default::default()
    })
    .unwrap();
    let a = call(&sim, "get_categories", "").await;
    assert!(!a.complete);

    // Scope: only the write is faulted.
    sim.set_faults(FaultConfig {
        fail_next: 1,
        scope: Some("add_purchase_order".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(call(&sim, "get_categories", "").await.status, 200);
    let p = active_products(&sim);
    let a = call(
        &sim,
        "add_purchase_order",
        &order_xml("F-1", &[("1", p[0], "j")], ""),
    )
    .await;
    assert!(a.status >= 500);
    assert_eq!(
        sim.count_for_source("F-1"),
        0,
        "a pre-handling 5xx applies nothing"
    );

    sim.set_faults(FaultConfig {
        timeout_next: 1,
        ..Default::default()
    })
    .unwrap();
    let hung =
        tokio::time::timeout(Duration::from_millis(300), call(&sim, "get_categories", "")).await;
    assert!(hung.is_err(), "the timeout fault never answers");
    assert_eq!(sim.fault_stats().timeouts, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn accept_then_hang_applies_the_write_without_answering() {
    let sim = start(20).await;
    sim.set_accept_then_hang(0.0, 1).unwrap();
    let p = active_products(&sim);
    let order = order_xml("HANG-1", &[("1", p[0], "j")], "");
    let hung = tokio::time::timeout(
        Duration::from_millis(400),
        call(&sim, "add_purchase_order", &order),
    )
    .await;
    assert!(hung.is_err(), "no answer after the write");
    // The order landed: a connector must look before pushing again.
    assert_eq!(sim.count_for_source("HANG-1"), 1);
    let found = call(&sim, "find_orders", "<sourceOrderID>HANG-1</sourceOrderID>")
        .await
        .result();
    assert_eq!(found.text_of("count").as_deref(), Some("1"));
    assert_eq!(sim.accept_then_hang().hung, 1);
    // Reads never hang, and the counter cleared itself.
    let again = call(&sim, "add_purchase_order", &order).await.result();
    assert_eq!(code(&again).0, 0);
    assert_eq!(sim.count_for_source("HANG-1"), 2);
    // Through the control API.
    let v = control(&sim, "PUT", "/accept-then-hang", r#"{"next":1}"#).await;
    assert_eq!(v["next"], 1);
    let hung = tokio::time::timeout(
        Duration::from_millis(400),
        call(
            &sim,
            "create_user",
            "<user><email>hang@example.org</email><firstName>H</firstName><lastName>G</lastName></user>",
        ),
    )
    .await;
    assert!(hung.is_err());
    assert_eq!(sim.created_users().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn reset_forgets_pushes_and_migration_ids_are_found() {
    let sim = spawn_presswise(PresswiseConfig {
        orders: 30,
        source_ids_from: Some(1001),
        ..Default::default()
    })
    .await
    .unwrap();
    let found = call(&sim, "find_orders", "<sourceOrderID>1005</sourceOrderID>")
        .await
        .result();
    assert_eq!(found.text_of("count").as_deref(), Some("1"));
    let o = &found.child("orders").unwrap().children[0];
    assert_eq!(o.text_of("orderID").as_deref(), Some("20005"));
    push(&sim, "R-1").await;
    assert_eq!(sim.counts().pushed_orders, 1);
    let v = control(&sim, "POST", "/reset", "").await;
    assert_eq!(v["counts"]["pushed_orders"], 0);
    assert_eq!(sim.count_for_source("R-1"), 0);
    assert_eq!(sim.counts().orders, 30);
    sim.shutdown().await;
}

fn dump(cfg: PresswiseConfig) -> Vec<u8> {
    let sim = PresswiseSim::new(cfg).unwrap();
    let mut out = Vec::new();
    sim.write_orders_json(&mut out).unwrap();
    out.extend(serde_json::to_vec(&sim.catalogue()).unwrap());
    out.extend(serde_json::to_vec(&sim.users()).unwrap());
    out
}

#[test]
fn same_seed_same_data() {
    let cfg = || PresswiseConfig {
        orders: 500,
        ..Default::default()
    };
    assert_eq!(dump(cfg()), dump(cfg()));
    assert_ne!(dump(cfg()), dump(PresswiseConfig { seed: 7, ..cfg() }));
}

#[test]
fn seeded_data_has_the_variety_connectors_meet() {
    let sim = PresswiseSim::new(PresswiseConfig {
        orders: 3000,
        ..Default::default()
    })
    .unwrap();
    let mut statuses = BTreeSet::new();
    let mut shipped = 0;
    let mut empty_source = 0;
    let mut multi_item = 0;
    for id in 20_001..20_001 + 3000 {
        let o = sim.order(id).unwrap();
        statuses.insert(o.status.clone());
        shipped += o.items.iter().filter(|i| i.shipment.is_some()).count();
        empty_source += usize::from(o.fields.source_order_id.is_empty());
        multi_item += usize::from(o.items.len() > 1);
    }
    assert_eq!(statuses.len(), ORDER_STATUSES.len(), "{statuses:?}");
    assert!(shipped > 300);
    assert!(empty_source > 300);
    assert!(multi_item > 500);
    assert!(
        !sim.duplicate_sources().is_empty(),
        "an earlier double push"
    );
    let users = sim.users();
    let lower: BTreeSet<String> = users
        .iter()
        .map(|u| u.email.trim().to_ascii_lowercase())
        .collect();
    assert!(lower.len() < users.len(), "e-mail variants of one person");
    assert!(users.iter().any(|u| u.email != u.email.trim()));
    let (cats, products) = sim.catalogue();
    assert!(cats.iter().any(|c| c.parent_id == 0) && cats.iter().any(|c| c.parent_id != 0));
    assert!(products.iter().any(|p| !p.active));
    assert!(products.iter().any(|p| p.category_id == 0));
    let json = json!(sim.counts());
    assert_eq!(json["orders"], 3000);
}

#[tokio::test]
#[ignore = "measurement: cargo test --release -p switchyard-sim --test presswise -- --ignored --nocapture"]
async fn measure_100k_orders() {
    let t = std::time::Instant::now();
    let sim = spawn_presswise(PresswiseConfig {
        orders: 100_000,
        products: 10_000,
        ..Default::default()
    })
    .await
    .unwrap();
    println!("generate 100k orders + 10k products: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut n = 0;
    for id in (20_001..120_001).step_by(100) {
        let r = call(
            &sim,
            "get_order_status",
            &format!("<orderID>{id}</orderID>"),
        )
        .await
        .result();
        assert_eq!(code(&r).0, 0);
        n += 1;
    }
    println!("{n} get_order_status calls: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    for page in 1..=20 {
        let r = call(
            &sim,
            "get_products",
            &format!("<page>{page}</page><pageSize>500</pageSize>"),
        )
        .await
        .result();
        assert_eq!(code(&r).0, 0);
    }
    println!("20 pages of 500 products: {:?}", t.elapsed());
    sim.shutdown().await;
}

#[test]
fn binary_serves_presswise_with_flags() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-sim"))
        .args(["--presswise-port", "0", "--seed", "9", "--orders", "40"])
        .args([
            "--presswise-code",
            "XYZ",
            "--fault",
            "presswise:fail_next=1",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).expect("JSON line");
    let url = urls["presswise"].as_str().unwrap().to_owned();
    let addr = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/r/wsdl-order2.php"))
        .expect("base URL shape")
        .to_owned();
    let send = |request: String| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let creds = PresswiseCredentials {
        code: "XYZ".into(),
        ..PresswiseCredentials::default()
    };
    let body = envelope("ns1", "get_categories", &auth(&creds));
    let post = format!(
        "POST /r/wsdl-order2.php HTTP/1.1\r\nHost: x\r\n{SOAP_HEADERS}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The configured fault hits the first call; the code flag is the accepted one.
    assert!(send(post.clone()).starts_with("HTTP/1.1 5"));
    let ok = send(post);
    assert!(ok.contains(r#"<code xsi:type="xsd:int">0</code>"#), "{ok}");
    let control =
        send("GET /_control/presswise HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into());
    assert!(control.contains("\"orders\":40"), "{control}");
    child.kill().unwrap();
    child.wait().unwrap();
}
