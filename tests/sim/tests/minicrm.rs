//! The MiniCRM simulator over real HTTP on 127.0.0.1.

use std::net::SocketAddr;

use base64::Engine;
use serde_json::{json, Value};
use switchyard_sim::minicrm::model::ModuleKind;
use switchyard_sim::minicrm::{spawn_minicrm, MinicrmConfig, MinicrmSim, RateLimit};
use switchyard_sim::{FaultConfig, RunningSim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    complete: bool,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    body: Option<&str>,
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let auth = auth
        .map(|(u, p)| {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            format!("Authorization: Basic {b}\r\n")
        })
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: r3.minicrm.hu\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer {
            status: 0,
            headers: Vec::new(),
            body: buf,
            complete: false,
        };
    };
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let body = buf[split + 4..].to_vec();
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

async fn start(orders: usize) -> RunningSim<MinicrmSim> {
    spawn_minicrm(MinicrmConfig {
        orders,
        rate_limit: None,
        ..MinicrmConfig::default()
    })
    .await
    .expect("spawn")
}

async fn get(sim: &RunningSim<MinicrmSim>, path: &str) -> Answer {
    let (s, k) = sim.credentials();
    raw(sim.addr(), "GET", path, Some((s, k)), None).await
}

async fn put(sim: &RunningSim<MinicrmSim>, path: &str, body: &Value) -> Answer {
    let (s, k) = sim.credentials();
    raw(
        sim.addr(),
        "PUT",
        path,
        Some((s, k)),
        Some(&body.to_string()),
    )
    .await
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let sim = start(50).await;
    let (system, _) = sim.credentials();
    let a = raw(
        sim.addr(),
        "GET",
        "/Api/R3/Category",
        Some((system, "wrong-key")),
        None,
    )
    .await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert!(a
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    let a = raw(sim.addr(), "GET", "/Api/R3/Category", None, None).await;
    assert_eq!(a.status, 401);
    let a = get(&sim, "/Api/R3/Category").await;
    assert_eq!(a.status, 200);
    let cats = a.json();
    assert_eq!(cats["21"], "Megrendelés");
    assert_eq!(cats["22"], "Webshop");
    let detailed = get(&sim, "/Api/R3/Category?Detailed=1").await.json();
    assert_eq!(detailed["Results"]["21"]["Id"], 21);
}

#[tokio::test]
async fn schema_lists_fields_and_statuses_and_missing_module_is_404() {
    let sim = spawn_minicrm(MinicrmConfig {
        orders: 40,
        rate_limit: None,
        modules: vec![ModuleKind::Sales, ModuleKind::Order],
        ..MinicrmConfig::default()
    })
    .await
    .unwrap();
    let order = sim.category_id(ModuleKind::Order).unwrap();
    let s = get(&sim, &format!("/Api/R3/Schema/Project/{order}"))
        .await
        .json();
    assert_eq!(s["StatusId"]["3005"], "Teljesítve");
    assert_eq!(s["Order_Number"], "Text(64)");
    assert_eq!(s["Order_Currency"]["4101"], "HUF");
    assert_eq!(
        get(&sim, "/Api/R3/Schema/Person").await.json()["FirstName"],
        "Text(255)"
    );
    assert_eq!(
        get(&sim, "/Api/R3/Schema/Business").await.json()["Name"],
        "Text(255)"
    );
    // The account lacks the Webshop module (22).
    assert_eq!(get(&sim, "/Api/R3/Schema/Project/22").await.status, 404);
    assert_eq!(get(&sim, "/Api/R3/Project?CategoryId=22").await.status, 404);
    let body = json!({"CategoryId": 22, "ContactId": 1001, "StatusId": 3101});
    assert_eq!(put(&sim, "/Api/R3/Project", &body).await.status, 404);
    assert!(get(&sim, "/Api/R3/Category")
        .await
        .json()
        .get("22")
        .is_none());
}

#[tokio::test]
async fn project_pages_are_keyed_by_id_and_cover_every_status() {
    let sim = start(350).await;
    let order = sim.category_id(ModuleKind::Order).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    let first = get(&sim, &format!("/Api/R3/Project?CategoryId={order}"))
        .await
        .json();
    let count = first["Count"].as_u64().unwrap() as usize;
    assert_eq!(count, 350);
    for page in 0..4 {
        let a = get(
            &sim,
            &format!("/Api/R3/Project?CategoryId={order}&Page={page}"),
        )
        .await
        .json();
        assert_eq!(a["Count"], 350);
        let results = a["Results"]
            .as_object()
            .expect("Results is an object keyed by id");
        assert_eq!(results.len(), if page < 3 { 100 } else { 50 });
        for (k, v) in results {
            assert_eq!(k, &v["Id"].to_string());
            assert!(v["Url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/Project/{k}")));
            seen.insert(k.clone());
            statuses.insert(v["StatusId"].as_u64().unwrap());
        }
    }
    assert_eq!(seen.len(), 350);
    assert_eq!(
        statuses.len(),
        7,
        "every status of the Order module appears"
    );
    // Past the end: an empty PHP array.
    let a = get(&sim, &format!("/Api/R3/Project?CategoryId={order}&Page=9"))
        .await
        .json();
    assert_eq!(a["Results"], json!([]));
    // StatusId filter by id.
    let done = get(
        &sim,
        &format!("/Api/R3/Project?CategoryId={order}&StatusId=3005"),
    )
    .await
    .json();
    assert!(done["Results"]
        .as_object()
        .unwrap()
        .values()
        .all(|p| p["StatusId"] == 3005));
    // Bad filters.
    assert_eq!(
        get(&sim, "/Api/R3/Project?UpdatedSince=yesterday")
            .await
            .status,
        400
    );
    assert_eq!(get(&sim, "/Api/R3/Project?Nonsense=1").await.status, 400);
}

