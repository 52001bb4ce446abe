//! Domain events for GraphQL subscriptions: what happened (`Event`, `Delivered`) and how it
//! reaches every subscriber of every instance (`EventBus`).
//!
//! The change feed (`domain::changes`) is the source of truth. Each instance runs one feed
//! reader (the pump) that reads the creations subscriptions announce from the feed, in feed
//! order and under its visibility rule, after the last position it delivered, and hands each
//! to the instance's subscribers once, with its cursor. Nothing is delivered that the feed does
//! not hold, so a rolled-back write announces nothing, and nothing committed is skipped: after
//! an outage, a lost connection or a slow subscriber, reading resumes from a position.
//!
//! - `publish` is only a wake-up. SQLite: one process owns the database, so it wakes the
//!   pump in process. PostgreSQL: several instances share the database; the feed's own trigger
//!   queues `pg_notify('permit_exchange_events', '{"type":"FEED_WRITTEN"}')` in every
//!   transaction that writes to it, PostgreSQL delivers it on commit, and each instance's
//!   listener task (`PgListener`) wakes its pump; `publish` only wakes the local pump at once
//!   (and sends `TokensRevoked`, which is not in the feed, itself). NOTIFY does not queue for
//!   an absent listener, so the pump also reads after every (re)connection of the listener and
//!   once a second whatever happens: a lost notification delays an event by at most that, it
//!   never loses it.
//! - Ordering: the feed orders changes by (transaction id, sequence) and shows a transaction's
//!   changes once every older transaction has ended; a change read a moment late (an older
//!   transaction was still running) is read on the next round (every 50 ms for two seconds after
//!   a wake-up), never skipped.
//! - Each subscription (`EventBus::delivered`) takes the instance's events from the position it
//!   starts at (the pump's, or the client's `after` cursor, caught up from the feed first) and
//!   drops any at or before the last it delivered, so it sees each event exactly once, in feed
//!   order; one that falls behind the local buffer reads what it missed from the feed.
//! - `TokensRevoked` is not in the feed: it is a signal for the revocation list
//!   (`EventBus::follow`), which also reloads on a timer.
//!
//! An event carries only the record's id: each subscriber loads the record with its own
//! principal, so the access policy decides what it receives (see `graphql::subscriptions`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast, watch};

use crate::domain::changes::{self, Announced, ChangeKind, FeedCursor};

/// The PostgreSQL NOTIFY channel shared by all instances on one database.
pub const CHANNEL: &str = "permit_exchange_events";

/// Events a local broadcast holds for a slow subscriber; one further behind reads the feed.
const CAPACITY: usize = 1024;

/// Reconnection delays of the PostgreSQL listener: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// The pump reads the feed on every wake-up; then every `QUICK` during `QUICK_WINDOW` (a change
/// whose older transactions were still running shows a moment later); else every `SAFETY_NET`,
/// for notifications that never came.
const QUICK: Duration = Duration::from_millis(50);
const QUICK_WINDOW: Duration = Duration::from_secs(2);
const SAFETY_NET: Duration = Duration::from_secs(1);
/// Changes read from the feed at a time.
const PAGE: u64 = 500;
/// Pause before a failed feed read is tried again (the database is down).
const RETRY: Duration = Duration::from_millis(500);
/// How long a NOTIFY may wait for a pooled connection before it is given up (the pump's own
/// timer delivers the event anyway).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(2);

/// Something a mutation announces. The JSON form (`{"type":"FINDING_RECORDED","id":7}`)
/// travels between instances as the NOTIFY payload, so a variant is only ever added, never
/// renamed.
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
    /// Readings or a detection committed `count` new violation candidates.
    CandidatesDetected { count: u64 },
    /// Rows were written to the change feed: sent by PostgreSQL itself when a transaction that
    /// inserted into `change_events` commits (the trigger of migration 16).
    FeedWritten,
}

/// An event as a subscription receives it: the created record, and its place in the feed (the
/// cursor a client resumes `after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub cursor: FeedCursor,
    pub kind: ChangeKind,
    pub record_id: i64,
}

impl From<Announced> for Delivered {
    fn from(change: Announced) -> Self {
        Delivered {
            cursor: change.cursor,
            kind: change.kind,
            record_id: change.record_id,
        }
    }
}

/// The bus: cheap to clone, shared by the mutation resolvers (publish) and the subscription
/// resolvers (`delivered`). Dropping the last clone stops the pump and the listener.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    feed: Arc<Feed>,
    /// Events that are not in the feed (revocations), for `follow`.
    signals: broadcast::Sender<Event>,
    transport: Transport,
    /// Whether the PostgreSQL listener is connected (always true in process).
    listening: watch::Receiver<bool>,
    /// Held only so that dropping the bus closes the channel the tasks wait on.
    _stop: watch::Sender<()>,
}

