"""Editing and cancelling a wish, started from its card's buttons."""

from __future__ import annotations

from telegram import Document, InlineKeyboardMarkup

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes import TEXT_MAX, VALUE_MAX, VALUE_MIN, clean_category
from bot.model.wish import IN_PROGRESS
from handlers.context import Ui
from handlers.wishes.card import send_card
from handlers.wishes.photos import photo_from_document
from handlers.wishes.render import category_label, show, wish_params
from handlers.wishes.steps import WishSteps


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
