//! The GraphQL layer: schema building (limits), one module per concept mirroring `domain/`,
//! DataLoaders and connection helpers. Resolvers are a few lines: parse, call domain, map.

pub mod campaigns;
pub mod connection;
pub mod cost;
pub mod enforcement;
pub mod enums;
pub mod error;
pub mod history;
pub mod ids;
pub mod liaison;
pub mod loaders;
pub mod monitoring;
pub mod permits;
pub mod plain;
pub mod planning;
pub mod reference;
pub mod subscriptions;
pub mod time;
pub mod tokens;
pub mod units;
pub mod validated;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::{Context, MergedObject, Schema};
use sea_orm::DatabaseConnection;

use loaders::DbLoader;
use permit_core::auth::Principal;
use permit_core::events::EventBus;

/// The reads. Text arguments and input fields (README, limits): one-line text (names, codes,
/// addresses, filters, ids) takes no control characters and at most 1000 characters (default of
/// `LIMIT_MAX_LINE_CHARS`); free text (`answer`, `body`, `description`, `note`, `notes`,
/// `positiveListReason`, `reason`, `recommendationText`) takes tab and line breaks and at most
/// 20000 characters (default of `LIMIT_MAX_TEXT_CHARS`). Anything else is `BAD_USER_INPUT`
/// naming the field; a field's own maximum, where it has one, is stricter.
#[derive(MergedObject, Default)]
pub struct Query(
    reference::ReferenceQuery,
    units::UnitQuery,
    permits::PermitQuery,
    enforcement::EnforcementQuery,
    campaigns::CampaignQuery,
    history::HistoryQuery,
    liaison::LiaisonQuery,
    monitoring::MonitoringQuery,
    monitoring::CandidateQuery,
);

/// The writes. Text arguments and input fields (README, limits): one-line text (names, codes,
/// addresses, filters, ids) takes no control characters and at most 1000 characters (default of
/// `LIMIT_MAX_LINE_CHARS`); free text (`answer`, `body`, `description`, `note`, `notes`,
/// `positiveListReason`, `reason`, `recommendationText`) takes tab and line breaks and at most
/// 20000 characters (default of `LIMIT_MAX_TEXT_CHARS`). Anything else is `BAD_USER_INPUT`
/// naming the field; a field's own maximum, where it has one, is stricter.
#[derive(MergedObject, Default)]
pub struct Mutation(
    units::UnitMutation,
    permits::PermitMutation,
    enforcement::EnforcementMutation,
    campaigns::CampaignMutation,
    liaison::LiaisonMutation,
    tokens::TokenMutation,
    monitoring::MonitoringMutation,
    monitoring::CandidateMutation,
    monitoring::ReportMutation,
);

pub use subscriptions::Subscription;
pub use validated::ValidatedSchema;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Per-request data the resolvers read.
pub struct RequestData {
    pub principal: Option<Principal>,
    /// Units whose personal data this request returned, for the audit trail.
    pub personal_reads: std::sync::Mutex<std::collections::BTreeSet<i64>>,
}

impl RequestData {
    pub fn new(principal: Option<Principal>) -> Self {
        Self {
            principal,
            personal_reads: Default::default(),
        }
    }

