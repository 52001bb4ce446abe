//! Inspectors (执法人员): the register, declared conflicts of interest (回避), and the list.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;

use super::INSPECTOR;
use crate::graphql::connection::{self, Conn};
use crate::graphql::error::Result;
use crate::graphql::reference::{Agency, load_agency};
use crate::graphql::units::UNIT;
use crate::graphql::{self, ids};
use entity::inspectors as inspector_rows;
use permit_core::domain::inspectors;

/// An enforcement officer (执法人员) with an enforcement certificate.
pub struct Inspector(pub inspector_rows::Model);

#[Object]
impl Inspector {
    async fn id(&self) -> ID {
        ids::encode(INSPECTOR, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 执法证号
    async fn certificate_number(&self) -> &str {
        &self.0.certificate_number
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.agency_code)).await
    }
}

#[derive(InputObject)]
pub struct RegisterInspectorInput {
    name: String,
    agency_code: String,
    certificate_number: String,
}

#[derive(InputObject)]
pub struct DeclareConflictInput {
    inspector_id: ID,
    unit_id: ID,
    reason: String,
}

/// A declared conflict of interest (回避).
#[derive(SimpleObject)]
pub struct Conflict {
    inspector_id: ID,
    unit_id: ID,
    reason: String,
    declared_on: NaiveDate,
}

#[derive(Default)]
pub struct InspectorQuery;

#[Object]
impl InspectorQuery {
    /// Inspectors of the agencies in the caller's scope and the municipal ones (not for
    /// INTEGRATOR), by id. `first` at most 100.
    // The GraphQL arguments are the parameters (two filters and Relay's four).
    #[allow(clippy::too_many_arguments)]
    async fn inspectors(
        &self,
        ctx: &Context<'_>,
        agency_code: Option<String>,
        active: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Inspector>> {
        let listing = inspectors::list(graphql::principal(ctx), agency_code.as_deref(), active)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            Inspector,
        )
        .await
    }
}

#[derive(Default)]
pub struct InspectorMutation;

#[Object]
impl InspectorMutation {
    /// Registers an inspector of an enforcement agency in the caller's scope.
    async fn register_inspector(
        &self,
        ctx: &Context<'_>,
        input: RegisterInspectorInput,
    ) -> Result<Inspector> {
        let saved = inspectors::register(
            graphql::db(ctx)?,
            graphql::principal(ctx),
            &input.name,
            &input.agency_code,
            &input.certificate_number,
        )
        .await?;
        Ok(Inspector(saved))
    }

    /// Declares an inspector's conflict of interest with a unit: the inspector is recused from it.
    async fn declare_conflict(
        &self,
        ctx: &Context<'_>,
        input: DeclareConflictInput,
    ) -> Result<Conflict> {
        let saved = inspectors::declare_conflict(
            graphql::db(ctx)?,
            graphql::principal(ctx),
            ids::decode(INSPECTOR, "input.inspectorId", &input.inspector_id)?,
            ids::decode(UNIT, "input.unitId", &input.unit_id)?,
            &input.reason,
        )
        .await?;
        Ok(Conflict {
            inspector_id: ids::encode(INSPECTOR, saved.inspector_id),
            unit_id: ids::encode(UNIT, saved.unit_id),
            reason: saved.reason,
            declared_on: saved.declared_on,
        })
    }
}
