//! `switchyard demo`: the main job on embedded defaults.

use std::path::Path;

use anyhow::{Context, Result};
use switchyard_engine::{ImportOptions, ImportSummary, Switchyard};
use switchyard_sim::mpower::{spawn_mpower, MpowerConfig};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::RunningSim;
use switchyard_store::{ConnectionId, FlowId, NewConnection, NewFlow, Secrets, TenantId};

use crate::{print_summary, setup, PageBar};

#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Orders the simulated Pressero store holds.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Orders changed in the simulator between the two runs.
    #[arg(long, default_value_t = 25)]
    changes: usize,
    /// Orders added in the simulator between the two runs.
    #[arg(long, default_value_t = 10)]
    new_orders: usize,
    /// Seed of the simulated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// One JSON object with the counts instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(data_dir: &Path, plugins: &Path, args: DemoArgs) -> Result<()> {
    // A fresh embedded database for every demo, so it can run again and again.
    let demo_dir = data_dir.join("demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .with_context(|| format!("cannot clear {}", demo_dir.display()))?;
    }
    // Orders placed over the last days, so they fall in Flow B's 30-day push window.
    let sim = spawn_pressero(PresseroConfig {
        seed: args.seed,
        orders: args.orders,
        base_time: (chrono::Utc::now() - chrono::Duration::days(5)).timestamp_millis(),
        ..Default::default()
    })
    .await?;
    let presswise = spawn_presswise(PresswiseConfig {
        seed: args.seed,
        ..Default::default()
    })
    .await?;
    let host = setup::open_host(&demo_dir, plugins).await?;
    for provider in ["pressero", "presswise", "mpower"] {
        if host.registry().current(provider).is_none() {
            anyhow::bail!(
                "the {provider} plugin is not in {}: build it with `cargo xtask plugins`",
                plugins.display()
            );
        }
    }
    let creds = sim.credentials().clone();
    let tenant = host.store().ensure_tenant("demo").await?;
    let mut c = NewConnection::new(tenant, "pressero", "Pressero (simulated)");
    c.settings = [
        ("data-centre", "amsterdam"),
        ("base-url", sim.base_url().as_str()),
        ("username", creds.user_name.as_str()),
        ("subscriber-id", creds.subscriber_id.as_str()),
        // A local simulator: no need to pace requests as for the real API.
        (switchyard_engine::RATE_LIMIT_SETTING, "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    c.secrets = Secrets::new()
        .with("password", creds.password.clone())
        .with("consumer-id", creds.consumer_id.clone());
    c.enabled = true;
    c.live = true;
    let conn = host.store().create_connection(c).await?;

    let check = host.check(conn).await.context("test connection")?;
    if !args.json {
        println!(
            "simulated Pressero at {} with {} orders",
            sim.base_url(),
            args.orders
        );
        println!("test connection: {check}");
    }
    let first = import(&host, conn, args.json).await?;
    // Flow B: the imported orders pushed to a simulated Presswise.
    let flow = presswise_flow(&host, tenant, conn, &presswise).await?;
    let first_push = host
        .push_flow(flow, &())
        .await
        .context("push to Presswise")?;
    if !args.json {
        crate::flows::print_push(&first_push);
    }

    let numbers = sim.order_numbers();
    let step = (numbers.len() / args.changes.max(1)).max(1);
    let changed: Vec<u64> = numbers
        .iter()
        .step_by(step)
        .take(args.changes)
        .copied()
        .collect();
    for n in &changed {
        sim.touch_order(*n)?;
    }
    sim.add_orders(args.new_orders);
    if !args.json {
        println!(
            "changed {} orders and added {} in the simulator",
            changed.len(),
            args.new_orders
        );
    }
    let second = import(&host, conn, args.json).await?;
    let second_push = host
        .push_flow(flow, &())
        .await
        .context("push to Presswise")?;
    if !args.json {
        crate::flows::print_push(&second_push);
    }
    // Presswise ships the first pushed order's first item; the status sync brings the
    // shipment back onto the Pressero item.
    if let Some(order) = presswise.pushed_orders().first() {
        if let Some(item) = order.items.first() {
            presswise.set_item_shipment(
                order.order_id,
                &item.item_id.to_string(),
                switchyard_sim::presswise::model::Shipment {
                    carrier: "UPS".into(),
                    tracking_number: "1Z999AA10123456784".into(),
                    ship_date: String::new(),
                },
            )?;
        }
    }
    let status = host
        .sync_status(flow)
        .await
        .context("status sync from Presswise")?;
    if !args.json {
        println!(
            "status from Presswise: polled {}, changed {}, written back to Pressero {}, failed {}",
            status.polled, status.changed, status.written_back, status.failed
        );
    }
    let on_presswise = presswise.pushed_orders().len();
    // Seeded Presswise data has a few past double pushes of its own; count only ours.
    let pushed_sources: std::collections::BTreeSet<String> = presswise
        .pushed_orders()
        .iter()
        .map(|o| o.fields.source_order_id.clone())
        .collect();
    let duplicates = pushed_sources
        .iter()
        .filter(|s| presswise.count_for_source(s) > 1)
        .count();
    let stored = host.store().count_canonical(tenant, "order").await?;
    let flow_a = flow_a(&host, tenant, conn, &sim, &args).await?;

    if args.json {
        let out = serde_json::json!({
            "check": check,
            "flows": [first, second],
            "canonical_orders": stored,
            "push": [first_push, second_push],
            "status": status,
            "orders_on_presswise": on_presswise,
            "duplicates_on_presswise": duplicates,
            "orders_in_source": sim.order_numbers().len(),
            "flow_a": flow_a,
        });
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "canonical orders stored: {stored} (source holds {}); on Presswise: {on_presswise} orders, {duplicates} pushed twice",
            sim.order_numbers().len()
        );
    }
    sim.shutdown().await;
    presswise.shutdown().await;
    Ok(())
}

