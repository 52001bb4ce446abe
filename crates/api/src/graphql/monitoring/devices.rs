//! Automatic monitors (HJ 212 devices) at outlets, and files of their packets taken through
//! GraphQL.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};

use super::OUTLET;
use super::candidates::announce_candidates;
use crate::graphql::error::Result;
use crate::graphql::loaders::OutletId;
use crate::graphql::permits::Outlet;
use crate::graphql::time::Time;
use crate::graphql::{self, ids};
use permit_core::domain::monitoring as rules;

/// An automatic monitor (HJ 212 device) at an outlet. Its password is never answered.
pub struct MonitoringDevice(pub entity::monitoring_devices::Model);

#[Object]
impl MonitoringDevice {
    async fn id(&self) -> ID {
        ids::encode("MonitoringDevice", self.0.id)
    }
    /// HJ 212 `MN`.
    async fn mn(&self) -> &str {
        &self.0.mn
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        Ok(graphql::load_one(ctx, OutletId(self.0.outlet_id))
            .await?
            .map(|row| Outlet::at(row, None)))
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

#[derive(InputObject)]
pub struct RegisterMonitoringDeviceInput {
    /// HJ 212 `MN`: 1 to 24 letters and digits, unique.
    mn: String,
    outlet_id: ID,
    /// The `PW` its packets carry.
    password: String,
}

#[derive(InputObject)]
pub struct IngestHj212PacketsInput {
    /// A file of HJ 212 packets, one after the other (each `##…` ending in CR LF).
    file: Upload,
}

/// How many packets of one reason were refused.
#[derive(SimpleObject)]
pub struct Hj212Refusals {
    /// `garbage`, `too_long`, `length`, `crc`, `malformed`, `command`, `unknown_device`,
    /// `password`, `rejected` (the permit checks), `unavailable`.
    reason: String,
    packets: u64,
}

/// What a file of HJ 212 packets came to.
#[derive(SimpleObject)]
pub struct Hj212IngestResult {
    accepted: u64,
    readings: u64,
    refused: Vec<Hj212Refusals>,
}

#[derive(Default)]
pub struct DeviceMutation;

#[Object]
impl DeviceMutation {
    /// Registers an automatic monitor (HJ 212 `MN`) at an outlet: MONITORING anywhere, ADMIN
    /// in its scope. Its packets (TCP listener, `ingestHj212Packets`) become readings of that
    /// outlet. An MN registered already is `CONFLICT`.
    async fn register_monitoring_device(
        &self,
        ctx: &Context<'_>,
        input: RegisterMonitoringDeviceInput,
    ) -> Result<MonitoringDevice> {
        let input = rules::DeviceInput {
            mn: input.mn,
            outlet_id: ids::decode(OUTLET, "input.outletId", &input.outlet_id)?,
            password: input.password,
        };
        let saved =
            rules::register_device(graphql::db(ctx)?, graphql::principal(ctx), input).await?;
        Ok(MonitoringDevice(saved))
    }

    /// Takes a file of HJ 212 packets (a GraphQL multipart request, like `uploadEvidence`):
    /// MONITORING and ADMIN. Each packet is checked and taken as the TCP listener takes it;
    /// a damaged one is refused and counted, the good ones around it are stored.
    async fn ingest_hj212_packets(
        &self,
        ctx: &Context<'_>,
        input: IngestHj212PacketsInput,
    ) -> Result<Hj212IngestResult> {
        use permit_core::domain::access::{self, Operation};
        use std::io::Read;
        access::authorize(graphql::principal(ctx), Operation::ManageMonitoringDevices)?;
        let not_sent = || {
            permit_core::error::AppError::invalid("input.file", "send the file as a multipart part")
        };
        if *input.file >= ctx.query_env.uploads.len() {
            return Err(not_sent().into());
        }
        let file = input.file.value(ctx).map_err(|_| not_sent())?;
        let mut bytes = Vec::new();
        file.into_read()
            .read_to_end(&mut bytes)
            .map_err(permit_core::error::AppError::internal)?;
        let tally = crate::hj212::intake::accept_all(graphql::db(ctx)?, None, &bytes).await;
        announce_candidates(ctx, tally.candidates).await;
        Ok(Hj212IngestResult {
            accepted: tally.accepted,
            readings: tally.readings,
            refused: tally
                .refused
                .into_iter()
                .map(|(reason, packets)| Hj212Refusals {
                    reason: reason.to_owned(),
                    packets,
                })
                .collect(),
        })
    }
}
