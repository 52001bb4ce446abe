//! Reference data: Chongqing's districts, the agencies that share permit and enforcement data,
//! and the violation codes of 《排污许可管理条例》 (State Council Order No. 736).
//!
//! [`load`] upserts all of it (`INSERT … ON CONFLICT (pk) DO UPDATE`), so it is safe, and meant,
//! to run on every start: a corrected name or fine range here reaches existing databases on the
//! next start. Rows dropped from these lists are *not* deleted, because units, permits and
//! findings may still refer to them.

use sea_orm_migration::prelude::*;

/// Districts as `(code, name_zh, kind)`; `kind` is the `DistrictKind` key.
///
/// The 38 districts and counties carry their GB/T 2260 codes (500101–500156 for 区,
/// 500229–500243 for 县). The three management areas have no GB/T 2260 code, so they get codes
/// of our own from 500157–500199, a range GB/T 2260 leaves unused for Chongqing:
/// 500191 两江新区, 500192 重庆高新区, 500193 万盛经开区.
pub const DISTRICTS: &[(&str, &str, &str)] = &[
    ("500101", "万州区", "DISTRICT"),
    ("500102", "涪陵区", "DISTRICT"),
    ("500103", "渝中区", "DISTRICT"),
    ("500104", "大渡口区", "DISTRICT"),
    ("500105", "江北区", "DISTRICT"),
    ("500106", "沙坪坝区", "DISTRICT"),
    ("500107", "九龙坡区", "DISTRICT"),
    ("500108", "南岸区", "DISTRICT"),
    ("500109", "北碚区", "DISTRICT"),
    ("500110", "綦江区", "DISTRICT"),
    ("500111", "大足区", "DISTRICT"),
    ("500112", "渝北区", "DISTRICT"),
    ("500113", "巴南区", "DISTRICT"),
    ("500114", "黔江区", "DISTRICT"),
    ("500115", "长寿区", "DISTRICT"),
    ("500116", "江津区", "DISTRICT"),
    ("500117", "合川区", "DISTRICT"),
    ("500118", "永川区", "DISTRICT"),
    ("500119", "南川区", "DISTRICT"),
    ("500120", "璧山区", "DISTRICT"),
    ("500151", "铜梁区", "DISTRICT"),
    ("500152", "潼南区", "DISTRICT"),
    ("500153", "荣昌区", "DISTRICT"),
    ("500154", "开州区", "DISTRICT"),
    ("500155", "梁平区", "DISTRICT"),
    ("500156", "武隆区", "DISTRICT"),
    ("500229", "城口县", "COUNTY"),
    ("500230", "丰都县", "COUNTY"),
    ("500231", "垫江县", "COUNTY"),
    ("500233", "忠县", "COUNTY"),
    ("500235", "云阳县", "COUNTY"),
    ("500236", "奉节县", "COUNTY"),
    ("500237", "巫山县", "COUNTY"),
    ("500238", "巫溪县", "COUNTY"),
    ("500240", "石柱土家族自治县", "COUNTY"),
    ("500241", "秀山土家族苗族自治县", "COUNTY"),
    ("500242", "酉阳土家族苗族自治县", "COUNTY"),
    ("500243", "彭水苗族土家族自治县", "COUNTY"),
    ("500191", "两江新区", "MANAGEMENT_AREA"),
    ("500192", "重庆高新区", "MANAGEMENT_AREA"),
    ("500193", "万盛经开区", "MANAGEMENT_AREA"),
];

/// Municipal agencies as `(code, name_zh, kind)`; all are level `MUNICIPAL` with no district.
/// `500000` is Chongqing's own GB/T 2260 code.
pub const MUNICIPAL_AGENCIES: &[(&str, &str, &str)] = &[
    (
        "500000-ENF",
        "重庆市生态环境保护综合行政执法总队",
        "ENFORCEMENT",
    ),
    ("500000-PMT", "重庆市生态环境局总量处", "PERMIT_OFFICE"),
    ("500000-MON", "重庆市生态环境监测中心", "MONITORING"),
    ("500000-SUP", "重庆市生态环境局执法督导组", "SUPERVISION"),
];

/// One agency row as [`load`] writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agency {
    pub code: String,
    pub name_zh: String,
    /// `AgencyKind` key.
    pub kind: &'static str,
    /// `AgencyLevel` key.
    pub level: &'static str,
    pub district_code: Option<&'static str>,
}

