//! The subscription root (CONTRACT: `bulletinPublished`, `findingRecorded`, `feedbackPosted`;
//! issue 17: `violationCandidateDetected`),
//! served over `/graphql/ws` (`crate::ws`).
//!
//! Delivery: every committed matching event exactly once, in feed (commit) order, for as long as
//! the subscription runs, also across database outages and lost listener connections
//! (`permit_core::events`). Each payload carries its feed `cursor`; a client that reconnects passes
//! the last one as `after` and first gets what it missed, read from the change feed, then live
//! events, with no gap and no repeat at the seam.
//!
//! An event carries only an id. For each one, the subscriber's own principal loads the record
//! through the same domain function as the matching lookup query (`finding(id)` →
//! `domain::findings::get`) and the record is sent only if that returns it: a subscriber never
//! receives what it could not query, and the policy stays in `domain::access`.

use std::future::Future;
use std::time::Duration;

use crate::graphql::error::Result;
use async_graphql::{Context, Subscription as SubscriptionObject};
use futures_util::{Stream, StreamExt};
use sea_orm::DatabaseConnection;

use super::enforcement::Finding;
use permit_core::auth::Principal;
use permit_core::domain::access::{self, Operation};
use permit_core::domain::changes::{ChangeKind, FeedCursor};
use permit_core::domain::findings;
use permit_core::error::{AppError, AppResult};
use permit_core::events::EventBus;

#[derive(Default)]
pub struct Subscription;

#[SubscriptionObject]
impl Subscription {
    /// Findings recorded from now on that the caller may read: its district's, or every
    /// district's for a municipal principal; exactly what `finding(id)` would return. Each
    /// exactly once, in commit order. With `after` (a `cursor` of an earlier payload, or an
    /// `endCursor` of `changes`), first the findings recorded after it, then live ones. Not for
    /// MONITORING (FORBIDDEN at subscribe time, like `findings`).
    async fn finding_recorded(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Finding>> + use<>> {
        scoped(
            ctx,
            Operation::ReadEnforcement,
            ChangeKind::Finding,
            after,
            |db, principal, id, cursor| async move {
                Ok(findings::get(&db, principal.as_ref(), id)
                    .await?
                    .map(|row| Finding::delivered(row, cursor)))
            },
        )
    }

    /// Bulletins published from now on that are addressed to the caller; exactly what
    /// `bulletin(id)` would return. Each exactly once, in commit order; `after` as for
    /// `findingRecorded`.
    async fn bulletin_published(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<super::liaison::Bulletin>> + use<>> {
        scoped(
            ctx,
            Operation::ReadBulletins,
            ChangeKind::Bulletin,
            after,
            |db, principal, id, cursor| async move {
                Ok(
                    permit_core::domain::bulletins::get(&db, principal.as_ref(), id)
                        .await?
                        .map(|row| super::liaison::Bulletin::delivered(row, cursor)),
                )
            },
        )
    }

    /// Feedback posted from now on that the caller may read (its addressee, its poster,
    /// supervision); exactly what `feedbackItem(id)` would return. Each exactly once, in
    /// commit order; `after` as for `findingRecorded`.
    async fn feedback_posted(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<super::liaison::Feedback>> + use<>> {
        scoped(
            ctx,
            Operation::ReadFeedback,
            ChangeKind::Feedback,
            after,
            |db, principal, id, cursor| async move {
                Ok(
                    permit_core::domain::feedback::get(&db, principal.as_ref(), id)
                        .await?
                        .map(|row| super::liaison::Feedback::delivered(row, cursor)),
                )
            },
        )
    }

    /// Violation candidates raised from now on that the caller may read (its district's, or
    /// every district's for a municipal principal; like `violationCandidates`): EX-1 as the
    /// readings arrive, NP-2 for readings after a permit expired, AM-2, SM-1 and ER-1 when
    /// `detectViolationCandidates` finds them. Each exactly once, in commit order; `after` as
    /// for `findingRecorded`. Not for MONITORING (FORBIDDEN at subscribe time); an INTEGRATOR
    /// reads no candidates and receives none.
    async fn violation_candidate_detected(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<super::monitoring::ViolationCandidate>> + use<>> {
        scoped(
            ctx,
            Operation::ReadEnforcement,
            ChangeKind::ViolationCandidate,
            after,
            |db, principal, id, cursor| async move {
                Ok(
                    permit_core::domain::candidates::get(&db, principal.as_ref(), id)
                        .await?
                        .map(|row| super::monitoring::ViolationCandidate::delivered(row, cursor)),
                )
            },
        )
    }
}

/// The records behind the events of `kind`, as `load` returns them to this subscriber, with
/// their feed cursor. `operation` is the one `load` authorizes, checked once up front so that a
/// caller who may never read these records gets FORBIDDEN now rather than silence; a bad
/// `after` is BAD_USER_INPUT, also at once. A record `load` does not return (out of scope, or
/// gone) is skipped. While the database is unavailable a load is retried, so an event is late
/// rather than lost; any other failure is sent as that event's error.
fn scoped<T, Load, Loading>(
    ctx: &Context<'_>,
    operation: Operation,
    kind: ChangeKind,
    after: Option<String>,
    load: Load,
) -> Result<impl Stream<Item = Result<T>> + use<T, Load, Loading>>
where
    T: Send + 'static,
    Load: Fn(DatabaseConnection, Option<Principal>, i64, String) -> Loading + Send + Sync + 'static,
    Loading: Future<Output = AppResult<Option<T>>> + Send + 'static,
{
    let principal = super::principal(ctx).cloned();
    access::authorize(principal.as_ref(), operation)?;
    let after = after.as_deref().map(FeedCursor::decode).transpose()?;
    let db = super::db(ctx)?.clone();
    let events = ctx.data::<EventBus>()?.delivered(db.clone(), after, kind);
    let load = std::sync::Arc::new(load);
    Ok(events
        .then(move |event| {
            let (db, principal, load) = (db.clone(), principal.clone(), load.clone());
            async move {
                let cursor = event.cursor.encode();
                let mut pause = RETRY_FIRST;
                loop {
                    match load(
                        db.clone(),
                        principal.clone(),
                        event.record_id,
                        cursor.clone(),
                    )
                    .await
                    {
                        Err(AppError::Unavailable(reason)) => {
                            tracing::debug!(%reason, "an event waits for the database");
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(RETRY_MAX);
                        }
                        loaded => return loaded,
                    }
                }
            }
        })
        .filter_map(|loaded| {
            std::future::ready(match loaded {
                Ok(Some(record)) => Some(Ok(record)),
                Ok(None) => None,
                Err(err) => Some(Err(err.into())),
            })
        }))
}

/// Pauses between loads of an event while the database is unavailable.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);
