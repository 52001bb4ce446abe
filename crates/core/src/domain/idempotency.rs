//! Retried creates (CONTRACT: `idempotencyKey`). The same key and input returns the first
//! result and writes nothing new; the same key with other input is `CONFLICT`. The key row is
//! written in the same transaction as the record it stands for, so a failed write leaves no key.
//!
//! Two requests with the same key at once (two instances, or a client retrying before its first
//! attempt answered) must not race to insert the key: the loser would fail on the key's unique
//! constraint, or on the record's own natural key, and answer CONFLICT for a request the contract
//! says is a replay. So the key is held before it is looked up: on PostgreSQL a transaction-level
//! advisory lock on the key (held until commit or rollback), under which the lookup, a new
//! statement in READ COMMITTED, sees the winner's committed row; on SQLite writing transactions
//! begin IMMEDIATE (`db::begin_write`) and are serialised already.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, EntityTrait, Set, Statement};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::db::batch::Writes;
use crate::domain::clock;
use crate::error::{AppError, AppResult};
use entity::idempotency_keys;
use sea_orm::DbBackend;

/// A validated key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub operation: &'static str,
    pub key: String,
    pub request_hash: String,
}

impl IdempotentRequest {
    pub fn new(operation: &'static str, key: &str, input: &impl Serialize) -> AppResult<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > 128 {
            return Err(AppError::invalid(
                "idempotencyKey",
                "must be 1 to 128 characters",
            ));
        }
        let json = serde_json::to_vec(input).map_err(AppError::internal)?;
        let request_hash = format!("{:x}", Sha256::digest(&json));
        Ok(Self {
            operation,
            key: key.to_owned(),
            request_hash,
        })
    }

    /// The id created by an earlier identical request, if any. Waits for a concurrent request
    /// with the same key to commit or roll back first (see the module comment); call it in the
    /// writing transaction, before anything is written.
    pub async fn replay(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
    ) -> AppResult<Option<i64>> {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [self.lock_id(who).into()],
            ))
            .await?;
        }
        let found = idempotency_keys::Entity::find_by_id((
            who.subject.clone(),
            self.operation.to_owned(),
            self.key.clone(),
        ))
        .one(db)
        .await?;
        match found {
            None => Ok(None),
            Some(row) if row.request_hash == self.request_hash => Ok(Some(row.result_id)),
            Some(_) => Err(AppError::Conflict(format!(
                "idempotencyKey '{}' was already used with different input for {}",
                self.key, self.operation
            ))),
        }
    }

    /// The advisory lock standing for (subject, operation, key): 64 bits of their SHA-256. Two
    /// keys sharing a lock only wait for each other.
    fn lock_id(&self, who: &Principal) -> i64 {
        let mut hash = Sha256::new();
        for part in [&who.subject, self.operation, &self.key] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(bytes)
    }

    pub async fn remember(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
        result_id: i64,
    ) -> AppResult<()> {
        self.row(who, result_id).insert(db).await?;
        Ok(())
    }

    /// `remember`, added to writes sent together.
    pub fn remember_into(
        &self,
        writes: &mut Writes,
        backend: DbBackend,
        who: &Principal,
        result_id: i64,
    ) {
        use sea_orm::QueryTrait;
        writes.push(idempotency_keys::Entity::insert(self.row(who, result_id)).build(backend));
    }

    fn row(&self, who: &Principal, result_id: i64) -> idempotency_keys::ActiveModel {
        idempotency_keys::ActiveModel {
            subject: Set(who.subject.clone()),
            operation: Set(self.operation.to_owned()),
            idempotency_key: Set(self.key.clone()),
            request_hash: Set(self.request_hash.clone()),
            result_id: Set(result_id),
            created_at: Set(clock::now()),
        }
    }
}

/// The record an earlier identical request created, read in the caller's transaction.
pub async fn replayed<E>(
    request: Option<&IdempotentRequest>,
    db: &impl ConnectionTrait,
    who: &Principal,
) -> AppResult<Option<E::Model>>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    let Some(request) = request else {
        return Ok(None);
    };
    match request.replay(db, who).await? {
        Some(id) => E::find_by_id(id)
            .one(db)
            .await?
            .map(Some)
            .ok_or_else(|| AppError::NotFound(format!("record {id} of {}", request.operation))),
        None => Ok(None),
    }
}
