//! Enumerated column types shared by the entities.
//!
//! Every enum is stored as its upper-case key in a `varchar(24)` column rather than as a native
//! PostgreSQL enum, so the same schema runs on SQLite and PostgreSQL and a new value needs no
//! `ALTER TYPE`. Serde uses the same keys, so JSON snapshots and the database agree.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of administrative unit a district row is (GB/T 2260 区 / 县, or a management area).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DistrictKind {
    /// 区
    #[sea_orm(string_value = "DISTRICT")]
    District,
    /// 县 (including autonomous counties)
    #[sea_orm(string_value = "COUNTY")]
    County,
    /// 两江新区 and similar areas that manage permits without a GB/T 2260 code.
    #[sea_orm(string_value = "MANAGEMENT_AREA")]
    ManagementArea,
}

/// The function an agency performs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgencyKind {
    /// 排污许可科 / 总量处: issues permits and registrations.
    #[sea_orm(string_value = "PERMIT_OFFICE")]
    PermitOffice,
    /// 执法支队 / 执法总队: inspections, findings, cases.
    #[sea_orm(string_value = "ENFORCEMENT")]
    Enforcement,
    /// 监测中心.
    #[sea_orm(string_value = "MONITORING")]
    Monitoring,
    /// Municipal supervision groups (督导).
    #[sea_orm(string_value = "SUPERVISION")]
    Supervision,
}

/// Whether an agency acts for one district or for the whole municipality.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgencyLevel {
    #[sea_orm(string_value = "MUNICIPAL")]
    Municipal,
    #[sea_orm(string_value = "DISTRICT")]
    District,
}

/// The four violation categories of the 2021 plan §3.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ViolationCategory {
    /// 无证排污 (NP-*).
    #[sea_orm(string_value = "UNPERMITTED_DISCHARGE")]
    UnpermittedDischarge,
    /// 违反排污许可证 (EX-*, EV-*).
    #[sea_orm(string_value = "PERMIT_VIOLATION")]
    PermitViolation,
    /// 违反自行监测要求 (SM-*, AM-*).
    #[sea_orm(string_value = "SELF_MONITORING")]
    SelfMonitoring,
    /// 违反其他环境管理要求 (everything else).
    #[sea_orm(string_value = "OTHER_MANAGEMENT")]
    OtherManagement,
}

/// Permit management category (重点 / 简化 / 登记管理).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ManagementCategory {
    #[sea_orm(string_value = "KEY")]
    Key,
    #[sea_orm(string_value = "SIMPLIFIED")]
    Simplified,
    /// Registration only (排污登记); such units hold no permit.
    #[sea_orm(string_value = "REGISTRATION")]
    Registration,
}

/// Local four-level credit rating (诚信 green, 良好 blue, 警示 yellow, 不良 red).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreditLevel {
    #[sea_orm(string_value = "TRUSTWORTHY")]
    Trustworthy,
    #[sea_orm(string_value = "GOOD")]
    Good,
    #[sea_orm(string_value = "WARNING")]
    Warning,
    #[sea_orm(string_value = "POOR")]
    Poor,
}

/// Permit status. `REVOKED` is 撤销 (obtained improperly), `CANCELLED` 注销, `WITHDRAWN` 吊销
/// (as a penalty).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PermitStatus {
    #[sea_orm(string_value = "VALID")]
    Valid,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "REVOKED")]
    Revoked,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

/// Why a permit version was written.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PermitChangeKind {
    #[sea_orm(string_value = "ISSUED")]
    Issued,
    /// 变更
    #[sea_orm(string_value = "CHANGED")]
    Changed,
    /// 延续
    #[sea_orm(string_value = "RENEWED")]
    Renewed,
    #[sea_orm(string_value = "REVOKED")]
    Revoked,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

/// The medium an outlet discharges into (`DA…` air, `DW…` water).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutletMedium {
    #[sea_orm(string_value = "AIR")]
    Air,
    #[sea_orm(string_value = "WATER")]
    Water,
}

/// 主要排放口 or 一般排放口.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutletCategory {
    #[sea_orm(string_value = "MAIN")]
    Main,
    #[sea_orm(string_value = "GENERAL")]
    General,
}

/// Averaging period of a concentration limit.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AveragingPeriod {
    #[sea_orm(string_value = "INSTANTANEOUS")]
    Instantaneous,
    #[sea_orm(string_value = "HOURLY")]
    Hourly,
    #[sea_orm(string_value = "DAILY")]
    Daily,
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    #[sea_orm(string_value = "ANNUAL")]
    Annual,
}

