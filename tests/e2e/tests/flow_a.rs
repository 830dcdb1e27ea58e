//! Flow A (R-A-1 … R-A-5): Pressero orders become order requests matched against M-Power,
//! a person decides what matching cannot, and conversion creates at M-Power exactly what is
//! missing — by the built wasm plugins, through the host, against both simulators on
//! 127.0.0.1.

use std::time::Duration;

use serde_json::json;
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, mpower_connection, plugin_dir, pressero_connection, stream_flow,
};
use switchyard_engine::inbox::{Evaluation, Settled};
use switchyard_engine::Switchyard;
use switchyard_runtime::bindings::{Entity, Order};
use switchyard_sim::mpower::{spawn_mpower, MpowerConfig, MpowerSim};
use switchyard_sim::pressero::{spawn_pressero, PlacedOrder, PresseroConfig, PresseroSim};
use switchyard_sim::RunningSim;
use switchyard_store::{ConnectionId, OrderRequest, RequestSource, RequestState, TenantId};

/// Catalogue positions of the Pressero simulator as the M-Power simulator mirrors them.
const BY_PRODUCT_CODE: usize = 0;
const BY_EXTERNAL_ID: usize = 1;
const NOT_AT_MPOWER: usize = 7;

struct World {
    pressero: RunningSim<PresseroSim>,
    mpower: RunningSim<MpowerSim>,
    host: Switchyard,
    tenant: TenantId,
    mis: ConnectionId,
    flow: switchyard_store::FlowId,
    _dir: tempfile::TempDir,
}

