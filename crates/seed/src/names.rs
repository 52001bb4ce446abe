//! Vocabularies for the demo seed: Chongqing's districts with towns and a size weight, people's
//! names, company-name characters (字号), GB/T 4754-2017 industry classes common in Chongqing with
//! the outlets and pollutant limits typical of each, and the Chinese texts of permit changes.
//!
//! The limits are the values of the national and Chongqing discharge standards a permit of that
//! industry usually cites (e.g. GB 4915 水泥, GB 13223 火电, GB 21900 电镀, GB 18918 and
//! DB50/963 城镇污水处理厂, GB 18485 生活垃圾焚烧, GB 18466 医疗机构, GB 27631 白酒), rounded to the
//! figures found in real permits. They are demo data: plausible, not legal advice.
//!
//! Order matters: the generator picks by index, so reordering or inserting an entry changes the
//! data a seed produces (the reproducibility test will notice). Append rather than insert.

use entity::enums::AveragingPeriod;

/// A district as the seed knows it: the GB/T 2260 code (or our management-area code), its name,
/// a relative weight for how many units it gets, and some real towns/streets (镇/街道) for addresses.
#[derive(Debug, Clone, Copy)]
pub struct DistrictInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// Relative number of discharge units: the urban and industrial districts have far more than
    /// the mountain counties of the north-east and south-east.
    pub weight: u32,
    pub towns: &'static [&'static str],
}

const fn d(
    code: &'static str,
    name: &'static str,
    weight: u32,
    towns: &'static [&'static str],
) -> DistrictInfo {
    DistrictInfo {
        code,
        name,
        weight,
        towns,
    }
}