/// Status of a discharge registration (排污登记).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationStatus {
    #[sea_orm(string_value = "VALID")]
    Valid,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Why an inspection took place (the plan's inspection sources).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionSource {
    /// 日常检查
    #[sea_orm(string_value = "ROUTINE")]
    Routine,
    /// 专项行动 (a campaign; `campaign_id` names it).
    #[sea_orm(string_value = "SPECIAL_CAMPAIGN")]
    SpecialCampaign,
    /// 双随机 draw.
    #[sea_orm(string_value = "RANDOM_DRAW")]
    RandomDraw,
    /// 投诉举报
    #[sea_orm(string_value = "COMPLAINT")]
    Complaint,
    /// 转办 (referred by another authority).
    #[sea_orm(string_value = "REFERRAL")]
    Referral,
    /// 证后核查
    #[sea_orm(string_value = "POST_PERMIT_CHECK")]
    PostPermitCheck,
    /// Municipal joint spot check (市级联合抽查).
    #[sea_orm(string_value = "JOINT_MUNICIPAL")]
    JointMunicipal,
}

/// Whether the inspectors went to the site or checked remotely.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionMode {
    /// 现场检查
    #[sea_orm(string_value = "ON_SITE")]
    OnSite,
    /// 非现场检查: online monitoring data, video, documents.
    #[sea_orm(string_value = "NON_SITE")]
    NonSite,
}

/// How serious a finding is (情节轻微 / 一般 / 严重).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingSeverity {
    #[sea_orm(string_value = "MINOR")]
    Minor,
    #[sea_orm(string_value = "GENERAL")]
    General,
    #[sea_orm(string_value = "SERIOUS")]
    Serious,
}

/// Where a finding stands. Every change is recorded in `finding_transitions`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingStatus {
    /// Recorded, nothing decided yet.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// 责令改正 issued, rectification pending.
    #[sea_orm(string_value = "RECTIFICATION_ORDERED")]
    RectificationOrdered,
    /// Rectification confirmed (usually by a re-inspection, 复查).
    #[sea_orm(string_value = "RECTIFIED")]
    Rectified,
    /// 立案
    #[sea_orm(string_value = "CASE_FILED")]
    CaseFiled,
    /// Penalty decided.
    #[sea_orm(string_value = "PENALISED")]
    Penalised,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    /// Not a violation after all.
    #[sea_orm(string_value = "DISMISSED")]
    Dismissed,
}

/// Kind of enforcement action taken on a finding (the Regulation's penalty articles; daily
/// continuous penalty per Art 38).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnforcementActionKind {
    /// 责令改正
    #[sea_orm(string_value = "CORRECTION_ORDER")]
    CorrectionOrder,
    /// 限制生产
    #[sea_orm(string_value = "PRODUCTION_RESTRICTION")]
    ProductionRestriction,
    /// 停产整治
    #[sea_orm(string_value = "SUSPENSION")]
    Suspension,
    /// 罚款
    #[sea_orm(string_value = "FINE")]
    Fine,
    /// 吊销排污许可证
    #[sea_orm(string_value = "PERMIT_WITHDRAWAL")]
    PermitWithdrawal,
    /// 移送公安 (detention, Art 44).
    #[sea_orm(string_value = "POLICE_REFERRAL")]
    PoliceReferral,
    /// 按日连续处罚 (Art 38).
    #[sea_orm(string_value = "DAILY_CONTINUOUS_PENALTY")]
    DailyContinuousPenalty,
    /// 查封扣押
    #[sea_orm(string_value = "SEAL_UP")]
    SealUp,
}

/// What a campaign phase is for. The 2021 plan has district self-inspection (Apr–Sep), municipal
/// joint spot checks (Oct) and summary reports (by Nov 30).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignPhaseKind {
    /// 区县自查自纠
    #[sea_orm(string_value = "SELF_INSPECTION")]
    SelfInspection,
    /// 市级联合抽查
    #[sea_orm(string_value = "JOINT_SPOT_CHECK")]
    JointSpotCheck,
    /// 总结报告
    #[sea_orm(string_value = "SUMMARY")]
    Summary,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The period a campaign's sampling share applies to: that share of the stratum is drawn each
/// quarter, each year, or once over the whole campaign.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SamplingPeriod {
    #[sea_orm(string_value = "QUARTER")]
    Quarter,
    #[sea_orm(string_value = "YEAR")]
    Year,
    #[sea_orm(string_value = "CAMPAIGN")]
    Campaign,
}

