"""County admins manage organisations: /orgs, /neworg, /editorg, /importorgs, /orgtemplate.

Every command checks the role first; every write goes through `OrganisationService`, which
checks it again, so an admin demoted in the middle of a conversation is refused on confirm.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import partial

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.org_import import (
    MAX_BYTES,
    MAX_ROWS,
    OrgRow,
    build_template_xlsx,
    parse_kind,
    parse_org_file,
)
from bot.domain.orgs import MAX_QUOTA, default_quota, parse_quota
from bot.model.organisation import Organisation, OrgKind
from handlers.context import BotContext, Ui
from handlers.file_import import ImportKeys, Parser, SpreadsheetImportFlow
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Raw

# Characters of HTML per message; Telegram's limit is 4096 after parsing, which only shortens it.
MESSAGE_BUDGET = 3500
SEARCH_LIMIT = 60


# ---- shared pieces -------------------------------------------------------------------------
async def require_admin(ui: Ui) -> None:
    await ui.services.orgs.check_editor(ui.user_id)


def kind_label(ui: Ui, kind: OrgKind) -> str:
    return ui.t(f"orgs.kind.{kind.value}")


def kind_from_button(value: str) -> OrgKind:
    try:
        return OrgKind(value)
    except ValueError:
        raise DomainError("orgs.kind_invalid") from None


def kind_from_text(text: str) -> OrgKind:
    kind = parse_kind(text)
    if kind is None:
        raise DomainError("orgs.kind_typed_unknown", value=text[:30])
    return kind


async def parent_label(ui: Ui, parent_id: int | None) -> str:
    if parent_id is None:
        return ui.t("orgs.no_parent_label")
    return (await ui.services.orgs.get(parent_id)).name


async def summary_of(
    ui: Ui, *, name: str, kind: OrgKind, parent_id: int | None, quota: int, active: bool = True
) -> Raw:
    return ui.t.raw(
        "orgs.summary",
        name=name,
        kind=kind_label(ui, kind),
        parent=await parent_label(ui, parent_id),
        quota=quota,
        state=ui.t("orgs.state_active" if active else "orgs.state_archived"),
    )


async def org_summary(ui: Ui, org: Organisation) -> Raw:
    return await summary_of(
        ui, name=org.name, kind=org.kind, parent_id=org.parent_id, quota=org.deeds_quota, active=org.active
    )


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)


def kind_counts(ui: Ui, kinds: Iterable[OrgKind]) -> Raw:
    counts = Counter(kinds)
    return Raw(
        "\n".join(
            ui.t("import.by_kind_line", kind=kind_label(ui, kind), count=counts[kind])
            for kind in OrgKind
            if counts[kind]
        )
    )


class OrgSteps(Flow):
    """Steps /neworg and /editorg share: the kind buttons and the parent picker."""

    def kind_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        buttons = [self.button(ui, "kind", kind.value, kind_label(ui, kind)) for kind in OrgKind]
        rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    @abstractmethod
    async def kind_chosen(self, ui: Ui, data: dict, kind: OrgKind) -> None:
        """Each flow decides what follows this step."""

    async def choice_kind(self, ui: Ui, data: dict, value: str) -> None:
        await self.kind_chosen(ui, data, kind_from_button(value))

    async def text_kind(self, ui: Ui, data: dict, text: str) -> None:
        await self.kind_chosen(ui, data, kind_from_text(text))

    # ---- parent picker: paged organisations, a search by typing, or "no parent" ----------
    async def parent_choices(self, ui: Ui, data: dict) -> list[tuple[int, str]]:
        search = data.get("search")
        orgs = await (ui.services.orgs.search(search, limit=40) if search else ui.services.orgs.list())
        return [(org.id, org.name) for org in orgs if org.id != data.get("org_id")]

    @abstractmethod
    async def parent_prompt(self, ui: Ui, data: dict) -> str:
        """Each flow decides what follows this step."""

    async def parent_text(self, ui: Ui, data: dict) -> str:
        text = await self.parent_prompt(ui, data)
        if data.get("search"):
            count = len(await self.parent_choices(ui, data))
            text += "\n\n" + ui.t("orgs.parent_search_results", text=data["search"], count=count)
        return text

    async def parent_markup(self, ui: Ui, data: dict, page: int) -> InlineKeyboardMarkup:
        no_parent = [[self.choice(ui, "parent", "none", "orgs.button_no_parent")]]
        return self.paged(ui, "parent", await self.parent_choices(ui, data), page, no_parent)

    async def ask_parent(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "parent", data)
        await show(ui, await self.parent_text(ui, data), await self.parent_markup(ui, data, 0))

    async def text_parent(self, ui: Ui, data: dict, text: str) -> None:
        search = text[:SEARCH_LIMIT]
        found = {**data, "search": search}
        if not await self.parent_choices(ui, found):
            raise DomainError("orgs.parent_search_nothing", text=search[:30])
        await self.ask_parent(ui, found)

    async def choice_parent(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await ui.edit_text(await self.parent_text(ui, data), await self.parent_markup(ui, data, page))
            return
        if value == "none":
            parent_id = None
        else:
            parent_id = (await ui.services.orgs.get_active(choice_id(value))).id
        rest = {key: item for key, item in data.items() if key != "search"}
        await self.parent_chosen(ui, rest, parent_id)

    @abstractmethod
    async def parent_chosen(self, ui: Ui, data: dict, parent_id: int | None) -> None:
        """Each flow decides what follows this step."""


# ---- /orgs ---------------------------------------------------------------------------------
async def orgs_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    await require_admin(ui)
    every = await ui.services.orgs.list(include_archived=True)
    active = [org for org in every if org.active]
    archived = len(every) - len(active)
    if not every:
        await ui.reply("orgs.none_yet")
        return
    if not active:
        await ui.reply("orgs.list_all_archived", archived=archived)
        return
    names = {org.id: org.name for org in every}
    groups = {
        chat.org_id: chat.title
        for chat in await ui.services.groups.bound_groups()
        if chat.org_id is not None and chat.active
    }
    sections = []
    for kind in OrgKind:
        of_kind = [org for org in active if org.kind is kind]
        if of_kind:
            lines = [org_line(ui, org, names, groups) for org in of_kind]
            sections.append((kind_label(ui, kind), len(of_kind), lines))
    title = ui.t("orgs.list_title", count=len(active))
    if archived:
        title += "\n" + ui.t("orgs.list_archived_note", archived=archived)
    for text in list_messages(ui, title, sections, ui.t("orgs.list_footer")):
        await ui.send_text(text)


def org_line(ui: Ui, org: Organisation, names: dict[int, str], groups: dict[int, str]) -> str:
    extra = ""
    if org.parent_id is not None:
        extra += ui.t("orgs.list_parent", parent=names.get(org.parent_id, "?"))
    if org.id in groups:
        extra += ui.t("orgs.list_group", title=groups[org.id])
    return ui.t("orgs.list_line", name=org.name, quota=org.deeds_quota, extra=Raw(extra))


def list_messages(ui: Ui, title: str, sections: Sequence[tuple[str, int, list[str]]], footer: str) -> list[str]:
    """Sections (kind, count, lines) packed into messages that each stay under Telegram's limit."""
    budget = MESSAGE_BUDGET - len(title) - len(footer)
    chunks: list[list[str]] = [[]]
    size = 0
    for kind, count, lines in sections:
        for position, line in enumerate(lines):
            lead = ["", ui.t("orgs.list_kind", kind=kind, count=count)] if position == 0 else []
            if chunks[-1] and size + sum(len(item) + 1 for item in [*lead, line]) > budget:
                chunks.append([])
                size = 0
                if position > 0:  # a kind cut in two: say so at the top of the next message
                    lead = ["", ui.t("orgs.list_kind_continued", kind=kind)]
            chunks[-1].extend([*lead, line])
            size += sum(len(item) + 1 for item in [*lead, line])
    messages = []
    for index, chunk in enumerate(chunks):
        head = title if index == 0 else ui.t("orgs.list_continued", part=index + 1, parts=len(chunks))
        tail = ["", footer] if index == len(chunks) - 1 else []
        messages.append("\n".join([head, *chunk, *tail]))
    return messages