async fn world(mpower_settings: &[(&str, &str)]) -> World {
    let pressero = spawn_pressero(PresseroConfig {
        orders: 2,
        base_time: days_ago_ms(2),
        ..Default::default()
    })
    .await
    .unwrap();
    let mpower = spawn_mpower(MpowerConfig {
        contacts: 60,
        products: 40,
        orders: 5,
        order_requests: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_timeout(dir.path(), &plugin_dir(), Duration::from_secs(5)).await;
    let password = pressero.credentials().password.clone();
    let shop = pressero_connection(&host, &pressero, "shop", &password).await;
    let mis = mpower_connection(&host, &mpower, "mpower", mpower_settings).await;
    let flow = stream_flow(
        &host,
        "shop-to-mpower",
        (shop, "orders"),
        (mis, "orders"),
        json!({"mode": "inbox"}),
    )
    .await;
    let tenant = host.store().connection(mis).await.unwrap().tenant;
    World {
        pressero,
        mpower,
        host,
        tenant,
        mis,
        flow,
        _dir: dir,
    }
}

fn buyer(
    email: &str,
    business: &str,
    street: &str,
    postcode: &str,
    city: &str,
    country: &str,
    products: &[usize],
) -> PlacedOrder {
    PlacedOrder {
        email: email.into(),
        first_name: "Test".into(),
        last_name: "Buyer".into(),
        business: business.into(),
        street: street.into(),
        postcode: postcode.into(),
        city: city.into(),
        country: country.into(),
        products: products.to_vec(),
    }
}

impl World {
    async fn request(&self, number: u64) -> (OrderRequest, Evaluation) {
        let r = self
            .host
            .store()
            .order_request_by_reference(self.tenant, self.mis, "shop", &number.to_string())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no request for order {number}"));
        let e: Evaluation = serde_json::from_value(r.evaluation.clone()).unwrap();
        (r, e)
    }

    fn created(&self, resource: &str) -> usize {
        self.mpower.created(Some(resource)).len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_matched_decided_and_converted_creating_only_what_is_missing() {
    let w = world(&[]).await;
    // One contact has this e-mail: contact and company preset, the company's known
    // address recognised in another spelling; products by code and by external id.
    let one = w.pressero.place_order(&buyer(
        "piet.bakker@acme.nl",
        "Acme B.V.",
        "Main St. 1",
        "1012AB",
        "AMSTERDAM",
        "NL",
        &[BY_PRODUCT_CODE, BY_EXTERNAL_ID],
    ));
    // Two contacts have this e-mail (case and blanks differ): a person must choose.
    let several = w.pressero.place_order(&buyer(
        " JAN.JANSEN@acme.nl",
        "Acme",
        "Main Street 1",
        "1012 AB",
        "Amsterdam",
        "NL",
        &[BY_PRODUCT_CODE],
    ));
    // Nobody: contact, company and address are created; the product must be linked.
    let nobody = w.pressero.place_order(&buyer(
        "new.buyer@example.org",
        "Brand New Print Ltd",
        "12 Canal Road",
        "EC1A 1BB",
        "London",
        "GB",
        &[NOT_AT_MPOWER],
    ));

    let sync = w.host.sync_flow(w.flow).await.unwrap();
    let inbox = sync.inbox.as_ref().unwrap();
    assert!(inbox.created >= 3, "{inbox:?}");
    assert_eq!(
        sync.reference.len(),
        4,
        "companies, contacts, addresses, products"
    );

    let (r, e) = w.request(one).await;
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    assert_eq!(r.source, RequestSource::Integration);
    assert_eq!(e.contact.settled, Settled::Matched);
    assert_eq!(e.contact.contact.as_deref(), Some("contact-3"));
    assert_eq!(e.company.settled, Settled::FromContact);
    assert_eq!(e.company.company.as_deref(), Some("company-1"));
    assert_eq!(e.address.settled, Settled::Matched, "{:?}", e.address);
    let known_address = e.address.address.clone().unwrap();
    assert_eq!(e.lines[0].matched_by.as_deref(), Some("product-code"));
    assert_eq!(e.lines[1].matched_by.as_deref(), Some("external-id"));

    let (r, e) = w.request(several).await;
    assert_eq!(r.state, RequestState::NeedsAttention);
    assert_eq!(e.contact.settled, Settled::Multiple);
    let mut ids: Vec<_> = e
        .contact
        .candidates
        .iter()
        .map(|c| c.external_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["contact-1", "contact-2"]);
    assert!(e
        .contact
        .candidates
        .iter()
        .all(|c| c.matched_fields == ["email"]));
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("contact-1") && reason.contains("contact-2"),
        "{reason}"
    );
    let (r, e) = w
        .host
        .choose_for_request(w.tenant, r.id, Some("contact-2"), None)
        .await
        .unwrap();
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    assert_eq!(e.company.company.as_deref(), Some("company-2"));

    let (r, e) = w.request(nobody).await;
    assert_eq!(r.state, RequestState::NeedsAttention);
    assert_eq!(e.contact.settled, Settled::New);
    assert_eq!(e.company.settled, Settled::New);
    assert_eq!(e.address.settled, Settled::New);
    assert_eq!(e.lines[0].settled, Settled::Unmatched);
    assert!(r.reason.unwrap().contains("line 1"));
    let (r, _) = w
        .host
        .link_request_line(w.tenant, r.id, 1, "30")
        .await
        .unwrap();
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    let nobody_id = r.id;

    // Convert all three; converting again sends nothing.
    let before_orders = w.created("orders");
    for n in [one, several, nobody] {
        let (r, _) = w.request(n).await;
        let c = w.host.convert_request(w.tenant, r.id).await.unwrap();
        assert!(!c.already_converted);
        let again = w.host.convert_request(w.tenant, r.id).await.unwrap();
        assert!(again.already_converted);
        assert_eq!(again.order, c.order);
    }
    assert_eq!(w.created("orders") - before_orders, 3);
    assert_eq!(w.created("contacts"), 1);
    assert_eq!(w.created("companies"), 1);
    assert_eq!(w.created("addresses"), 1, "only the new buyer's address");
    let (r, _) = w.request(one).await;
    let order = w
        .mpower
        .order_json(r.external_id.unwrap().parse().unwrap())
        .unwrap();
    assert_eq!(order["contact_id"], 3);
    assert_eq!(order["company_id"], 1);
    assert_eq!(
        order["address_id"].to_string(),
        known_address.trim_start_matches("address-")
    );
    assert_eq!(order["external_reference"], one.to_string());
    let created_contact = &w.mpower.created(Some("contacts"))[0].body;
    assert_eq!(created_contact["email"], "new.buyer@example.org");
    let created_company = &w.mpower.created(Some("companies"))[0].body;
    assert_eq!(created_company["name"], "Brand New Print Ltd");

    // The new buyer orders again, the address typed differently and the same product:
    // the contact is now known, the address used before with this integration, the
    // product link remembered. Nothing new is created but the order.
    let again = w.pressero.place_order(&buyer(
        "New.Buyer@example.org ",
        "Brand New Print Ltd",
        "12 Canal Rd.",
        "EC1A1BB",
        "LONDON",
        "GB",
        &[NOT_AT_MPOWER],
    ));
    w.host.sync_flow(w.flow).await.unwrap();
    let (r, e) = w.request(again).await;
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    assert_eq!(e.contact.settled, Settled::Matched);
    assert_eq!(e.address.settled, Settled::Remembered, "{:?}", e.address);
    assert_eq!(e.lines[0].settled, Settled::Remembered);
    assert_eq!(e.lines[0].product.as_deref(), Some("30"));
    w.host.convert_request(w.tenant, r.id).await.unwrap();
    assert_eq!(w.created("orders") - before_orders, 4);
    assert_eq!(w.created("contacts"), 1);
    assert_eq!(w.created("companies"), 1);
    assert_eq!(w.created("addresses"), 1);

    // A new address of a known buyer is created under the selected company.
    let moved = w.pressero.place_order(&buyer(
        "piet.bakker@acme.nl",
        "Acme B.V.",
        "Keizersgracht 100",
        "1015 AA",
        "Amsterdam",
        "NL",
        &[BY_PRODUCT_CODE],
    ));
    w.host.sync_flow(w.flow).await.unwrap();
    let (r, e) = w.request(moved).await;
    assert_eq!(e.address.settled, Settled::New);
    w.host.convert_request(w.tenant, r.id).await.unwrap();
    let addresses = w.mpower.created(Some("addresses"));
    assert_eq!(addresses.len(), 2);
    assert!(
        addresses[1].path.ends_with("/companies/1/addresses"),
        "{}",
        addresses[1].path
    );

    // The contact chosen among several is remembered for this integration and e-mail.
    let twice_again = w.pressero.place_order(&buyer(
        "jan.jansen@ACME.nl",
        "Acme",
        "Main Street 1",
        "1012 AB",
        "Amsterdam",
        "NL",
        &[BY_PRODUCT_CODE],
    ));
    w.host.sync_flow(w.flow).await.unwrap();
    let (r, e) = w.request(twice_again).await;
    assert_eq!(e.contact.settled, Settled::Remembered, "{:?}", e.contact);
    assert_eq!(e.contact.contact.as_deref(), Some("contact-2"));
    assert_eq!(
        e.contact.candidates.len(),
        2,
        "the candidates are still shown"
    );
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);

    // A converted request is not created again by the next import, nor changed.
    let sync = w.host.sync_flow(w.flow).await.unwrap();
    assert_eq!(sync.inbox.unwrap().created, 0);
    let (r, _) = w.request(one).await;
    assert_eq!(r.state, RequestState::Converted);
    assert!(w
        .host
        .link_request_line(w.tenant, nobody_id, 1, "31")
        .await
        .is_err());

    // Manual entry: the same matching, its source recorded.
    let mut manual: Order =
        match serde_json::from_value::<Entity>(w.request(one).await.0.order).unwrap() {
            Entity::Order(o) => o,
            _ => unreachable!(),
        };
    manual.number = "PHONE-1".into();
    let (r, e) = w
        .host
        .add_request(w.mis, RequestSource::Manual, &manual)
        .await
        .unwrap();
    assert_eq!(r.source, RequestSource::Manual);
    assert_eq!(r.source_name, "manual");
    assert_eq!(e.contact.contact.as_deref(), Some("contact-3"));
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_product_matching_off_every_line_waits_for_a_link() {
    let w = world(&[("product-matching", "false")]).await;
    let n = w.pressero.place_order(&buyer(
        "piet.bakker@acme.nl",
        "Acme B.V.",
        "Main Street 1",
        "1012 AB",
        "Amsterdam",
        "NL",
        &[BY_PRODUCT_CODE, NOT_AT_MPOWER],
    ));
    w.host.sync_flow(w.flow).await.unwrap();
    let (r, e) = w.request(n).await;
    assert_eq!(r.state, RequestState::NeedsAttention);
    assert!(!e.product_matching);
    assert!(e
        .lines
        .iter()
        .all(|l| l.settled == Settled::Unmatched && l.product.is_none()));
    assert!(r.reason.unwrap().contains("product matching is off"));
    w.host
        .link_request_line(w.tenant, r.id, 1, "1")
        .await
        .unwrap();
    let (r, _) = w
        .host
        .link_request_line(w.tenant, r.id, 2, "new")
        .await
        .unwrap();
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    let c = w.host.convert_request(w.tenant, r.id).await.unwrap();
    assert!(
        c.created.iter().any(|(step, _)| step == "product-2"),
        "{c:?}"
    );
    assert_eq!(w.created("products"), 1);
    // The request for an unknown id is refused with the reason.
    let err = w
        .host
        .link_request_line(w.tenant, 9999, 1, "1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("9999"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_then_a_second_conversion_creates_nothing_twice() {
    let w = world(&[]).await;
    let n = w.pressero.place_order(&buyer(
        "lost.answer@example.org",
        "Lost Answer GmbH",
        "Hauptstraße 5",
        "10115",
        "Berlin",
        "DE",
        &[BY_PRODUCT_CODE],
    ));
    w.host.sync_flow(w.flow).await.unwrap();
    let (r, _) = w.request(n).await;
    assert_eq!(r.state, RequestState::Ready, "{:?}", r.reason);
    // Each create is stored at M-Power and then answered 500, one after the other; the
    // conversion fails and the next one looks the step up instead of creating it again.
    for step in ["companies", "contacts", "addresses"] {
        w.mpower
            .set_mpower_faults(switchyard_sim::mpower::MpowerFaults {
                fail_after_commit_next: 1,
            });
        let err = w.host.convert_request(w.tenant, r.id).await.unwrap_err();
        let (failed, _) = w.request(n).await;
        assert_eq!(failed.state, RequestState::Failed, "{step}: {err}");
        assert!(failed.reason.is_some());
    }
    // The order carries an Idempotency-Key: its lost answer is replayed on the retry.
    w.mpower
        .set_mpower_faults(switchyard_sim::mpower::MpowerFaults {
            fail_after_commit_next: 1,
        });
    let c = w.host.convert_request(w.tenant, r.id).await.unwrap();
    assert!(!c.already_converted);
    assert_eq!(
        c.found.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["address"],
        "{c:?}"
    );
    assert!(w.mpower.counts().idempotent_replays >= 1);
    for resource in ["companies", "contacts", "addresses", "orders"] {
        assert_eq!(w.created(resource), 1, "{resource} created once");
    }
}
