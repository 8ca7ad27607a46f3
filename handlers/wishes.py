"""Micro-wishes (微心愿) in Telegram: the registry and fulfilment.

- /newwish: a private conversation (collector → alias → grade → wish → category → value →
  optional photo → guardian consent → the child's private details if consented → confirm).
- /wishtemplate and /importwishes: the XLSX template, and a checked, all-or-nothing import.
- /wishes: a paged list with filters (status, category, my organisation's collected or
  claimed wishes) and search by typing; county admins see the overdue claims first.
- /wish W0012: the card, with the buttons the viewer may use (edit, cancel, 已购买, 已送达 with a
  photo, 确认收到); the child's private details are added for whoever bot/wishes.py allows
  (each view audited there).
- A repeating job keeps the claimers' deadline reminders (3 days and 1 day before) in the
  persistent scheduler, and sends the county admins the overdue list once a day.

Privacy: every command here runs in the private chat only (in a group they answer with a link
to it), so a child's details are typed, echoed and shown only there, never in a group. While a
/newwish conversation runs, its answers sit in the conversation's stored state, which is
deleted when it ends or is cancelled. Nothing here logs message text.

Photos: a photo message is taken as it is; an image sent as a file (PNG/JPG…) is re-sent by
the bot as a photo in the same private chat, so that the stored file_id is a photo's (Telegram
refuses a document's file_id for sendPhoto).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackContext

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.services import Services
from bot.domain.wish_import import (
    MAX_BYTES,
    MAX_ROWS,
    WishRow,
    build_template_xlsx,
    parse_wish_file,
)
from bot.domain.wishes import (
    TEXT_MAX,
    VALUE_MAX,
    VALUE_MIN,
    WishDraft,
    clean_alias,
    clean_category,
    clean_grade,
    clean_private,
    clean_text,
    clean_value,
    is_real_name,
    keep_deadline_reminders,
    normalise,
    parse_consent,
)
from bot.model.organisation import Organisation
from bot.model.wish import (
    IN_PROGRESS,
    PrivateDetails,
    Wish,
    WishCategory,
    WishFilter,
    WishStatus,
)
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui, services_of
from handlers.file_import import ImportKeys, Parser, SpreadsheetImportFlow, shorten
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Raw, Translator
from handlers.scheduling import schedule_wake

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WishAction(CallbackData, prefix="wsh"):
    wish: int
    action: str


_ACTIONS = ("edit", "cancel", "buy", "deliver", "confirm", "photo", "proof")
DEADLINE_JOB = "wishes:deadlines"
DEADLINE_EVERY = timedelta(minutes=10)
DIGEST_AT = time(9, 0)  # local time after which the day's overdue list goes to the county admins
DIGEST_LINES = 30
LIST_PAGE = 10
SEARCH_MAX = 30
NOTIFY_MEMBERS_MAX = 20
PHOTO_MAX_BYTES = 10 * 1024 * 1024
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_SKIP_WORDS = ("skip", "跳过", "无", "没有", "-")


# ---- small renderings ---------------------------------------------------------------------------
def category_label(t: Translator, category: WishCategory) -> str:
    return t(f"wishes.category.{category.value}")


def status_label(t: Translator, status: WishStatus) -> str:
    return t(f"wishes.status.{status.value}")


def local_text(zone: ZoneInfo, moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def is_skip(ui: Ui, text: str) -> bool:
    return normalise(text).casefold() in {*_SKIP_WORDS, ui.t("wishes.ui_skip_word").casefold()}


def days_overdue(now: datetime, deadline: datetime) -> int:
    return max(1, -(-(now - deadline) // timedelta(days=1)))


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)


async def collector_orgs(ui: Ui) -> list[Organisation]:
    """Where this person may collect wishes: their own organisations; every one for county admins."""
    services = ui.services
    if await services.permissions.is_county_admin(ui.user_id):
        return await services.orgs.list()
    orgs = [await services.orgs.get(org_id) for org_id in await services.permissions.member_org_ids(ui.user_id)]
    return [org for org in orgs if org.active]


def wish_params(wish: Wish) -> dict[str, object]:
    return {"code": wish.code, "label": wish.public_label, "text": wish.text}


# ---- the card -----------------------------------------------------------------------------------
async def card_text(ui: Ui, wish: Wish) -> str:
    """Public fields for everyone; the child's details only for whom the service allows (audited)."""
    services, t, zone = ui.services, ui.t, ui.services.config.zone
    collector = await services.orgs.get(wish.collector_org_id)
    lines = [
        t(
            "wishes.ui_card",
            code=wish.code,
            status=status_label(t, wish.status),
            label=wish.public_label,
            text=wish.text,
            category=category_label(t, wish.category),
            value=wish.value_yuan,
            collector=collector.name,
            photo=t("wishes.ui_has_photo" if wish.photo_file_id else "wishes.ui_no_photo"),
            consent=t("wishes.ui_consent_yes" if wish.consent else "wishes.ui_consent_no"),
        )
    ]
    if wish.claimed_by_org is not None and wish.status is not WishStatus.CANCELLED:
        org = await services.orgs.get(wish.claimed_by_org)
        person = await services.people.get(wish.claimed_by_user) if wish.claimed_by_user else None
        overdue = t("wishes.ui_card_overdue") if wish.is_overdue(services.clock.now()) else ""
        lines.append(
            t(
                "wishes.ui_card_claim",
                org=org.name,
                person=person.display_name if person else "?",
                deadline=local_text(zone, wish.deadline),
                overdue=overdue,
            )
        )
    for moment, key in (
        (wish.purchased_at, "wishes.ui_card_purchased"),
        (wish.delivered_at, "wishes.ui_card_delivered"),
        (wish.confirmed_at, "wishes.ui_card_confirmed"),
    ):
        if moment is not None:
            lines.append(t(key, when=local_text(zone, moment)))
    if wish.status is WishStatus.CANCELLED:
        lines.append(
            t("wishes.ui_card_cancelled", when=local_text(zone, wish.cancelled_at), reason=wish.cancel_reason or "")
        )
    private = await private_block(ui, wish)
    if private:
        lines.extend(["", private])
    return "\n".join(lines)


