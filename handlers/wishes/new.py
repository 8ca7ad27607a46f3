"""/newwish: collector → alias → grade → wish → category → value → optional photo → guardian
consent → the child's private details if consented → confirm.

Privacy: every command here runs in the private chat only (in a group they answer with a link to
it), so a child's details are typed, echoed and shown only there, never in a group. While the
conversation runs, its answers sit in the conversation's stored state, which is deleted when it
ends or is cancelled. Nothing here logs message text.
"""

from __future__ import annotations

from telegram import Document, InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError, PermissionDenied
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
    normalise,
    parse_consent,
)
from bot.model.wish import PrivateDetails, WishCategory
from handlers.context import BotContext, Ui
from handlers.flow import choice_id, flow_of, page_number
from handlers.i18n import Raw
from handlers.wishes.photos import photo_from_document
from handlers.wishes.render import SEARCH_MAX, category_label, is_skip, show
from handlers.wishes.steps import WishSteps


async def newwish_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewWishFlow).start(Ui(update, context))


class NewWishFlow(WishSteps):
    """collector → alias → grade → text → category → value → photo → consent → (real name →
    phone → address → notes) → confirm. Bad input keeps the person at the step."""

    name = "nw"

    async def _choices(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        orgs = await ui.services.wishes.collector_orgs(ui.user_id)
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
