//! What reaches whom on one instance: events filtered by the subscriber's scope, audited when
//! they carry personal data, announced once, and resumed after a cursor.

use std::time::Duration;

use permit_core::auth::Role;
use serde_json::json;

use super::{
    Client, FINDING_RECORDED, FINDING_WITH_CURSOR, finding_after, next_finding, next_findings,
    record_finding, scene,
};
use crate::db_test;
use crate::helpers::TestApp;

db_test!(findings_reach_only_subscribers_in_scope, |app| {
    let yuzhong = scene(&app, "500103", 71).await;
    let shapingba = scene(&app, "500106", 72).await;
    let mut in_scope =
        Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500103"))).await;
    let mut other_district =
        Client::ready(&app, &app.token(Role::PermitOfficer, Some("500106"))).await;
    let mut municipal = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    let mut monitoring = Client::ready(&app, &app.token(Role::Monitoring, None)).await;
    for client in [&mut in_scope, &mut other_district, &mut municipal] {
        client.subscribe("f", FINDING_RECORDED).await;
    }
    // MONITORING may not read findings at all: refused at subscribe time.
    monitoring.subscribe("f", FINDING_RECORDED).await;
    let refused = monitoring.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");
    app.wait_for_subscribers(3).await;

    let first = record_finding(&app, &yuzhong).await;
    let got = next_finding(&mut in_scope, "f").await;
    assert_eq!(got["id"], first.as_str());
    assert_eq!(got["district"]["code"], "500103");
    assert_eq!(got["status"], "OPEN");
    assert_eq!(
        next_finding(&mut municipal, "f").await["id"],
        first.as_str()
    );

    // Events arrive in order, so the other district's first message being its own finding
    // proves it never received the first one.
    let second = record_finding(&app, &shapingba).await;
    assert_eq!(
        next_finding(&mut other_district, "f").await["id"],
        second.as_str()
    );
    assert_eq!(
        next_finding(&mut municipal, "f").await["id"],
        second.as_str()
    );
    assert!(
        in_scope
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "a finding of another district reached 500103"
    );

    // After `complete`, nothing more arrives for that id.
    in_scope
        .send(json!({ "type": "complete", "id": "f" }))
        .await;
    app.wait_for_subscribers_at_most(2).await;
    record_finding(&app, &yuzhong).await;
    assert!(
        in_scope
            .next_within(Duration::from_millis(300))
            .await
            .is_none()
    );
});

db_test!(personal_data_sent_to_a_subscriber_is_audited, |app| {
    let scene = scene(&app, "500103", 61).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client
        .subscribe(
            "p",
            "subscription Watch { findingRecorded { id unit { legalRepresentative } } }",
        )
        .await;
    app.wait_for_subscribers(1).await;
    let before = audited(&app).await;
    record_finding(&app, &scene).await;
    let got = next_finding(&mut client, "p").await;
    assert_eq!(got["unit"]["legalRepresentative"], "张伟");
    // The audit row is written right after the message is sent.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while audited(&app).await == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no audit row for the personal data sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let operation = app
        .scalar_i64(
            "SELECT COUNT(*) FROM audit_events \
             WHERE action = 'READ_PERSONAL_DATA' AND operation_name = 'Watch' AND request_id IS NOT NULL",
        )
        .await;
    assert_eq!(operation, 1);
});

async fn audited(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'READ_PERSONAL_DATA'")
        .await
}

db_test!(a_retried_finding_is_announced_once, |app| {
    let scene = scene(&app, "500105", 82).await;
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("f", FINDING_RECORDED).await;
    app.wait_for_subscribers(1).await;
    let input = json!({ "inspectionId": scene.inspection, "code": "LG-1", "permitId": scene.permit["id"], "severity": "MINOR", "description": "台账缺失" });
    let query = "mutation($input: RecordFindingInput!) { recordFinding(input: $input, idempotencyKey: \"retry-1\") { id } }";
    let first = app
        .data(&scene.officer, query, json!({ "input": input }))
        .await;
    let again = app
        .data(&scene.officer, query, json!({ "input": input }))
        .await;
    assert_eq!(first, again);
    assert_eq!(
        next_finding(&mut client, "f").await["id"],
        first["recordFinding"]["id"]
    );
    assert!(
        client
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "a retry is not a new finding"
    );
});

