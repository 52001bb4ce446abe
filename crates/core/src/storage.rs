//! Where evidence files are kept: an `object_store` store, a local directory by default (beside
//! the SQLite database, or `permit-exchange-evidence/` in the working directory for a server
//! database) and S3-compatible storage in production (`EVIDENCE_STORE=s3://bucket[/prefix]`, with
//! the standard `AWS_*` variables: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT` for MinIO and other S3-compatible services).
//!
//! Keys are made by `domain::evidence` from the content's hash and a random id; nothing a client
//! sends becomes part of a key, so no upload can name where it lands or what it overwrites.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{AppError, AppResult};

/// The evidence store of an instance (cheap to clone).
#[derive(Clone)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
    /// For logs and the start-up line; never holds credentials.
    pub location: String,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The default local directory for a database URL.
pub fn default_location(database_url: &str) -> String {
    if let Some(rest) = database_url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" {
            return format!("{path}.evidence");
        }
    }
    "permit-exchange-evidence".to_owned()
}

impl EvidenceStore {
    /// Opens `location`: `s3://bucket[/prefix]`, `memory:` (tests), or a local directory
    /// (`file://` optional), created if missing.
    pub fn open(location: &str) -> Result<Self, String> {
        let inner: Arc<dyn ObjectStore> = if let Some(rest) = location.strip_prefix("s3://") {
            open_s3(rest)?
        } else if location == "memory:" {
            Arc::new(object_store::memory::InMemory::new())
        } else {
            let dir = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
            std::fs::create_dir_all(&dir).map_err(|e| {
                format!(
                    "cannot create the evidence directory {}: {e}",
                    dir.display()
                )
            })?;
            let local =
                object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(|e| {
                    format!("cannot open the evidence directory {}: {e}", dir.display())
                })?;
            Arc::new(local)
        };
        Ok(Self {
            inner,
            location: location.to_owned(),
        })
    }

    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> AppResult<()> {
        self.inner
            .put(&StorePath::from(key), bytes.into())
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    /// The object's bytes as a stream (never read into memory whole).
    pub async fn get(
        &self,
        key: &str,
    ) -> AppResult<futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>>
    {
        use futures_util::StreamExt;
        let result = self
            .inner
            .get(&StorePath::from(key))
            .await
            .map_err(store_error)?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed())
    }

    /// Best effort: an upload whose record could not be written leaves no orphan behind.
    pub async fn delete(&self, key: &str) {
        if let Err(error) = self.inner.delete(&StorePath::from(key)).await {
            tracing::warn!(%error, key, "could not delete an orphaned evidence object");
        }
    }
}

#[cfg(feature = "s3")]
fn open_s3(rest: &str) -> Result<Arc<dyn ObjectStore>, String> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("EVIDENCE_STORE=s3://BUCKET[/PREFIX] names no bucket".to_owned());
    }
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| format!("cannot configure S3 evidence storage: {e}"))?;
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() {
        Arc::new(s3)
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
    })
}

#[cfg(not(feature = "s3"))]
fn open_s3(_rest: &str) -> Result<Arc<dyn ObjectStore>, String> {
    Err("this build has no S3 support: build with the `s3` feature".to_owned())
}

fn store_error(error: object_store::Error) -> AppError {
    match error {
        object_store::Error::NotFound { .. } => {
            AppError::internal("an evidence record's file is missing from the store")
        }
        other => AppError::Unavailable(format!("evidence storage: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_directory_sits_beside_the_database() {
        assert_eq!(
            default_location("sqlite://data/p.db?mode=rwc"),
            "data/p.db.evidence"
        );
        assert_eq!(
            default_location("postgres://u@h/db"),
            "permit-exchange-evidence"
        );
    }
}
