//! The permit's monitoring obligations: self-monitoring requirements (Art 19, 20) and execution
//! report duties (Art 22), as they stood in a version of the permit.

use async_graphql::{Context, ID, Object};

use super::OUTLET;
use crate::graphql::enums::{MonitoringFrequency, MonitoringMethod, ReportFrequency};
use crate::graphql::error::Result;
use crate::graphql::loaders::{DutiesOfPermit, RequirementsOfPermit};
use crate::graphql::{self, ids};
use entity::{monitoring_requirements, report_duties};

/// A self-monitoring requirement of the permit (Art 19): a pollutant at an outlet, monitored
/// by hand or automatically (Art 20), so often.
pub struct MonitoringRequirement(pub monitoring_requirements::Model);

#[Object]
impl MonitoringRequirement {
    async fn id(&self) -> ID {
        ids::encode("MonitoringRequirement", self.0.id)
    }
    async fn outlet_id(&self) -> ID {
        ids::encode(OUTLET, self.0.outlet_id)
    }
    async fn pollutant(&self) -> &str {
        &self.0.pollutant
    }
    async fn method(&self) -> MonitoringMethod {
        self.0.method.into()
    }
    async fn frequency(&self) -> MonitoringFrequency {
        self.0.frequency.into()
    }
    async fn since_version(&self) -> i32 {
        self.0.since_version
    }
    async fn retired_in_version(&self) -> Option<i32> {
        self.0.retired_in_version
    }
}

/// An execution report the permit requires (执行报告, Art 22), by frequency.
pub struct ReportDuty(pub report_duties::Model);

#[Object]
impl ReportDuty {
    async fn id(&self) -> ID {
        ids::encode("ReportDuty", self.0.id)
    }
    async fn frequency(&self) -> ReportFrequency {
        self.0.frequency.into()
    }
    async fn since_version(&self) -> i32 {
        self.0.since_version
    }
    async fn retired_in_version(&self) -> Option<i32> {
        self.0.retired_in_version
    }
}

/// The requirements of a permit in version `version` (`None`: the current ones).
pub(crate) async fn requirements(
    ctx: &Context<'_>,
    permit_id: i64,
    outlet_id: Option<i64>,
    version: Option<i32>,
) -> Result<Vec<MonitoringRequirement>> {
    let rows = graphql::load_one(ctx, RequirementsOfPermit(permit_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|r| outlet_id.is_none_or(|o| r.outlet_id == o))
        .filter(|r| match version {
            Some(v) => permit_core::domain::permits::requirement_in_version(r, v),
            None => r.retired_in_version.is_none(),
        })
        .map(MonitoringRequirement)
        .collect())
}

pub(crate) async fn duties(
    ctx: &Context<'_>,
    permit_id: i64,
    version: i32,
) -> Result<Vec<ReportDuty>> {
    let rows = graphql::load_one(ctx, DutiesOfPermit(permit_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|r| permit_core::domain::permits::duty_in_version(r, version))
        .map(ReportDuty)
        .collect())
}
