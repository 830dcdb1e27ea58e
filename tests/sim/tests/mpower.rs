//! The M-Power simulator over real HTTP on 127.0.0.1.

mod support;

use std::net::SocketAddr;

use serde_json::{json, Value};
use switchyard_sim::mpower::{spawn_mpower, MpowerConfig, MpowerFaults, MpowerSim};
use switchyard_sim::{FaultConfig, RunningSim};

use support::Answer;

/// One request to the M-Power API.
async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
    body: Option<&str>,
) -> Answer {
    support::raw(addr, "mpower.local", method, path, extra, body).await
}

/// An authorised call.
async fn call(
    sim: &RunningSim<MpowerSim>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let key = format!("X-Api-Key: {}\r\n", sim.api_key());
    let body = body.map(|b| b.to_string());
    raw(sim.addr(), method, path, &key, body.as_deref()).await
}

async fn call_idem(sim: &RunningSim<MpowerSim>, path: &str, key: &str, body: &Value) -> Answer {
    let extra = format!("X-Api-Key: {}\r\nIdempotency-Key: {key}\r\n", sim.api_key());
    raw(sim.addr(), "POST", path, &extra, Some(&body.to_string())).await
}

async fn start() -> RunningSim<MpowerSim> {
    spawn_mpower(MpowerConfig {
        contacts: 900,
        products: 600,
        orders: 300,
        ..MpowerConfig::default()
    })
    .await
    .expect("spawn")
}

fn assert_error(a: &Answer, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let e = &a.json()["error"];
    assert_eq!(e["status"], status);
    assert_eq!(e["code"], code, "{e}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    if let Some(f) = field {
        assert_eq!(e["field"], f, "{e}");
    }
}

