#![cfg(not(target_arch = "wasm32"))]
//! check, fetch and map-in against the M-Power simulator.

mod support;

use std::collections::BTreeSet;

use support::{kind, Sim};
use switchyard_plugin_mpower::{FetchCursor, Mpower};
use switchyard_sdk::testing::sent_requests;
use switchyard_sdk::time::Timestamp;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;

fn fetch_req(stream: &str, cursor: Option<String>, page_size: u32) -> FetchRequest {
    FetchRequest {
        stream: stream.into(),
        cursor,
        page_size,
        now: "2026-12-02T00:00:00Z".into(),
        external_ids: vec![],
    }
}

/// Fetches pages from `cursor` until a page says `has_more: false`; returns
/// the records, the number of pages and the cursor after the pass.
fn pass(stream: &str, cursor: Option<String>, page_size: u32) -> (Vec<RawRecord>, usize, String) {
    let mut cursor = cursor;
    let mut records = Vec::new();
    let mut pages = 0;
    loop {
        let page = Mpower::fetch(fetch_req(stream, cursor.clone(), page_size)).expect("fetch");
        pages += 1;
        assert!(pages < 1000, "the pass never ends");
        records.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            return (records, pages, cursor.expect("a cursor after the pass"));
        }
    }
}

fn max_updated(records: &[RawRecord]) -> Timestamp {
    records
        .iter()
        .filter_map(|r| r.updated_at.as_deref())
        .map(|t| Timestamp::parse(t).unwrap())
        .max()
        .expect("records have updated_at")
}

#[test]
fn check_reports_the_companies_and_refuses_a_wrong_key_without_showing_it() {
    let sim = Sim::small();
    sim.host().install();
    let report = Mpower::check().expect("check");
    let base = sim.url();
    assert_eq!(
        report.message,
        format!(
            "connected to M-Power at {} ({} companies)",
            base.trim_end_matches('/'),
            sim.counts().companies
        )
    );
    // The key went only through the placeholder.
    for r in sent_requests() {
        assert_eq!(r.header("X-Api-Key"), Some(sim.api_key()));
        assert!(!r.placeholder_url.contains(sim.api_key()));
    }

    let wrong = "wrong-key-123456";
    sim.host_with_key(wrong).install();
    let e = Mpower::check().unwrap_err();
    assert_eq!(kind(&e), "auth", "{e:?}");
    assert!(e.message().contains("refused the API key"), "{e:?}");
    assert!(!e.message().contains(wrong));
    assert!(!e.message().contains(sim.api_key()));
}

#[test]
fn every_stream_pages_through_and_a_second_pass_returns_only_changes() {
    let sim = Sim::small();
    sim.host().install();
    let counts = sim.counts();
    for (stream, total, prefix) in [
        ("companies", counts.companies, "company-"),
        ("contacts", counts.contacts, "contact-"),
        ("addresses", counts.addresses, "address-"),
        ("products", counts.products, ""),
    ] {
        let (records, pages, cursor) = pass(stream, None, 7);
        assert_eq!(records.len(), total, "{stream}: every record once");
        assert_eq!(pages, total.div_ceil(7), "{stream}: pages of 7");
        let ids: BTreeSet<_> = records.iter().map(|r| r.external_id.clone()).collect();
        assert_eq!(ids.len(), total, "{stream}: no record twice");
        assert!(ids
            .iter()
            .all(|i| i.starts_with(prefix) && i[prefix.len()..].parse::<u64>().is_ok()));
        // Sorted by updated_at.
        let times: Vec<Timestamp> = records
            .iter()
            .map(|r| Timestamp::parse(r.updated_at.as_deref().unwrap()).unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{stream}: sorted");
        // The next pass starts at the greatest updated_at seen, page 1.
        let c: FetchCursor = switchyard_sdk::cursor::decode(Some(cursor.as_str()))
            .unwrap()
            .unwrap();
        assert_eq!(c.page, 1);
        let since = Timestamp::parse(c.updated_since.as_deref().unwrap()).unwrap();
        assert_eq!(since, max_updated(&records));
        // Nothing changed: only the boundary records (updated_at == since) come again.
        let (again, _, _) = pass(stream, Some(cursor), 7);
        assert!(!again.is_empty() && again.len() < total, "{stream}");
        assert!(again
            .iter()
            .all(|r| Timestamp::parse(r.updated_at.as_deref().unwrap()).unwrap() == since));
    }

    // A change through the API shows in the next pass of companies.
    let (records, _, cursor) = pass("companies", None, 4);
    let since = max_updated(&records);
    let payload = Mpower::map_out(
        "companies".into(),
        Mpower::map_in("companies".into(), records[0].clone()).unwrap(),
    )
    .unwrap();
    let changed = records[0].external_id.clone();
    let r = Mpower::push(PushRequest {
        stream: "companies".into(),
        payload,
        idempotency_key: "k-upd".into(),
        external_id: Some(changed.clone()),
        mode: PushMode::Create,
    })
    .expect("update");
    assert!(!r.created);
    assert_eq!(r.external_id, changed);
    let (second, _, _) = pass("companies", Some(cursor), 4);
    assert!(second.iter().any(|r| r.external_id == changed));
    assert!(second.iter().all(|r| r.external_id == changed
        || Timestamp::parse(r.updated_at.as_deref().unwrap()).unwrap() == since));
    let sent = sent_requests();
    let last = sent.last().unwrap();
    assert!(last.url.contains("sort=updated_at"), "{}", last.url);
    assert!(last.url.contains("updated_since="), "{}", last.url);
}

#[test]
fn records_asked_for_by_id_are_read_and_missing_ones_left_out() {
    let sim = Sim::small();
    sim.host().install();
    let mut req = fetch_req("companies", None, 10);
    req.external_ids = vec![
        "company-1".into(),
        "company-99999".into(),
        "contact-3".into(),
        "company-2".into(),
    ];
    let page = Mpower::fetch(req).unwrap();
    let ids: Vec<_> = page
        .records
        .iter()
        .map(|r| r.external_id.as_str())
        .collect();
    assert_eq!(ids, ["company-1", "company-2"]);
    assert!(!page.has_more);
    let mut req = fetch_req("products", None, 10);
    req.external_ids = vec!["3".into()];
    let page = Mpower::fetch(req).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].external_id, "3");
}

