//! Pressero data-centre host names (`Host` header), and the order item / details / payments
//! field list of the reference, with shipments showing on the items.

use serde_json::{json, Value};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim, DATA_CENTRE_HOSTS};
use switchyard_sim::RunningSim;

async fn start(orders: usize) -> RunningSim<PresseroSim> {
    spawn_pressero(PresseroConfig {
        orders,
        ..PresseroConfig::default()
    })
    .await
    .expect("spawn")
}

/// A client that resolves `host` to the simulator, as a connector configured with a resolver
/// override does; the URL names the data-centre host, so `Host` carries it.
fn client_for(host: &str, sim: &RunningSim<PresseroSim>) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .resolve(host, sim.addr())
        .build()
        .unwrap()
}

async fn login(client: &reqwest::Client, base: &str, sim: &PresseroSim) -> reqwest::Response {
    client
        .post(format!("{base}V2/Authentication"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(sim.credentials()).unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_data_centre_host_is_answered_and_recorded() {
    let sim = start(5).await;
    for (dc, host) in DATA_CENTRE_HOSTS {
        let client = client_for(host, &sim);
        let base = format!("http://{host}:{}/api/", sim.port());
        let r = login(&client, &base, &sim).await;
        assert_eq!(r.status(), 200, "{host}");
        assert_eq!(sim.last_host().as_deref(), Some(host));
        assert_eq!(sim.last_data_centre(), Some(dc));
    }
    // Loopback names work too and are not a data centre.
    let r = login(&reqwest::Client::new(), &sim.base_url(), &sim).await;
    assert_eq!(r.status(), 200);
    assert_eq!(sim.last_host().as_deref(), Some("127.0.0.1"));
    assert_eq!(sim.last_data_centre(), None);
    let counts = sim.host_counts();
    for (_, host) in DATA_CENTRE_HOSTS {
        assert_eq!(counts.get(host), Some(&1));
    }
    let log = sim.host_log();
    assert_eq!(log.len(), 4);
    assert!(log
        .iter()
        .all(|r| r.accepted && r.known && r.endpoint == "POST /api/v2/authentication"));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_host_is_recorded_and_refused_when_strict() {
    let sim = start(5).await;
    let host = "admin.xx.v6.pressero.com";
    let client = client_for(host, &sim);
    let base = format!("http://{host}:{}/api/", sim.port());
    // By default answered, and recorded as not a known host.
    let r = login(&client, &base, &sim).await;
    assert_eq!(r.status(), 200);
    let last = sim.host_log().pop().unwrap();
    assert!(last.accepted && !last.known);
    // Strict (config `reject_unknown_hosts` or control): refused before the API sees it.
    let r = reqwest::Client::new()
        .put(format!("{}pressero/hosts/strict", sim.control_url()))
        .body(r#"{"reject_unknown_hosts":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let counted = sim.request_count("POST /api/v2/authentication");
    let r = login(&client, &base, &sim).await;
    assert_eq!(r.status(), 400);
    assert!(r
        .headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("text/html")));
    assert!(r.text().await.unwrap().contains("Invalid Hostname"));
    assert_eq!(sim.request_count("POST /api/v2/authentication"), counted);
    let last = sim.host_log().pop().unwrap();
    assert_eq!(last.host, host);
    assert!(!last.accepted && !last.known);
    // Data-centre names still pass.
    let dc = DATA_CENTRE_HOSTS[1].1;
    let r = login(
        &client_for(dc, &sim),
        &format!("http://{dc}:{}/api/", sim.port()),
        &sim,
    )
    .await;
    assert_eq!(r.status(), 200);
    // The control API shows the hosts.
    let v: Value = serde_json::from_slice(
        &reqwest::get(format!("{}pressero/hosts", sim.control_url()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["last"], dc);
    assert_eq!(v["counts"][host], 2);
    sim.shutdown().await;
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(sim: &RunningSim<PresseroSim>) -> Api {
        let host = DATA_CENTRE_HOSTS[2].1;
        let client = client_for(host, sim);
        let base = format!("http://{host}:{}/api/", sim.port());
        let r = login(&client, &base, sim).await;
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        Api {
            client,
            base,
            token: v["Token"].as_str().unwrap().to_owned(),
        }
    }
    async fn get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (
            s,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
        )
    }
}

#[tokio::test]
async fn items_details_and_payments_carry_the_reference_fields() {
    let sim = start(60).await;
    let api = Api::new(&sim).await;
    assert_eq!(sim.last_data_centre(), Some("amsterdam"));
    let reference =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/reference/README.md"))
            .unwrap();
    // The item field list as the reference writes it.
    let line = reference
        .lines()
        .find(|l| l.starts_with("- Order item fields:"))
        .expect("item field line in the reference");
    let list = &line[line.find('`').unwrap() + 1..line.rfind('`').unwrap()];
    let mut fields: Vec<String> = Vec::new();
    let open = list.find("BillTo*/ShipTo* (").expect("address part");
    let close = open + list[open..].find(')').expect("closing paren");
    let subs = &list[open + "BillTo*/ShipTo* (".len()..close];
    for p in ["BillTo", "ShipTo"] {
        for s in subs.split(", ") {
            if s == "Address1-3" {
                for k in 1..=3 {
                    fields.push(format!("{p}Address{k}"));
                }
            } else {
                fields.push(format!("{p}{s}"));
            }
        }
    }
    let rest = format!("{}{}", &list[..open], &list[close + 1..]);
    fields.extend(
        rest.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned),
    );
    assert!(fields.len() > 20, "{fields:?}");
    for n in sim.order_numbers().into_iter().take(60) {
        let items = api.get(&format!("v2/orders/{n}/items")).await;
        for item in items.as_array().unwrap() {
            for f in &fields {
                assert!(item.get(f).is_some(), "order {n} item lacks {f}: {item}");
            }
            assert_eq!(item["OrderNumber"], n);
            assert!(item["WorkflowStageId"].is_string());
        }
        let d = api.get(&format!("v2/orders/{n}/Details")).await;
        for f in [
            "OrderNumber",
            "SiteName",
            "OrderedByEmail",
            "BillTo",
            "ShipTo",
            "ShippingTotal",
            "OrderTotal",
            "PaymentStatus",
        ] {
            assert!(d.get(f).is_some(), "details lack {f}");
        }
        let items = items.as_array().unwrap();
        let ship: f64 = items.iter().map(|i| i["Shipping"].as_f64().unwrap()).sum();
        assert!((ship - d["ShippingTotal"].as_f64().unwrap()).abs() < 0.005);
        assert_eq!(items[0]["ShipToCity"], d["ShipTo"]["City"]);
        assert_eq!(items[0]["BillToPostal"], d["BillTo"]["Postal"]);
        let pays = api.get(&format!("v2/orders/{n}/Payments")).await;
        for p in pays.as_array().unwrap() {
            for f in ["Amount", "Method", "Date"] {
                assert!(p.get(f).is_some());
            }
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_posted_shipment_shows_on_its_items_only() {
    let sim = start(40).await;
    let api = Api::new(&sim).await;
    let n = sim
        .order_numbers()
        .into_iter()
        .find(|n| sim.order_items_json(*n).unwrap().as_array().unwrap().len() >= 2)
        .expect("an order with two items");
    let items = api.get(&format!("v2/orders/{n}/items")).await;
    let first_id = items[0]["OrderItemId"].as_str().unwrap().to_owned();
    let second_before = items[1]["ShipmentTracking"].clone();
    let (s, v) = api
        .post(
            "V2/Orders/Shipments",
            json!({"OrderNumber": n, "OrderItemIds": [first_id], "Carrier": "FedEx",
                   "TrackingNumber": "7712 3456"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["ShipmentId"].is_string());
    let items = api.get(&format!("v2/orders/{n}/items")).await;
    let t = &items[0]["ShipmentTracking"];
    assert_eq!(t["Carrier"], "FedEx");
    assert_eq!(t["TrackingNumber"], "7712 3456");
    assert!(t["ShipDate"].is_string());
    assert_eq!(items[0]["StatusId"], "Shipped");
    assert_eq!(
        items[1]["ShipmentTracking"], second_before,
        "other item untouched"
    );
    let status = api.get(&format!("v2/orders/{n}/item/1/Status")).await;
    assert_eq!(status["StatusId"], "Shipped");
    sim.shutdown().await;
}
