"""Every command of the CLI tree follows one convention for its shared options.

-o/--output is the output format (a subset of gpukit.cli._options.Format), --out the
destination, --fleet one declared option; flags show no metavar; no option uses typer's
own Enum check (one parsing style); the tree is the one gpukit.cli.COMMANDS declares.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from gpukit.cli import COMMANDS, app, build_command, main, register
from gpukit.cli._options import CLUSTER_FLEET_HELP, FLEET_HELP, Format

ROOT = Path(__file__).resolve().parents[2]

# Commands whose --fleet defaults to the cluster they connect to.
CLUSTER_COMMANDS = {"gpukit submit", "gpukit status", "gpukit verify", "gpukit wait"}


def _leaves(command, path: str = "gpukit"):
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from _leaves(sub, f"{path} {name}")
    else:
        yield path, command


LEAVES = list(_leaves(build_command()))
IDS = [path for path, _ in LEAVES]


def _options(command):
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option"]


def test_the_tree_is_the_declared_one():
    declared = sorted(name for _, names in COMMANDS for name in names)
    assert sorted(build_command().commands) == declared
    # Groups are walked down to their sub-commands.
    assert {"gpukit mig plan", "gpukit platform render", "gpukit calibrate run"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=IDS)
def test_output_is_the_format_and_out_the_destination(path, command):
    formats = {f.value for f in Format}
    for option in _options(command):
        opts = set(option.opts) | set(option.secondary_opts)
        if "-o" in opts or "--output" in opts:
            assert opts == {"-o", "--output"}, f"{path}: -o and --output go together: {opts}"
            metavar = option.metavar or ""
            assert metavar.startswith("[") and metavar.endswith("]"), f"{path}: {metavar!r}"
            offered = set(metavar[1:-1].split("|"))
            assert offered <= formats, f"{path}: -o offers {offered - formats}, not formats"
            assert option.default is None, f"{path}: -o's default is chosen by the command"
        if "--out" in opts:
            assert opts == {"--out"}, f"{path}: --out has no short form ({opts})"
            assert option.metavar in ("DIR", "FILE"), f"{path}: --out metavar {option.metavar!r}"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=IDS)
def test_fleet_is_one_declared_option(path, command):
    for option in _options(command):
        if "--fleet" not in option.opts:
            continue
        assert set(option.opts) == {"--fleet", "-f"}, path
        assert option.metavar == "FLEET" and option.default is None, path
        expected = CLUSTER_FLEET_HELP if path in CLUSTER_COMMANDS else FLEET_HELP
        assert option.help == expected, f"{path}: --fleet declared apart from the shared one"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=IDS)
def test_fixed_choices_are_parsed_one_way(path, command):
    for param in command.params:
        assert not param.type_descriptor.is_choice, (
            f"{path} {param.opts}: a typer Enum option; take a str and call parse_choice"
        )


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=IDS)
def test_help_shows_no_metavar_for_flags(path, command, capsys):
    flags = [o for o in _options(command) if o.is_flag]
    assert all(o.metavar == "" for o in flags), path
    _main_ok([*path.split()[1:], "--help"])
    text = capsys.readouterr().out
    assert "--help" in text
    assert "<bool>" not in text, f"{path} --help shows a metavar for a flag"
    for line in text.splitlines():
        if "--help" in line:
            assert "<" not in line.split("--help", 1)[1].split("Show")[0], line


def _main_ok(argv: list[str]) -> None:
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code in (0, None)


def test_root_help_has_no_flag_metavar(capsys):
    _main_ok(["--help"])
    text = capsys.readouterr().out
    assert "<bool>" not in text and "--version" in text


def test_a_module_that_fails_to_import_is_loud(monkeypatch, capsys):
    monkeypatch.delenv("GPUKIT_DEBUG", raising=False)
    monkeypatch.setattr("gpukit.cli._BROKEN", [])
    broken = typer.Typer(name="t")

    @broken.command("ok")
    def _ok() -> None:
        typer.echo("ok ran")

    register(broken, (("gpukit.cli.no_such_module", ("ghost",)),))
    command = build_command(broken)
    assert "ghost" in command.commands
    err = capsys.readouterr().err
    assert "gpukit.cli.no_such_module failed to import" in err
    with pytest.raises(Exception, match="gpukit ghost is unavailable: gpukit.cli.no_such_module"):
        command.main(["ghost"], standalone_mode=False)


def test_a_broken_module_with_debug_raises(monkeypatch):
    monkeypatch.setenv("GPUKIT_DEBUG", "1")
    with pytest.raises(ModuleNotFoundError):
        register(typer.Typer(), (("gpukit.cli.no_such_module", ("ghost",)),))


def test_a_module_that_registers_other_commands_is_a_bug():
    with pytest.raises(
        RuntimeError, match="gpukit.cli.size registered \\['size'\\].*declares \\['sizing'\\]"
    ):
        register(typer.Typer(), (("gpukit.cli.size", ("sizing",)),))


def test_the_real_tree_reports_no_broken_module():
    result = subprocess.run(
        [sys.executable, "-m", "gpukit", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""


def test_app_and_main_build_the_same_tree():
    assert sorted(typer.main.get_command(app).commands) == sorted(build_command().commands)


def test_a_short_option_means_one_thing_across_the_tree():
    meanings: dict[str, set[str]] = {}
    for path, command in LEAVES:
        for option in _options(command):
            longs = [o for o in option.opts if o.startswith("--")]
            for short in (o for o in option.opts if not o.startswith("--")):
                meanings.setdefault(short, set()).update(f"{lng}" for lng in longs)
    assert {s: m for s, m in meanings.items() if len(m) != 1} == {}
    assert meanings["-o"] == {"--output"} and meanings["-f"] == {"--fleet"}
