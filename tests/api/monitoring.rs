//! Monitoring data (issue 17): the permit's obligations as data, and readings checked against
//! the permit on their day, idempotent per (outlet, pollutant, time, source), written by the
//! roles the policy names, listed in scope.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::{ISSUE_PERMIT, register_unit};

const ISSUE: &str = r#"mutation($input: IssuePermitInput!) {
  issuePermit(input: $input) { id permitNumber version outlets { id code } } }"#;
use crate::helpers::{TestApp, error_code, error_field};

const RECORD: &str = r#"mutation($input: ReadingInput!) {
  recordReading(input: $input) { inserted unchanged } }"#;

const RECORD_MANY: &str = r#"mutation($readings: [ReadingInput!]!) {
  recordReadings(input: { readings: $readings }) { inserted unchanged } }"#;

fn year() -> String {
    permit_core::domain::clock::today().format("%Y").to_string()
}

/// A KEY unit in `district` with a permit from this year's start: DW001 limits COD (mg/L) and
/// plans it automatically (hourly) and ammonia nitrogen by hand (monthly, no limit); DA001
/// limits particulates. Annual and quarterly reports. Returns (permit, DW001 id, DA001 id).
pub async fn monitored_permit(
    app: &TestApp,
    district: &str,
    serial: u32,
) -> (Value, String, String) {
    let unit = register_unit(app, district, serial, "重庆监测测试有限公司", "KEY").await;
    let admin = app.token(Role::Admin, None);
    let input = json!({
        "unitId": unit["id"],
        "validFrom": format!("{}-01-01", year()),
        "reportDuties": ["ANNUAL", "QUARTERLY"],
        "outlets": [
            { "code": "DW001", "category": "MAIN", "limits": [
                { "pollutant": "化学需氧量", "concentrationLimit": 100.0, "concentrationUnit": "mg/L", "averagingPeriod": "DAILY" }
              ],
              "monitoring": [
                { "pollutant": "化学需氧量", "method": "AUTOMATIC", "frequency": "HOURLY" },
                { "pollutant": "氨氮", "method": "MANUAL", "frequency": "MONTHLY" }
              ]},
            { "code": "DA001", "category": "GENERAL", "limits": [
                { "pollutant": "颗粒物", "concentrationLimit": 20.0, "concentrationUnit": "mg/m³", "averagingPeriod": "HOURLY" }
            ]}
        ]
    });
    let permit = app.data(&admin, ISSUE, json!({ "input": input })).await["issuePermit"].clone();
    let outlet = |code: &str| {
        permit["outlets"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["code"] == code))
            .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let water = outlet("DW001");
    let air = outlet("DA001");
    (permit, water, air)
}

fn reading(outlet: &str, at: &str, value: f64) -> Value {
    json!({
        "outletId": outlet, "pollutant": "化学需氧量", "measuredAt": at, "value": value,
        "unitOfMeasure": "mg/L", "source": "AUTOMATIC"
    })
}

fn june(hour: u32) -> String {
    format!("{}-06-01T{hour:02}:00:00+08:00", year())
}

