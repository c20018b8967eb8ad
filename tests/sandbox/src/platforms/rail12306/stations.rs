//! The station table: real, well-known stations with their real telecodes (北京南 `VNP`,
//! 北京 `BJP`, 上海虹桥 `AOH`, …) plus a few thousand generated ones whose names are
//! composed from characters of known (unambiguous) pinyin, so the full pinyin and the
//! abbreviations in `station_name.js` are right.
//!
//! `station_name.js` mixes the two record formats of the real file:
//! old 6-field `@bjb|北京北|VAP|beijingbei|bjb|0` and new 10-field
//! `@shh|上海虹桥|AOH|shanghaihongqiao|shhq|0|0000|上海|||`.

use crate::gen::Rng;
use std::collections::{HashMap, HashSet};

/// One station.
#[derive(Clone, Debug)]
pub struct Station {
    /// Chinese name (`北京南`).
    pub name: String,
    /// Telegraph code (`VNP`), what the query API takes.
    pub telecode: String,
    /// Full pinyin (`beijingnan`).
    pub pinyin: String,
    /// Initials (`bjn`).
    pub abbr: String,
    /// The 3-letter short code that starts a record (`bjn`).
    pub short: String,
    /// Index into [`Stations::cities`].
    pub city: u32,
    /// Whether it is a real station (rather than a generated one).
    pub real: bool,
}

/// A city: stations of one city are interchangeable in a query (北京 finds 北京南).
#[derive(Clone, Debug)]
pub struct City {
    pub name: String,
    /// 4-digit city code of the 10-field records.
    pub code: String,
}

/// All stations of a world.
#[derive(Debug, Default)]
pub struct Stations {
    pub list: Vec<Station>,
    pub cities: Vec<City>,
    pub by_telecode: HashMap<String, u32>,
    pub by_name: HashMap<String, u32>,
    /// The whole `station_name.js`.
    pub js: bytes::Bytes,
    /// `station_version` (`1.9044`).
    pub version: String,
}

