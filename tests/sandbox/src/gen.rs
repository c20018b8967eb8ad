//! Deterministic generated data: a small seeded PRNG (SplitMix64, so a seed gives the
//! same world on every machine and version) and pools of realistic Chinese names.

/// SplitMix64: tiny, fast, and stable across versions (unlike library RNGs).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A child generator for one purpose, so adding data elsewhere does not shift it.
    pub fn fork(&self, label: &str) -> Rng {
        let mut h = self.0;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        Rng::new(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.range(0, i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `n` random characters from `alphabet`.
    pub fn string(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| *self.pick(&chars)).collect()
    }

    /// `n` random hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        self.string("0123456789abcdef", n)
    }

    /// `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        self.string("0123456789", n)
    }
}

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
];

pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强", "晓明", "海燕",
    "建国", "玉兰", "春梅", "立新", "宏", "颖", "鹏", "婷", "琳",
];

/// A person's name: surname + one or two given characters.
pub fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    s.push_str(rng.pick::<&str>(GIVEN));
    if s.chars().count() == 2 && rng.chance(0.3) {
        s.push_str(rng.pick::<&str>(GIVEN));
    }
    s
}

pub const CITIES: &[&str] = &[
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "成都",
    "武汉",
    "西安",
    "重庆",
    "天津",
    "苏州",
    "长沙",
    "郑州",
    "沈阳",
    "青岛",
    "宁波",
    "济南",
    "合肥",
    "福州",
    "厦门",
    "昆明",
    "南昌",
    "贵阳",
    "太原",
    "石家庄",
    "哈尔滨",
    "长春",
    "大连",
    "温州",
];

pub const HOSPITAL_KINDS: &[&str] = &[
    "人民医院",
    "中医医院",
    "第一人民医院",
    "第二人民医院",
    "妇幼保健院",
    "儿童医院",
    "口腔医院",
    "眼科医院",
    "肿瘤医院",
    "中西医结合医院",
    "胸科医院",
    "骨科医院",
    "友谊医院",
    "协和医院",
    "同仁医院",
    "积水潭医院",
    "安贞医院",
    "天坛医院",
];

/// (first-level department, its clinics).
pub const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "内科",
        &[
            "心血管内科",
            "消化内科",
            "呼吸内科",
            "内分泌科",
            "肾内科",
            "神经内科",
            "血液内科",
        ],
    ),
    (
        "外科",
        &[
            "普通外科",
            "骨科",
            "泌尿外科",
            "神经外科",
            "胸外科",
            "肝胆外科",
        ],
    ),
    ("妇产科", &["妇科门诊", "产科门诊", "计划生育"]),
    ("儿科", &["儿内科", "儿外科", "新生儿科"]),
    ("五官科", &["眼科门诊", "耳鼻喉科", "口腔科"]),
    ("皮肤科", &["皮肤科门诊", "性病科"]),
    ("中医科", &["中医内科", "针灸科", "推拿科"]),
    ("医技科室", &["超声科", "放射科", "检验科"]),
];

pub const DOCTOR_TITLES: &[&str] = &["主任医师", "副主任医师", "主治医师", "住院医师"];

pub const SKILLS: &[&str] = &[
    "擅长冠心病、高血压的诊治",
    "擅长白内障、青光眼手术",
    "擅长胃肠道疾病的内镜诊疗",
    "擅长儿童哮喘及过敏性疾病",
    "擅长甲状腺疾病及糖尿病",
    "擅长脊柱及关节疾病",
    "擅长妇科肿瘤及微创手术",
    "擅长湿疹、银屑病的治疗",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_world() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<_> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<_> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
        assert_ne!(a.fork("x").next_u64(), a.fork("y").next_u64());
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let v = r.range(3, 9);
            assert!((3..9).contains(&v));
        }
        assert_eq!(r.range(5, 5), 5);
        let name = person_name(&mut r);
        assert!((2..=3).contains(&name.chars().count()), "{name}");
    }
}
