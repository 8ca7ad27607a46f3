"""The sandbox's demo campaign: 21 households in 7 townships, 7 teams, its progress in the hub."""

from __future__ import annotations

from bot.practice.sandbox.runtime import Sandbox


async def test_the_sandbox_seeds_a_small_demo_campaign_with_its_progress_in_the_hub(tmp_path):
    async with Sandbox(tmp_path / "data", port=0, config_path=tmp_path / "no-config.toml") as sandbox:
        services = sandbox.services
        [campaign] = await services.visits.campaigns()
        progress = await services.visits.progress(campaign.id)
        assert (len(progress.teams), progress.assigned, progress.visited) == (7, 21, 0)
        assert campaign.hub_chat_id == sandbox.world.hub_chat_id and campaign.hub_message_id is not None
        # Every household can be visited: each team has members, each household its pair.
        households = await services.visits.repo.households(campaign.id)
        teams = {team.id: team for team in await services.visits.teams(campaign.id)}
        assert all(household.visitors(teams[household.team_id]) for household in households)
