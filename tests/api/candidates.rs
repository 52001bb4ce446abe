//! Violation candidates (issue 17): EX-1 from readings above the limit as they are written,
//! NP-2 from readings after the permit expired, AM-2, SM-1 and ER-1 counted in SQL over a window, scoped like findings (integrators: none),
//! dismissed with a reason or turned into a finding that carries its readings; decisions in
//! the change feed and the audit trail.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::enforcement::scene;
use crate::helpers::{TestApp, error_code, error_field};
use crate::monitoring::monitored_permit;

const RECORD_MANY: &str = r#"mutation($readings: [ReadingInput!]!) {
  recordReadings(input: { readings: $readings }) { inserted unchanged } }"#;

const CANDIDATES: &str = r#"query($f: ViolationCandidateFilter) {
  violationCandidates(first: 20, filter: $f) { totalCount edges { node {
    id code { code } status pollutant measuredValue permittedValue unitOfMeasure
    expected observed windowFrom windowTo dismissedReason
    outlet { code } permit { permitNumber } unit { name } district { code }
    reading { value measuredAt } } } } }"#;

const DETECT: &str = r#"mutation($input: DetectViolationCandidatesInput!) {
  detectViolationCandidates(input: $input) { am2 sm1 er1 } }"#;

fn year() -> String {
    permit_core::domain::clock::today().format("%Y").to_string()
}

fn at(month: u32, day: u32, hour: u32) -> String {
    format!("{}-{month:02}-{day:02}T{hour:02}:00:00+08:00", year())
}

fn cod(outlet: &str, when: &str, value: f64, flag: &str) -> Value {
    json!({ "outletId": outlet, "pollutant": "化学需氧量", "measuredAt": when, "value": value,
            "unitOfMeasure": "mg/L", "source": "AUTOMATIC", "flag": flag })
}

fn nodes(data: &Value) -> Vec<Value> {
    data["violationCandidates"]["edges"]
        .as_array()
        .map(|e| e.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

db_test!(
    an_exceedance_becomes_a_candidate_and_then_a_finding,
    |app| {
        let s = scene(&app, "500103", 1).await;
        let outlets = app
            .data(
                &s.officer,
                "query($id: ID!) { permit(id: $id) { outlets { id code } } }",
                json!({ "id": s.permit["id"] }),
            )
            .await;
        let water = outlets["permit"]["outlets"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["code"] == "DW001"))
            .and_then(|o| o["id"].as_str())
            .expect("DW001")
            .to_owned();
        let integrator = app.token(Role::Integrator, None);
        let readings = json!([
            cod(&water, &at(6, 1, 10), 150.0, "N"),
            // Above the limit while the monitor was maintained: no measure of the discharge.
            cod(&water, &at(6, 1, 11), 180.0, "M"),
            cod(&water, &at(6, 1, 12), 80.0, "N"),
        ]);
        app.data(&integrator, RECORD_MANY, json!({ "readings": readings }))
            .await;
        // Sent again: no second candidate.
        app.data(&integrator, RECORD_MANY, json!({ "readings": readings }))
            .await;
        let listed = app.data(&s.officer, CANDIDATES, json!({})).await;
        let found = nodes(&listed);
        assert_eq!(found.len(), 1, "{listed}");
        let c = &found[0];
        assert_eq!(c["code"]["code"], "EX-1");
        assert_eq!(c["status"], "OPEN");
        assert_eq!(c["measuredValue"], 150.0);
        assert_eq!(c["permittedValue"], 100.0);
        assert_eq!(c["unitOfMeasure"], "mg/L");
        assert_eq!(c["outlet"]["code"], "DW001");
        assert_eq!(c["reading"]["measuredAt"], at(6, 1, 10));

        // Scoped like findings: not for integrators, monitoring or another district.
        let none = app.data(&integrator, CANDIDATES, json!({})).await;
        assert_eq!(none["violationCandidates"]["totalCount"], 0);
        let other = app
            .data(
                &app.token(Role::EnforcementOfficer, Some("500112")),
                CANDIDATES,
                json!({}),
            )
            .await;
        assert_eq!(other["violationCandidates"]["totalCount"], 0);
        let monitoring = app
            .gql(
                Some(&app.token(Role::Monitoring, None)),
                CANDIDATES,
                json!({}),
            )
            .await;
        assert_eq!(error_code(&monitoring), Some("FORBIDDEN"));

        // Turned into a finding: the candidate fills outlet, pollutant and measurement.
        let record = r#"mutation($input: RecordFindingInput!) { recordFinding(input: $input) {
        id code { code } pollutant measuredValue permittedValue
        candidate { id status } readings { value measuredAt } } }"#;
        let wrong_code = app
        .gql(
            Some(&s.officer),
            record,
            json!({ "input": { "inspectionId": s.inspection, "code": "AM-2", "candidateId": c["id"],
                    "severity": "GENERAL", "description": "在线监测超标" } }),
        )
        .await;
        assert_eq!(error_field(&wrong_code), Some("input.code"), "{wrong_code}");
        let finding = app
        .data(
            &s.officer,
            record,
            json!({ "input": { "inspectionId": s.inspection, "code": "EX-1", "candidateId": c["id"],
                    "severity": "GENERAL", "description": "在线监测超标" } }),
        )
        .await;
        let f = &finding["recordFinding"];
        assert_eq!(f["pollutant"], "化学需氧量");
        assert_eq!(f["measuredValue"], 150.0);
        assert_eq!(f["permittedValue"], 100.0);
        assert_eq!(f["candidate"]["status"], "CONFIRMED");
        assert_eq!(
            f["readings"],
            json!([{ "value": 150.0, "measuredAt": at(6, 1, 10) }])
        );
        // Decided once.
        let again = app
        .gql(
            Some(&s.officer),
            record,
            json!({ "input": { "inspectionId": s.inspection, "code": "EX-1", "candidateId": c["id"],
                    "severity": "GENERAL", "description": "再次" } }),
        )
        .await;
        assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
        let feed = candidate_feed(&app, &s.officer, 2).await;
        // Raised (OPEN), then confirmed.
        assert_eq!(
            feed["changes"]["edges"],
            json!([
                { "node": { "kind": "VIOLATION_CANDIDATE", "state": "OPEN" } },
                { "node": { "kind": "VIOLATION_CANDIDATE", "state": "CONFIRMED" } }
            ]),
            "{feed}"
        );
    }
);

