//! GraphQL subscriptions over WebSocket: `GET /graphql/ws`, protocol `graphql-transport-ws`
//! (graphql-ws PROTOCOL.md) and no other.
//!
//! The message loop is written here rather than taken from async-graphql's `http::WebSocket`
//! (7.2), which closes with 1002 and 1011 where the protocol asks for 4400, 4401 and 4403, has no
//! initialisation timeout, lets a `subscribe` with an id in use silently replace the first
//! subscription, answers a client's `complete` with another, and accepts the legacy
//! `start`/`stop` messages. Execution is still the schema's (`execute_stream`), under the limits
//! HTTP requests get.
//!
//! - The token is checked at `connection_init` (payload key `authorization`, in any case,
//!   `Bearer <JWT>`) by the same `domain::tokens::authenticate` as HTTP; a missing, bad or revoked one
//!   closes with 4403. The socket closes (4403) when the token expires, at the moment HTTP would
//!   start refusing it (`exp` plus the verification leeway), and when it is revoked.
//! - Each subscription runs like an HTTP request: its own `RequestData` carrying the principal,
//!   and its own loader, cache off so that nothing read for one event is served for a later one;
//!   the personal data it sends is audited as HTTP audits it.
//! - Only subscriptions: queries and mutations belong to `POST /graphql`, where the
//!   GraphQL-over-HTTP rules and the per-request audit apply.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseReason, ProtocolError, Session};
use async_graphql::parser::types::OperationType;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tracing::Instrument;

use crate::graphql::RequestData;
use crate::http::{AppState, request_id};
use crate::pipeline::{self, Operation, Refusal};
use permit_core::auth::keys::{LEEWAY_SECONDS, VerifiedToken};
use permit_core::auth::{Principal, bearer_token};
use permit_core::error::{AppError, ErrorCode};

/// The one subprotocol spoken here (CONTRACT).
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Close codes of graphql-ws PROTOCOL.md.
mod code {
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    /// RFC 6455: a frame or message larger than we accept.
    pub const TOO_BIG: u16 = 1009;
    /// RFC 6455: a broken WebSocket frame.
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const NORMAL: u16 = 1000;
    /// RFC 6455: the server is going away (shutting down).
    pub const GOING_AWAY: u16 = 1001;
}

/// Per-connection settings (tests shorten the timeout).
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// How long a client has after connecting to send an acceptable `connection_init`.
    pub init_timeout: Duration,
    /// Most subscriptions one connection may run at once; each one costs a read per event.
    pub max_subscriptions: usize,
    /// Most subscriptions one subject may run at once on this instance, over all its
    /// connections (opening more connections does not lift the cap).
    pub max_subscriptions_per_subject: usize,
    /// The instance's count of open subscriptions per subject.
    pub open_per_subject: Arc<SubjectSubscriptions>,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            max_subscriptions: 100,
            max_subscriptions_per_subject: 200,
            open_per_subject: Arc::default(),
        }
    }
}

/// Open subscriptions per subject on one instance.
#[derive(Debug, Default)]
pub struct SubjectSubscriptions(std::sync::Mutex<std::collections::HashMap<String, usize>>);

impl SubjectSubscriptions {
    /// A slot for one more subscription of `subject`, or `None` when it has `max` open.
    fn take(self: &Arc<Self>, subject: &str, max: usize) -> Option<SubjectSlot> {
        let mut counts = self.0.lock().ok()?;
        let count = counts.entry(subject.to_owned()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SubjectSlot {
            counts: self.clone(),
            subject: subject.to_owned(),
        })
    }
}

/// One open subscription of a subject; dropping it (the subscription ended) frees the slot.
struct SubjectSlot {
    counts: Arc<SubjectSubscriptions>,
    subject: String,
}

impl Drop for SubjectSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.0.lock()
            && let Some(count) = counts.get_mut(&self.subject)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.subject);
            }
        }
    }
}

