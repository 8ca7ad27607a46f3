"""/grant: money paid out of a fund, as a conversation: a grant to a verified student or a village
branch, or an expense for an activity or a wish's purchase.

fund → whom (a student the campaigns verified, by public alias; a village branch, searched by
name; an activity by its code; a wish by its code) → amount (echoed back) → voucher photo
(required) → confirm. A refusal names its rule and keeps the person at the confirmation; a county
admin refused by "verified students only" may give a reason to override it. A grant above the
approval threshold waits for a second county admin, who is sent the approve / refuse buttons.
"""

from __future__ import annotations

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.domain.funds import Payee, parse_amount, yuan_text
from bot.domain.wishes import parse_code
from bot.model.funds import Entry, EntryKind, RecipientKind
from bot.model.organisation import OrgKind
from handlers.context import Ui
from handlers.flow import choice_id, page_number
from handlers.funds.buttons import FundDecision
from handlers.funds.receipt import FundPickingFlow, is_amount
from handlers.funds.render import recorded_text
from handlers.i18n import Translator
from handlers.wishes.photos import photo_from_document

OVERRIDABLE = ("funds.rule_student_unverified", "funds.rule_campaign_open")


def decision_markup(t: Translator, entry_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("funds_ui.button_approve"), callback_data=FundDecision(entry=entry_id, approve=1).pack()
                ),
                InlineKeyboardButton(
                    t("funds_ui.button_refuse"), callback_data=FundDecision(entry=entry_id, approve=0).pack()
                ),
            ]
        ]
    )