db_test!(a_subscriber_resumes_after_its_cursor, |app| {
    let scene = scene(&app, "500103", 83).await;
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("f", FINDING_WITH_CURSOR).await;
    app.wait_for_subscribers(1).await;
    let first = record_finding(&app, &scene).await;
    let second = record_finding(&app, &scene).await;
    let got = next_findings(&mut client, "f", 2).await;
    assert_eq!(got[0].0, first);
    assert_eq!(got[1].0, second);
    // The payload's cursor is a position of the change feed: `changes` resumes there too.
    let after_second = app
        .data(
            &token,
            "query($after: String) { changes(after: $after, first: 10, kinds: [FINDING]) { edges { node { recordId } } } }",
            json!({ "after": got[1].1 }),
        )
        .await;
    assert_eq!(after_second["changes"]["edges"], json!([]));

    // The client goes away; two findings are recorded meanwhile.
    drop(client);
    app.wait_for_subscribers_at_most(0).await;
    let third = record_finding(&app, &scene).await;
    let fourth = record_finding(&app, &scene).await;
    // It comes back with the last cursor it saw: the two it missed, then live ones, once each.
    let mut again = Client::ready(&app, &token).await;
    again.subscribe("f", &finding_after(&got[1].1)).await;
    let missed = next_findings(&mut again, "f", 2).await;
    assert_eq!(missed[0].0, third);
    assert_eq!(missed[1].0, fourth);
    app.wait_for_subscribers(1).await;
    let fifth = record_finding(&app, &scene).await;
    assert_eq!(next_findings(&mut again, "f", 1).await[0].0, fifth);
    assert!(
        again
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "a finding was delivered twice"
    );

    // The first cursor replays everything after it, still in order.
    let mut replay = Client::ready(&app, &token).await;
    replay.subscribe("r", &finding_after(&got[0].1)).await;
    let replayed: Vec<String> = next_findings(&mut replay, "r", 4)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(replayed, [second, third, fourth, fifth]);

    // A cursor that is not one is refused at once.
    let mut bad = Client::ready(&app, &token).await;
    bad.subscribe("b", &finding_after("not-a-cursor")).await;
    let refused = bad.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
});

db_test!(
    violation_candidates_reach_only_subscribers_in_scope,
    |app| {
        let (_, water, _) = crate::monitoring::monitored_permit(&app, "500103", 73).await;
        let subscription = "subscription { violationCandidateDetected { id cursor code { code } measuredValue district { code } } }";
        let mut in_scope =
            Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500103"))).await;
        let mut other_district =
            Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500106"))).await;
        let mut integrator = Client::ready(&app, &app.token(Role::Integrator, None)).await;
        for client in [&mut in_scope, &mut other_district, &mut integrator] {
            client.subscribe("c", subscription).await;
        }
        app.wait_for_subscribers(3).await;
        let year = permit_core::domain::clock::today().format("%Y");
        let reading = |hour: u32, value: f64| {
            json!({ "outletId": water, "pollutant": "化学需氧量", "unitOfMeasure": "mg/L",
                "measuredAt": format!("{year}-06-02T{hour:02}:00:00+08:00"), "value": value,
                "source": "AUTOMATIC", "flag": "N" })
        };
        app.data(
        &app.token(Role::Integrator, None),
        "mutation($r: [ReadingInput!]!) { recordReadings(input: { readings: $r }) { inserted } }",
        json!({ "r": [reading(9, 60.0), reading(10, 140.0)] }),
    )
    .await;
        let message = in_scope.message().await;
        assert_eq!(message["type"], "next", "{message}");
        let got = &message["payload"]["data"]["violationCandidateDetected"];
        assert_eq!(got["code"]["code"], "EX-1", "{message}");
        assert_eq!(got["measuredValue"], 140.0, "{message}");
        assert_eq!(got["district"]["code"], "500103", "{message}");
        assert!(
            got["cursor"].as_str().is_some_and(|c| !c.is_empty()),
            "{message}"
        );
        // Exactly once: the same readings again raise nothing.
        app.data(
        &app.token(Role::Integrator, None),
        "mutation($r: [ReadingInput!]!) { recordReadings(input: { readings: $r }) { unchanged } }",
        json!({ "r": [reading(10, 140.0)] }),
    )
    .await;
        for client in [&mut in_scope, &mut other_district, &mut integrator] {
            assert!(
                client
                    .next_within(Duration::from_millis(1500))
                    .await
                    .is_none(),
                "a candidate reached a subscriber out of scope, or twice"
            );
        }
    }
);