/// All agencies: for every district a permit office (`{code}-PMT`) and an enforcement
/// detachment (`{code}-ENF`), then the municipal agencies.
pub fn agencies() -> Vec<Agency> {
    let district_level = DISTRICTS.iter().flat_map(|&(code, name, _)| {
        [
            Agency {
                code: format!("{code}-PMT"),
                name_zh: format!("{name}生态环境局排污许可科"),
                kind: "PERMIT_OFFICE",
                level: "DISTRICT",
                district_code: Some(code),
            },
            Agency {
                code: format!("{code}-ENF"),
                name_zh: format!("{name}生态环境保护综合行政执法支队"),
                kind: "ENFORCEMENT",
                level: "DISTRICT",
                district_code: Some(code),
            },
        ]
    });
    let municipal = MUNICIPAL_AGENCIES.iter().map(|&(code, name, kind)| Agency {
        code: code.to_owned(),
        name_zh: name.to_owned(),
        kind,
        level: "MUNICIPAL",
        district_code: None,
    });
    district_level.chain(municipal).collect()
}

/// One violation code. Fines are integer yuan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViolationCode {
    pub code: &'static str,
    /// `ViolationCategory` key (plan §3).
    pub category: &'static str,
    /// Article and item of the Regulation, or a note where the basis is local guidance.
    pub article: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub fine_min: Option<i64>,
    pub fine_max: Option<i64>,
    pub penalty_note: &'static str,
}

const NP: &str = "UNPERMITTED_DISCHARGE";
const PV: &str = "PERMIT_VIOLATION";
const SM: &str = "SELF_MONITORING";
const OM: &str = "OTHER_MANAGEMENT";

// Penalty notes repeated by several codes. The brief's table writes "same" for these; the full
// text is stored so that each row reads on its own.
const ART33_NOTE: &str = "correct / restrict / suspend; 200k–1M; serious: closure";
const ART34_EVASION_NOTE: &str = "200k–1M; serious: permit withdrawn, closure; detention (Art 44)";
const ART35_NOTE: &str = "50k–200k; serious 200k–1M";
const ART36_NOTE: &str = "20k–200k";

