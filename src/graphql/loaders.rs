//! DataLoaders: every nested field loads through one of these, so a page of N parents costs one
//! statement per nested field, not N (no N+1). One loader value per request, carrying the
//! principal, so batched reads are scoped exactly like top-level reads.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use crate::auth::Principal;
use crate::domain::{permits, reference, registrations, units};
use crate::error::AppError;
use entity::{
    agencies, districts, outlets, permit_limits, permit_versions, registrations as reg,
    units as unit_rows,
};

pub struct DbLoader {
    pub db: DatabaseConnection,
    pub principal: Option<Principal>,
}

/// Loader errors travel as a shared `AppError` (the loader API wants `Clone`).
pub type LoadError = Arc<AppError>;

impl DbLoader {
    fn principal(&self) -> Result<&Principal, LoadError> {
        self.principal
            .as_ref()
            .ok_or_else(|| Arc::new(AppError::Unauthenticated("send a bearer token".to_owned())))
    }
}

fn group<K: std::hash::Hash + Eq + Clone, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for row in rows {
        map.entry(key_of(&row)).or_default().push(row);
    }
    map
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnitId(pub i64);

impl Loader<UnitId> for DbLoader {
    type Value = unit_rows::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UnitId]) -> Result<HashMap<UnitId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = units::by_ids(&self.db, self.principal()?, &ids).await?;
        Ok(rows.into_iter().map(|u| (UnitId(u.id), u)).collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermitsOfUnit(pub i64);

impl Loader<PermitsOfUnit> for DbLoader {
    type Value = Vec<entity::permits::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PermitsOfUnit],
    ) -> Result<HashMap<PermitsOfUnit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::by_unit_ids(&self.db, self.principal()?, &ids).await?;
        Ok(group(keys, rows, |p| PermitsOfUnit(p.unit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegistrationsOfUnit(pub i64);

impl Loader<RegistrationsOfUnit> for DbLoader {
    type Value = Vec<reg::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegistrationsOfUnit],
    ) -> Result<HashMap<RegistrationsOfUnit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = registrations::of_units(&self.db, self.principal()?, &ids).await?;
        Ok(group(keys, rows, |r| RegistrationsOfUnit(r.unit_id)))
    }
}

/// Outlets, limits and versions are reached only through a permit already in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutletsOfPermit(pub i64);

impl Loader<OutletsOfPermit> for DbLoader {
    type Value = Vec<outlets::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OutletsOfPermit],
    ) -> Result<HashMap<OutletsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::outlets_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |o| OutletsOfPermit(o.permit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LimitsOfPermit(pub i64);

impl Loader<LimitsOfPermit> for DbLoader {
    type Value = Vec<permit_limits::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LimitsOfPermit],
    ) -> Result<HashMap<LimitsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::limits_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |l| LimitsOfPermit(l.permit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VersionsOfPermit(pub i64);

impl Loader<VersionsOfPermit> for DbLoader {
    type Value = Vec<permit_versions::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[VersionsOfPermit],
    ) -> Result<HashMap<VersionsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::versions_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |v| VersionsOfPermit(v.permit_id)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DistrictCode(pub String);

impl Loader<DistrictCode> for DbLoader {
    type Value = districts::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DistrictCode],
    ) -> Result<HashMap<DistrictCode, Self::Value>, Self::Error> {
        let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = reference::districts_by_codes(&self.db, &codes).await?;
        Ok(rows
            .into_iter()
            .map(|d| (DistrictCode(d.code.clone()), d))
            .collect())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AgencyCode(pub String);

impl Loader<AgencyCode> for DbLoader {
    type Value = agencies::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[AgencyCode],
    ) -> Result<HashMap<AgencyCode, Self::Value>, Self::Error> {
        let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = reference::agencies_by_codes(&self.db, &codes).await?;
        Ok(rows
            .into_iter()
            .map(|a| (AgencyCode(a.code.clone()), a))
            .collect())
    }
}
