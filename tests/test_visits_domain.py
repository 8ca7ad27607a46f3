"""Verification-visit campaigns through the real services and database (the harness): the
household import's row report, 44 organisations into 7 teams, filing (resume, location,
photos, each outcome), two visitors at once, review, hand-back, close, export, verified list,
purge."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.visits.household_import import build_template_xlsx, parse_household_file
from bot.domain.visits.rules import form_teams, pairs
from bot.model.visits import Matches, Outcome, Step, VisitStatus
from storage.audit import AuditRepository
from tests.harness import COUNTY_ADMIN_ID
from tests.visits_world import CENTRES, PER_TOWNSHIP, TOWNSHIPS, build_county, household_rows, xlsx_bytes

ADMIN = COUNTY_ADMIN_ID


def test_form_teams_balances_44_orgs_into_7_teams_with_whole_townships():
    plans = form_teams(list(range(1, 45)), dict(enumerate(PER_TOWNSHIP, start=100)), 7)
    assert sorted(len(plan.org_ids) for plan in plans) == [6, 6, 6, 6, 6, 7, 7]
    assert sorted(t for plan in plans for t in plan.township_ids) == list(range(100, 107))
    assert all(len(plan.township_ids) == 1 for plan in plans)
    # The two teams of 7 organisations get the two largest townships.
    largest = {plan.township_ids[0] for plan in plans if len(plan.org_ids) == 7}
    assert largest == {100, 101}
    assert pairs([1, 2, 3, 4, 5, 6, 7]) == [(1, 2), (3, 4), (5, 6, 7)]


def test_import_reports_each_bad_row_and_column_and_imports_nothing():
    towns = {name: index for index, name in enumerate(TOWNSHIPS, start=1)}
    rows = household_rows((2, 0, 0, 0, 0, 0, 0))
    rows.append(["小外", "外县镇", "", "某大学", "", "", "", "", "", "", ""])  # row 4: not in the tree
    rows.append(list(rows[1]))  # row 5: the same student again
    rows.append(["小错", "城关镇", "", "某大学", "", "", "", "12345", "", "", ""])  # row 6: not a phone
    result = parse_household_file("h.xlsx", xlsx_bytes(rows), townships=towns, existing_keys=set())
    assert not result.ok and result.rows == ()
    found = [(p.row, p.column, p.key) for p in result.problems]
    assert found == [
        (4, "乡镇", "visit_import.township_unknown"),
        (5, "学生称呼", "visit_import.duplicate_in_file"),
        (6, "联系电话", "visit_import.phone_invalid"),
    ]
    # A problem never quotes a private value.
    assert all("12345" not in str(p.params) for p in result.problems)
    template = parse_household_file("t.xlsx", build_template_xlsx(), townships={"城关镇": 1}, existing_keys=set())
    assert template.ok and len(template.rows) == 2


async def _campaign(harness):
    services, clock = harness.services, harness.clock
    townships, orgs, heads = await build_county(services, clock)
    now = clock.now()
    campaign = await services.visits.create_campaign(
        ADMIN, "2026 年希望工程助学金走访核实", "希望工程助学金资格核实", now, now + timedelta(days=5), ("住房", "收入")
    )
    result = parse_household_file(
        "h.xlsx",
        xlsx_bytes(household_rows()),
        townships=await services.visits.township_names(),
        existing_keys=await services.visits.student_keys(ADMIN, campaign.id),
    )
    assert result.ok, result.problems[:3]
    await services.visits.import_households(ADMIN, campaign.id, result.rows)
    teams = await services.visits.form_teams(ADMIN, campaign.id)
    return campaign, teams, townships, heads


async def _file(services, user, household_id, *, outcome=Outcome.VERIFIED, far=False, stop_at=None):
    filing = await services.visits.start(user, household_id)
    visit_id = filing.visit.id
    await services.visits.answer_met(user, visit_id, outcome is not Outcome.UNREACHABLE)
    if outcome is not Outcome.UNREACHABLE:
        await services.visits.answer_matches(user, visit_id, Matches.YES)
        await services.visits.answer_match_note(user, visit_id, None)
        if stop_at == "items":
            return visit_id
        await services.visits.answer_item(user, visit_id, "砖房两间")
        await services.visits.answer_item(user, visit_id, "务农，年收入约一万元")
    lat, lon = CENTRES[0]
    await services.visits.answer_location(user, visit_id, lat + (1.0 if far else 0.01), lon)
    await services.visits.add_photo(user, visit_id, f"house-{household_id}")
    await services.visits.add_photo(user, visit_id, f"doc-{household_id}")
    await services.visits.photos_done(user, visit_id)
    filing = await services.visits.answer_outcome(user, visit_id, outcome)
    if outcome is not Outcome.VERIFIED:
        filing = await services.visits.answer_reason(
            user, visit_id, "家庭条件已改善" if outcome is Outcome.NOT_ELIGIBLE else "家中无人"
        )
    assert filing.visit.status is VisitStatus.SUBMITTED
    return visit_id


async def test_campaign_story(harness):
    services, clock = harness.services, harness.clock
    visits = services.visits
    campaign, teams, townships, heads = await _campaign(harness)
    assert len(teams) == 7 and sorted(len(team.org_ids) for team in teams) == [6, 6, 6, 6, 6, 7, 7]
    assert all(len(team.township_ids) == 1 for team in teams)
    households = await visits.repo.households(campaign.id)
    assert len(households) == 148 and all(h.team_id and h.pair for h in households)

    team = next(team for team in teams if townships["城关镇"] in team.township_ids)
    leader = team.leader_id
    visitor, mate = team.members[2].user_id, team.members[3].user_id  # pair 2 (the leader is in pair 1)
    stranger = next(head for head in heads if head not in {m.user_id for m in team.members})
    mine = [h for h, _, _ in await visits.my_households(visitor)]
    assert mine and all(h.township_id == townships["城关镇"] for h in mine)

    # Not assigned: refused; two visitors at once: one visit, the second is told.
    with pytest.raises(PermissionDenied):
        await visits.start(stranger, mine[0].id)
    with pytest.raises(PermissionDenied):
        await visits.household_details(stranger, mine[0].id)
    first = await visits.start(visitor, mine[0].id)
    with pytest.raises(DomainError) as taken:
        await visits.start(mate, mine[0].id)
    assert taken.value.key == "visits.taken"

    # Half-way, then resumed where it stopped.
    await visits.answer_met(visitor, first.visit.id, True)
    await visits.answer_matches(visitor, first.visit.id, Matches.PARTLY)
    with pytest.raises(DomainError):
        await visits.answer_match_note(visitor, first.visit.id, None)  # partly: a note is required
    await visits.answer_match_note(visitor, first.visit.id, "母亲已外出务工")
    resumed = await visits.start(visitor, mine[0].id)
    assert resumed.resumed and resumed.visit.step is Step.ITEM and resumed.next_item == "住房"

    # Each outcome; a far location is flagged, not refused.
    verified = await _file(services, visitor, mine[1].id)
    far = await _file(services, visitor, mine[2].id, far=True)
    not_eligible = await _file(services, mate, mine[3].id, outcome=Outcome.NOT_ELIGIBLE)
    unreachable = await _file(services, visitor, mine[4].id, outcome=Outcome.UNREACHABLE)
    assert (await visits.visit(far)).far and not (await visits.visit(verified)).far

    # Review: by the leader; has issues goes back to the visitor with a comment.
    with pytest.raises(PermissionDenied):
        await visits.review(visitor, verified, VisitStatus.APPROVED)
    assert (await visits.verified(mine[1].id)) is None  # verified only once approved
    await visits.review(leader, verified, VisitStatus.APPROVED)
    await visits.review(ADMIN, not_eligible, VisitStatus.APPROVED)
    await visits.review(leader, unreachable, VisitStatus.APPROVED)
    await visits.review(leader, far, VisitStatus.HAS_ISSUES, "请补拍房屋正面照片")
    queued = await services.outbox.result(f"visit-review:{far}:{clock.now().isoformat()}")
    assert queued is not None and queued.chat_id == visitor
    back = await visits.start(visitor, mine[2].id)
    assert back.resumed and back.visit.step is Step.OUTCOME
    await visits.answer_outcome(visitor, far, Outcome.VERIFIED)
    await visits.review(leader, far, VisitStatus.APPROVED)
    student = await visits.verified(mine[1].id)
    assert student is not None and student.alias == mine[1].alias and not student.campaign_closed
    assert {s.household_id for s in await visits.all_verified(campaign_id=campaign.id)} == {mine[1].id, mine[2].id}

    # Unreachable: visited again once the re-visit is due.
    with pytest.raises(DomainError):
        await visits.start(visitor, mine[4].id)
    clock.advance(days=1, minutes=1)
    again = await visits.start(visitor, mine[4].id)
    assert again.visit.round == 2

    # Progress for the hub.
    progress = await visits.progress(campaign.id)
    mine_team = next(p for p in progress.teams if p.team.id == team.id)
    assert (mine_team.assigned, mine_team.visited, mine_team.approved) == (
        PER_TOWNSHIP[0],
        3,
        3,
    )  # the unreached one is being visited again
    assert mine_team.kilometres is not None and progress.days_left == 4

    # A member leaves: their households go back to the leader (with their half-filed visit).
    moved = await visits.hand_back(visitor)
    assert moved >= len(mine) - 0
    assert all(h.holder == leader for h in await visits.repo.households(campaign.id) if h.id in {x.id for x in mine})
    handed = await visits.start(leader, mine[0].id)
    assert handed.resumed and handed.visit.visitor_id == leader

    # The daily reminder: visitors with households left; after the deadline, the overdue list.
    clock.advance(days=5)
    notice = await visits.notice_for(ADMIN, clock.now())
    assert notice.overdue and sum(count for _, count in notice.overdue[0].by_team) == 148 - 3

    # Close: the summary in the seed's words, the exports.
    summary = await visits.close(ADMIN, campaign.id)
    assert (summary.teams, summary.townships, summary.households) == (7, 7, 148)
    assert (summary.verified, summary.not_eligible, summary.unreached) == (2, 1, 145)
    with pytest.raises(DomainError):
        await visits.start(leader, mine[5].id)
    rows = await visits.outcome_rows(ADMIN, campaign.id)
    assert len(rows) == 148 and all(row.details is None and row.notes is None for row in rows)
    with pytest.raises(DomainError):
        await visits.outcome_rows(ADMIN, campaign.id, private_reason=" ")
    private = await visits.outcome_rows(ADMIN, campaign.id, private_reason="资助名单复核")
    assert all(row.details is not None for row in private)
    audit = await AuditRepository(services.db).for_subject(f"campaign:{campaign.id}")
    assert any(
        action == "visits.private_export" and details["reason"] == "资助名单复核" for _, _, action, details in audit
    )

    # Purged a configured time after the close: nothing private is left.
    assert await visits.purge_private(clock.now()) == 0
    clock.advance(days=91)
    assert await visits.purge_private(clock.now()) == 1
    for table in ("visit_household_private", "visit_private", "visit_photos"):
        assert await services.db.fetch_value(f"SELECT COUNT(*) FROM {table}") == 0
    assert (await visits.verified(mine[1].id)) is not None  # the verified list stays


async def test_two_visitors_starting_one_household_at_once_get_one_visit(harness):
    services = harness.services
    campaign, teams, townships, heads = await _campaign(harness)
    team = teams[0]
    first, second = team.members[2].user_id, team.members[3].user_id  # one pair
    household = [h for h, _, _ in await services.visits.my_households(first)][0]
    results = await asyncio.gather(
        services.visits.start(first, household.id), services.visits.start(second, household.id), return_exceptions=True
    )
    started = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert len(started) == 1 and len(refused) == 1 and refused[0].key == "visits.taken"
    assert await services.db.fetch_value("SELECT COUNT(*) FROM visits WHERE household_id = ?", (household.id,)) == 1


async def test_hand_back_moves_only_the_leavers_households_of_their_own_team(harness):
    services = harness.services
    campaign, teams, townships, heads = await _campaign(harness)
    leaver = teams[0].members[2].user_id
    before = {h.id: h for h in await services.visits.repo.households(campaign.id)}
    theirs = {h.id for h, _, _ in await services.visits.my_households(leaver)}
    assert await services.visits.hand_back(leaver) == len(theirs)
    after = {h.id: h for h in await services.visits.repo.households(campaign.id)}
    assert {i for i in after if after[i] != before[i]} == theirs
    assert all(after[i].holder == teams[0].leader_id for i in theirs)
    assert await services.visits.hand_back(leaver) == 0  # already gone: nothing moves again


def test_the_visits_configuration_is_checked():
    from bot.domain.config import ConfigError, parse_config

    assert parse_config('[visits]\nfar_km = 5\nreminder = ""\n').visits.far_km == 5.0
    for bad in ("far_km = 0", "purge_after_days = 0", 'reminder = "明天 9:00"', "unknown = 1"):
        with pytest.raises(ConfigError):
            parse_config(f"[visits]\n{bad}\n")


def test_the_service_is_the_funds_ledgers_verified_students_port():
    from bot.domain.verified_students import VerifiedStudents
    from bot.domain.visits import VisitService

    def port(service: VisitService) -> VerifiedStudents:  # mypy checks the protocol here
        return service

    assert callable(port)


async def test_the_daily_reminder_exists_only_while_a_campaign_is_open(harness):
    from bot.domain.visits import DAILY_SUBJECT

    services, clock = harness.services, harness.clock
    reminders = services.reminders.reminders

    async def kept() -> bool:
        found = await reminders.by_subject(DAILY_SUBJECT)
        return found is not None and found.state == "active"

    assert not await kept()
    await build_county(services, clock, organisations=7)
    now = clock.now()
    campaign = await services.visits.create_campaign(ADMIN, "走访", "核实", now, now + timedelta(days=5), ())
    assert await kept()
    await services.visits.close(ADMIN, campaign.id)
    assert not await kept()


async def test_the_turnover_duty_kind_moves_a_departing_cadres_households(harness):
    from bot.domain.visits.duty import VISIT, visit_duty_kind

    services = harness.services
    campaign, teams, townships, heads = await _campaign(harness)
    kind = visit_duty_kind(services.visits)
    team = teams[0]
    member = team.members[2]
    held = await kind.held(member.user_id, member.org_id)
    assert kind.name == VISIT and held and all(item.due_at == campaign.deadline for item in held)
    assert await kind.held(member.user_id, member.org_id + 10_000) == []  # another organisation: nothing
    async with services.db.transaction():  # the departure's transaction
        await kind.transfer(member.user_id, member.org_id, heads[-1], held)
    after = {h.id: h for h in await services.visits.repo.households(campaign.id)}
    assert all(after[item.subject_id].holder == team.leader_id for item in held)
    # The leader leaves: the receiver leads the team and gets the leader's households.
    leader = team.members[0]
    led = await kind.held(leader.user_id, leader.org_id)
    await kind.transfer(leader.user_id, leader.org_id, team.members[1].user_id, led)
    assert (await services.visits.repo.team(team.id)).leader_id == team.members[1].user_id
    after = {h.id: h for h in await services.visits.repo.households(campaign.id)}
    assert all(after[item.subject_id].holder == team.members[1].user_id for item in led)


async def test_a_visitor_removed_from_their_organisation_hands_their_households_to_the_team_leader(harness):
    """Cadre turnover (bot/domain/turnover.py): the visits register their duty kind, so a removal
    moves the departing visitor's households with everything else, recorded as one transfer."""
    services = harness.services
    campaign, teams, townships, heads = await _campaign(harness)
    member = next(m for m in teams[0].members if m.user_id != teams[0].leader_id and m.org_id is not None)
    theirs = {h.id for h, _, _ in await services.visits.my_households(member.user_id)}
    assert theirs
    held = await services.turnover.registry.held(member.user_id, member.org_id)
    assert {duty.subject_id for duty in held["visit"]} == theirs
    await services.membership.remove_member(COUNTY_ADMIN_ID, member.org_id, member.user_id, county_confirmed=True)
    after = {h.id: h for h in await services.visits.repo.households(campaign.id)}
    assert all(after[i].holder == teams[0].leader_id for i in theirs)
    assert await services.visits.my_households(member.user_id) == []
    moved = await services.db.fetch_value(
        "SELECT COUNT(*) FROM duty_transfers JOIN departures ON departures.id = departure_id"
        " WHERE kind = 'visit' AND departures.user_id = ?",
        (member.user_id,),
    )
    assert moved == len(theirs)
