//! Enforcement actions: decisions coded to the articles, and only the measures an article
//! provides.

use serde_json::{Value, json};

use super::{ACTION, ADVANCE, Scene, days_ago, finding, scene};
use crate::db_test;
use crate::helpers::{TestApp, error_code, error_field};

/// A fine of `amount` on `finding`, decided today.
fn fine(finding: &Value, amount: i64, number: &str) -> Value {
    json!({ "input": {
    "findingId": finding["id"], "kind": "FINE", "decisionNumber": number, "decidedOn": days_ago(0), "amountYuan": amount } })
}

/// Moves a freshly recorded finding to CASE_FILED.
async fn file_case(app: &TestApp, s: &Scene, finding: &Value) {
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": finding["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
}

db_test!(actions_follow_the_articles, |app| {
    let s = scene(&app, "500106", 4).await;
    let ledger = finding(&app, &s, "LG-1").await;
    a_fine_needs_a_case_and_the_article_range(&app, &s, &ledger).await;
    a_daily_penalty_is_for_discharges_at_the_fine_per_day(&app, &s, &ledger).await;
    a_withdrawal_withdraws_the_permit_once(&app, &s).await;
});

async fn a_fine_needs_a_case_and_the_article_range(app: &TestApp, s: &Scene, ledger: &Value) {
    // A penalty needs a filed case.
    let early = app
        .gql(Some(&s.officer), ACTION, fine(ledger, 10_000, "CQ-1"))
        .await;
    assert_eq!(error_code(&early), Some("INVALID_TRANSITION"), "{early}");
    file_case(app, s, ledger).await;
    let out_of_range = app
        .gql(Some(&s.officer), ACTION, fine(ledger, 50_000, "CQ-1"))
        .await;
    assert_eq!(
        error_field(&out_of_range),
        Some("input.amountYuan"),
        "{out_of_range}"
    );
    let message = out_of_range["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("5000–20000") && message.contains("Art 37(1)"),
        "{message}"
    );
    let fined = app
        .data(&s.officer, ACTION, fine(ledger, 10_000, "CQ-1"))
        .await;
    assert_eq!(fined["recordEnforcementAction"]["amountYuan"], 10_000);
    let status = app
        .data(
            &s.officer,
            "query($id: ID!) { finding(id: $id) { status actions { kind decisionNumber } } }",
            json!({ "id": ledger["id"] }),
        )
        .await;
    assert_eq!(
        status["finding"]["status"], "PENALISED",
        "a penalty moves the case on"
    );
    assert_eq!(status["finding"]["actions"][0]["decisionNumber"], "CQ-1");
}

async fn a_daily_penalty_is_for_discharges_at_the_fine_per_day(
    app: &TestApp,
    s: &Scene,
    ledger: &Value,
) {
    // Daily continuous penalty (Art 38): the original fine per day, for discharges only.
    let daily = |finding: &Value, amount: i64| {
        json!({ "input": { "findingId": finding["id"], "kind": "DAILY_CONTINUOUS_PENALTY",
        "decisionNumber": "CQ-2", "decidedOn": days_ago(0), "amountYuan": amount, "days": 5 } })
    };
    let not_a_discharge = app
        .gql(Some(&s.officer), ACTION, daily(ledger, 10_000))
        .await;
    assert_eq!(
        error_field(&not_a_discharge),
        Some("input.kind"),
        "a ledger not kept is not a discharge: {not_a_discharge}"
    );
    let hidden_pipe = finding(app, s, "EV-1").await;
    file_case(app, s, &hidden_pipe).await;
    app.data(&s.officer, ACTION, fine(&hidden_pipe, 200_000, "CQ-5"))
        .await;
    let wrong = app
        .gql(Some(&s.officer), ACTION, daily(&hidden_pipe, 190_000))
        .await;
    assert_eq!(error_field(&wrong), Some("input.amountYuan"), "{wrong}");
    let ok = app
        .data(&s.officer, ACTION, daily(&hidden_pipe, 200_000))
        .await;
    assert_eq!(ok["recordEnforcementAction"]["totalYuan"], 1_000_000);
    // Decision numbers are unique.
    let duplicate = app
        .gql(Some(&s.officer), ACTION, daily(&hidden_pipe, 200_000))
        .await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"), "{duplicate}");
}

async fn a_withdrawal_withdraws_the_permit_once(app: &TestApp, s: &Scene) {
    // Permit withdrawal moves the permit to WITHDRAWN in the same transaction.
    let ev = finding(app, s, "EV-3").await;
    file_case(app, s, &ev).await;
    let withdrawal = |finding: &Value, number: &str| {
        json!({ "input": {
        "findingId": finding["id"], "kind": "PERMIT_WITHDRAWAL", "decisionNumber": number, "decidedOn": days_ago(0) } })
    };
    app.data(&s.officer, ACTION, withdrawal(&ev, "CQ-3")).await;
    let permit = app
        .data(
            &s.officer,
            "query($id: ID!) { permit(id: $id) { status version versions { changeKind reason } } }",
            json!({ "id": s.permit["id"] }),
        )
        .await;
    assert_eq!(permit["permit"]["status"], "WITHDRAWN");
    assert_eq!(permit["permit"]["versions"][1]["changeKind"], "WITHDRAWN");
    assert!(
        permit["permit"]["versions"][1]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("CQ-3")
    );
    // A second withdrawal fails on the permit state machine and leaves no action behind.
    let other = finding(app, s, "EV-2").await;
    file_case(app, s, &other).await;
    let again = app
        .gql(Some(&s.officer), ACTION, withdrawal(&other, "CQ-4"))
        .await;
    assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM enforcement_actions WHERE decision_number = 'CQ-4'")
            .await,
        0
    );
    let other_now = app
        .data(
            &s.officer,
            "query($id: ID!) { finding(id: $id) { status } }",
            json!({ "id": other["id"] }),
        )
        .await;
    assert_eq!(
        other_now["finding"]["status"], "CASE_FILED",
        "nothing half-written"
    );
}

// Issue #14.10: the taxonomy says which measures each code allows; Art 37 (LG-1, a ledger not
// kept) provides a fine, not a permit withdrawal.
db_test!(actions_are_those_the_article_provides, |app| {
    let s = scene(&app, "500106", 90).await;
    let ledger = finding(&app, &s, "LG-1").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": ledger["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let withdraw = app
        .gql(
            Some(&s.officer),
            ACTION,
            json!({ "input": {
            "findingId": ledger["id"], "kind": "PERMIT_WITHDRAWAL", "decisionNumber": "CQ-W-1",
            "decidedOn": days_ago(0) } }),
        )
        .await;
    assert_eq!(error_field(&withdraw), Some("input.kind"), "{withdraw}");
    let permit = app
        .data(
            &s.officer,
            "query($id: ID!) { permit(id: $id) { status } }",
            json!({ "id": s.permit["id"] }),
        )
        .await;
    assert_eq!(permit["permit"]["status"], "VALID");
    let seal = app
        .gql(
            Some(&s.officer),
            ACTION,
            json!({ "input": {
            "findingId": ledger["id"], "kind": "SEAL_UP", "decisionNumber": "CQ-W-2",
            "decidedOn": days_ago(0) } }),
        )
        .await;
    assert_eq!(error_field(&seal), Some("input.kind"), "{seal}");
});