/// The 41 districts of the reference data: the 38 of GB/T 2260 and the three management areas.
#[rustfmt::skip]
pub const DISTRICTS: &[DistrictInfo] = &[
    d("500101", "万州区", 6, &["龙都街道", "五桥街道", "百安坝街道", "天城镇", "高峰镇", "新田镇"]),
    d("500102", "涪陵区", 6, &["李渡街道", "龙桥街道", "白涛街道", "义和街道", "清溪镇", "马武镇"]),
    d("500103", "渝中区", 1, &["大坪街道", "化龙桥街道", "石油路街道", "菜园坝街道"]),
    d("500104", "大渡口区", 2, &["建胜镇", "跳磴镇", "八桥街道", "春晖路街道"]),
    d("500105", "江北区", 4, &["鱼嘴镇", "郭家沱街道", "寸滩街道", "石马河街道", "铁山坪街道"]),
    d("500106", "沙坪坝区", 5, &["西永街道", "井口街道", "回龙坝镇", "曾家镇", "土主街道"]),
    d("500107", "九龙坡区", 7, &["西彭镇", "铜罐驿镇", "白市驿镇", "陶家镇", "走马镇", "二郎街道"]),
    d("500108", "南岸区", 4, &["鸡冠石镇", "峡口镇", "迎龙镇", "长生桥镇", "广阳镇"]),
    d("500109", "北碚区", 5, &["蔡家岗街道", "童家溪镇", "歇马街道", "水土街道", "复兴街道"]),
    d("500110", "綦江区", 4, &["古南街道", "三江街道", "篆塘镇", "东溪镇", "扶欢镇"]),
    d("500111", "大足区", 4, &["龙水镇", "智凤街道", "邮亭镇", "万古镇", "双桥街道"]),
    d("500112", "渝北区", 8, &["两路街道", "回兴街道", "双凤桥街道", "木耳镇", "古路镇", "洛碛镇"]),
    d("500113", "巴南区", 6, &["界石镇", "南彭街道", "木洞镇", "麻柳嘴镇", "鱼洞街道", "李家沱街道"]),
    d("500114", "黔江区", 2, &["正阳街道", "城东街道", "舟白街道", "冯家街道"]),
    d("500115", "长寿区", 5, &["晏家街道", "江南街道", "渡舟街道", "凤城街道", "八颗街道"]),
    d("500116", "江津区", 7, &["德感街道", "双福街道", "珞璜镇", "白沙镇", "几江街道", "支坪镇"]),
    d("500117", "合川区", 5, &["草街街道", "土场镇", "钓鱼城街道", "南津街街道", "铜溪镇"]),
    d("500118", "永川区", 5, &["胜利路街道", "大安街道", "陈食街道", "卫星湖街道", "朱沱镇"]),
    d("500119", "南川区", 3, &["东城街道", "西城街道", "南城街道", "水江镇", "大观镇"]),
    d("500120", "璧山区", 5, &["璧城街道", "青杠街道", "来凤街道", "丁家街道", "大路街道"]),
    d("500151", "铜梁区", 4, &["东城街道", "南城街道", "蒲吕街道", "旧县街道", "巴川街道"]),
    d("500152", "潼南区", 3, &["梓潼街道", "桂林街道", "双江镇", "柏梓镇"]),
    d("500153", "荣昌区", 4, &["昌元街道", "广顺街道", "安富街道", "峰高街道", "双河街道"]),
    d("500154", "开州区", 3, &["汉丰街道", "白鹤街道", "赵家街道", "镇安镇"]),
    d("500155", "梁平区", 3, &["梁山街道", "双桂街道", "屏锦镇", "礼让镇"]),
    d("500156", "武隆区", 1, &["凤山街道", "芙蓉街道", "白马镇", "江口镇"]),
    d("500229", "城口县", 1, &["葛城街道", "复兴街道", "修齐镇"]),
    d("500230", "丰都县", 2, &["三合街道", "名山街道", "高家镇", "兴义镇"]),
    d("500231", "垫江县", 2, &["桂溪街道", "桂阳街道", "澄溪镇", "高安镇"]),
    d("500233", "忠县", 2, &["忠州街道", "白公街道", "新生街道", "乌杨街道"]),
    d("500235", "云阳县", 2, &["青龙街道", "双江街道", "人和街道", "盘龙街道"]),
    d("500236", "奉节县", 2, &["永安街道", "夔门街道", "鱼复街道", "朱衣镇"]),
    d("500237", "巫山县", 1, &["高唐街道", "龙门街道", "大昌镇"]),
    d("500238", "巫溪县", 1, &["柏杨街道", "城厢镇", "凤凰镇"]),
    d("500240", "石柱土家族自治县", 1, &["南宾街道", "万安街道", "下路街道", "西沱镇"]),
    d("500241", "秀山土家族苗族自治县", 1, &["中和街道", "乌杨街道", "平凯街道", "清溪场镇"]),
    d("500242", "酉阳土家族苗族自治县", 1, &["桃花源街道", "钟多街道", "龙潭镇", "龚滩镇"]),
    d("500243", "彭水苗族土家族自治县", 1, &["汉葭街道", "绍庆街道", "靛水街道", "郁山镇"]),
    d("500191", "两江新区", 7, &["鱼复街道", "龙兴镇", "复盛镇", "礼嘉街道", "人和街道", "大竹林街道"]),
    d("500192", "重庆高新区", 4, &["西永街道", "含谷镇", "金凤镇", "白市驿镇", "虎溪街道", "香炉山街道"]),
    d("500193", "万盛经开区", 2, &["万盛街道", "东林街道", "南桐镇", "青年镇", "关坝镇"]),
];

/// Towns used for a district the table above does not know (should the reference data grow).
pub const FALLBACK_TOWNS: &[&str] = &["城东街道", "城西街道", "城南街道", "工业园区"];

/// Looks a district up by code.
pub fn district_info(code: &str) -> Option<&'static DistrictInfo> {
    DISTRICTS.iter().find(|d| d.code == code)
}

