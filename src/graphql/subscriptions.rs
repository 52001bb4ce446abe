//! The subscription root (CONTRACT: `bulletinPublished`, `findingRecorded`, `feedbackPosted`),
//! served over `/graphql/ws` (`crate::ws`).
//!
//! An event carries only an id. For each one, the subscriber's own principal loads the record
//! through the same domain function as the matching lookup query (`finding(id)` →
//! `domain::findings::get`) and the record is sent only if that returns it: a subscriber never
//! receives what it could not query, and the policy stays in `domain::access`.

use std::future::Future;

use async_graphql::{Context, Result, Subscription as SubscriptionObject};
use futures_util::{Stream, StreamExt};
use sea_orm::DatabaseConnection;

use super::enforcement::Finding;
use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::findings;
use crate::error::AppResult;
use crate::events::{Event, EventBus};

#[derive(Default)]
pub struct Subscription;

#[SubscriptionObject]
impl Subscription {
    /// Findings recorded from now on that the caller may read: its district's, or every
    /// district's for a municipal principal; exactly what `finding(id)` would return. Not for
    /// MONITORING (FORBIDDEN at subscribe time, like `findings`).
    async fn finding_recorded(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Finding>> + use<>> {
        scoped(
            ctx,
            Operation::ReadEnforcement,
            |event| match event {
                Event::FindingRecorded { id } => Some(id),
                _ => None,
            },
            |db, principal, id| async move {
                Ok(findings::get(&db, principal.as_ref(), id)
                    .await?
                    .map(Finding))
            },
        )
    }

    /// Bulletins published from now on that are addressed to the caller; exactly what
    /// `bulletin(id)` would return.
    async fn bulletin_published(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<super::liaison::Bulletin>> + use<>> {
        scoped(
            ctx,
            Operation::ReadBulletins,
            |event| match event {
                Event::BulletinPublished { id } => Some(id),
                _ => None,
            },
            |db, principal, id| async move {
                Ok(crate::domain::bulletins::get(&db, principal.as_ref(), id)
                    .await?
                    .map(super::liaison::Bulletin))
            },
        )
    }

    /// Feedback posted from now on that the caller may read (its addressee, its poster,
    /// supervision); exactly what `feedbackItem(id)` would return.
    async fn feedback_posted(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<super::liaison::Feedback>> + use<>> {
        scoped(
            ctx,
            Operation::ReadFeedback,
            |event| match event {
                Event::FeedbackPosted { id } => Some(id),
                _ => None,
            },
            |db, principal, id| async move {
                Ok(crate::domain::feedback::get(&db, principal.as_ref(), id)
                    .await?
                    .map(super::liaison::Feedback))
            },
        )
    }
}

/// The records behind the events `pick` selects, as `load` returns them to this subscriber.
/// `operation` is the one `load` authorizes, checked once up front so that a caller who may
/// never read these records gets FORBIDDEN now rather than silence. A record `load` does not
/// return (out of scope, or gone) is skipped; a failure ends the subscription with the error.
fn scoped<T, Load, Loading>(
    ctx: &Context<'_>,
    operation: Operation,
    pick: fn(Event) -> Option<i64>,
    load: Load,
) -> Result<impl Stream<Item = Result<T>> + use<T, Load, Loading>>
where
    T: Send + 'static,
    Load: Fn(DatabaseConnection, Option<Principal>, i64) -> Loading + Send + Sync + 'static,
    Loading: Future<Output = AppResult<Option<T>>> + Send + 'static,
{
    let principal = super::principal(ctx).cloned();
    access::authorize(principal.as_ref(), operation)?;
    let db = super::db(ctx)?.clone();
    let events = ctx.data::<EventBus>()?.subscribe();
    Ok(events
        .filter_map(move |event| std::future::ready(pick(event)))
        .then(move |id| load(db.clone(), principal.clone(), id))
        .filter_map(|loaded| {
            std::future::ready(match loaded {
                Ok(Some(record)) => Some(Ok(record)),
                Ok(None) => None,
                Err(err) => Some(Err(err.into())),
            })
        }))
}
