//! On PostgreSQL: delivery across instances sharing one database, and the listener's
//! reconnection without losing or reordering events.

use std::time::Duration;

use permit_core::auth::Role;
use serde_json::json;

use super::{
    Client, FINDING_RECORDED, FINDING_WITH_CURSOR, finding_after, next_finding, next_findings,
    record_finding, scene,
};
use crate::helpers::TestApp;

/// Two instances on one PostgreSQL database: a finding recorded through A reaches subscribers
/// of B (and of A) within a second, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_events_reach_every_instance_exactly_once() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await,
            "the event listener did not start"
        );
    }
    let scene = scene(&a, "500103", 81).await;
    let token = a.token(Role::Supervisor, None);
    let mut on_b = Client::ready(&b, &token).await;
    let mut on_a = Client::ready(&a, &token).await;
    on_b.subscribe("b", FINDING_RECORDED).await;
    on_a.subscribe("a", FINDING_RECORDED).await;
    b.wait_for_subscribers(1).await;
    a.wait_for_subscribers(1).await;

    let recorded_at = std::time::Instant::now();
    let first = record_finding(&a, &scene).await;
    let got = next_finding(&mut on_b, "b").await;
    assert!(
        recorded_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        recorded_at.elapsed()
    );
    assert_eq!(got["id"], first.as_str());
    assert_eq!(next_finding(&mut on_a, "a").await["id"], first.as_str());
    // Exactly once: the next message on either side is the next finding, recorded through B.
    let second = record_finding(&b, &scene).await;
    assert_eq!(next_finding(&mut on_b, "b").await["id"], second.as_str());
    assert_eq!(next_finding(&mut on_a, "a").await["id"], second.as_str());
    for client in [&mut on_a, &mut on_b] {
        assert!(
            client
                .next_within(Duration::from_millis(300))
                .await
                .is_none()
        );
    }
}

/// The listener reconnects by itself when its connection is killed, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_reconnects_after_losing_its_connection() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );
    let listener_pid = "SELECT COALESCE(MAX(pid), 0)::bigint FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    let before = app.scalar_i64(listener_pid).await;
    assert_ne!(before, 0, "no listening backend");
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend({before})) AS t"
    ))
    .await;
    // A new backend listens, and the bus says so.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = app.scalar_i64(listener_pid).await;
        if now != 0 && now != before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the listener did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );

    let scene = scene(&app, "500105", 91).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client.subscribe("f", FINDING_RECORDED).await;
    app.wait_for_subscribers(1).await;
    let id = record_finding(&app, &scene).await;
    assert_eq!(next_finding(&mut client, "f").await["id"], id.as_str());
}

const BULLETIN_PUBLISHED: &str = "subscription { bulletinPublished { id title kind } }";

/// Two instances on one PostgreSQL database: a bulletin published through A reaches an
/// addressed subscriber on B within a second; a subscriber outside the audience gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulletins_reach_their_audience_on_another_instance() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await
        );
    }
    let mut addressed = Client::ready(&b, &b.token(Role::PermitOfficer, Some("500103"))).await;
    let mut outside = Client::ready(&b, &b.token(Role::PermitOfficer, Some("500112"))).await;
    addressed.subscribe("in", BULLETIN_PUBLISHED).await;
    outside.subscribe("out", BULLETIN_PUBLISHED).await;
    b.wait_for_subscribers(2).await;

    let published_at = std::time::Instant::now();
    let data = a
        .data(
            &a.token(Role::Supervisor, None),
            "mutation { publishBulletin(input: { kind: CAMPAIGN_NOTICE, title: \"专项行动通知\", body: \"请各区县开展自查\", audience: { roles: [PERMIT_OFFICER], districts: [\"500103\"] } }) { id } }",
            json!({}),
        )
        .await;
    let id = data["publishBulletin"]["id"].clone();
    let got = addressed.message().await;
    assert!(
        published_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        published_at.elapsed()
    );
    assert_eq!(got["type"], "next");
    assert_eq!(got["id"], "in");
    assert_eq!(got["payload"]["data"]["bulletinPublished"]["id"], id);
    assert!(
        outside
            .next_within(Duration::from_millis(800))
            .await
            .is_none(),
        "outside the audience"
    );
}

