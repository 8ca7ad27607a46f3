"""Pairing (结对子): a cadre of the child's organisation proposes a pair, or asks for ranked
suggestions; the volunteer accepts or declines in private; a pair ends with a reason; a volunteer
who leaves the county hands their children back (`hand_back`), and the cadres are asked to re-pair.

Rules: at most `max_pairs` live pairs (proposed or active) per volunteer; one live pair per child
and kind of support (the database refuses a second too); a volunteer must have started the bot
(else they could never be asked). The guardian's consent is not needed to pair: a child without
it is paired by alias and needs alone.

The messages owed are queued in the outbox in the same transaction (kinds below, rendered by
handlers/sunshine/notices.py).
"""

from __future__ import annotations

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.sunshine.core import SunshineCore
from bot.model.outbox import Notice, Priority
from bot.model.sunshine import (
    Availability,
    Child,
    EndReason,
    Pair,
    PairStatus,
    Suggestion,
    Support,
    VolunteerKind,
    VolunteerProfile,
)

PROPOSAL = "sunshine.proposal"  # to the volunteer: accept or decline
ANSWERED = "sunshine.answered"  # to the proposer: accepted or declined
HANDED_BACK = "sunshine.handed_back"  # to the child's organisation's cadres: re-pair
SUGGESTIONS = 5
# The kind of volunteer that suits a kind of support best.
_SUITS: dict[Support, tuple[VolunteerKind, ...]] = {
    Support.TUTORING: (VolunteerKind.TEACHER, VolunteerKind.STUDENT, VolunteerKind.RETURNING),
    Support.COUNSELLING: (VolunteerKind.COUNSELLOR, VolunteerKind.DOCTOR),
    Support.INTEREST: (VolunteerKind.STUDENT, VolunteerKind.TEACHER, VolunteerKind.RETURNING),
    Support.DEVELOPMENT: (VolunteerKind.LEGAL, VolunteerKind.TEACHER, VolunteerKind.STUDENT),
}


