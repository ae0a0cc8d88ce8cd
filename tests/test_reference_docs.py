"""The reference docs say what the code does: regenerated from the specs and --help, no drift.

On a failure, run ``python -m abtool.reference --write`` and review the diff.
"""

from __future__ import annotations

from abtool.commands import all_specs
from abtool.reference import CLI_DOC, README, cli_reference, readme_with_references


def test_cli_reference_matches_the_code() -> None:
    assert CLI_DOC.read_text(encoding="utf-8") == cli_reference()


def test_readme_tables_match_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    assert text == readme_with_references(text)


def test_every_command_with_checks_has_its_table_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for spec in all_specs():
        if spec.checks:
            assert f"<!-- reference:checks {spec.name} -->" in text, spec.name


def test_the_reference_names_every_option_and_check() -> None:
    reference = cli_reference()
    for spec in all_specs():
        for bound in spec.settings():
            assert f"`{bound.setting.flag}`" in reference
        for check in spec.checks:
            assert f"`{check.id}`" in reference
