//! The generated 91160 world: hospitals ("units") with their departments and doctors,
//! built once per load from the seed, and the schedules of every doctor, derived on
//! demand from (seed, doctor, day, time type) so that any day of any doctor costs a few
//! arithmetic operations and no memory until someone books or releases on it.
//!
//! Identifiers are stable per seed. A schedule id is `{doctorId}{yyyymmdd}{1|2|3}`
//! (am/pm/em) and a resource id (the order's `detlId`) is the schedule id followed by the
//! two-digit number of the time slot, so both can be resolved without an index.

use crate::clock;
use crate::gen::{self, Rng};
use haoyuan_core::date::Date;
use std::collections::{HashMap, HashSet};

/// A city: names, GB/T 2260 codes, phone area code, centre, districts.
pub(super) struct City {
    name: &'static str,
    full: &'static str,
    province: &'static str,
    province_code: &'static str,
    code: &'static str,
    area: &'static str,
    lng: f64,
    lat: f64,
    districts: &'static [(&'static str, &'static str)],
    weight: u64,
}

macro_rules! city {
    ($n:expr, $f:expr, $p:expr, $pc:expr, $c:expr, $a:expr, $lng:expr, $lat:expr, $w:expr, [$(($dn:expr, $dc:expr)),*]) => {
        City { name: $n, full: $f, province: $p, province_code: $pc, code: $c, area: $a, lng: $lng, lat: $lat, weight: $w, districts: &[$(($dn, $dc)),*] }
    };
}

/// 91160 started in Shenzhen: Guangdong is over-represented, as on the real platform.
#[rustfmt::skip]
const CITIES: &[City] = &[
    city!("深圳", "深圳市", "广东省", "440000", "440300", "0755", 114.0579, 22.5431, 8, [("罗湖区", "440303"), ("福田区", "440304"), ("南山区", "440305"), ("宝安区", "440306"), ("龙岗区", "440307"), ("龙华区", "440309")]),
    city!("广州", "广州市", "广东省", "440000", "440100", "020", 113.2644, 23.1291, 4, [("荔湾区", "440103"), ("越秀区", "440104"), ("海珠区", "440105"), ("天河区", "440106"), ("白云区", "440111")]),
    city!("北京", "北京市", "北京市", "110000", "110100", "010", 116.4074, 39.9042, 2, [("东城区", "110101"), ("西城区", "110102"), ("朝阳区", "110105"), ("丰台区", "110106"), ("海淀区", "110108")]),
    city!("上海", "上海市", "上海市", "310000", "310100", "021", 121.4737, 31.2304, 2, [("黄浦区", "310101"), ("徐汇区", "310104"), ("长宁区", "310105"), ("静安区", "310106"), ("浦东新区", "310115")]),
    city!("杭州", "杭州市", "浙江省", "330000", "330100", "0571", 120.1551, 30.2741, 1, [("上城区", "330102"), ("拱墅区", "330105"), ("西湖区", "330106"), ("滨江区", "330108")]),
    city!("南京", "南京市", "江苏省", "320000", "320100", "025", 118.7969, 32.0603, 1, [("玄武区", "320102"), ("秦淮区", "320104"), ("建邺区", "320105"), ("鼓楼区", "320106")]),
    city!("成都", "成都市", "四川省", "510000", "510100", "028", 104.0665, 30.5723, 1, [("锦江区", "510104"), ("青羊区", "510105"), ("武侯区", "510107"), ("成华区", "510108")]),
    city!("武汉", "武汉市", "湖北省", "420000", "420100", "027", 114.3054, 30.5931, 1, [("江岸区", "420102"), ("江汉区", "420103"), ("武昌区", "420106"), ("洪山区", "420111")]),
    city!("西安", "西安市", "陕西省", "610000", "610100", "029", 108.9398, 34.3416, 1, [("新城区", "610102"), ("碑林区", "610103"), ("莲湖区", "610104"), ("雁塔区", "610113")]),
    city!("重庆", "重庆市", "重庆市", "500000", "500100", "023", 106.5516, 29.5630, 1, [("渝中区", "500103"), ("江北区", "500105"), ("沙坪坝区", "500106"), ("九龙坡区", "500107")]),
    city!("天津", "天津市", "天津市", "120000", "120100", "022", 117.2010, 39.0842, 1, [("和平区", "120101"), ("河西区", "120103"), ("南开区", "120104"), ("河北区", "120105")]),
    city!("苏州", "苏州市", "江苏省", "320000", "320500", "0512", 120.5853, 31.2989, 1, [("虎丘区", "320505"), ("吴中区", "320506"), ("相城区", "320507"), ("姑苏区", "320508")]),
    city!("长沙", "长沙市", "湖南省", "430000", "430100", "0731", 112.9388, 28.2282, 1, [("芙蓉区", "430102"), ("天心区", "430103"), ("岳麓区", "430104"), ("开福区", "430105")]),
    city!("郑州", "郑州市", "河南省", "410000", "410100", "0371", 113.6254, 34.7466, 1, [("中原区", "410102"), ("二七区", "410103"), ("管城回族区", "410104"), ("金水区", "410105")]),
    city!("沈阳", "沈阳市", "辽宁省", "210000", "210100", "024", 123.4315, 41.8057, 1, [("和平区", "210102"), ("沈河区", "210103"), ("皇姑区", "210105"), ("铁西区", "210106")]),
    city!("青岛", "青岛市", "山东省", "370000", "370200", "0532", 120.3826, 36.0671, 1, [("市南区", "370202"), ("市北区", "370203"), ("崂山区", "370212"), ("李沧区", "370213")]),
    city!("宁波", "宁波市", "浙江省", "330000", "330200", "0574", 121.5503, 29.8746, 1, [("海曙区", "330203"), ("江北区", "330205"), ("鄞州区", "330212")]),
    city!("济南", "济南市", "山东省", "370000", "370100", "0531", 117.1201, 36.6512, 1, [("历下区", "370102"), ("市中区", "370103"), ("槐荫区", "370104"), ("天桥区", "370105")]),
    city!("合肥", "合肥市", "安徽省", "340000", "340100", "0551", 117.2272, 31.8206, 1, [("瑶海区", "340102"), ("庐阳区", "340103"), ("蜀山区", "340104"), ("包河区", "340111")]),
    city!("福州", "福州市", "福建省", "350000", "350100", "0591", 119.2965, 26.0745, 1, [("鼓楼区", "350102"), ("台江区", "350103"), ("仓山区", "350104")]),
    city!("厦门", "厦门市", "福建省", "350000", "350200", "0592", 118.0894, 24.4798, 1, [("思明区", "350203"), ("湖里区", "350206"), ("集美区", "350211")]),
    city!("昆明", "昆明市", "云南省", "530000", "530100", "0871", 102.8329, 24.8801, 1, [("五华区", "530102"), ("盘龙区", "530103"), ("官渡区", "530111"), ("西山区", "530112")]),
    city!("南昌", "南昌市", "江西省", "360000", "360100", "0791", 115.8582, 28.6829, 1, [("东湖区", "360102"), ("西湖区", "360103"), ("青山湖区", "360111")]),
    city!("贵阳", "贵阳市", "贵州省", "520000", "520100", "0851", 106.6302, 26.6477, 1, [("南明区", "520102"), ("云岩区", "520103"), ("观山湖区", "520115")]),
    city!("太原", "太原市", "山西省", "140000", "140100", "0351", 112.5489, 37.8706, 1, [("小店区", "140105"), ("迎泽区", "140106"), ("杏花岭区", "140107")]),
    city!("石家庄", "石家庄市", "河北省", "130000", "130100", "0311", 114.5149, 38.0428, 1, [("长安区", "130102"), ("桥西区", "130104"), ("新华区", "130105"), ("裕华区", "130108")]),
    city!("哈尔滨", "哈尔滨市", "黑龙江省", "230000", "230100", "0451", 126.5350, 45.8038, 1, [("道里区", "230102"), ("南岗区", "230103"), ("道外区", "230104"), ("香坊区", "230110")]),
    city!("长春", "长春市", "吉林省", "220000", "220100", "0431", 125.3235, 43.8171, 1, [("南关区", "220102"), ("宽城区", "220103"), ("朝阳区", "220104"), ("绿园区", "220106")]),
    city!("大连", "大连市", "辽宁省", "210000", "210200", "0411", 121.6147, 38.9140, 1, [("中山区", "210202"), ("西岗区", "210203"), ("沙河口区", "210204"), ("甘井子区", "210211")]),
    city!("温州", "温州市", "浙江省", "330000", "330300", "0577", 120.6994, 27.9943, 1, [("鹿城区", "330302"), ("龙湾区", "330303"), ("瓯海区", "330304")]),
];