async def private_block(ui: Ui, wish: Wish) -> str:
    services, t = ui.services, ui.t
    if not await services.wishes.can_see_private(ui.user_id, wish):
        return ""
    if not wish.consent:
        return t("wishes.ui_card_no_consent")
    if wish.private_purged:
        return t("wishes.ui_card_purged")
    details = await services.wishes.private_details(ui.user_id, wish.id)
    if details is None:
        return t("wishes.ui_card_private_none")
    blank = t("wishes.ui_blank")
    return t(
        "wishes.ui_card_private",
        real_name=details.real_name or blank,
        phone=details.guardian_phone or blank,
        address=details.address or blank,
        notes=details.notes or blank,
    )


def action_button(t: Translator, wish: Wish, action: str, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(key), callback_data=WishAction(wish=wish.id, action=action).pack())


async def card_markup(ui: Ui, wish: Wish) -> InlineKeyboardMarkup | None:
    """The buttons this viewer may use now; each tap is checked again by the service."""
    services, t, user_id = ui.services, ui.t, ui.user_id
    rows: list[list[InlineKeyboardButton]] = []
    collects = await services.wishes.can_collect(user_id, wish.collector_org_id)
    if wish.status is WishStatus.OPEN and collects:
        rows.append(
            [
                action_button(t, wish, "edit", "wishes.ui_button_edit"),
                action_button(t, wish, "cancel", "wishes.ui_button_cancel_wish"),
            ]
        )
    elif wish.status in IN_PROGRESS and collects and await services.permissions.is_county_admin(user_id):
        rows.append([action_button(t, wish, "cancel", "wishes.ui_button_cancel_wish")])
    fulfils = wish.status in IN_PROGRESS and await services.wishes.can_fulfil(user_id, wish)
    if fulfils:
        row = [action_button(t, wish, "buy", "wishes.ui_button_purchased")] if wish.status is WishStatus.CLAIMED else []
        rows.append([*row, action_button(t, wish, "deliver", "wishes.ui_button_delivered")])
    if wish.status is WishStatus.DELIVERED and await services.permissions.is_member(user_id, wish.collector_org_id):
        rows.append([action_button(t, wish, "confirm", "wishes.ui_button_confirm")])
    media = []
    if wish.photo_file_id:
        media.append(action_button(t, wish, "photo", "wishes.ui_button_photo"))
    if wish.delivery_proof_file_id and await may_see_proof(ui, wish):
        media.append(action_button(t, wish, "proof", "wishes.ui_button_proof"))
    if media:
        rows.append(media)
    return InlineKeyboardMarkup(rows) if rows else None


async def may_see_proof(ui: Ui, wish: Wish) -> bool:
    """The delivery photo may show the child: the collector, the claiming side and county admins."""
    services = ui.services
    return (
        await services.permissions.is_member(ui.user_id, wish.collector_org_id)
        or await services.wishes.can_fulfil(ui.user_id, wish)
        or await services.permissions.is_county_admin(ui.user_id)
    )


async def send_card(ui: Ui, wish: Wish) -> None:
    await ui.send_text(await card_text(ui, wish), await card_markup(ui, wish))


async def wish_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("wishes.ui_wish_usage")
        return
    wish = await ui.services.wishes.by_code(" ".join(context.args))
    await send_card(ui, wish)


async def wish_action(update: Update, context: BotContext) -> None:
    """A button under a card. Re-checked by the service; a refusal is answered by the error handler."""
    ui = Ui(update, context)
    values = WishAction.unpack(update.callback_query.data)
    action = values.action
    if action not in _ACTIONS or not ui.is_private:
        await ui.answer("common.button_expired", alert=True)
        return
    services = ui.services
    wish = await services.wishes.get(values.wish)
    if action in ("edit", "cancel", "deliver"):
        kind = {"edit": EditWishFlow, "cancel": CancelWishFlow, "deliver": DeliverFlow}[action]
        await flow_of(context, kind).start(ui, wish_id=wish.id)
        await ui.answer()
    elif action == "buy":
        wish = await services.wishes.mark_purchased(ui.user_id, wish.id)
        await ui.answer("wishes.ui_purchased_toast")
        await refresh_card(ui, wish)
    elif action == "confirm":
        wish = await services.wishes.confirm_received(ui.user_id, wish.id)
        await ui.answer("wishes.ui_confirmed_toast")
        await refresh_card(ui, wish)
        if wish.claimed_by_user is not None:
            collector = await services.orgs.get(wish.collector_org_id)
            await ui.notify(
                wish.claimed_by_user, "wishes.ui_confirmed_notice", collector=collector.name, **wish_params(wish)
            )
    elif action == "photo":
        if not wish.photo_file_id:
            await ui.answer("common.button_expired", alert=True)
            return
        await ui.answer()
        await context.bot.send_photo(
            ui.chat_id, wish.photo_file_id, caption=ui.t("wishes.ui_photo_caption", **wish_params(wish))
        )
    else:  # proof
        if not wish.delivery_proof_file_id or not await may_see_proof(ui, wish):
            await ui.answer("common.button_expired", alert=True)
            return
        await ui.answer()
        await context.bot.send_photo(
            ui.chat_id, wish.delivery_proof_file_id, caption=ui.t("wishes.ui_proof_caption", **wish_params(wish))
        )