/// (name, telecode, pinyin syllables, city). Telecodes are the real ones.
const REAL: &[(&str, &str, &str, &str)] = &[
    ("北京北", "VAP", "bei jing bei", "北京"),
    ("北京东", "BOP", "bei jing dong", "北京"),
    ("北京", "BJP", "bei jing", "北京"),
    ("北京南", "VNP", "bei jing nan", "北京"),
    ("北京西", "BXP", "bei jing xi", "北京"),
    ("北京朝阳", "IFP", "bei jing chao yang", "北京"),
    ("上海", "SHH", "shang hai", "上海"),
    ("上海南", "SNH", "shang hai nan", "上海"),
    ("上海虹桥", "AOH", "shang hai hong qiao", "上海"),
    ("上海西", "SXH", "shang hai xi", "上海"),
    ("天津", "TJP", "tian jin", "天津"),
    ("天津北", "TBP", "tian jin bei", "天津"),
    ("天津南", "TIP", "tian jin nan", "天津"),
    ("天津西", "TXP", "tian jin xi", "天津"),
    ("广州", "GZQ", "guang zhou", "广州"),
    ("广州东", "GGQ", "guang zhou dong", "广州"),
    ("广州南", "IZQ", "guang zhou nan", "广州"),
    ("广州北", "GBQ", "guang zhou bei", "广州"),
    ("深圳", "SZQ", "shen zhen", "深圳"),
    ("深圳北", "IOQ", "shen zhen bei", "深圳"),
    ("深圳东", "BJQ", "shen zhen dong", "深圳"),
    ("武汉", "WHN", "wu han", "武汉"),
    ("武昌", "WCN", "wu chang", "武汉"),
    ("汉口", "HKN", "han kou", "武汉"),
    ("杭州", "HZH", "hang zhou", "杭州"),
    ("杭州东", "HGH", "hang zhou dong", "杭州"),
    ("杭州南", "XHH", "hang zhou nan", "杭州"),
    ("南京", "NJH", "nan jing", "南京"),
    ("南京南", "NKH", "nan jing nan", "南京"),
    ("济南", "JNK", "ji nan", "济南"),
    ("济南西", "JGK", "ji nan xi", "济南"),
    ("石家庄", "SJP", "shi jia zhuang", "石家庄"),
    ("郑州", "ZZF", "zheng zhou", "郑州"),
    ("郑州东", "ZAF", "zheng zhou dong", "郑州"),
    ("长沙", "CSQ", "chang sha", "长沙"),
    ("长沙南", "CWQ", "chang sha nan", "长沙"),
    ("西安", "XAY", "xi an", "西安"),
    ("西安北", "EAY", "xi an bei", "西安"),
    ("成都", "CDW", "cheng du", "成都"),
    ("成都东", "ICW", "cheng du dong", "成都"),
    ("成都南", "CNW", "cheng du nan", "成都"),
    ("重庆", "CQW", "chong qing", "重庆"),
    ("重庆北", "CUW", "chong qing bei", "重庆"),
    ("重庆西", "CXW", "chong qing xi", "重庆"),
    ("沈阳", "SYT", "shen yang", "沈阳"),
    ("沈阳北", "SBT", "shen yang bei", "沈阳"),
    ("长春", "CCT", "chang chun", "长春"),
    ("长春西", "CRT", "chang chun xi", "长春"),
    ("哈尔滨", "HBB", "ha er bin", "哈尔滨"),
    ("哈尔滨西", "VAB", "ha er bin xi", "哈尔滨"),
    ("大连", "DLT", "da lian", "大连"),
    ("福州", "FZS", "fu zhou", "福州"),
    ("福州南", "FYS", "fu zhou nan", "福州"),
    ("厦门", "XMS", "xia men", "厦门"),
    ("厦门北", "XKS", "xia men bei", "厦门"),
    ("南昌", "NCG", "nan chang", "南昌"),
    ("南昌西", "NXG", "nan chang xi", "南昌"),
    ("合肥", "HFH", "he fei", "合肥"),
    ("合肥南", "ENH", "he fei nan", "合肥"),
    ("昆明", "KMM", "kun ming", "昆明"),
    ("昆明南", "KOM", "kun ming nan", "昆明"),
    ("贵阳", "GIW", "gui yang", "贵阳"),
    ("贵阳北", "KQW", "gui yang bei", "贵阳"),
    ("南宁", "NNZ", "nan ning", "南宁"),
    ("南宁东", "NFZ", "nan ning dong", "南宁"),
    ("兰州", "LZJ", "lan zhou", "兰州"),
    ("兰州西", "LAJ", "lan zhou xi", "兰州"),
    ("太原", "TYV", "tai yuan", "太原"),
    ("太原南", "TNV", "tai yuan nan", "太原"),
    ("呼和浩特", "HHC", "hu he hao te", "呼和浩特"),
    ("银川", "YIJ", "yin chuan", "银川"),
    ("西宁", "XNO", "xi ning", "西宁"),
    ("拉萨", "LSO", "la sa", "拉萨"),
    ("徐州", "XCH", "xu zhou", "徐州"),
    ("徐州东", "UUH", "xu zhou dong", "徐州"),
    ("苏州", "SZH", "su zhou", "苏州"),
    ("苏州北", "OHH", "su zhou bei", "苏州"),
    ("无锡", "WXH", "wu xi", "无锡"),
    ("青岛", "QDK", "qing dao", "青岛"),
    ("青岛北", "QHK", "qing dao bei", "青岛"),
    ("宁波", "NGH", "ning bo", "宁波"),
    ("温州南", "VRH", "wen zhou nan", "温州"),
    ("海口", "VUQ", "hai kou", "海口"),
];