# ---- /neworg -------------------------------------------------------------------------------
async def neworg_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewOrgFlow).start(Ui(update, context))


class NewOrgFlow(OrgSteps):
    """name → kind → parent → quota → confirm."""

    name = "no"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await require_admin(ui)
        await self.go(ui, "name", {})
        await ui.reply("orgs.new_ask_name", self.cancel_markup(ui))

    async def text_name(self, ui: Ui, data: dict, text: str) -> None:
        name = await ui.services.orgs.check_new_name(text)
        await self.go(ui, "kind", {"name": name})
        await show(ui, ui.t("orgs.new_ask_kind", name=name), self.kind_markup(ui))

    async def kind_chosen(self, ui: Ui, data: dict, kind: OrgKind) -> None:
        await self.ask_parent(ui, {"name": data["name"], "kind": kind.value})

    async def parent_prompt(self, ui: Ui, data: dict) -> str:
        return ui.t("orgs.new_ask_parent", name=data["name"])

    async def parent_chosen(self, ui: Ui, data: dict, parent_id: int | None) -> None:
        data = {**data, "parent_id": parent_id}
        await self.go(ui, "quota", data)
        default = default_quota(OrgKind(data["kind"]))
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "quota", "default", "orgs.button_default_quota", quota=default)], self.cancel_row(ui)]
        )
        await show(ui, ui.t("orgs.new_ask_quota", name=data["name"], default=default, max=MAX_QUOTA), markup)

    async def text_quota(self, ui: Ui, data: dict, text: str) -> None:
        await self._quota_chosen(ui, data, parse_quota(text))

    async def choice_quota(self, ui: Ui, data: dict, value: str) -> None:
        if value != "default":
            raise DomainError("common.button_expired")
        await self._quota_chosen(ui, data, default_quota(OrgKind(data["kind"])))

    async def _quota_chosen(self, ui: Ui, data: dict, quota: int) -> None:
        data = {**data, "quota": quota}
        await self.go(ui, "confirm", data)
        summary = await summary_of(
            ui, name=data["name"], kind=OrgKind(data["kind"]), parent_id=data["parent_id"], quota=quota
        )
        markup = InlineKeyboardMarkup([[self.choice(ui, "confirm", "yes", "orgs.button_create")], self.cancel_row(ui)])
        await show(ui, ui.t("orgs.new_confirm", summary=summary), markup)

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        try:
            org = await ui.services.orgs.create(
                ui.user_id, data["name"], OrgKind(data["kind"]), data["parent_id"], data["quota"]
            )
        except PermissionDenied:
            await self.finish(ui)
            raise
        except DomainError as error:
            await self._changed_meanwhile(ui, data, error)
            return
        await self.finish(ui)
        await show(ui, ui.t("orgs.created", summary=await org_summary(ui, org)))

    async def _changed_meanwhile(self, ui: Ui, data: dict, error: DomainError) -> None:
        """The name was taken or the parent archived since that step: explain, and go back to it."""
        if error.key == "orgs.name_taken":
            await self.go(ui, "name", {})
            await ui.reply(error.key, self.cancel_markup(ui), **error.params)
        elif error.key in ("orgs.archived", "orgs.not_found"):
            await ui.reply(error.key, **error.params)
            await self.go(ui, "parent", data)
            await ui.send_text(await self.parent_text(ui, data), await self.parent_markup(ui, data, 0))
        else:
            await self.finish(ui)
            raise error


