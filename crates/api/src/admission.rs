//! Admission to execution: how many GraphQL requests run at once, and how much they may hold
//! together. Memory under load is what executing requests hold (rows, the answer's values, the
//! serialised body), and that grows with a request's static cost (`graphql::cost`), not with
//! the number of requests: sixteen pages of a hundred nested rows hold far more than sixteen
//! look-ups. So a turn takes a count permit (`LIMIT_CONCURRENT_REQUESTS`) and as many cost
//! permits as the request's cost (`LIMIT_CONCURRENT_COST`); heavy requests beyond the budget
//! wait while light ones still fit. Both queues are FIFO, so a heavy request is not starved by
//! a stream of light ones.
//!
//! A request waiting for its turn holds its parsed document, so that what waiting costs does
//! not grow with the number of connections, only `LIMIT_WAITING_REQUESTS` wait parsed; the rest
//! wait before they are parsed (`enter`), holding only their connection and body.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The two budgets of one instance.
#[derive(Clone)]
pub struct Admission {
    waiting: Arc<Semaphore>,
    requests: Arc<Semaphore>,
    cost: Arc<Semaphore>,
    cost_budget: u32,
}

/// A request's place among those parsed and waiting, given up when it gets its turn.
pub struct Entry {
    _place: OwnedSemaphorePermit,
}

/// A request's turn: both permits, released when it is dropped (the answer sent or abandoned).
pub struct Turn {
    _request: OwnedSemaphorePermit,
    _cost: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(max_waiting: usize, max_requests: usize, cost_budget: usize) -> Self {
        // A semaphore counts in u32; a budget beyond that is no budget.
        let cost_budget = u32::try_from(cost_budget.max(1)).unwrap_or(u32::MAX);
        Self {
            waiting: Arc::new(Semaphore::new(max_waiting.max(1))),
            requests: Arc::new(Semaphore::new(max_requests.max(1))),
            cost: Arc::new(Semaphore::new(cost_budget as usize)),
            cost_budget,
        }
    }

    /// Waits for a place among the requests parsed and waiting, before parsing. `None` only if
    /// the semaphore was closed (never).
    pub async fn enter(&self) -> Option<Entry> {
        Arc::clone(&self.waiting)
            .acquire_owned()
            .await
            .ok()
            .map(|place| Entry { _place: place })
    }

    /// Waits for a turn for a request of this static cost, giving up its place among the
    /// waiting once it has the turn. A request costing more than the
    /// whole budget (possible only when `LIMIT_MAX_COST` is above `LIMIT_CONCURRENT_COST`) runs
    /// alone rather than never. Every request weighs at least 1, so introspection and documents
    /// whose cost could not be computed are still counted. `None` only if the semaphores were
    /// closed, which nothing does; the caller answers it as unavailable rather than panic.
    pub async fn turn(&self, entry: Entry, cost: usize) -> Option<Turn> {
        let weight = u32::try_from(cost.max(1))
            .unwrap_or(u32::MAX)
            .min(self.cost_budget);
        // The count first: a request holds no cost permits while it waits for a slot, so
        // the budget is not reserved by requests that cannot run yet.
        let request = Arc::clone(&self.requests).acquire_owned().await;
        let cost = Arc::clone(&self.cost).acquire_many_owned(weight).await;
        drop(entry);
        Some(Turn {
            _request: request.ok()?,
            _cost: cost.ok()?,
        })
    }

    /// Cost permits free now (for metrics and tests).
    pub fn cost_available(&self) -> usize {
        self.cost.available_permits()
    }

    /// Places among the parsed and waiting free now (for metrics and tests).
    pub fn waiting_available(&self) -> usize {
        self.waiting.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn turn(admission: &Admission, cost: usize) -> Option<Turn> {
        let entry = admission.enter().await?;
        admission.turn(entry, cost).await
    }

    async fn soon<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::time::timeout(Duration::from_millis(50), future)
            .await
            .ok()
    }

    #[tokio::test]
    async fn heavy_requests_beyond_the_cost_budget_wait_and_light_ones_pass() {
        let admission = Admission::new(64, 16, 1000);
        let heavy = turn(&admission, 800).await.expect("open");
        assert_eq!(admission.cost_available(), 200);
        // A second heavy request does not fit next to the first: it waits.
        let waiting = soon(turn(&admission, 800)).await;
        assert!(
            waiting.is_none(),
            "a heavy request beyond the budget must wait"
        );
        // A light one fits beside the heavy one.
        let light = soon(turn(&admission, 100)).await;
        assert!(
            light.is_some(),
            "a light request within the budget must pass"
        );
        drop(light);
        drop(heavy);
        // Once the first is done, the next heavy one runs.
        assert!(soon(turn(&admission, 800)).await.is_some());
    }

    #[tokio::test]
    async fn a_request_over_the_whole_budget_runs_alone() {
        let admission = Admission::new(4, 4, 100);
        let alone = soon(turn(&admission, 5000)).await;
        assert!(
            alone.is_some(),
            "a request costing more than the budget must not wait forever"
        );
        assert_eq!(admission.cost_available(), 0);
    }

    #[tokio::test]
    async fn the_count_limit_holds_for_cheap_requests() {
        let admission = Admission::new(64, 2, 1_000_000);
        let _a = turn(&admission, 1).await.expect("open");
        let _b = turn(&admission, 1).await.expect("open");
        assert!(
            soon(turn(&admission, 1)).await.is_none(),
            "only LIMIT_CONCURRENT_REQUESTS run at once"
        );
    }

    #[tokio::test]
    async fn only_so_many_wait_parsed_and_a_turn_frees_the_place() {
        let admission = Admission::new(2, 1, 1_000_000);
        let running = turn(&admission, 1).await.expect("open");
        // The one running gave its place up: two may wait parsed, a third waits unparsed.
        let first = admission.enter().await.expect("open");
        let _second = admission.enter().await.expect("open");
        assert_eq!(admission.waiting_available(), 0);
        assert!(
            soon(admission.enter()).await.is_none(),
            "the third waits unparsed"
        );
        drop(running);
        // The first waiting gets the turn and with it gives its place to the next.
        let _next_turn = soon(admission.turn(first, 1))
            .await
            .flatten()
            .expect("a turn");
        assert_eq!(admission.waiting_available(), 1);
    }
}
