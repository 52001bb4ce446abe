//! Units as a GeoJSON FeatureCollection (RFC 7946) for GIS tools: one Point feature per located
//! unit in the caller's scope and filter (`UnitFilter`, `within` included), coordinates
//! `[longitude, latitude]` in WGS84 degrees (CGCS2000 agrees within a metre), with the unit's
//! open findings counted under the caller's scope. Written a page of units at a time.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::graphql::ids;
use permit_core::auth::Principal;
use permit_core::domain::page::{MAX_PAGE_SIZE, PageArgs};
use permit_core::domain::{findings, units};
use permit_core::error::AppResult;

pub const CONTENT_TYPE: &str = "application/geo+json";

/// Pages of features of one export.
pub struct Features {
    db: DatabaseConnection,
    principal: Principal,
    list: units::UnitList,
    after: Option<String>,
    done: bool,
    first: bool,
}

impl Features {
    /// Checks role and filter before anything is sent.
    pub fn open(
        db: &DatabaseConnection,
        principal: &Principal,
        filter: Option<serde_json::Value>,
    ) -> AppResult<Features> {
        let filter = crate::graphql::units::unit_filter_from_json(filter)?;
        Ok(Features {
            db: db.clone(),
            principal: principal.clone(),
            list: units::list(Some(principal), &filter)?,
            after: None,
            done: false,
            first: true,
        })
    }

    /// The collection's opening.
    pub fn head() -> &'static [u8] {
        br#"{"type":"FeatureCollection","features":["#
    }

    /// The collection's end.
    pub fn tail() -> &'static [u8] {
        b"]}\n"
    }

    /// The next page of features, each preceded by a comma but the first; `None` at the end.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let args = PageArgs {
            first: Some(MAX_PAGE_SIZE as i32),
            after: self.after.clone(),
            ..Default::default()
        };
        let page = self
            .list
            .page(&self.db, units::UnitOrderField::Id, false, &args)
            .await?;
        self.done = !page.has_next_page;
        self.after = page.items.last().map(|(cursor, _)| cursor.clone());
        let located: Vec<entity::units::Model> = page
            .items
            .into_iter()
            .map(|(_, u)| u)
            .filter(|u| u.longitude.is_some() && u.latitude.is_some())
            .collect();
        let ids_: Vec<i64> = located.iter().map(|u| u.id).collect();
        let open: Option<HashMap<i64, i64>> =
            findings::open_per_unit(&self.db, &self.principal, &ids_).await?;
        let mut out = Vec::new();
        for unit in located {
            let (Some(lon), Some(lat)) = (unit.longitude, unit.latitude) else {
                continue;
            };
            if !self.first {
                out.push(b',');
            }
            self.first = false;
            let feature = json!({
                "type": "Feature",
                "id": ids::encode(crate::graphql::units::UNIT, unit.id).to_string(),
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": {
                    "creditCode": unit.credit_code,
                    "name": unit.name,
                    "districtCode": unit.district_code,
                    "industryCode": unit.industry_code,
                    "managementCategory": category(unit.management_category),
                    // Null for callers who may not read open cases (integrators, monitoring).
                    "openFindings": open.as_ref().map(|m| m.get(&unit.id).copied().unwrap_or(0)),
                },
            });
            serde_json::to_writer(&mut out, &feature)
                .map_err(permit_core::error::AppError::internal)?;
        }
        Ok(Some(out))
    }
}

/// The enum value as the API names it.
fn category(category: entity::enums::ManagementCategory) -> &'static str {
    use entity::enums::ManagementCategory::*;
    match category {
        Key => "KEY",
        Simplified => "SIMPLIFIED",
        Registration => "REGISTRATION",
    }
}
