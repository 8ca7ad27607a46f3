"""/wishes: a paged list with filters (status, category, my organisation's collected or claimed
wishes) and search by typing; county admins see the overdue claims first."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.wishes import WishPage, normalise
from bot.model.wish import WishCategory, WishFilter, WishStatus
from handlers.context import BotContext, Ui
from handlers.file_import import shorten
from handlers.flow import Flow, flow_of, page_number
from handlers.i18n import Translator
from handlers.wishes.card import send_card
from handlers.wishes.render import SEARCH_MAX, category_label, status_label

LIST_PAGE = 10


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
        text, markup = await self.view(ui, data)  # first: someone in no organisation is refused there
        await self.go(ui, "list", data)
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
        elif value.startswith("w") and (wish_id := bounds.id_or_none(value[1:])) is not None:
            await send_card(ui, await ui.services.wishes.get_for(ui.user_id, wish_id))
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
        org_id = bounds.id_or_none(value[1:])
        if (
            value[:1] in ("c", "k")
            and org_id is not None
            and org_id in await ui.services.wishes.scope_org_ids(ui.user_id)
        ):
            return value
        raise DomainError("common.button_expired")

    async def _filter(self, ui: Ui, data: dict) -> WishFilter:
        scope = data["scope"]
        org_id = bounds.id_or_none(scope[1:]) if scope != "all" else None
        if org_id is not None and org_id not in await ui.services.wishes.scope_org_ids(ui.user_id):
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
        wish_filter = await self._filter(ui, data)
        page = await services.wishes.listing(ui.user_id, wish_filter, data["page"], LIST_PAGE)
        names = {org.id: org.name for org in await services.orgs.list(include_archived=True)}
        my_orgs = [(org_id, names.get(org_id, "?")) for org_id in await services.wishes.scope_org_ids(ui.user_id)]
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
        if page.overdue_first:
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

    def markup(self, ui: Ui, data: dict, page: WishPage, my_orgs: list[tuple[int, str]]) -> InlineKeyboardMarkup:
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
        return t(key, org=names.get(bounds.id_or_none(scope[1:]) or 0, "?"))