# ---- /editorg ------------------------------------------------------------------------------
async def editorg_command(update: Update, context: BotContext) -> None:
    await flow_of(context, EditOrgFlow).start(Ui(update, context))


class EditOrgFlow(OrgSteps):
    """Pick an organisation (archived ones too) → pick a field → new value → saved."""

    name = "eo"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await require_admin(ui)
        choices = await self._org_choices(ui, None)
        if not choices:
            await ui.reply("orgs.none_yet")
            return
        await self.go(ui, "org", {})
        await ui.reply("orgs.edit_pick", self.paged(ui, "org", choices, 0))

    async def _org_choices(self, ui: Ui, search: str | None) -> list[tuple[int, str]]:
        orgs = await (
            ui.services.orgs.search_all(search, limit=40) if search else ui.services.orgs.list(include_archived=True)
        )
        mark = ui.t("orgs.archived_mark")
        return [(org.id, org.name if org.active else f"{org.name} {mark}") for org in orgs]

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        search = text[:SEARCH_LIMIT]
        choices = await self._org_choices(ui, search)
        if not choices:
            raise DomainError("orgs.search_nothing", text=search[:30])
        await self.go(ui, "org", {"search": search})
        await ui.reply("orgs.edit_search_results", self.paged(ui, "org", choices, 0), text=search, count=len(choices))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is None:
            await self._fields(ui, choice_id(value))
            return
        search = data.get("search")
        choices = await self._org_choices(ui, search)
        text = ui.t("orgs.edit_search_results", text=search, count=len(choices)) if search else ui.t("orgs.edit_pick")
        await ui.edit_text(text, self.paged(ui, "org", choices, page))

    async def _fields(self, ui: Ui, org_id: int) -> None:
        org = await ui.services.orgs.get(org_id)
        await self.go(ui, "field", {"org_id": org.id})
        toggle = ("archive", "orgs.button_archive") if org.active else ("restore", "orgs.button_restore")
        markup = InlineKeyboardMarkup(
            [
                [
                    self.choice(ui, "field", "name", "orgs.button_field_name"),
                    self.choice(ui, "field", "kind", "orgs.button_field_kind"),
                ],
                [
                    self.choice(ui, "field", "parent", "orgs.button_field_parent"),
                    self.choice(ui, "field", "quota", "orgs.button_field_quota"),
                ],
                [self.choice(ui, "field", *toggle)],
                self.cancel_row(ui),
            ]
        )
        await show(ui, ui.t("orgs.edit_pick_field", summary=await org_summary(ui, org)), markup)

    async def choice_field(self, ui: Ui, data: dict, value: str) -> None:
        org = await ui.services.orgs.get(data["org_id"])
        if value == "name":
            await self.go(ui, "name", data)
            await show(ui, ui.t("orgs.edit_ask_name", name=org.name), self.cancel_markup(ui))
        elif value == "kind":
            await self.go(ui, "kind", data)
            await show(
                ui, ui.t("orgs.edit_ask_kind", name=org.name, current=kind_label(ui, org.kind)), self.kind_markup(ui)
            )
        elif value == "parent":
            await self.ask_parent(ui, data)
        elif value == "quota":
            await self.go(ui, "quota", data)
            await show(
                ui,
                ui.t(
                    "orgs.edit_ask_quota",
                    name=org.name,
                    current=org.deeds_quota,
                    max=MAX_QUOTA,
                    default=default_quota(org.kind),
                ),
                self.cancel_markup(ui),
            )
        elif value == "archive":
            if not org.active:
                raise DomainError("orgs.already_archived", name=org.name)
            await self.go(ui, "archive", data)
            markup = InlineKeyboardMarkup(
                [[self.choice(ui, "archive", "yes", "orgs.button_confirm_archive")], self.cancel_row(ui)]
            )
            await show(ui, ui.t("orgs.archive_confirm", name=org.name), markup)
        elif value == "restore":
            if org.active:
                raise DomainError("orgs.not_archived", name=org.name)
            await self._save(ui, ui.services.orgs.set_archived(ui.user_id, org.id, False))
        else:
            raise DomainError("common.button_expired")

    async def _save(self, ui: Ui, change) -> None:
        """Run one write; other refusals keep the person at the step, a lost role ends it."""
        try:
            org = await change
        except PermissionDenied:
            await self.finish(ui)
            raise
        await self.finish(ui)
        await show(ui, ui.t("orgs.saved", summary=await org_summary(ui, org)))

    async def text_name(self, ui: Ui, data: dict, text: str) -> None:
        await self._save(ui, ui.services.orgs.rename(ui.user_id, data["org_id"], text))

    async def kind_chosen(self, ui: Ui, data: dict, kind: OrgKind) -> None:
        await self._save(ui, ui.services.orgs.change_kind(ui.user_id, data["org_id"], kind))

    async def parent_prompt(self, ui: Ui, data: dict) -> str:
        org = await ui.services.orgs.get(data["org_id"])
        return ui.t("orgs.edit_ask_parent", name=org.name, current=await parent_label(ui, org.parent_id))

    async def parent_chosen(self, ui: Ui, data: dict, parent_id: int | None) -> None:
        await self._save(ui, ui.services.orgs.change_parent(ui.user_id, data["org_id"], parent_id))

    async def text_quota(self, ui: Ui, data: dict, text: str) -> None:
        quota = parse_quota(text)
        await self._save(ui, ui.services.orgs.change_quota(ui.user_id, data["org_id"], quota))

    async def choice_archive(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        await self._save(ui, ui.services.orgs.set_archived(ui.user_id, data["org_id"], True))


# ---- /importorgs and /orgtemplate ----------------------------------------------------------
async def import_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ImportFlow).start(Ui(update, context))


