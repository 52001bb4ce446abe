//! The HJ 212 TCP listener: monitors connect, send packets, and get the standard's answers.
//!
//! Robust against what a field network sends: garbage and damaged packets are refused one by
//! one without losing the good ones around them (`codec::Framer`), a connection holds at most
//! one packet's worth of bytes in progress, a connection that sends nothing for the read
//! timeout is closed, and connections beyond the maximum are closed at once. Packets of one
//! connection are taken in order; each is counted in the instance's metrics.

use std::net::SocketAddr;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::codec::Framer;
use super::intake::{self, Refusal};
use crate::config::Hj212Config;
use crate::metrics::Metrics;
use permit_core::events::{Event, EventBus};

/// Binds the listener (synchronously, so a bad address stops start-up) and serves it until
/// `stopping` turns true. Returns the bound address.
pub fn start(
    config: &Hj212Config,
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    events: EventBus,
    stopping: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind(&config.bind)?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let config = config.clone();
    tokio::spawn(async move {
        let listener = match TcpListener::from_std(std_listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "HJ 212 listener could not start");
                return;
            }
        };
        tracing::info!(%addr, "HJ 212 listener ready");
        serve(listener, config, db, metrics, events, stopping).await;
    });
    Ok(addr)
}

async fn serve(
    listener: TcpListener,
    config: Hj212Config,
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    events: EventBus,
    mut stopping: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "HJ 212 accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        // Answers are small and each is awaited by its station: sent at once, not held back
        // for the station's delayed ACK (Nagle). A socket that refuses the option still works.
        let _ = stream.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "HJ 212 connection refused: too many open");
            drop(stream);
            continue;
        };
        let (db, metrics, events, timeout, stopping) = (
            db.clone(),
            metrics.clone(),
            events.clone(),
            config.read_timeout,
            stopping.clone(),
        );
        tokio::spawn(async move {
            metrics.hj212_connections(1);
            connection(stream, &db, &metrics, &events, timeout, stopping).await;
            metrics.hj212_connections(-1);
            drop(permit);
        });
    }
}

/// One monitor's connection: read, cut into packets, take each, answer when asked.
async fn connection(
    mut stream: TcpStream,
    db: &DatabaseConnection,
    metrics: &Metrics,
    events: &EventBus,
    timeout: std::time::Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut framer = Framer::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::select! {
            read = tokio::time::timeout(timeout, stream.read(&mut buffer)) => read,
            _ = stopping.changed() => return,
        };
        let n = match read {
            Ok(Ok(0)) | Err(_) => return, // closed, or silent past the timeout
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return,
        };
        for frame in framer.push(&buffer[..n]) {
            let outcome = match frame {
                Ok(segment) => intake::accept(db, &segment).await,
                Err(e) => Err(Refusal::Frame(e)),
            };
            intake::count(Some(metrics), &outcome);
            if let Ok(accepted) = &outcome
                && accepted.recorded.candidates > 0
            {
                events
                    .publish(Event::CandidatesDetected {
                        count: accepted.recorded.candidates,
                    })
                    .await;
            }
            if let Ok(accepted) = outcome
                && let Some(answer) = accepted.answer
                && stream.write_all(answer.as_bytes()).await.is_err()
            {
                return;
            }
        }
    }
}