/// Characters of place names with their (only) reading.
const SYLLABLES: &[(&str, &str)] = &[
    ("安", "an"),
    ("平", "ping"),
    ("宁", "ning"),
    ("山", "shan"),
    ("河", "he"),
    ("阳", "yang"),
    ("城", "cheng"),
    ("江", "jiang"),
    ("湖", "hu"),
    ("林", "lin"),
    ("泉", "quan"),
    ("水", "shui"),
    ("石", "shi"),
    ("桥", "qiao"),
    ("口", "kou"),
    ("庄", "zhuang"),
    ("家", "jia"),
    ("新", "xin"),
    ("兴", "xing"),
    ("华", "hua"),
    ("丰", "feng"),
    ("福", "fu"),
    ("德", "de"),
    ("隆", "long"),
    ("昌", "chang"),
    ("源", "yuan"),
    ("台", "tai"),
    ("海", "hai"),
    ("云", "yun"),
    ("龙", "long"),
    ("凤", "feng"),
    ("马", "ma"),
    ("金", "jin"),
    ("白", "bai"),
    ("青", "qing"),
    ("黄", "huang"),
    ("红", "hong"),
    ("古", "gu"),
    ("高", "gao"),
    ("大", "da"),
    ("小", "xiao"),
    ("上", "shang"),
    ("中", "zhong"),
    ("永", "yong"),
    ("吉", "ji"),
    ("泰", "tai"),
    ("康", "kang"),
    ("梅", "mei"),
    ("柳", "liu"),
    ("松", "song"),
    ("桃", "tao"),
    ("杨", "yang"),
    ("花", "hua"),
    ("溪", "xi"),
    ("峰", "feng"),
    ("岭", "ling"),
    ("坪", "ping"),
    ("塘", "tang"),
    ("湾", "wan"),
    ("营", "ying"),
    ("屯", "tun"),
    ("镇", "zhen"),
    ("集", "ji"),
    ("寨", "zhai"),
    ("坝", "ba"),
    ("沟", "gou"),
    ("店", "dian"),
    ("关", "guan"),
    ("门", "men"),
    ("州", "zhou"),
    ("宝", "bao"),
    ("鸡", "ji"),
    ("汉", "han"),
    ("武", "wu"),
    ("文", "wen"),
    ("明", "ming"),
    ("光", "guang"),
    ("清", "qing"),
    ("远", "yuan"),
    ("定", "ding"),
    ("春", "chun"),
    ("秋", "qiu"),
    ("田", "tian"),
    ("宜", "yi"),
    ("顺", "shun"),
    ("利", "li"),
    ("通", "tong"),
    ("广", "guang"),
    ("庆", "qing"),
    ("喜", "xi"),
    ("万", "wan"),
    ("三", "san"),
    ("五", "wu"),
    ("岗", "gang"),
    ("坡", "po"),
    ("铁", "tie"),
    ("岩", "yan"),
    ("滨", "bin"),
    ("阜", "fu"),
    ("宣", "xuan"),
    ("桂", "gui"),
    ("榆", "yu"),
    ("杏", "xing"),
    ("枣", "zao"),
    ("桑", "sang"),
    ("苗", "miao"),
    ("莲", "lian"),
    ("荷", "he"),
    ("竹", "zhu"),
    ("梁", "liang"),
    ("孟", "meng"),
    ("沙", "sha"),
    ("淮", "huai"),
    ("洛", "luo"),
    ("渭", "wei"),
    ("汾", "fen"),
    ("晋", "jin"),
    ("湘", "xiang"),
    ("赣", "gan"),
    ("闽", "min"),
    ("辽", "liao"),
    ("鲁", "lu"),
    ("苏", "su"),
    ("琼", "qiong"),
    ("川", "chuan"),
    ("甘", "gan"),
    ("乌", "wu"),
    ("塔", "ta"),
    ("尔", "er"),
    ("木", "mu"),
    ("齐", "qi"),
    ("库", "ku"),
    ("伊", "yi"),
    ("沁", "qin"),
    ("涞", "lai"),
    ("邯", "han"),
    ("鄂", "e"),
];

const DIRECTIONS: &[(&str, &str)] = &[("东", "dong"), ("西", "xi"), ("南", "nan"), ("北", "bei")];

/// Railway-bureau letters that end telecodes.
const BUREAUS: &[u8] = b"PHQNWFYTBKJVGMZCOR";

fn initials(syllables: &[&str]) -> String {
    syllables.iter().filter_map(|s| s.chars().next()).collect()
}

/// The short code of a record: `bji` for 北京 (2 characters), `bjb` for 北京北.
fn short_code(syllables: &[&str]) -> String {
    match syllables {
        [a, b] => {
            let mut s: String = a.chars().take(1).collect();
            s.extend(b.chars().take(2));
            s
        }
        _ => syllables
            .iter()
            .take(3)
            .filter_map(|s| s.chars().next())
            .collect(),
    }
}

