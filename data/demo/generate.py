"""Generate the demo CRM data: customers.csv and orders.csv, next to this file.

The data describe a fictional online retailer: about 60% Chinese-speaking and
40% English-speaking customers, and up to three years of orders (amounts in
yuan). Order histories are shaped so that the tiers in tiers.yml spread over the
customers as in a real shop, edge cases included (lapsed big spenders, frequent
small buyers, customers just below a threshold, a VIP with a refunded order).
The tier distribution is recomputed from the written orders and printed.

Each order also carries its parcel's journey as the carrier reports it: the state,
the carrier (in the customer's language), a tracking number in that carrier's own
format, and the shipped, promised and delivered dates. Most parcels arrive on time;
some arrive late, some are still on their way past the promised date. Shipments
are drawn from a second random stream, so they change nothing else.

All dates are relative to REFERENCE_DATE; the importer shifts them so that the
latest order falls on yesterday. The output is deterministic; rerun from the
project root with (PyYAML is needed to read tiers.yml):

    python data/demo/generate.py
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

import yaml

SEED = 20261120
REFERENCE_DATE = date(2026, 11, 20)
HERE = Path(__file__).resolve().parent
TIERS_FILE = HERE.parents[1] / "tiers.yml"

ZH_SHARE = 0.6
EMAIL_BLANK_RATE = 0.12
LANGUAGE_SWITCH_RATE = 0.05
EXCEPTION_RATE = 0.065  # orders ending returned, refunded or cancelled
# Orders keep clear of the 365-day window edge, so tiers do not depend on
# whether the boundary day is counted as inside the window.
WINDOW_AGES = (0, 355)
OLD_AGES = (375, 1090)

T = TypeVar("T")


def pairs(text: str) -> list[tuple[str, str]]:
    return [(word, reading) for word, reading in (entry.split(":") for entry in text.split(", "))]


# Listed most common first; the weights follow that order.
ZH_SURNAMES = pairs(
    "王:wang, 李:li, 张:zhang, 刘:liu, 陈:chen, 杨:yang, 黄:huang, 赵:zhao, 吴:wu, "
    "周:zhou, 徐:xu, 孙:sun, 马:ma, 朱:zhu, 胡:hu, 郭:guo, 何:he, 林:lin, 高:gao, "
    "罗:luo, 郑:zheng, 梁:liang, 谢:xie, 宋:song, 唐:tang, 许:xu, 韩:han, 冯:feng, "
    "邓:deng, 曹:cao, 彭:peng, 曾:zeng, 肖:xiao, 田:tian, 董:dong, 潘:pan, 袁:yuan, "
    "蔡:cai, 蒋:jiang, 余:yu, 于:yu, 杜:du, 叶:ye, 程:cheng, 魏:wei, 苏:su, 吕:lv, "
    "丁:ding, 沈:shen, 姚:yao, 卢:lu, 钟:zhong, 欧阳:ouyang, 司马:sima, 上官:shangguan, "
    "诸葛:zhuge"
)
ZH_GIVEN = pairs(
    "芳:fang, 伟:wei, 娜:na, 敏:min, 静:jing, 丽:li, 强:qiang, 磊:lei, 军:jun, 洋:yang, "
    "勇:yong, 艳:yan, 杰:jie, 涛:tao, 明:ming, 超:chao, 鹏:peng, 斌:bin, 霞:xia, 慧:hui, "
    "琳:lin, 颖:ying, 昊:hao, 博:bo, 宁:ning, 倩:qian, 秀英:xiu ying, 建国:jian guo, "
    "建华:jian hua, 国强:guo qiang, 志强:zhi qiang, 桂英:gui ying, 秀兰:xiu lan, "
    "海燕:hai yan, 晓明:xiao ming, 婷婷:ting ting, 欣怡:xin yi, 子涵:zi han, 浩然:hao ran, "
    "梓轩:zi xuan, 雨桐:yu tong, 思远:si yuan, 佳怡:jia yi, 一鸣:yi ming, 宇航:yu hang, "
    "诗涵:shi han, 俊杰:jun jie, 文博:wen bo, 晨曦:chen xi, 嘉豪:jia hao, 明轩:ming xuan, "
    "雅琴:ya qin, 丽华:li hua, 春梅:chun mei, 红霞:hong xia, 振华:zhen hua, 德明:de ming, "
    "晓东:xiao dong, 玉兰:yu lan, 凤英:feng ying, 娜娜:na na, 志明:zhi ming, 欣然:xin ran, "
    "天宇:tian yu, 美玲:mei ling, 子豪:zi hao, 梦琪:meng qi, 伟东:wei dong"
)
# origin: (weight, first names, last names)
EN_ORIGINS: dict[str, tuple[int, list[str], list[str]]] = {
    name: (weight, firsts.split(), lasts.split(", "))
    for name, weight, firsts, lasts in [
        (
            "anglo",
            44,
            "Emily James Olivia Michael Sarah David Jessica Daniel Hannah Thomas Grace Ryan "
            "Chloe Matthew Laura Oliver Amelia Jack Megan Andrew Rachel Benjamin Lucy "
            "Christopher Katherine Ethan Abigail Samuel Natalie George Harry Charlotte",
            "Carter, Smith, Johnson, Williams, Brown, Taylor, Wilson, Davies, Evans, Thompson, "
            "Walker, Wright, Robinson, Hughes, Clarke, Mitchell, Turner, Cooper, Harris, "
            "Bennett, Murphy, O'Connor, Anderson, Reed, Collins, Foster, Campbell, Palmer",
        ),
        (
            "indian",
            12,
            "Rajesh Priya Arjun Ananya Vikram Sneha Rahul Deepika Sanjay Kavya Aditya Meera",
            "Kumar, Sharma, Patel, Gupta, Singh, Iyer, Reddy, Nair, Mehta, Rao, Desai",
        ),
        (
            "european",
            13,
            "Sophie Lucas Camille Julien Chloé Mathieu Elena Marco Giulia Lukas Anna Jonas Sofia Pieter Ingrid Léa",
            "Martin, Dubois, Lefèvre, Moreau, Rossi, Bianchi, Müller, Schmidt, Novak, "
            "Jansen, de Vries, Larsen, Lindqvist, Fischer",
        ),
        (
            "hispanic",
            10,
            "Carlos María Diego Lucía Javier Isabella Alejandro Camila Mateo Valentina",
            "García, Rodríguez, Martínez, López, Hernández, González, Fernández, Silva, Torres, Ramírez",
        ),
        (
            "african",
            6,
            "Chinedu Amara Kwame Ngozi Tunde Zanele Kofi Adaeze",
            "Okafor, Mensah, Adeyemi, Okonkwo, Nkosi, Boateng, Diallo, Eze",
        ),
        (
            "middle_eastern",
            5,
            "Omar Layla Yusuf Fatima Ahmed Noor Karim Yasmin",
            "Haddad, Hassan, Khan, Ali, Karimi, Rahman, Nasser",
        ),
        (
            "east_asian",
            10,
            "Kevin Michelle Jason Vivian Eric Alice Andy Jenny Brian Cindy",
            "Zhang, Chen, Wong, Lee, Liu, Lin, Huang, Tan, Nguyen, Kim, Park",
        ),
    ]
}
# English-named customers with these surnames often read Chinese.
CHINESE_SURNAMES_EN = {"Zhang", "Chen", "Wong", "Lee", "Liu", "Lin", "Huang", "Tan"}

CN_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
NANP_AREAS = ["415", "212", "646", "310", "312", "206", "617", "512", "416", "604"]  # US and Canada
ZH_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
EN_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "protonmail.com"]

SIZES = {"shoe": [str(s) for s in range(36, 46)], "cloth": ["S", "M", "L", "XL"]}
# band: [(English, Chinese, price in yuan, size kind)]
CATALOG: dict[str, list[tuple[str, str, float, str]]] = {
    "low": [
        ("Phone case", "手机壳", 39.90, ""),
        ("USB-C charging cable", "USB-C 数据线", 29.90, ""),
        ("Tempered glass screen protector", "钢化膜", 19.90, ""),
        ("Sports socks", "运动袜", 15.90, ""),
        ("Cotton T-shirt", "纯棉T恤", 79.00, "cloth"),
        ("Ceramic mug", "陶瓷马克杯", 45.00, ""),
        ("A5 notebook", "A5 笔记本", 12.80, ""),
        ("Longjing green tea 250g", "西湖龙井 250g", 168.00, ""),
        ("Hydrating face masks (10 pack)", "补水面膜 10片装", 89.00, ""),
        ("Electric toothbrush heads (4 pack)", "电动牙刷刷头 4支装", 129.00, ""),
        ("Snack gift box", "零食大礼包", 99.00, ""),
        ("Folding umbrella", "折叠雨伞", 59.00, ""),
        ("Wireless mouse", "无线鼠标", 89.00, ""),
        ("Power bank 10000mAh", "充电宝 10000mAh", 129.00, ""),
        ("Yoga mat", "瑜伽垫", 119.00, ""),
        ("Coffee beans 1kg", "咖啡豆 1kg", 158.00, ""),
        ("Vacuum flask 500ml", "保温杯 500ml", 129.00, ""),
        ("Shampoo 750ml", "洗发水 750ml", 69.90, ""),
    ],
    "mid": [
        ("Wireless Bluetooth earbuds", "无线蓝牙耳机", 399.00, ""),
        ("Running shoes", "跑步鞋", 599.00, "shoe"),
        ("Backpack", "双肩背包", 329.00, ""),
        ("Electric kettle", "电热水壶", 199.00, ""),
        ("Air fryer", "空气炸锅", 459.00, ""),
        ("Mechanical keyboard", "机械键盘", 699.00, ""),
        ("Smart watch", "智能手表", 1299.00, ""),
        ("Rice cooker", "电饭煲", 599.00, ""),
        ("Down jacket", "羽绒服", 899.00, "cloth"),
        ("Jeans", "牛仔裤", 299.00, "cloth"),
        ("Electric toothbrush", "电动牙刷", 399.00, ""),
        ("Hair dryer", "吹风机", 299.00, ""),
        ("Bedding set (4 pieces)", "床上四件套", 459.00, ""),
        ("High-speed blender", "破壁机", 799.00, ""),
        ("Ergonomic office chair", "人体工学椅", 1199.00, ""),
        ("24-inch suitcase", "24寸行李箱", 699.00, ""),
        ("Skincare gift set", "护肤品套装", 688.00, ""),
    ],
    "high": [
        ("14-inch laptop", "14英寸笔记本电脑", 5999.00, ""),
        ("Smartphone 256GB", "智能手机 256GB", 4999.00, ""),
        ("11-inch tablet", "11英寸平板电脑", 3299.00, ""),
        ("65-inch 4K TV", "65英寸4K电视", 4599.00, ""),
        ("Robot vacuum", "扫地机器人", 2999.00, ""),
        ("Mirrorless camera", "微单相机", 6999.00, ""),
        ("Espresso machine", "意式咖啡机", 2499.00, ""),
        ("French-door refrigerator 500L", "对开门冰箱 500L", 3999.00, ""),
        ("Front-load washing machine 10kg", "滚筒洗衣机 10kg", 2799.00, ""),
        ("Game console", "游戏主机", 3499.00, ""),
        ("Noise-cancelling headphones", "降噪头戴式耳机", 2299.00, ""),
        ("Air purifier", "空气净化器", 1899.00, ""),
        ("Leather handbag", "真皮手提包", 7800.00, ""),
        ("Massage chair", "按摩椅", 8999.00, ""),
    ],
}
BANDS = ("low", "mid", "high")

# The day the demo is looked at: the importer moves the newest order to yesterday.
DEMO_TODAY = REFERENCE_DATE + timedelta(days=1)
# The delivery promised at checkout: the shop's usual five days, ten abroad.
PROMISED_DAYS = {"domestic": 5, "international": 10}
LATE_ARRIVAL_RATE = 0.08  # delivered parcels held up on the way
# name (zh, en), weight, days on the road (fewest, most), tracking number maker
Carrier = tuple[str, str, int, tuple[int, int], Callable[[random.Random], str]]


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def sf_number(rng: random.Random) -> str:
    return "SF" + rng.choice("1456") + digits(rng, 12)


def jd_number(rng: random.Random) -> str:
    return "JDV" + rng.choice("ABCDE") + digits(rng, 11)


def zto_number(rng: random.Random) -> str:
    return rng.choice(["73", "75", "78"]) + digits(rng, 12)


def yto_number(rng: random.Random) -> str:
    return "YT" + rng.choice("2345678") + digits(rng, 12)


def ems_number(rng: random.Random) -> str:
    """A UPU S10 item id: E, a letter, 8 digits, the check digit, CN."""
    serial = digits(rng, 8)
    check = 11 - sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7))) % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"E{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{serial}{check}CN"


def dhl_number(rng: random.Random) -> str:
    """A DHL Express waybill: 9 digits and their remainder by 7."""
    serial = str(rng.randint(10**8, 10**9 - 1))
    return serial + str(int(serial) % 7)


DOMESTIC_CARRIERS: list[Carrier] = [
    ("顺丰速运", "SF Express", 30, (1, 2), sf_number),
    ("京东物流", "JD Logistics", 20, (1, 2), jd_number),
    ("中通快递", "ZTO Express", 22, (2, 4), zto_number),
    ("圆通速递", "YTO Express", 16, (2, 4), yto_number),
    ("中国邮政 EMS", "China Post EMS", 12, (3, 5), ems_number),
]
INTERNATIONAL_CARRIER: Carrier = ("DHL 国际快递", "DHL Express", 1, (4, 8), dhl_number)


@dataclass(frozen=True)
class Profile:
    """A kind of customer history; `tier` is where it must land."""

    tier: str
    count: int
    orders: tuple[int, int] = (0, 0)  # counted-window orders drafted
    last_age: tuple[int, int] = WINDOW_AGES  # days since the latest of them
    bands: tuple[int, int, int] = (5, 4, 1)  # weights of low/mid/high main items
    old: tuple[int, int] = (0, 0)  # orders before the window
    spend: tuple[float, float] = (0, math.inf)  # counted spend required, yuan
    refunded_big: bool = False


PROFILES: dict[str, Profile] = {
    "never_ordered": Profile("normal", 44),
    "one_off": Profile("normal", 28, (1, 1), old=(0, 1)),
    "newcomer": Profile("normal", 10, (1, 1), (0, 20)),
    "lapsed": Profile("normal", 28, (0, 3), (185, 355), old=(1, 6)),
    "small_spender": Profile("normal", 18, (2, 3), (0, 170), (1, 0, 0), (0, 2), (250, 499.99)),
    "lapsed_big_spender": Profile("normal", 8, (4, 10), (200, 340), (1, 3, 3), (3, 10), (6000, math.inf)),
    "occasional": Profile("bronze", 61, (2, 3), (0, 175), (4, 5, 1), (0, 4)),
    "frequent_small": Profile("bronze", 10, (8, 18), (0, 100), (1, 0, 0), (0, 6), (500, 1999.99)),
    "one_order_short_of_silver": Profile("bronze", 8, (3, 3), (0, 110), (0, 3, 2), (0, 3), (2000, math.inf)),
    "lapsed_to_bronze": Profile("bronze", 6, (8, 16), (125, 175), (1, 3, 3), (2, 10), (8000, math.inf)),
    "regular": Profile("silver", 48, (4, 7), (0, 115), (3, 5, 2), (0, 8)),
    "just_below_gold": Profile("silver", 8, (8, 11), (0, 85), (3, 5, 1), (0, 8), (6500, 7999.99)),
    "lapsed_to_silver": Profile("silver", 5, (8, 14), (95, 115), (2, 4, 3), (2, 10), (8000, math.inf)),
    "loyal": Profile("gold", 29, (8, 14), (0, 85), (2, 5, 3), (2, 12)),
    "just_below_vip": Profile("gold", 5, (15, 20), (0, 55), (2, 4, 3), (3, 12), (24000, 29999.99)),
    "lapsed_to_gold": Profile("gold", 4, (15, 24), (65, 85), (1, 3, 4), (5, 15), (30000, math.inf)),
    "vip": Profile("vip", 18, (15, 30), (0, 55), (1, 3, 5), (5, 20)),
    "vip_with_refund": Profile("vip", 2, (15, 30), (0, 55), (1, 3, 5), (5, 20), refunded_big=True),
}


@dataclass
class Customer:
    id: str
    name: str
    phone: str
    email: str
    language: str


@dataclass
class Order:
    customer_id: str
    placed_at: date
    amount: int  # fen, to keep sums exact
    status: str
    items: str
    id: str = ""
    shipment_status: str = "pending"
    carrier: str = ""
    tracking_number: str = ""
    shipped_at: date | None = None
    promised_date: date | None = None
    delivered_at: date | None = None


# --- tiers -----------------------------------------------------------------


def load_tiers(path: Path = TIERS_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def counted_orders(orders: list[Order], config: dict[str, Any], ref: date) -> list[Order]:
    statuses = set(config["counted_statuses"])
    return [o for o in orders if o.status in statuses and 0 <= (ref - o.placed_at).days <= config["window_days"]]


def meets(rules: dict[str, Any], counted: list[Order], ref: date) -> bool:
    if len(counted) < rules.get("min_orders", 0):
        return False
    if sum(o.amount for o in counted) < round(rules.get("min_spend", 0) * 100):
        return False
    if "max_recency_days" in rules:
        return bool(counted) and (ref - max(o.placed_at for o in counted)).days <= rules["max_recency_days"]
    return True


def customer_tier(orders: list[Order], config: dict[str, Any], ref: date = REFERENCE_DATE) -> str:
    """The highest identified tier whose every rule the customer's orders meet."""
    counted = counted_orders(orders, config, ref)
    reached = [
        t["id"]
        for t in config["tiers"]
        if t["id"] != config["guest_tier"] and meets(t.get("rules") or {}, counted, ref)
    ]
    return reached[-1]  # tiers.yml lists tiers lowest first