/// Issue 19: a subscriber on A, writes through B before, while and after A's listener backend
/// is terminated (again and again, so some notifications reach nobody). A's subscriber gets
/// every finding once, in commit order; a client that reconnects with `after` gets what it
/// missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_no_event_is_lost_while_the_listener_reconnects() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await
        );
    }
    let scene = scene(&b, "500103", 84).await;
    let token = a.token(Role::Supervisor, None);
    let mut on_a = Client::ready(&a, &token).await;
    on_a.subscribe("a", FINDING_WITH_CURSOR).await;
    a.wait_for_subscribers(1).await;

    let mut recorded = Vec::new();
    for _ in 0..3 {
        recorded.push(record_finding(&b, &scene).await);
    }
    for _ in 0..4 {
        // Terminate every listening backend: both instances' listeners go, and come back.
        a.scalar_i64(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' \
             AND pid <> pg_backend_pid()) AS t",
        )
        .await;
        for _ in 0..2 {
            recorded.push(record_finding(&b, &scene).await);
        }
    }
    for _ in 0..3 {
        recorded.push(record_finding(&b, &scene).await);
    }
    let got = next_findings(&mut on_a, "a", recorded.len()).await;
    let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, recorded, "every finding once, in commit order");
    assert!(
        on_a.next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "more than once"
    );

    // A client that lost its connection after the fifth resumes on the other instance.
    let mut resumed = Client::ready(&b, &token).await;
    resumed.subscribe("r", &finding_after(&got[4].1)).await;
    let rest: Vec<String> = next_findings(&mut resumed, "r", recorded.len() - 5)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(rest, recorded[5..]);
    let live = record_finding(&a, &scene).await;
    assert_eq!(next_findings(&mut resumed, "r", 1).await[0].0, live);
    assert_eq!(next_findings(&mut on_a, "a", 1).await[0].0, live);
}

/// The feed's visibility rule under subscriptions (issue 19): a transaction of this database
/// that took its id before a finding was recorded, and commits after it, is delivered first,
/// not skipped, and holds the later event back until it ends; a transaction of another
/// database on the cluster holds back nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_committer_is_delivered_first_not_skipped() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );
    let scene = scene(&app, "500103", 86).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client.subscribe("f", FINDING_WITH_CURSOR).await;
    app.wait_for_subscribers(1).await;
    let first = record_finding(&app, &scene).await;
    assert_eq!(next_findings(&mut client, "f", 1).await[0].0, first);

    // Another database's open transaction: events here are not held back by it.
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .expect("connect");
    let elsewhere = admin.begin().await.expect("begin elsewhere");
    elsewhere
        .execute_unprepared("SELECT pg_current_xact_id()")
        .await
        .expect("an id elsewhere");
    let second = record_finding(&app, &scene).await;
    let started = std::time::Instant::now();
    assert_eq!(next_findings(&mut client, "f", 1).await[0].0, second);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // A transaction here takes its id, a finding commits after it, then it writes a change
    // (the first finding's creation again) and commits: it sorts first, and nothing is sent
    // before it ends.
    let late = app.db.conn.begin().await.expect("begin");
    late.execute_unprepared("SELECT pg_current_xact_id()")
        .await
        .expect("an id");
    let third = record_finding(&app, &scene).await;
    assert!(
        client
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "delivered past a transaction still running"
    );
    late.execute_unprepared(
        "INSERT INTO change_events (txid, kind, record_id, version, operation, state, \
         district_code, actor_subject, actor_agency, actor_level, request_id, committed_at) \
         SELECT pg_current_xact_id()::text::bigint, kind, record_id, version, operation, state, \
         district_code, actor_subject, actor_agency, actor_level, request_id, committed_at \
         FROM change_events WHERE kind = 'FINDING' ORDER BY id LIMIT 1",
    )
    .await
    .expect("the late change");
    late.commit().await.expect("commit");
    let got = next_findings(&mut client, "f", 2).await;
    assert_eq!(got[0].0, first, "the late committer first");
    assert_eq!(got[1].0, third);
    elsewhere.rollback().await.expect("rollback");
}

/// The feed wakes its readers: a transaction that writes to `change_events` sends PostgreSQL's
/// NOTIFY on the instances' channel when it commits (migration 16), so a mutation sends none of
/// its own after committing; one rolled back sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_feed_write_notifies_on_commit_only() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    let mut listener = sqlx::postgres::PgListener::connect(app.database_url())
        .await
        .expect("a listener");
    listener
        .listen(permit_core::events::CHANNEL)
        .await
        .expect("LISTEN");
    let feed_row = "INSERT INTO change_events (txid, kind, record_id, operation, actor_subject, \
                    actor_level, committed_at) \
                    VALUES (pg_current_xact_id()::text::bigint, 'UNIT', 1, 'UPDATED', 'test', \
                    'MUNICIPAL', now())";
    let rolled_back = app.db.conn.begin().await.expect("begin");
    rolled_back
        .execute_unprepared(feed_row)
        .await
        .expect("a feed row");
    rolled_back.rollback().await.expect("rollback");
    let committed = app.db.conn.begin().await.expect("begin");
    committed
        .execute_unprepared(feed_row)
        .await
        .expect("a feed row");
    committed.commit().await.expect("commit");
    let heard = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification within 5 s")
        .expect("a notification");
    assert_eq!(heard.payload(), r#"{"type":"FEED_WRITTEN"}"#);
    // Only the committed write was heard.
    let more = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(more.is_err(), "a second notification: {more:?}");
}