async def refresh_card(ui: Ui, wish: Wish) -> None:
    """The tapped message is a card (text) or a delivery notice (photo): edit the one, resend the other."""
    message = ui.update.callback_query.message
    if message is not None and message.text is not None:
        await ui.edit_text(await card_text(ui, wish), await card_markup(ui, wish))
        return
    if message is not None:
        try:
            await ui.context.bot.edit_message_reply_markup(message.chat.id, message.message_id, reply_markup=None)
        except BadRequest as error:
            log.debug("could not remove the buttons of message %s: %s", message.message_id, error.message)
    await send_card(ui, wish)


# ---- photos sent as files ---------------------------------------------------------------------
async def photo_from_document(ui: Ui, document: Document) -> str:
    """An image sent as a file, re-sent by the bot as a photo: that photo's file_id."""
    name = shorten(document.file_name or "")
    if not (document.mime_type or "").startswith("image/"):
        raise DomainError("wishes.ui_photo_not_image", name=name)
    limit_mb = PHOTO_MAX_BYTES // (1024 * 1024)
    if document.file_size is not None and document.file_size > PHOTO_MAX_BYTES:
        raise DomainError("wishes.ui_photo_too_large", limit_mb=limit_mb)
    telegram_file = await ui.context.bot.get_file(document.file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    if len(content) > PHOTO_MAX_BYTES:
        raise DomainError("wishes.ui_photo_too_large", limit_mb=limit_mb)
    if not content.startswith(_IMAGE_SIGNATURES) and not (content[:4] == b"RIFF" and content[8:12] == b"WEBP"):
        raise DomainError("wishes.ui_photo_not_image", name=name)
    try:
        sent = await ui.context.bot.send_photo(ui.chat_id, content, caption=ui.t("wishes.ui_photo_received"))
    except BadRequest:
        raise DomainError("wishes.ui_photo_not_image", name=name) from None
    return sent.photo[-1].file_id


class WishSteps(Flow):
    """Pieces the wish conversations share."""

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    def skip_markup(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "wishes.ui_button_skip")], self.cancel_row(ui)])

    def category_markup(self, ui: Ui, step: str = "category") -> InlineKeyboardMarkup:
        buttons = [self.button(ui, step, category.value, category_label(ui.t, category)) for category in WishCategory]
        rows = [buttons[index : index + 3] for index in range(0, len(buttons), 3)]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    @staticmethod
    def category_from_button(value: str) -> WishCategory:
        try:
            return WishCategory(value)
        except ValueError:
            raise DomainError("common.button_expired") from None

    @staticmethod
    def only(value: str, expected: str) -> None:
        if value != expected:
            raise DomainError("common.button_expired")


# ---- /newwish -----------------------------------------------------------------------------------
async def newwish_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewWishFlow).start(Ui(update, context))


