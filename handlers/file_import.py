"""Spreadsheet imports (XLSX/CSV) as one private conversation, shared by /importorgs and /importwishes.

The person is asked for a file; the file is downloaded and checked row by row in a worker thread;
every problem is reported ("row N · column X: why") or the person is asked to confirm. On confirm
the rows are checked again, since the data they are checked against may have changed, and only
a file without a single problem is stored, whole; the file itself is read once per upload (the
domain keeps the table read until the import is over: bot/domain/tabular_import.py). A
corrected file sent instead of confirming is checked like the first one. Reading is bounded in
size, cells and time (tabular_import's limits): an over-limit file is told the limits.

What differs between imports is a subclass's business: who may start, how a file is parsed
(and against what), the confirm message's extra params, and how the rows are stored.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import Document, InlineKeyboardMarkup

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.tabular_import import ImportResult, RowProblem, forget_upload
from handlers.context import Ui
from handlers.flow import Flow

# Characters of HTML per message; Telegram's limit is 4096 after parsing, which only shortens it.
MESSAGE_BUDGET = 3500
# A value quoted back from a spreadsheet cell is cut to this, so one row cannot fill a message.
QUOTE_LIMIT = 40

RowT = TypeVar("RowT")
# A pure parse, run in a worker thread: (file name, content) → rows or problems.
Parser = Callable[[str, bytes], ImportResult[RowT]]


def shorten(value: object, limit: int = QUOTE_LIMIT) -> object:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value


@dataclass(frozen=True)
class ImportKeys:
    """The catalog keys one import speaks with."""

    ask_file: str  # params: max_rows, limit_mb
    expected_file: str
    too_large: str  # params: limit_mb
    button_import: str  # params: count
    confirm: str  # params: file, count and the flow's confirm_params
    imported: str  # params: what the flow's store returns
    problems_title: str  # params: file, count
    problems_footer: str
    problems_more: str  # params: count
    problem_file: str  # params: reason
    problem_line: str  # params: row, column, reason


class SpreadsheetImportFlow(Flow, Generic[RowT]):
    """A file is checked row by row; only a file without a single problem is imported, whole."""

    keys: ImportKeys
    max_rows: int
    max_bytes: int

    # ---- what each import defines ---------------------------------------------------------
    @abstractmethod
    async def may_start(self, ui: Ui) -> bool:
        """Raise PermissionDenied, or answer the person and return False, when they may not import."""

    @abstractmethod
    async def parser(self, ui: Ui) -> Parser[RowT]:
        """Read what the check needs from the services; return the pure parse to run in a thread."""

    @abstractmethod
    async def confirm_params(self, ui: Ui, rows: Sequence[RowT]) -> Mapping[str, object]:
        """Params of the confirm message besides `file` and `count`."""

    @abstractmethod
    async def store(self, ui: Ui, rows: Sequence[RowT]) -> Mapping[str, object]:
        """Import the checked rows (the service checks permission again); the imported message's params."""

    # ---- the conversation -----------------------------------------------------------------
    async def start(self, ui: Ui, **kwargs: object) -> None:
        if not await self.may_start(ui):
            return
        await self.go(ui, "file", {})
        await ui.reply(
            self.keys.ask_file,
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            max_rows=self.max_rows,
            limit_mb=self.max_bytes // (1024 * 1024),
        )

    async def text_file(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError(self.keys.expected_file)

    async def document_file(self, ui: Ui, data: dict, document: Document) -> None:
        file_name = document.file_name or ""
        file = {"file_name": file_name, "file_id": document.file_id, "file_size": document.file_size}
        result = await self._parse(ui, file, last=False)
        if not result.ok:
            await self.go(ui, "file", {})
            await ui.send_text(problem_report(ui, self.keys, file_name, result.problems))
            return
        await self.go(ui, "confirm", file)
        count = len(result.rows)
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", self.keys.button_import, count=count)], self.cancel_row(ui)]
        )
        await ui.reply(
            self.keys.confirm,
            markup,
            file=shorten(file_name),
            count=count,
            **await self.confirm_params(ui, result.rows),
        )

    # A corrected file sent instead of confirming is checked like the first one.
    document_confirm = document_file

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        # Checked again: what the file is checked against (names, open wishes) may have changed since.
        result = await self._parse(ui, data, last=True)
        if not result.ok:
            await self.go(ui, "file", {})
            await ui.edit_text(problem_report(ui, self.keys, data["file_name"], result.problems))
            return
        try:
            params = await self.store(ui, result.rows)
        except PermissionDenied:
            await self.finish(ui)
            raise
        await self.finish(ui)
        await ui.edit(self.keys.imported, **params)

    async def _parse(self, ui: Ui, file: dict, *, last: bool) -> ImportResult[RowT]:
        """Download and check; `last` (the confirm) or a refusal ends the upload's life in the
        domain's read-once memory, which may hold children's private details."""
        if file["file_size"] is not None and file["file_size"] > self.max_bytes:
            raise DomainError(self.keys.too_large, limit_mb=self.max_bytes // (1024 * 1024))
        telegram_file = await ui.context.bot.get_file(file["file_id"])
        content = bytes(await telegram_file.download_as_bytearray())
        parse = await self.parser(ui)
        result = await asyncio.to_thread(parse, file["file_name"], content)
        if last or not result.ok:
            forget_upload(content)
        return result


def problem_report(ui: Ui, keys: ImportKeys, file_name: str, problems: Sequence[RowProblem]) -> str:
    """Every problem as "row N · column X: why", as many as fit in one message. Wish problems never
    carry a private value (bot/domain/wish_import.py), only where it is and why it is refused."""
    head = ui.t(keys.problems_title, file=shorten(file_name), count=len(problems))
    foot = ui.t(keys.problems_footer)
    budget = MESSAGE_BUDGET - len(head) - len(foot)
    lines: list[str] = []
    for index, problem in enumerate(problems):
        line = problem_line(ui, keys, problem)
        if sum(len(item) + 1 for item in lines) + len(line) > budget - 200:
            lines.append(ui.t(keys.problems_more, count=len(problems) - index))
            break
        lines.append(line)
    return "\n".join([head, "", *lines, "", foot])


def problem_line(ui: Ui, keys: ImportKeys, problem: RowProblem) -> str:
    reason = ui.t.raw(problem.key, **{name: shorten(value) for name, value in problem.params.items()})
    if problem.column is None:
        return ui.t(keys.problem_file, reason=reason)
    return ui.t(keys.problem_line, row=problem.row, column=shorten(problem.column), reason=reason)
