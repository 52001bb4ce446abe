//! HTTP downloads outside GraphQL: evidence files (`GET /evidence/{id}`) and exports
//! (`GET /exports/{kind}.{csv|xlsx}`, `GET /exports/units.geojson`). Both need a bearer token and
//! pass the same rate limits as GraphQL requests; refusals are JSON errors with the contract's
//! codes (`http::app_error_response`), a record outside the caller's scope 404 NOT_FOUND.
//!
//! Exports take the GraphQL filter of the matching query as JSON in `filter` (URL-encoded), and
//! `campaignId` for campaign coverage and summary reports, e.g.
//! `/exports/findings.xlsx?filter={"district":"500103","foundFrom":"2021-01-01"}`.

use std::io::{Read, Seek};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use crate::exports::{self, Format, Kind, geojson::Features, table};
use crate::http::{AppState, app_error_response, download_caller, request_id};
use permit_core::auth::Principal;
use permit_core::domain::evidence;
use permit_core::error::AppError;

type Body = BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;

/// `attachment` with the name in ASCII for old clients and in UTF-8 for the rest (RFC 6266,
/// RFC 8187), so 现场照片.jpg keeps its name.
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `GET /evidence/{id}`: the file, for a caller who may read its finding or inspection; audited.
pub async fn evidence_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let request_id = request_id();
    let principal = match download_caller(&state, &req, &request_id, "GET /evidence").await {
        Ok(p) => p,
        Err(response) => return response,
    };
    match evidence::download(&state.db.conn, &state.evidence, Some(&principal), &id).await {
        Ok(download) => {
            let digest = hex_to_base64(&download.file.sha256);
            let mut response = HttpResponse::Ok();
            response
                .content_type(download.file.media_type.as_str())
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    attachment(&download.file.file_name),
                ))
                .insert_header(("x-content-type-options", "nosniff"))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .insert_header(("x-request-id", request_id));
            if let Some(digest) = digest {
                // RFC 9530: the client can check what it received.
                response.insert_header(("repr-digest", format!("sha-256=:{digest}:")));
            }
            if let Ok(length) = u64::try_from(download.file.size_bytes) {
                response.no_chunking(length);
            }
            response.streaming(download.content)
        }
        Err(error) => app_error_response(&error, &request_id),
    }
}

fn hex_to_base64(hex: &str) -> Option<String> {
    use base64::Engine;
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    Some(base64::engine::general_purpose::STANDARD.encode(bytes?))
}

/// The export's query string: `filter` (JSON) and `campaignId`.
fn export_query(
    req: &HttpRequest,
) -> Result<(Option<serde_json::Value>, Option<String>), AppError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .map_err(|_| AppError::invalid("filter", "the query string is malformed"))?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    };
    let filter = get("filter")
        .map(|text| {
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|_| AppError::invalid("filter", "a JSON object, as the GraphQL filter"))
        })
        .transpose()?;
    Ok((filter, get("campaignId")))
}

/// `GET /exports/{kind}.{format}`.
pub async fn export(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> HttpResponse {
    let request_id = request_id();
    let principal = match download_caller(&state, &req, &request_id, "GET /exports").await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let (filter, campaign_id) = match export_query(&req) {
        Ok(q) => q,
        Err(error) => return app_error_response(&error, &request_id),
    };
    let Some((name, extension)) = file.rsplit_once('.') else {
        return app_error_response(&AppError::NotFound(format!("export {file}")), &request_id);
    };
    let today = permit_core::domain::clock::today().format("%Y%m%d");
    if name == "units" && extension == "geojson" {
        return match geojson_body(&state, &principal, filter).await {
            Ok(body) => HttpResponse::Ok()
                .content_type(exports::geojson::CONTENT_TYPE)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    attachment(&format!("units-{today}.geojson")),
                ))
                .insert_header(("x-request-id", request_id))
                .streaming(body),
            Err(error) => app_error_response(&error, &request_id),
        };
    }
    let (Some(kind), Some(format)) = (Kind::parse(name), Format::parse(extension)) else {
        return app_error_response(
            &AppError::NotFound(format!(
                "export {file} (findings, inspections, coverage or summary-reports as .csv or \
                 .xlsx; units.geojson)"
            )),
            &request_id,
        );
    };
    let request = exports::Request {
        kind,
        filter,
        campaign_id,
    };
    let body = match format {
        Format::Csv => csv_body(&state, &principal, &request).await,
        Format::Xlsx => xlsx_body(&state, &principal, &request).await,
    };
    match body {
        Ok(body) => HttpResponse::Ok()
            .content_type(format.content_type())
            .insert_header((
                header::CONTENT_DISPOSITION,
                attachment(&format!("{}-{today}.{}", kind.as_str(), format.extension())),
            ))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .insert_header(("x-request-id", request_id))
            .streaming(body),
        Err(error) => app_error_response(&error, &request_id),
    }
}