class NewWishFlow(WishSteps):
    """collector → alias → grade → text → category → value → photo → consent → (real name →
    phone → address → notes) → confirm. Bad input keeps the person at the step."""

    name = "nw"

    async def _choices(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        orgs = await collector_orgs(ui)
        folded = (search or "").casefold()
        return [(org.id, org.name) for org in orgs if folded in org.name.casefold()]

    async def start(self, ui: Ui, **kwargs: object) -> None:
        choices = await self._choices(ui)
        if not choices:
            await self.finish(ui)
            await ui.reply("wishes.ui_new_no_org")
            return
        if len(choices) == 1:
            await self._ask_alias(ui, {"org": choices[0][0]})
            return
        await self.go(ui, "org", {})
        await ui.reply("wishes.ui_ask_org", self.paged(ui, "org", choices, 0))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        choices = await self._choices(ui, data.get("search"))
        page = page_number(value)
        if page is not None:
            await ui.edit("wishes.ui_ask_org", self.paged(ui, "org", choices, page))
            return
        org_id = choice_id(value)
        if org_id not in {item for item, _ in await self._choices(ui)}:
            raise DomainError("common.button_expired")
        await self._ask_alias(ui, {"org": org_id})

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        search = normalise(text)[:SEARCH_MAX]
        choices = await self._choices(ui, search)
        if not choices:
            raise DomainError("wishes.ui_org_search_nothing", text=search)
        await self.go(ui, "org", {"search": search})
        await ui.reply("wishes.ui_org_search_results", self.paged(ui, "org", choices, 0), count=len(choices))

    async def _ask_alias(self, ui: Ui, data: dict) -> None:
        org = await ui.services.orgs.get(data["org"])
        await self.go(ui, "alias", {"org": data["org"]})
        await show(ui, ui.t("wishes.ui_ask_alias", org=org.name), self.cancel_markup(ui))

    async def text_alias(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "grade", {**data, "alias": clean_alias(text)})
        await ui.reply("wishes.ui_ask_grade", self.cancel_markup(ui))

    async def text_grade(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "text", {**data, "grade": clean_grade(text)})
        await ui.reply("wishes.ui_ask_text", self.cancel_markup(ui), max=TEXT_MAX)

    async def text_text(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "category", {**data, "text": clean_text(text)})
        await ui.reply("wishes.ui_ask_category", self.category_markup(ui))

    async def choice_category(self, ui: Ui, data: dict, value: str) -> None:
        await self._category_chosen(ui, data, self.category_from_button(value))

    async def text_category(self, ui: Ui, data: dict, text: str) -> None:
        await self._category_chosen(ui, data, clean_category(text))

    async def _category_chosen(self, ui: Ui, data: dict, category: WishCategory) -> None:
        await self.go(ui, "value", {**data, "category": category.value})
        await show(
            ui,
            ui.t("wishes.ui_ask_value", category=category_label(ui.t, category), min=VALUE_MIN, max=VALUE_MAX),
            self.cancel_markup(ui),
        )

    async def text_value(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "photo", {**data, "value": clean_value(text)})
        await ui.reply("wishes.ui_ask_photo", self.skip_markup(ui, "photo"))

    # -- the optional photo
    async def photo_photo(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._ask_consent(ui, {**data, "photo": file_id})

    async def document_photo(self, ui: Ui, data: dict, document: Document) -> None:
        await self._ask_consent(ui, {**data, "photo": await photo_from_document(ui, document)})

    async def text_photo(self, ui: Ui, data: dict, text: str) -> None:
        if not is_skip(ui, text):
            raise DomainError("wishes.ui_photo_expected")
        await self._ask_consent(ui, {**data, "photo": None})

    async def choice_photo(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "skip")
        await self._ask_consent(ui, {**data, "photo": None})

    # -- consent (PIPL)
    async def _ask_consent(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "consent", data)
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "consent", "yes", "wishes.ui_button_consent_yes")],
                [self.choice(ui, "consent", "no", "wishes.ui_button_consent_no")],
                self.cancel_row(ui),
            ]
        )
        await show(ui, ui.t("wishes.ui_ask_consent", days=ui.services.wishes.purge_after.days), markup)

    async def choice_consent(self, ui: Ui, data: dict, value: str) -> None:
        if value not in ("yes", "no"):
            raise DomainError("common.button_expired")
        await self._consent_given(ui, data, value == "yes")

    async def text_consent(self, ui: Ui, data: dict, text: str) -> None:
        consent = parse_consent(text)
        if consent is None:
            raise DomainError("wishes.ui_consent_unknown")
        await self._consent_given(ui, data, consent)

    async def _consent_given(self, ui: Ui, data: dict, consent: bool) -> None:
        data = {**data, "consent": consent}
        if not consent:
            await self._confirm(ui, data)
            return
        await self.go(ui, "real_name", data)
        await show(ui, ui.t("wishes.ui_ask_real_name"), self.cancel_markup(ui))

    # -- the child's private details (private chat only; never echoed anywhere else)
    async def text_real_name(self, ui: Ui, data: dict, text: str) -> None:
        real_name = clean_private(PrivateDetails(real_name=text)).real_name
        if real_name is None:
            raise DomainError("wishes.ui_real_name_required")
        data = {**data, "real_name": real_name}
        if is_real_name(data["alias"], real_name):
            await self.go(ui, "realias", {**data, "then": "phone"})
            raise DomainError("wishes.ui_real_name_is_alias", alias=data["alias"])
        await self._ask_phone(ui, data)

    async def text_realias(self, ui: Ui, data: dict, text: str) -> None:
        """A new public alias: the first one was the real name, or a duplicate of an open wish."""
        alias = clean_alias(text)
        if is_real_name(alias, data.get("real_name")):
            raise DomainError("wishes.alias_is_real_name")
        then = data.get("then")
        data = {key: value for key, value in data.items() if key != "then"} | {"alias": alias}
        if then == "confirm":
            await self._confirm(ui, data)
        else:
            await self._ask_phone(ui, data)

    async def _ask_phone(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "phone", data)
        await ui.reply("wishes.ui_ask_phone", self.skip_markup(ui, "phone"))

    async def text_phone(self, ui: Ui, data: dict, text: str) -> None:
        phone = None if is_skip(ui, text) else clean_private(PrivateDetails(guardian_phone=text)).guardian_phone
        await self._ask_address(ui, {**data, "phone": phone})

    async def choice_phone(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "skip")
        await self._ask_address(ui, {**data, "phone": None})

    async def _ask_address(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "address", data)
        await show(ui, ui.t("wishes.ui_ask_address"), self.skip_markup(ui, "address"))

    async def text_address(self, ui: Ui, data: dict, text: str) -> None:
        address = None if is_skip(ui, text) else clean_private(PrivateDetails(address=text)).address
        await self._ask_notes(ui, {**data, "address": address})

    async def choice_address(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "skip")
        await self._ask_notes(ui, {**data, "address": None})

    async def _ask_notes(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "notes", data)
        await show(ui, ui.t("wishes.ui_ask_notes"), self.skip_markup(ui, "notes"))

    async def text_notes(self, ui: Ui, data: dict, text: str) -> None:
        notes = None if is_skip(ui, text) else clean_private(PrivateDetails(notes=text)).notes
        await self._confirm(ui, {**data, "notes": notes})

    async def choice_notes(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "skip")
        await self._confirm(ui, {**data, "notes": None})

    # -- confirm and save
    @staticmethod
    def _draft(data: dict) -> WishDraft:
        private = None
        if data["consent"]:
            private = PrivateDetails(
                real_name=data.get("real_name"),
                guardian_phone=data.get("phone"),
                address=data.get("address"),
                notes=data.get("notes"),
            )
        return WishDraft(
            collector_org_id=data["org"],
            alias=data["alias"],
            grade=data["grade"],
            text=data["text"],
            category=WishCategory(data["category"]),
            value_yuan=data["value"],
            consent=data["consent"],
            private=private,
            photo_file_id=data.get("photo"),
        )

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        t = ui.t
        org = await ui.services.orgs.get(data["org"])
        summary = t(
            "wishes.ui_summary",
            org=org.name,
            alias=data["alias"],
            grade=data["grade"],
            text=data["text"],
            category=category_label(t, WishCategory(data["category"])),
            value=data["value"],
            photo=t("wishes.ui_has_photo" if data.get("photo") else "wishes.ui_no_photo"),
            consent=t("wishes.ui_consent_yes" if data["consent"] else "wishes.ui_consent_no"),
        )
        if data["consent"]:
            blank = t("wishes.ui_blank")
            summary += "\n" + t(
                "wishes.ui_summary_private",
                real_name=data["real_name"],
                phone=data.get("phone") or blank,
                address=data.get("address") or blank,
                notes=data.get("notes") or blank,
            )
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "wishes.ui_button_save")], self.cancel_row(ui)]
        )
        await show(ui, t("wishes.ui_confirm", summary=Raw(summary)), markup)

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "yes")
        try:
            wish = await ui.services.wishes.add(ui.user_id, self._draft(data))
        except PermissionDenied:
            await self.finish(ui)
            raise
        except DomainError as error:
            if error.key != "wishes.duplicate":
                raise
            # Another open wish of this collector has the same alias and text: ask for another alias.
            await self.go(ui, "realias", {**data, "then": "confirm"})
            await ui.reply(error.key, **error.params)
            await ui.reply("wishes.ui_ask_new_alias", self.cancel_markup(ui), alias=data["alias"])
            return
        await self.finish(ui)
        await ui.edit("wishes.ui_saved", code=wish.code, label=wish.public_label, text=wish.text)