/// Flow A: the Pressero orders into a simulated M-Power as order requests; three placed
/// orders show a matched contact, several candidates (one chosen) and a new buyer whose
/// unknown product is linked; the ready requests are converted, one of them twice.
async fn flow_a(
    host: &Switchyard,
    tenant: TenantId,
    pressero: ConnectionId,
    sim: &RunningSim<switchyard_sim::pressero::PresseroSim>,
    args: &DemoArgs,
) -> Result<serde_json::Value> {
    use switchyard_engine::inbox::{Settled, NEW};
    use switchyard_sim::pressero::PlacedOrder;
    let mpower = spawn_mpower(MpowerConfig {
        seed: args.seed,
        contacts: 3000,
        products: 2000,
        orders: 100,
        order_requests: 0,
        ..Default::default()
    })
    .await?;
    let mut c = NewConnection::new(tenant, "mpower", "M-Power (simulated)");
    c.settings = [
        ("url", mpower.base_url()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.secrets = Secrets::new().with("api-key", mpower.api_key());
    c.enabled = true;
    c.live = true;
    let mis = host.store().create_connection(c).await?;
    host.check(mis)
        .await
        .context("test the M-Power connection")?;
    let flow = host
        .store()
        .create_flow(NewFlow {
            tenant,
            name: "pressero-to-mpower".into(),
            source: pressero,
            source_stream: "orders".into(),
            target: mis,
            target_stream: "orders".into(),
            settings: serde_json::json!({"mode": "inbox"}),
            enabled: true,
            live: true,
            schedule: None,
        })
        .await?;
    let placed =
        |email: &str, business: &str, street: &str, postcode: &str, products: Vec<usize>| {
            sim.place_order(&PlacedOrder {
                email: email.into(),
                first_name: "Demo".into(),
                last_name: "Buyer".into(),
                business: business.into(),
                street: street.into(),
                postcode: postcode.into(),
                city: "Amsterdam".into(),
                country: "NL".into(),
                products,
            })
        };
    // Known at M-Power (one contact), known twice (two contacts), and a new buyer whose
    // second product M-Power does not have.
    let known = placed(
        "piet.bakker@acme.nl",
        "Acme B.V.",
        "Main St. 1",
        "1012AB",
        vec![0, 1],
    );
    let twice = placed(
        "jan.jansen@acme.nl",
        "Acme",
        "Main Street 1",
        "1012 AB",
        vec![2],
    );
    let new_buyer = placed(
        "new.buyer@example.org",
        "Demo Print B.V.",
        "Damrak 1",
        "1012 LG",
        vec![4, 7],
    );
    let sync = host
        .sync_flow(flow)
        .await
        .context("sync of the M-Power inbox flow")?;
    let inbox = sync.inbox.clone().unwrap_or_default();
    let request = |n: u64| async move {
        host.store()
            .order_request_by_reference(tenant, mis, "Pressero (simulated)", &n.to_string())
            .await?
            .with_context(|| format!("no order request for order {n}"))
    };
    let r_known = request(known).await?;
    let (_, e_known) = host.evaluate_request(tenant, r_known.id).await?;
    let r_twice = request(twice).await?;
    let (_, e_twice) = host.evaluate_request(tenant, r_twice.id).await?;
    let r_new = request(new_buyer).await?;
    let (_, e_new) = host.evaluate_request(tenant, r_new.id).await?;
    // What a person would do in the inbox: choose among several contacts (the first
    // candidate here), create what M-Power lacks.
    let mut decided = Vec::new();
    for (r, e) in [(&r_known, &e_known), (&r_twice, &e_twice), (&r_new, &e_new)] {
        if e.contact.settled == Settled::Multiple {
            let first = &e.contact.candidates[0].external_id;
            host.choose_for_request(tenant, r.id, Some(first), None)
                .await?;
            decided.push(format!(
                "request {}: contact {first} chosen of {}",
                r.id,
                e.contact.candidates.len()
            ));
        } else if e.company.settled == Settled::Multiple {
            let first = &e.company.candidates[0].external_id;
            host.choose_for_request(tenant, r.id, None, Some(first))
                .await?;
            decided.push(format!(
                "request {}: company {first} chosen of {}",
                r.id,
                e.company.candidates.len()
            ));
        }
        for line in e
            .lines
            .iter()
            .filter(|l| l.product.is_none() && l.settled != Settled::New)
        {
            host.link_request_line(tenant, r.id, line.line, NEW).await?;
            decided.push(format!(
                "request {}: line {} ({}) to be created at M-Power",
                r.id, line.line, line.name
            ));
        }
    }
    let known_contact = e_known
        .contact
        .contact
        .clone()
        .unwrap_or_else(|| format!("{} candidates", e_known.contact.candidates.len()));
    let candidates = e_twice.contact.candidates.len();
    let mut converted = Vec::new();
    for r in [&r_known, &r_twice, &r_new] {
        converted.push(
            host.convert_request(tenant, r.id)
                .await
                .with_context(|| format!("converting order request {}", r.id))?,
        );
    }
    // Every other ready request too (a few dozen, to keep the demo short).
    let ready = host
        .store()
        .order_requests(tenant, Some(switchyard_store::RequestState::Ready), 0, 40)
        .await?;
    let mut failures = Vec::new();
    for r in &ready {
        match host.convert_request(tenant, r.id).await {
            Ok(c) => converted.push(c),
            Err(e) => failures.push(format!("request {}: {e}", r.id)),
        }
    }
    let again = host.convert_request(tenant, r_known.id).await?;
    let counts = host.store().order_request_counts(tenant).await?;
    let created = |what: &str| mpower.created(Some(what)).len();
    let emails: Vec<String> = mpower
        .created(Some("contacts"))
        .iter()
        .filter_map(|w| w.body["email"].as_str().map(|e| e.trim().to_lowercase()))
        .collect();
    let unique: std::collections::BTreeSet<&String> = emails.iter().collect();
    let duplicate_contacts = emails.len() - unique.len();
    let orders = created("orders");
    let summary = serde_json::json!({
        "inbox": inbox,
        "requests": counts,
        "matched_contact": known_contact,
        "several_candidates": candidates,
        "decisions": decided,
        "converted": converted.len(),
        "converted_again_sent_nothing": again.already_converted,
        "created_on_mpower": {
            "companies": created("companies"),
            "contacts": created("contacts"),
            "addresses": created("addresses"),
            "products": created("products"),
            "orders": orders,
        },
        "duplicate_contacts_on_mpower": duplicate_contacts,
        "conversion_failures": failures,
    });
    if !args.json {
        crate::inbox::print_inbox_summary(&inbox);
        println!(
            "Flow A: request {} (piet.bakker@acme.nl): contact {known_contact}; request {} (jan.jansen@acme.nl): {candidates} contacts; request {} is a new buyer",
            r_known.id, r_twice.id, r_new.id,
        );
        for d in &decided {
            println!("Flow A: {d}");
        }
        println!(
            "Flow A: converted {} requests into {orders} M-Power orders (created {} companies, {} contacts, {} addresses, {} products); converting one again sent {}; contacts created twice: {duplicate_contacts}",
            converted.len(),
            created("companies"),
            created("contacts"),
            created("addresses"),
            created("products"),
            if again.already_converted { "nothing" } else { "something (a defect)" },
        );
        for f in &failures {
            println!("Flow A: not converted: {f}");
        }
    }
    mpower.shutdown().await;
    Ok(summary)
}

async fn import(host: &Switchyard, conn: ConnectionId, quiet: bool) -> Result<ImportSummary> {
    let bar = PageBar::new();
    let s = host
        .import(conn, "orders", &ImportOptions::default(), &bar)
        .await
        .context("import of Pressero orders")?;
    drop(bar);
    if !quiet {
        print_summary(&s);
    }
    Ok(s)
}

/// A Presswise connection to the simulator and the Flow B from the Pressero connection to it.
async fn presswise_flow(
    host: &Switchyard,
    tenant: TenantId,
    pressero: ConnectionId,
    sim: &RunningSim<PresswiseSim>,
) -> Result<FlowId> {
    let creds = sim.credentials().clone();
    let (_, products) = sim.catalogue();
    let default_product = products
        .iter()
        .find(|p| p.active)
        .context("the simulated catalogue has no active product")?
        .product_id;
    let mut c = NewConnection::new(tenant, "presswise", "Presswise (simulated)");
    c.settings = [
        ("url", sim.base_url()),
        ("username", creds.user.clone()),
        ("default-product-id", default_product.to_string()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.secrets = Secrets::new()
        .with("password", creds.pass.clone())
        .with("authorization-code", creds.code.clone());
    c.enabled = true;
    c.live = true;
    let target = host.store().create_connection(c).await?;
    host.check(target)
        .await
        .context("test the Presswise connection")?;
    Ok(host
        .store()
        .create_flow(NewFlow {
            tenant,
            name: "pressero-to-presswise".into(),
            source: pressero,
            source_stream: "orders".into(),
            target,
            target_stream: "orders".into(),
            settings: serde_json::json!({}),
            enabled: true,
            live: true,
            schedule: None,
        })
        .await?)
}