/// `GET /graphql/ws`: upgrades, then runs the connection on the worker that accepted it.
pub async fn graphql_ws(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    // Opening a connection counts against the client address's rate limit, like a request.
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if let Err(refusal) = pipeline::admit_address(&state, &address) {
        let wait = refusal.retry_after.map_or(1, pipeline::whole_seconds);
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, wait.to_string()))
            .content_type("application/json")
            .body(
                serde_json::json!({ "errors": [{ "message": refusal.message,
                    "extensions": { "code": refusal.code.as_str() } }] })
                .to_string(),
            ));
    }
    let (response, session, messages) = actix_ws::handle_with_protocols(&req, body, &[PROTOCOL])?;
    // The same cap as an HTTP body: a subscribe message is a GraphQL request.
    let max = state.limits.max_body_bytes;
    let messages = messages
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    // The handshake names the subprotocol only when the client offered ours.
    let agreed = response
        .headers()
        .contains_key(header::SEC_WEBSOCKET_PROTOCOL);
    let state = state.into_inner();
    let connection_id = request_id();
    let span = tracing::info_span!("ws", connection = %connection_id);
    actix_web::rt::spawn(
        async move {
            if agreed {
                Connection::new(state, session).run(messages).await;
            } else {
                let _ = session
                    .close(Some(close_reason(
                        code::SUBPROTOCOL_NOT_ACCEPTABLE,
                        "Subprotocol not acceptable",
                    )))
                    .await;
            }
        }
        .instrument(span),
    );
    Ok(response)
}

/// Client → server messages. Anything else, including the legacy `start`/`stop`, is 4400.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    /// Absent when a persisted operation is named by its hash (`extensions.persistedQuery`).
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, Value>>,
}

/// Why the loop stops: close with a code and reason, or the client is already gone.
enum Stop {
    Close(u16, String),
    Gone,
}

impl From<actix_ws::Closed> for Stop {
    fn from(_: actix_ws::Closed) -> Self {
        Stop::Gone
    }
}

/// One subscription's request state, kept for the audit of what it sends.
/// A subscribe message the pipeline accepted, ready to run.
struct Accepted {
    request: async_graphql::Request,
    data: Arc<RequestData>,
    /// Tagged with the request id and operation label (the audit trail's).
    principal: Principal,
    slot: SubjectSlot,
}

struct Running {
    data: Arc<RequestData>,
    principal: Principal,
    /// Counts the subscription in `/metrics` while it runs, and logs it when it ends.
    open: crate::metrics::SubscriptionGuard,
    /// Its place under the subject's cap, freed when it ends.
    _slot: SubjectSlot,
}

/// An execution's output, then `None` once it has finished.
type Results = BoxStream<'static, Option<async_graphql::Response>>;

struct Connection {
    state: Arc<AppState>,
    session: Session,
    /// Set by an accepted `connection_init`; until then only `connection_init` and pings count.
    principal: Option<Principal>,
    init_deadline: Instant,
    /// When the token stops being valid (set with `principal`).
    expires: Option<Instant>,
    /// The accepted token, re-checked whenever the revocation list changes.
    token: Option<VerifiedToken>,
    executions: StreamMap<String, Results>,
    running: HashMap<String, Running>,
}

impl Connection {
    fn new(state: Arc<AppState>, session: Session) -> Self {
        let init_deadline = Instant::now() + state.ws.init_timeout;
        Self {
            state,
            session,
            principal: None,
            init_deadline,
            expires: None,
            token: None,
            executions: StreamMap::new(),
            running: HashMap::new(),
        }
    }