/// Roads for addresses; industrial-park names dominate because that is where permitted units sit.
#[rustfmt::skip]
pub const ROADS: &[&str] = &[
    "工业园路", "创新大道", "兴业路", "园区大道", "滨江路", "金山路", "工业大道", "环城路",
    "科技路", "民营路", "长江路", "发展大道", "金桥路", "龙腾大道", "新华路", "建设路",
    "人民路", "中山路", "东风路", "开发大道", "桃花路", "兴园路", "北环路", "南环路",
    "渝南大道", "金凤路", "港城路", "化工园路", "新城大道", "桥东路", "石龙路", "同兴路",
];

/// Surnames with rough relative frequencies (per mille of the population, Sichuan-Chongqing
/// skews towards 陈, 刘, 李, 张, 王, 杨, 黄, 周, 何, 罗).
#[rustfmt::skip]
pub const SURNAMES: &[(&str, u32)] = &[
    ("王", 70), ("李", 74), ("张", 68), ("刘", 62), ("陈", 72), ("杨", 45), ("黄", 30),
    ("赵", 20), ("吴", 20), ("周", 26), ("徐", 15), ("孙", 13), ("马", 10), ("朱", 12),
    ("胡", 14), ("郭", 10), ("何", 20), ("高", 9), ("林", 8), ("罗", 18), ("郑", 8),
    ("梁", 8), ("谢", 10), ("宋", 7), ("唐", 14), ("许", 6), ("韩", 5), ("冯", 7), ("邓", 14),
    ("曹", 6), ("彭", 10), ("曾", 10), ("肖", 9), ("田", 8), ("董", 5), ("袁", 7), ("潘", 4),
    ("蒋", 7), ("蔡", 4), ("余", 8), ("杜", 6), ("叶", 4), ("程", 4), ("苏", 4), ("魏", 4),
    ("吕", 3), ("丁", 3), ("任", 6), ("姚", 3), ("卢", 4), ("崔", 2), ("钟", 4), ("谭", 9),
    ("陆", 3), ("汪", 3), ("范", 4), ("石", 4), ("廖", 6), ("贾", 2), ("夏", 3), ("付", 5),
    ("方", 3), ("邹", 4), ("熊", 5), ("秦", 4), ("江", 3), ("雷", 5), ("龙", 4), ("陶", 3),
    ("黎", 3), ("向", 6), ("冉", 5), ("牟", 4), ("母", 2), ("蒲", 3), ("税", 1), ("文", 4),
];

/// Characters for given names (one or two of them).
#[rustfmt::skip]
pub const GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "辉", "力", "斌",
    "红", "玲", "林", "波", "鹏", "飞", "宇", "浩", "凯", "俊", "峰", "晨", "欣", "婷", "雪",
    "琳", "燕", "亮", "成", "志", "春", "海", "云", "兴", "东", "庆", "光", "德", "福", "荣",
    "昌", "远", "川", "渝", "江", "松", "梅", "兰", "蓉", "琴", "小", "晓", "一", "永", "长",
];

/// Characters for shop names (字号): the auspicious ones Chinese company names are made of.
#[rustfmt::skip]
pub const SHOP_CHARS: &[&str] = &[
    "鑫", "达", "华", "金", "源", "恒", "泰", "兴", "隆", "盛", "昌", "宏", "鼎", "丰", "瑞",
    "祥", "和", "嘉", "信", "宇", "航", "海", "天", "龙", "凯", "新", "联", "通", "众", "诚",
    "永", "利", "富", "佳", "美", "安", "康", "博", "创", "远", "大", "德", "正", "明", "光",
    "辉", "顺", "福", "川", "渝", "巴", "江", "山", "峰", "汇", "聚", "力", "成", "发", "腾",
    "飞", "优", "益", "润", "泽", "立", "科", "银", "晟", "弘", "禾", "庆", "万", "百", "盈",
    "协", "合", "同", "卓", "越", "星", "洋", "亿", "邦", "豪", "锦", "程", "伟", "民", "中",
    "元", "久", "长", "青", "乾", "坤", "宝", "玉", "翔", "辰", "锐", "威", "尚", "品", "云",
    "东", "南", "西", "北", "荣", "旺", "高", "峡", "涪", "璧", "綦", "渝", "蜀", "川",
];