# --- customers ---------------------------------------------------------------


def unique(make: Callable[[], T], seen: set[Hashable], key: Callable[[T], Hashable] = lambda v: v) -> T:
    while key(value := make()) in seen:
        pass
    seen.add(key(value))
    return value


def ascii_lower(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def zh_person(rng: random.Random) -> tuple[str, str, list[str]]:
    surname, surname_py = rng.choices(ZH_SURNAMES, weights=range(len(ZH_SURNAMES), 0, -1))[0]
    given, given_py = rng.choice(ZH_GIVEN)
    return surname + given, surname_py, given_py.split()


def zh_email(rng: random.Random, surname: str, given: list[str]) -> str:
    if rng.random() < 0.3:
        return f"{rng.randint(10_000_000, 2_999_999_999)}@qq.com"
    full = "".join(given)
    user = rng.choice([surname + full, f"{surname}.{full}", full + surname, surname + "".join(s[0] for s in given)])
    suffix = rng.choice(["", str(rng.randint(1, 99)), str(rng.randint(1975, 2005))])
    return f"{user}{suffix}@{rng.choice(ZH_DOMAINS)}"


def en_person(rng: random.Random) -> tuple[str, str, str]:
    origin = rng.choices(list(EN_ORIGINS), weights=[w for w, _, _ in EN_ORIGINS.values()])[0]
    _, firsts, lasts = EN_ORIGINS[origin]
    first, last = rng.choice(firsts), rng.choice(lasts)
    return f"{first} {last}", first, last


def en_email(rng: random.Random, first: str, last: str) -> str:
    f, s = ascii_lower(first), ascii_lower(last)
    user = rng.choice([f"{f}.{s}", f + s, f[0] + s, f"{f}_{s}", f"{f}.{s[0]}", f"{s}.{f}"])
    suffix = rng.choice(["", "", str(rng.randint(1, 99)), str(rng.randint(1970, 2004))])
    return f"{user}{suffix}@{rng.choice(EN_DOMAINS)}"


def cn_mobile(rng: random.Random) -> str:
    return rng.choice(CN_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def foreign_phone(rng: random.Random) -> str:
    # Outside China, only numbers from ranges reserved for fiction.
    r = rng.random()
    if r < 0.12:
        return cn_mobile(rng)  # expats living in China
    if r < 0.62:
        return f"+1{rng.choice(NANP_AREAS)}55501{rng.randrange(100):02d}"
    if r < 0.75:
        return f"+442079460{rng.randrange(1000):03d}"
    if r < 0.88:
        return f"+447700900{rng.randrange(1000):03d}"
    return f"+6125550{rng.randrange(10000):04d}"


def make_customers(rng: random.Random, count: int) -> list[Customer]:
    origins = ["zh"] * round(count * ZH_SHARE)
    origins += ["en"] * (count - len(origins))
    rng.shuffle(origins)
    names: set[Hashable] = set()
    phones: set[Hashable] = set()
    emails: set[Hashable] = set()
    customers = []
    for number, origin in enumerate(origins, 1):
        if origin == "zh":
            name, surname, given = unique(lambda: zh_person(rng), names, key=lambda p: p[0])
            phone = unique(lambda: cn_mobile(rng), phones)
            make_email = partial(zh_email, rng, surname, given)
            language = "en" if rng.random() < LANGUAGE_SWITCH_RATE else "zh"
        else:
            name, first, last = unique(lambda: en_person(rng), names, key=lambda p: p[0])
            phone = unique(lambda: foreign_phone(rng), phones)
            make_email = partial(en_email, rng, first, last)
            switch = 0.35 if last in CHINESE_SURNAMES_EN else 0.02
            language = "zh" if rng.random() < switch else "en"
        email = "" if rng.random() < EMAIL_BLANK_RATE else unique(make_email, emails)
        customers.append(Customer(f"C{number:05d}", name, phone, email, language))
    return customers


# --- orders ------------------------------------------------------------------


def order_status(rng: random.Random, age: int) -> str:
    if rng.random() < EXCEPTION_RATE:
        if age < 5:
            return "cancelled"
        return rng.choices(["returned", "refunded", "cancelled"], weights=[3, 4, 3])[0]
    if age <= 1:
        return rng.choice(["placed", "paid"])
    if age <= 3:
        return rng.choice(["paid", "shipped"])
    if age <= 6:
        return "shipped"
    if age <= 12:
        return rng.choice(["shipped", "delivered", "delivered"])
    return "delivered"


def item_label(rng: random.Random, entry: tuple[str, str, float, str], language: str) -> str:
    en, zh, _, size_kind = entry
    name = en if language == "en" else zh
    if not size_kind:
        return name
    size = rng.choice(SIZES[size_kind])
    return f"{name} (size {size})" if language == "en" else f"{name}（{size}码）"


def make_order(rng: random.Random, customer: Customer, band: str, age: int, status: str | None = None) -> Order:
    lines = [(rng.choice(CATALOG[band]), rng.choices([1, 2, 3], [7, 2, 1])[0] if band == "low" else 1)]
    if rng.random() < 0.25:  # add-on accessories
        extras = rng.sample(CATALOG["low"], rng.randint(1, 2))
        lines += [(e, rng.choice([1, 1, 2])) for e in extras if e is not lines[0][0]]
    amount = sum(round(entry[2] * 100) * qty for entry, qty in lines)
    items = "; ".join(f"{item_label(rng, entry, customer.language)} x{qty}" for entry, qty in lines)
    placed_at = REFERENCE_DATE - timedelta(days=age)
    return Order(customer.id, placed_at, amount, status or order_status(rng, age), items)


def draft_history(rng: random.Random, customer: Customer, profile: Profile) -> list[Order]:
    ages = []
    if count := rng.randint(*profile.orders):
        low, high = profile.last_age
        last = low + int((high - low + 1) * rng.random() ** 2)  # skewed towards recent
        ages = [last] + [rng.randint(last, WINDOW_AGES[1]) for _ in range(count - 1)]
    ages += [rng.randint(*OLD_AGES) for _ in range(rng.randint(*profile.old))]
    orders = [make_order(rng, customer, rng.choices(BANDS, profile.bands)[0], age) for age in ages]
    if profile.refunded_big:
        orders.append(make_order(rng, customer, "high", rng.randint(15, 200), status="refunded"))
    return orders


def make_history(rng: random.Random, customer: Customer, profile: Profile, config: dict[str, Any]) -> list[Order]:
    """Draft histories until one lands in the profile's tier and spend range."""
    low, high = (limit * 100 for limit in profile.spend)
    for _ in range(10_000):
        orders = draft_history(rng, customer, profile)
        spend = sum(o.amount for o in counted_orders(orders, config, REFERENCE_DATE))
        if customer_tier(orders, config) == profile.tier and low <= spend <= high:
            return orders
    raise RuntimeError(f"no history fits {profile} for {customer.id}")


def assign_order_ids(rng: random.Random, orders: list[Order]) -> None:
    # The daily sequence skips numbers taken by shoppers outside the demo.
    orders.sort(key=lambda o: (o.placed_at, o.customer_id))
    for day, group in groupby(orders, key=lambda o: o.placed_at):
        sequence = 0
        for order in group:
            sequence += rng.randint(1, 300)
            order.id = f"O{day:%Y%m%d}{sequence:05d}"


# --- shipments ---------------------------------------------------------------


def ship(rng: random.Random, order: Order, customer: Customer, state: str | None = None) -> None:
    """The parcel's journey so far, as the carrier reports it the evening before DEMO_TODAY;
    ``state`` decides where a parcel still on its way stands."""
    abroad = customer.phone.startswith("+")  # Chinese mobiles are written without +86
    order.promised_date = order.placed_at + timedelta(days=PROMISED_DAYS["international" if abroad else "domestic"])
    if order.status in ("placed", "paid", "cancelled"):
        return
    if abroad:
        zh, en, _, (fastest, slowest), number = INTERNATIONAL_CARRIER
    else:
        zh, en, _, (fastest, slowest), number = rng.choices(DOMESTIC_CARRIERS, [c[2] for c in DOMESTIC_CARRIERS])[0]
    order.carrier = zh if customer.language == "zh" else en
    order.tracking_number = number(rng)
    yesterday = DEMO_TODAY - timedelta(days=1)
    order.shipped_at = min(order.placed_at + timedelta(days=rng.choice([0, 1, 1, 2])), yesterday)
    on_the_road = rng.randint(fastest, slowest)
    if rng.random() < LATE_ARRIVAL_RATE:
        on_the_road += rng.randint(3, 8)
    arrival = order.shipped_at + timedelta(days=on_the_road)
    if order.status == "shipped":
        # Not yet arrived: a parcel due by now is held up, or on the van today.
        if state:
            order.shipment_status = state
            if state == "shipped":
                order.shipped_at = yesterday
        elif order.shipped_at == yesterday:
            order.shipment_status = "shipped"
        elif arrival <= DEMO_TODAY and rng.random() < 0.4:
            order.shipment_status = "out_for_delivery"
        else:
            order.shipment_status = "in_transit"
        return
    order.delivered_at = min(arrival, yesterday)
    order.shipment_status = "delivered" if order.status == "delivered" else "returned"


# The demo shop lets a visitor be the first customer of each tier (bot/service/demo.py):
# each gets recent orders in the states worth showing, as (days ago, status, parcel state).
SHOWCASE = {
    "normal": [(8, "shipped", "in_transit")],  # past its promised date: late
    "bronze": [(3, "shipped", "out_for_delivery")],
    "silver": [(1, "paid", ""), (2, "shipped", "shipped")],
    "gold": [(5, "shipped", "in_transit")],
    "vip": [(4, "shipped", "in_transit")],
}


def showcase(rng: random.Random, customers: list[Customer], orders: list[Order], config: dict[str, Any]) -> None:
    """Adds SHOWCASE's orders to each tier's first customer; none may change their tier."""
    by_customer: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)
    firsts: dict[str, Customer] = {}
    for customer in customers:
        firsts.setdefault(customer_tier(by_customer[customer.id], config), customer)
    taken = {order.id for order in orders}
    for tier, wanted in SHOWCASE.items():
        customer = firsts[tier]
        for age, status, state in wanted:
            # A small order, drawn again until it leaves the customer in their tier.
            for _ in range(1000):
                order = make_order(rng, customer, "low", age, status)
                if customer_tier([*by_customer[customer.id], order], config) == tier:
                    break
            else:
                raise RuntimeError(f"no showcase order keeps {customer.id} in {tier}")
            order.id = unique(lambda o=order: f"O{o.placed_at:%Y%m%d}{rng.randint(1, 99999):05d}", taken)
            ship(rng, order, customer, state)
            by_customer[customer.id].append(order)
            orders.append(order)
    orders.sort(key=lambda o: (o.placed_at, o.id))


# --- output ------------------------------------------------------------------


ORDER_HEADER = [
    *("id", "customer_id", "placed_at", "amount", "status", "items"),
    *("shipment_status", "carrier", "tracking_number", "shipped_at", "promised_date", "delivered_at"),
]


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def print_summary(customers: list[Customer], orders: list[Order], config: dict[str, Any]) -> None:
    by_customer: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)
    tiers = Counter(customer_tier(by_customer[c.id], config) for c in customers)
    statuses = Counter(o.status for o in orders)
    languages = Counter(c.language for c in customers)
    print(
        f"{len(customers)} customers ({dict(languages)}), {len(orders)} orders, "
        f"{sum(1 for c in customers if not by_customer[c.id])} customers without orders"
    )
    print("statuses:", ", ".join(f"{s} {n}" for s, n in statuses.most_common()))
    shipments = Counter(o.shipment_status for o in orders)
    print("shipments:", ", ".join(f"{s} {n}" for s, n in shipments.most_common()))
    late = Counter(
        "arrived late" if o.delivered_at else "late on the way"
        for o in orders
        if o.promised_date and o.status in ("shipped", "delivered") and (o.delivered_at or DEMO_TODAY) > o.promised_date
    )
    print("late:", ", ".join(f"{s} {n}" for s, n in sorted(late.items())))
    print("carriers:", ", ".join(f"{c} {n}" for c, n in Counter(o.carrier for o in orders if o.carrier).most_common()))
    print(f"tiers as of {REFERENCE_DATE}:")
    for tier in (t["id"] for t in config["tiers"] if t["id"] != config["guest_tier"]):
        print(f"  {tier:<7} {tiers[tier]:>4}  {tiers[tier] / len(customers):6.1%}")