/// What kind of hospital, which decides its departments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Profile {
    General,
    Tcm,
    Women,
    Children,
    Eye,
    Dental,
    Tumor,
    Community,
}

type Classes = &'static [(&'static str, &'static [&'static str])];

#[rustfmt::skip]
const TCM: Classes = &[
    (
        "中医科",
        &[
            "中医内科",
            "针灸科",
            "推拿科",
            "中医妇科",
            "中医儿科",
            "治未病中心",
            "中医骨伤科",
            "中医皮肤科",
        ],
    ),
    ("内科", &["心血管内科", "消化内科", "呼吸内科", "内分泌科"]),
];
#[rustfmt::skip]
const WOMEN: Classes = &[
    (
        "妇产科",
        &[
            "妇科门诊",
            "产科门诊",
            "计划生育",
            "生殖医学科",
            "乳腺科",
            "妇科内分泌门诊",
        ],
    ),
    ("儿科", &["儿内科", "新生儿科", "儿童保健科"]),
    ("保健科", &["妇女保健科", "孕前保健门诊"]),
];
#[rustfmt::skip]
const CHILDREN: Classes = &[
    (
        "儿科",
        &[
            "儿内科",
            "儿外科",
            "新生儿科",
            "小儿呼吸科",
            "小儿消化科",
            "小儿神经科",
            "小儿皮肤科",
            "儿童保健科",
            "小儿心血管科",
            "小儿骨科",
        ],
    ),
    ("五官科", &["小儿眼科", "小儿耳鼻喉科", "儿童口腔科"]),
];
#[rustfmt::skip]
const EYE: Classes = &[(
    "眼科",
    &[
        "白内障专科",
        "青光眼专科",
        "眼底病科",
        "屈光手术中心",
        "小儿眼科",
        "角膜病科",
        "眼视光门诊",
        "眼整形科",
    ],
)];
#[rustfmt::skip]
const DENTAL: Classes = &[(
    "口腔科",
    &[
        "口腔内科",
        "口腔颌面外科",
        "口腔修复科",
        "口腔正畸科",
        "牙周病科",
        "儿童口腔科",
        "口腔种植科",
        "口腔黏膜科",
    ],
)];
#[rustfmt::skip]
const TUMOR: Classes = &[(
    "肿瘤科",
    &[
        "肿瘤内科",
        "放疗科",
        "乳腺外科",
        "胸部肿瘤科",
        "头颈外科",
        "妇科肿瘤科",
        "中医肿瘤科",
        "介入治疗科",
    ],
)];
#[rustfmt::skip]
const COMMUNITY: Classes = &[(
    "全科",
    &[
        "全科门诊",
        "中医科",
        "口腔科",
        "儿童保健科",
        "预防保健科",
        "康复科",
    ],
)];