# ---- editing, cancelling, delivering (started from a card's buttons) ---------------------------
class EditWishFlow(WishSteps):
    """Pick a field → the new value → saved, and the card shown again."""

    name = "we"
    _FIELDS = ("alias", "grade", "text", "category", "value", "photo")

    async def start(self, ui: Ui, wish_id: int = 0, **kwargs: object) -> None:
        wish = await ui.services.wishes.edit(ui.user_id, wish_id)  # no change: checks role and status
        await self.go(ui, "field", {"wish": wish.id})
        buttons = [self.choice(ui, "field", field, f"wishes.ui_field_{field}") for field in self._FIELDS]
        rows = [buttons[index : index + 3] for index in range(0, len(buttons), 3)]
        await ui.reply("wishes.ui_edit_pick", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]), **wish_params(wish))

    async def choice_field(self, ui: Ui, data: dict, value: str) -> None:
        if value not in self._FIELDS:
            raise DomainError("common.button_expired")
        wish = await ui.services.wishes.get(data["wish"])
        data = {**data, "field": value}
        if value == "category":
            await self.go(ui, "category", data)
            await ui.edit(
                "wishes.ui_edit_ask_category", self.category_markup(ui), current=category_label(ui.t, wish.category)
            )
        elif value == "photo":
            await self.go(ui, "photo", data)
            rows = [[self.choice(ui, "photo", "remove", "wishes.ui_button_remove_photo")]] if wish.photo_file_id else []
            await ui.edit("wishes.ui_edit_ask_photo", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))
        else:
            current = {"alias": wish.alias, "grade": wish.grade, "text": wish.text, "value": wish.value_yuan}[value]
            await self.go(ui, "value", data)
            await ui.edit(
                f"wishes.ui_edit_ask_{value}",
                self.cancel_markup(ui),
                current=current,
                max=VALUE_MAX if value == "value" else TEXT_MAX,
                min=VALUE_MIN,
            )

    async def text_value(self, ui: Ui, data: dict, text: str) -> None:
        field = {"alias": "alias", "grade": "grade", "text": "text", "value": "value_yuan"}[data["field"]]
        await self._save(ui, data, **{field: text})

    async def choice_category(self, ui: Ui, data: dict, value: str) -> None:
        await self._save(ui, data, category=self.category_from_button(value))

    async def text_category(self, ui: Ui, data: dict, text: str) -> None:
        await self._save(ui, data, category=clean_category(text))

    async def photo_photo(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._save(ui, data, photo_file_id=file_id)

    async def document_photo(self, ui: Ui, data: dict, document: Document) -> None:
        await self._save(ui, data, photo_file_id=await photo_from_document(ui, document))

    async def text_photo(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("wishes.ui_photo_expected_edit")

    async def choice_photo(self, ui: Ui, data: dict, value: str) -> None:
        self.only(value, "remove")
        await self._save(ui, data, photo_file_id=None)

    async def _save(self, ui: Ui, data: dict, **change: object) -> None:
        try:
            wish = await ui.services.wishes.edit(ui.user_id, data["wish"], **change)
        except PermissionDenied:
            await self.finish(ui)
            raise
        except DomainError as error:
            if error.key == "wishes.edit_not_open":  # claimed meanwhile: nothing left to edit
                await self.finish(ui)
            raise
        await self.finish(ui)
        await show(ui, ui.t("wishes.ui_edited", code=wish.code))
        await send_card(ui, wish)


class CancelWishFlow(WishSteps):
    """The reason → cancelled (the claimer, if any, is told)."""

    name = "wx"

    async def start(self, ui: Ui, wish_id: int = 0, **kwargs: object) -> None:
        wish = await ui.services.wishes.check_cancel(ui.user_id, wish_id)
        await self.go(ui, "reason", {"wish": wish.id})
        key = "wishes.ui_cancel_ask_reason_claimed" if wish.status in IN_PROGRESS else "wishes.ui_cancel_ask_reason"
        await ui.reply(key, self.cancel_markup(ui), **wish_params(wish))

    async def text_reason(self, ui: Ui, data: dict, text: str) -> None:
        try:
            wish = await ui.services.wishes.cancel(ui.user_id, data["wish"], text)
        except PermissionDenied:
            await self.finish(ui)
            raise
        except DomainError as error:
            if error.key not in ("wishes.reason_empty", "wishes.reason_too_long"):
                await self.finish(ui)
            raise
        await self.finish(ui)
        await ui.reply("wishes.ui_cancelled", code=wish.code)
        if wish.claimed_by_user is not None:
            told = await ui.notify(
                wish.claimed_by_user, "wishes.ui_cancelled_notice", reason=wish.cancel_reason, **wish_params(wish)
            )
            await ui.reply("wishes.ui_claimer_told" if told else "wishes.ui_claimer_not_told")


class DeliverFlow(WishSteps):
    """A photo as proof → delivered; the collecting organisation is asked to confirm receipt."""

    name = "wd"

    async def start(self, ui: Ui, wish_id: int = 0, **kwargs: object) -> None:
        wish = await ui.services.wishes.check_deliverable(ui.user_id, wish_id)
        await self.go(ui, "photo", {"wish": wish.id})
        await ui.reply("wishes.ui_deliver_ask_photo", self.cancel_markup(ui), **wish_params(wish))

    async def photo_photo(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._delivered(ui, data, file_id)

    async def document_photo(self, ui: Ui, data: dict, document: Document) -> None:
        await self._delivered(ui, data, await photo_from_document(ui, document))

    async def text_photo(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("wishes.proof_required")

    async def _delivered(self, ui: Ui, data: dict, file_id: str) -> None:
        try:
            wish = await ui.services.wishes.mark_delivered(ui.user_id, data["wish"], file_id)
        except DomainError:
            await self.finish(ui)
            raise
        await self.finish(ui)
        collector = await ui.services.orgs.get(wish.collector_org_id)
        await ui.reply("wishes.ui_delivered", collector=collector.name, code=wish.code)
        await notify_collector_delivered(ui.context.application, wish)


async def notify_collector_delivered(application: Application, wish: Wish) -> None:
    """The collecting organisation's cadres get the proof photo and a 确认收到 button."""
    services = services_of(application)
    claimer = await services.orgs.get(wish.claimed_by_org) if wish.claimed_by_org else None
    members = await services.membership.members(wish.collector_org_id)
    for membership in members[:NOTIFY_MEMBERS_MAX]:
        person = await services.people.get(membership.user_id)
        t = Translator(services.people.language_of(person, person.telegram_language if person else None))
        markup = InlineKeyboardMarkup([[action_button(t, wish, "confirm", "wishes.ui_button_confirm")]])
        caption = t("wishes.ui_delivered_notice", org=claimer.name if claimer else "?", **wish_params(wish))
        try:
            await application.bot.send_photo(
                membership.user_id, wish.delivery_proof_file_id, caption=caption, reply_markup=markup
            )
        except Forbidden:
            log.info("user %s cannot be messaged (never started the bot or blocked it)", membership.user_id)


# ---- /wishes: the list ------------------------------------------------------------------------
async def wishes_command(update: Update, context: BotContext) -> None:
    search = normalise(" ".join(context.args or ()))[:SEARCH_MAX]
    await flow_of(context, WishListFlow).start(Ui(update, context), search=search)


class WishListFlow(Flow):
    """The list is a conversation so that its filters and a typed search survive page turns.

    Button values: `p<n>` page, `w<id>` open a card, `st` / `ca` open the status / category
    picker, `st-<status>` / `ca-<category>` (or `-all`) choose, `sc-all`, `sc-c<org>` (collected
    by), `sc-k<org>` (claimed by), `qx` clear the search, `back` close a picker."""

    name = "wl"

    async def start(self, ui: Ui, search: str = "", **kwargs: object) -> None:
        data = {"status": "all", "category": "all", "scope": "all", "q": search, "page": 1}
        await self.go(ui, "list", data)
        text, markup = await self.view(ui, data)
        await ui.send_text(text, markup)

    async def text_list(self, ui: Ui, data: dict, text: str) -> None:
        data = {**data, "q": normalise(text)[:SEARCH_MAX], "page": 1}
        await self.go(ui, "list", data)
        text, markup = await self.view(ui, data)
        await ui.send_text(text, markup)

    async def choice_list(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            data = {**data, "page": page}
        elif value.startswith("w") and value[1:].isdigit():
            await send_card(ui, await ui.services.wishes.get(int(value[1:])))
            return
        elif value in ("st", "ca"):
            text, _ = await self.view(ui, data)
            await ui.edit_text(text, self.picker(ui, value))
            return
        elif value.startswith("st-"):
            data = {**data, "status": self._token(value[3:], ("all", *(s.value for s in WishStatus))), "page": 1}
        elif value.startswith("ca-"):
            data = {**data, "category": self._token(value[3:], ("all", *(c.value for c in WishCategory))), "page": 1}
        elif value.startswith("sc-"):
            data = {**data, "scope": await self._scope(ui, value[3:]), "page": 1}
        elif value == "qx":
            data = {**data, "q": "", "page": 1}
        elif value != "back":
            raise DomainError("common.button_expired")
        await self.go(ui, "list", data)
        text, markup = await self.view(ui, data)
        await ui.edit_text(text, markup)

    @staticmethod
    def _token(value: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise DomainError("common.button_expired")
        return value

    @staticmethod
    async def _scope(ui: Ui, value: str) -> str:
        if value == "all":
            return value
        if (
            value[:1] in ("c", "k")
            and value[1:].isdigit()
            and int(value[1:]) in await ui.services.permissions.member_org_ids(ui.user_id)
        ):
            return value
        raise DomainError("common.button_expired")

    async def _filter(self, ui: Ui, data: dict) -> WishFilter:
        scope = data["scope"]
        org_id = int(scope[1:]) if scope != "all" else None
        if org_id is not None and org_id not in await ui.services.permissions.member_org_ids(ui.user_id):
            org_id, scope = None, "all"  # left the organisation meanwhile
        return WishFilter(
            status=None if data["status"] == "all" else WishStatus(data["status"]),
            category=None if data["category"] == "all" else WishCategory(data["category"]),
            collector_org_id=org_id if scope.startswith("c") else None,
            claimed_by_org=org_id if scope.startswith("k") else None,
            text=data["q"] or None,
        )

    async def view(self, ui: Ui, data: dict) -> tuple[str, InlineKeyboardMarkup]:
        services, t = ui.services, ui.t
        admin = await services.permissions.is_county_admin(ui.user_id)
        wish_filter = await self._filter(ui, data)
        finder = services.wishes.by_status_overdue_first if admin else services.wishes.find
        page = await finder(wish_filter, data["page"], LIST_PAGE)
        names = {org.id: org.name for org in await services.orgs.list(include_archived=True)}
        my_orgs = [(org_id, names.get(org_id, "?")) for org_id in await services.permissions.member_org_ids(ui.user_id)]
        scope_label = self._scope_label(t, data["scope"], names)
        filters = t(
            "wishes.ui_list_filters",
            status=self._status_label(t, data["status"]),
            category=self._category_label(t, data["category"]),
            scope=scope_label,
        )
        if data["q"]:
            filters += "\n" + t("wishes.ui_list_search", text=data["q"])
        lines = [t("wishes.ui_list_title", total=page.total, page=page.page, pages=page.pages), filters]
        if admin:
            lines.append(t("wishes.ui_list_overdue_first"))
        lines.append("")
        now = services.clock.now()
        for wish in page.items:
            overdue = t("wishes.ui_list_overdue_mark") if wish.is_overdue(now) else ""
            lines.append(
                t(
                    "wishes.ui_list_line",
                    code=wish.code,
                    label=wish.public_label,
                    text=shorten(wish.text),
                    category=category_label(t, wish.category),
                    value=wish.value_yuan,
                    status=status_label(t, wish.status),
                    collector=names.get(wish.collector_org_id, "?"),
                    overdue=overdue,
                )
            )
        if not page.items:
            lines.append(t("wishes.ui_list_empty"))
        lines.extend(["", t("wishes.ui_list_footer")])
        return "\n".join(lines), self.markup(ui, data, page, my_orgs)

    def markup(self, ui: Ui, data: dict, page, my_orgs: list[tuple[int, str]]) -> InlineKeyboardMarkup:
        t = ui.t
        buttons = [
            self.button(ui, "list", f"w{wish.id}", t("wishes.ui_button_wish", code=wish.code, label=wish.public_label))
            for wish in page.items
        ]
        rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
        navigation = []
        if page.page > 1:
            navigation.append(self.button(ui, "list", f"p{page.page - 1}", t("common.button_previous")))
        if page.page < page.pages:
            navigation.append(self.button(ui, "list", f"p{page.page + 1}", t("common.button_next")))
        if navigation:
            rows.append(navigation)
        rows.append(
            [
                self.button(
                    ui, "list", "st", t("wishes.ui_button_status", status=self._status_label(t, data["status"]))
                ),
                self.button(
                    ui, "list", "ca", t("wishes.ui_button_category", category=self._category_label(t, data["category"]))
                ),
            ]
        )
        if my_orgs:
            scopes = [("all", t("wishes.ui_scope_all"))]
            for org_id, name in my_orgs[:3]:
                scopes.append((f"c{org_id}", t("wishes.ui_button_scope_collected", org=shorten(name, 12))))
                scopes.append((f"k{org_id}", t("wishes.ui_button_scope_claimed", org=shorten(name, 12))))
            scope_buttons = [
                self.button(ui, "list", f"sc-{value}", self._mark(t, label, value == data["scope"]))
                for value, label in scopes
            ]
            rows.extend(scope_buttons[index : index + 3] for index in range(0, len(scope_buttons), 3))
        if data["q"]:
            rows.append(
                [self.button(ui, "list", "qx", t("wishes.ui_button_clear_search", text=shorten(data["q"], 12)))]
            )
        rows.append(self.cancel_row(ui))
        return InlineKeyboardMarkup(rows)

    def picker(self, ui: Ui, which: str) -> InlineKeyboardMarkup:
        t = ui.t
        if which == "st":
            options = [("all", t("wishes.ui_all"))] + [(s.value, status_label(t, s)) for s in WishStatus]
        else:
            options = [("all", t("wishes.ui_all"))] + [(c.value, category_label(t, c)) for c in WishCategory]
        buttons = [self.button(ui, "list", f"{which}-{value}", label) for value, label in options]
        rows = [buttons[index : index + 3] for index in range(0, len(buttons), 3)]
        rows.append([self.button(ui, "list", "back", t("wishes.ui_button_back"))])
        return InlineKeyboardMarkup(rows)

    @staticmethod
    def _mark(t: Translator, label: str, selected: bool) -> str:
        return t("wishes.ui_selected", label=label) if selected else label

    @staticmethod
    def _status_label(t: Translator, value: str) -> str:
        return t("wishes.ui_all") if value == "all" else status_label(t, WishStatus(value))

    @staticmethod
    def _category_label(t: Translator, value: str) -> str:
        return t("wishes.ui_all") if value == "all" else category_label(t, WishCategory(value))

    @staticmethod
    def _scope_label(t: Translator, scope: str, names: dict[int, str]) -> str:
        if scope == "all":
            return t("wishes.ui_scope_all")
        key = "wishes.ui_scope_collected" if scope.startswith("c") else "wishes.ui_scope_claimed"
        return t(key, org=names.get(int(scope[1:]), "?"))


# ---- /wishtemplate and /importwishes ------------------------------------------------------------
async def template_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    content = await asyncio.to_thread(build_template_xlsx)
    await context.bot.send_document(
        ui.chat_id,
        content,
        filename=ui.t("wish_import.ui_template_file_name"),
        caption=ui.t("wish_import.ui_template_caption"),
    )


async def import_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ImportWishesFlow).start(Ui(update, context))


class ImportWishesFlow(SpreadsheetImportFlow[WishRow]):
    """/importwishes: wishes from XLSX/CSV, for the organisations the person collects for."""

    name = "wm"
    keys = ImportKeys(
        ask_file="wish_import.ui_ask_file",
        expected_file="wish_import.ui_expected_file",
        too_large="wish_import.too_large",
        button_import="wish_import.ui_button_import",
        confirm="wish_import.ui_confirm",
        imported="wish_import.ui_imported",
        problems_title="wish_import.ui_problems_title",
        problems_footer="wish_import.ui_problems_footer",
        problems_more="wish_import.ui_problems_more",
        problem_file="wish_import.ui_problem_file",
        problem_line="wish_import.ui_problem_line",
    )
    max_rows = MAX_ROWS
    max_bytes = MAX_BYTES

    async def may_start(self, ui: Ui) -> bool:
        if not await collector_orgs(ui):
            await self.finish(ui)
            await ui.reply("wishes.ui_new_no_org")
            return False
        return True

    async def parser(self, ui: Ui) -> Parser[WishRow]:
        collectors = {org.name: org.id for org in await collector_orgs(ui)}
        existing = await ui.services.wishes.open_keys()
        return partial(parse_wish_file, collector_names=collectors, existing_keys=existing)

    async def confirm_params(self, ui: Ui, rows: Sequence[WishRow]) -> dict[str, object]:
        consented = sum(1 for row in rows if row.draft.consent)
        return {
            "by_org": await by_org_lines(ui, [row.draft.collector_org_id for row in rows]),
            "consented": consented,
            "without": len(rows) - consented,
        }

    async def store(self, ui: Ui, rows: Sequence[WishRow]) -> dict[str, object]:
        added = await ui.services.wishes.import_rows(ui.user_id, rows)
        return {
            "count": len(added),
            "first": added[0].code,
            "last": added[-1].code,
            "by_org": await by_org_lines(ui, [wish.collector_org_id for wish in added]),
        }


async def by_org_lines(ui: Ui, org_ids: list[int]) -> Raw:
    counts: dict[int, int] = {}
    for org_id in org_ids:
        counts[org_id] = counts.get(org_id, 0) + 1
    lines = [
        ui.t("wish_import.ui_by_org_line", org=(await ui.services.orgs.get(org_id)).name, count=count)
        for org_id, count in counts.items()
    ]
    return Raw("\n".join(lines))


# ---- jobs: deadline reminders and the daily overdue list ---------------------------------------
def deadline_text(services: Services, wish: Wish, days: int) -> str:
    """Plain text: the reminder sender escapes it itself."""
    t = Translator(services.config.language)
    return html.unescape(
        t(
            "wishes.ui_deadline_reminder",
            days=days,
            deadline=local_text(services.config.zone, wish.deadline),
            **wish_params(wish),
        )
    )


async def sync_deadline_reminders(application: Application) -> int:
    services = services_of(application)
    count = await keep_deadline_reminders(
        services.wishes, services.reminders, lambda wish, days: deadline_text(services, wish, days)
    )
    await schedule_wake(application)
    return count


async def send_overdue_digest(application: Application) -> int:
    """Once per local day, from 09:00, if anything is overdue: the list to every county admin.

    The day is claimed in the audit log before sending (WishService.claim_overdue_digest), so
    it goes at most once a day however often the job runs, and across restarts."""
    services = services_of(application)
    now = services.clock.now()
    local = now.astimezone(services.config.zone)
    if local.time() < DIGEST_AT:
        return 0
    overdue = await services.wishes.overdue(now)
    if not overdue or not await services.wishes.claim_overdue_digest(local.date(), len(overdue)):
        return 0
    names = {org.id: org.name for org in await services.orgs.list(include_archived=True)}
    people = await services.people.many([wish.claimed_by_user for wish in overdue if wish.claimed_by_user])
    sent = 0
    for admin_id in await services.permissions.county_admin_ids():
        person = await services.people.get(admin_id)
        t = Translator(services.people.language_of(person, person.telegram_language if person else None))
        lines = [t("wishes.ui_overdue_title", count=len(overdue), now=local_text(services.config.zone, now)), ""]
        for wish in overdue[:DIGEST_LINES]:
            claimer = people.get(wish.claimed_by_user)
            lines.append(
                t(
                    "wishes.ui_overdue_line",
                    code=wish.code,
                    label=wish.public_label,
                    text=shorten(wish.text),
                    org=names.get(wish.claimed_by_org, "?"),
                    person=claimer.display_name if claimer else "?",
                    deadline=local_text(services.config.zone, wish.deadline),
                    days=days_overdue(now, wish.deadline),
                )
            )
        if len(overdue) > DIGEST_LINES:
            lines.append(t("wishes.ui_overdue_more", count=len(overdue) - DIGEST_LINES))
        lines.extend(["", t("wishes.ui_overdue_footer")])
        try:
            await application.bot.send_message(admin_id, "\n".join(lines))
            sent += 1
        except Forbidden:
            log.info("county admin %s cannot be messaged (never started the bot or blocked it)", admin_id)
    return sent


async def wish_jobs(context: CallbackContext) -> None:
    await sync_deadline_reminders(context.application)
    await send_overdue_digest(context.application)


def start_wish_jobs(application: Application) -> None:
    """The one repeating job; replaced, never doubled, when called again."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(DEADLINE_JOB):
        job.schedule_removal()
    queue.run_repeating(wish_jobs, interval=DEADLINE_EVERY, first=timedelta(seconds=20), name=DEADLINE_JOB)
