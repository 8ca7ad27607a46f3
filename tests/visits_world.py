"""The seed's verification campaign as test data: 7 townships, 44 county-level organisations
each with a head, and a spreadsheet of 148 households (the seed's figures)."""

from __future__ import annotations

import io

import openpyxl

from bot.domain.visits.household_import import HEADERS
from bot.model.organisation import OrgKind, Role
from tests.harness import COUNTY_ADMIN_ID

TOWNSHIPS = ("城关镇", "东山乡", "西河镇", "南岭乡", "北坪镇", "青石乡", "白沙镇")
PER_TOWNSHIP = (30, 25, 22, 20, 19, 17, 15)  # 148 households
# Each township's households live around this point (latitude, longitude).
CENTRES = tuple((27.0 + index * 0.3, 114.0 + index * 0.3) for index in range(len(TOWNSHIPS)))
HEAD_BASE = 500_000
PRIVATE_MARKERS = ("某某大学第", "幸福路", "1380013", "监护人甲", "家庭申报")


def household_rows(per_township: tuple[int, ...] = PER_TOWNSHIP) -> list[list[object]]:
    rows: list[list[object]] = [list(HEADERS)]
    for town_index, count in enumerate(per_township):
        lat, lon = CENTRES[town_index]
        for index in range(count):
            number = town_index * 1000 + index
            rows.append(
                [
                    f"学生{number}",
                    TOWNSHIPS[town_index],
                    f"{index}村",
                    f"某某大学第{number}号",
                    "本科一批",
                    f"幸福路 {number} 号",
                    f"监护人甲{number}",
                    f"1380013{number:04d}",
                    f"家庭申报困难{number}",
                    lat + (index % 5) * 0.01,
                    lon + (index % 5) * 0.01,
                ]
            )
    return rows


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def build_county(services, clock, *, organisations: int = 44) -> tuple[dict[str, int], list[int], list[int]]:
    """Townships (name → id), the county-level organisations' ids, and their heads' user ids."""
    await services.people.seen(COUNTY_ADMIN_ID, "县管理员", "county_admin", "zh-hans", private=True)
    townships = {}
    for name in TOWNSHIPS:
        townships[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, OrgKind.TOWNSHIP, None)).id
    orgs, heads = [], []
    for index in range(organisations):
        org = await services.orgs.create(COUNTY_ADMIN_ID, f"县直单位{index + 1:02d}团委", OrgKind.COUNTY_LEVEL, None)
        head = HEAD_BASE + index
        await services.people.seen(head, f"书记{index + 1}", None, "zh-hans", private=True)
        await services.membership.memberships.grant(org.id, head, Role.ORG_ADMIN, COUNTY_ADMIN_ID, clock.now())
        orgs.append(org.id)
        heads.append(head)
    return townships, orgs, heads
