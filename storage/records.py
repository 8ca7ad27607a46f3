"""Service records: the rows the record is read from, certificates, QR code generations, the
signing secret and the identity fields kept for the export. SQL only."""

from __future__ import annotations

import json
from datetime import date, datetime

from bot.model.records import (
    AttendedRow,
    Certificate,
    ContactRow,
    DeliveredRow,
    Identity,
    KindTotal,
    ServiceKind,
    ServiceLine,
    VisitedRow,
)
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_CORRECTIONS = ("attendance.add", "attendance.correct")
_CERTIFICATE = (
    "id, serial, user_id, period_start, period_end, name_shown, real_name, snapshot, fingerprint, issued_at,"
    " revoked_at, revoke_reason"
)


def _line_json(line: ServiceLine) -> dict[str, object]:
    return {
        "kind": line.kind.value,
        "user": line.user_id,
        "day": line.day.isoformat(),
        "minutes": line.minutes,
        "org": line.org_name,
        "ref": line.reference,
        "title": line.title,
        "correction": line.correction,
    }


def _line(item: dict) -> ServiceLine:
    return ServiceLine(
        kind=ServiceKind(item["kind"]),
        user_id=int(item["user"]),
        day=date.fromisoformat(item["day"]),
        minutes=int(item["minutes"]),
        org_name=str(item["org"]),
        reference=str(item["ref"]),
        title=str(item["title"]),
        correction=item.get("correction"),
    )


def _certificate(row: Row) -> Certificate:
    snapshot = json.loads(row["snapshot"])
    return Certificate(
        id=row["id"],
        serial=row["serial"],
        user_id=row["user_id"],
        period_start=date.fromisoformat(row["period_start"]),
        period_end=date.fromisoformat(row["period_end"]),
        name_shown=row["name_shown"],
        real_name=bool(row["real_name"]),
        totals=tuple(
            KindTotal(ServiceKind(item["kind"]), int(item["minutes"]), int(item["times"]))
            for item in snapshot["totals"]
        ),
        lines=tuple(_line(item) for item in snapshot["lines"]),
        fingerprint=row["fingerprint"],
        issued_at=db_time(row["issued_at"]),
        revoked_at=from_db_time(row["revoked_at"]),
        revoke_reason=row["revoke_reason"],
    )


def _of_person(column: str, user_id: int | None, params: list[object]) -> tuple[str, list[object]]:
    """The filter on one person's service (none: everyone's) and the period's parameters with it."""
    if user_id is None:
        return "", params
    return f" AND {column} = ?", [*params, user_id]


class RecordRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- what the record is read from -------------------------------------------------------
    async def attended(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[AttendedRow]:
        """Attendance that counts (checked in, not a no-show, not removed) at activities not
        cancelled starting in [from, before); one person's, or everyone's (None)."""
        person, params = _of_person("t.user_id", user_id, [to_db_time(starts_from), to_db_time(starts_before)])
        rows = await self.db.fetch_all(
            "SELECT a.id, a.code, a.title, o.name AS org_name, a.starts_at, a.ends_at, t.user_id,"
            " t.checked_in_at, t.checked_out_at FROM attendance t JOIN activities a ON a.id = t.activity_id"
            " JOIN organisations o ON o.id = a.org_id"
            " WHERE a.state = 'published' AND t.removed_at IS NULL AND t.no_show = 0 AND t.checked_in_at IS NOT NULL"
            f" AND a.starts_at >= ? AND a.starts_at < ?{person} ORDER BY a.starts_at, a.id, t.user_id",
            params,
        )
        return [
            AttendedRow(
                activity_id=row["id"],
                code=row["code"],
                title=row["title"],
                org_name=row["org_name"],
                starts_at=db_time(row["starts_at"]),
                ends_at=db_time(row["ends_at"]),
                user_id=row["user_id"],
                checked_in_at=db_time(row["checked_in_at"]),
                checked_out_at=from_db_time(row["checked_out_at"]),
            )
            for row in rows
        ]

    async def corrections(self, activity_ids: list[int]) -> dict[tuple[int, int], str]:
        """(activity, person) -> the reason of the latest organiser correction of that attendance."""
        found: dict[tuple[int, int], str] = {}
        for start in range(0, len(activity_ids), 500):
            chunk = activity_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self.db.fetch_all(
                f"SELECT subject, details FROM audit_log WHERE action IN (?, ?) AND subject IN ({marks}) ORDER BY id",
                [*_CORRECTIONS, *(f"activity:{activity_id}" for activity_id in chunk)],
            )
            for row in rows:
                details = json.loads(row["details"])
                user = details.get("user")
                if isinstance(user, int) and details.get("reason"):
                    found[(int(row["subject"].split(":", 1)[1]), user)] = str(details["reason"])
        return found

    async def delivered(self, user_id: int | None, from_: datetime, before: datetime) -> list[DeliveredRow]:
        """Wishes delivered in [from, before) and not since cancelled; one person's or everyone's."""
        person, params = _of_person("w.delivered_by", user_id, [to_db_time(from_), to_db_time(before)])
        rows = await self.db.fetch_all(
            "SELECT w.id, w.text, o.name AS org_name, w.delivered_by, w.delivered_at FROM wishes w"
            " JOIN organisations o ON o.id = w.claimed_by_org"
            " WHERE w.status IN ('delivered', 'confirmed') AND w.delivered_by IS NOT NULL"
            f" AND w.delivered_at >= ? AND w.delivered_at < ?{person} ORDER BY w.delivered_at, w.id",
            params,
        )
        return [
            DeliveredRow(row["id"], row["text"], row["org_name"], row["delivered_by"], db_time(row["delivered_at"]))
            for row in rows
        ]

    async def contacts(self, user_id: int | None, from_day: date, before_day: date) -> list[ContactRow]:
        """Pairing contacts dated in [from_day, before_day) (local days); one volunteer's or everyone's."""
        person, params = _of_person("p.volunteer_id", user_id, [from_day.isoformat(), before_day.isoformat()])
        rows = await self.db.fetch_all(
            "SELECT c.id, c.pair_id, o.name AS org_name, p.volunteer_id, c.contact_on, c.minutes"
            " FROM contacts c JOIN pairs p ON p.id = c.pair_id JOIN organisations o ON o.id = p.org_id"
            f" WHERE c.contact_on >= ? AND c.contact_on < ?{person} ORDER BY c.contact_on, c.id",
            params,
        )
        return [
            ContactRow(
                row["id"],
                row["pair_id"],
                row["org_name"],
                row["volunteer_id"],
                date.fromisoformat(row["contact_on"]),
                row["minutes"],
            )
            for row in rows
        ]

    async def visited(self, user_id: int | None, from_: datetime, before: datetime) -> list[VisitedRow]:
        """Verification visits filed in [from, before) and approved; one person's or everyone's. The
        organisation is the one the visitor served the campaign's team for (else the team's first)."""
        person, params = _of_person("v.visitor_id", user_id, [to_db_time(from_), to_db_time(before)])
        rows = await self.db.fetch_all(
            "SELECT v.id, c.title, v.visitor_id, v.submitted_at,"
            " COALESCE((SELECT o.name FROM visit_team_members m JOIN organisations o ON o.id = m.org_id"
            "   WHERE m.team_id = h.team_id AND m.user_id = v.visitor_id),"
            "  (SELECT o.name FROM visit_team_orgs t JOIN organisations o ON o.id = t.org_id"
            "   WHERE t.team_id = h.team_id ORDER BY o.id LIMIT 1), '') AS org_name"
            " FROM visits v JOIN visit_households h ON h.id = v.household_id"
            " JOIN visit_campaigns c ON c.id = h.campaign_id"
            " WHERE v.status = 'approved' AND v.submitted_at >= ? AND v.submitted_at < ?"
            f"{person} ORDER BY v.submitted_at, v.id",
            params,
        )
        return [
            VisitedRow(row["id"], row["title"], row["org_name"], row["visitor_id"], db_time(row["submitted_at"]))
            for row in rows
        ]

    # ---- certificates -------------------------------------------------------------------------
    async def next_certificate_id(self) -> int:
        """Inside the issuing transaction: the id the next certificate gets (its serial names it)."""
        return int(await self.db.fetch_value("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates"))

    async def add_certificate(self, certificate: Certificate) -> None:
        snapshot = {
            "totals": [
                {"kind": total.kind.value, "minutes": total.minutes, "times": total.person_times}
                for total in certificate.totals
            ],
            "lines": [_line_json(line) for line in certificate.lines],
        }
        await self.db.execute(
            f"INSERT INTO certificates ({_CERTIFICATE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                certificate.id,
                certificate.serial,
                certificate.user_id,
                certificate.period_start.isoformat(),
                certificate.period_end.isoformat(),
                certificate.name_shown,
                int(certificate.real_name),
                json.dumps(snapshot, ensure_ascii=False),
                certificate.fingerprint,
                to_db_time(certificate.issued_at),
            ),
        )

    async def certificate(self, serial: str) -> Certificate | None:
        row = await self.db.fetch_one(f"SELECT {_CERTIFICATE} FROM certificates WHERE serial = ?", (serial,))
        return None if row is None else _certificate(row)

    async def certificate_written(self, serial: str) -> Certificate:
        return written(await self.certificate(serial), f"certificate {serial}")

    async def later_serials(self, certificate: Certificate) -> list[str]:
        """Serials issued after this one for the same person and the same period."""
        rows = await self.db.fetch_all(
            "SELECT serial FROM certificates WHERE user_id = ? AND period_start = ? AND period_end = ? AND id > ?"
            " ORDER BY id",
            (
                certificate.user_id,
                certificate.period_start.isoformat(),
                certificate.period_end.isoformat(),
                certificate.id,
            ),
        )
        return [row["serial"] for row in rows]

    async def revoke(self, serial: str, actor_id: int, reason: str, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE certificates SET revoked_at = ?, revoked_by = ?, revoke_reason = ?"
                " WHERE serial = ? AND revoked_at IS NULL",
                (to_db_time(now), actor_id, reason, serial),
            )
        )

    # ---- the signing secret -------------------------------------------------------------------
    async def secret(self, name: str, candidate: str, now: datetime) -> str:
        """The stored secret called `name`; `candidate` is stored first if there is none yet."""
        await self.db.execute(
            "INSERT INTO record_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (name, candidate, to_db_time(now)),
        )
        return str(await self.db.fetch_value("SELECT value FROM record_secrets WHERE name = ?", (name,)))

    # ---- QR codes -----------------------------------------------------------------------------
    async def qr_generation(self, activity_id: int) -> int | None:
        value = await self.db.fetch_value("SELECT generation FROM activity_qr WHERE activity_id = ?", (activity_id,))
        return None if value is None else int(value)

    async def new_qr_generation(self, activity_id: int, actor_id: int, now: datetime) -> int:
        """The activity's next code generation (1 for its first code): every older code goes stale."""
        value = await self.db.fetch_value(
            "INSERT INTO activity_qr (activity_id, generation, created_by, created_at) VALUES (?, 1, ?, ?)"
            " ON CONFLICT (activity_id) DO UPDATE SET generation = activity_qr.generation + 1,"
            " created_by = excluded.created_by, created_at = excluded.created_at RETURNING generation",
            (activity_id, actor_id, to_db_time(now)),
        )
        return int(value)

    # ---- identity fields (private) --------------------------------------------------------------
    async def identities(self, user_ids: list[int]) -> dict[int, Identity]:
        found: dict[int, Identity] = {}
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self.db.fetch_all(
                f"SELECT user_id, id_type, id_number, consented_at FROM volunteer_identity WHERE user_id IN ({marks})",
                chunk,
            )
            for row in rows:
                found[row["user_id"]] = Identity(
                    row["user_id"], row["id_type"], row["id_number"], db_time(row["consented_at"])
                )
        return found

    async def set_identity(self, user_id: int, id_type: str, id_number: str, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO volunteer_identity (user_id, id_type, id_number, consented_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET id_type = excluded.id_type, id_number = excluded.id_number,"
            " consented_at = excluded.consented_at",
            (user_id, id_type, id_number, to_db_time(now)),
        )

    async def delete_identity(self, user_id: int) -> bool:
        return bool(await self.db.changes("DELETE FROM volunteer_identity WHERE user_id = ?", (user_id,)))
