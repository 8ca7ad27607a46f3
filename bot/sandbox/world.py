"""The sandbox's world: the personas, the two groups, and the seeded demo county.

Sizes follow the source document (../shared/seed/DIGEST.md): 44 county-level organisations,
172 township committees, 24 schools, 800 micro-wishes, a few activities this week and one
auction session about to open. Everything is invented: cadres' names are random pairs of a
common surname and given name, children are only a public alias and a grade ("小明 · 三年级"),
and no private details (real names, phones, addresses) are stored at all.

The seed goes through the domain's repositories and services in one transaction (no SQL here),
then publishes through the running bot what a person would see in Telegram (the activity
post in the organisation's group). `--empty` keeps only the personas and the groups.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from bot.activities import ActivityDraft
from bot.auction import LotSelection, SessionDraft
from bot.emulator import FakeTelegram
from bot.services import Services
from bot.wishes import WishDraft
from storage.activities import Category, Place
from storage.models import OrgKind, Role
from storage.wishes import WishCategory

COUNTY_ADMIN_ID = 100001
VOLUNTEER_ID = 300001
HUB_CHAT_ID = -1001000000001
ORG_GROUP_CHAT_ID = -1001000000002
BOT_USERNAME = "league_sandbox_bot"
BOT_NAME = "团县委助手（沙盒）"
FIRST_CADRE_ID = 200001
FIRST_CROWD_VOLUNTEER_ID = 400001

# The organisation whose group the page shows (its admin is the default "cadre" persona).
ORG_GROUP_ORG = "县卫健局团委"
ORG_GROUP_TITLE = "县卫健局团委工作群"
HUB_TITLE = "全县团干部群（沙盒）"

_DEPARTMENTS = (
    "教育局", "卫健局", "公安局", "财政局", "民政局", "人社局", "自然资源局", "住建局", "交通运输局",
    "水利局", "农业农村局", "商务局", "文旅局", "应急管理局", "市场监管局", "统计局", "医保局", "林业局",
    "生态环境局", "司法局", "审计局", "税务局", "供电公司", "邮政公司", "农商银行", "人民医院", "中医院",
    "妇幼保健院", "融媒体中心", "法院", "检察院", "发改局", "工信局", "科技局", "退役军人事务局", "信访局",
    "城管局", "乡村振兴局", "气象局", "烟草公司", "移动公司", "电信公司", "职业中专", "图书馆",
)
_TOWN_FIRST = "东西南北新安永平长青石桥龙凤白清柳双"
_TOWN_SECOND = "河山林坪溪岭田湾塘口"
_SCHOOLS_COUNTY = ("县实验小学", "县第一小学", "县第二小学", "县第三小学", "县实验中学", "县第四中学")
_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林郑梁谢唐许冯宋韩邓彭曹曾田萧潘袁蒋蔡余杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
_GIVEN = ("晓明", "海燕", "志强", "丽娟", "建华", "春梅", "伟", "芳", "磊", "静", "军", "敏", "涛", "霞",
          "勇", "婷", "斌", "慧", "杰", "琳", "浩然", "雨桐", "子轩", "欣怡", "宇航", "思琪", "博文", "佳怡",
          "俊杰", "梦瑶", "天宇", "诗涵", "鹏", "雪", "超", "倩", "凯", "颖", "亮", "洁")
_ALIASES = ("小明", "小红", "小刚", "小丽", "小军", "小芳", "小华", "小强", "小燕", "小杰", "小雨", "小雪",
            "小宇", "小涵", "小轩", "小萱", "小乐", "小欣", "小龙", "小凤", "小宝", "小月", "小星", "小阳")
_GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三")
_WISHES = (
    ("一个篮球", WishCategory.SPORTS, 80), ("一双轮滑鞋", WishCategory.SPORTS, 150),
    ("动物园门票", WishCategory.EXPERIENCE, 60), ("一本成语词典", WishCategory.BOOKS, 40),
    ("一个足球", WishCategory.SPORTS, 70), ("一套彩色铅笔", WishCategory.STATIONERY, 25),
    ("一个新书包", WishCategory.STATIONERY, 90), ("一件羽绒服", WishCategory.CLOTHING, 200),
    ("一本《十万个为什么》", WishCategory.BOOKS, 45), ("一副羽毛球拍", WishCategory.SPORTS, 60),
    ("一套积木", WishCategory.TOYS, 180), ("一盏护眼台灯", WishCategory.OTHER, 50),
    ("一双运动鞋", WishCategory.CLOTHING, 150), ("一本英汉词典", WishCategory.BOOKS, 35),
    ("一个地球仪", WishCategory.STATIONERY, 55), ("一盒水彩颜料", WishCategory.STATIONERY, 30),
    ("一只毛绒玩具熊", WishCategory.TOYS, 50), ("一次科技馆参观", WishCategory.EXPERIENCE, 40),
    ("一套跳绳和毽子", WishCategory.SPORTS, 20), ("一个保温水杯", WishCategory.OTHER, 35),
    ("一本新华字典", WishCategory.BOOKS, 25), ("一条围巾和一副手套", WishCategory.CLOTHING, 60),
    ("一架电子琴", WishCategory.TOYS, 280), ("一套课外读物", WishCategory.BOOKS, 100),
)
WISHES_TOTAL = 800
AUCTION_SCHOOLS = 9          # the session's lots: the wishes of this many schools (~300)
AUCTION_STARTS_IN = timedelta(minutes=10)


@dataclass
class Persona:
    key: str          # admin | cadre | volunteer
    user_id: int
    name: str
    org_id: int | None = None
    org_name: str | None = None

    def as_json(self) -> dict:
        return {"key": self.key, "user_id": self.user_id, "name": self.name, "org_id": self.org_id,
                "org_name": self.org_name}


@dataclass
class Cadre:
    user_id: int
    name: str
    org_id: int
    org_name: str
    admin: bool


@dataclass
class World:
    """Who is who in the sandbox, for the page and the crowd."""

    admin: Persona
    volunteer: Persona
    hub_chat_id: int = HUB_CHAT_ID
    org_chat_id: int = ORG_GROUP_CHAT_ID
    org_group_org_id: int | None = None
    cadres: list[Cadre] = field(default_factory=list)
    next_crowd_volunteer: int = FIRST_CROWD_VOLUNTEER_ID
    extra_names: dict[int, str] = field(default_factory=dict)

    def cadre_personas(self) -> list[Persona]:
        """The "cadre of a chosen organisation" personas: each organisation's admin."""
        return [Persona("cadre", c.user_id, c.name, c.org_id, c.org_name) for c in self.cadres if c.admin]

    def persona(self, user_id: int) -> Persona | None:
        for persona in (self.admin, self.volunteer, *self.cadre_personas()):
            if persona.user_id == user_id:
                return persona
        return None

    def names(self) -> dict[int, str]:
        names = {self.admin.user_id: self.admin.name, self.volunteer.user_id: self.volunteer.name}
        names.update({c.user_id: c.name for c in self.cadres})
        names.update(self.extra_names)
        return names


