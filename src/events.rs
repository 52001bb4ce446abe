//! Domain events for GraphQL subscriptions: what happened (`Event`) and how it reaches every
//! subscriber of every instance (`EventBus`).
//!
//! Callers publish only after the writing transaction has committed, so a subscriber that loads
//! the record on receipt always finds it, and a rolled-back write announces nothing.
//!
//! - SQLite: one process owns the database, so an in-process `tokio::sync::broadcast` is the
//!   whole bus.
//! - PostgreSQL: several instances may share the database. `publish` runs
//!   `SELECT pg_notify('permit_exchange_events', <json>)`, and each instance runs one listener
//!   task (`PgListener` on the same URL) that forwards the channel into its local broadcast.
//!   `publish` never feeds the local broadcast directly there, so every instance, the publisher
//!   included, sees each event exactly once: through its listener. The listener reconnects by
//!   itself with backoff; notifications sent while it is disconnected are lost (NOTIFY does not
//!   queue for absent listeners), which is logged.
//!
//! An event carries only the record's id: each subscriber loads the record with its own
//! principal, so the access policy decides what it receives (see `graphql::subscriptions`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

/// The PostgreSQL NOTIFY channel shared by all instances on one database.
pub const CHANNEL: &str = "permit_exchange_events";

/// Events a local broadcast holds for a slow subscriber before it starts missing some.
const CAPACITY: usize = 1024;

/// Reconnection delays of the PostgreSQL listener: doubling from the first to the last. The last
/// is short because events published while the listener waits are lost to this instance: after
/// an outage it should be listening again within seconds of the database.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Something a subscription announces. One variant per subscription field; the JSON form
/// (`{"type":"FINDING_RECORDED","id":7}`) travels between instances, so a variant is only ever
/// added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Event {
    /// `recordFinding` committed a new finding.
    FindingRecorded { id: i64 },
    /// `publishBulletin` committed a new bulletin.
    BulletinPublished { id: i64 },
    /// `postFeedback` committed new feedback.
    FeedbackPosted { id: i64 },
    /// `revokeTokens` committed a revocation: every instance reloads its list.
    TokensRevoked { id: i64 },
}

/// The bus: cheap to clone, shared by the mutation resolvers (publish) and the subscription
/// resolvers (subscribe). Dropping the last clone stops the PostgreSQL listener.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<Event>,
    transport: Transport,
    /// Whether events published now will reach this instance (always true in process).
    listening: watch::Receiver<bool>,
    /// Held only so that dropping the bus closes the channel the listener task waits on.
    _stop: watch::Sender<()>,
    /// Receivers of `follow`, left out of `subscriber_count`.
    internal_followers: std::sync::atomic::AtomicUsize,
}

enum Transport {
    InProcess,
    Postgres(DatabaseConnection),
}

