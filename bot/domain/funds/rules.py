"""The ledger's rules as pure functions: what each entry posts, and what a fund may pay.

Each refusal is a DomainError whose key names the rule (`funds.rule_*`), so the person reads
which rule said no."""

from __future__ import annotations

from bot.domain.errors import DomainError
from bot.domain.funds.amounts import yuan_text
from bot.model.funds import Entry, EntryKind, Fund, Recipient, Restriction


def postings_of(entry: Entry) -> list[tuple[int, int]]:
    """(fund, signed fen) that `entry` posts when it counts; a pledge moves no money, and a
    correction posts the negation of what the entry it reverses posted (given by the caller)."""
    if entry.kind is EntryKind.RECEIPT:
        return [(entry.fund_id, entry.amount_fen)]
    if entry.kind in (EntryKind.GRANT, EntryKind.EXPENSE):
        return [(entry.fund_id, -entry.amount_fen)]
    if entry.kind is EntryKind.TRANSFER:
        if entry.to_fund_id is None:
            raise ValueError(f"transfer {entry.id} has no destination")
        return [(entry.fund_id, -entry.amount_fen), (entry.to_fund_id, entry.amount_fen)]
    return []


def check_covered(fund: Fund, balance_fen: int, amount_fen: int) -> None:
    """No fund goes below zero."""
    if amount_fen > balance_fen:
        raise DomainError(
            "funds.rule_balance", fund=fund.name, balance=yuan_text(balance_fen), amount=yuan_text(amount_fen)
        )


def check_restriction(fund: Fund, recipient: Recipient) -> None:
    """A restricted fund pays only the kinds of spending and the organisations it names."""
    allowed = fund.restriction
    if allowed.kinds and recipient.kind not in allowed.kinds:
        raise DomainError("funds.rule_restricted_kind", fund=fund.name, kind=recipient.kind.value)
    if allowed.org_ids and recipient.org_id not in allowed.org_ids:
        raise DomainError("funds.rule_restricted_org", fund=fund.name, recipient=recipient.label)


def narrower_or_equal(inner: Restriction, outer: Restriction) -> bool:
    """Money moved from a fund restricted by `outer` may only land where `inner` is at least as
    strict: a transfer must not launder a restriction away."""
    if outer.none:
        return True
    kinds_ok = not outer.kinds or (bool(inner.kinds) and set(inner.kinds) <= set(outer.kinds))
    orgs_ok = not outer.org_ids or (bool(inner.org_ids) and set(inner.org_ids) <= set(outer.org_ids))
    return kinds_ok and orgs_ok
