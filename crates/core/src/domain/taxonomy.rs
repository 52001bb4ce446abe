//! The violation taxonomy (BRIEF; the Regulation's penalty articles, Order No. 736): what each
//! code demands of the facts, and the fine range its article sets. The codes themselves are
//! reference data loaded by the migration crate.

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::reference::ReferenceData;
use crate::error::{AppError, AppResult};
use entity::enums::EnforcementActionKind;
use entity::violation_codes;

/// What a code requires of the unit's permit on the inspection date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitRequirement {
    /// NP-1 (Art 33(1)): no valid permit at all; the finding names none.
    NoPermit,
    /// NP-2 (Art 33(2)): names a permit that had expired.
    ExpiredPermit,
    /// NP-3 (Art 33(3)): names a permit that had been revoked, cancelled or withdrawn.
    EndedPermit,
    /// RG-1 (Art 43): a REGISTRATION-tier unit that had not registered; no permit.
    RegistrationTier,
    /// Every other code breaches a condition of a permit valid on that date.
    ValidPermit,
}

pub fn permit_requirement(code: &str) -> PermitRequirement {
    match code {
        "NP-1" => PermitRequirement::NoPermit,
        "NP-2" => PermitRequirement::ExpiredPermit,
        "NP-3" => PermitRequirement::EndedPermit,
        "RG-1" => PermitRequirement::RegistrationTier,
        _ => PermitRequirement::ValidPermit,
    }
}

/// EX-1 (Art 34(1)): exceeding a permitted concentration; needs the measurement.
pub fn is_exceedance(code: &str) -> bool {
    code == "EX-1"
}

/// The measures the article behind a code provides (besides an order to correct, open to
/// every code, and a referral to the police, open to any conduct that may be a crime):
/// - Art 33 (NP-*) and Art 34 (EX-1, EV-*): restriction, suspension, fine, sealing up; Art 34
///   also permit withdrawal ("情节严重的…吊销排污许可证"); both, the daily penalty of Art 38.
/// - Art 35 (FU-*): fine, restriction, suspension, permit withdrawal, sealing up, Art 38.
/// - Art 36 (OU-*, AM-*, SM-*, IP-1, RP-1): fine; suspension when not corrected.
/// - Art 37 (LG-*, ER-*), Art 39 (OB-1), Art 43 (RG-1): a fine only.
/// - Art 40 (FR-1) revokes (撤销, through `revokePermit`) and fines; Art 41 (FR-2) withdraws.
///
/// The daily penalty (Art 38) is for discharging in breach of the Regulation (NP, EX, EV, FU):
/// after a fine and an order to correct, a re-inspection that finds the discharge going on
/// fines it again for every day since. Management duties (monitoring, ledgers, reports,
/// registration) and permit fraud are not discharges, so it is not open to them.
pub fn allowed_actions(code: &str) -> &'static [EnforcementActionKind] {
    use EnforcementActionKind::*;
    const ILLEGAL_DISCHARGE: &[EnforcementActionKind] = &[
        CorrectionOrder,
        ProductionRestriction,
        Suspension,
        Fine,
        PoliceReferral,
        DailyContinuousPenalty,
        SealUp,
    ];
    const PERMIT_BREACH: &[EnforcementActionKind] = &[
        CorrectionOrder,
        ProductionRestriction,
        Suspension,
        Fine,
        PermitWithdrawal,
        PoliceReferral,
        DailyContinuousPenalty,
        SealUp,
    ];
    const MANAGEMENT: &[EnforcementActionKind] =
        &[CorrectionOrder, Fine, Suspension, PoliceReferral];
    const FINE_ONLY: &[EnforcementActionKind] = &[CorrectionOrder, Fine, PoliceReferral];
    const FORGED: &[EnforcementActionKind] =
        &[CorrectionOrder, Fine, PermitWithdrawal, PoliceReferral];
    match code.split('-').next().unwrap_or_default() {
        "NP" => ILLEGAL_DISCHARGE,
        "EX" | "EV" | "FU" => PERMIT_BREACH,
        "OU" | "AM" | "SM" | "IP" | "RP" => MANAGEMENT,
        "FR" if code == "FR-2" => FORGED,
        _ => FINE_ONLY,
    }
}

/// Refuses a measure the code's article does not provide (e.g. withdrawing a permit for a
/// ledger not kept: Art 37 provides only a fine).
pub fn check_action(
    code: &violation_codes::Model,
    kind: EnforcementActionKind,
    field: &str,
) -> AppResult<()> {
    if allowed_actions(&code.code).contains(&kind) {
        return Ok(());
    }
    Err(AppError::invalid(
        field,
        format!(
            "Art {} provides no {} for {}",
            code.article,
            action_label(kind),
            code.code
        ),
    ))
}