    async fn run(mut self, mut messages: AggregatedMessageStream) {
        // Server shutdown (`server::Shutdown`): close with 1001 rather than drop the socket.
        let mut stopping = self.state.stopping.clone();
        let mut revocations = self.state.revocations.changes();
        let stop = loop {
            let init_deadline = self.principal.is_none().then_some(self.init_deadline);
            let expires = self.expires;
            let step = tokio::select! {
                message = messages.recv() => self.on_frame(message).await,
                Some((id, result)) = self.executions.next() => self.on_result(id, result).await,
                () = at(init_deadline) => Err(Stop::Close(
                    code::INIT_TIMEOUT,
                    "Connection initialisation timeout".to_owned(),
                )),
                () = at(expires) => Err(Stop::Close(
                    code::FORBIDDEN,
                    "Forbidden: token expired".to_owned(),
                )),
                Ok(()) = revocations.changed() => self.recheck_token(),
                Ok(_) = stopping.wait_for(|stopping| *stopping) => Err(Stop::Close(
                    code::GOING_AWAY,
                    "Server shutting down".to_owned(),
                )),
            };
            if let Err(stop) = step {
                break stop;
            }
        };
        // Dropping the executions unsubscribes them from the event bus.
        self.executions = StreamMap::new();
        if let Stop::Close(code, reason) = stop {
            tracing::debug!(code, %reason, "closing");
            let _ = self.session.close(Some(close_reason(code, &reason))).await;
        }
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<AggregatedMessage, ProtocolError>>,
    ) -> Result<(), Stop> {
        match frame {
            None => Err(Stop::Gone),
            Some(Ok(AggregatedMessage::Text(text))) => self.on_message(text.as_bytes()).await,
            Some(Ok(AggregatedMessage::Binary(bytes))) => self.on_message(&bytes).await,
            Some(Ok(AggregatedMessage::Ping(bytes))) => Ok(self.session.pong(&bytes).await?),
            Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
            Some(Ok(AggregatedMessage::Close(_))) => Err(Stop::Close(code::NORMAL, String::new())),
            Some(Err(ProtocolError::Overflow)) => {
                Err(Stop::Close(code::TOO_BIG, "message too big".to_owned()))
            }
            Some(Err(err)) => {
                tracing::debug!(error = %err, "websocket protocol error");
                Err(Stop::Close(
                    code::PROTOCOL_ERROR,
                    "websocket protocol error".to_owned(),
                ))
            }
        }
    }