fn classes(p: Profile) -> Classes {
    match p {
        Profile::General => gen::DEPARTMENTS,
        Profile::Tcm => TCM,
        Profile::Women => WOMEN,
        Profile::Children => CHILDREN,
        Profile::Eye => EYE,
        Profile::Dental => DENTAL,
        Profile::Tumor => TUMOR,
        Profile::Community => COMMUNITY,
    }
}

fn class_id(name: &str) -> &'static str {
    match name {
        "内科" => "101",
        "外科" => "102",
        "妇产科" => "103",
        "儿科" => "104",
        "五官科" => "105",
        "皮肤科" => "106",
        "中医科" => "107",
        "医技科室" => "108",
        "口腔科" => "109",
        "眼科" => "110",
        "肿瘤科" => "111",
        "全科" => "112",
        "保健科" => "113",
        _ => "199",
    }
}

fn org_of(p: Profile) -> (u32, &'static str) {
    match p {
        Profile::General => (1, "综合医院"),
        Profile::Tcm => (3, "中医医院"),
        Profile::Women => (4, "妇幼保健院"),
        Profile::Community => (5, "社区卫生服务中心"),
        _ => (2, "专科医院"),
    }
}

const NUMERALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七"];
const BRANDS: &[&str] = &[
    "仁爱", "博爱", "康宁", "华侨", "远东", "恒生", "和平", "慈铭",
];
const EYE_BRANDS: &[&str] = &["明视", "光明", "瞳亮", "视康"];
const DENTAL_BRANDS: &[&str] = &["美齿", "德雅", "佳美", "拜博"];
const WOMEN_BRANDS: &[&str] = &["和美", "安琪", "美中", "玛丽"];
const STREETS: &[&str] = &[
    "华富",
    "莲花",
    "香蜜湖",
    "梅林",
    "南园",
    "东门",
    "翠竹",
    "桂园",
    "沙头",
    "园岭",
    "新安",
    "西乡",
    "布吉",
    "民治",
    "蛇口",
];
const ROADS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "东风路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "友谊路",
    "学府路",
    "深南大道",
    "红荔路",
    "笋岗西路",
    "滨河大道",
    "健康路",
];
const LEVELS_TOP: &[&str] = &["三级甲等"];
const LEVELS_MID: &[&str] = &["三级甲等", "三级乙等", "二级甲等"];
const LEVELS_LOW: &[&str] = &["二级甲等", "二级乙等", "一级甲等"];
const LEVELS_PRIVATE: &[&str] = &["二级甲等", "一级甲等", "未定级"];
const LEVELS_COMMUNITY: &[&str] = &["一级甲等", "未定级"];
const OPEN_TIMES: &[&str] = &[
    "07:00", "07:30", "08:00", "08:00", "08:30", "09:00", "10:00", "12:00", "14:20", "15:00",
    "17:00", "20:00", "00:00",
];
const CYCLES: &[i64] = &[7, 7, 7, 14, 14, 14, 21, 28];
const SCHOOLS: &[&str] = &[
    "中山大学中山医学院",
    "北京大学医学部",
    "复旦大学上海医学院",
    "四川大学华西临床医学院",
    "中南大学湘雅医学院",
    "华中科技大学同济医学院",
    "浙江大学医学院",
    "南方医科大学",
    "首都医科大学",
    "广州中医药大学",
    "暨南大学医学院",
    "汕头大学医学院",
];

/// A hospital.
pub(super) struct Unit {
    pub id: u32,
    pub master_id: u32,
    pub name: String,
    pub level: &'static str,
    pub unit_type: &'static str,
    pub org: u32,
    pub org_name: &'static str,
    pub image: String,
    pub area_code: &'static str,
    pub address: String,
    pub map_point: String,
    pub intro: String,
    pub pay_type: &'static str,
    pub province: &'static str,
    pub province_code: &'static str,
    pub city: &'static str,
    pub city_code: &'static str,
    pub district: &'static str,
    /// `appointmentOpenTime` as served ("HH:mm", or a full date-time on a few units as
    /// in the seed's sample).
    pub open_time_text: String,
    /// The daily release time, minutes after Beijing midnight.
    pub open_minutes: i64,
    /// `appointmentCycleDays`: how many days ahead can be booked once today's release ran.
    pub cycle_days: i64,
    pub cycle_text: String,
    pub bus_route: String,
    pub telephone: String,
    pub special_deps: String,
    /// Indices into [`World::deps`].
    pub deps: Vec<usize>,
    /// Length of one time slot (resource), minutes.
    pub slot_minutes: i64,
    /// Numbers per time slot.
    pub per_slot: u32,
    /// Whether the hospital runs evening (`em`) clinics.
    pub evening: bool,
    /// 服务费 added to every doctor's fee.
    pub service_fee: f64,
}

