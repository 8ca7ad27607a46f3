"""The campaign's outcomes as XLSX. The default workbook holds the public fields only (alias,
township, team, outcome, review state, dates); the private one (asked for with a reason:
bot/domain/visits/campaigns.py `outcome_rows`) adds the household's details and the visit's
notes. Headers and words come from the `labels` translator; pure CPU (asyncio.to_thread)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.xlsx import Cell, XlsxWriter
from bot.model.visits import OutcomeRow

PUBLIC_COLUMNS = ("alias", "township", "team", "round", "outcome", "review", "far", "photos", "submitted")
PRIVATE_COLUMNS = (
    "school",
    "admission",
    "village",
    "address",
    "guardian",
    "phone",
    "circumstances",
    "match_note",
    "items",
    "reason",
    "review_note",
)


def build_outcomes_xlsx(
    rows: Sequence[OutcomeRow], labels: Callable[[str], str], zone: ZoneInfo, *, private: bool
) -> bytes:
    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)

    columns = PUBLIC_COLUMNS + (PRIVATE_COLUMNS if private else ())
    book = XlsxWriter()
    header = [labels(f"visits.col_{column}") for column in columns]
    with book.sheet(labels("visits.sheet_outcomes"), header, [14] * len(columns)) as sheet:
        for row in rows:
            visit = row.visit
            cells: list[Cell] = [
                row.household.alias,
                row.township,
                row.team_number,
                None if visit is None else visit.round,
                labels(f"visits.outcome_{visit.outcome.value}") if visit and visit.outcome else None,
                labels(f"visits.status_{visit.status.value}") if visit else labels("visits.status_none"),
                labels("visits.word_yes") if visit and visit.far else None,
                None if visit is None else visit.photos,
                None if visit is None else local(visit.submitted_at),
            ]
            if private:
                details, notes = row.details, row.notes
                cells += [
                    details.school if details else None,
                    details.admission if details else None,
                    details.village if details else None,
                    details.address if details else None,
                    details.guardian if details else None,
                    details.phone if details else None,
                    details.circumstances if details else None,
                    notes.match_note if notes else None,
                    "; ".join(f"{k}: {v}" for k, v in notes.item_answers.items()) if notes else None,
                    notes.reason if notes else None,
                    notes.review_note if notes else None,
                ]
            sheet.row(cells)
    return book.close()