#[tokio::test]
async fn push_contact_address_project_then_read_back() {
    let sim = start(30).await;
    let order = sim.category_id(ModuleKind::Order).unwrap();
    let b = put(
        &sim,
        "/Api/R3/Contact",
        &json!({"Type": "Business", "Name": "Teszt Nyomda Kft."}),
    )
    .await;
    assert_eq!(b.status, 200, "{}", b.text());
    let business = b.json()["Id"].as_u64().unwrap();
    let p = put(&sim, "/Api/R3/Contact", &json!({"Type": "Person", "FirstName": "Anna", "LastName": "Teszt", "Email": "Anna.Teszt@Example.hu", "Phone": "+36 30 123 4567", "BusinessId": business})).await;
    assert_eq!(p.status, 200, "{}", p.text());
    let person = p.json()["Id"].as_u64().unwrap();
    let c = get(&sim, &format!("/Api/R3/Contact/{person}")).await.json();
    assert_eq!(c["FirstName"], "Anna");
    assert_eq!(c["BusinessId"], business);
    // E-mail search ignores case and trailing spaces.
    let found = get(&sim, "/Api/R3/Contact?Email=anna.teszt%40example.hu%20")
        .await
        .json();
    assert_eq!(found["Count"], 1);
    assert_eq!(found["Results"][person.to_string()]["Type"], "Person");
    let members = get(&sim, &format!("/Api/R3/Contact?MainContactId={business}"))
        .await
        .json();
    assert_eq!(members["Count"], 2);
    // Empty parameters are no filter, as PHP clients send them.
    let named = get(&sim, "/Api/R3/Contact?Email=&UpdatedSince=&Name=teszt")
        .await
        .json();
    assert_eq!(named["Count"], 2, "{named}");
    // Address.
    let a = put(&sim, "/Api/R3/Address", &json!({"ContactId": person, "Type": "Szállítási cím", "Name": "Otthon", "CountryId": "Magyarország", "PostalCode": 1051, "City": "Budapest", "Address": "Fő utca 1."})).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let aid = a.json()["Id"].as_u64().unwrap();
    let list = get(&sim, &format!("/Api/R3/AddressList/{person}"))
        .await
        .json();
    assert_eq!(list["Count"], 1);
    assert_eq!(
        list["Results"][aid.to_string()],
        "Otthon (1051 Budapest, Fő utca 1.)"
    );
    let addr = get(&sim, &format!("/Api/R3/Address/{aid}")).await.json();
    assert_eq!(addr["PostalCode"], "1051");
    assert_eq!(addr["Default"], 1);
    // Project.
    let body = json!({"CategoryId": order, "ContactId": person, "StatusId": "Új megrendelés", "Name": "Rendelés #999", "Order_Number": "SR-999", "Order_Total": 12990, "Order_Currency": "HUF", "Order_CouponCode": "TAVASZ10", "Order_Date": "2026-05-01 10:00:00"});
    let pr = put(&sim, "/Api/R3/Project", &body).await;
    assert_eq!(pr.status, 200, "{}", pr.text());
    let pid = pr.json()["Id"].as_u64().unwrap();
    let got = get(&sim, &format!("/Api/R3/Project/{pid}")).await.json();
    assert_eq!(got["StatusId"], 3001);
    assert_eq!(got["BusinessId"], business);
    assert_eq!(got["Order_Currency"], "HUF");
    assert_eq!(got["Order_CouponCode"], "TAVASZ10");
    assert_eq!(got["Order_Date"], "2026-05-01 10:00:00");
    let mine = get(&sim, &format!("/Api/R3/Project?MainContactId={business}"))
        .await
        .json();
    assert_eq!(mine["Count"], 1);
    // Update the status by id, then the CRM user moves it on.
    assert_eq!(
        put(
            &sim,
            &format!("/Api/R3/Project/{pid}"),
            &json!({"StatusId": 3003})
        )
        .await
        .status,
        200
    );
    sim.set_project_status(pid as u32, "Teljesítve").unwrap();
    let got = get(&sim, &format!("/Api/R3/Project/{pid}")).await.json();
    assert_eq!(got["StatusId"], 3005);
    let hist = get(
        &sim,
        &format!("/Api/R3/ProjectHistory/{pid}?Type=StatusHistory"),
    )
    .await
    .json();
    assert_eq!(hist["Count"], "3");
    // What was pushed, as received.
    let pushes = sim.pushes_to("Project");
    assert_eq!(pushes.len(), 2);
    assert_eq!(pushes[0].body, body);
    assert_eq!(pushes[0].id, Some(pid as u32));
    assert_eq!(sim.pushes().len(), 5);
}