fn action_label(kind: EnforcementActionKind) -> &'static str {
    use EnforcementActionKind::*;
    match kind {
        CorrectionOrder => "correction order",
        ProductionRestriction => "production restriction",
        Suspension => "suspension",
        Fine => "fine",
        PermitWithdrawal => "permit withdrawal",
        PoliceReferral => "police referral",
        DailyContinuousPenalty => "daily continuous penalty",
        SealUp => "sealing up",
    }
}

/// `find` from the instance's copy of the reference tables (no statement).
pub fn known(
    reference: &ReferenceData,
    code: &str,
    field: &str,
) -> AppResult<violation_codes::Model> {
    let code = code.trim().to_ascii_uppercase();
    reference
        .violation_codes
        .get(&code)
        .cloned()
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("'{code}' is not a violation code (see violationCodes)"),
            )
        })
}

pub async fn find(
    db: &impl ConnectionTrait,
    code: &str,
    field: &str,
) -> AppResult<violation_codes::Model> {
    let code = code.trim().to_ascii_uppercase();
    violation_codes::Entity::find_by_id(code.clone())
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("'{code}' is not a violation code (see violationCodes)"),
            )
        })
}

/// A fine must lie in the range of the article behind the code.
pub fn check_fine(code: &violation_codes::Model, amount_yuan: i64, field: &str) -> AppResult<()> {
    let min = code.fine_min.unwrap_or(0);
    let Some(max) = code.fine_max else {
        return Err(AppError::invalid(
            field,
            format!("Art {} sets no fine for {}", code.article, code.code),
        ));
    };
    if amount_yuan < min || amount_yuan > max {
        return Err(AppError::invalid(
            field,
            format!(
                "{amount_yuan} yuan is outside {min}–{max} yuan, the range of Art {} for {}",
                code.article, code.code
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(min: Option<i64>, max: Option<i64>) -> violation_codes::Model {
        violation_codes::Model {
            code: "EX-1".into(),
            category: entity::enums::ViolationCategory::PermitViolation,
            article: "34(1)".into(),
            label_zh: String::new(),
            label_en: String::new(),
            fine_min: min,
            fine_max: max,
            penalty_note: String::new(),
            sort_order: 5,
        }
    }

    #[test]
    fn fines_outside_the_article_range_name_it() {
        let ex1 = code(Some(200_000), Some(1_000_000));
        assert!(check_fine(&ex1, 200_000, "f").is_ok());
        assert!(check_fine(&ex1, 1_000_000, "f").is_ok());
        match check_fine(&ex1, 150_000, "input.amountYuan") {
            Err(AppError::InvalidInput { field, reason }) => {
                assert_eq!(field, "input.amountYuan");
                assert!(
                    reason.contains("200000–1000000") && reason.contains("Art 34(1)"),
                    "{reason}"
                );
            }
            other => panic!("expected a range error, got {other:?}"),
        }
        assert!(check_fine(&code(None, None), 10, "f").is_err());
    }

    #[test]
    fn articles_provide_their_measures() {
        use EnforcementActionKind::*;
        assert!(!allowed_actions("LG-1").contains(&PermitWithdrawal));
        assert!(allowed_actions("EX-1").contains(&PermitWithdrawal));
        assert!(allowed_actions("FR-2").contains(&PermitWithdrawal));
        assert!(!allowed_actions("SM-1").contains(&SealUp));
        for code in ["NP-1", "EX-1", "EV-3", "FU-2"] {
            assert!(
                allowed_actions(code).contains(&DailyContinuousPenalty),
                "{code}"
            );
        }
        for code in ["LG-1", "ER-1", "SM-1", "AM-2", "RG-1", "OB-1", "FR-2"] {
            assert!(
                !allowed_actions(code).contains(&DailyContinuousPenalty),
                "{code}"
            );
        }
        for code in ["NP-1", "EV-2", "OU-3", "LG-2", "RG-1", "OB-1", "FR-1"] {
            assert!(allowed_actions(code).contains(&Fine), "{code}");
        }
    }

    #[test]
    fn permit_requirements() {
        assert_eq!(permit_requirement("NP-1"), PermitRequirement::NoPermit);
        assert_eq!(permit_requirement("NP-3"), PermitRequirement::EndedPermit);
        assert_eq!(permit_requirement("LG-1"), PermitRequirement::ValidPermit);
        assert!(is_exceedance("EX-1") && !is_exceedance("EV-1"));
    }
}