fn get(stream: &str, id: &str) -> RawRecord {
    let mut req = fetch_req(stream, None, 10);
    req.external_ids = vec![id.into()];
    Mpower::fetch(req).unwrap().records.remove(0)
}

#[test]
fn each_stream_maps_in() {
    let sim = Sim::small();
    sim.host().install();

    let Entity::Customer(c) =
        Mpower::map_in("companies".into(), get("companies", "company-1")).unwrap()
    else {
        panic!("a customer")
    };
    assert_eq!(c.kind, PartyKind::Company);
    assert_eq!(c.external_id.as_deref(), Some("company-1"));
    assert_eq!(c.company_name.as_deref(), Some("Acme B.V."));
    assert_eq!(c.vat_number.as_deref(), Some("NL123456789B01"));
    let ext: serde_json::Value = serde_json::from_str(&c.extension).unwrap();
    assert_eq!(ext["mpower_id"], 1);
    assert_eq!(
        ext["legal_form"],
        sim.company_json(1).unwrap()["legal_form"]
    );

    let Entity::Customer(p) =
        Mpower::map_in("contacts".into(), get("contacts", "contact-2")).unwrap()
    else {
        panic!("a customer")
    };
    assert_eq!(p.kind, PartyKind::Person);
    assert_eq!(p.external_id.as_deref(), Some("contact-2"));
    assert_eq!(p.email.as_deref(), Some(" Jan.Jansen@ACME.nl"), "as stored");
    assert_eq!(p.company_external_id.as_deref(), Some("company-2"));
    assert_eq!(p.company_name.as_deref(), Some("ACME BV"));
    assert_eq!(p.vat_number.as_deref(), Some("NL 1234.56.789.B01"));

    // Company 1's head office is address 1.
    let a_json = sim.address_json(1).unwrap();
    assert_eq!(a_json["company_id"], 1);
    let Entity::Customer(a) =
        Mpower::map_in("addresses".into(), get("addresses", "address-1")).unwrap()
    else {
        panic!("a customer")
    };
    assert_eq!(a.kind, PartyKind::Company);
    assert_eq!(a.external_id.as_deref(), Some("company-1"));
    assert_eq!(a.addresses.len(), 1);
    let addr = &a.addresses[0];
    assert_eq!(addr.external_id.as_deref(), Some("address-1"));
    assert_eq!(addr.lines, ["Main Street 1"]);
    assert_eq!(addr.postal_code.as_deref(), Some("1012 AB"));
    assert_eq!(addr.country.as_deref(), a_json["country"].as_str());
    assert_eq!(addr.city.as_deref(), a_json["city"].as_str());

    let p_json = sim.product_json(2).unwrap();
    let Entity::Product(prod) = Mpower::map_in("products".into(), get("products", "2")).unwrap()
    else {
        panic!("a product")
    };
    assert_eq!(prod.external_id, "2");
    assert_eq!(prod.code.as_deref(), p_json["product_code"].as_str());
    assert_eq!(prod.sku.as_deref(), p_json["external_id"].as_str());
    assert_eq!(prod.name, p_json["name"].as_str().unwrap());
    let cents = switchyard_sdk::money::json_to_minor(&p_json["price"], 2).unwrap();
    assert_eq!(prod.price_excl_tax, Some(cents));
    assert_eq!(prod.active, p_json["active"].as_bool().unwrap());
    let ext: serde_json::Value = serde_json::from_str(&prod.extension).unwrap();
    assert_eq!(
        ext.get("mpower_external_id"),
        p_json.get("external_id").filter(|v| !v.is_null())
    );
}

#[test]
fn provider_faults_map_to_what_a_retry_would_do() {
    use switchyard_sim::FaultConfig;
    let sim = Sim::small();
    sim.host().install();
    let req = || fetch_req("companies", None, 5);

    sim.set_faults(FaultConfig {
        throttle_next: 1,
        retry_after_secs: 4,
        ..FaultConfig::default()
    })
    .unwrap();
    match Mpower::fetch(req()).unwrap_err() {
        ConnectorError::RateLimited(r) => assert_eq!(r.retry_after_ms, Some(4000)),
        other => panic!("{other:?}"),
    }

    sim.set_faults(FaultConfig {
        fail_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let e = Mpower::fetch(req()).unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    assert!(e.message().contains("/api/v1/companies"), "{e:?}");

    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let e = Mpower::fetch(req()).unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    assert!(e.message().contains("broken JSON"), "{e:?}");
    assert!(e.message().contains("GET http://"), "{e:?}");
    assert!(!e.message().contains(sim.api_key()));

    sim.set_faults(FaultConfig::default()).unwrap();
    assert!(Mpower::fetch(req()).unwrap().has_more);
}
