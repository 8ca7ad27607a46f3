"""/receipt: money received into a fund, as a conversation.

fund (skipped when the person keeps one) → donor (buttons, or part of a name) → the pledge
instalment it pays, when the donor has one open → amount (as cadres write it, echoed back) →
method → voucher photo (or skip) → confirm. The conversation's token is the entry's request key,
so a double tap on "confirm" records once; bad input keeps the person at the same step.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod

from telegram import Document, InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.domain.funds import parse_amount, yuan_text
from bot.model.funds import Donor, Fund
from handlers.context import Ui
from handlers.flow import Flow, choice_id, page_number
from handlers.funds.render import recorded_text
from handlers.wishes.photos import photo_from_document

METHODS = ("bank", "cash", "wechat", "alipay", "cheque")
MAX_METHOD = 30


def is_amount(text: str) -> bool:
    """Whether typed text reads as an amount (a correction of the one just echoed)."""
    try:
        parse_amount(text)
    except DomainError:
        return False
    return True


def fund_choices(funds: list[Fund]) -> list[tuple[object, str]]:
    return [(fund.id, fund.name) for fund in funds]


def donor_choices(donors: list[Donor]) -> list[tuple[object, str]]:
    return [(donor.id, donor.name) for donor in donors]


class FundPickingFlow(Flow):
    """The first step of every money conversation: which fund."""

    async def start(self, ui: Ui, **kwargs: object) -> None:
        funds = await ui.services.funds.funds_for(ui.user_id)
        if not funds:
            await ui.reply("funds.reports_not_allowed")
            return
        data: dict = {"key": uuid.uuid4().hex}
        if len(funds) == 1:
            await self.fund_chosen(ui, data, funds[0].id)
            return
        await self.go(ui, "fund", data)
        await ui.reply("funds_ui.pick_fund", self.paged(ui, "fund", fund_choices(funds), 0), count=len(funds))

    async def choice_fund(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            funds = await ui.services.funds.funds_for(ui.user_id)
            await ui.edit("funds_ui.pick_fund", self.paged(ui, "fund", fund_choices(funds), page), count=len(funds))
            return
        await self.fund_chosen(ui, data, choice_id(value))

    @abstractmethod
    async def fund_chosen(self, ui: Ui, data: dict, fund_id: int) -> None:
        """What each money conversation asks once the fund is known."""

    def confirm_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "funds_ui.button_confirm")], self.cancel_row(ui)]
        )

    def skip_markup(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "funds_ui.button_skip")], self.cancel_row(ui)])


class DonorPickingFlow(FundPickingFlow):
    """Fund, then donor (buttons, or part of a name): receipts and pledges both start so."""

    donor_question = "funds_ui.pick_donor"

    async def fund_chosen(self, ui: Ui, data: dict, fund_id: int) -> None:
        funds = ui.services.funds
        fund = await funds.fund(fund_id)
        if not await funds.can_keep(ui.user_id, fund):
            raise DomainError("funds.keeper_only", fund=fund.name)
        donors = await funds.donors()
        if not donors:
            await self.finish(ui)
            await ui.reply("funds_ui.no_donors")
            return
        data = {**data, "fund": fund.id}
        await self.go(ui, "donor", data)
        await ui.reply(
            self.donor_question, self.paged(ui, "donor", donor_choices(donors), 0), fund=fund.name, count=len(donors)
        )

    async def choice_donor(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            donors = await ui.services.funds.donors()
            fund = await ui.services.funds.fund(data["fund"])
            await ui.edit(
                self.donor_question,
                self.paged(ui, "donor", donor_choices(donors), page),
                fund=fund.name,
                count=len(donors),
            )
            return
        await self.donor_chosen(ui, data, choice_id(value))

    async def text_donor(self, ui: Ui, data: dict, text: str) -> None:
        found = [donor for donor in await ui.services.funds.donors() if text.strip() and text.strip() in donor.name]
        if not found:
            raise DomainError("funds_ui.donor_search_nothing", text=text[:30])
        if len(found) == 1:
            await self.donor_chosen(ui, data, found[0].id)
            return
        await ui.reply("funds_ui.pick_donor_found", self.paged(ui, "donor", donor_choices(found), 0), count=len(found))

    @abstractmethod
    async def donor_chosen(self, ui: Ui, data: dict, donor_id: int) -> None:
        """What comes once the donor is known."""


class ReceiptFlow(DonorPickingFlow):
    name = "frc"

    async def donor_chosen(self, ui: Ui, data: dict, donor_id: int) -> None:
        funds = ui.services.funds
        donor = await funds.donor(donor_id)
        data = {**data, "donor": donor.id}
        open_ones = await funds.open_instalments(donor.id, data["fund"])
        if not open_ones:
            await self.go(ui, "amount", data)
            await ui.reply("funds_ui.ask_amount", InlineKeyboardMarkup([self.cancel_row(ui)]), donor=donor.name)
            return
        rows = [
            [
                self.button(
                    ui,
                    "pledge",
                    f"{item.pledge_id}-{item.number}",
                    ui.t(
                        "funds_ui.instalment_button",
                        number=item.number,
                        date=item.due_on.isoformat(),
                        amount=yuan_text(item.amount_fen),
                    ),
                )
            ]
            for item in open_ones[:8]
        ]
        rows.append([self.choice(ui, "pledge", "none", "funds_ui.button_not_pledge")])
        rows.append(self.cancel_row(ui))
        await self.go(ui, "pledge", data)
        await ui.reply("funds_ui.pick_instalment", InlineKeyboardMarkup(rows), donor=donor.name)

    async def choice_pledge(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            pledge, _, number = value.partition("-")
            data = {**data, "pledge": choice_id(pledge), "instalment": choice_id(number)}
        donor = await ui.services.funds.donor(data["donor"])
        await self.go(ui, "amount", data)
        await ui.reply("funds_ui.ask_amount", InlineKeyboardMarkup([self.cancel_row(ui)]), donor=donor.name)

    async def text_amount(self, ui: Ui, data: dict, text: str) -> None:
        fen = parse_amount(text)
        data = {**data, "amount": fen}
        await self.go(ui, "method", data)
        rows = [[self.choice(ui, "method", method, f"funds_ui.method_{method}")] for method in METHODS]
        rows.append(self.cancel_row(ui))
        await ui.reply("funds_ui.ask_method", InlineKeyboardMarkup(rows), typed=text[:40], amount=yuan_text(fen))

    async def choice_method(self, ui: Ui, data: dict, value: str) -> None:
        if value not in METHODS:
            raise DomainError("common.button_expired")
        await self._method_chosen(ui, data, ui.t(f"funds_ui.method_{value}"))

    async def text_method(self, ui: Ui, data: dict, text: str) -> None:
        if is_amount(text):  # the echo invites a corrected amount here
            await self.text_amount(ui, data, text)
            return
        method = " ".join(text.split())
        if not method or len(method) > MAX_METHOD:
            raise DomainError("funds_ui.bad_method", max=MAX_METHOD)
        await self._method_chosen(ui, data, method)

    async def _method_chosen(self, ui: Ui, data: dict, method: str) -> None:
        await self.go(ui, "voucher", {**data, "method": method})
        await ui.reply("funds_ui.ask_receipt_voucher", self.skip_markup(ui, "voucher"))

    async def photo_voucher(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._confirm(ui, {**data, "voucher": file_id})

    async def document_voucher(self, ui: Ui, data: dict, document: Document) -> None:
        """A voucher photo sent as a file (uncompressed): re-sent as a photo, kept as one."""
        await self._confirm(ui, {**data, "voucher": await photo_from_document(ui, document)})

    async def choice_voucher(self, ui: Ui, data: dict, value: str) -> None:
        await self._confirm(ui, data)

    async def text_voucher(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("funds_ui.voucher_photo_or_skip")

    async def _confirm(self, ui: Ui, data: dict) -> None:
        funds = ui.services.funds
        fund, donor = await funds.fund(data["fund"]), await funds.donor(data["donor"])
        await self.go(ui, "confirm", data)
        pledge = ui.t.raw("funds_ui.pays_instalment", number=data["instalment"]) if "instalment" in data else ""
        await ui.reply(
            "funds_ui.confirm_receipt",
            self.confirm_markup(ui),
            fund=fund.name,
            donor=donor.name,
            amount=yuan_text(data["amount"]),
            method=data["method"],
            voucher=ui.t.raw("funds_ui.voucher_yes" if "voucher" in data else "funds_ui.voucher_no"),
            pledge=pledge,
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        funds = ui.services.funds
        entry = await funds.receipt(
            ui.user_id,
            f"conversation:{data['key']}",
            data["fund"],
            data["donor"],
            data["amount"],
            method=data["method"],
            voucher_file_id=data.get("voucher"),
            pledge_id=data.get("pledge"),
            instalment_no=data.get("instalment"),
        )
        await self.finish(ui)
        await ui.send_text(recorded_text(ui.t, entry, {fund.id: fund for fund in await funds.funds()}))