/// Company-form suffixes with their rough shares.
pub const COMPANY_SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 70),
    ("有限责任公司", 18),
    ("股份有限公司", 8),
    ("厂", 4),
];

/// Mobile-number prefixes of the three carriers (the contact phone of a small unit is almost
/// always the owner's mobile).
#[rustfmt::skip]
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "173", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "191", "199",
];

/// Why a unit is on the 正面清单 (positive list: fewer routine checks while current).
pub const POSITIVE_LIST_REASONS: &[&str] = &[
    "污染治理设施先进、环境管理规范，近三年无环境违法行为",
    "民生保障重点企业，纳入监督执法正面清单",
    "市级重点建设项目，实行非现场监管为主",
    "环境信用评价为诚信企业，自动监控数据稳定达标",
    "疫情防控物资生产保障企业",
    "主动实施深度治理，排放水平优于标准要求",
];

/// Reasons of a 变更 (CHANGED version) that does not touch outlets or limits.
pub const ADMIN_CHANGE_REASONS: &[&str] = &[
    "排污单位名称变更",
    "法定代表人变更",
    "生产经营场所地址名称变更（门牌号调整）",
    "污染治理设施工艺优化，许可事项不变",
    "自行监测方案调整",
    "执行报告频次调整为季度报告",
];

/// Reason of a 延续 (RENEWED version).
pub const RENEWAL_REASONS: &[&str] = &[
    "排污许可证有效期届满，依申请延续",
    "有效期届满前六十日内提出延续申请，经审查准予延续",
];

/// Reasons of a 撤销 (REVOKED): the permit should not have been issued (Art 40).
pub const REVOCATION_REASONS: &[&str] = &[
    "经核查，该单位以欺骗手段取得排污许可证，依据《排污许可管理条例》第四十条予以撤销",
    "申请材料中污染物排放量数据不实，依法撤销排污许可证",
    "审批部门违反法定程序核发，依法撤销",
];

/// Reasons of a 注销 (CANCELLED).
pub const CANCELLATION_REASONS: &[&str] = &[
    "排污单位依法终止（企业注销登记）",
    "生产线永久关停，排污单位申请注销",
    "实施环保搬迁入园，原厂址排污许可证注销",
    "纳入化解过剩产能关闭名单，依法注销",
];

/// Which media an industry discharges to; the first-named one carries its main outlets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Air,
    Water,
    /// Both, main outlets on stacks (e.g. power plants, car plants).
    AirThenWater,
    /// Both, main outlets on effluent (e.g. sewage works, distilleries).
    WaterThenAir,
}

/// How units of an industry are usually named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStyle {
    /// 重庆 + 字号 + trade + company suffix: 重庆鑫达汽车零部件有限公司.
    Company,
    /// 重庆鑫达医院 / 重庆市綦江区人民医院.
    Hospital,
    /// Half companies (重庆鑫达水务有限公司), half plants named by place (重庆市江津区德感污水处理厂).
    WaterWorks,
}

/// A permitted pollutant as an industry's permits usually state it.
#[derive(Debug, Clone, Copy)]
pub struct Pollutant {
    pub name: &'static str,
    pub unit: &'static str,
    /// Concentration limits found in permits (standard, special/stricter, indirect-discharge...).
    pub limits: &'static [f64],
    pub period: AveragingPeriod,
    /// Typical annual permitted quantity of one main outlet, in t/a (low, high), for pollutants
    /// that get a quantity limit (总量控制); `None` for those that get a concentration only.
    pub annual_tpa: Option<(f64, f64)>,
}

const MG_M3: &str = "mg/m³";
const MG_L: &str = "mg/L";