/// A department of a hospital.
pub(super) struct Dep {
    pub id: u32,
    pub unit: usize,
    pub name: String,
    pub class_name: &'static str,
    pub class_id: &'static str,
    pub his_id: String,
    pub telephone: String,
    pub position: String,
    pub beds: u32,
    pub seniors: u32,
    /// Indices into [`World::doctors`].
    pub doctors: Vec<usize>,
}

/// A doctor.
pub(super) struct Doctor {
    pub id: u32,
    pub unit: usize,
    pub dep: usize,
    pub name: String,
    /// 1 male, 0 female.
    pub gender: u8,
    /// Index into [`TITLES`].
    pub title: usize,
    pub school: usize,
    pub years: u32,
    pub visits: u32,
    /// Which half-days the doctor works: bit `weekday * 3 + time type` (Monday = 0).
    pub pattern: u32,
}

/// Doctor titles with their registration level (code, name) and base fee.
pub(super) const TITLES: &[(&str, &str, &str, f64)] = &[
    ("主任医师", "1", "主任医师", 50.0),
    ("副主任医师", "2", "副主任医师", 35.0),
    ("主治医师", "3", "主治医师", 20.0),
    ("住院医师", "4", "普通门诊", 12.5),
];

/// `timeType`, `timeTypeDesc`, first and last minute of the session.
pub(super) const TIME_TYPES: [(&str, &str, i64, i64); 3] = [
    ("am", "上午", 8 * 60, 12 * 60),
    ("pm", "下午", 14 * 60, 17 * 60 + 30),
    ("em", "晚上", 18 * 60 + 30, 21 * 60),
];

/// Time slots a schedule may have at most (resource ids carry two digits).
pub(super) const MAX_RESOURCES: usize = 99;

/// One schedule: a doctor's session on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct SchedKey {
    pub doctor: u32,
    /// Days since 1970-01-01.
    pub day: i64,
    /// Index into [`TIME_TYPES`].
    pub tt: u8,
}

impl SchedKey {
    /// The `scheduleId`.
    pub fn id(&self) -> String {
        let d = Date::from_days(self.day);
        format!(
            "{}{:04}{:02}{:02}{}",
            self.doctor,
            d.year,
            d.month,
            d.day,
            self.tt + 1
        )
    }

    /// Reads a `scheduleId` back (None for anything that is not one).
    pub fn parse(s: &str) -> Option<SchedKey> {
        let s = s.trim();
        if s.len() < 10 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return None;
        }
        let n = s.len();
        let tt = match &s[n - 1..] {
            "1" => 0,
            "2" => 1,
            "3" => 2,
            _ => return None,
        };
        let ymd = &s[n - 9..n - 1];
        let date = Date::parse(&format!("{}-{}-{}", &ymd[..4], &ymd[4..6], &ymd[6..])).ok()?;
        let doctor = s[..n - 9].parse().ok()?;
        Some(SchedKey {
            doctor,
            day: date.to_days(),
            tt,
        })
    }

    /// The `resourceId` (`detlId`) of time slot `index` (0-based).
    pub fn resource_id(&self, index: usize) -> String {
        format!("{}{:02}", self.id(), index + 1)
    }

    /// Reads a `resourceId` back into its schedule and slot index.
    pub fn parse_resource(s: &str) -> Option<(SchedKey, usize)> {
        let s = s.trim();
        if s.len() < 12 || !s.is_ascii() {
            return None;
        }
        let (sched, idx) = s.split_at(s.len() - 2);
        let idx: usize = idx.parse().ok()?;
        if idx == 0 {
            return None;
        }
        Some((SchedKey::parse(sched)?, idx - 1))
    }
}

/// One time slot of a schedule: its numbers and how many are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Res {
    pub max: u32,
    pub appointed: u32,
}

impl Res {
    /// Numbers left (0 when over-appointed).
    pub fn free(&self) -> u32 {
        self.max.saturating_sub(self.appointed)
    }
}

/// The static part of the world.
pub(super) struct World {
    pub seed: u64,
    pub units: Vec<Unit>,
    pub deps: Vec<Dep>,
    pub doctors: Vec<Doctor>,
    unit_by_id: HashMap<u32, usize>,
    dep_by_id: HashMap<u32, usize>,
    doctor_by_id: HashMap<u32, usize>,
    /// The Beijing day the world was generated on (how full a day is depends on how
    /// far ahead of it the day lies).
    pub load_day: i64,
}