db_test!(obligations_are_versioned_with_the_permit, |app| {
    let (permit, _, _) = monitored_permit(&app, "500103", 1).await;
    let admin = app.token(Role::Admin, None);
    let query = r#"query($id: ID!) { permit(id: $id) { version
        reportDuties { frequency sinceVersion }
        monitoringRequirements { pollutant method frequency }
        outlets { code monitoring { pollutant method frequency sinceVersion } } } }"#;
    let read = app.data(&admin, query, json!({ "id": permit["id"] })).await;
    let p = &read["permit"];
    let duties: Vec<&str> = p["reportDuties"]
        .as_array()
        .expect("duties")
        .iter()
        .filter_map(|d| d["frequency"].as_str())
        .collect();
    assert_eq!(duties, ["ANNUAL", "QUARTERLY"]);
    assert_eq!(
        p["monitoringRequirements"].as_array().map(Vec::len),
        Some(2)
    );
    let water = p["outlets"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["code"] == "DW001"))
        .expect("DW001");
    assert_eq!(water["monitoring"][0]["method"], "AUTOMATIC");
    assert_eq!(water["monitoring"][1]["frequency"], "MONTHLY");

    // A change replaces the duties: a new version, the old duty retired, history kept.
    let changed = app
        .data(
            &admin,
            r#"mutation($id: ID!) { changePermit(id: $id, expectedVersion: 1, input: {
                 reason: "月报", reportDuties: [ANNUAL, MONTHLY] }) { version
                 reportDuties { frequency sinceVersion } } }"#,
            json!({ "id": permit["id"] }),
        )
        .await;
    let c = &changed["changePermit"];
    assert_eq!(c["version"], 2);
    assert_eq!(
        c["reportDuties"],
        json!([{ "frequency": "ANNUAL", "sinceVersion": 1 }, { "frequency": "MONTHLY", "sinceVersion": 2 }])
    );
    let retired = app
        .scalar_i64("SELECT COUNT(*) FROM report_duties WHERE retired_in_version = 2")
        .await;
    assert_eq!(retired, 1, "QUARTERLY retired in version 2, not deleted");

    // A plan names each pollutant once per outlet.
    let unit = register_unit(&app, "500103", 2, "重庆重复监测有限公司", "SIMPLIFIED").await;
    let twice = app
        .gql(
            Some(&admin),
            ISSUE_PERMIT,
            json!({ "input": {
                "unitId": unit["id"], "validFrom": format!("{}-01-01", year()),
                "outlets": [{ "code": "DW001", "category": "GENERAL", "monitoring": [
                    { "pollutant": "氨氮", "method": "MANUAL", "frequency": "MONTHLY" },
                    { "pollutant": "氨氮", "method": "AUTOMATIC", "frequency": "HOURLY" } ] }]
            } }),
        )
        .await;
    assert_eq!(error_code(&twice), Some("BAD_USER_INPUT"), "{twice}");
    assert_eq!(
        error_field(&twice),
        Some("input.outlets[0].monitoring[1].pollutant")
    );
});