const fn air(
    name: &'static str,
    limits: &'static [f64],
    annual_tpa: Option<(f64, f64)>,
) -> Pollutant {
    Pollutant {
        name,
        unit: MG_M3,
        limits,
        period: AveragingPeriod::Hourly,
        annual_tpa,
    }
}

const fn water(
    name: &'static str,
    limits: &'static [f64],
    annual_tpa: Option<(f64, f64)>,
) -> Pollutant {
    Pollutant {
        name,
        unit: MG_L,
        limits,
        period: AveragingPeriod::Daily,
        annual_tpa,
    }
}

/// An industry class of GB/T 4754-2017 with what its permits typically contain.
#[derive(Debug, Clone, Copy)]
pub struct Industry {
    pub code: &'static str,
    pub name: &'static str,
    /// Relative likelihood among KEY, SIMPLIFIED and REGISTRATION units, following the 固定污染源
    /// 排污许可分类管理名录 (2019): a power plant is always KEY, a car-repair shop nearly always
    /// REGISTRATION.
    pub weights: [u32; 3],
    /// Districts where the industry clusters (units there are drawn to it four times as often).
    pub hubs: &'static [&'static str],
    pub media: Media,
    pub style: NameStyle,
    /// Trade words for the unit name (the part between 字号 and 有限公司).
    pub trades: &'static [&'static str],
    /// Names of air outlets, main sources first.
    pub air_sources: &'static [&'static str],
    /// Names of water outlets, main sources first.
    pub water_sources: &'static [&'static str],
    /// Air pollutants, the characteristic one first (every air outlet gets it).
    pub air: &'static [Pollutant],
    /// Water pollutants, the characteristic one first.
    pub water: &'static [Pollutant],
}

use AveragingPeriod::Daily;
use Media::{Air, AirThenWater, Water, WaterThenAir};
use NameStyle::{Company, Hospital, WaterWorks};

// Pollutant names used in several industries, so that they are spelt the same everywhere.
const PM: &str = "颗粒物";
const SO2: &str = "二氧化硫";
const NOX: &str = "氮氧化物";
const NMHC: &str = "非甲烷总烃";
const COD: &str = "化学需氧量";
const NH3N: &str = "氨氮";
const TN: &str = "总氮";
const TP: &str = "总磷";
const BOD5: &str = "五日生化需氧量";
const SS: &str = "悬浮物";
const OIL: &str = "石油类";
const BENZENE: &str = "苯";
const TOL_XYL: &str = "甲苯与二甲苯合计";

/// Coating-line VOCs and dust (DB50/577 表面涂装, GB 16297).
const COATING_AIR: &[Pollutant] = &[
    air(NMHC, &[50.0, 60.0, 120.0], Some((0.5, 60.0))),
    air(PM, &[10.0, 20.0, 120.0], Some((0.2, 20.0))),
    air(BENZENE, &[1.0], None),
    air(TOL_XYL, &[15.0, 20.0], None),
];