/// Weekday, Monday = 0.
pub(super) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn mix(mut h: u64, x: u64) -> u64 {
    h ^= x
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    h.wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

impl World {
    /// A world with nothing in it (before the first load).
    pub fn empty() -> World {
        World {
            seed: 0,
            units: Vec::new(),
            deps: Vec::new(),
            doctors: Vec::new(),
            unit_by_id: HashMap::new(),
            dep_by_id: HashMap::new(),
            doctor_by_id: HashMap::new(),
            load_day: 0,
        }
    }

    pub fn unit(&self, id: i64) -> Option<&Unit> {
        let id = u32::try_from(id).ok()?;
        self.unit_by_id.get(&id).map(|&i| &self.units[i])
    }

    pub fn dep(&self, id: i64) -> Option<&Dep> {
        let id = u32::try_from(id).ok()?;
        self.dep_by_id.get(&id).map(|&i| &self.deps[i])
    }

    pub fn doctor(&self, id: u32) -> Option<&Doctor> {
        self.doctor_by_id.get(&id).map(|&i| &self.doctors[i])
    }

    /// Generates `n_units` hospitals from `seed`; `now_ms` fixes the load day.
    pub fn generate(seed: u64, n_units: usize, now_ms: i64) -> World {
        let root = Rng::new(seed);
        let mut rng = root.fork("91160.units");
        let mut w = World::empty();
        w.seed = seed;
        w.load_day = clock::beijing(now_ms).0.to_days();
        let mut names: HashSet<String> = HashSet::new();
        let total_weight: u64 = CITIES.iter().map(|c| c.weight).sum();
        let mut next_unit = 100u32;
        let mut next_dep = 1000u32;
        let mut next_doc = 10000u32;
        let mut tries = 0;
        while w.units.len() < n_units && tries < n_units * 50 {
            tries += 1;
            // Branches (院区) of an existing hospital share its master id and profile.
            let branch_of = if w.units.len() > 10 && rng.chance(0.12) {
                Some(rng.range(0, w.units.len() as u64) as usize)
            } else {
                None
            };
            let (city_idx, district, name, profile, public, levels, master) = match branch_of {
                Some(m) if w.units[m].master_id == w.units[m].id => {
                    let master = &w.units[m];
                    let ci = CITIES
                        .iter()
                        .position(|c| c.full == master.city)
                        .unwrap_or(0);
                    let district = *rng.pick(CITIES[ci].districts);
                    let name = format!("{}{}院区", master.name, district.0.trim_end_matches('区'));
                    let profile = profile_of_name(&master.name);
                    (
                        ci,
                        district,
                        name,
                        profile,
                        master.unit_type == "1",
                        LEVELS_MID,
                        Some(master.id),
                    )
                }
                _ => {
                    let mut pick = rng.range(0, total_weight);
                    let ci = CITIES
                        .iter()
                        .position(|c| {
                            if pick < c.weight {
                                true
                            } else {
                                pick -= c.weight;
                                false
                            }
                        })
                        .unwrap_or(0);
                    let district = *rng.pick(CITIES[ci].districts);
                    let (name, profile, public, levels) =
                        unit_name(&mut rng, &CITIES[ci], district.0);
                    (ci, district, name, profile, public, levels, None)
                }
            };
            if !names.insert(name.clone()) {
                continue;
            }
            let city = &CITIES[ci_check(city_idx)];
            let id = next_unit;
            next_unit += rng.range(1, 38) as u32;
            let (dname, dcode) = district;
            let (org, org_name) = org_of(profile);
            let open = *rng.pick(OPEN_TIMES);
            let open_minutes =
                open[..2].parse::<i64>().unwrap_or(8) * 60 + open[3..].parse::<i64>().unwrap_or(0);
            let cycle = *rng.pick(CYCLES);
            // A few units send a full date-time, as the seed's sample does.
            let open_time_text = match rng.range(0, 20) {
                0 => format!("{} {}:00", Date::from_days(w.load_day), open),
                1 => format!("{open}:00"),
                _ => open.to_string(),
            };
            let road = *rng.pick(ROADS);
            let address = format!(
                "{}{}{}{}{}号",
                if city.province == city.full {
                    ""
                } else {
                    city.province
                },
                city.full,
                dname,
                road,
                rng.range(1, 3000)
            );
            let lng = city.lng + (rng.range(0, 20_000) as f64 - 10_000.0) / 100_000.0;
            let lat = city.lat + (rng.range(0, 20_000) as f64 - 10_000.0) / 100_000.0;
            let level = *rng.pick(levels);
            let founded = if public {
                rng.range(1900, 2010)
            } else {
                rng.range(1995, 2021)
            };
            let (beds, visits) = match level {
                "三级甲等" => (rng.range(1000, 4000), rng.range(150, 500)),
                "三级乙等" | "二级甲等" => (rng.range(300, 1200), rng.range(40, 160)),
                _ => (rng.range(20, 300), rng.range(5, 40)),
            };
            let intro = if profile == Profile::Community {
                format!(
                    "{name}成立于{founded}年，是政府举办的社区卫生服务机构，提供基本医疗、预防保健、康复、健康教育和家庭医生签约服务，辖区服务人口约{}万人。",
                    rng.range(2, 12)
                )
            } else if public {
                format!(
                    "{name}始建于{founded}年，是一所集医疗、教学、科研、预防、保健于一体的{level}{org_name}。医院开放床位{beds}张，年门急诊量约{visits}万人次。"
                )
            } else {
                format!(
                    "{name}成立于{founded}年，是经卫生健康行政部门批准设立的{org_name}，开放床位{beds}张，年门诊量约{visits}万人次，提供预约挂号、专家门诊等服务。"
                )
            };
            let bus_route = format!(
                "乘坐{}路、{}路公交车至{}站下车；地铁{}号线{}站{}出口步行约{}分钟。",
                rng.range(1, 400),
                rng.range(1, 400),
                name.strip_prefix(city.full)
                    .or_else(|| name.strip_prefix(city.name))
                    .unwrap_or(&name),
                rng.range(1, 12),
                road.trim_end_matches("路").trim_end_matches("大道"),
                ["A", "B", "C", "D"][rng.range(0, 4) as usize],
                rng.range(3, 15)
            );
            let telephone = format!("{}-{}", city.area, rng.range(20_000_000, 89_999_999));
            let mut unit = Unit {
                id,
                master_id: master.unwrap_or(id),
                name,
                level,
                unit_type: if public { "1" } else { "2" },
                org,
                org_name,
                image: format!("https://images.91160.com/unit/logo/{id}.jpg"),
                area_code: dcode,
                address,
                map_point: format!("{lng:.6},{lat:.6}"),
                intro,
                pay_type: if rng.chance(0.2) { "1" } else { "0" },
                province: city.province,
                province_code: city.province_code,
                city: city.full,
                city_code: city.code,
                district: dname,
                open_time_text,
                open_minutes,
                cycle_days: cycle,
                cycle_text: cycle.to_string(),
                bus_route,
                telephone,
                special_deps: String::new(),
                deps: Vec::new(),
                slot_minutes: *rng.pick(&[15i64, 20, 30, 30]),
                per_slot: rng.range(1, 5) as u32,
                evening: rng.chance(0.25),
                service_fee: *rng.pick(&[0.0, 5.0, 9.5, 12.0]),
            };
            // Departments.
            let cls = classes(profile);
            let mut clinics: Vec<(&'static str, &'static str)> = cls
                .iter()
                .flat_map(|(c, list)| list.iter().map(move |d| (*c, *d)))
                .collect();
            rng.shuffle(&mut clinics);
            let n_deps = match profile {
                Profile::General => rng.range(10, 21),
                Profile::Community => rng.range(3, 7),
                _ => rng.range(4, 10),
            } as usize;
            clinics.truncate(n_deps.max(1));
            let unit_idx = w.units.len();
            for (class, clinic) in clinics {
                let dep_id = next_dep;
                next_dep += rng.range(1, 10) as u32;
                let dep_name = match rng.range(0, 12) {
                    0 => format!("{clinic}(专家)"),
                    1 => format!("{clinic}特需门诊"),
                    _ => clinic.to_string(),
                };
                let dep_idx = w.deps.len();
                let mut dep = Dep {
                    id: dep_id,
                    unit: unit_idx,
                    name: dep_name,
                    class_name: class,
                    class_id: class_id(class),
                    his_id: format!("0{}", rng.range(1000, 9999)),
                    telephone: format!("{}-{}", city.area, rng.range(20_000_000, 89_999_999)),
                    position: format!(
                        "门诊楼{}楼{}区",
                        rng.range(1, 9),
                        ["A", "B", "C", "D", "E"][rng.range(0, 5) as usize]
                    ),
                    beds: rng.range(0, 120) as u32,
                    seniors: rng.range(2, 30) as u32,
                    doctors: Vec::new(),
                };
                let n_docs = rng.range(2, 9);
                for _ in 0..n_docs {
                    let doc_id = next_doc;
                    next_doc += rng.range(1, 14) as u32;
                    let title = match rng.range(0, 100) {
                        0..=14 => 0,
                        15..=44 => 1,
                        45..=84 => 2,
                        _ => 3,
                    };
                    let mut pattern = 0u32;
                    let halfdays = rng.range(2, 7);
                    for _ in 0..halfdays {
                        // Mostly Monday–Saturday, sometimes Sunday.
                        let wd = if rng.chance(0.05) { 6 } else { rng.range(0, 6) };
                        let tt = rng.range(0, 2);
                        pattern |= 1 << (wd * 3 + tt);
                    }
                    if unit.evening && rng.chance(0.3) {
                        pattern |= 1 << (rng.range(0, 5) * 3 + 2);
                    }
                    dep.doctors.push(w.doctors.len());
                    w.doctor_by_id.insert(doc_id, w.doctors.len());
                    w.doctors.push(Doctor {
                        id: doc_id,
                        unit: unit_idx,
                        dep: dep_idx,
                        name: gen::person_name(&mut rng),
                        gender: rng.range(0, 2) as u8,
                        title,
                        school: rng.range(0, SCHOOLS.len() as u64) as usize,
                        years: match title {
                            0 => rng.range(20, 36),
                            1 => rng.range(12, 26),
                            2 => rng.range(5, 16),
                            _ => rng.range(1, 7),
                        } as u32,
                        visits: rng.range(0, 5000) as u32,
                        pattern,
                    });
                }
                w.dep_by_id.insert(dep_id, dep_idx);
                unit.deps.push(dep_idx);
                w.deps.push(dep);
            }
            unit.special_deps = unit
                .deps
                .iter()
                .take(3)
                .map(|&d| w.deps[d].name.as_str())
                .collect::<Vec<_>>()
                .join("、");
            w.unit_by_id.insert(id, unit_idx);
            w.units.push(unit);
        }
        w
    }

    /// Whether the doctor works this session by their weekly pattern.
    pub fn works(&self, doc: &Doctor, day: i64, tt: u8) -> bool {
        doc.pattern & (1 << (weekday(day) * 3 + i64::from(tt))) != 0
    }

    /// The time slots of a schedule as generated: days near the load day are mostly
    /// booked, far days mostly free, and some near days are over-appointed (加号:
    /// `appointedNum > resourceMax`).
    pub fn generate_resources(&self, doc: &Doctor, key: SchedKey) -> Vec<Res> {
        let unit = &self.units[doc.unit];
        let mut h = mix(self.seed, 0x9116_0000);
        h = mix(h, u64::from(key.doctor));
        h = mix(h, key.day as u64);
        h = mix(h, u64::from(key.tt));
        let mut rng = Rng::new(h);
        let (_, _, start, end) = TIME_TYPES[usize::from(key.tt)];
        let n = ((end - start) / unit.slot_minutes).clamp(1, 16) as usize;
        // Senior doctors see fewer patients per slot.
        let per = if doc.title == 0 {
            unit.per_slot.div_ceil(2)
        } else {
            unit.per_slot
        };
        let ahead = key.day - self.load_day;
        let p_full = match ahead {
            i64::MIN..=0 => 0.95,
            1 => 0.85,
            2..=3 => 0.6,
            4..=7 => 0.35,
            _ => 0.1,
        };
        let mut res: Vec<Res> = (0..n)
            .map(|_| {
                let appointed = if rng.chance(p_full) {
                    per
                } else {
                    rng.range(0, u64::from(per)) as u32
                };
                Res {
                    max: per,
                    appointed,
                }
            })
            .collect();
        if ahead <= 3 && rng.chance(0.12) {
            for r in res.iter_mut() {
                r.appointed = r.max;
            }
            for _ in 0..rng.range(1, 4) {
                let i = rng.range(0, n as u64) as usize;
                res[i].appointed += 1;
            }
        }
        res
    }

    /// The doctor's fee for a session.
    pub fn fee(&self, doc: &Doctor) -> f64 {
        let unit = &self.units[doc.unit];
        ((TITLES[doc.title].3 + unit.service_fee) * 100.0).round() / 100.0
    }

    /// `detail` of a doctor (built when served, to keep loading fast).
    pub fn doctor_detail(&self, doc: &Doctor) -> String {
        let dep = &self.deps[doc.dep];
        format!(
            "{}，{}，毕业于{}，从事{}临床工作{}年，具有扎实的理论基础和丰富的临床经验。",
            doc.name, TITLES[doc.title].0, SCHOOLS[doc.school], dep.name, doc.years
        )
    }

    /// `expertise` of a doctor.
    pub fn doctor_expertise(&self, doc: &Doctor) -> String {
        let dep = &self.deps[doc.dep];
        let extra = gen::SKILLS[(doc.id as usize) % gen::SKILLS.len()];
        if dep.class_name == "内科" || dep.class_name == "外科" {
            format!("擅长{}常见病、多发病的诊治，{}", dep.name, extra)
        } else {
            format!("擅长{}常见病、多发病及疑难病症的诊断与治疗", dep.name)
        }
    }

    /// `depIntro` of a department.
    pub fn dep_intro(&self, dep: &Dep) -> String {
        format!(
            "{}是{}的重点科室，现有副高以上职称医师{}名，开放床位{}张，为患者提供规范化、个体化的诊疗服务。",
            dep.name, self.units[dep.unit].name, dep.seniors, dep.beds
        )
    }

    /// Today (Beijing) and the last day open for booking at a unit at `now_ms`.
    pub fn window(&self, unit: &Unit, now_ms: i64) -> (i64, i64) {
        let (date, minutes) = clock::beijing(now_ms);
        let today = date.to_days();
        let last = today + unit.cycle_days - i64::from(minutes < unit.open_minutes);
        (today, last)
    }
}

fn ci_check(i: usize) -> usize {
    i.min(CITIES.len() - 1)
}

fn profile_of_name(name: &str) -> Profile {
    if name.contains("中医") || name.contains("中西医") {
        Profile::Tcm
    } else if name.contains("妇幼") || name.contains("妇产") || name.contains("妇儿") {
        Profile::Women
    } else if name.contains("儿童") {
        Profile::Children
    } else if name.contains("眼科") {
        Profile::Eye
    } else if name.contains("口腔") {
        Profile::Dental
    } else if name.contains("肿瘤") {
        Profile::Tumor
    } else if name.contains("社区") {
        Profile::Community
    } else {
        Profile::General
    }
}

/// A hospital name in a city, its profile, whether it is public, and its possible levels.
fn unit_name(
    rng: &mut Rng,
    city: &City,
    district: &str,
) -> (String, Profile, bool, &'static [&'static str]) {
    let c = city.name;
    let short_district = district.trim_end_matches('区');
    let n = *rng.pick(NUMERALS);
    match rng.range(0, 22) {
        0 => (format!("{c}市人民医院"), Profile::General, true, LEVELS_TOP),
        1..=3 => (
            format!("{c}市第{n}人民医院"),
            Profile::General,
            true,
            LEVELS_MID,
        ),
        4 => (format!("{c}市中医院"), Profile::Tcm, true, LEVELS_TOP),
        5 => (
            format!("{c}市中西医结合医院"),
            Profile::Tcm,
            true,
            LEVELS_MID,
        ),
        6 => (format!("{c}市妇幼保健院"), Profile::Women, true, LEVELS_MID),
        7 => (
            format!("{c}市儿童医院"),
            Profile::Children,
            true,
            LEVELS_TOP,
        ),
        8 => (format!("{c}市口腔医院"), Profile::Dental, true, LEVELS_MID),
        9 => (format!("{c}市眼科医院"), Profile::Eye, true, LEVELS_MID),
        10 => (format!("{c}市肿瘤医院"), Profile::Tumor, true, LEVELS_TOP),
        11 => (
            format!("{c}大学附属第{}医院", NUMERALS[rng.range(0, 3) as usize]),
            Profile::General,
            true,
            LEVELS_TOP,
        ),
        12 | 13 => (
            format!("{c}市{district}人民医院"),
            Profile::General,
            true,
            LEVELS_LOW,
        ),
        14 => (
            format!("{c}市{district}中医院"),
            Profile::Tcm,
            true,
            LEVELS_LOW,
        ),
        15 => (
            format!("{c}市{district}妇幼保健院"),
            Profile::Women,
            true,
            LEVELS_LOW,
        ),
        16 | 17 => (
            format!(
                "{short_district}{}社区{}中心",
                rng.pick(STREETS),
                if c == "深圳" {
                    "健康服务"
                } else {
                    "卫生服务"
                }
            ),
            Profile::Community,
            true,
            LEVELS_COMMUNITY,
        ),
        18 => (
            format!("{c}{}医院", rng.pick(BRANDS)),
            Profile::General,
            false,
            LEVELS_PRIVATE,
        ),
        19 => (
            format!("{c}{}眼科医院", rng.pick(EYE_BRANDS)),
            Profile::Eye,
            false,
            LEVELS_PRIVATE,
        ),
        20 => (
            format!("{c}{}口腔门诊部", rng.pick(DENTAL_BRANDS)),
            Profile::Dental,
            false,
            LEVELS_PRIVATE,
        ),
        _ => (
            format!("{c}{}妇儿医院", rng.pick(WOMEN_BRANDS)),
            Profile::Women,
            false,
            LEVELS_PRIVATE,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_resource_ids_round_trip() {
        let day = Date::parse("2026-03-09").unwrap().to_days();
        let k = SchedKey {
            doctor: 12345,
            day,
            tt: 1,
        };
        assert_eq!(k.id(), "12345202603092");
        assert_eq!(SchedKey::parse(&k.id()), Some(k));
        assert_eq!(k.resource_id(6), "1234520260309207");
        assert_eq!(SchedKey::parse_resource("1234520260309207"), Some((k, 6)));
        for bad in [
            "",
            "106",
            "12345202613092",
            "12345202603094",
            "0123202603091",
            "abc",
            "1234520260309200",
            "１２３４５２０２６０３０９２",
        ] {
            assert_eq!(SchedKey::parse(bad), None, "{bad}");
            assert_eq!(SchedKey::parse_resource(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_world_is_deterministic_realistic_and_indexed() {
        let now = 1_780_000_000_000;
        let a = World::generate(7, 300, now);
        let b = World::generate(7, 300, now);
        assert_eq!(a.units.len(), 300);
        assert_eq!(
            a.units.iter().map(|u| &u.name).collect::<Vec<_>>(),
            b.units.iter().map(|u| &u.name).collect::<Vec<_>>()
        );
        let names: HashSet<_> = a.units.iter().map(|u| &u.name).collect();
        assert_eq!(names.len(), 300, "unit names are unique");
        assert!(a.units.iter().any(|u| u.master_id != u.id), "some branches");
        assert!(a.units.iter().all(|u| !u.deps.is_empty()));
        assert!(a.deps.iter().all(|d| !d.doctors.is_empty()));
        for d in &a.doctors {
            assert_eq!(a.doctor(d.id).map(|x| x.id), Some(d.id));
            assert!(a.deps[d.dep]
                .doctors
                .iter()
                .any(|&i| a.doctors[i].id == d.id));
        }
        assert!(a.units.iter().any(|u| u.name.contains("人民医院")));
        assert_ne!(World::generate(8, 300, now).units[0].name, a.units[0].name);
    }

    #[test]
    fn generated_days_fill_up_near_the_load_day_and_some_are_over_appointed() {
        let now = 1_780_000_000_000;
        let w = World::generate(1, 100, now);
        let mut over = 0;
        let (mut near_free, mut far_free) = (0u32, 0u32);
        for doc in w.doctors.iter().take(400) {
            for ahead in 0..10 {
                let day = w.load_day + ahead;
                for tt in 0..3 {
                    if !w.works(doc, day, tt) {
                        continue;
                    }
                    let key = SchedKey {
                        doctor: doc.id,
                        day,
                        tt,
                    };
                    let r = w.generate_resources(doc, key);
                    assert_eq!(r, w.generate_resources(doc, key), "deterministic");
                    let max: u32 = r.iter().map(|x| x.max).sum();
                    let app: u32 = r.iter().map(|x| x.appointed).sum();
                    over += u32::from(app > max);
                    let free: u32 = r.iter().map(Res::free).sum();
                    if ahead <= 1 {
                        near_free += free;
                    } else if ahead >= 8 {
                        far_free += free;
                    }
                }
            }
        }
        assert!(over > 0, "some schedules have appointedNum > resourceMax");
        assert!(far_free > near_free, "{far_free} vs {near_free}");
    }
}