class Pairing(SunshineCore):
    async def propose(
        self, actor_id: int, child_id: int, volunteer_id: int, support: Support, rhythm_days: int
    ) -> Pair:
        async with self.db.transaction():
            child = await self.child(child_id)
            await self.require_cadre(actor_id, child.org_id)
            if not child.active:
                raise DomainError("sunshine.child_left", code=child.code)
            person = await self.people.get(volunteer_id)
            if person is None or not person.started:
                raise DomainError("sunshine.volunteer_not_started", who=str(volunteer_id))
            for live in await self.pairs.live_of_child(child_id):
                if live.support is support:
                    raise DomainError("sunshine.child_has_pair", code=child.code, pair=live.code, support=support.value)
            held = await self.pairs.live_of_volunteer(volunteer_id)
            if len(held) >= self.max_pairs:
                raise DomainError("sunshine.volunteer_full", count=len(held), max=self.max_pairs)
            now = self.clock.now()
            pair = await self.pairs.propose(child_id, volunteer_id, child.org_id, support, rhythm_days, actor_id, now)
            await self.audit.record(
                now, actor_id, "pair.propose", f"pair:{pair.id}", child=child_id, volunteer=volunteer_id
            )
            await self.outbox.enqueue(
                Notice(
                    PROPOSAL,
                    volunteer_id,
                    key=f"sunshine:proposal:{pair.id}",
                    params={"pair": pair.id},
                    priority=Priority.NOTICE,
                )
            )
        return pair

    async def answer(self, actor_id: int, pair_id: int, accept: bool) -> Pair:
        """The volunteer accepts (the pair starts today) or declines; the proposer is told."""
        async with self.db.transaction():
            pair = await self.pair(pair_id)
            if pair.volunteer_id != actor_id:
                raise PermissionDenied("sunshine.not_your_pair")
            now = self.clock.now()
            changed = await (
                self.pairs.accept(pair_id, self.today(), now) if accept else self.pairs.decline(pair_id, now)
            )
            if not changed:
                raise DomainError("sunshine.pair_answered", pair=pair.code)
            await self.audit.record(now, actor_id, "pair.accept" if accept else "pair.decline", f"pair:{pair_id}")
            await self.outbox.enqueue(
                Notice(ANSWERED, pair.proposed_by, key=f"sunshine:answered:{pair_id}", params={"pair": pair_id})
            )
        return await self.pair(pair_id)

    async def end(self, actor_id: int, pair_id: int, reason: EndReason) -> Pair:
        """The child's organisation's cadres or the volunteer end a pair."""
        async with self.db.transaction():
            pair = await self.pair(pair_id)
            if actor_id != pair.volunteer_id:
                await self.require_cadre(actor_id, pair.org_id)
            if not await self.pairs.end(pair_id, reason, self.clock.now()):
                raise DomainError("sunshine.pair_not_live", pair=pair.code)
            await self.audit.record(self.clock.now(), actor_id, "pair.end", f"pair:{pair_id}", reason=reason.value)
        return await self.pair(pair_id)

    async def hand_back(self, person_id: int, *, actor_id: int | None = None, org_id: int | None = None) -> list[Pair]:
        """A volunteer leaves the county (or, with `org_id`, stops acting for that organisation):
        each live pair (of that organisation's children) ends (volunteer_left) and the child's
        organisation's cadres are asked to re-pair. Safe to call again (nothing left to end)."""
        ended: list[Pair] = []
        async with self.db.transaction():
            now = self.clock.now()
            for pair in await self.live_pairs_of_volunteer(person_id, org_id):
                await self.pairs.end(pair.id, EndReason.VOLUNTEER_LEFT, now)
                await self.audit.record(now, actor_id, "pair.hand_back", f"pair:{pair.id}", volunteer=person_id)
                for cadre in await self.cadre_ids(pair.org_id):
                    await self.outbox.enqueue(
                        Notice(HANDED_BACK, cadre, key=f"sunshine:handback:{pair.id}:{cadre}", params={"pair": pair.id})
                    )
                ended.append(pair)
        return ended

    async def live_pairs_of_volunteer(self, volunteer_id: int, org_id: int | None = None) -> list[Pair]:
        """Proposed and active pairs of the volunteer, of one organisation's children or of all."""
        pairs = await self.pairs.live_of_volunteer(volunteer_id)
        return [pair for pair in pairs if org_id is None or pair.org_id == org_id]

    async def pairs_of_volunteer(self, volunteer_id: int) -> list[Pair]:
        return [pair for pair in await self.pairs.live_of_volunteer(volunteer_id) if pair.status is PairStatus.ACTIVE]

    async def live_pairs_of_child(self, child_id: int) -> list[Pair]:
        return await self.pairs.live_of_child(child_id)

    # ---- suggestions ------------------------------------------------------------------------------
    async def suggest(self, actor_id: int, child_id: int, support: Support) -> list[Suggestion]:
        """Volunteers with a profile whose skills, kind, availability and area fit, best first,
        each with its reasons; volunteers at their maximum or paired with the child already are left out."""
        child = await self.child(child_id)
        await self.require_cadre(actor_id, child.org_id)
        areas = await self._area_names(child)
        already = {pair.volunteer_id for pair in await self.pairs.live_of_child(child_id)}
        ranked = []
        for profile in await self.profiles.all():
            if profile.user_id in already:
                continue
            person = await self.people.get(profile.user_id)
            if person is None or not person.started:
                continue
            if len(await self.pairs.live_of_volunteer(profile.user_id)) >= self.max_pairs:
                continue
            suggestion = score(profile, child, support, areas)
            if suggestion.score > 0:
                ranked.append(suggestion)
        ranked.sort(key=lambda item: (-item.score, item.volunteer_id))
        return ranked[:SUGGESTIONS]

    async def _area_names(self, child: Child) -> tuple[str, ...]:
        org = await self.orgs.get(child.org_id)
        names = [org.name]
        if org.parent_id is not None:
            names.append((await self.orgs.get(org.parent_id)).name)
        return tuple(names)

    # ---- profiles -----------------------------------------------------------------------------------
    async def profile(self, user_id: int) -> VolunteerProfile | None:
        return await self.profiles.get(user_id)

    async def save_profile(self, profile: VolunteerProfile) -> None:
        async with self.db.transaction():
            await self.profiles.put(profile, self.clock.now())

    async def confirm_counsellor(self, actor_id: int, user_id: int) -> None:
        """A cadre confirms a counsellor's training (the seed's 52 trained local counsellors)."""
        if not await self.permissions.member_org_ids(actor_id) and not await self.permissions.is_county_admin(actor_id):
            raise PermissionDenied("sunshine.not_cadre_anywhere")
        async with self.db.transaction():
            if not await self.profiles.confirm_counsellor(user_id, actor_id, self.clock.now()):
                raise DomainError("sunshine.not_counsellor")
            await self.audit.record(self.clock.now(), actor_id, "volunteer.counsellor", f"person:{user_id}")


def score(profile: VolunteerProfile, child: Child, support: Support, areas: tuple[str, ...]) -> Suggestion:
    """How well a volunteer fits a child's needs, and why (pure: the ranking's one rule)."""
    reasons: list[tuple[str, str]] = []
    points = 0
    skills = {skill.casefold() for skill in profile.skills}
    for need in child.needs:
        if need.casefold() in skills:
            points += 3
            reasons.append(("skill", need))
    if profile.kind is not None and profile.kind in _SUITS[support]:
        points += 2
        reasons.append(("kind", profile.kind.value))
    if profile.kind is VolunteerKind.COUNSELLOR and profile.counsellor_confirmed and support is Support.COUNSELLING:
        points += 1
        reasons.append(("trained", ""))
    free = [value for value in profile.availability if value in (Availability.WEEKENDS, Availability.HOLIDAYS)]
    if free:
        points += 1
        reasons.append(("available", free[0].value))
    if profile.home_area and any(profile.home_area in area or area in profile.home_area for area in areas):
        points += 2
        reasons.append(("area", profile.home_area))
    return Suggestion(profile.user_id, points, tuple(reasons))
