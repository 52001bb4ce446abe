//! Revoked tokens, checked on every request and every open subscription.
//!
//! The table (`token_revocations`) is small and only grows, so each instance holds it in memory
//! and a check costs a hash lookup, not a statement. An instance learns of a new row three ways:
//! the instance that wrote it reloads before its mutation returns (so the revoker's next request
//! already sees it); every other instance reloads when the `TokensRevoked` event reaches it
//! through the event bus (PostgreSQL NOTIFY); and a periodic reload covers a notification lost
//! while a listener was reconnecting.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use entity::token_revocations;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};
use tokio::sync::watch;

use super::keys::VerifiedToken;
use crate::error::AppError;

/// The longest a revocation written by another instance can go unnoticed when its notification
/// was lost.
const RELOAD_INTERVAL: Duration = Duration::from_secs(15);

/// How long a request waits for the first load before it is told the service is unavailable.
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(3);

/// Retry delay of a failed load (the database may be starting or briefly away).
const RETRY_DELAY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Revocations {
    shared: Arc<Shared>,
}

struct Shared {
    list: RwLock<List>,
    /// 0 until the first load; bumped after every reload that found new rows, when open
    /// subscriptions re-check their tokens.
    generation: watch::Sender<u64>,
}

#[derive(Default)]
struct List {
    /// Rows loaded (the table only grows).
    rows: usize,
    /// Highest row id loaded.
    last_id: i64,
    /// Subject → tokens issued at or before this moment (unix seconds) are refused.
    subjects: HashMap<String, i64>,
    /// Single revoked tokens by `jti`.
    token_ids: HashSet<String>,
}

impl List {
    fn add(&mut self, row: token_revocations::Model) {
        self.last_id = self.last_id.max(row.id);
        match row.token_id {
            Some(jti) => {
                self.token_ids.insert(jti);
            }
            None => {
                let before = self.subjects.entry(row.subject).or_insert(i64::MIN);
                *before = (*before).max(row.revoked_before);
            }
        }
    }

    fn refuses(&self, token: &VerifiedToken) -> bool {
        if let Some(jti) = &token.token_id
            && self.token_ids.contains(jti)
        {
            return true;
        }
        self.subjects
            .get(&token.principal.subject)
            .is_some_and(|before| token.issued_at <= *before)
    }
}

impl Default for Revocations {
    fn default() -> Self {
        Self::empty()
    }
}

impl Revocations {
    /// Nothing revoked (before the first load).
    pub fn empty() -> Self {
        let (generation, _) = watch::channel(0);
        Self {
            shared: Arc::new(Shared {
                list: RwLock::new(List::default()),
                generation,
            }),
        }
    }