#[rustfmt::skip]
pub const INDUSTRIES: &[Industry] = &[
    Industry {
        code: "C3670",
        name: "汽车零部件及配件制造",
        weights: [8, 14, 10],
        hubs: &["500191", "500112", "500113", "500120", "500116"],
        media: AirThenWater,
        style: Company,
        trades: &["汽车零部件", "汽车配件", "汽车部件", "机械", "车桥", "汽车内饰件", "精密铸造"],
        air_sources: &["涂装废气排气筒", "喷漆房废气排气筒", "烘干炉废气排气筒", "焊接烟尘排气筒", "抛丸粉尘排气筒", "熔炼炉废气排气筒"],
        water_sources: &["生产废水总排口", "涂装前处理废水排放口", "厂区综合废水排放口"],
        air: COATING_AIR,
        water: &[
            water(COD, &[60.0, 100.0, 500.0], Some((1.0, 40.0))),
            water(NH3N, &[8.0, 15.0, 45.0], Some((0.1, 4.0))),
            water(OIL, &[3.0, 5.0, 20.0], None),
            water(TP, &[0.5, 1.0, 8.0], None),
            water("总锌", &[1.5, 2.0], None),
            water(SS, &[50.0, 70.0, 400.0], None),
        ],
    },
    Industry {
        code: "C3011",
        name: "水泥制造",
        weights: [9, 3, 0],
        hubs: &["500102", "500110", "500119", "500230", "500233"],
        media: Air,
        style: Company,
        trades: &["水泥", "建材", "新型建材"],
        air_sources: &["水泥窑窑尾排气筒", "水泥窑窑头排气筒", "煤磨排气筒", "水泥磨排气筒", "生料磨排气筒", "包装机排气筒", "熟料库顶排气筒"],
        water_sources: &[],
        air: &[
            air(PM, &[10.0, 20.0, 30.0], Some((5.0, 150.0))),
            air(NOX, &[100.0, 260.0, 320.0, 400.0], Some((50.0, 1500.0))),
            air(SO2, &[50.0, 100.0, 200.0], Some((5.0, 300.0))),
            air("氟化物", &[3.0, 5.0], None),
            air("氨", &[8.0, 10.0], None),
            air("汞及其化合物", &[0.05], None),
        ],
        water: &[],
    },
    Industry {
        code: "D4411",
        name: "火力发电",
        weights: [6, 0, 0],
        hubs: &["500115", "500102", "500101", "500117", "500116"],
        media: AirThenWater,
        style: Company,
        trades: &["发电", "电力", "能源", "热电"],
        air_sources: &["锅炉烟气排气筒", "煤仓粉尘排气筒", "灰库排气筒", "石灰石粉仓排气筒"],
        water_sources: &["脱硫废水处理设施排放口", "工业废水总排口"],
        air: &[
            air(PM, &[10.0, 20.0, 30.0], Some((20.0, 400.0))),
            air(SO2, &[35.0, 50.0, 100.0, 200.0], Some((50.0, 3000.0))),
            air(NOX, &[50.0, 100.0], Some((100.0, 4000.0))),
            air("汞及其化合物", &[0.03], Some((0.005, 0.3))),
        ],
        water: &[
            water(COD, &[60.0, 100.0], Some((1.0, 50.0))),
            water(NH3N, &[8.0, 15.0], None),
            water(SS, &[70.0], None),
            water(OIL, &[5.0], None),
            water("氟化物", &[10.0], None),
        ],
    },
    Industry {
        code: "D4620",
        name: "污水处理及其再生利用",
        weights: [7, 6, 1],
        hubs: &[],
        media: WaterThenAir,
        style: WaterWorks,
        trades: &["水务", "环保", "水处理", "排水"],
        air_sources: &["除臭设施排气筒", "污泥脱水间除臭排气筒"],
        water_sources: &["污水处理厂尾水排放口", "总排口"],
        air: &[air("硫化氢", &[5.0], None), air("氨", &[20.0], None)],
        // GB 18918 一级A and the stricter DB50/963-2020 values for sensitive catchments.
        water: &[
            water(COD, &[50.0, 30.0, 40.0], Some((10.0, 3000.0))),
            water(NH3N, &[5.0, 1.5, 2.0, 8.0], Some((1.0, 300.0))),
            water(TP, &[0.5, 0.3, 0.4], Some((0.2, 50.0))),
            water(TN, &[15.0, 10.0], Some((5.0, 1000.0))),
            water(BOD5, &[10.0, 6.0], None),
            water(SS, &[10.0], None),
            Pollutant { name: "粪大肠菌群数", unit: "个/L", limits: &[1000.0], period: Daily, annual_tpa: None },
        ],
    },
    Industry {
        code: "O8111",
        name: "汽车修理与维护",
        weights: [0, 1, 22],
        hubs: &[],
        media: Air,
        style: Company,
        trades: &["汽车服务", "汽车维修", "汽修", "汽车销售服务"],
        air_sources: &["喷漆烤漆房废气排气筒", "打磨粉尘排气筒"],
        water_sources: &[],
        air: COATING_AIR,
        water: &[],
    },
    Industry {
        code: "Q8411",
        name: "综合医院",
        weights: [1, 5, 6],
        hubs: &[],
        media: Water,
        style: Hospital,
        trades: &["医院"],
        air_sources: &[],
        water_sources: &["医疗废水处理站排放口", "污水总排口"],
        air: &[],
        water: &[
            water(COD, &[60.0, 250.0], Some((1.0, 60.0))),
            Pollutant { name: "粪大肠菌群数", unit: "MPN/L", limits: &[500.0, 5000.0], period: Daily, annual_tpa: None },
            water(NH3N, &[15.0, 45.0], Some((0.1, 8.0))),
            water(BOD5, &[20.0, 100.0], None),
            water(SS, &[20.0, 60.0], None),
        ],
    },
];

