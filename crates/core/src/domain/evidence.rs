//! Evidence files (证据材料): the photos, scans and monitoring printouts behind a finding or an
//! inspection (plan §4: findings rest on evidence fixed on site). An upload is checked before
//! anything is stored: its size, its type recognised from the content itself (JPEG, PNG, PDF,
//! TIFF; the declared type must agree), and its SHA-256 against what the uploader declared, so
//! a file damaged or swapped on the way is refused. Files are kept under a key made of their
//! hash and a random id, and read back only through `download`, with the access rule of the
//! record they belong to and an audit row for every download.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, ChangeKind};
use crate::domain::clock;
use crate::domain::{findings, inspections};
use crate::error::{AppError, AppResult};
use crate::storage::EvidenceStore;
use entity::evidence_files;

/// What a file is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Finding(i64),
    Inspection(i64),
}

/// The types accepted, recognised by their magic bytes: what inspectors bring back (photos,
/// scanned records, PDF printouts of monitoring data, TIFF from document scanners).
const KINDS: &[(&str, &[&[u8]])] = &[
    ("image/jpeg", &[b"\xFF\xD8\xFF"]),
    ("image/png", &[b"\x89PNG\r\n\x1A\n"]),
    ("application/pdf", &[b"%PDF-"]),
    ("image/tiff", &[b"II*\0", b"MM\0*"]),
];

/// The media type the content is, if it is one we accept.
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(_, magics)| magics.iter().any(|m| content.starts_with(m)))
        .map(|(kind, _)| *kind)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_id() -> AppResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(hex(&bytes))
}

/// A file name as shown: the last path segment, without control characters, at most 255
/// characters. Only ever displayed and offered as the download's name, never used as a path.
fn display_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let clean = clean.trim().to_owned();
    if clean.is_empty() || clean == "." || clean == ".." {
        "evidence".to_owned()
    } else {
        clean
    }
}

/// An upload as received.
pub struct Upload {
    pub target: Target,
    pub file_name: String,
    /// The part's declared `Content-Type`, if any.
    pub declared_type: Option<String>,
    pub content: bytes::Bytes,
    /// Hex SHA-256 the uploader computed.
    pub sha256: String,
    pub captured_at: Option<DateTime<Utc>>,
}

/// Checks an upload's content against the limits and what was declared; the media type it is.
fn check_content(upload: &Upload, max_bytes: usize) -> AppResult<&'static str> {
    if upload.content.is_empty() {
        return Err(AppError::invalid("input.file", "the file is empty"));
    }
    if upload.content.len() > max_bytes {
        return Err(AppError::invalid(
            "input.file",
            format!("larger than the limit of {max_bytes} bytes (LIMIT_MAX_UPLOAD_BYTES)"),
        ));
    }
    let Some(kind) = sniff(&upload.content) else {
        return Err(AppError::invalid(
            "input.file",
            "not an accepted type: JPEG, PNG, PDF or TIFF (recognised from the content)",
        ));
    };
    let declared = upload
        .declared_type
        .as_deref()
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|t| !t.is_empty() && t != "application/octet-stream");
    if let Some(declared) = declared {
        let same = declared == kind || (kind == "image/jpeg" && declared == "image/jpg");
        if !same {
            return Err(AppError::invalid(
                "input.file",
                format!("declared as {declared}, but the content is {kind}"),
            ));
        }
    }
    let declared_hash = upload.sha256.trim().to_ascii_lowercase();
    if declared_hash.len() != 64 || !declared_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "input.sha256",
            "64 hexadecimal characters",
        ));
    }
    let actual = hex(&Sha256::digest(&upload.content));
    if actual != declared_hash {
        return Err(AppError::invalid(
            "input.sha256",
            "does not match the file received (it was changed or cut on the way); send it again",
        ));
    }
    if upload.captured_at.is_some_and(|t| t > clock::now()) {
        return Err(AppError::invalid(
            "input.capturedAt",
            "cannot be in the future",
        ));
    }
    Ok(kind)
}