/// A failure after the answer started cannot change its status: the stream ends with an
/// error, so the client sees a broken transfer rather than a file that looks complete.
fn broken(error: AppError) -> std::io::Error {
    std::io::Error::other(error.message())
}

/// The heading, then a page at a time. The first page is read before answering, so a request
/// the database refuses is an error answer.
async fn csv_body(
    state: &AppState,
    principal: &Principal,
    request: &exports::Request,
) -> Result<Body, AppError> {
    let mut rows = exports::Rows::open(&state.db, principal, request).await?;
    let mut first = table::csv_head(request.kind.columns());
    if let Some(page) = rows.next_page().await? {
        first.extend(table::csv_rows(page));
    }
    let rest = stream::try_unfold(rows, |mut rows| async move {
        match rows.next_page().await.map_err(broken)? {
            Some(page) => Ok(Some((bytes::Bytes::from(table::csv_rows(page)), rows))),
            None => Ok(None),
        }
    });
    Ok(stream::once(async move { Ok(bytes::Bytes::from(first)) })
        .chain(rest)
        .boxed())
}

/// The rows go to the workbook's temporary file page by page; the finished file is sent from
/// a temporary file too, so neither the rows nor the archive are held in memory.
async fn xlsx_body(
    state: &AppState,
    principal: &Principal,
    request: &exports::Request,
) -> Result<Body, AppError> {
    let mut rows = exports::Rows::open(&state.db, principal, request).await?;
    let mut sheet = table::XlsxSheet::new(request.kind.sheet_name(), request.kind.columns())
        .map_err(AppError::internal)?;
    while let Some(page) = rows.next_page().await? {
        sheet.append(page).map_err(AppError::internal)?;
    }
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let mut file = tempfile::tempfile()?;
        sheet.finish(&mut file)?;
        file.rewind()?;
        Ok(file)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(file_stream(file))
}

/// A file in 64 KiB chunks, read off the async threads.
fn file_stream(file: std::fs::File) -> Body {
    stream::try_unfold(Some(file), |file| async move {
        let Some(mut file) = file else {
            return Ok(None);
        };
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, std::io::Error>((file, buffer))
        })
        .await
        .map_err(std::io::Error::other)??;
        if chunk.is_empty() {
            Ok(None)
        } else {
            Ok(Some((bytes::Bytes::from(chunk), Some(file))))
        }
    })
    .boxed()
}

async fn geojson_body(
    state: &AppState,
    principal: &Principal,
    filter: Option<serde_json::Value>,
) -> Result<Body, AppError> {
    let mut features = Features::open(&state.db.conn, principal, filter)?;
    permit_core::domain::changes::audit(&state.db.conn, principal, "EXPORT", None, &[]).await?;
    let mut first = Features::head().to_vec();
    if let Some(chunk) = features.next_chunk().await? {
        first.extend(chunk);
    }
    let rest = stream::try_unfold(features, |mut features| async move {
        match features.next_chunk().await.map_err(broken)? {
            Some(chunk) => Ok(Some((bytes::Bytes::from(chunk), features))),
            None => Ok(None),
        }
    });
    let tail = stream::once(async { Ok(bytes::Bytes::from_static(Features::tail())) });
    Ok(stream::once(async move { Ok(bytes::Bytes::from(first)) })
        .chain(rest)
        .chain(tail)
        .boxed())
}
