"""The campaign's pure rules: limits, reading typed text, distances, forming teams and pairs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.errors import DomainError

TITLE_MAX = 60
PURPOSE_MAX = 200
ITEM_MAX = 20
ITEMS_MAX = 8
NOTE_MAX = 300
REASON_MAX = 200
ALIAS_MAX = 20
SCHOOL_MAX = 60
TEXT_MAX = 200
PHOTOS_MAX = 6
EARTH_KM = 6371.0


def normalise(text: str) -> str:
    return " ".join(text.split())


def clean_title(text: str) -> str:
    value = normalise(text)
    if not value:
        raise DomainError("visits.title_required")
    if len(value) > TITLE_MAX:
        raise DomainError("visits.title_too_long", max=TITLE_MAX)
    return value


def clean_purpose(text: str) -> str:
    value = normalise(text)
    if not value:
        raise DomainError("visits.purpose_required")
    if len(value) > PURPOSE_MAX:
        raise DomainError("visits.purpose_too_long", max=PURPOSE_MAX)
    return value


def parse_checklist(text: str) -> tuple[str, ...]:
    """ "住房、收入，其他" → ("住房", "收入", "其他"): separated by 、 , ， ; or new lines."""
    for separator in "、,，;；\n":
        text = text.replace(separator, "|")
    items = tuple(dict.fromkeys(normalise(item) for item in text.split("|") if normalise(item)))
    if len(items) > ITEMS_MAX:
        raise DomainError("visits.checklist_too_many", max=ITEMS_MAX)
    for item in items:
        if len(item) > ITEM_MAX:
            raise DomainError("visits.checklist_item_too_long", max=ITEM_MAX)
    return items


def clean_note(text: str, limit: int = NOTE_MAX) -> str:
    value = normalise(text)
    if not value:
        raise DomainError("visits.note_required")
    if len(value) > limit:
        raise DomainError("visits.note_too_long", max=limit)
    return value


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = (math.radians(value) for value in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, h)))


def centre(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def path_km(points: Sequence[tuple[float, float]]) -> float:
    return sum(distance_km(points[index - 1], points[index]) for index in range(1, len(points)))


@dataclass(frozen=True)
class TeamPlan:
    """One team as the bot forms it: its organisations and whole townships."""

    org_ids: tuple[int, ...]
    township_ids: tuple[int, ...]
    households: int


def form_teams(org_ids: Sequence[int], households_by_township: Mapping[int, int], teams: int) -> list[TeamPlan]:
    """Split the organisations into `teams` teams of nearly equal size (44 into 7: two of 7, five
    of 6), then give each team whole townships, the largest first to the team with the fewest
    households per organisation, so that the work per organisation is as even as whole
    townships allow."""
    if teams < 1 or len(org_ids) < teams:
        raise DomainError("visits.teams_too_many", orgs=len(org_ids), teams=teams)
    ordered = sorted(org_ids)
    size, extra = divmod(len(ordered), teams)
    groups: list[list[int]] = []
    start = 0
    for index in range(teams):
        end = start + size + (1 if index < extra else 0)
        groups.append(ordered[start:end])
        start = end
    towns: list[list[int]] = [[] for _ in range(teams)]
    load = [0] * teams
    for township, count in sorted(households_by_township.items(), key=lambda item: (-item[1], item[0])):
        # The emptiest team first (a team without townships before any other), per organisation.
        target = min(range(teams), key=lambda i: (bool(towns[i]), load[i] / len(groups[i]), i))
        towns[target].append(township)
        load[target] += count
    return [TeamPlan(tuple(groups[i]), tuple(sorted(towns[i])), load[i]) for i in range(teams)]


def pairs(members: Sequence[int]) -> list[tuple[int, ...]]:
    """Members two by two, in order; an odd one out joins the last pair (a three)."""
    groups = [tuple(members[index : index + 2]) for index in range(0, len(members), 2)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2] = groups[-2] + groups[-1]
        groups.pop()
    return groups
