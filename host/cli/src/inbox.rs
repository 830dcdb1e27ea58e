//! `switchyard inbox …`: the order requests of Flow A (R-A-1 … R-A-5).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::json;
use switchyard_engine::inbox::{Candidate, Evaluation, InboxSummary, Settled};
use switchyard_engine::Switchyard;
use switchyard_runtime::bindings::{Entity, Order};
use switchyard_store::{OrderRequest, RequestSource, RequestState};

use crate::flows::TenantArg;

#[derive(Subcommand)]
pub(crate) enum InboxCommand {
    /// The requests, oldest first, with their source and state.
    List {
        /// Only this state: needs-attention, ready, converting, converted, failed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// One request: what matching found (candidates, scores, matched fields) and what is
    /// missing.
    Show {
        id: i64,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Choose the contact (and with it the company), or the company of a new contact:
    /// an id at the target, or `new`.
    Choose {
        id: i64,
        #[arg(long)]
        contact: Option<String>,
        #[arg(long)]
        company: Option<String>,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Link line LINE (1-based) to a product at the target, or `new` to create it; the
    /// link is remembered for the integration.
    Link {
        id: i64,
        line: usize,
        product: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Change a request before converting it.
    Edit {
        id: i64,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        company_name: Option<String>,
        /// LINE=QUANTITY, e.g. `2=500`.
        #[arg(long = "quantity", value_parser = crate::key_value)]
        quantities: Vec<(String, String)>,
        /// Delivery address FIELD=VALUE (street, postcode, city, country).
        #[arg(long = "address", value_parser = crate::key_value)]
        address: Vec<(String, String)>,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Convert requests into orders at the target; safe to run twice.
    Convert {
        /// The request; without it, every ready one.
        id: Option<i64>,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
    /// Enter an order by hand (R-A-1): FILE holds one canonical order as JSON (`{"order":
    /// {...}}` or the order itself).
    Add {
        file: PathBuf,
        /// The MIS connection it becomes an order at.
        #[arg(long)]
        target: String,
        /// `manual` or `email`.
        #[arg(long, default_value = "manual")]
        source: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn print_inbox_summary(s: &InboxSummary) {
    println!(
        "inbox of {}: {} new, {} refreshed, {} matched again: {} ready, {} need attention",
        s.flow, s.created, s.refreshed, s.evaluated, s.ready, s.needs_attention
    );
}

fn settled(s: Settled) -> &'static str {
    match s {
        Settled::Matched => "matched",
        Settled::Multiple => "several match",
        Settled::New => "new (created at conversion)",
        Settled::Chosen => "chosen",
        Settled::FromContact => "the contact's company",
        Settled::Remembered => "decided before for this integration",
        Settled::Unmatched => "not matched",
    }
}

fn print_candidates(candidates: &[Candidate]) {
    for c in candidates {
        println!(
            "    candidate {} score {} on {}: {}",
            c.external_id,
            c.score,
            c.matched_fields.join("+"),
            c.summary
        );
    }
}

fn print_request(r: &OrderRequest, e: &Evaluation) {
    println!(
        "request {}: order {} from {} ({}) → {}",
        r.id,
        r.reference,
        r.source_name,
        r.source.as_str(),
        r.state.as_str()
    );
    if let Some(reason) = &r.reason {
        println!("  why: {reason}");
    }
    if let Some(o) = &r.external_id {
        println!("  order at the target: {o}");
    }
    println!(
        "  contact: {}{}{}",
        settled(e.contact.settled),
        e.contact
            .contact
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        e.contact
            .email
            .as_deref()
            .map(|m| format!(" (e-mail {})", m.trim()))
            .unwrap_or_default()
    );
    print_candidates(&e.contact.candidates);
    println!(
        "  company: {}{} {:?}",
        settled(e.company.settled),
        e.company
            .company
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        e.company.name
    );
    print_candidates(&e.company.candidates);
    println!(
        "  address: {}{} ({})",
        settled(e.address.settled),
        e.address
            .address
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        e.address.text
    );
    for l in &e.lines {
        println!(
            "  line {}: {} × {} [{}] → {}{}{}",
            l.line,
            l.quantity,
            l.name,
            l.product_code
                .as_deref()
                .or(l.sku.as_deref())
                .unwrap_or("-"),
            settled(l.settled),
            l.product
                .as_deref()
                .map(|p| format!(" product {p}"))
                .unwrap_or_default(),
            l.matched_by
                .as_deref()
                .map(|m| format!(" by {m}"))
                .unwrap_or_default()
        );
    }
    if !e.product_matching {
        println!("  (product matching is off for this connection)");
    }
}

fn answer(r: &OrderRequest, e: &Evaluation, as_json: bool) -> Result<()> {
    if as_json {
        println!(
            "{}",
            serde_json::to_string(&json!({ "request": r, "evaluation": e }))?
        );
    } else {
        print_request(r, e);
    }
    Ok(())
}

fn order_from_file(file: &PathBuf) -> Result<Order> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let entity = if value.get("order").is_some() {
        serde_json::from_value::<Entity>(value)
    } else {
        serde_json::from_value::<Order>(value).map(Entity::Order)
    }
    .with_context(|| format!("{} is not a canonical order", file.display()))?;
    match entity {
        Entity::Order(o) => Ok(o),
        other => bail!(
            "{} holds a {}, not an order",
            file.display(),
            other.kind().as_str()
        ),
    }
}

pub(crate) async fn run(host: &Switchyard, cmd: InboxCommand) -> Result<()> {
    match cmd {
        InboxCommand::List {
            state,
            limit,
            tenant,
            json,
        } => {
            let tenant = tenant.id(host).await?;
            let state = state.as_deref().map(RequestState::parse).transpose()?;
            let requests = host.store().order_requests(tenant, state, 0, limit).await?;
            if json {
                let rows: Vec<_> = requests
                    .iter()
                    .map(|r| {
                        json!({
                            "id": r.id, "reference": r.reference, "source": r.source,
                            "source_name": r.source_name, "state": r.state,
                            "reason": r.reason, "order": r.external_id,
                        })
                    })
                    .collect();
                let counts = host.store().order_request_counts(tenant).await?;
                println!(
                    "{}",
                    serde_json::to_string(&json!({ "requests": rows, "counts": counts }))?
                );
            } else {
                if requests.is_empty() {
                    println!("the inbox is empty");
                }
                for r in &requests {
                    println!(
                        "{:>5}  {:<16} {:<12} {:<16} {}",
                        r.id,
                        r.reference,
                        r.source_name,
                        r.state.as_str(),
                        r.reason
                            .as_deref()
                            .or(r.external_id.as_deref())
                            .unwrap_or("")
                    );
                }
            }
        }
        InboxCommand::Show { id, tenant, json } => {
            let tenant = tenant.id(host).await?;
            let (r, e) = host.evaluate_request(tenant, id).await?;
            answer(&r, &e, json)?;
        }
        InboxCommand::Choose {
            id,
            contact,
            company,
            tenant,
            json,
        } => {
            if contact.is_none() && company.is_none() {
                bail!("choose what: --contact ID|new and/or --company ID|new");
            }
            let tenant = tenant.id(host).await?;
            let (r, e) = host
                .choose_for_request(tenant, id, contact.as_deref(), company.as_deref())
                .await?;
            answer(&r, &e, json)?;
        }
        InboxCommand::Link {
            id,
            line,
            product,
            tenant,
            json,
        } => {
            let tenant = tenant.id(host).await?;
            let (r, e) = host.link_request_line(tenant, id, line, &product).await?;
            answer(&r, &e, json)?;
        }
        InboxCommand::Edit {
            id,
            notes,
            email,
            company_name,
            quantities,
            address,
            tenant,
            json,
        } => {
            let tenant = tenant.id(host).await?;
            let mut edits = switchyard_engine::inbox::Edits {
                notes,
                email,
                company_name,
                ..Default::default()
            };
            for (line, q) in quantities {
                let line: usize = line
                    .parse()
                    .with_context(|| format!("--quantity {line}=…: the line is a number"))?;
                let q: f64 = q
                    .parse()
                    .with_context(|| format!("--quantity {line}={q}: not a number"))?;
                edits.quantities.insert(line, q);
            }
            edits.address.extend(address);
            let (r, e) = host.edit_request(tenant, id, edits).await?;
            answer(&r, &e, json)?;
        }
        InboxCommand::Convert { id, tenant, json } => {
            let tenant = tenant.id(host).await?;
            let ids: Vec<i64> = match id {
                Some(id) => vec![id],
                None => host
                    .store()
                    .order_requests(tenant, Some(RequestState::Ready), 0, u32::MAX)
                    .await?
                    .iter()
                    .map(|r| r.id)
                    .collect(),
            };
            let mut failed = 0;
            let mut out = Vec::new();
            for id in ids {
                match host.convert_request(tenant, id).await {
                    Ok(c) => {
                        if !json {
                            if c.already_converted {
                                println!(
                                    "request {id}: converted before as order {}; nothing sent",
                                    c.order
                                );
                            } else {
                                let made: Vec<String> = c
                                    .created
                                    .iter()
                                    .map(|(step, ext)| format!("{step} {ext}"))
                                    .collect();
                                let found: Vec<String> = c
                                    .found
                                    .iter()
                                    .map(|(step, ext)| format!("{step} {ext}"))
                                    .collect();
                                println!(
                                    "request {id}: converted into order {} (created: {}{})",
                                    c.order,
                                    if made.is_empty() {
                                        "nothing".into()
                                    } else {
                                        made.join(", ")
                                    },
                                    if found.is_empty() {
                                        String::new()
                                    } else {
                                        format!(
                                            "; found after an earlier attempt: {}",
                                            found.join(", ")
                                        )
                                    }
                                );
                            }
                        }
                        out.push(json!({ "request": id, "ok": true, "conversion": c }));
                    }
                    Err(e) => {
                        failed += 1;
                        if !json {
                            eprintln!("request {id}: not converted: {e}");
                        }
                        out.push(json!({ "request": id, "ok": false, "error": e.to_string() }));
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string(&out)?);
            }
            if failed > 0 {
                bail!("{failed} request(s) not converted");
            }
        }
        InboxCommand::Add {
            file,
            target,
            source,
            tenant,
            json,
        } => {
            let tenant = tenant.id(host).await?;
            let source = match source.as_str() {
                "manual" => RequestSource::Manual,
                "email" => RequestSource::Email,
                other => bail!("--source {other}: manual or email (imports come through a flow)"),
            };
            let conn = host
                .store()
                .connection_by_name(tenant, &target)
                .await?
                .with_context(|| format!("no connection named {target:?}"))?;
            let order = order_from_file(&file)?;
            let (r, e) = host.add_request(conn.id, source, &order).await?;
            answer(&r, &e, json)?;
        }
    }
    Ok(())
}