def county_level_names() -> list[str]:
    return [f"县{department}团委" for department in _DEPARTMENTS]


def township_names() -> list[str]:
    names = [f"{a}{b}{'镇' if (i + j) % 3 else '乡'}大团委"
             for i, a in enumerate(_TOWN_FIRST) for j, b in enumerate(_TOWN_SECOND)]
    return names[:172]


def school_names() -> list[str]:
    towns = [name[:2] for name in township_names()]
    return [*(f"{name}团委" for name in _SCHOOLS_COUNTY),
            *(f"{town}中心小学少先队" for town in towns[:24 - len(_SCHOOLS_COUNTY)])]


def person_names(count: int, seed: int = 2026) -> list[str]:
    chance = random.Random(seed)
    pairs = [s + g for s in _SURNAMES for g in _GIVEN]
    return chance.sample(pairs, count)


def base_world(fake: FakeTelegram) -> World:
    """The personas and the two groups in the emulator (no database needed)."""
    admin = Persona("admin", COUNTY_ADMIN_ID, "县团委管理员（示例）")
    volunteer = Persona("volunteer", VOLUNTEER_ID, "新志愿者小林（示例）")
    fake.add_user(admin.user_id, admin.name, username="county_admin_demo")
    fake.add_user(volunteer.user_id, volunteer.name, username="volunteer_demo")
    people = (admin.user_id, volunteer.user_id)
    fake.add_group(HUB_CHAT_ID, HUB_TITLE, supergroup=True, admins=(admin.user_id,), members=people,
                   bot_is_admin=True)
    fake.add_group(ORG_GROUP_CHAT_ID, ORG_GROUP_TITLE, supergroup=True, admins=(admin.user_id,), members=people,
                   bot_is_admin=True)
    return World(admin=admin, volunteer=volunteer)