/// Stores an upload as evidence of a finding or inspection the caller may record findings for
/// (ENFORCEMENT_OFFICER in scope, ADMIN). A record outside the caller's scope is `NOT_FOUND`.
pub async fn upload(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    principal: Option<&Principal>,
    upload: Upload,
    max_bytes: usize,
) -> AppResult<evidence_files::Model> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let (district, kind, record_id) = match upload.target {
        Target::Finding(id) => {
            let finding = findings::get(db, Some(principal), id)
                .await?
                .ok_or_else(|| AppError::NotFound("finding".to_owned()))?;
            (finding.district_code, ChangeKind::Finding, id)
        }
        Target::Inspection(id) => {
            let inspection = inspections::get(db, Some(principal), id)
                .await?
                .ok_or_else(|| AppError::NotFound("inspection".to_owned()))?;
            (inspection.district_code, ChangeKind::Inspection, id)
        }
    };
    access::check_district(principal, &district)?;
    let media_type = check_content(&upload, max_bytes)?;
    let sha256 = upload.sha256.trim().to_ascii_lowercase();
    let public_id = random_id()?;
    let storage_key = format!("evidence/{sha256}/{public_id}");
    let size_bytes = i64::try_from(upload.content.len()).map_err(AppError::internal)?;
    // The object first: a record never points at a file that is not there. Should the record
    // fail, the object is removed again.
    store.put(&storage_key, upload.content).await?;
    let written = async {
        let txn = crate::db::begin_write(db).await?;
        let row = evidence_files::ActiveModel {
            public_id: Set(public_id),
            finding_id: Set(matches!(upload.target, Target::Finding(_)).then_some(record_id)),
            inspection_id: Set(matches!(upload.target, Target::Inspection(_)).then_some(record_id)),
            district_code: Set(district),
            file_name: Set(display_name(&upload.file_name)),
            media_type: Set(media_type.to_owned()),
            size_bytes: Set(size_bytes),
            sha256: Set(sha256),
            storage_key: Set(storage_key.clone()),
            captured_at: Set(upload.captured_at),
            uploaded_by_subject: Set(principal.subject.clone()),
            uploaded_by_agency: Set(principal.agency_code.clone()),
            created_at: Set(clock::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        changes::audit(&txn, principal, "UPLOAD_EVIDENCE", Some(kind), &[record_id]).await?;
        txn.commit().await?;
        Ok::<_, AppError>(row)
    }
    .await;
    if written.is_err() {
        store.delete(&storage_key).await;
    }
    written
}

/// The files of these findings (or inspections) the caller may read, oldest first, for
/// DataLoaders.
pub async fn of_records(
    db: &impl ConnectionTrait,
    principal: &Principal,
    column: evidence_files::Column,
    ids: &[i64],
) -> AppResult<Vec<evidence_files::Model>> {
    Ok(evidence_files::Entity::find()
        .filter(access::evidence_filter(principal))
        .filter(column.is_in(ids.iter().copied()))
        .order_by_asc(evidence_files::Column::Id)
        .all(db)
        .await?)
}

/// An evidence file to send: its record and its bytes as a stream.
pub struct Download {
    pub file: evidence_files::Model,
    pub content: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
}

/// A file by its public id, for a caller who may read the record it belongs to; `NOT_FOUND`
/// otherwise (whether it exists elsewhere is not told). Every download is audited
/// (`DOWNLOAD_EVIDENCE`, naming the record), before the bytes go out.
pub async fn download(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    principal: Option<&Principal>,
    public_id: &str,
) -> AppResult<Download> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let well_formed = public_id.len() == 32
        && public_id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let not_found = || AppError::NotFound("evidence file".to_owned());
    if !well_formed {
        return Err(not_found());
    }
    let file = evidence_files::Entity::find()
        .filter(access::evidence_filter(principal))
        .filter(evidence_files::Column::PublicId.eq(public_id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let (kind, record_id) = match (file.finding_id, file.inspection_id) {
        (Some(id), _) => (ChangeKind::Finding, id),
        (None, Some(id)) => (ChangeKind::Inspection, id),
        (None, None) => return Err(AppError::internal("evidence file without a record")),
    };
    let content = store.get(&file.storage_key).await?;
    changes::audit(db, principal, "DOWNLOAD_EVIDENCE", Some(kind), &[record_id]).await?;
    Ok(Download { file, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(content: &'static [u8], declared: Option<&str>, sha256: String) -> Upload {
        Upload {
            target: Target::Finding(1),
            file_name: "photo.jpg".to_owned(),
            declared_type: declared.map(str::to_owned),
            content: bytes::Bytes::from_static(content),
            sha256,
            captured_at: None,
        }
    }

    fn field(result: AppResult<&'static str>) -> String {
        match result {
            Err(AppError::InvalidInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn content_decides_the_type_and_the_hash_must_match() {
        let jpeg: &'static [u8] = b"\xFF\xD8\xFF\xE0rest of a photo";
        let hash = hex(&Sha256::digest(jpeg));
        assert_eq!(
            check_content(&upload(jpeg, Some("image/jpeg"), hash.clone()), 100).ok(),
            Some("image/jpeg")
        );
        assert_eq!(
            check_content(&upload(jpeg, None, hash.to_uppercase()), 100).ok(),
            Some("image/jpeg")
        );
        // A script named photo.png, a PNG declared as PDF, a wrong hash, too large.
        let script: &'static [u8] = b"<script>alert(1)</script>";
        let script_hash = hex(&Sha256::digest(script));
        assert_eq!(
            field(check_content(
                &upload(script, Some("image/png"), script_hash),
                100
            )),
            "input.file"
        );
        assert_eq!(
            field(check_content(
                &upload(jpeg, Some("application/pdf"), hash.clone()),
                100
            )),
            "input.file"
        );
        assert_eq!(
            field(check_content(&upload(jpeg, None, "0".repeat(64)), 100)),
            "input.sha256"
        );
        assert_eq!(
            field(check_content(&upload(jpeg, None, hash), 5)),
            "input.file"
        );
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"MM\0*"), Some("image/tiff"));
    }

    #[test]
    fn names_are_for_display_only() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\scans\\现场照片1.jpg"), "现场照片1.jpg");
        assert_eq!(display_name("a\u{0}b\nc.pdf"), "abc.pdf");
        assert_eq!(display_name(".."), "evidence");
    }
}
