"""`league-bot COMMAND --help` says what the command does, its options, and an example."""

from __future__ import annotations

import pytest

from bot.cli import parser

COMMANDS = ["run", "migrate", "backup", "check-config", "sandbox", "bench"]


def help_of(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as done:
        parser().parse_args([command, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_explains_itself_with_an_example(command, capsys):
    text = help_of(command, capsys)
    usage, description, *rest = text.split("\n\n")
    assert usage.startswith(f"usage: league-bot {command}")
    assert len(description.split()) >= 12, "a sentence or two on what it does"
    assert "options:" in text
    assert text.rstrip().split("\n\n")[-1].startswith(("example:", "examples:"))
    assert f"league-bot {command}" in text.rstrip().split("\n\n")[-1]


def test_run_and_check_config_name_the_token_variable(capsys):
    assert "TELEGRAM_BOT_TOKEN" in help_of("run", capsys)
    assert "TELEGRAM_BOT_TOKEN" in help_of("check-config", capsys)


def test_the_main_help_points_to_the_commands_help(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    assert "COMMAND --help" in " ".join(capsys.readouterr().out.split())
