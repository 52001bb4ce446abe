//! `permit-exchange export`: the change feed from a cursor as JSON lines, so a new integrator
//! loads history in one pass instead of paging the API for hours. Each line carries its cursor;
//! the last one is where the next export resumes.

use std::io::Write;

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::graphql::ids;
use permit_core::auth::{Principal, RequestTag, Role};
use permit_core::domain::changes;

/// Rows fetched per round trip.
const BATCH: u64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Feed(String),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// Who the command-line exports read as: a municipal administrator, the operator of the
/// instance (the exports of `crate::exports` take this too).
pub fn operator() -> Principal {
    Principal {
        subject: "export".to_owned(),
        role: Role::Admin,
        agency_code: None,
        district: None,
        request: RequestTag {
            request_id: None,
            operation_name: Some("permit-exchange export".to_owned()),
        },
    }
}

/// Writes every change after `since` to `out`; returns how many and the last cursor.
pub async fn export_jsonl(
    db: &DatabaseConnection,
    since: Option<String>,
    out: &mut impl Write,
) -> Result<(u64, Option<String>), ExportError> {
    // The operator's export reads the whole feed, as a municipal administrator would.
    let operator = operator();
    let mut cursor = since;
    let mut written = 0u64;
    loop {
        let page = changes::feed(db, Some(&operator), cursor.as_deref(), BATCH, &[])
            .await
            .map_err(|e| ExportError::Feed(e.message()))?;
        for (at, row) in &page.items {
            let line = json!({
                "cursor": at,
                "kind": row.kind,
                "recordId": ids::encode(crate::graphql::history::type_name(&row.kind), row.record_id).to_string(),
                "version": row.version,
                "operation": row.operation,
                "state": row.state,
                "districtCode": row.district_code,
                "actor": { "subject": row.actor_subject, "agencyCode": row.actor_agency, "level": row.actor_level },
                "committedAt": row.committed_at.to_rfc3339(),
            });
            writeln!(out, "{line}")?;
            written += 1;
        }
        cursor = page.end_cursor;
        if !page.has_next_page {
            break;
        }
    }
    out.flush()?;
    Ok((written, cursor))
}