/// The violation codes in display order (`sort_order` is the 1-based position here).
///
/// Fine ranges are the article's normal range; where a serious case allows more (Art 35), the
/// higher range is only in `penalty_note`. Art 43 sets a ceiling only, so RG-1's minimum is 0.
pub const VIOLATION_CODES: &[ViolationCode] = &[
    vc(
        "NP-1",
        NP,
        "33(1)",
        "未取得排污许可证排放污染物",
        "discharging without a permit",
        (200_000, 1_000_000),
        ART33_NOTE,
    ),
    vc(
        "NP-2",
        NP,
        "33(2)",
        "排污许可证有效期届满未申请延续或者延续申请未经批准排放污染物",
        "permit expired, not renewed or renewal refused",
        (200_000, 1_000_000),
        ART33_NOTE,
    ),
    vc(
        "NP-3",
        NP,
        "33(3)",
        "被依法撤销、注销、吊销排污许可证后排放污染物",
        "discharging after the permit was revoked, cancelled or withdrawn",
        (200_000, 1_000_000),
        ART33_NOTE,
    ),
    vc(
        "NP-4",
        NP,
        "33(4)",
        "依法应当重新申请取得排污许可证，未重新申请取得排污许可证排放污染物",
        "re-application required (Art 15) but not made",
        (200_000, 1_000_000),
        ART33_NOTE,
    ),
    vc(
        "EX-1",
        PV,
        "34(1)",
        "超过许可排放浓度、许可排放量排放污染物",
        "exceeding permitted concentration or quantity",
        (200_000, 1_000_000),
        "200k–1M; serious: permit withdrawn, closure",
    ),
    vc(
        "EV-1",
        PV,
        "34(2)",
        "通过暗管、渗井、渗坑、灌注等逃避监管的方式违法排放污染物",
        "hidden pipe, seepage well or pit, injection (暗管/渗井/渗坑/灌注)",
        (200_000, 1_000_000),
        ART34_EVASION_NOTE,
    ),
    vc(
        "EV-2",
        PV,
        "34(2)",
        "通过篡改、伪造监测数据等逃避监管的方式违法排放污染物",
        "tampering with or forging monitoring data",
        (200_000, 1_000_000),
        ART34_EVASION_NOTE,
    ),
    vc(
        "EV-3",
        PV,
        "34(2)",
        "通过不正常运行污染防治设施等逃避监管的方式违法排放污染物",
        "pollution control facilities not operated normally",
        (200_000, 1_000_000),
        ART34_EVASION_NOTE,
    ),
    vc(
        "FU-1",
        OM,
        "35(1)",
        "未按照排污许可证规定控制大气污染物无组织排放",
        "unorganised emissions not controlled as permitted",
        (50_000, 200_000),
        ART35_NOTE,
    ),
    vc(
        "FU-2",
        OM,
        "35(2)",
        "特殊时段未按照排污许可证规定停止或者限制排放污染物",
        "not limiting discharge in special periods",
        (50_000, 200_000),
        ART35_NOTE,
    ),
    vc(
        "OU-1",
        OM,
        "36(1)",
        "污染物排放口位置或者数量不符合排污许可证规定",
        "outlet location or number differs from the permit",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "OU-2",
        OM,
        "36(2)",
        "污染物排放方式或者排放去向不符合排污许可证规定",
        "discharge method or destination differs from the permit",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "AM-1",
        SM,
        "36(3)",
        "损毁或者擅自移动、改变污染物排放自动监测设备",
        "automatic monitoring equipment damaged, moved or altered",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "AM-2",
        SM,
        "36(4)",
        "未按照排污许可证规定安装、使用污染物排放自动监测设备并与生态环境主管部门的监控设备联网，\
         或者未保证污染物排放自动监测设备正常运行",
        "automatic monitoring not installed, not networked, or not kept running",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "SM-1",
        SM,
        "36(5)",
        "未按照排污许可证规定制定自行监测方案并开展自行监测",
        "no self-monitoring plan or self-monitoring not done",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "SM-2",
        SM,
        "36(6)",
        "未按照排污许可证规定保存原始监测记录",
        "original monitoring records not kept",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "IP-1",
        OM,
        "36(7)",
        "未按照排污许可证规定公开或者不如实公开污染物排放信息",
        "emission information not disclosed or untrue",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "RP-1",
        OM,
        "36(8)",
        "发现污染物排放自动监测设备传输数据异常或者污染物排放超过污染物排放标准等异常情况不报告",
        "abnormal transmission or exceedance not reported",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "OU-3",
        OM,
        "36 (local guideline)",
        "污染物排放口未按规定规范化设置或者未设置标志牌",
        "outlet not standardised / no signboard (Art 18)",
        (20_000, 200_000),
        ART36_NOTE,
    ),
    vc(
        "LG-1",
        OM,
        "37(1)",
        "未建立环境管理台账记录制度，或者未按照排污许可证规定记录",
        "ledger not kept",
        (5_000, 20_000),
        "5k–20k per instance",
    ),
    vc(
        "LG-2",
        OM,
        "37(2)",
        "未如实记录主要生产设施及污染防治设施运行情况或者污染物排放浓度、排放量",
        "ledger untrue",
        (5_000, 20_000),
        "5k–20k",
    ),
    vc(
        "ER-1",
        OM,
        "37(3)",
        "未按照排污许可证规定提交排污许可证执行报告",
        "execution report not submitted",
        (5_000, 20_000),
        "5k–20k",
    ),
    vc(
        "ER-2",
        OM,
        "37(4)",
        "未如实报告污染物排放行为或者污染物排放浓度、排放量",
        "execution report untrue",
        (5_000, 20_000),
        "5k–20k",
    ),
    vc(
        "OB-1",
        OM,
        "39",
        "拒不配合生态环境主管部门监督检查，或者在接受监督检查时弄虚作假",
        "refusing inspection or falsifying during it",
        (20_000, 200_000),
        "20k–200k",
    ),
    vc(
        "FR-1",
        OM,
        "40",
        "以欺骗、贿赂等不正当手段申请取得排污许可证",
        "permit obtained by fraud or bribery",
        (200_000, 500_000),
        "permit revoked; 200k–500k; 3-year bar",
    ),
    vc(
        "FR-2",
        OM,
        "41",
        "伪造、变造、转让排污许可证",
        "forging, altering or transferring a permit",
        (100_000, 300_000),
        "permit confiscated or withdrawn; 100k–300k; 3-year bar",
    ),
    vc(
        "RG-1",
        OM,
        "43",
        "应当填报排污登记表而未依照规定填报排污信息",
        "registration-tier unit not registered",
        (0, 50_000),
        "up to 50k",
    ),
];