impl Stations {
    /// Generates the station table: the real stations, then `total - real` generated ones.
    pub fn generate(rng: &Rng, total: usize) -> Stations {
        let mut st = Stations::default();
        let mut city_idx: HashMap<String, u32> = HashMap::new();
        let mut codes = rng.fork("city-codes");
        let mut used_city_codes = HashSet::new();
        let mut city = |st: &mut Stations, name: &str| -> u32 {
            if let Some(&i) = city_idx.get(name) {
                return i;
            }
            let code = loop {
                let c = format!("{:04}", codes.range(0, 10_000));
                if used_city_codes.insert(c.clone()) {
                    break c;
                }
            };
            st.cities.push(City {
                name: name.to_string(),
                code,
            });
            let i = (st.cities.len() - 1) as u32;
            city_idx.insert(name.to_string(), i);
            i
        };
        for (name, tele, py, city_name) in REAL {
            let syl: Vec<&str> = py.split(' ').collect();
            let c = city(&mut st, city_name);
            st.push(Station {
                name: name.to_string(),
                telecode: tele.to_string(),
                pinyin: syl.concat(),
                abbr: initials(&syl),
                short: short_code(&syl),
                city: c,
                real: true,
            });
        }
        let mut r = rng.fork("stations");
        let mut tries = 0;
        while st.list.len() < total && tries < total * 50 {
            tries += 1;
            let n = if r.chance(0.7) { 2 } else { 3 };
            let mut name = String::new();
            let mut syl: Vec<&str> = Vec::new();
            for _ in 0..n {
                let (c, p) = r.pick(SYLLABLES);
                name.push_str(c);
                syl.push(p);
            }
            let base = name.clone();
            if r.chance(0.15) {
                let (c, p) = r.pick(DIRECTIONS);
                name.push_str(c);
                syl.push(p);
            }
            if st.by_name.contains_key(&name) {
                continue;
            }
            let telecode = loop {
                let mut t = r.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2);
                t.push(char::from(*r.pick(BUREAUS)));
                if !st.by_telecode.contains_key(&t) {
                    break t;
                }
            };
            let c = city(&mut st, &base);
            st.push(Station {
                name,
                telecode,
                pinyin: syl.concat(),
                abbr: initials(&syl),
                short: short_code(&syl),
                city: c,
                real: false,
            });
        }
        st.version = format!("1.9{:03}", rng.fork("station-version").range(0, 1000));
        st.js = bytes::Bytes::from(st.render_js(rng));
        st
    }

    fn push(&mut self, s: Station) {
        let i = self.list.len() as u32;
        self.by_telecode.insert(s.telecode.clone(), i);
        self.by_name.insert(s.name.clone(), i);
        self.list.push(s);
    }

    /// `var station_names ='@bjb|北京北|VAP|beijingbei|bjb|0@…';`, both record formats.
    fn render_js(&self, rng: &Rng) -> String {
        let mut r = rng.fork("station-format");
        let mut out = String::with_capacity(self.list.len() * 56);
        out.push_str("var station_names ='");
        for (i, s) in self.list.iter().enumerate() {
            // The examples of platforms.md: 北京北 old, 上海虹桥 new; the rest mixed.
            let new_format = match s.telecode.as_str() {
                "VAP" => false,
                "AOH" => true,
                _ => r.chance(0.5),
            };
            out.push_str(&format!(
                "@{}|{}|{}|{}|{}|{}",
                s.short, s.name, s.telecode, s.pinyin, s.abbr, i
            ));
            if new_format {
                let c = &self.cities[s.city as usize];
                out.push_str(&format!("|{}|{}|||", c.code, c.name));
            }
        }
        out.push_str("';");
        out
    }

    /// The station with this telecode.
    pub fn get(&self, telecode: &str) -> Option<&Station> {
        self.by_telecode
            .get(telecode)
            .and_then(|&i| self.list.get(i as usize))
    }

    /// The index of the station with this name.
    pub fn index_by_name(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_stations_keep_their_codes_and_pinyin() {
        let st = Stations::generate(&Rng::new(1), 500);
        let s = st.get("VNP").unwrap();
        assert_eq!(
            (
                s.name.as_str(),
                s.pinyin.as_str(),
                s.abbr.as_str(),
                s.short.as_str()
            ),
            ("北京南", "beijingnan", "bjn", "bjn")
        );
        let s = st.get("BJP").unwrap();
        assert_eq!((s.short.as_str(), s.abbr.as_str()), ("bji", "bj"));
        assert_eq!(st.get("AOH").unwrap().short, "shh");
        assert_eq!(st.get("AOH").unwrap().abbr, "shhq");
        assert_eq!(st.list.len(), 500);
        let js = std::str::from_utf8(&st.js).unwrap();
        assert!(js.starts_with("var station_names ='@bjb|北京北|VAP|beijingbei|bjb|0@"));
        assert!(js.contains("|上海虹桥|AOH|shanghaihongqiao|shhq|"));
        assert!(js.ends_with("';"));
    }

    #[test]
    fn generated_names_have_matching_pinyin() {
        let st = Stations::generate(&Rng::new(9), 3000);
        for s in st.list.iter().filter(|s| !s.real) {
            assert_eq!(s.name.chars().count(), s.abbr.len(), "{s:?}");
            assert!(s.pinyin.bytes().all(|b| b.is_ascii_lowercase()));
            assert_eq!(s.telecode.len(), 3);
        }
        let same = Stations::generate(&Rng::new(9), 3000);
        assert_eq!(st.js, same.js);
    }
}