enum Transport {
    InProcess,
    Postgres(DatabaseConnection),
}

/// What the pump shares with the subscriptions of its instance.
struct Feed {
    sender: broadcast::Sender<Delivered>,
    /// The last position the pump delivered (`None` until it has read the feed's end). Sending
    /// happens under this lock, so a new receiver and the position it starts after agree.
    position: Mutex<Option<FeedCursor>>,
    wake: Notify,
    /// Whether the pump knows its position (it delivers from then on).
    ready: watch::Sender<bool>,
}

impl Feed {
    fn new() -> Arc<Feed> {
        let (sender, _) = broadcast::channel(CAPACITY);
        let (ready, _) = watch::channel(false);
        Arc::new(Feed {
            sender,
            position: Mutex::new(None),
            wake: Notify::new(),
            ready,
        })
    }

    /// A receiver of what is delivered from now on, and the position it starts after.
    fn receiver(&self) -> (broadcast::Receiver<Delivered>, Option<FeedCursor>) {
        match self.position.lock() {
            Ok(position) => (self.sender.subscribe(), *position),
            Err(poisoned) => (self.sender.subscribe(), *poisoned.into_inner()),
        }
    }

    fn position(&self) -> Option<FeedCursor> {
        self.receiver().1
    }

    /// Delivers `change` unless it is at or before the position (read twice).
    fn deliver(&self, change: Announced) {
        let mut position = match self.position.lock() {
            Ok(position) => position,
            Err(poisoned) => poisoned.into_inner(),
        };
        if position.is_some_and(|p| change.cursor <= p) {
            return;
        }
        *position = Some(change.cursor);
        // An error only means that nobody is subscribed right now.
        let _ = self.sender.send(change.into());
    }
}