impl EventBus {
    /// The bus for a database: in process on SQLite; NOTIFY plus a listener task on PostgreSQL
    /// (spawned on the current Tokio runtime, connecting to `url`).
    pub fn for_database(db: &DatabaseConnection, url: &str) -> Self {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => Self::postgres(db.clone(), url),
            _ => Self::in_process(),
        }
    }

    /// A bus that only reaches subscribers of this process.
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        let (_ready, listening) = watch::channel(true);
        let (stop, _) = watch::channel(());
        Self {
            inner: Arc::new(Inner {
                local,
                transport: Transport::InProcess,
                listening,
                _stop: stop,
                internal_followers: Default::default(),
            }),
        }
    }

    fn postgres(db: DatabaseConnection, url: &str) -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        let (ready, listening) = watch::channel(false);
        let (stop, stopped) = watch::channel(());
        tokio::spawn(listen(url.to_owned(), local.clone(), ready, stopped));
        Self {
            inner: Arc::new(Inner {
                local,
                transport: Transport::Postgres(db),
                listening,
                _stop: stop,
                internal_followers: Default::default(),
            }),
        }
    }

    /// Announces an event. Call it after the transaction that wrote the record has committed.
    /// A failure is logged, not returned: the write has happened and its caller's result must
    /// not depend on whether anyone was told.
    pub async fn publish(&self, event: Event) {
        match &self.inner.transport {
            Transport::InProcess => {
                // An error only means that nobody is subscribed right now.
                let _ = self.inner.local.send(event);
            }
            Transport::Postgres(db) => {
                let payload = match serde_json::to_string(&event) {
                    Ok(payload) => payload,
                    Err(err) => {
                        tracing::error!(?event, error = %err, "cannot encode an event");
                        return;
                    }
                };
                let notify = Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                );
                if let Err(err) = db.execute_raw(notify).await {
                    tracing::error!(
                        ?event,
                        error = %err,
                        "cannot publish an event; its subscribers miss it"
                    );
                }
            }
        }
    }

    /// The events announced from now on, on this instance. A subscriber that falls more than
    /// `CAPACITY` events behind skips the oldest (logged) rather than holding everyone up.
    pub fn subscribe(&self) -> impl Stream<Item = Event> + Send + use<> {
        futures_util::stream::unfold(self.inner.local.subscribe(), |mut events| async move {
            loop {
                match events.recv().await {
                    Ok(event) => return Some((event, events)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a slow subscriber skipped events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// `subscribe` for the service's own followers (the revocation list), which live as long
    /// as the bus and are not counted as subscriptions.
    pub fn follow(&self) -> impl Stream<Item = Event> + Send + use<> {
        self.inner
            .internal_followers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.subscribe()
    }

    /// How many subscriptions on this instance are waiting for events.
    pub fn subscriber_count(&self) -> usize {
        let internal = self
            .inner
            .internal_followers
            .load(std::sync::atomic::Ordering::Relaxed);
        self.inner.local.receiver_count().saturating_sub(internal)
    }

    /// Whether this instance currently receives what is published (on PostgreSQL: whether its
    /// listener is connected and listening).
    pub fn is_listening(&self) -> bool {
        *self.inner.listening.borrow()
    }

    /// Waits until `is_listening`, at most `timeout`; false if it did not happen in time.
    pub async fn wait_until_listening(&self, timeout: Duration) -> bool {
        let mut listening = self.inner.listening.clone();
        tokio::time::timeout(timeout, listening.wait_for(|ready| *ready))
            .await
            .is_ok_and(|result| result.is_ok())
    }
}

/// The listener task of one instance: connect, LISTEN, forward; on any failure wait (doubling
/// from `BACKOFF_FIRST` to `BACKOFF_MAX`, reset once listening again) and start over. Ends when
/// the bus is dropped.
async fn listen(
    url: String,
    local: broadcast::Sender<Event>,
    ready: watch::Sender<bool>,
    mut stop: watch::Receiver<()>,
) {
    let mut delay = BACKOFF_FIRST;
    loop {
        let failure = tokio::select! {
            _ = stop.changed() => return,
            failure = forward(&url, &local, &ready, &mut delay) => failure,
        };
        ready.send_replace(false);
        tracing::warn!(
            error = %failure,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "event listener disconnected; events published until it reconnects are not delivered here"
        );
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// One listening session; returns only with the error that ended it.
async fn forward(
    url: &str,
    local: &broadcast::Sender<Event>,
    ready: &watch::Sender<bool>,
    delay: &mut Duration,
) -> sqlx::Error {
    let mut listener = match sqlx::postgres::PgListener::connect(url).await {
        Ok(listener) => listener,
        Err(err) => return err,
    };
    if let Err(err) = listener.listen(CHANNEL).await {
        return err;
    }
    ready.send_replace(true);
    *delay = BACKOFF_FIRST;
    tracing::info!(channel = CHANNEL, "event listener listening");
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match serde_json::from_str::<Event>(notification.payload()) {
                Ok(event) => {
                    let _ = local.send(event);
                }
                // An instance of a newer version may announce events this one does not know.
                Err(err) => tracing::debug!(error = %err, "ignoring an unknown event"),
            },
            // `PgListener` has already reconnected and listens again (eager reconnect).
            Ok(None) => tracing::warn!(
                "event listener lost its connection and reconnected; events published meanwhile are not delivered here"
            ),
            Err(err) => return err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_travel_as_tagged_json() {
        let json = serde_json::to_string(&Event::FindingRecorded { id: 7 }).ok();
        assert_eq!(
            json.as_deref(),
            Some(r#"{"type":"FINDING_RECORDED","id":7}"#)
        );
        let back: Result<Event, _> = serde_json::from_str(r#"{"type":"FINDING_RECORDED","id":7}"#);
        assert_eq!(back.ok(), Some(Event::FindingRecorded { id: 7 }));
    }

    #[tokio::test]
    async fn in_process_fan_out_reaches_every_subscriber_once() {
        use futures_util::StreamExt;
        let bus = EventBus::in_process();
        // Each stream holds its receiver from the call on, before it is first polled.
        let mut first = Box::pin(bus.subscribe());
        let mut second = Box::pin(bus.subscribe());
        assert_eq!(bus.subscriber_count(), 2);
        bus.publish(Event::FindingRecorded { id: 1 }).await;
        bus.publish(Event::FindingRecorded { id: 2 }).await;
        for stream in [&mut first, &mut second] {
            assert_eq!(stream.next().await, Some(Event::FindingRecorded { id: 1 }));
            assert_eq!(stream.next().await, Some(Event::FindingRecorded { id: 2 }));
        }
    }
}