/// The feed's violation-candidate changes, once it shows `expected` of them (or after 5 s). The
/// feed shows a transaction's changes once every older transaction of the cluster has ended
/// (`domain::changes`): with other tests writing to PostgreSQL, that can take a moment.
async fn candidate_feed(app: &TestApp, token: &str, expected: usize) -> Value {
    let mut feed = json!({});
    for _ in 0..50 {
        feed = app
            .data(
                token,
                "{ changes(first: 100, kinds: [VIOLATION_CANDIDATE]) { edges { node { kind state } } } }",
                json!({}),
            )
            .await;
        if feed["changes"]["edges"].as_array().map(Vec::len) == Some(expected) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    feed
}

db_test!(
    missing_automatic_data_and_self_monitoring_are_counted_in_sql,
    |app| {
        let (_, water, _) = monitored_permit(&app, "500103", 1).await;
        let monitoring = app.token(Role::Monitoring, None);
        // June 2nd: 18 of 24 hourly COD values (six missing); no ammonia results all month.
        let readings: Vec<Value> = (0..18)
            .map(|h| cod(&water, &at(6, 2, h), 40.0, "N"))
            .collect();
        app.data(&monitoring, RECORD_MANY, json!({ "readings": readings }))
            .await;
        let officer = app.token(Role::EnforcementOfficer, Some("500103"));
        let day = json!({ "input": { "from": format!("{}-06-02", year()), "to": format!("{}-06-02", year()) } });
        let found = app.data(&officer, DETECT, day.clone()).await;
        // Six missing > four tolerated; a monthly plan expects nothing of a single day.
        assert_eq!(
            found["detectViolationCandidates"],
            json!({ "am2": 1, "sm1": 0, "er1": 0 })
        );
        let tolerant = json!({ "input": { "from": format!("{}-06-02", year()),
        "to": format!("{}-06-02", year()), "amMissing": 6 } });
        let none = app.data(&officer, DETECT, tolerant).await;
        assert_eq!(
            none["detectViolationCandidates"],
            json!({ "am2": 0, "sm1": 0, "er1": 0 })
        );
        let month = json!({ "input": { "from": format!("{}-06-01", year()), "to": format!("{}-06-30", year()) } });
        let found = app.data(&officer, DETECT, month.clone()).await;
        assert_eq!(
            found["detectViolationCandidates"],
            json!({ "am2": 1, "sm1": 1, "er1": 0 })
        );
        // Detecting again finds nothing new.
        let again = app.data(&officer, DETECT, month).await;
        assert_eq!(
            again["detectViolationCandidates"],
            json!({ "am2": 0, "sm1": 0, "er1": 0 })
        );

        let listed = app
            .data(&officer, CANDIDATES, json!({ "f": { "code": "AM-2" } }))
            .await;
        let am2 = nodes(&listed);
        assert_eq!(am2.len(), 2);
        let daily = am2
            .iter()
            .find(|c| c["expected"] == 24)
            .expect("the one-day window");
        assert_eq!(daily["observed"], 18);
        assert_eq!(daily["windowFrom"], at(6, 2, 0));
        assert_eq!(daily["windowTo"], at(6, 3, 0));
        let sm1 = nodes(
            &app.data(&officer, CANDIDATES, json!({ "f": { "code": "SM-1" } }))
                .await,
        );
        assert_eq!(sm1[0]["pollutant"], "氨氮");
        assert_eq!(sm1[0]["expected"], 1);
        assert_eq!(sm1[0]["observed"], 0);

        // Dismissed with a reason, once.
        let dismiss = r#"mutation($id: ID!, $r: String!) {
        dismissViolationCandidate(id: $id, reason: $r) { status dismissedReason } }"#;
        let done = app
            .data(
                &officer,
                dismiss,
                json!({ "id": sm1[0]["id"], "r": "月度监测报告已纸质提交" }),
            )
            .await;
        assert_eq!(
            done["dismissViolationCandidate"],
            json!({ "status": "DISMISSED", "dismissedReason": "月度监测报告已纸质提交" })
        );
        let twice = app
            .gql(
                Some(&officer),
                dismiss,
                json!({ "id": sm1[0]["id"], "r": "x" }),
            )
            .await;
        assert_eq!(error_code(&twice), Some("INVALID_TRANSITION"));
        let elsewhere = app
            .gql(
                Some(&app.token(Role::EnforcementOfficer, Some("500112"))),
                dismiss,
                json!({ "id": am2[0]["id"], "r": "x" }),
            )
            .await;
        assert_eq!(error_code(&elsewhere), Some("BAD_USER_INPUT"));
        // A window that has not ended is refused.
        let today = permit_core::domain::clock::today().to_string();
        let open = app
            .gql(
                Some(&officer),
                DETECT,
                json!({ "input": { "from": today, "to": today } }),
            )
            .await;
        assert_eq!(error_field(&open), Some("input.to"));
        let integrator = app
            .gql(Some(&app.token(Role::Integrator, None)), DETECT, day)
            .await;
        assert_eq!(error_code(&integrator), Some("FORBIDDEN"));
        let audit = app
            .scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'DETECT_CANDIDATES'")
            .await;
        assert_eq!(audit, 4);
    }
);

