"""County admins set the ledger up: /newdonor and /newfund (conversations), and /pledge.

/newdonor: name → kind → public name (the name itself, another, or anonymous) → contact details
(private: county admins only) or skip.
/newfund: name → purpose → owner organisation (part of its name) → what it may pay (anything,
only verified students, only village branches).
/pledge: fund → donor → amount → instalments (one, or 2-4 monthly, from a month after today) →
confirm; the instalments' reminders go to the person recording it.
"""

from __future__ import annotations

import re
from datetime import date

from telegram import InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.domain.funds import parse_amount, yuan_text
from bot.model.funds import DonorContact, DonorKind, Instalment, RecipientKind, Restriction
from bot.model.organisation import Organisation
from handlers.context import Ui
from handlers.flow import Flow, choice_id, page_number
from handlers.funds.receipt import DonorPickingFlow
from handlers.i18n import Raw

_PHONE = re.compile(r"(\+?[0-9][0-9 \-]{6,}[0-9])")
RESTRICTIONS = {"any": (), "students": (RecipientKind.STUDENT,), "villages": (RecipientKind.VILLAGE,)}
MAX_INSTALMENTS = 4
MAX_PLACES = 30  # villages a fund may be limited to, typed at once


def read_contact(text: str) -> DonorContact:
    """ "张经理 139 0000 1234 县城电力路1号" → the phone, the words before it (the person) and after
    it (the address)."""
    line = " ".join(text.split())
    match = _PHONE.search(line)
    if match is None:
        return DonorContact(contact_person=line or None)
    before, after = line[: match.start()].strip(), line[match.end() :].strip()
    return DonorContact(before or None, match.group(1), after or None)