#[tokio::test]
async fn bad_input_answers_plain_text_errors() {
    let sim = start(30).await;
    let order = sim.category_id(ModuleKind::Order).unwrap();
    let cases = [
        (
            json!({"CategoryId": order, "ContactId": 1001, "StatusId": 3001, "Order_Number": "X", "Bogus": 1}),
            "Unknown field 'Bogus'",
        ),
        (
            json!({"CategoryId": order, "ContactId": 1001, "StatusId": 3001}),
            "The Rendelésszám field is required",
        ),
        (
            json!({"CategoryId": order, "ContactId": 1001, "StatusId": "Nincs ilyen", "Order_Number": "X"}),
            "Invalid value 'Nincs ilyen' for the Status field",
        ),
        (
            json!({"CategoryId": order, "ContactId": 1001, "StatusId": 3001, "Order_Number": "X", "Order_Currency": "GBP"}),
            "Invalid value 'GBP' for the Pénznem field",
        ),
        (
            json!({"CategoryId": order, "StatusId": 3001, "Order_Number": "X"}),
            "The ContactId field is required",
        ),
        (
            json!({"CategoryId": order, "ContactId": 99999999, "StatusId": 3001, "Order_Number": "X"}),
            "Invalid value '99999999' for the ContactId field",
        ),
    ];
    for (body, want) in cases {
        let a = put(&sim, "/Api/R3/Project", &body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text());
        assert!(a.header("content-type").unwrap().starts_with("text/plain"));
        assert!(a.text().starts_with("Project (PUT): "), "{}", a.text());
        assert!(
            a.text().contains(want),
            "{} does not contain {want}",
            a.text()
        );
    }
    let a = put(&sim, "/Api/R3/Contact", &json!({"FirstName": "Anna"})).await;
    assert_eq!(
        (a.status, a.text().contains("Type field is required")),
        (400, true)
    );
    let a = put(&sim, "/Api/R3/Contact", &json!({"Type": "Business"})).await;
    assert_eq!(a.status, 400);
    let a = put(&sim, "/Api/R3/Address", &json!({"Name": "x"})).await;
    assert_eq!(a.status, 400);
    assert_eq!(get(&sim, "/Api/R3/Project/1").await.status, 404);
    assert_eq!(get(&sim, "/Api/R3/Contact/1").await.status, 404);
    assert_eq!(
        put(&sim, "/Api/R3/Project/1", &json!({"StatusId": 3001}))
            .await
            .status,
        404
    );
    assert_eq!(
        put(&sim, "/Api/R3/Contact/1", &json!({"Email": "a@b.hu"}))
            .await
            .status,
        404
    );
    assert_eq!(get(&sim, "/Api/R3/Nothing").await.status, 404);
    let (s, k) = sim.credentials();
    assert_eq!(
        raw(
            sim.addr(),
            "PUT",
            "/Api/R3/Project",
            Some((s, k)),
            Some("{not json")
        )
        .await
        .status,
        400
    );
    assert_eq!(
        raw(
            sim.addr(),
            "DELETE",
            "/Api/R3/Project/5001",
            Some((s, k)),
            None
        )
        .await
        .status,
        405
    );
    // Rejected PUTs are logged too.
    assert!(sim.pushes().iter().filter(|p| p.status == 400).count() >= 9);
}