async def template_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    await require_admin(ui)
    content = await asyncio.to_thread(build_template_xlsx)
    await context.bot.send_document(
        ui.chat_id, content, filename=ui.t("import.template_file_name"), caption=ui.t("import.template_caption")
    )


class ImportFlow(SpreadsheetImportFlow[OrgRow]):
    """/importorgs: organisations from XLSX/CSV, for county admins."""

    name = "im"
    keys = ImportKeys(
        ask_file="import.ask_file",
        expected_file="import.expected_file",
        too_large="import.too_large",
        button_import="import.button_import",
        confirm="import.confirm",
        imported="import.imported",
        problems_title="import.problems_title",
        problems_footer="import.problems_footer",
        problems_more="import.problems_more",
        problem_file="import.problem_file",
        problem_line="import.problem_line",
    )
    max_rows = MAX_ROWS
    max_bytes = MAX_BYTES

    async def may_start(self, ui: Ui) -> bool:
        await require_admin(ui)
        return True

    async def parser(self, ui: Ui) -> Parser[OrgRow]:
        return partial(
            parse_org_file,
            existing_names=await ui.services.orgs.names(),
            existing_kinds=await ui.services.orgs.kinds_by_name(),
        )

    async def confirm_params(self, ui: Ui, rows: Sequence[OrgRow]) -> dict[str, object]:
        return {"by_kind": kind_counts(ui, (row.kind for row in rows))}

    async def store(self, ui: Ui, rows: Sequence[OrgRow]) -> dict[str, object]:
        created = await ui.services.orgs.import_rows(ui.user_id, rows)
        return {"count": len(created), "by_kind": kind_counts(ui, (org.kind for org in created))}
