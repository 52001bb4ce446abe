//! Office work (issue 18): evidence files uploaded by GraphQL multipart and downloaded under the
//! record's access rule; findings, inspections and campaign exports as CSV and XLSX (read back
//! with calamine); units with coordinates, the `within` filter and the GeoJSON export.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::helpers::TestApp;

mod evidence;
mod exports;
mod positions;

pub const BOUNDARY: &str = "----permit-exchange-test-7b1e";

/// A GraphQL multipart request body (graphql-multipart-request-spec) with one file at
/// `variables.input.file`.
pub fn multipart_body(
    operations: &Value,
    file_name: &str,
    content_type: &str,
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    let mut part = |headers: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"operations\"",
        operations.to_string().as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"map\"",
        br#"{"0":["variables.input.file"]}"#,
    );
    part(
        &format!(
            "Content-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}"
        ),
        file,
    );
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn text(app: &TestApp, sql: &str) -> String {
    let backend = app.db.conn.get_database_backend();
    app.db
        .conn
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("text")
}

/// A finding's id and district, and a district with other findings.
async fn finding_and_districts(app: &TestApp) -> (i64, String, String) {
    let district = text(
        app,
        "SELECT district_code FROM findings GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 1",
    )
    .await;
    let other = text(
        app,
        &format!(
            "SELECT district_code FROM findings WHERE district_code <> '{district}' \
             GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 1"
        ),
    )
    .await;
    let id = app
        .scalar_i64(&format!(
            "SELECT MIN(id) FROM findings WHERE district_code = '{district}' AND status <> 'CLOSED'"
        ))
        .await;
    (id, district, other)
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("get")
}