    /// The unit ids whose personal data was read, drained.
    pub fn take_personal_reads(&self) -> Vec<i64> {
        match self.personal_reads.lock() {
            Ok(mut set) => std::mem::take(&mut *set).into_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The read audit, one pipeline step for HTTP requests and subscription events alike: a
    /// READ_PERSONAL_DATA row naming the units whose personal data went out since the last call.
    pub async fn audit_personal_reads(&self, db: &DatabaseConnection) {
        let ids = self.take_personal_reads();
        let Some(principal) = &self.principal else {
            return;
        };
        if ids.is_empty() {
            return;
        }
        if let Err(err) = permit_core::domain::changes::audit(
            db,
            principal,
            "READ_PERSONAL_DATA",
            Some(permit_core::domain::changes::ChangeKind::Unit),
            &ids,
        )
        .await
        {
            tracing::error!(error = ?err, "could not audit a read of personal data");
        }
    }
}

/// The schema with its shared data: the connection pool, and the event bus that mutations
/// publish to and subscriptions listen on; behind its validation gate (`validated`).
/// The document limits (depth, cost, size) are checked before execution, in `limits` and
/// `cost`, not by the executor.
pub fn build_schema(
    db: DatabaseConnection,
    events: EventBus,
    revocations: permit_core::auth::revocation::Revocations,
    reference: std::sync::Arc<permit_core::domain::reference::ReferenceCache>,
) -> ValidatedSchema {
    let schema = Schema::build(Query::default(), Mutation::default(), Subscription)
        .data(db)
        .data(reference)
        .data(events)
        .data(revocations)
        // The depth limit is `limits::check_document`'s, which leaves introspection out.
        // Suggestions would map the schema for callers who may not introspect it.
        .disable_suggestions()
        // Cost is checked before execution by `cost::check`, from the schema's own shapes.
        // Full validation is the gate's, once per kind of request.
        .validation_mode(async_graphql::ValidationMode::Fast)
        .finish();
    // Validates in full and stops; needs no data, and resolves nothing.
    let validator = Schema::build(Query::default(), Mutation::default(), Subscription)
        .disable_suggestions()
        .extension(validated::StopAfterValidation)
        .finish();
    ValidatedSchema::new(schema, validator)
}

/// The schema without data, for printing the SDL.
pub fn sdl() -> String {
    let sdl = Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .sorted_fields()
                .sorted_enum_items(),
        );
    // async-graphql's export leaves out a scalar's `@specifiedBy`, which introspection does
    // report: put it back so the SDL is what clients see (`.ci/clients` compares the two).
    const SPECIFIED_BY: [(&str, &str); 2] = [
        ("DateTime", time::SPECIFIED_BY),
        // async-graphql's own `Upload` scalar.
        (
            "Upload",
            "https://github.com/jaydenseric/graphql-multipart-request-spec",
        ),
    ];
    SPECIFIED_BY.iter().fold(sdl, |sdl, (scalar, url)| {
        sdl.replace(
            &format!("scalar {scalar}\n"),
            &format!("scalar {scalar} @specifiedBy(url: \"{url}\")\n"),
        )
    })
}

/// How long a loader collects keys before it queries: long enough that the fields of a 100-item
/// page, resolved in one pass, land in one batch. Debug builds resolve several times slower, so
/// they wait longer (tests count statements on debug builds).
const LOADER_BATCH_DELAY: std::time::Duration = if cfg!(debug_assertions) {
    std::time::Duration::from_millis(10)
} else {
    std::time::Duration::from_millis(2)
};

/// Per-request loader, carrying the principal so batched reads are scoped. Its cache lives as
/// long as the request, so a permit's limits read by `Permit.limits` and `Outlet.limits` cost one
/// statement, and no answer outlives the request that read it.
pub fn request_loader(
    db: DatabaseConnection,
    principal: Option<Principal>,
) -> DataLoader<DbLoader, HashMapCache> {
    DataLoader::with_cache(
        DbLoader { db, principal },
        // Batches count their statements to the request that asked (access log).
        permit_core::db::spawn_counted,
        HashMapCache::default(),
    )
    .delay(LOADER_BATCH_DELAY)
}

pub(crate) fn principal<'a>(ctx: &'a Context<'_>) -> Option<&'a Principal> {
    ctx.data_opt::<std::sync::Arc<RequestData>>()
        .and_then(|d| d.principal.as_ref())
}

pub(crate) fn db<'a>(ctx: &'a Context<'_>) -> error::Result<&'a DatabaseConnection> {
    Ok(ctx.data::<DatabaseConnection>()?)
}

/// Districts, agencies and violation codes, from the instance's copy.
pub(crate) async fn reference_data<'a>(
    ctx: &'a Context<'_>,
) -> error::Result<&'a permit_core::domain::reference::ReferenceData> {
    let cache = ctx.data::<std::sync::Arc<permit_core::domain::reference::ReferenceCache>>()?;
    // Boxed: a first read loads the tables, a large future that would otherwise size every
    // field future of the objects with a district, agency or code field (see `load_one`).
    Ok(Box::pin(cache.get(db(ctx)?)).await?)
}

/// One value through the request's loader. Boxed: a loader's future is large, and every field
/// future of an object is as large as its largest field's, so one loader call held inline would
/// make each field of each row costlier to allocate and to move (measured with perf on Q2).
pub(crate) async fn load_one<K>(
    ctx: &Context<'_>,
    key: K,
) -> error::Result<Option<<DbLoader as async_graphql::dataloader::Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: async_graphql::dataloader::Loader<K, Error = loaders::LoadError>,
{
    let loader = loader(ctx)?;
    Ok(Box::pin(loader.load_one(key))
        .await
        .map_err(permit_core::error::AppError::from)?)
}

pub(crate) fn loader<'a>(
    ctx: &'a Context<'_>,
) -> error::Result<&'a DataLoader<DbLoader, HashMapCache>> {
    Ok(ctx.data::<DataLoader<DbLoader, HashMapCache>>()?)
}