def main() -> None:
    rng = random.Random(SEED)
    config = load_tiers()
    profile_names = [name for name, p in PROFILES.items() for _ in range(p.count)]
    rng.shuffle(profile_names)
    customers = make_customers(rng, len(profile_names))
    orders = [
        order
        for customer, name in zip(customers, profile_names)
        for order in make_history(rng, customer, PROFILES[name], config)
    ]
    assign_order_ids(rng, orders)
    by_id = {c.id: c for c in customers}
    shipments = random.Random(SEED + 1)
    for order in orders:
        ship(shipments, order, by_id[order.customer_id])
    showcase(shipments, customers, orders, config)

    write_csv(
        HERE / "customers.csv",
        ["id", "name", "phone", "email", "language"],
        [[c.id, c.name, c.phone, c.email, c.language] for c in customers],
    )
    write_csv(
        HERE / "orders.csv",
        ORDER_HEADER,
        [
            [
                o.id,
                o.customer_id,
                o.placed_at.isoformat(),
                f"{o.amount // 100}.{o.amount % 100:02d}",
                o.status,
                o.items,
                o.shipment_status,
                o.carrier,
                o.tracking_number,
                iso(o.shipped_at),
                iso(o.promised_date),
                iso(o.delivered_at),
            ]
            for o in orders
        ],
    )
    print_summary(customers, orders, config)


if __name__ == "__main__":
    main()
