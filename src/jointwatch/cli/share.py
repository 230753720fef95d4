"""`jointwatch share …`: partner entries shared under rules, their evidence, exchange files,
sharing groups and the links to other agencies' servers."""

from __future__ import annotations

import typer

from jointwatch.cli.output import Commands

share_app = typer.Typer(
    help="Share entries on terrorists with partners under a distribution, a TLP marking and handling codes; "
         "see where they went; exchange them with other tools and servers.",
    no_args_is_help=True)

# Sub-groups (evidence, groups, links, keys, export/import) are added below by their modules.

COMMANDS: Commands = [("share", share_app)]