def monthly(start: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    year, month = start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(f"no day in {year}-{month}")


def split(amount_fen: int, count: int, first: date) -> list[Instalment]:
    """Equal monthly instalments (the last takes the remainder)."""
    share = amount_fen // count
    items = [Instalment(n + 1, monthly(first, n), share) for n in range(count)]
    items[-1] = Instalment(count, items[-1].due_on, amount_fen - share * (count - 1))
    return items


class NewDonorFlow(Flow):
    name = "fnd"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        if not await ui.services.permissions.is_county_admin(ui.user_id):
            raise DomainError("funds.county_only")
        await self.go(ui, "name", {})
        await ui.reply("funds_ui.ask_donor_name", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_name(self, ui: Ui, data: dict, text: str) -> None:
        name = " ".join(text.split())
        if not name:
            raise DomainError("funds.name_empty")
        if len(name) > 60:
            raise DomainError("funds.name_too_long", length=len(name), max=60)
        await self.go(ui, "kind", {"name": name})
        rows = [[self.choice(ui, "kind", kind.value, f"funds_ui.donor_kind_{kind.value}")] for kind in DonorKind]
        rows.append(self.cancel_row(ui))
        await ui.reply("funds_ui.ask_donor_kind", InlineKeyboardMarkup(rows), name=name)

    async def choice_kind(self, ui: Ui, data: dict, value: str) -> None:
        kind = DonorKind(value) if value in {k.value for k in DonorKind} else None
        if kind is None:
            raise DomainError("common.button_expired")
        await self.go(ui, "shown", {**data, "kind": kind.value})
        rows = [
            [self.choice(ui, "shown", "same", "funds_ui.button_same_name")],
            [self.choice(ui, "shown", "anonymous", "funds_ui.button_anonymous")],
            self.cancel_row(ui),
        ]
        await ui.reply("funds_ui.ask_donor_shown", InlineKeyboardMarkup(rows), name=data["name"])

    async def choice_shown(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_contact(ui, {**data, "anonymous": value == "anonymous"})

    async def text_shown(self, ui: Ui, data: dict, text: str) -> None:
        shown = " ".join(text.split())[:60]
        await self._ask_contact(ui, {**data, "anonymous": False, "shown": shown})

    async def _ask_contact(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "contact", data)
        rows = [[self.choice(ui, "contact", "skip", "funds_ui.button_skip")], self.cancel_row(ui)]
        await ui.reply("funds_ui.ask_donor_contact", InlineKeyboardMarkup(rows))

    async def text_contact(self, ui: Ui, data: dict, text: str) -> None:
        await self._create(ui, data, read_contact(text[:200]))

    async def choice_contact(self, ui: Ui, data: dict, value: str) -> None:
        await self._create(ui, data, None)

    async def _create(self, ui: Ui, data: dict, contact: DonorContact | None) -> None:
        donor = await ui.services.funds.add_donor(
            ui.user_id,
            DonorKind(data["kind"]),
            data["name"],
            public_name=data.get("shown"),
            anonymous=bool(data.get("anonymous")),
            contact=contact,
        )
        await self.finish(ui)
        await ui.reply("funds_ui.donor_added", id=donor.id, name=donor.name)


def _org_items(orgs: list[Organisation]) -> list[tuple[object, str]]:
    return [(org.id, org.name) for org in orgs]


class NewFundFlow(Flow):
    name = "fnf"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        if not await ui.services.permissions.is_county_admin(ui.user_id):
            raise DomainError("funds.county_only")
        await self.go(ui, "name", {})
        await ui.reply("funds_ui.ask_fund_name", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_name(self, ui: Ui, data: dict, text: str) -> None:
        name = " ".join(text.split())
        if not name:
            raise DomainError("funds.name_empty")
        await self.go(ui, "purpose", {"name": name[:60]})
        await ui.reply("funds_ui.ask_fund_purpose", InlineKeyboardMarkup([self.cancel_row(ui)]), name=name[:60])

    async def text_purpose(self, ui: Ui, data: dict, text: str) -> None:
        purpose = " ".join(text.split())
        if not purpose:
            raise DomainError("funds.purpose_empty")
        await self.go(ui, "owner", {**data, "purpose": purpose[:200]})
        orgs = await ui.services.orgs.managed_by(ui.user_id)
        await ui.reply("funds_ui.ask_fund_owner", self.paged(ui, "owner", _org_items(orgs), 0), count=len(orgs))

    async def text_owner(self, ui: Ui, data: dict, text: str) -> None:
        found = await ui.services.orgs.managed_by(ui.user_id, text)
        if not found:
            raise DomainError("funds_ui.owner_search_nothing", text=text[:30])
        await ui.reply("funds_ui.pick_owner", self.paged(ui, "owner", _org_items(found), 0), count=len(found))

    async def choice_owner(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            orgs = await ui.services.orgs.managed_by(ui.user_id)
            await ui.edit("funds_ui.ask_fund_owner", self.paged(ui, "owner", _org_items(orgs), page), count=len(orgs))
            return
        owner = await ui.services.orgs.get(choice_id(value))
        await self.go(ui, "limits", {**data, "owner": owner.id})
        rows = [[self.choice(ui, "limits", key, f"funds_ui.restrict_{key}")] for key in RESTRICTIONS]
        rows.append(self.cancel_row(ui))
        await ui.reply("funds_ui.ask_fund_limits", InlineKeyboardMarkup(rows), owner=owner.name)

    async def choice_limits(self, ui: Ui, data: dict, value: str) -> None:
        if value not in RESTRICTIONS:
            raise DomainError("common.button_expired")
        await self.go(ui, "places", {**data, "limits": value})
        rows = [[self.choice(ui, "places", "all", "funds_ui.places_all")], self.cancel_row(ui)]
        await ui.reply("funds_ui.ask_fund_places", InlineKeyboardMarkup(rows))

    async def choice_places(self, ui: Ui, data: dict, value: str) -> None:
        if value != "all":
            raise DomainError("common.button_expired")
        await self._add(ui, data, ())

    async def text_places(self, ui: Ui, data: dict, text: str) -> None:
        """Names of the villages (or townships: a student's township) the fund may pay, e.g.
        "东村团支部、西村团支部"; each must name exactly one organisation the admin manages."""
        names = [name for name in re.split(r"[、，,;；\s]+", text) if name][:MAX_PLACES]
        if not names:
            raise DomainError("funds_ui.places_usage")
        org_ids: list[int] = []
        for name in names:
            found = await ui.services.orgs.managed_by(ui.user_id, name)
            exact = [org for org in found if org.name == name]
            match = exact or found
            if len(match) != 1:
                raise DomainError("funds_ui.place_unknown", name=name[:30])
            org_ids.append(match[0].id)
        await self._add(ui, data, tuple(dict.fromkeys(org_ids)))

    async def _add(self, ui: Ui, data: dict, org_ids: tuple[int, ...]) -> None:
        if data.get("limits") not in RESTRICTIONS:
            raise DomainError("common.button_expired")
        restriction = Restriction(org_ids=org_ids, kinds=RESTRICTIONS[data["limits"]])
        fund = await ui.services.funds.add_fund(ui.user_id, data["name"], data["purpose"], data["owner"], restriction)
        await self.finish(ui)
        await ui.reply("funds_ui.fund_added", id=fund.id, name=fund.name)


class PledgeFlow(DonorPickingFlow):
    """Fund and donor are picked as for a receipt; then the amount and the instalments."""

    name = "fpl"
    donor_question = "funds_ui.pick_pledge_donor"

    async def donor_chosen(self, ui: Ui, data: dict, donor_id: int) -> None:
        donor = await ui.services.funds.donor(donor_id)
        await self.go(ui, "amount", {**data, "donor": donor.id})
        await ui.reply("funds_ui.ask_pledge_amount", InlineKeyboardMarkup([self.cancel_row(ui)]), donor=donor.name)

    async def text_amount(self, ui: Ui, data: dict, text: str) -> None:
        fen = parse_amount(text)
        await self.go(ui, "parts", {**data, "amount": fen})
        rows = [
            [self.button(ui, "parts", count, ui.t("funds_ui.instalments_button", count=count))]
            for count in range(1, MAX_INSTALMENTS + 1)
        ]
        rows.append(self.cancel_row(ui))
        await ui.reply("funds_ui.ask_instalments", InlineKeyboardMarkup(rows), typed=text[:40], amount=yuan_text(fen))

    async def choice_parts(self, ui: Ui, data: dict, value: str) -> None:
        count = choice_id(value)
        if not 1 <= count <= MAX_INSTALMENTS:
            raise DomainError("common.button_expired")
        first = monthly(ui.services.funds.today(), 1)
        items = split(data["amount"], count, first)
        await self.go(ui, "confirm", {**data, "parts": count})
        lines = "\n".join(
            ui.t(
                "funds_ui.instalment_plan",
                number=item.number,
                date=item.due_on.isoformat(),
                amount=yuan_text(item.amount_fen),
            )
            for item in items
        )
        fund, donor = await ui.services.funds.fund(data["fund"]), await ui.services.funds.donor(data["donor"])
        await ui.reply(
            "funds_ui.confirm_pledge",
            self.confirm_markup(ui),
            fund=fund.name,
            donor=donor.name,
            amount=yuan_text(data["amount"]),
            plan=Raw(lines),
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        funds = ui.services.funds
        items = split(data["amount"], data["parts"], monthly(funds.today(), 1))
        entry = await funds.pledge(
            ui.user_id, f"conversation:{data['key']}", data["fund"], data["donor"], data["amount"], instalments=items
        )
        await self.finish(ui)
        await ui.reply("funds_ui.pledged", id=entry.id, amount=yuan_text(entry.amount_fen), count=len(items))
