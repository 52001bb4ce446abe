//! Evidence files uploaded for a finding or an inspection (photos, scans, printouts), and the
//! upload itself.

use async_graphql::{Context, ID, InputObject, Object, Upload};
use chrono::DateTime;

use super::{FINDING, INSPECTION};
use crate::graphql::error::Result;
use crate::graphql::time::Time;
use crate::graphql::{self, ids};
use entity::evidence_files;
use permit_core::domain::{access, evidence};
use permit_core::error::AppError;

pub const EVIDENCE_FILE: &str = "EvidenceFile";

/// An uploaded evidence file (photo, scan, monitoring printout) of a finding or an inspection.
pub struct EvidenceFile(pub evidence_files::Model);

#[Object]
impl EvidenceFile {
    async fn id(&self) -> ID {
        ids::encode(EVIDENCE_FILE, self.0.id)
    }
    /// The name it was uploaded under (for display; the file is reached only by `downloadPath`).
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// What the content was recognised as: image/jpeg, image/png, application/pdf or image/tiff.
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Lower-case hex SHA-256 of the content, as checked on upload.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    async fn captured_at(&self) -> Option<Time> {
        self.0.captured_at.map(Time)
    }
    async fn uploaded_at(&self) -> Time {
        self.0.created_at.into()
    }
    /// Who uploaded it. Null for INTEGRATOR.
    async fn uploaded_by(&self, ctx: &Context<'_>) -> Option<String> {
        access::official_subject(graphql::principal(ctx), &self.0.uploaded_by_subject)
    }
    /// `GET` this path with `Authorization: Bearer <token>` for the file; the record's access
    /// rule applies and the download is audited (`DOWNLOAD_EVIDENCE`).
    async fn download_path(&self) -> String {
        format!("/evidence/{}", self.0.public_id)
    }
}

/// What an upload may weigh (`LIMIT_MAX_UPLOAD_BYTES`), in the request's data.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimit(pub usize);

#[derive(InputObject)]
pub struct UploadEvidenceInput {
    /// The finding the file is evidence of (or `inspectionId`, not both).
    finding_id: Option<ID>,
    /// The inspection the file is evidence of (or `findingId`, not both).
    inspection_id: Option<ID>,
    /// The file, as a part of a GraphQL multipart request (with the `Apollo-Require-Preflight`
    /// header): JPEG, PNG, PDF or TIFF, recognised from the content.
    file: Upload,
    /// Hex SHA-256 of the file as the uploader computed it; a file that arrives different is
    /// refused.
    sha256: String,
    captured_at: Option<Time>,
}

#[derive(Default)]
pub struct EvidenceMutation;

#[Object]
impl EvidenceMutation {
    /// Uploads an evidence file of a finding or an inspection (ENFORCEMENT_OFFICER in its
    /// district, municipal anywhere; ADMIN). Send it as a GraphQL multipart request with the
    /// `Apollo-Require-Preflight: true` header; at most `LIMIT_MAX_UPLOAD_BYTES`. A record
    /// outside the caller's scope is `NOT_FOUND`.
    async fn upload_evidence(
        &self,
        ctx: &Context<'_>,
        input: UploadEvidenceInput,
    ) -> Result<EvidenceFile> {
        let target = match (&input.finding_id, &input.inspection_id) {
            (Some(id), None) => {
                evidence::Target::Finding(ids::decode(FINDING, "input.findingId", id)?)
            }
            (None, Some(id)) => {
                evidence::Target::Inspection(ids::decode(INSPECTION, "input.inspectionId", id)?)
            }
            _ => {
                return Err(AppError::invalid(
                    "input.findingId",
                    "name either findingId or inspectionId",
                )
                .into());
            }
        };
        // `Upload::value` indexes the request's files without a check, and a JSON request may
        // carry the placeholder text alone: look first, so a forged one is an input error.
        let not_sent = || AppError::invalid("input.file", "send the file as a multipart part");
        if *input.file >= ctx.query_env.uploads.len() {
            return Err(not_sent().into());
        }
        let file = input.file.value(ctx).map_err(|_| not_sent())?;
        let store = ctx.data::<permit_core::storage::EvidenceStore>()?;
        let limit = ctx.data::<UploadLimit>()?;
        let saved = evidence::upload(
            graphql::db(ctx)?,
            store,
            graphql::principal(ctx),
            evidence::Upload {
                target,
                file_name: file.filename,
                declared_type: file.content_type,
                content: file.content,
                sha256: input.sha256,
                captured_at: input.captured_at.map(DateTime::from),
            },
            limit.0,
        )
        .await?;
        Ok(EvidenceFile(saved))
    }
}