#[tokio::test]
async fn rate_limit_per_system_answers_429() {
    let sim = spawn_minicrm(MinicrmConfig {
        orders: 20,
        rate_limit: Some(RateLimit {
            requests: 5,
            window_secs: 60,
        }),
        ..MinicrmConfig::default()
    })
    .await
    .unwrap();
    for _ in 0..5 {
        assert_eq!(get(&sim, "/Api/R3/Category").await.status, 200);
    }
    let a = get(&sim, "/Api/R3/Category").await;
    assert_eq!(a.status, 429);
    let wait: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(sim.counts().rate_limited, 1);
    sim.set_rate_limit(None);
    assert_eq!(get(&sim, "/Api/R3/Category").await.status, 200);
}

#[tokio::test]
async fn faults_are_injected_in_minicrm_shapes() {
    let sim = start(20).await;
    sim.set_faults(FaultConfig {
        fail_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = get(&sim, "/Api/R3/Category").await;
    assert!(a.status == 500 || a.status == 503, "{}", a.status);
    sim.set_faults(FaultConfig {
        throttle_next: 1,
        retry_after_secs: 3,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = get(&sim, "/Api/R3/Category").await;
    assert_eq!((a.status, a.header("retry-after")), (429, Some("3")));
    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = get(&sim, "/Api/R3/Category").await;
    assert_eq!(a.status, 200);
    assert!(serde_json::from_slice::<Value>(&a.body).is_err());
    sim.set_faults(FaultConfig {
        truncated_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = get(&sim, "/Api/R3/Project?Page=0").await;
    assert!(!a.complete);
    sim.set_faults(FaultConfig::default()).unwrap();
    let stats = sim.fault_stats();
    assert_eq!(
        (
            stats.server_errors,
            stats.throttled,
            stats.malformed,
            stats.truncated
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn control_api_sets_status_and_resets() {
    let sim = start(30).await;
    let ctl = |m: &'static str, p: &'static str, b: Option<String>| {
        let addr = sim.addr();
        async move { raw(addr, m, p, None, b.as_deref()).await }
    };
    let status = ctl("GET", "/_control/minicrm", None).await.json();
    assert_eq!(status["counts"]["projects_by_category"]["21"], 30);
    let a = ctl(
        "POST",
        "/_control/minicrm/projects/5001/status",
        Some(json!({"status": "Lemondva"}).to_string()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["StatusId"], 3006);
    assert_eq!(
        ctl(
            "POST",
            "/_control/minicrm/projects/5001/status",
            Some(json!({"status": "Nope"}).to_string())
        )
        .await
        .status,
        404
    );
    put(
        &sim,
        "/Api/R3/Contact",
        &json!({"Type": "Person", "FirstName": "X"}),
    )
    .await;
    let pushes = ctl("GET", "/_control/minicrm/pushes", None).await.json();
    assert_eq!(pushes.as_array().unwrap().len(), 1);
    ctl("POST", "/_control/minicrm/reset", None).await;
    assert!(sim.pushes().is_empty());
    assert_ne!(sim.project_json(5001).unwrap()["StatusId"], json!(null));
    let r = ctl(
        "PUT",
        "/_control/minicrm/rate-limit",
        Some(json!({"limit": {"requests": 1, "window_secs": 60}}).to_string()),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&sim, "/Api/R3/Category").await.status, 200);
    assert_eq!(get(&sim, "/Api/R3/Category").await.status, 429);
}

#[test]
fn same_seed_same_data_and_realistic_variety() {
    let make = |seed| {
        let sim = MinicrmSim::new(MinicrmConfig {
            seed,
            orders: 600,
            ..MinicrmConfig::default()
        })
        .unwrap();
        let mut out = Vec::new();
        sim.write_data_json(&mut out).unwrap();
        (sim, out)
    };
    let (sim, a) = make(7);
    let (_, b) = make(7);
    let (_, c) = make(8);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let text = String::from_utf8(a).unwrap();
    let contacts: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("Contact").is_some())
        .map(|v| v["Contact"].clone())
        .collect();
    let counts = sim.counts();
    assert!(
        counts.businesses > 10 && counts.persons == 150,
        "{counts:?}"
    );
    // E-mail variants of the same shopper: same key, different spelling.
    let emails: Vec<&str> = contacts
        .iter()
        .filter_map(|c| c["Email"].as_str())
        .collect();
    let variant = emails.iter().find(|e| {
        e.trim() != **e || e.chars().any(|c| c.is_uppercase()) && !e.starts_with("info@")
    });
    assert!(variant.is_some(), "no e-mail variants");
    assert!(emails
        .iter()
        .any(|e| sim.contacts_by_email(e).len() > 1 || e.starts_with(' ')));
    // Near-duplicate business names.
    let names: Vec<String> = contacts
        .iter()
        .filter(|c| c["Type"] == "Business")
        .map(|c| {
            c["Name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .replace(['.', ' '], "")
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert!(distinct.len() < names.len(), "no near-duplicate businesses");
    // Coupons and every module.
    assert!(
        text.contains("\"Order_CouponCode\":\"TAVASZ10\"")
            || text.contains("\"Order_CouponCode\":\"WELCOME5\"")
    );
    assert_eq!(counts.projects_by_category.len(), 3);
}

#[tokio::test]
async fn updated_since_finds_what_a_crm_user_changed_and_email_keeps_leading_spaces() {
    let sim = start(200).await;
    let order = sim.category_id(ModuleKind::Order).unwrap();
    let ids = sim.project_ids(order);
    // Everything generated is older than now; a status change made now is newer.
    sim.set_project_status(ids[7], "Kiszállítva").unwrap();
    let stamp = sim.project_json(ids[7]).unwrap()["UpdatedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!(
        "/Api/R3/Project?CategoryId={order}&UpdatedSince={}",
        stamp.replace(' ', "+")
    );
    let a = get(&sim, &path).await.json();
    assert_eq!(a["Count"], 1, "{a}");
    assert_eq!(a["Results"][ids[7].to_string()]["StatusId"], 3004);
    // A leading space is part of the stored e-mail, as in MySQL.
    let r = put(
        &sim,
        "/Api/R3/Contact",
        &json!({"Type": "Person", "LastName": "Szóköz", "Email": " lead.space@example.hu"}),
    )
    .await;
    let id = r.json()["Id"].as_u64().unwrap();
    assert_eq!(
        get(&sim, "/Api/R3/Contact?Email=lead.space%40example.hu")
            .await
            .json()["Count"],
        0
    );
    let found = get(&sim, "/Api/R3/Contact?Email=%20LEAD.SPACE%40example.hu")
        .await
        .json();
    assert_eq!(
        found["Results"][id.to_string()]["Email"],
        " lead.space@example.hu"
    );
    // Deleted filter.
    let deleted = get(
        &sim,
        &format!("/Api/R3/Project?CategoryId={order}&Deleted=1"),
    )
    .await
    .json();
    let all = get(&sim, &format!("/Api/R3/Project?CategoryId={order}"))
        .await
        .json();
    let live = get(
        &sim,
        &format!("/Api/R3/Project?CategoryId={order}&Deleted=0"),
    )
    .await
    .json();
    assert_eq!(
        deleted["Count"].as_u64().unwrap() + live["Count"].as_u64().unwrap(),
        all["Count"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn an_id_in_the_body_updates_and_reference_endpoints_exist() {
    let sim = start(20).await;
    let r = put(
        &sim,
        "/Api/R3/Project",
        &json!({"Id": 5003, "StatusId": "Teljesítve"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Id"], 5003);
    assert_eq!(sim.project_json(5003).unwrap()["StatusId"], 3005);
    assert_eq!(
        put(&sim, "/Api/R3/Project", &json!({"Id": 1, "StatusId": 3001}))
            .await
            .status,
        404
    );
    // Every endpoint the vendored reference names for MiniCRM answers (not 404) here.
    let reference =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/reference/README.md"))
            .unwrap();
    let section = reference
        .split("## MiniCRM")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    assert!(section.contains("/Api/R3/") && section.contains("100 a page"));
    let order = sim.category_id(ModuleKind::Order).unwrap();
    for (named, path) in [
        ("GET Category", "/Api/R3/Category".to_owned()),
        (
            "GET Schema/Project/{CategoryId}",
            format!("/Api/R3/Schema/Project/{order}"),
        ),
        ("GET Schema/Person", "/Api/R3/Schema/Person".to_owned()),
        ("GET Schema/Business", "/Api/R3/Schema/Business".to_owned()),
        (
            "GET Project?CategoryId=",
            format!("/Api/R3/Project?CategoryId={order}&StatusId=3001&Page=0"),
        ),
    ] {
        assert!(
            section.contains(named.split_once(' ').unwrap().1.split('?').next().unwrap()),
            "{named}"
        );
        let a = get(&sim, &path).await;
        assert_eq!(a.status, 200, "{named}: {}", a.text());
    }
    for resource in ["Contact", "Address", "Project"] {
        assert!(section.contains(&format!("PUT {resource}")), "{resource}");
        // An empty object is a validation error (400), never an unknown route.
        assert_eq!(
            put(&sim, &format!("/Api/R3/{resource}"), &json!({}))
                .await
                .status,
            400,
            "{resource}"
        );
    }
}