/// What a random draw (双随机) picks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DrawKind {
    /// Units from one management category's stratum of the inspection-target list
    /// (检查对象名录库), each with a team of inspectors from the inspector list (执法人员名录库).
    #[sea_orm(string_value = "UNITS")]
    Units,
    /// Municipal joint spot check: inspection groups, each assigned a district to check.
    #[sea_orm(string_value = "JOINT_GROUPS")]
    JointGroups,
}

/// What an enforcement agency's feedback (plan §5(3)) asks the permit office to do about a
/// violation pattern.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedbackRecommendation {
    /// Tighten a permit condition (limits, special-period measures, …).
    #[sea_orm(string_value = "TIGHTEN_PERMIT_CONDITION")]
    TightenPermitCondition,
    /// Add or densify monitoring requirements (自行监测, 自动监测).
    #[sea_orm(string_value = "ADD_MONITORING")]
    AddMonitoring,
    /// Re-check the permits of an industry.
    #[sea_orm(string_value = "RECHECK_INDUSTRY")]
    RecheckIndustry,
    /// Anything else; `recommendation_text` says what.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a feedback stands between the enforcement agency that posted it and the permit office
/// it is addressed to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedbackStatus {
    /// Posted, not yet taken up by the permit office.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// The permit office has taken it up.
    #[sea_orm(string_value = "ACKNOWLEDGED")]
    Acknowledged,
    /// The permit office has answered (`answer_text`), possibly with permit changes.
    #[sea_orm(string_value = "ANSWERED")]
    Answered,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// What a bulletin (信息通报) is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulletinKind {
    /// 联络员名单
    #[sea_orm(string_value = "LIAISON_ROSTER")]
    LiaisonRoster,
    /// A campaign notice (专项行动通知).
    #[sea_orm(string_value = "CAMPAIGN_NOTICE")]
    CampaignNotice,
    /// 典型案例, usually linked to findings and enforcement actions.
    #[sea_orm(string_value = "TYPICAL_CASE")]
    TypicalCase,
    /// A summary (总结通报).
    #[sea_orm(string_value = "SUMMARY")]
    Summary,
    #[sea_orm(string_value = "GENERAL")]
    General,
}

/// How a pollutant is monitored at an outlet (Art 19, Art 20).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MonitoringMethod {
    /// 手工监测: samples taken and analysed.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    /// 自动监测: an online monitor, networked with the agency.
    #[sea_orm(string_value = "AUTOMATIC")]
    Automatic,
}

/// How often a self-monitoring requirement asks for a result.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MonitoringFrequency {
    #[sea_orm(string_value = "HOURLY")]
    Hourly,
    #[sea_orm(string_value = "DAILY")]
    Daily,
    #[sea_orm(string_value = "WEEKLY")]
    Weekly,
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    #[sea_orm(string_value = "QUARTERLY")]
    Quarterly,
    #[sea_orm(string_value = "SEMIANNUAL")]
    Semiannual,
    #[sea_orm(string_value = "ANNUAL")]
    Annual,
}

/// How often the permit requires an execution report (Art 22, HJ 944).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportFrequency {
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    #[sea_orm(string_value = "QUARTERLY")]
    Quarterly,
    #[sea_orm(string_value = "SEMIANNUAL")]
    Semiannual,
    #[sea_orm(string_value = "ANNUAL")]
    Annual,
}

/// Where a reading comes from.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReadingSource {
    /// 自动监测: an online monitor's data (HJ 212).
    #[sea_orm(string_value = "AUTOMATIC")]
    Automatic,
    /// 自行监测: the unit's own (manual) monitoring.
    #[sea_orm(string_value = "SELF_MONITORING")]
    SelfMonitoring,
    /// 监督性监测: by the monitoring centre.
    #[sea_orm(string_value = "SUPERVISORY")]
    Supervisory,
}

/// Where an officer's decision on a violation candidate stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CandidateStatus {
    /// Awaiting an officer.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Dismissed with a reason.
    #[sea_orm(string_value = "DISMISSED")]
    Dismissed,
    /// A finding was recorded from it.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
}

/// What an inspection found of a unit's environmental management ledger (台账, Art 21).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerResult {
    /// Kept as the permit requires.
    #[sea_orm(string_value = "KEPT")]
    Kept,
    /// Kept with gaps: records of the period missing.
    #[sea_orm(string_value = "INCOMPLETE")]
    Incomplete,
    /// Not kept for the period.
    #[sea_orm(string_value = "NOT_KEPT")]
    NotKept,
    /// Records that do not match the facts (forged, altered).
    #[sea_orm(string_value = "UNTRUE")]
    Untrue,
}