// ---------------------------------------------------------------------------------------------
// Enforcement vocabularies (inspectors, inspections, findings, decisions).

/// The short name a district's documents use (渝北, 两江, 高新, 忠县): the name without 重庆, the
/// ethnic-autonomy wording and 区/县, or the whole name when that would leave one character.
pub fn district_short_name(name: &str) -> String {
    let mut short = name.trim_start_matches("重庆");
    for suffix in [
        "土家族苗族自治县",
        "苗族土家族自治县",
        "土家族自治县",
        "经开区",
        "新区",
        "区",
        "县",
    ] {
        if let Some(stem) = short.strip_suffix(suffix) {
            short = stem;
            break;
        }
    }
    if short.chars().count() < 2 {
        name.to_owned()
    } else {
        short.to_owned()
    }
}

/// Declared conflicts of interest (回避 grounds of the 执法人员名录库).
pub const CONFLICT_REASONS: &[&str] = &[
    "近亲属在该单位担任中层以上管理人员",
    "本人曾在该单位任职，离职未满三年",
    "配偶持有该单位股份",
    "与该单位法定代表人系近亲属关系",
    "曾作为技术评估专家参与该单位排污许可证审核",
    "近亲属在该单位从事环保管理工作",
];

/// Where an inspection checklist item applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckScope {
    /// Units holding a permit.
    Permit,
    /// REGISTRATION-tier units.
    Registration,
    /// Every unit.
    Any,
    /// KEY units (automatic monitoring, Art 20).
    Key,
    /// Units with air outlets (unorganised emissions).
    Air,
    /// The heavy-pollution season (November to February), when special-period limits apply.
    Season,
}

/// The checklist, in the order inspection records list it: each item, the violation codes a
/// FAIL on it stands for, where it applies, and whether it can be checked without a visit
/// (data, reports, documents).
#[rustfmt::skip]
pub const CHECK_ITEMS: &[(&str, &[&str], CheckScope, bool)] = &[
    ("排污许可证持证及有效期情况", &["NP-1", "NP-2", "NP-3", "NP-4"], CheckScope::Permit, true),
    ("排污登记表填报情况", &["RG-1"], CheckScope::Registration, true),
    ("许可排放浓度和排放量达标情况", &["EX-1"], CheckScope::Permit, true),
    ("污染防治设施正常运行情况", &["EV-3"], CheckScope::Any, false),
    ("暗管、渗井、渗坑等逃避监管排放排查", &["EV-1"], CheckScope::Any, false),
    ("自动监测设备安装、联网及运行情况", &["AM-1", "AM-2"], CheckScope::Key, true),
    ("监测数据真实性核查", &["EV-2"], CheckScope::Permit, true),
    ("自行监测方案制定及执行情况", &["SM-1", "SM-2"], CheckScope::Permit, true),
    ("排放口位置、数量及排放去向", &["OU-1", "OU-2"], CheckScope::Permit, false),
    ("排放口规范化设置及标志牌", &["OU-3"], CheckScope::Permit, false),
    ("无组织排放控制措施", &["FU-1"], CheckScope::Air, false),
    ("重污染天气等特殊时段限产限排落实情况", &["FU-2"], CheckScope::Season, false),
    ("环境管理台账记录情况", &["LG-1", "LG-2"], CheckScope::Permit, false),
    ("排污许可证执行报告提交情况", &["ER-1", "ER-2"], CheckScope::Permit, true),
    ("污染物排放信息公开情况", &["IP-1"], CheckScope::Permit, true),
    ("自动监测数据异常及超标报告情况", &["RP-1"], CheckScope::Key, true),
    ("排污许可证真实性及使用情况", &["FR-1", "FR-2"], CheckScope::Permit, false),
    ("配合监督检查情况", &["OB-1"], CheckScope::Any, false),
];