impl EventBus {
    /// The bus for a database: its pump reads the feed over a connection of its own to `url`
    /// (or `db` itself for an in-memory SQLite database, which another connection would not
    /// see); on PostgreSQL a listener task wakes it. Spawned on the current Tokio runtime.
    pub fn for_database(db: &DatabaseConnection, url: &str) -> Self {
        let (stop, stopped) = watch::channel(());
        let feed = Feed::new();
        let (signals, _) = broadcast::channel(CAPACITY);
        let (transport, listening) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let (ready, listening) = watch::channel(false);
                tokio::spawn(listen(
                    url.to_owned(),
                    feed.clone(),
                    signals.clone(),
                    ready,
                    stopped.clone(),
                ));
                (Transport::Postgres(db.clone()), listening)
            }
            _ => (Transport::InProcess, watch::channel(true).1),
        };
        tokio::spawn(pump(FeedSource::new(db, url), feed.clone(), stopped));
        Self {
            inner: Arc::new(Inner {
                feed,
                signals,
                transport,
                listening,
                _stop: stop,
            }),
        }
    }

    /// Announces an event: wakes every instance's pump (and, for a revocation, its followers).
    /// Call it after the transaction that wrote the record has committed. It does not wait for
    /// the database: a failure is logged, the pumps read the feed on their timers anyway, and
    /// the caller's answer must not depend on whether anyone was told.
    pub async fn publish(&self, event: Event) {
        match &self.inner.transport {
            Transport::InProcess => {
                if matches!(event, Event::TokensRevoked { .. }) {
                    let _ = self.inner.signals.send(event);
                }
                self.inner.feed.wake.notify_one();
            }
            // Feed events: the feed's trigger notified every instance on commit.
            Transport::Postgres(_) if !matches!(event, Event::TokensRevoked { .. }) => {
                self.inner.feed.wake.notify_one();
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
                let db = db.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(NOTIFY_TIMEOUT, db.execute_raw(notify)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) => tracing::warn!(
                            ?event,
                            error = %err,
                            "cannot notify an event; instances read it from the feed on their timers"
                        ),
                        Err(_) => tracing::warn!(
                            ?event,
                            "no connection to notify an event; instances read it from the feed on their timers"
                        ),
                    }
                });
            }
        }
    }

    /// The events of `kind` this instance delivers, each once and in feed order: those after
    /// `after` first (read from the feed over `db`), then live ones; without `after`, from the
    /// instance's current position on. A subscription that falls behind the local buffer, or
    /// whose catch-up read fails (the database is down), reads from the feed again, from the
    /// last event it yielded, until it has caught up.
    pub fn delivered(
        &self,
        db: DatabaseConnection,
        after: Option<FeedCursor>,
        kind: ChangeKind,
    ) -> impl Stream<Item = Delivered> + Send + use<> {
        let (live, now) = self.inner.feed.receiver();
        let follower = Follower {
            db,
            kind,
            feed: self.inner.feed.clone(),
            live,
            position: after.or(now),
            catching_up: after.is_some(),
            backlog: VecDeque::new(),
        };
        futures_util::stream::unfold(follower, |mut follower| async move {
            let next = follower.next().await?;
            Some((next, follower))
        })
    }

    /// The service's own followers (the revocation list): events that are not in the feed,
    /// from now on. Not counted as subscriptions.
    pub fn follow(&self) -> impl Stream<Item = Event> + Send + use<> {
        futures_util::stream::unfold(self.inner.signals.subscribe(), |mut events| async move {
            loop {
                match events.recv().await {
                    Ok(event) => return Some((event, events)),
                    // The follower reloads on its own timer too.
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a follower skipped signals");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// How many subscriptions on this instance are waiting for events.
    pub fn subscriber_count(&self) -> usize {
        self.inner.feed.sender.receiver_count()
    }

    /// The last feed position this instance delivered (`None` before its first feed read).
    pub fn position(&self) -> Option<FeedCursor> {
        self.inner.feed.position()
    }

    /// Whether this instance delivers events now: its pump knows its position and, on
    /// PostgreSQL, its listener is connected (so delivery is prompt, not only on the timer).
    pub fn is_listening(&self) -> bool {
        *self.inner.listening.borrow() && *self.inner.feed.ready.borrow()
    }

    /// Waits until `is_listening`, at most `timeout`; false if it did not happen in time.
    pub async fn wait_until_listening(&self, timeout: Duration) -> bool {
        let mut listening = self.inner.listening.clone();
        let mut ready = self.inner.feed.ready.subscribe();
        tokio::time::timeout(timeout, async {
            listening.wait_for(|up| *up).await.is_ok() && ready.wait_for(|up| *up).await.is_ok()
        })
        .await
        .unwrap_or(false)
    }
}

/// One subscription's reading of the bus (`EventBus::delivered`).
struct Follower {
    db: DatabaseConnection,
    kind: ChangeKind,
    feed: Arc<Feed>,
    live: broadcast::Receiver<Delivered>,
    /// The last event yielded (or the position started after).
    position: Option<FeedCursor>,
    /// Reading the feed until it has nothing more, before taking live events again.
    catching_up: bool,
    backlog: VecDeque<Delivered>,
}

impl Follower {
    async fn next(&mut self) -> Option<Delivered> {
        loop {
            if let Some(next) = self.backlog.pop_front() {
                self.position = Some(next.cursor);
                return Some(next);
            }
            if self.catching_up {
                let from = self.position.unwrap_or(changes::FeedCursor::START);
                match changes::announced_after(&self.db, from, &[self.kind], PAGE).await {
                    Ok(page) if page.is_empty() => self.catching_up = false,
                    Ok(page) => self.backlog.extend(page.into_iter().map(Delivered::from)),
                    Err(err) => {
                        tracing::warn!(error = ?err, "a subscription cannot read the feed yet; retrying");
                        tokio::time::sleep(RETRY).await;
                    }
                }
                continue;
            }
            match self.live.recv().await {
                Ok(next) => {
                    // At or before the position: already yielded while catching up.
                    let new = self.position.is_none_or(|p| next.cursor > p);
                    if next.kind == self.kind && new {
                        self.position = Some(next.cursor);
                        return Some(next);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::info!(
                        missed,
                        "a slow subscription reads what it missed from the feed"
                    );
                    if self.position.is_none() {
                        self.position = self.feed.position();
                    }
                    self.catching_up = true;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Where the pump reads the feed: a connection of its own, so that its reads never wait
/// behind requests for the pool and never count among a request's statements; an in-memory
/// SQLite database can only be read through the connection that holds it.
enum FeedSource {
    Shared(DatabaseConnection),
    Own(String),
}

impl FeedSource {
    fn new(db: &DatabaseConnection, url: &str) -> FeedSource {
        if url.contains(":memory:") {
            FeedSource::Shared(db.clone())
        } else {
            FeedSource::Own(url.to_owned())
        }
    }

    async fn connect(self, stop: &mut watch::Receiver<()>) -> Option<DatabaseConnection> {
        let url = match self {
            FeedSource::Shared(db) => return Some(db),
            FeedSource::Own(url) => url,
        };
        loop {
            let mut options = sea_orm::ConnectOptions::new(url.clone());
            options
                .max_connections(1)
                .min_connections(0)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(5))
                .sqlx_logging(false);
            match sea_orm::Database::connect(options).await {
                Ok(db) => return Some(db),
                Err(error) => {
                    tracing::warn!(%error, "event feed reader: cannot connect; retrying");
                }
            }
            tokio::select! {
                _ = stop.changed() => return None,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }
}

/// The pump of one instance: learn the feed's end, then deliver whatever the feed holds after
/// the last position delivered, on every wake-up and timer; ends when the bus is dropped.
async fn pump(source: FeedSource, feed: Arc<Feed>, mut stop: watch::Receiver<()>) {
    let Some(db) = source.connect(&mut stop).await else {
        return;
    };
    let mut failing = false;
    let mut quick_until = tokio::time::Instant::now();
    loop {
        let read = match feed.position() {
            None => changes::feed_end(&db).await.map(|end| {
                if let Ok(mut position) = feed.position.lock() {
                    *position = Some(end);
                }
                feed.ready.send_replace(true);
                tracing::debug!(?end, "event feed reader starts");
            }),
            Some(_) => deliver_all(&db, &feed).await,
        };
        match read {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("event feed reader reads again; missed events follow");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(?error, "event feed reader cannot read the feed; retrying");
            }
            Err(_) => {}
        }
        let now = tokio::time::Instant::now();
        let pause = if failing {
            RETRY
        } else if now < quick_until {
            QUICK
        } else {
            SAFETY_NET
        };
        tokio::select! {
            _ = stop.changed() => return,
            () = feed.wake.notified() => {
                quick_until = tokio::time::Instant::now() + QUICK_WINDOW;
            }
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Delivers every announced change after the pump's position, a page at a time.
async fn deliver_all(db: &DatabaseConnection, feed: &Feed) -> crate::error::AppResult<()> {
    loop {
        let from = feed.position().unwrap_or(FeedCursor::START);
        let page = changes::announced_after(db, from, &changes::ANNOUNCED, PAGE).await?;
        let full = page.len() as u64 == PAGE;
        for change in page {
            feed.deliver(change);
        }
        if !full {
            return Ok(());
        }
    }
}

/// The listener task of one instance: connect, LISTEN, wake the pump on every notification and
/// every (re)connection; on any failure wait (doubling from `BACKOFF_FIRST` to `BACKOFF_MAX`,
/// reset once listening again) and start over. Ends when the bus is dropped.
async fn listen(
    url: String,
    feed: Arc<Feed>,
    signals: broadcast::Sender<Event>,
    ready: watch::Sender<bool>,
    mut stop: watch::Receiver<()>,
) {
    let mut delay = BACKOFF_FIRST;
    loop {
        let failure = tokio::select! {
            _ = stop.changed() => return,
            failure = forward(&url, &feed, &signals, &ready, &mut delay) => failure,
        };
        ready.send_replace(false);
        tracing::warn!(
            error = %failure,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "event listener disconnected; events are read from the feed once it is back"
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
    feed: &Feed,
    signals: &broadcast::Sender<Event>,
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
    // What was committed while nobody listened is in the feed.
    feed.wake.notify_one();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                match serde_json::from_str::<Event>(notification.payload()) {
                    Ok(event @ Event::TokensRevoked { .. }) => {
                        let _ = signals.send(event);
                    }
                    Ok(_) => {}
                    // An instance of a newer version may announce events this one does not
                    // know; the feed tells what it created.
                    Err(err) => tracing::debug!(error = %err, "an unknown event"),
                }
                feed.wake.notify_one();
            }
            // `PgListener` has already reconnected and listens again (eager reconnect).
            Ok(None) => {
                tracing::info!(
                    "event listener lost its connection and reconnected; catching up from the feed"
                );
                feed.wake.notify_one();
            }
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
        // What the feed's trigger sends (migration 16).
        let written: Result<Event, _> = serde_json::from_str(r#"{"type":"FEED_WRITTEN"}"#);
        assert_eq!(written.ok(), Some(Event::FeedWritten));
    }

    fn announced(txid: i64, id: i64) -> Announced {
        Announced {
            cursor: FeedCursor { txid, id },
            kind: ChangeKind::Finding,
            record_id: id,
        }
    }

    #[test]
    fn the_pump_delivers_each_position_once_in_order() {
        let feed = Feed::new();
        let (mut before, from) = feed.receiver();
        assert_eq!(from, None);
        feed.deliver(announced(5, 1));
        feed.deliver(announced(5, 2));
        // Read twice (a page overlapping the last): not delivered again.
        feed.deliver(announced(5, 2));
        feed.deliver(announced(4, 9));
        let (mut after, from) = feed.receiver();
        assert_eq!(from, Some(FeedCursor { txid: 5, id: 2 }));
        feed.deliver(announced(7, 3));
        let seen: Vec<i64> = std::iter::from_fn(|| before.try_recv().ok())
            .map(|d| d.record_id)
            .collect();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(after.try_recv().ok().map(|d| d.record_id), Some(3));
        assert!(after.try_recv().is_err());
    }
}