    async fn on_message(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let message: ClientMessage = serde_json::from_slice(bytes).map_err(|err| {
            Stop::Close(
                code::BAD_REQUEST,
                format!("Invalid message received: {err}"),
            )
        })?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.principal.is_some() {
                    return Err(Stop::Close(
                        code::TOO_MANY_INITS,
                        "Too many initialisation requests".to_owned(),
                    ));
                }
                let (token, expires) = self.authenticate(payload).await?;
                let principal = token.principal.clone();
                self.token = Some(token);
                tracing::debug!(
                    subject = %principal.subject,
                    role = principal.role.as_str(),
                    "connection acknowledged"
                );
                self.principal = Some(principal);
                self.expires = Some(expires);
                self.send(json!({ "type": "connection_ack" })).await
            }
            ClientMessage::Ping { payload } => {
                let pong = match payload {
                    Some(payload) => json!({ "type": "pong", "payload": payload }),
                    None => json!({ "type": "pong" }),
                };
                self.send(pong).await
            }
            ClientMessage::Pong {} => Ok(()),
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, payload).await,
            ClientMessage::Complete { id } => {
                // The client stopped listening: nothing more for this id, not even `complete`.
                self.executions.remove(&id);
                self.running.remove(&id);
                Ok(())
            }
        }
    }

    /// The token and the moment it expires, from a `connection_init` payload.
    async fn authenticate(&self, payload: Option<Value>) -> Result<(VerifiedToken, Instant), Stop> {
        let refuse = |reason: &str| Stop::Close(code::FORBIDDEN, format!("Forbidden: {reason}"));
        let payload = match payload {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(payload)) => payload,
            Some(_) => {
                return Err(Stop::Close(
                    code::BAD_REQUEST,
                    "Invalid message received: the connection_init payload must be an object"
                        .to_owned(),
                ));
            }
        };
        let value = payload
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value)
            .ok_or_else(|| refuse("send the token as {\"authorization\": \"Bearer <token>\"}"))?;
        let token = value
            .as_str()
            .and_then(bearer_token)
            .ok_or_else(|| refuse("expected 'Bearer <token>'"))?;
        let verified = self
            .state
            .authenticate(token)
            .await
            .map_err(|err| match &err {
                AppError::Unauthenticated(reason) => refuse(reason),
                _ => refuse("the token cannot be checked now; retry later"),
            })?;
        let valid_for = verified
            .expires_at
            .saturating_add(i64::try_from(LEEWAY_SECONDS).unwrap_or(0))
            .saturating_sub(chrono::Utc::now().timestamp());
        let valid_for = Duration::from_secs(u64::try_from(valid_for).unwrap_or(0));
        Ok((verified, Instant::now() + valid_for))
    }

    /// After the revocation list changed: close (4403) if this connection's token is now revoked.
    fn recheck_token(&self) -> Result<(), Stop> {
        match &self.token {
            Some(token) if self.state.revocations.is_revoked(token) => Err(Stop::Close(
                code::FORBIDDEN,
                "Forbidden: token revoked".to_owned(),
            )),
            _ => Ok(()),
        }
    }

    async fn subscribe(&mut self, id: String, payload: SubscribePayload) -> Result<(), Stop> {
        let Some(principal) = &self.principal else {
            return Err(Stop::Close(code::UNAUTHORIZED, "Unauthorized".to_owned()));
        };
        if id.is_empty() {
            return Err(Stop::Close(
                code::BAD_REQUEST,
                "Invalid message received: empty id".to_owned(),
            ));
        }
        if self.executions.contains_key(&id) {
            return Err(Stop::Close(
                code::SUBSCRIBER_EXISTS,
                format!("Subscriber for {id} already exists"),
            ));
        }
        let request_id = request_id();
        match self.prepare(principal, payload, &request_id) {
            Ok(accepted) => {
                self.start(id, accepted);
                Ok(())
            }
            Err(refusal) => self.send_refusal(&id, &refusal, &request_id).await,
        }
    }

    /// A subscribe message through the request pipeline, with the WebSocket's own limits
    /// (subscriptions per connection and per subject) and only subscriptions accepted.
    fn prepare(
        &self,
        principal: &Principal,
        payload: SubscribePayload,
        request_id: &str,
    ) -> Result<Accepted, Refusal> {
        // Subscribing is a request like any other: the subject's rate limit applies.
        pipeline::admit_subject(&self.state, principal)
            .map_err(|_| Refusal::rate_limited("too many requests; retry later", None))?;
        if self.executions.len() >= self.state.ws.max_subscriptions {
            let max = self.state.ws.max_subscriptions;
            let message = format!("at most {max} subscriptions per connection");
            return Err(Refusal::rate_limited(message, None));
        }
        let max_per_subject = self.state.ws.max_subscriptions_per_subject;
        let Some(slot) = self
            .state
            .ws
            .open_per_subject
            .take(&principal.subject, max_per_subject)
        else {
            let message = format!("at most {max_per_subject} subscriptions per subject");
            return Err(Refusal::rate_limited(message, None));
        };
        let operation = Operation {
            query: payload.query,
            operation_name: payload.operation_name,
            variables: payload.variables.unwrap_or_default(),
            extensions: payload.extensions.unwrap_or_default(),
        };
        let checked = pipeline::check(&self.state, Some(principal), operation)?;
        if checked
            .kind()
            .is_some_and(|kind| kind != OperationType::Subscription)
        {
            return Err(Refusal::new(
                ErrorCode::BadUserInput,
                "only subscriptions are served here: send queries and mutations to POST /graphql",
            ));
        }
        tracing::debug!(%request_id, operation = ?checked.label(), "subscribe");
        // A subscription lives for hours: every event reads afresh (no loader cache).
        let (request, data) = pipeline::request(
            &self.state,
            Some(principal.clone()),
            request_id,
            checked,
            false,
        )?;
        let principal = data.principal.clone().unwrap_or_else(|| principal.clone());
        Ok(Accepted {
            request,
            data,
            principal,
            slot,
        })
    }

    /// Runs an accepted subscription: its results join the connection's streams.
    fn start(&mut self, id: String, accepted: Accepted) {
        let Accepted {
            request,
            data,
            principal,
            slot,
        } = accepted;
        let open = self.state.metrics.subscription_opened(&principal);
        let results = open
            .track(self.state.schema.subscribe(request))
            .map(Some)
            .chain(futures_util::stream::once(std::future::ready(None)))
            .boxed();
        self.executions.insert(id.clone(), results);
        self.running.insert(
            id,
            Running {
                data,
                principal,
                open,
                _slot: slot,
            },
        );
    }

    async fn on_result(
        &mut self,
        id: String,
        result: Option<async_graphql::Response>,
    ) -> Result<(), Stop> {
        let Some(mut response) = result else {
            // Removed now, not when the map next polls the ended stream: the id is free again.
            self.executions.remove(&id);
            self.running.remove(&id);
            return self.send(json!({ "type": "complete", "id": id })).await;
        };
        let request_id = self
            .running
            .get(&id)
            .and_then(|r| r.principal.request.request_id.clone())
            .unwrap_or_default();
        pipeline::finish_errors(&mut response.errors, &request_id);
        if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
            // Refused (parse, validation, limits, FORBIDDEN) or failed: the protocol's `error`
            // ends the operation, with no `complete` after it.
            self.executions.remove(&id);
            if let Some(mut running) = self.running.remove(&id) {
                running.open.set_outcome(&response.errors);
            }
            let errors = serde_json::to_value(&response.errors).unwrap_or_default();
            return self
                .send(json!({ "type": "error", "id": id, "payload": errors }))
                .await;
        }
        let payload = serde_json::to_value(&response).unwrap_or_default();
        self.send(json!({ "type": "next", "id": id, "payload": payload }))
            .await?;
        self.audit_personal_reads(&id).await;
        Ok(())
    }

    /// Ends one operation with an `error` message that never reached execution.
    /// A subscription refused before it ran: an `error` message (graphql-transport-ws), whose
    /// code comes from the core's table.
    async fn send_refusal(
        &mut self,
        id: &str,
        refusal: &Refusal,
        request_id: &str,
    ) -> Result<(), Stop> {
        let mut extensions = json!({ "code": refusal.code.as_str(), "requestId": request_id });
        if let Some(field) = &refusal.field {
            extensions["field"] = json!(field);
        }
        self.send(json!({ "type": "error", "id": id, "payload": [{
            "message": refusal.message,
            "extensions": extensions,
        }] }))
        .await
    }

    /// Writes one audit row for the personal data an event carried, as HTTP does per request.
    async fn audit_personal_reads(&self, id: &str) {
        let Some(running) = self.running.get(id) else {
            return;
        };
        running.data.audit_personal_reads(&self.state.db.conn).await;
    }

    async fn send(&mut self, message: Value) -> Result<(), Stop> {
        Ok(self.session.text(message.to_string()).await?)
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// A close frame; its reason is cut to the 123 bytes a control frame can carry.
fn close_reason(code: u16, reason: &str) -> CloseReason {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseReason {
        code: code.into(),
        description: (end > 0).then(|| reason[..end].to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "禁".repeat(100);
        let reason = close_reason(4400, &long);
        let description = reason.description.unwrap_or_default();
        assert!(description.len() <= 123);
        assert!(long.starts_with(&description));
    }
}
