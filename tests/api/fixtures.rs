//! Records created through the API, as a permit office would.

use permit_core::auth::Role;
use permit_core::domain::codes::CreditCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A valid credit code registered in `district` (the region code sits at positions 3–8).
pub fn credit_code(district: &str, serial: u32) -> String {
    let first17 = format!("91{district}{serial:09}");
    CreditCode::complete(&first17)
        .expect("valid credit code")
        .to_string()
}

pub const REGISTER_UNIT: &str = r#"
mutation($input: RegisterUnitInput!, $key: String) {
  registerUnit(input: $input, idempotencyKey: $key) { id creditCode version district { code } }
}"#;

pub fn unit_input(district: &str, serial: u32, name: &str, category: &str) -> Value {
    json!({
        "creditCode": credit_code(district, serial),
        "name": name,
        "legalRepresentative": "张伟",
        "contactPhone": "13800138000",
        "address": "重庆市测试路1号",
        "districtCode": district,
        "industryCode": "C3670",
        "managementCategory": category,
    })
}

pub async fn register_unit(
    app: &TestApp,
    district: &str,
    serial: u32,
    name: &str,
    category: &str,
) -> Value {
    let admin = app.token(Role::Admin, None);
    let data = app
        .data(
            &admin,
            REGISTER_UNIT,
            json!({ "input": unit_input(district, serial, name, category) }),
        )
        .await;
    data["registerUnit"].clone()
}

pub const ISSUE_PERMIT: &str = r#"
mutation($input: IssuePermitInput!, $key: String) {
  issuePermit(input: $input, idempotencyKey: $key) {
    id permitNumber status version validFrom validTo
    outlets { code medium category limits { pollutant concentrationLimit concentrationUnit } }
  }
}"#;

pub fn permit_input(unit_id: &str, valid_from: &str) -> Value {
    json!({
        "unitId": unit_id,
        "validFrom": valid_from,
        "outlets": [
            { "code": "DA001", "category": "MAIN", "name": "锅炉废气排放口", "limits": [
                { "pollutant": "颗粒物", "concentrationLimit": 20.0, "concentrationUnit": "mg/m³", "averagingPeriod": "HOURLY", "annualQuantityTpa": 3.5 },
                { "pollutant": "二氧化硫", "concentrationLimit": 50.0, "concentrationUnit": "mg/m³", "averagingPeriod": "HOURLY" }
            ]},
            { "code": "DW001", "category": "GENERAL", "limits": [
                { "pollutant": "化学需氧量", "concentrationLimit": 100.0, "concentrationUnit": "mg/L", "averagingPeriod": "DAILY" }
            ]}
        ]
    })
}

/// A KEY unit in `district` with a permit valid from today's year start.
pub async fn unit_with_permit(app: &TestApp, district: &str, serial: u32) -> (Value, Value) {
    let unit = register_unit(app, district, serial, "重庆测试化工有限公司", "KEY").await;
    let admin = app.token(Role::Admin, None);
    let unit_id = unit["id"].as_str().expect("id");
    let from = format!("{}-01-01", permit_core::domain::clock::today().format("%Y"));
    let data = app
        .data(
            &admin,
            ISSUE_PERMIT,
            json!({ "input": permit_input(unit_id, &from) }),
        )
        .await;
    (unit, data["issuePermit"].clone())
}