db_test!(
    readings_are_checked_against_the_permit_on_their_day,
    |app| {
        let (_, water, air) = monitored_permit(&app, "500103", 1).await;
        let monitoring = app.token(Role::Monitoring, None);
        let ok = app
            .data(
                &monitoring,
                RECORD,
                json!({ "input": reading(&water, &june(10), 42.0) }),
            )
            .await;
        assert_eq!(
            ok["recordReading"],
            json!({ "inserted": 1, "unchanged": 0 })
        );
        // A monitored pollutant without a limit is accepted too.
        let mut ammonia = reading(&water, &june(10), 3.2);
        ammonia["pollutant"] = json!("氨氮");
        ammonia["source"] = json!("SELF_MONITORING");
        let ok = app
            .data(&monitoring, RECORD, json!({ "input": ammonia }))
            .await;
        assert_eq!(ok["recordReading"]["inserted"], 1);

        let refused = |input: Value| {
            let (app, token) = (&app, monitoring.clone());
            async move {
                let body = app
                    .gql(Some(&token), RECORD, json!({ "input": input }))
                    .await;
                (
                    error_code(&body).map(str::to_owned),
                    error_field(&body).map(str::to_owned),
                )
            }
        };
        let bad_input = |field: &str| (Some("BAD_USER_INPUT".to_owned()), Some(field.to_owned()));

        let mut other_pollutant = reading(&water, &june(11), 1.0);
        other_pollutant["pollutant"] = json!("总磷");
        assert_eq!(refused(other_pollutant).await, bad_input("input.pollutant"));
        // COD is not on the air outlet.
        assert_eq!(
            refused(reading(&air, &june(11), 1.0)).await,
            bad_input("input.pollutant")
        );
        let before_validity = format!(
            "{}-12-31T10:00:00+08:00",
            year().parse::<i32>().unwrap_or(2026) - 1
        );
        assert_eq!(
            refused(reading(&water, &before_validity, 1.0)).await,
            bad_input("input.measuredAt")
        );
        let future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
        assert_eq!(
            refused(reading(&water, &future, 1.0)).await,
            bad_input("input.measuredAt")
        );
        let mut wrong_unit = reading(&water, &june(12), 1.0);
        wrong_unit["unitOfMeasure"] = json!("mg/m³");
        assert_eq!(refused(wrong_unit).await, bad_input("input.unitOfMeasure"));
        let mut flag = reading(&water, &june(12), 1.0);
        flag["flag"] = json!("Q");
        assert_eq!(refused(flag).await, bad_input("input.flag"));
        assert_eq!(
            refused(reading(&water, &june(12), -3.0)).await,
            bad_input("input.value")
        );
        assert_eq!(
            refused(reading("T3V0bGV0Ojk5OTk5", &june(12), 1.0)).await,
            bad_input("input.outletId")
        );

        // In a batch the error names the row, and nothing of the batch is stored.
        let mut bad = reading(&water, &june(14), 1.0);
        bad["pollutant"] = json!("总磷");
        let body = app
            .gql(
                Some(&monitoring),
                RECORD_MANY,
                json!({ "readings": [reading(&water, &june(13), 1.0), bad] }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(error_field(&body), Some("input.readings[1].pollutant"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM readings").await, 2);

        // A revoked permit takes no readings from the day of revocation on.
        let admin = app.token(Role::Admin, None);
        let permit_id = app
            .data(
                &admin,
                "{ permits(first: 1) { edges { node { id version } } } }",
                json!({}),
            )
            .await["permits"]["edges"][0]["node"]
            .clone();
        let revoked = app.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { revokePermit(id: $id, expectedVersion: $v, reason: \"骗取\") { status } }",
        json!({ "id": permit_id["id"], "v": permit_id["version"] }),
    )
    .await;
        assert_eq!(revoked["revokePermit"]["status"], "REVOKED");
        // Read after the revocation, so on its day or later (a minute earlier is the day
        // before when the revocation falls in the first minute of a day).
        let now = chrono::Utc::now().to_rfc3339();
        assert_eq!(
            refused(reading(&water, &now, 1.0)).await,
            bad_input("input.measuredAt")
        );
    }
);

db_test!(
    readings_are_idempotent_per_outlet_pollutant_time_and_source,
    |app| {
        let (_, water, _) = monitored_permit(&app, "500103", 1).await;
        let integrator = app.token(Role::Integrator, None);
        let first = app
            .data(
                &integrator,
                RECORD,
                json!({ "input": reading(&water, &june(10), 42.0) }),
            )
            .await;
        assert_eq!(
            first["recordReading"],
            json!({ "inserted": 1, "unchanged": 0 })
        );
        let again = app
            .data(
                &integrator,
                RECORD,
                json!({ "input": reading(&water, &june(10), 42.0) }),
            )
            .await;
        assert_eq!(
            again["recordReading"],
            json!({ "inserted": 0, "unchanged": 1 })
        );
        let other = app
            .gql(
                Some(&integrator),
                RECORD,
                json!({ "input": reading(&water, &june(10), 43.0) }),
            )
            .await;
        assert_eq!(error_code(&other), Some("CONFLICT"), "{other}");
        assert_eq!(error_field(&other), Some("input.value"));
        // The same time from another source is another reading.
        let monitoring = app.token(Role::Monitoring, None);
        let mut supervisory = reading(&water, &june(10), 45.0);
        supervisory["source"] = json!("SUPERVISORY");
        let ok = app
            .data(&monitoring, RECORD, json!({ "input": supervisory }))
            .await;
        assert_eq!(ok["recordReading"]["inserted"], 1);

        // A bulk batch larger than one INSERT chunk, then the same batch again.
        let start =
            chrono::DateTime::parse_from_rfc3339(&format!("{}-02-01T00:00:00+08:00", year()))
                .expect("time");
        let batch: Vec<Value> = (0..1200)
            .map(|i| {
                let at = (start + chrono::Duration::minutes(i)).to_rfc3339();
                reading(&water, &at, (i % 90) as f64)
            })
            .collect();
        let stored = app
            .data(&integrator, RECORD_MANY, json!({ "readings": batch }))
            .await;
        assert_eq!(
            stored["recordReadings"],
            json!({ "inserted": 1200, "unchanged": 0 })
        );
        let resent = app
            .data(&integrator, RECORD_MANY, json!({ "readings": batch }))
            .await;
        assert_eq!(
            resent["recordReadings"],
            json!({ "inserted": 0, "unchanged": 1200 })
        );
        // One changed value in a resent batch is a conflict naming it; nothing is written.
        let mut changed = batch.clone();
        changed[1100]["value"] = json!(99.5);
        changed.push(reading(&water, &june(20), 1.0));
        let body = app
            .gql(
                Some(&integrator),
                RECORD_MANY,
                json!({ "readings": changed }),
            )
            .await;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
        assert_eq!(error_field(&body), Some("input.readings[1100].value"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM readings").await, 1202);
    }
);

db_test!(who_records_readings_and_who_reads_them, |app| {
    let (permit, water, _) = monitored_permit(&app, "500103", 1).await;
    let (_, elsewhere, _) = monitored_permit(&app, "500112", 2).await;
    let record = |token: String, input: Value| {
        let app = &app;
        async move {
            let body = app
                .gql(Some(&token), RECORD, json!({ "input": input }))
                .await;
            error_code(&body)
                .map(str::to_owned)
                .unwrap_or_else(|| "OK".to_owned())
        }
    };
    let supervisory = |outlet: &str, hour: u32| {
        let mut r = reading(outlet, &june(hour), 10.0);
        r["source"] = json!("SUPERVISORY");
        r
    };
    let self_monitoring = |outlet: &str, hour: u32| {
        let mut r = reading(outlet, &june(hour), 10.0);
        r["source"] = json!("SELF_MONITORING");
        r
    };
    // The monitoring centre, also a district's monitoring station, records in any district.
    assert_eq!(
        record(
            app.token(Role::Monitoring, Some("500103")),
            supervisory(&elsewhere, 1)
        )
        .await,
        "OK"
    );
    let officer = app.token(Role::EnforcementOfficer, Some("500103"));
    assert_eq!(
        record(officer.clone(), self_monitoring(&water, 2)).await,
        "OK"
    );
    assert_eq!(
        record(officer.clone(), supervisory(&water, 3)).await,
        "FORBIDDEN"
    );
    // Another district's outlet is unknown to a district officer (named nowhere).
    assert_eq!(
        record(officer.clone(), self_monitoring(&elsewhere, 4)).await,
        "BAD_USER_INPUT"
    );
    let integrator = app.token(Role::Integrator, None);
    assert_eq!(
        record(integrator.clone(), reading(&water, &june(5), 1.0)).await,
        "OK"
    );
    assert_eq!(
        record(integrator, self_monitoring(&water, 6)).await,
        "FORBIDDEN"
    );
    for role in [Role::PermitOfficer, Role::Supervisor] {
        assert_eq!(
            record(app.token(role, None), reading(&water, &june(7), 1.0)).await,
            "FORBIDDEN"
        );
    }

    // Reads: scoped like the unit; newest first; paged with cursors; filtered.
    let list = r#"query($f: ReadingFilter, $after: String) {
        readings(first: 1, filter: $f, after: $after) { totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { pollutant value source flag measuredAt recordedBy
            outlet { code } permit { permitNumber } unit { name } district { code } } } } }"#;
    let own = app.data(&officer, list, json!({})).await;
    assert_eq!(own["readings"]["totalCount"], 2);
    assert_eq!(own["readings"]["pageInfo"]["hasNextPage"], true);
    let nodes = &own["readings"]["edges"];
    assert_eq!(nodes[0]["node"]["measuredAt"], june(5));
    assert_eq!(
        nodes[0]["node"]["permit"]["permitNumber"],
        permit["permitNumber"]
    );
    assert_eq!(nodes[0]["node"]["district"]["code"], "500103");
    assert_eq!(nodes[0]["node"]["flag"], "N");
    let next = app
        .data(
            &officer,
            list,
            json!({ "after": own["readings"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(next["readings"]["edges"][0]["node"]["measuredAt"], june(2));
    assert_eq!(next["readings"]["pageInfo"]["hasNextPage"], false);
    let other = app
        .data(
            &app.token(Role::EnforcementOfficer, Some("500112")),
            list,
            json!({}),
        )
        .await;
    assert_eq!(other["readings"]["totalCount"], 1);
    let filtered = app
        .data(
            &app.token(Role::Supervisor, None),
            list,
            json!({ "f": { "source": "SUPERVISORY" } }),
        )
        .await;
    assert_eq!(filtered["readings"]["totalCount"], 1);
    // Integrators read readings, but not who recorded them.
    let by_integrator = app
        .data(&app.token(Role::Integrator, None), list, json!({}))
        .await;
    assert_eq!(by_integrator["readings"]["totalCount"], 3);
    assert!(by_integrator["readings"]["edges"][0]["node"]["recordedBy"].is_null());
});
