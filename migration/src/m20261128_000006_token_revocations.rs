//! `token_revocations`: tokens an administrator has withdrawn before they expire. A row names
//! either one token (`token_id`, the `jti`) or every token of a subject issued up to
//! `revoked_before` (a compromised account, a person who left). Rows are only ever added; every
//! instance keeps the table in memory and checks each request against it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TokenRevocations::Table)
                    .col(big_pk_auto(TokenRevocations::Id))
                    .col(string_len(TokenRevocations::Subject, 128))
                    .col(string_len_null(TokenRevocations::TokenId, 128))
                    .col(big_integer(TokenRevocations::RevokedBefore))
                    .col(text(TokenRevocations::Reason))
                    .col(string_len(TokenRevocations::RevokedBySubject, 128))
                    .col(timestamp_with_time_zone(TokenRevocations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_token_revocations_subject")
                    .table(TokenRevocations::Table)
                    .col(TokenRevocations::Subject)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TokenRevocations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TokenRevocations {
    Table,
    Id,
    Subject,
    TokenId,
    /// Unix seconds: the subject's tokens issued at or before this are refused (whole-subject
    /// revocations); for a single token, the moment of revocation.
    RevokedBefore,
    Reason,
    RevokedBySubject,
    CreatedAt,
}
