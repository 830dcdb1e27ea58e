//! Wrong credentials: `check` answers an auth error naming the cause, and no
//! secret appears in any log line or error.

use switchyard_e2e::{host_in, plugin_dir, pressero_connection};
use switchyard_engine::ImportOptions;
use switchyard_runtime::RuntimeConfig;
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_an_auth_error_and_no_secret_leaks() {
    let sim = spawn_pressero(PresseroConfig {
        orders: 20,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path(), &plugin_dir(), RuntimeConfig::default()).await;
    let wrong = "Wr0ng-Pa55word-7f3a9c";
    let conn = pressero_connection(&host, &sim, "pressero-wrong", wrong).await;

    let check = host
        .check(conn)
        .await
        .expect_err("wrong password must fail");
    let check_text = check.to_string();
    assert!(check_text.contains("authentication failed"), "{check_text}");
    assert!(check_text.contains("401"), "names the cause: {check_text}");

    let import = host
        .import(conn, "orders", &ImportOptions::default(), &())
        .await
        .expect_err("import with a wrong password must fail");
    let import_text = format!("{import} {import:?}");

    // A good connection too, so the log also holds successful exchanges.
    let right = sim.credentials().password.clone();
    let consumer = sim.credentials().consumer_id.clone();
    let good = pressero_connection(&host, &sim, "pressero-right", &right).await;
    host.check(good).await.expect("right password connects");

    let mut everything = format!("{check_text} {check:?} {import_text}");
    let mut bodies = Vec::new();
    for c in [conn, good] {
        for a in host.store().activity(c, None, 10_000).await.unwrap() {
            everything.push_str(&format!("{} {:?}\n", a.message, a.detail));
            if let Some(body) = a.detail.as_ref().and_then(|d| d["response_body"].as_str()) {
                bodies.push(body.to_owned());
            }
        }
    }
    // The session token Pressero mints is a credential too, though no setting holds it.
    let token_answers: Vec<&String> = bodies.iter().filter(|b| b.contains("\"Token\"")).collect();
    assert!(
        !token_answers.is_empty(),
        "the authentication answer is logged"
    );
    for body in token_answers {
        assert!(
            body.contains("\"Token\":\"***\""),
            "the session token was logged unmasked"
        );
    }
    assert!(
        everything.contains("Authentication"),
        "the log holds the exchanges"
    );
    for secret in [wrong, right.as_str(), consumer.as_str()] {
        assert!(
            !everything.contains(secret),
            "a secret leaked into logs or errors"
        );
    }
    sim.shutdown().await;
}