/// Keeps the table above to one line per field.
const fn vc(
    code: &'static str,
    category: &'static str,
    article: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    (fine_min, fine_max): (i64, i64),
    penalty_note: &'static str,
) -> ViolationCode {
    ViolationCode {
        code,
        category,
        article,
        label_zh,
        label_en,
        fine_min: Some(fine_min),
        fine_max: Some(fine_max),
        penalty_note,
    }
}

/// Upserts districts, then agencies (which refer to districts), then violation codes.
///
/// Pass a transaction to make the load all-or-nothing; run twice, it changes nothing.
pub async fn load(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut districts = Query::insert()
        .into_table(Districts::Table)
        .columns([Districts::Code, Districts::NameZh, Districts::Kind])
        .on_conflict(
            OnConflict::column(Districts::Code)
                .update_columns([Districts::NameZh, Districts::Kind])
                .to_owned(),
        )
        .to_owned();
    for &(code, name, kind) in DISTRICTS {
        districts
            .values([code.into(), name.into(), kind.into()])
            .map_err(arity)?;
    }
    db.execute(&districts).await?;

    let mut agencies_stmt = Query::insert()
        .into_table(Agencies::Table)
        .columns([
            Agencies::Code,
            Agencies::NameZh,
            Agencies::Kind,
            Agencies::Level,
            Agencies::DistrictCode,
        ])
        .on_conflict(
            OnConflict::column(Agencies::Code)
                .update_columns([
                    Agencies::NameZh,
                    Agencies::Kind,
                    Agencies::Level,
                    Agencies::DistrictCode,
                ])
                .to_owned(),
        )
        .to_owned();
    for agency in agencies() {
        agencies_stmt
            .values([
                agency.code.into(),
                agency.name_zh.into(),
                agency.kind.into(),
                agency.level.into(),
                agency.district_code.into(),
            ])
            .map_err(arity)?;
    }
    db.execute(&agencies_stmt).await?;

    let mut codes = Query::insert()
        .into_table(ViolationCodes::Table)
        .columns([
            ViolationCodes::Code,
            ViolationCodes::Category,
            ViolationCodes::Article,
            ViolationCodes::LabelZh,
            ViolationCodes::LabelEn,
            ViolationCodes::FineMin,
            ViolationCodes::FineMax,
            ViolationCodes::PenaltyNote,
            ViolationCodes::SortOrder,
        ])
        .on_conflict(
            OnConflict::column(ViolationCodes::Code)
                .update_columns([
                    ViolationCodes::Category,
                    ViolationCodes::Article,
                    ViolationCodes::LabelZh,
                    ViolationCodes::LabelEn,
                    ViolationCodes::FineMin,
                    ViolationCodes::FineMax,
                    ViolationCodes::PenaltyNote,
                    ViolationCodes::SortOrder,
                ])
                .to_owned(),
        )
        .to_owned();
    for (sort_order, vc) in (1i32..).zip(VIOLATION_CODES) {
        codes
            .values([
                vc.code.into(),
                vc.category.into(),
                vc.article.into(),
                vc.label_zh.into(),
                vc.label_en.into(),
                vc.fine_min.into(),
                vc.fine_max.into(),
                vc.penalty_note.into(),
                sort_order.into(),
            ])
            .map_err(arity)?;
    }
    db.execute(&codes).await?;

    Ok(())
}

/// Only reachable if a `values` row above is out of step with its `columns` list.
fn arity(err: sea_query::error::Error) -> DbErr {
    DbErr::Custom(format!("reference data statement: {err}"))
}

// Column names of the reference tables as they are today. Kept apart from the migration's
// identifiers on purpose: a migration is frozen once shipped, this loader follows the current
// schema.
#[derive(DeriveIden)]
enum Districts {
    Table,
    Code,
    NameZh,
    Kind,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Code,
    NameZh,
    Kind,
    Level,
    DistrictCode,
}

#[derive(DeriveIden)]
enum ViolationCodes {
    Table,
    Code,
    Category,
    Article,
    LabelZh,
    LabelEn,
    FineMin,
    FineMax,
    PenaltyNote,
    SortOrder,
}