#[tokio::test]
async fn auth_is_required() {
    let sim = start().await;
    let none = raw(sim.addr(), "GET", "/api/v1/contacts", "", None).await;
    assert_error(&none, 401, "unauthorized", None);
    let wrong = raw(
        sim.addr(),
        "GET",
        "/api/v1/contacts",
        "X-Api-Key: nope\r\n",
        None,
    )
    .await;
    assert_error(&wrong, 401, "unauthorized", None);
    let ok = call(&sim, "GET", "/api/v1/ping", None).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["status"], "ok");
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_covers_everything_once() {
    let sim = start().await;
    let first = call(&sim, "GET", "/api/v1/products?per_page=200", None)
        .await
        .json();
    assert_eq!(first["total"], 600);
    assert_eq!(first["total_pages"], 3);
    let mut ids = Vec::new();
    for page in 1..=4 {
        let a = call(
            &sim,
            "GET",
            &format!("/api/v1/products?page={page}&per_page=200"),
            None,
        )
        .await;
        assert_eq!(a.status, 200);
        let data = a.json()["data"].as_array().unwrap().clone();
        if page == 4 {
            assert!(data.is_empty());
        }
        ids.extend(data.iter().map(|p| p["id"].as_u64().unwrap()));
    }
    let expected: Vec<u64> = (1..=600).collect();
    assert_eq!(ids, expected);
    assert_error(
        &call(&sim, "GET", "/api/v1/products?per_page=500", None).await,
        400,
        "invalid_parameter",
        Some("per_page"),
    );
    assert_error(
        &call(&sim, "GET", "/api/v1/products?page=0", None).await,
        400,
        "invalid_parameter",
        Some("page"),
    );
    // A misspelt filter is refused rather than ignored.
    assert_error(
        &call(&sim, "GET", "/api/v1/contacts?mail=x@y.nl", None).await,
        400,
        "invalid_parameter",
        Some("mail"),
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn seeded_near_duplicates_are_there() {
    let sim = start().await;
    let acme = call(&sim, "GET", "/api/v1/companies?q=acme&per_page=200", None)
        .await
        .json();
    let names: Vec<&str> = acme["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in ["Acme B.V.", "ACME BV", "Acme"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let by_vat = call(
        &sim,
        "GET",
        "/api/v1/companies?vat_number=nl123456789b01",
        None,
    )
    .await
    .json();
    let vat_ids: Vec<u64> = by_vat["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert!(
        vat_ids.starts_with(&[1, 2]),
        "both VAT spellings match: {by_vat}"
    );
    // One person entered twice with e-mail variants: both come back, each with its company.
    let jan = call(
        &sim,
        "GET",
        "/api/v1/contacts?email=JAN.JANSEN@acme.nl",
        None,
    )
    .await
    .json();
    assert_eq!(jan["total"], 2);
    let companies: Vec<&str> = jan["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["company"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(companies, ["Acme B.V.", "ACME BV"]);
    assert!(!sim.duplicate_contacts().is_empty());
    // Several contacts of one company; the slightly different address of its twin.
    let of_acme = call(&sim, "GET", "/api/v1/contacts?company_id=1", None)
        .await
        .json();
    assert!(of_acme["total"].as_u64().unwrap() >= 2);
    let a1 = call(&sim, "GET", "/api/v1/companies/1/addresses", None)
        .await
        .json();
    let a2 = call(&sim, "GET", "/api/v1/companies/2/addresses", None)
        .await
        .json();
    assert_eq!(a1["data"][0]["street"], "Main Street");
    assert_eq!(a2["data"][0]["street"], "Main St.");
    // Products by code and by external id.
    let p = sim.product_json(2).unwrap();
    let ext = p["external_id"].as_str().unwrap();
    let found = call(
        &sim,
        "GET",
        &format!("/api/v1/products?external_id={ext}"),
        None,
    )
    .await
    .json();
    assert_eq!(found["data"][0]["id"], 2);
    let code = sim.product_json(1).unwrap()["product_code"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let found = call(
        &sim,
        "GET",
        &format!("/api/v1/products?product_code={code}"),
        None,
    )
    .await
    .json();
    assert_eq!(found["data"][0]["id"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn push_then_read_and_duplicates_are_visible() {
    let sim = start().await;
    let before = sim.counts();
    let c = call(
        &sim,
        "POST",
        "/api/v1/companies",
        Some(json!({"name": "Zeta Print BV", "vat_number": "NL999999999B01"})),
    )
    .await;
    assert_eq!(c.status, 201);
    let cid = c.json()["id"].as_u64().unwrap();
    assert_eq!(
        c.header("location"),
        Some(format!("/api/v1/companies/{cid}").as_str())
    );
    let contact = call(&sim, "POST", "/api/v1/contacts", Some(json!({"company_id": cid, "first_name": "Zoë", "last_name": "Zeta", "email": "zoe@zeta.nl"}))).await;
    assert_eq!(contact.status, 201);
    let contact_id = contact.json()["id"].as_u64().unwrap();
    let read = call(&sim, "GET", &format!("/api/v1/contacts/{contact_id}"), None)
        .await
        .json();
    assert_eq!(read["company"]["name"], "Zeta Print BV");
    let addr = call(&sim, "POST", &format!("/api/v1/companies/{cid}/addresses"), Some(json!({"street": "Kade", "house_number": "7", "postcode": "1011 AA", "city": "Amsterdam", "country": "nl"}))).await;
    assert_eq!(addr.status, 201);
    assert_eq!(addr.json()["country"], "NL");
    let aid = addr.json()["id"].as_u64().unwrap();
    let order = json!({"company_id": cid, "contact_id": contact_id, "address_id": aid, "external_reference": "PR-1001",
        "lines": [{"product_id": 1, "quantity": 250, "price": "12.50"}, {"product_id": 2, "quantity": 1}]});
    let o = call(&sim, "POST", "/api/v1/orders", Some(order.clone())).await;
    assert_eq!(o.status, 201, "{}", String::from_utf8_lossy(&o.body));
    let oid = o.json()["id"].as_u64().unwrap();
    let got = call(
        &sim,
        "GET",
        "/api/v1/orders?external_reference=PR-1001",
        None,
    )
    .await
    .json();
    assert_eq!(got["data"][0]["id"], oid);
    assert_eq!(got["data"][0]["lines"][0]["total"], "3125.00");
    // The external reference is unique: 409 with the existing id.
    let again = call(&sim, "POST", "/api/v1/orders", Some(order)).await;
    assert_error(
        &again,
        409,
        "duplicate_external_reference",
        Some("external_reference"),
    );
    assert_eq!(again.json()["error"]["existing_id"], oid);
    // PATCH changes, updated_since sees it.
    let p = call(
        &sim,
        "PATCH",
        &format!("/api/v1/orders/{oid}"),
        Some(json!({"status": "in_production"})),
    )
    .await;
    assert_eq!(p.json()["status"], "in_production");
    // Contacts have no idempotency: a second create is a duplicate, and tests can see it.
    call(
        &sim,
        "POST",
        "/api/v1/contacts",
        Some(json!({"company_id": cid, "last_name": "Zeta", "email": " ZOE@zeta.nl"})),
    )
    .await;
    assert_eq!(sim.contacts_with_email("zoe@zeta.nl").len(), 2);
    let after = sim.counts();
    assert_eq!(after.contacts, before.contacts + 2);
    assert_eq!(after.orders, before.orders + 1);
    let created = sim.created(Some("contacts"));
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].body["email"], " ZOE@zeta.nl", "kept as received");
    let ctl = raw(
        sim.addr(),
        "GET",
        "/_control/mpower/created?resource=orders",
        "",
        None,
    )
    .await
    .json();
    assert_eq!(ctl.as_array().unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let sim = start().await;
    let cases = [
        ("/api/v1/companies", json!({"vat_number": "x"}), "name"),
        ("/api/v1/contacts", json!({"last_name": "X"}), "company_id"),
        (
            "/api/v1/contacts",
            json!({"company_id": 999999, "last_name": "X"}),
            "company_id",
        ),
        (
            "/api/v1/contacts",
            json!({"company_id": 1, "last_name": "X", "email": "not-mail"}),
            "email",
        ),
        (
            "/api/v1/companies/1/addresses",
            json!({"street": "A", "postcode": "1", "city": "B", "country": "Netherlands"}),
            "country",
        ),
        (
            "/api/v1/products",
            json!({"product_code": "Q-1", "name": "Q"}),
            "price",
        ),
        (
            "/api/v1/orders",
            json!({"company_id": 1, "contact_id": 1, "address_id": 1, "lines": [{"product_id": 1}]}),
            "lines[0].quantity",
        ),
        (
            "/api/v1/orders",
            json!({"company_id": 1, "contact_id": 1, "address_id": 1, "lines": [{"product_id": 99999999, "quantity": 1}]}),
            "lines[0].product_id",
        ),
        (
            "/api/v1/orders",
            json!({"company_id": 2, "contact_id": 1, "address_id": 1, "lines": [{"product_id": 1, "quantity": 1}]}),
            "contact_id",
        ),
        (
            "/api/v1/companies",
            json!({"name": "A", "nmae": "typo"}),
            "nmae",
        ),
    ];
    for (path, body, field) in cases {
        let a = call(&sim, "POST", path, Some(body)).await;
        assert_eq!(
            a.status,
            422,
            "{path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_eq!(a.json()["error"]["field"], field);
    }
    assert_error(
        &call(&sim, "GET", "/api/v1/contacts/99999999", None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(
            &sim,
            "PATCH",
            "/api/v1/products/99999999",
            Some(json!({"name": "x"})),
        )
        .await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&sim, "GET", "/api/v1/nothing", None).await,
        404,
        "not_found",
        None,
    );
    let bad = raw(
        sim.addr(),
        "POST",
        "/api/v1/companies",
        &format!("X-Api-Key: {}\r\n", sim.api_key()),
        Some("{oops"),
    )
    .await;
    assert_error(&bad, 400, "invalid_json", None);
    let m = call(&sim, "DELETE", "/api/v1/companies/1", None).await;
    assert_error(&m, 405, "method_not_allowed", None);
    assert_eq!(sim.created(None).len(), 0, "nothing stored");
    sim.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let sim = start().await;
    let body = json!({"company_id": 1, "contact_id": 1, "address_id": 1, "lines": [{"product_id": 3, "quantity": 10}]});
    sim.set_mpower_faults(MpowerFaults {
        fail_after_commit_next: 1,
    });
    let lost = call_idem(&sim, "/api/v1/orders", "k-1", &body).await;
    assert_error(&lost, 500, "internal_error", None);
    let retry = call_idem(&sim, "/api/v1/orders", "k-1", &body).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let id = retry.json()["id"].as_u64().unwrap();
    assert_eq!(
        sim.created(Some("orders")).len(),
        1,
        "one order despite the retry"
    );
    assert_eq!(sim.order_json(id).unwrap()["lines"][0]["product_id"], 3);
    let other = call_idem(&sim, "/api/v1/orders", "k-1", &json!({"company_id": 1})).await;
    assert_error(&other, 422, "idempotency_key_reused", None);
    assert_eq!(sim.counts().idempotent_replays, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn order_request_matching_and_conversion() {
    let sim = start().await;
    let req = |email: &str, reference: &str, street: &str| {
        json!({
        "source": "integration", "integration": "Pressero Chicago", "external_reference": reference,
        "customer": {"email": email, "first_name": "Eva", "last_name": "Nieuw", "company_name": "Nieuw Drukwerk"},
        "address": {"street": street, "house_number": "5", "postcode": "3011 AA", "city": "Rotterdam", "country": "NL"},
        "lines": [
            {"product_code": sim.product_json(1).unwrap()["product_code"], "quantity": 100, "price": 45},
            {"external_id": sim.product_json(2).unwrap()["external_id"], "quantity": 1, "price": "9.99"},
            {"product_code": "UNKNOWN-1", "quantity": 5, "price": "1.00"}
        ]})
    };
    // Unknown customer: nothing matched, one product unknown → not ready.
    let a = call(
        &sim,
        "POST",
        "/api/v1/order-requests",
        Some(req("eva@nieuw.nl", "1001", "Coolsingel")),
    )
    .await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let r = a.json();
    let rid = r["id"].as_u64().unwrap();
    assert_eq!(r["contact_match"], "none");
    assert_eq!(r["lines"][0]["matched_by"], "product_code");
    assert_eq!(r["lines"][1]["matched_by"], "external_id");
    assert_eq!(r["missing"], json!(["lines[2].product_id"]));
    let conv = call(
        &sim,
        "POST",
        &format!("/api/v1/order-requests/{rid}/convert"),
        Some(json!({})),
    )
    .await;
    assert_error(&conv, 422, "validation_failed", Some("lines[2].product_id"));
    let fix = call(
        &sim,
        "PATCH",
        &format!("/api/v1/order-requests/{rid}"),
        Some(json!({"lines": [{"line_no": 3, "product_id": 5}]})),
    )
    .await;
    assert_eq!(fix.json()["ready"], true);
    let before = sim.counts();
    let conv = call(
        &sim,
        "POST",
        &format!("/api/v1/order-requests/{rid}/convert"),
        Some(json!({})),
    )
    .await;
    assert_eq!(conv.status, 201, "{}", String::from_utf8_lossy(&conv.body));
    let order = conv.json()["order"].clone();
    let after = sim.counts();
    assert_eq!(
        (
            after.companies,
            after.contacts,
            after.addresses,
            after.orders
        ),
        (
            before.companies + 1,
            before.contacts + 1,
            before.addresses + 1,
            before.orders + 1
        )
    );
    assert_eq!(order["external_reference"], "1001");
    assert_eq!(
        sim.contacts_with_email("eva@nieuw.nl")[0]["company"]["name"],
        "Nieuw Drukwerk"
    );
    let twice = call(
        &sim,
        "POST",
        &format!("/api/v1/order-requests/{rid}/convert"),
        Some(json!({})),
    )
    .await;
    assert_error(&twice, 409, "already_converted", None);
    // Same request again (same integration and reference) → 409.
    let dup = call(
        &sim,
        "POST",
        "/api/v1/order-requests",
        Some(req("eva@nieuw.nl", "1001", "Coolsingel")),
    )
    .await;
    assert_error(&dup, 409, "duplicate_external_reference", None);
    assert_eq!(dup.json()["error"]["existing_id"], rid);
    // Next order of the same customer: contact + company preset, address recognised.
    let b = call(
        &sim,
        "POST",
        "/api/v1/order-requests",
        Some(req(" EVA@Nieuw.nl", "1002", "Coolsingel")),
    )
    .await
    .json();
    assert_eq!(b["contact_match"], "matched");
    assert_eq!(b["company_id"], order["company_id"]);
    assert_eq!(b["address_recognised"], true);
    assert_eq!(b["address_id"], order["address_id"]);
    // A slightly different street is not recognised.
    let c = call(
        &sim,
        "POST",
        "/api/v1/order-requests",
        Some(req("eva@nieuw.nl", "1003", "Coolsingel.")),
    )
    .await
    .json();
    assert_eq!(c["address_recognised"], false);
    // Several contacts share an e-mail: one must be picked.
    let m = call(
        &sim,
        "POST",
        "/api/v1/order-requests",
        Some(req("jan.jansen@acme.nl", "1004", "Main Street")),
    )
    .await
    .json();
    assert_eq!(m["contact_match"], "multiple");
    assert_eq!(m["contact_candidates"], json!([1, 2]));
    assert!(m["missing"]
        .as_array()
        .unwrap()
        .contains(&json!("contact_id")));
    let listed = call(
        &sim,
        "GET",
        "/api/v1/order-requests?status=open&integration=pressero%20chicago",
        None,
    )
    .await
    .json();
    assert_eq!(listed["total"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_use_the_error_shape() {
    let sim = start().await;
    sim.set_faults(FaultConfig {
        throttle_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let t = call(&sim, "GET", "/api/v1/products", None).await;
    assert_error(&t, 429, "rate_limited", None);
    assert_eq!(t.header("retry-after"), Some("1"));
    sim.set_faults(FaultConfig {
        fail_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let f = call(&sim, "GET", "/api/v1/products", None).await;
    assert!(f.status == 500 || f.status == 503);
    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let m = call(&sim, "GET", "/api/v1/products/1", None).await;
    assert_eq!(m.status, 200);
    assert!(serde_json::from_slice::<Value>(&m.body).is_err());
    let stats = sim.fault_stats();
    assert_eq!(
        (stats.throttled, stats.server_errors, stats.malformed),
        (1, 1, 1)
    );
    // The control API is never faulted and can clear faults.
    let put = raw(sim.addr(), "PUT", "/_control/mpower/faults", "", Some("{}")).await;
    assert_eq!(put.status, 200);
    assert_eq!(
        call(&sim, "GET", "/api/v1/products/1", None).await.status,
        200
    );
    let status = raw(sim.addr(), "GET", "/_control/mpower", "", None)
        .await
        .json();
    assert_eq!(status["counts"]["products"], 600);
    assert_eq!(status["requests"]["get /api/v1/products/{id}"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn same_seed_same_data_and_reset() {
    let cfg = MpowerConfig {
        contacts: 300,
        products: 200,
        orders: 200,
        ..MpowerConfig::default()
    };
    let dump = |s: &MpowerSim| {
        let mut out = Vec::new();
        s.write_all_json(&mut out).unwrap();
        out
    };
    let a = spawn_mpower(cfg.clone()).await.unwrap();
    let b = spawn_mpower(cfg.clone()).await.unwrap();
    let c = spawn_mpower(MpowerConfig { seed: 7, ..cfg }).await.unwrap();
    assert_eq!(dump(&a), dump(&b));
    assert_ne!(dump(&a), dump(&c));
    let before = dump(&a);
    call(
        &a,
        "POST",
        "/api/v1/companies",
        Some(json!({"name": "Extra"})),
    )
    .await;
    assert_ne!(dump(&a), before);
    let r = raw(a.addr(), "POST", "/_control/mpower/reset", "", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(dump(&a), before);
    assert!(a.created(None).is_empty());
    for s in [a, b, c] {
        s.shutdown().await;
    }
}