db_test!(
    execution_reports_missing_or_late_are_er1_candidates,
    |app| {
        let (permit, _, _) = monitored_permit(&app, "500103", 1).await;
        let office = app.token(Role::PermitOfficer, Some("500103"));
        let record = r#"mutation($input: RecordExecutionReportInput!) {
        recordExecutionReport(input: $input) { frequency periodStart periodEnd dueOn submittedOn late } }"#;
        let report = |frequency: &str, start: String, submitted: String| {
            json!({ "input": { "permitId": permit["id"], "frequency": frequency,
            "periodStart": start, "submittedOn": submitted, "summary": "执行情况正常" } })
        };
        let y = year();
        let q1 = app
            .data(
                &office,
                record,
                report("QUARTERLY", format!("{y}-01-01"), format!("{y}-04-10")),
            )
            .await;
        assert_eq!(
            q1["recordExecutionReport"],
            json!({ "frequency": "QUARTERLY", "periodStart": format!("{y}-01-01"),
                "periodEnd": format!("{y}-03-31"), "dueOn": format!("{y}-04-15"),
                "submittedOn": format!("{y}-04-10"), "late": false })
        );
        let q2 = app
            .data(
                &office,
                record,
                report("QUARTERLY", format!("{y}-04-01"), format!("{y}-07-20")),
            )
            .await;
        assert_eq!(q2["recordExecutionReport"]["late"], true);
        for (input, code, field) in [
            (
                report("QUARTERLY", format!("{y}-04-01"), format!("{y}-07-21")),
                "CONFLICT",
                "input.periodStart",
            ),
            (
                report("QUARTERLY", format!("{y}-05-01"), format!("{y}-09-01")),
                "BAD_USER_INPUT",
                "input.periodStart",
            ),
            (
                report("MONTHLY", format!("{y}-05-01"), format!("{y}-06-02")),
                "BAD_USER_INPUT",
                "input.frequency",
            ),
            (
                report("QUARTERLY", format!("{y}-07-01"), format!("{y}-08-01")),
                "BAD_USER_INPUT",
                "input.submittedOn",
            ),
        ] {
            let body = app.gql(Some(&office), record, input).await;
            assert_eq!(error_code(&body), Some(code), "{body}");
            assert_eq!(error_field(&body), Some(field), "{body}");
        }
        let officer = app.token(Role::EnforcementOfficer, Some("500103"));
        let found = app
            .data(
                &officer,
                DETECT,
                json!({ "input": { "from": format!("{y}-04-01"), "to": format!("{y}-10-31") } }),
            )
            .await;
        // Q2 came late, Q3 never; the automatic COD plan has no data at all, nor the monthly one.
        assert_eq!(
            found["detectViolationCandidates"],
            json!({ "am2": 1, "sm1": 1, "er1": 2 })
        );
        let er1 = nodes(
            &app.data(&officer, CANDIDATES, json!({ "f": { "code": "ER-1" } }))
                .await,
        );
        let mut windows: Vec<(String, i64)> = er1
            .iter()
            .map(|c| {
                (
                    c["windowFrom"].as_str().unwrap_or_default().to_owned(),
                    c["observed"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        windows.sort();
        assert_eq!(
            windows,
            [
                (format!("{y}-04-01T00:00:00+08:00"), 1),
                (format!("{y}-07-01T00:00:00+08:00"), 0)
            ]
        );
    }
);

/// The NP-2 candidate in `violationPatterns`: counted beside its group's findings (none yet),
/// by month, and not in another district's figures.
async fn one_open_np2_candidate_in_the_patterns(app: &TestApp, officer: &str) {
    let patterns = app
        .data(
            officer,
            "{ violationPatterns(groupBy: [CODE]) { code { code } findings openCandidates } }",
            json!({}),
        )
        .await;
    assert_eq!(
        patterns["violationPatterns"],
        json!([{ "code": { "code": "NP-2" }, "findings": 0, "openCandidates": 1 }]),
        "{patterns}"
    );
    let elsewhere = app
        .data(
            &app.token(Role::EnforcementOfficer, Some("500112")),
            "{ violationPatterns(groupBy: [CODE, MONTH]) { openCandidates } }",
            json!({}),
        )
        .await;
    assert_eq!(elsewhere["violationPatterns"], json!([]), "{elsewhere}");
    let by_month = app
        .data(
            officer,
            "{ violationPatterns(groupBy: [MONTH], filter: { code: \"NP-2\" }) { month openCandidates } }",
            json!({}),
        )
        .await;
    assert_eq!(
        by_month["violationPatterns"],
        json!([{ "month": permit_core::domain::clock::today().format("%Y-%m").to_string(), "openCandidates": 1 }]),
        "{by_month}"
    );
}

db_test!(
    discharge_after_the_permit_expired_is_an_np2_candidate,
    |app| {
        use permit_core::domain::clock::today;
        let unit =
            crate::fixtures::register_unit(&app, "500103", 81, "过期许可监测单位", "KEY").await;
        let admin = app.token(Role::Admin, None);
        let day = |n: i64| (today() - chrono::Duration::days(n)).to_string();
        let issue = |from: String, to: String| {
            json!({ "input": {
                "unitId": unit["id"], "validFrom": from, "validTo": to,
                "outlets": [{ "code": "DW001", "category": "MAIN", "limits": [
                    { "pollutant": "化学需氧量", "concentrationLimit": 100.0,
                      "concentrationUnit": "mg/L", "averagingPeriod": "DAILY" }] }] } })
        };
        let expired = app
            .data(
                &admin,
                crate::fixtures::ISSUE_PERMIT,
                issue(day(400), day(60)),
            )
            .await["issuePermit"]
            .clone();
        assert_eq!(expired["status"], "EXPIRED", "{expired}");
        let permit = app
            .data(
                &admin,
                "query($id: ID!) { permit(id: $id) { outlets { id } } }",
                json!({ "id": expired["id"] }),
            )
            .await;
        let outlet = permit["permit"]["outlets"][0]["id"].clone();
        let reading = |days_ago: i64, hour: u32, value: f64| {
            json!({ "outletId": outlet, "pollutant": "化学需氧量", "unitOfMeasure": "mg/L",
                    "measuredAt": format!("{}T{hour:02}:00:00+08:00", day(days_ago)),
                    "value": value, "source": "AUTOMATIC", "flag": "N" })
        };
        let integrator = app.token(Role::Integrator, None);
        // Before the expiry an ordinary reading; after it, still discharging, stored as
        // evidence: above the old limit too, yet no EX-1 (no limit is in force).
        let written = app
            .data(
                &integrator,
                RECORD_MANY,
                json!({ "readings": [
                    reading(70, 10, 50.0), reading(20, 10, 80.0), reading(20, 11, 160.0)
                ] }),
            )
            .await;
        assert_eq!(written["recordReadings"]["inserted"], 3, "{written}");
        let officer = app.token(Role::EnforcementOfficer, Some("500103"));
        let listed = app.data(&officer, CANDIDATES, json!({})).await;
        let found = nodes(&listed);
        assert_eq!(found.len(), 1, "{listed}");
        assert_eq!(found[0]["code"]["code"], "NP-2");
        assert_eq!(found[0]["permit"]["permitNumber"], expired["permitNumber"]);
        assert_eq!(
            found[0]["reading"]["value"], 80.0,
            "the first reading after expiry"
        );
        // The same month again: the same candidate.
        app.data(
            &integrator,
            RECORD_MANY,
            json!({ "readings": [reading(20, 12, 70.0)] }),
        )
        .await;
        let again = app.data(&officer, CANDIDATES, json!({})).await;
        assert_eq!(again["violationCandidates"]["totalCount"], 1, "{again}");

        // Counted beside the findings of its group, which has none yet.
        one_open_np2_candidate_in_the_patterns(&app, &officer).await;

        // Once the unit holds a new permit, readings on the old permit's outlet are refused:
        // the discharge is permitted, on the new permit's outlets.
        app.data(
            &admin,
            crate::fixtures::ISSUE_PERMIT,
            issue(day(10), day(-300)),
        )
        .await;
        let refused = app
            .gql(
                Some(&integrator),
                RECORD_MANY,
                json!({ "readings": [reading(5, 10, 50.0)] }),
            )
            .await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
        assert_eq!(
            error_field(&refused),
            Some("input.readings[0].measuredAt"),
            "{refused}"
        );
    }
);

db_test!(
    a_ledger_found_wanting_raises_a_candidate_to_confirm,
    |app| {
        use permit_core::domain::clock::today;
        let s = scene(&app, "500103", 82).await;
        let record = r#"mutation($input: RecordLedgerCheckInput!) { recordLedgerCheck(input: $input) {
            ledgerCheck { result note periodStart permit { permitNumber } }
            candidate { id code { code } status windowFrom windowTo } } }"#;
        let start = format!("{}-01-01", today().format("%Y"));
        let end = (today() - chrono::Duration::days(1)).to_string();
        let check = |result: &str, from: &str, note: Option<&str>| {
            json!({ "input": { "inspectionId": s.inspection, "periodStart": from,
                               "periodEnd": end, "result": result, "note": note } })
        };
        // Kept: recorded, nothing raised.
        let kept = app
            .data(&s.officer, record, check("KEPT", &start, None))
            .await;
        assert_eq!(
            kept["recordLedgerCheck"]["candidate"],
            Value::Null,
            "{kept}"
        );
        assert_eq!(
            kept["recordLedgerCheck"]["ledgerCheck"]["permit"]["permitNumber"],
            s.permit["permitNumber"]
        );
        // Wanting without a word of what: refused; the same period twice: a conflict.
        let silent = app
            .gql(
                Some(&s.officer),
                record,
                check("NOT_KEPT", "2026-02-01", None),
            )
            .await;
        assert_eq!(error_field(&silent), Some("input.note"), "{silent}");
        let twice = app
            .gql(Some(&s.officer), record, check("KEPT", &start, None))
            .await;
        assert_eq!(error_code(&twice), Some("CONFLICT"), "{twice}");
        assert_eq!(error_field(&twice), Some("input.periodStart"), "{twice}");
        // Older than the five years a ledger is kept: not a duty any more.
        let old = (today() - chrono::Duration::days(6 * 366)).to_string();
        let stale = app
            .gql(
                Some(&s.officer),
                record,
                check("NOT_KEPT", &old, Some("无记录")),
            )
            .await;
        assert_eq!(error_field(&stale), Some("input.periodStart"), "{stale}");
        // Another district's officer cannot see the inspection.
        let elsewhere = app
            .gql(
                Some(&app.token(Role::EnforcementOfficer, Some("500112"))),
                record,
                check("KEPT", &end, None),
            )
            .await;
        assert_eq!(error_code(&elsewhere), Some("NOT_FOUND"), "{elsewhere}");

        let untrue = app
            .data(
                &s.officer,
                record,
                check("UNTRUE", &end, Some("运行记录与在线数据不符")),
            )
            .await;
        let candidate = &untrue["recordLedgerCheck"]["candidate"];
        assert_eq!(candidate["code"]["code"], "LG-2", "{untrue}");
        assert_eq!(candidate["status"], "OPEN");
        // Listed with the inspection, and confirmed as a finding of its code.
        let listed = app
            .data(
                &s.officer,
                "query($id: ID!) { inspection(id: $id) { ledgerChecks { result note } } }",
                json!({ "id": s.inspection }),
            )
            .await;
        assert_eq!(
            listed["inspection"]["ledgerChecks"],
            json!([
                { "result": "KEPT", "note": null },
                { "result": "UNTRUE", "note": "运行记录与在线数据不符" }
            ]),
            "{listed}"
        );
        let finding = app
            .data(
                &s.officer,
                "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { code { code } candidate { status } } }",
                json!({ "input": { "inspectionId": s.inspection, "code": "LG-2",
                        "candidateId": candidate["id"], "severity": "GENERAL",
                        "description": "台账记录不实" } }),
            )
            .await;
        assert_eq!(
            finding["recordFinding"]["candidate"]["status"], "CONFIRMED",
            "{finding}"
        );
    }
);

db_test!(
    detection_asks_only_what_the_permit_asked_during_the_window,
    |app| {
        let (permit, water, _) = monitored_permit(&app, "500105", 83).await;
        // Today the plan gains automatic total-phosphorus monitoring at DW001 (version 2).
        let admin = app.token(Role::Admin, None);
        let changed = app
            .data(
                &admin,
                r#"mutation($id: ID!, $outlets: [OutletInput!]) { changePermit(id: $id,
                     expectedVersion: 1, input: { reason: "增加总磷在线监测", outlets: $outlets }) { version } }"#,
                json!({ "id": permit["id"], "outlets": [
                    { "code": "DW001", "category": "MAIN", "limits": [
                        { "pollutant": "化学需氧量", "concentrationLimit": 100.0, "concentrationUnit": "mg/L", "averagingPeriod": "DAILY" }
                      ],
                      "monitoring": [
                        { "pollutant": "化学需氧量", "method": "AUTOMATIC", "frequency": "HOURLY" },
                        { "pollutant": "氨氮", "method": "MANUAL", "frequency": "MONTHLY" },
                        { "pollutant": "总磷", "method": "AUTOMATIC", "frequency": "HOURLY" }
                      ]},
                    { "code": "DA001", "category": "GENERAL", "limits": [
                        { "pollutant": "颗粒物", "concentrationLimit": 20.0, "concentrationUnit": "mg/m³", "averagingPeriod": "HOURLY" }
                    ]}
                ] }),
            )
            .await;
        assert_eq!(changed["changePermit"]["version"], 2, "{changed}");
        let monitoring = app.token(Role::Monitoring, None);
        let readings: Vec<Value> = (0..24)
            .map(|h| cod(&water, &at(6, 2, h), 40.0, "N"))
            .collect();
        app.data(&monitoring, RECORD_MANY, json!({ "readings": readings }))
            .await;
        // June 2nd had every COD value; total phosphorus was not yet asked for then.
        let officer = app.token(Role::EnforcementOfficer, Some("500105"));
        let june = json!({ "input": { "districtCode": "500105",
            "from": format!("{}-06-02", year()), "to": format!("{}-06-02", year()) } });
        let found = app.data(&officer, DETECT, june).await;
        assert_eq!(
            found["detectViolationCandidates"],
            json!({ "am2": 0, "sm1": 0, "er1": 0 }),
            "{found}"
        );
    }
);
