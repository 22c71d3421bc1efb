//! The OpenAPI document served at `/api/openapi.json` against what the server really answers:
//! a fleet with a real harness host, a squad, an app, an ingredient and a swarm, then the
//! answers of several routes (native and `/api/v1/`, a list, one record, an error) checked
//! against the schemas the document gives for them.

use super::fleet::{PW, fleet_server};
use serde_json::{Value, json};
use vr_app::fleet::{Health, NewSquad, paths as fleet_paths};
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::schema::check;

/// The schema of `method path`'s answer with `status`, from the document.
fn answer_schema(doc: &Value, method: &str, path: &str, status: &str) -> Value {
    let responses = &doc["paths"][path][method]["responses"];
    let r = match responses.get(status) {
        Some(r) => r.clone(),
        None => responses["default"].clone(),
    };
    let r = match r.get("$ref").and_then(Value::as_str) {
        Some(p) => doc
            .pointer(p.trim_start_matches('#'))
            .cloned()
            .unwrap_or_else(|| panic!("dangling {p}")),
        None => r,
    };
    r["content"]["application/json"]["schema"].clone()
}

#[tokio::test]
async fn real_answers_match_the_schemas_the_openapi_document_gives() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let doc: Value = api
        .get(vr_app::api::paths::OPENAPI)
        .await
        .expect_ok()
        .json();
    let mut hosts = super::fleet::hosts_for(&api, 1).await;
    let host = hosts.remove(0);
    host.add_program("sleeper", "sleep 1000");
    api.post(
        fleet_paths::SQUADS,
        &NewSquad {
            name: "eu".into(),
            description: "front".into(),
        },
    )
    .await
    .expect_status(201);
    add_host(&api, &host, "web1", Some("eu")).await;
    wait_health(&api, "web1", Health::Ok, std::time::Duration::from_secs(15)).await;
    let repo = super::deploys::web_app();
    super::builds::add_app(&api, "web", &repo).await;
    api.post(
        "/api/ingredients",
        &json!({"name": "pg", "settings_yaml": "db: {host: db1, port: 5432}\n", "env_yaml": "PGPASS: x\n", "secret_keys": ["PGPASS"]}),
    )
    .await
    .expect_status(201);
    let mut spec = super::swarms::web_swarm(2);
    spec.ingredients = vec!["pg".into()];
    let swarm = super::swarms::create_swarm(&api, &spec).await;

    let basic = |path: &str| {
        reqwest::Client::new()
            .get(server.url(path))
            .basic_auth("admin", Some(PW))
    };
    // (the document's path, the URI asked, the status expected)
    let native = [
        ("/api/fleet", "/api/fleet".to_string(), 200),
        ("/api/hosts", "/api/hosts".into(), 200),
        ("/api/squads", "/api/squads".into(), 200),
        ("/api/apps", "/api/apps".into(), 200),
        ("/api/ingredients", "/api/ingredients".into(), 200),
        ("/api/swarms", "/api/swarms".into(), 200),
        ("/api/swarms/{id}", format!("/api/swarms/{}", swarm.id), 200),
        ("/api/auth/me", "/api/auth/me".into(), 200),
        ("/api/swarms/{id}", "/api/swarms/999".into(), 404),
    ];
    let mut cases: Vec<(&str, String, u16, Value)> = Vec::new();
    for (template, uri, status) in native {
        let value = api.get(&uri).await.expect_status(status).value();
        cases.push((template, uri, status, value));
    }
    for template in ["/api/v1/swarms/", "/api/v1/hosts/"] {
        let r = basic(template).send().await.expect("v1");
        assert_eq!(r.status().as_u16(), 200);
        cases.push((
            template,
            template.into(),
            200,
            r.json().await.expect("json"),
        ));
    }
    for (template, uri, status, value) in &cases {
        let schema = answer_schema(&doc, "get", template, &status.to_string());
        assert!(schema.is_object(), "no schema for GET {template} {status}");
        if let Err(e) = check(&doc, &schema, value) {
            panic!("GET {uri} ({status}) does not match its schema: {e}\n{value:#}");
        }
    }
    // The answers were not trivially empty: the host's program and the swarm are in them.
    let v1_hosts = &cases[10].3;
    assert!(v1_hosts.to_string().contains("sleeper"), "{v1_hosts}");
    // And the checker is not vacuous: the same swarm with a wrong field type fails.
    let mut wrong = cases[6].3.clone();
    wrong["size"] = json!("two");
    let schema = answer_schema(&doc, "get", "/api/swarms/{id}", "200");
    assert!(check(&doc, &schema, &wrong).is_err());
}