async def seed_records(services: Services, fake: FakeTelegram, world: World, *, empty: bool) -> dict:
    """The groups' bindings, and unless `empty` the demo county; returns what to publish."""
    now = services.clock.now()
    admin = world.admin.user_id
    await services.people.seen(admin, world.admin.name, "county_admin_demo", "zh-hans", private=True)
    for chat_id, title in ((HUB_CHAT_ID, HUB_TITLE), (ORG_GROUP_CHAT_ID, ORG_GROUP_TITLE)):
        await services.groups.seen(chat_id, title, "supergroup")
    await services.groups.bind_hub(admin, HUB_CHAT_ID)
    if empty:
        return {}
    orgs = services.orgs.orgs
    memberships = services.membership.memberships
    async with services.db.transaction():
        county = [await orgs.add(name, OrgKind.COUNTY_LEVEL, None, 3, now) for name in county_level_names()]
        towns = [await orgs.add(name, OrgKind.TOWNSHIP, None, 1, now) for name in township_names()]
        schools = [await orgs.add(name, OrgKind.SCHOOL, None, 0, now) for name in school_names()]
        # Cadres: two for each county-level organisation (its admin and a cadre), one admin for
        # each township committee and school.
        seats = [(org, True) for org in county] + [(org, False) for org in county] \
            + [(org, True) for org in (*towns, *schools)]
        names = person_names(len(seats))
        for index, ((org, is_admin), name) in enumerate(zip(seats, names, strict=True)):
            user_id = FIRST_CADRE_ID + index
            fake.add_user(user_id, name)
            await services.people.seen(user_id, name, None, "zh-hans", private=True)
            await memberships.grant(org.id, user_id, Role.ORG_ADMIN if is_admin else Role.CADRE, admin, now)
            world.cadres.append(Cadre(user_id, name, org.id, org.name, is_admin))
            fake.add_member(HUB_CHAT_ID, user_id)
    org_group_org = next(org for org in county if org.name == ORG_GROUP_ORG)
    world.org_group_org_id = org_group_org.id
    org_admin = next(c for c in world.cadres if c.org_id == org_group_org.id and c.admin)
    fake.add_member(ORG_GROUP_CHAT_ID, org_admin.user_id)
    fake.set_admin(ORG_GROUP_CHAT_ID, org_admin.user_id)
    await services.groups.bind_org(admin, ORG_GROUP_CHAT_ID, org_group_org.id, is_chat_admin=True)
    # 800 wishes, about 34 per school; each (alias, wish) pair once per school.
    drafts = []
    for index in range(WISHES_TOTAL):
        school, k = index % len(schools), index // len(schools)
        text, category, value = _WISHES[(k + (k // len(_ALIASES)) * 5 + school) % len(_WISHES)]
        drafts.append(WishDraft(collector_org_id=schools[school].id, alias=_ALIASES[k % len(_ALIASES)],
                                grade=_GRADES[(k + school) % len(_GRADES)], text=text, category=category,
                                value_yuan=value, consent=False))
    await services.wishes.import_rows(admin, drafts)
    session = await services.auction.create(admin, SessionDraft(
        title="微心愿认领会（练习场）", starts_at=now + AUCTION_STARTS_IN, duration_minutes=30,
        selection=LotSelection(all_open=False, collector_org_ids=tuple(s.id for s in schools[:AUCTION_SCHOOLS])),
        cap_per_org=15))
    # Activities this week: one today (check-in already open: it opens 30 minutes before the
    # start), two later, all by the shown organisation so their posts land in its group.
    activities = []
    for title, category, start, hours, place in (
        ("义诊进社区·城关（练习）", Category.CLINIC, timedelta(minutes=20), 3,
         Place("城关镇卫生院门口", 28.2282, 112.9388, 500)),
        ("周六学业辅导·东河村（练习）", Category.TUTORING, timedelta(days=2, hours=1), 3, Place("东河村阳光家园")),
        ("敬老院新春探访（练习）", Category.ELDER_CARE, timedelta(days=4, hours=2), 2, Place("县社会福利院")),
    ):
        starts_at = (now + start).replace(second=0, microsecond=0) + timedelta(minutes=1)
        activities.append(await services.activities.create(org_admin.user_id, ActivityDraft(
            org_id=org_group_org.id, title=title, category=category, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours), place=place, slots=30, expected_served=40,
            counts_as_deed=False)))
    return {"session": session, "activities": activities}
