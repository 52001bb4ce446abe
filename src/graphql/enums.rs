//! GraphQL mirrors of the stored enums (values are the English keys the database holds).

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DistrictKind")]
pub enum DistrictKind {
    District,
    County,
    ManagementArea,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::AgencyKind")]
pub enum AgencyKind {
    PermitOffice,
    Enforcement,
    Monitoring,
    Supervision,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::AgencyLevel")]
pub enum AgencyLevel {
    Municipal,
    District,
}

/// The four categories of the 2021 plan §3.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ViolationCategory")]
pub enum ViolationCategory {
    /// 无证排污 (NP-*)
    UnpermittedDischarge,
    /// 违反排污许可证 (EX-*, EV-*)
    PermitViolation,
    /// 违反自行监测要求 (SM-*, AM-*)
    SelfMonitoring,
    /// 违反其他环境管理要求
    OtherManagement,
}

/// 重点管理 / 简易管理 / 登记管理
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ManagementCategory")]
pub enum ManagementCategory {
    /// 重点管理
    Key,
    /// 简易管理
    Simplified,
    /// 登记管理 (registration, no permit)
    Registration,
}

/// Local credit levels: 诚信 (green), 良好 (blue), 警示 (yellow), 不良 (red).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::CreditLevel")]
pub enum CreditLevel {
    /// 诚信
    Trustworthy,
    /// 良好
    Good,
    /// 警示
    Warning,
    /// 不良
    Poor,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::PermitStatus")]
pub enum PermitStatus {
    /// 有效
    Valid,
    /// 过期 (also any VALID permit past its validTo)
    Expired,
    /// 撤销: obtained improperly
    Revoked,
    /// 注销
    Cancelled,
    /// 吊销: withdrawn as a penalty
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::PermitChangeKind")]
pub enum PermitChangeKind {
    Issued,
    Changed,
    Renewed,
    Revoked,
    Cancelled,
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::OutletMedium")]
pub enum OutletMedium {
    /// 废气 (DA###)
    Air,
    /// 废水 (DW###)
    Water,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::OutletCategory")]
pub enum OutletCategory {
    /// 主要排放口
    Main,
    /// 一般排放口
    General,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::AveragingPeriod")]
pub enum AveragingPeriod {
    Instantaneous,
    Hourly,
    Daily,
    Monthly,
    Annual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::RegistrationStatus")]
pub enum RegistrationStatus {
    Valid,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    PermitOfficer,
    EnforcementOfficer,
    Supervisor,
    Monitoring,
    Integrator,
    Admin,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

/// Why an inspection took place.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::InspectionSource")]
pub enum InspectionSource {
    /// 日常
    Routine,
    /// 专项
    SpecialCampaign,
    /// 双随机
    RandomDraw,
    /// 投诉举报
    Complaint,
    /// 转办
    Referral,
    /// 证后核查
    PostPermitCheck,
    /// 市级联合检查组
    JointMunicipal,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::InspectionMode")]
pub enum InspectionMode {
    /// 现场检查: at least two inspectors.
    OnSite,
    /// 非现场: online monitoring data, video.
    NonSite,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FindingSeverity")]
pub enum FindingSeverity {
    Minor,
    General,
    Serious,
}

/// The finding lifecycle: OPEN → RECTIFICATION_ORDERED → RECTIFIED → CLOSED;
/// OPEN | RECTIFICATION_ORDERED → CASE_FILED → PENALISED → CLOSED; DISMISSED with a reason.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FindingStatus")]
pub enum FindingStatus {
    Open,
    /// 责令改正
    RectificationOrdered,
    /// 已整改 (confirmed by a re-inspection)
    Rectified,
    /// 立案
    CaseFiled,
    /// 已处罚
    Penalised,
    Closed,
    Dismissed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::EnforcementActionKind")]
pub enum EnforcementActionKind {
    /// 责令改正
    CorrectionOrder,
    /// 限制生产
    ProductionRestriction,
    /// 停产整治
    Suspension,
    /// 罚款
    Fine,
    /// 吊销排污许可证
    PermitWithdrawal,
    /// 移送公安
    PoliceReferral,
    /// 按日连续处罚 (Art 38)
    DailyContinuousPenalty,
    /// 查封扣押
    SealUp,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::CampaignPhaseKind")]
pub enum CampaignPhaseKind {
    /// 区县自查
    SelfInspection,
    /// 市级联合抽查
    JointSpotCheck,
    /// 总结
    Summary,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::SamplingPeriod")]
pub enum SamplingPeriod {
    Quarter,
    Year,
    Campaign,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DrawKind")]
pub enum DrawKind {
    /// Units and inspector teams (双随机).
    Units,
    /// Municipal joint groups to districts.
    JointGroups,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FeedbackRecommendation")]
pub enum FeedbackRecommendation {
    /// 收紧许可条件
    TightenPermitCondition,
    /// 增加监测要求
    AddMonitoring,
    /// 复核某行业的许可证
    RecheckIndustry,
    Other,
}

/// OPEN → ACKNOWLEDGED → ANSWERED → CLOSED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FeedbackStatus")]
pub enum FeedbackStatus {
    Open,
    Acknowledged,
    Answered,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::BulletinKind")]
pub enum BulletinKind {
    /// 联络员名单
    LiaisonRoster,
    /// 行动通知
    CampaignNotice,
    /// 典型案例
    TypicalCase,
    /// 总结
    Summary,
    General,
}