class GrantFlow(FundPickingFlow):
    name = "fgr"

    async def fund_chosen(self, ui: Ui, data: dict, fund_id: int) -> None:
        funds = ui.services.funds
        fund = await funds.fund(fund_id)
        if not await funds.can_keep(ui.user_id, fund):
            raise DomainError("funds.keeper_only", fund=fund.name)
        await self.go(ui, "whom", {**data, "fund": fund.id})
        rows = [
            [self.choice(ui, "whom", RecipientKind.STUDENT.value, "funds_ui.button_student")],
            [self.choice(ui, "whom", RecipientKind.VILLAGE.value, "funds_ui.button_village")],
            [self.choice(ui, "whom", RecipientKind.ACTIVITY.value, "funds_ui.button_activity")],
            [self.choice(ui, "whom", RecipientKind.WISH.value, "funds_ui.button_wish")],
            self.cancel_row(ui),
        ]
        balance = await funds.balance(fund.id)
        await ui.reply("funds_ui.ask_whom", InlineKeyboardMarkup(rows), fund=fund.name, balance=yuan_text(balance))

    async def choice_whom(self, ui: Ui, data: dict, value: str) -> None:
        if value == RecipientKind.STUDENT.value:
            students = await ui.services.funds.verified_students()
            await self.go(ui, "student", data)
            if not students:
                await ui.reply("funds_ui.ask_household_id", InlineKeyboardMarkup([self.cancel_row(ui)]))
                return
            items = [(student.household_id, student.alias) for student in students]
            await ui.reply("funds_ui.pick_student", self.paged(ui, "student", items, 0), count=len(students))
            return
        if value == RecipientKind.VILLAGE.value:
            await self.go(ui, "village", data)
            await ui.reply("funds_ui.ask_village", InlineKeyboardMarkup([self.cancel_row(ui)]))
            return
        if value in (RecipientKind.ACTIVITY.value, RecipientKind.WISH.value):
            await self.go(ui, value, data)
            await ui.reply(f"funds_ui.ask_{value}", InlineKeyboardMarkup([self.cancel_row(ui)]))
            return
        raise DomainError("common.button_expired")

    async def choice_student(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            students = await ui.services.funds.verified_students()
            items = [(student.household_id, student.alias) for student in students]
            await ui.edit("funds_ui.pick_student", self.paged(ui, "student", items, page), count=len(students))
            return
        await self._payee_chosen(ui, {**data, "kind": RecipientKind.STUDENT.value, "payee": choice_id(value)})

    async def text_student(self, ui: Ui, data: dict, text: str) -> None:
        digits = text.strip().lstrip("#")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
            raise DomainError("funds_ui.bad_household_id", text=text[:30])
        await self._payee_chosen(ui, {**data, "kind": RecipientKind.STUDENT.value, "payee": int(digits)})

    async def text_village(self, ui: Ui, data: dict, text: str) -> None:
        found = [org for org in await ui.services.orgs.search(text, limit=40) if org.kind is OrgKind.VILLAGE_BRANCH]
        if not found:
            raise DomainError("funds_ui.village_search_nothing", text=text[:30])
        items: list[tuple[object, str]] = [(org.id, org.name) for org in found]
        await ui.reply("funds_ui.pick_village", self.paged(ui, "village", items, 0), count=len(found))

    async def choice_village(self, ui: Ui, data: dict, value: str) -> None:
        if page_number(value) is not None:  # more than a page found: a narrower search instead
            raise DomainError("funds_ui.ask_village")
        await self._payee_chosen(ui, {**data, "kind": RecipientKind.VILLAGE.value, "payee": choice_id(value)})

    async def text_activity(self, ui: Ui, data: dict, text: str) -> None:
        """An activity's expense (materials, transport…), by its code: A0012."""
        activity = await ui.services.activities.by_code(text[:20])
        label = f"{activity.code} {activity.title}"[:100]
        await self._payee_chosen(
            ui,
            {
                **data,
                "kind": RecipientKind.ACTIVITY.value,
                "payee": activity.id,
                "org": activity.org_id,
                "label": label,
            },
        )

    async def text_wish(self, ui: Ui, data: dict, text: str) -> None:
        """A wish's purchase, by its code: W0012 (its text only, never the child's alias)."""
        wish_id = parse_code(text[:20])
        if wish_id is None:
            raise DomainError("funds_ui.bad_wish_code", text=text[:20])
        wish = await ui.services.wishes.get(wish_id)
        org_id = wish.claimed_by_org or wish.collector_org_id
        label = f"{wish.code} {wish.text}"[:100]
        await self._payee_chosen(
            ui, {**data, "kind": RecipientKind.WISH.value, "payee": wish.id, "org": org_id, "label": label}
        )

    async def _payee_chosen(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "amount", data)
        await ui.reply("funds_ui.ask_grant_amount", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_amount(self, ui: Ui, data: dict, text: str) -> None:
        fen = parse_amount(text)
        await self.go(ui, "voucher", {**data, "amount": fen})
        await ui.reply(
            "funds_ui.ask_grant_voucher",
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            typed=text[:40],
            amount=yuan_text(fen),
        )

    async def text_voucher(self, ui: Ui, data: dict, text: str) -> None:
        """The echo invites a corrected amount here; anything else is not the photo asked for."""
        if not is_amount(text):
            raise DomainError("funds.voucher_needed")
        await self.text_amount(ui, data, text)

    async def document_voucher(self, ui: Ui, data: dict, document: Document) -> None:
        """A voucher photo sent as a file (uncompressed): re-sent as a photo, kept as one."""
        await self.photo_voucher(ui, data, await photo_from_document(ui, document))

    async def photo_voucher(self, ui: Ui, data: dict, file_id: str) -> None:
        data = {**data, "voucher": file_id}
        await self.go(ui, "confirm", data)
        fund = await ui.services.funds.fund(data["fund"])
        above = data["amount"] > ui.services.funds.approval_above_fen
        await ui.reply(
            "funds_ui.confirm_grant",
            self.confirm_markup(ui),
            fund=fund.name,
            whom=data.get("label") or ui.t.raw(f"funds_ui.whom_{data['kind']}", id=data["payee"]),
            amount=yuan_text(data["amount"]),
            approval=ui.t.raw("funds_ui.needs_approval") if above else "",
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        try:
            entry = await self._pay(ui, data, None)
        except DomainError as error:
            if error.key in OVERRIDABLE and await ui.services.permissions.is_county_admin(ui.user_id):
                await self.go(ui, "override", data)
                await ui.reply(error.key, **error.params)
                await ui.reply("funds_ui.ask_override", InlineKeyboardMarkup([self.cancel_row(ui)]))
                return
            raise
        await self._done(ui, entry)

    async def text_override(self, ui: Ui, data: dict, text: str) -> None:
        await self._done(ui, await self._pay(ui, data, text))

    async def _pay(self, ui: Ui, data: dict, override: str | None) -> Entry:
        kind = RecipientKind(data["kind"])
        return await ui.services.funds.pay(
            ui.user_id,
            f"conversation:{data['key']}",
            data["fund"],
            Payee(kind, data["payee"], label=data.get("label"), org_id=data.get("org")),
            data["amount"],
            voucher_file_id=data["voucher"],
            kind=EntryKind.GRANT if kind in (RecipientKind.STUDENT, RecipientKind.VILLAGE) else EntryKind.EXPENSE,
            override_reason=override,
        )

    async def _done(self, ui: Ui, entry: Entry) -> None:
        funds = ui.services.funds
        await self.finish(ui)
        names = {fund.id: fund for fund in await funds.funds()}
        await ui.send_text(recorded_text(ui.t, entry, names))
        if not entry.pending:
            return
        for admin_id in await ui.services.permissions.county_admin_ids():
            if admin_id == ui.user_id:
                continue
            await ui.notify(
                admin_id,
                "funds_ui.approval_request",
                lambda t: decision_markup(t, entry.id),
                id=entry.id,
                fund=names[entry.fund_id].name,
                amount=yuan_text(entry.amount_fen),
                to=entry.recipient.label if entry.recipient else "",
            )
