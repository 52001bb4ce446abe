//! GraphQL mirrors of the stored enums (values are the English keys the database holds).

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DistrictKind")]
pub enum DistrictKind {
    /// 区
    District,
    /// 县
    County,
    /// 管理区
    ManagementArea,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::AgencyKind")]
pub enum AgencyKind {
    /// 排污许可管理部门
    PermitOffice,
    /// 生态环境执法机构
    Enforcement,
    /// 生态环境监测机构
    Monitoring,
    /// 生态环境监督管理部门
    Supervision,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::AgencyLevel")]
pub enum AgencyLevel {
    /// 市级
    Municipal,
    /// 区县级
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
    /// 核发
    Issued,
    /// 变更
    Changed,
    /// 延续
    Renewed,
    /// 撤销
    Revoked,
    /// 注销
    Cancelled,
    /// 吊销
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
    /// 瞬时值
    Instantaneous,
    /// 小时均值
    Hourly,
    /// 日均值
    Daily,
    /// 月均值
    Monthly,
    /// 年均值
    Annual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::RegistrationStatus")]
pub enum RegistrationStatus {
    /// 有效
    Valid,
    /// 注销
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "permit_core::auth::Role")]
pub enum Role {
    /// 许可管理人员
    PermitOfficer,
    /// 执法人员
    EnforcementOfficer,
    /// 监督管理人员
    Supervisor,
    /// 监测人员
    Monitoring,
    /// 外部系统对接方
    Integrator,
    /// 系统管理员
    Admin,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// 升序
    #[default]
    Asc,
    /// 降序
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
    /// 轻微
    Minor,
    /// 一般
    General,
    /// 严重
    Serious,
}

/// The finding lifecycle: OPEN → RECTIFICATION_ORDERED → RECTIFIED → CLOSED;
/// OPEN | RECTIFICATION_ORDERED → CASE_FILED → PENALISED → CLOSED; DISMISSED with a reason.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FindingStatus")]
pub enum FindingStatus {
    /// 待处理
    Open,
    /// 责令改正
    RectificationOrdered,
    /// 已整改 (confirmed by a re-inspection)
    Rectified,
    /// 立案
    CaseFiled,
    /// 已处罚
    Penalised,
    /// 已结案
    Closed,
    /// 不予立案
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
    /// 其他阶段
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::SamplingPeriod")]
pub enum SamplingPeriod {
    /// 每季度
    Quarter,
    /// 每年
    Year,
    /// 每次专项行动
    Campaign,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::DrawKind")]
pub enum DrawKind {
    /// Units and inspector teams (双随机).
    Units,
    /// 联合检查分组
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
    /// 其他建议
    Other,
}

/// OPEN → ACKNOWLEDGED → ANSWERED → CLOSED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::FeedbackStatus")]
pub enum FeedbackStatus {
    /// 待签收
    Open,
    /// 已签收
    Acknowledged,
    /// 已答复
    Answered,
    /// 已办结
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
    /// 一般通报
    General,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::MonitoringMethod")]
pub enum MonitoringMethod {
    /// 手工监测
    Manual,
    /// 自动监测
    Automatic,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::MonitoringFrequency")]
pub enum MonitoringFrequency {
    /// 每小时
    Hourly,
    /// 每日
    Daily,
    /// 每周
    Weekly,
    /// 每月
    Monthly,
    /// 每季度
    Quarterly,
    /// 每半年
    Semiannual,
    /// 每年
    Annual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ReportFrequency")]
pub enum ReportFrequency {
    /// 月度执行报告
    Monthly,
    /// 季度执行报告
    Quarterly,
    /// 半年执行报告
    Semiannual,
    /// 年度执行报告
    Annual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::ReadingSource")]
pub enum ReadingSource {
    /// 自动监测
    Automatic,
    /// 自行监测
    SelfMonitoring,
    /// 监督性监测
    Supervisory,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::CandidateStatus")]
pub enum CandidateStatus {
    /// 待核实
    Open,
    /// 已排除
    Dismissed,
    /// 已立案（转为违法问题）
    Confirmed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::LedgerResult")]
pub enum LedgerResult {
    /// 按要求记录
    Kept,
    /// 记录不全
    Incomplete,
    /// 未记录
    NotKept,
    /// 记录不实
    Untrue,
}