/// Reasons a finding is dismissed (DISMISSED needs one).
pub const DISMISSAL_REASONS: &[&str] = &[
    "经核实，超标数据系监测设备故障所致，不构成违法",
    "经复核，该排放口已于检查前依法办理变更，不构成违法",
    "证据不足，不予认定",
    "经调查，属于排污许可证允许的临时排放情形",
    "当事人提供的补充材料证明已按规定执行",
];

/// Kinds of evidence: (file stem, extension, media type, size range in KiB).
pub const EVIDENCE_ON_SITE: &[(&str, &str, &str, (i64, i64))] = &[
    ("现场照片", "jpg", "image/jpeg", (800, 6000)),
    ("现场视频", "mp4", "video/mp4", (20_000, 400_000)),
    ("现场检查笔录", "pdf", "application/pdf", (100, 800)),
    ("调查询问笔录", "pdf", "application/pdf", (100, 900)),
    ("台账照片", "jpg", "image/jpeg", (800, 5000)),
];
pub const EVIDENCE_REMOTE: &[(&str, &str, &str, (i64, i64))] = &[
    ("自动监测数据截图", "png", "image/png", (200, 2000)),
    (
        "在线监测数据导出",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (30, 900),
    ),
    ("视频监控截图", "png", "image/png", (300, 2500)),
];

/// The 2021 permit campaign of the plan (重庆市2021年排污许可专项执法现场检查计划).
pub const CAMPAIGN_2021_NAME: &str = "2021年排污许可专项执法行动";

/// The current year's campaign, after the year: "2025年排污许可证后监管专项行动".
pub const CURRENT_CAMPAIGN_SUFFIX: &str = "年排污许可证后监管专项行动";

/// The phases of a campaign (plan §4), in order.
pub const PHASE_NAMES: [&str; 3] = ["区县自查", "市级联合抽查", "总结"];

/// The municipal joint inspection groups (plan §4(二): four groups of 执法总队, 总量处 and
/// 监测中心).
pub const JOINT_GROUPS: [&str; 4] = ["第一组", "第二组", "第三组", "第四组"];

#[cfg(test)]
mod tests {
    use super::*;
    use permit_core::domain::codes::{DistrictCode, parse_industry_code};

    // The permits' outlets and limits are checked by the domain as they are seeded
    // (`permits::validate_outlets`); what is left is the tables' own keys.
    #[test]
    fn codes_are_valid_and_unique() {
        let mut codes: Vec<&str> = DISTRICTS.iter().map(|d| d.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 41, "district codes are unique");
        assert!(codes.iter().all(|c| DistrictCode::parse(c).is_ok()));
        assert!(
            DISTRICTS
                .iter()
                .all(|d| d.weight > 0 && !d.towns.is_empty())
        );
        for i in INDUSTRIES {
            assert_eq!(parse_industry_code(i.code).as_deref(), Ok(i.code));
            assert!(
                i.hubs.iter().all(|h| district_info(h).is_some()),
                "{}",
                i.code
            );
        }
        for category in 0..3 {
            assert!(INDUSTRIES.iter().any(|i| i.weights[category] > 0));
        }
    }
}