    /// The list as the database holds it now.
    pub async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let revocations = Self::empty();
        revocations.reload(db).await?;
        Ok(revocations)
    }

    /// `UNAUTHENTICATED` for a revoked token. Waits for the first load after start-up (a few
    /// milliseconds): until then nobody can be told apart from a revoked caller.
    pub async fn check(&self, token: &VerifiedToken) -> Result<(), AppError> {
        let mut loaded = self.changes();
        if *loaded.borrow() == 0 {
            let waited = tokio::time::timeout(
                FIRST_LOAD_WAIT,
                loaded.wait_for(|generation| *generation > 0),
            )
            .await;
            if !matches!(waited, Ok(Ok(_))) {
                return Err(AppError::Unavailable(
                    "the token revocation list is not loaded yet".to_owned(),
                ));
            }
        }
        if self.is_revoked(token) {
            Err(AppError::Unauthenticated("token revoked".to_owned()))
        } else {
            Ok(())
        }
    }

    pub fn is_revoked(&self, token: &VerifiedToken) -> bool {
        self.shared
            .list
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .refuses(token)
    }

    /// Changes whenever new revocations were loaded.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.generation.subscribe()
    }

    /// Reads the whole table and replaces the list. Not "rows after the last id": on
    /// PostgreSQL ids are taken at insert and transactions commit in any order, so a row with a
    /// lower id can become visible after a higher one. The table holds administrators' acts
    /// only, so reading it whole stays cheap.
    pub async fn reload(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let rows = token_revocations::Entity::find()
            .order_by_asc(token_revocations::Column::Id)
            .all(db)
            .await?;
        let count = rows.len();
        let mut fresh = List::default();
        for row in rows {
            fresh.add(row);
        }
        let changed = {
            let mut list = self.shared.list.write().unwrap_or_else(|e| e.into_inner());
            // Rows are only ever added: another count means another list.
            let changed = list.rows != count;
            fresh.rows = count;
            *list = fresh;
            changed
        };
        if changed || *self.shared.generation.borrow() == 0 {
            self.shared.generation.send_modify(|g| *g += 1);
        }
        Ok(())
    }

    /// Loads the list, then keeps it current for as long as `revoked` runs: whenever it yields
    /// (the event bus's `TokensRevoked`, wired by the server), and every `RELOAD_INTERVAL` in
    /// case an event was lost. Reads go
    /// through a connection of its own (`url`), so that they never wait behind requests for the
    /// pool and never count among a request's statements; `shared` serves an in-memory SQLite
    /// database, which another connection would not see.
    pub fn follow(
        &self,
        shared: DatabaseConnection,
        url: &str,
        revoked: impl futures_util::Stream<Item = ()> + Send + 'static,
    ) {
        let revocations = self.clone();
        let mut stream = Box::pin(revoked);
        let url = url.to_owned();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let db = if url.contains(":memory:") {
                shared
            } else {
                drop(shared);
                loop {
                    let options = sea_orm::ConnectOptions::new(url.clone())
                        .max_connections(1)
                        .min_connections(0)
                        .connect_timeout(Duration::from_secs(5))
                        .sqlx_logging(false)
                        .to_owned();
                    match sea_orm::Database::connect(options).await {
                        Ok(db) => break db,
                        Err(error) => {
                            tracing::warn!(%error, "revocation list: cannot connect; retrying");
                            tokio::time::sleep(RETRY_DELAY).await;
                        }
                    }
                }
            };
            let mut ticker = tokio::time::interval(RELOAD_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate; the first load below stands for it.
            ticker.tick().await;
            let mut due = true;
            loop {
                if due && let Err(error) = revocations.reload(&db).await {
                    tracing::warn!(%error, "could not load token revocations; retrying");
                    tokio::time::sleep(RETRY_DELAY).await;
                    continue;
                }
                due = tokio::select! {
                    event = stream.next() => match event {
                        Some(()) => true,
                        // The bus is gone: the server has stopped.
                        None => return,
                    },
                    _ = ticker.tick() => true,
                };
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Principal, RequestTag, Role};

    fn token(subject: &str, jti: &str, issued_at: i64) -> VerifiedToken {
        VerifiedToken {
            principal: Principal {
                subject: subject.to_owned(),
                role: Role::Integrator,
                agency_code: None,
                district: None,
                request: RequestTag::default(),
            },
            token_id: Some(jti.to_owned()),
            issued_at,
            expires_at: issued_at + 3600,
        }
    }

    fn row(
        id: i64,
        subject: &str,
        token_id: Option<&str>,
        before: i64,
    ) -> token_revocations::Model {
        token_revocations::Model {
            id,
            subject: subject.to_owned(),
            token_id: token_id.map(str::to_owned),
            revoked_before: before,
            reason: "test".to_owned(),
            revoked_by_subject: "admin".to_owned(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_subject_revocation_spares_tokens_issued_after_it() {
        let mut list = List::default();
        list.add(row(1, "alice", None, 1_000));
        assert!(list.refuses(&token("alice", "a", 999)));
        assert!(list.refuses(&token("alice", "b", 1_000)));
        assert!(!list.refuses(&token("alice", "c", 1_001)));
        assert!(!list.refuses(&token("bob", "d", 10)));
        // A later, earlier-dated row does not shorten the revocation.
        list.add(row(2, "alice", None, 500));
        assert!(list.refuses(&token("alice", "e", 900)));
        assert_eq!(list.last_id, 2);
    }

    #[test]
    fn a_token_revocation_names_one_token() {
        let mut list = List::default();
        list.add(row(7, "alice", Some("jti-1"), 1_000));
        assert!(list.refuses(&token("alice", "jti-1", 999)));
        assert!(!list.refuses(&token("alice", "jti-2", 999)));
    }
}
