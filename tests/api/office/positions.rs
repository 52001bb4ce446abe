//! Units with coordinates: positions in Chongqing, the `within` filter, and the GeoJSON export
//! of units with their open findings.

use permit_core::auth::Role;
use serde_json::{Value, json};

use super::{finding_and_districts, get};
use crate::db_test;
use crate::helpers::{error_code, error_field};

/// RFC 7946, structurally: a FeatureCollection of Features with Point geometries of two
/// numbers, longitude first, and an object of properties.
fn check_geojson(value: &Value) -> Vec<&Value> {
    assert_eq!(value["type"], "FeatureCollection");
    let features = value["features"].as_array().expect("features");
    for feature in features {
        assert_eq!(feature["type"], "Feature");
        assert!(feature["id"].is_string());
        assert_eq!(feature["geometry"]["type"], "Point");
        let coordinates = feature["geometry"]["coordinates"]
            .as_array()
            .expect("coordinates");
        assert_eq!(coordinates.len(), 2);
        let (lon, lat) = (
            coordinates[0].as_f64().expect("longitude"),
            coordinates[1].as_f64().expect("latitude"),
        );
        assert!((105.28..=110.20).contains(&lon), "longitude {lon}");
        assert!((28.16..=32.21).contains(&lat), "latitude {lat}");
        assert!(feature["properties"].is_object());
    }
    features.iter().collect()
}

db_test!(units_geojson_counts_open_findings_in_scope, |app| {
    app.seed_demo(120).await;
    let (_, district, _) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let response = get(&app, Some(&officer), "/exports/units.geojson").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let value: Value = response.json().await.expect("GeoJSON is JSON");
    let features = check_geojson(&value);
    let units = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM units WHERE district_code = '{district}' AND longitude IS NOT NULL"
        ))
        .await;
    assert_eq!(features.len() as i64, units);
    assert!(
        features
            .iter()
            .all(|f| f["properties"]["districtCode"] == district.as_str())
    );
    let open: i64 = features
        .iter()
        .map(|f| f["properties"]["openFindings"].as_i64().expect("a count"))
        .sum();
    let expected = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE district_code = '{district}' \
             AND status NOT IN ('CLOSED', 'DISMISSED')"
        ))
        .await;
    assert_eq!(open, expected);
    // Integrators get the map without open cases.
    let integrator = app.token(Role::Integrator, None);
    let value: Value = get(&app, Some(&integrator), "/exports/units.geojson")
        .await
        .json()
        .await
        .expect("json");
    let features = check_geojson(&value);
    assert!(!features.is_empty());
    assert!(
        features
            .iter()
            .all(|f| f["properties"]["openFindings"].is_null())
    );
    assert!(
        features
            .iter()
            .all(|f| f["properties"].get("legalRepresentative").is_none())
    );
    // Python's geojson package, where it is installed, agrees.
    if let Some(verdict) = python_geojson_check(&value) {
        assert!(verdict, "python geojson says the collection is invalid");
    }
});

/// `Some(valid)` from Python's `geojson` package, `None` (and a note) where python3 or the
/// package is missing: the structural check above is the test, this is a second opinion.
fn python_geojson_check(value: &Value) -> Option<bool> {
    use std::io::Write;
    let script = "import sys, geojson\nobj = geojson.loads(sys.stdin.read())\nsys.exit(0 if obj.is_valid else 1)\n";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("python3 not available: GeoJSON checked structurally only");
        return None;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(value.to_string().as_bytes());
    }
    let output = child.wait_with_output().ok()?;
    if String::from_utf8_lossy(&output.stderr).contains("No module named") {
        eprintln!("python geojson not installed: GeoJSON checked structurally only");
        return None;
    }
    Some(output.status.success())
}

const REGISTER: &str = r#"
mutation($input: RegisterUnitInput!) {
  registerUnit(input: $input) { id longitude latitude version }
}"#;

db_test!(unit_positions_lie_in_chongqing_and_filter_by_box, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let mut input = crate::fixtures::unit_input("500103", 7001, "重庆渝中测绘有限公司", "KEY");
    // Beijing, swapped coordinates, and one without the other are refused with the field.
    for (lon, lat, field) in [
        (json!(116.40), json!(39.90), "input.longitude"),
        (json!(29.55), json!(106.57), "input.longitude"),
        (json!(106.57), json!(35.0), "input.latitude"),
        (json!(106.57), Value::Null, "input.latitude"),
    ] {
        input["longitude"] = lon;
        input["latitude"] = lat;
        let body = app
            .gql(Some(&officer), REGISTER, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body:#}");
        assert_eq!(error_field(&body), Some(field), "{body:#}");
    }
    input["longitude"] = json!(106.5712);
    input["latitude"] = json!(29.5567);
    let unit = app
        .data(&officer, REGISTER, json!({ "input": input }))
        .await["registerUnit"]
        .clone();
    assert_eq!(unit["longitude"], 106.5712);
    let second = crate::fixtures::unit_input("500103", 7002, "重庆渝中第二测绘有限公司", "KEY");
    app.data(&officer, REGISTER, json!({ "input": second }))
        .await;

    let within = |min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64| {
        json!({ "f": { "within": {
            "minLongitude": min_lon, "minLatitude": min_lat,
            "maxLongitude": max_lon, "maxLatitude": max_lat } } })
    };
    let query = "query($f: UnitFilter) { units(filter: $f) { totalCount edges { node { id } } } }";
    let inside = app
        .data(&officer, query, within(106.5, 29.5, 106.6, 29.6))
        .await;
    assert_eq!(inside["units"]["totalCount"], 1);
    assert_eq!(inside["units"]["edges"][0]["node"]["id"], unit["id"]);
    let outside = app
        .data(&officer, query, within(107.0, 29.0, 108.0, 30.0))
        .await;
    assert_eq!(outside["units"]["totalCount"], 0);
    let body = app
        .gql(Some(&officer), query, within(106.6, 29.5, 106.5, 29.6))
        .await;
    assert_eq!(
        error_field(&body),
        Some("filter.within.minLongitude"),
        "{body:#}"
    );

    // Moving it is an update like any other (a new version).
    let moved = app
        .data(
            &officer,
            "mutation($id: ID!, $v: Int!) { updateUnit(id: $id, expectedVersion: $v, input: { longitude: 106.58, latitude: 29.56 }) { longitude latitude version } }",
            json!({ "id": unit["id"], "v": unit["version"] }),
        )
        .await;
    assert_eq!(moved["updateUnit"]["latitude"], 29.56);
    assert_eq!(moved["updateUnit"]["version"], 2);
});
