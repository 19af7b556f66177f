"""`flask air …`: fetch Air4Thai's readings once, and check (or preview) haze alerts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from bot.air.service import alerts, refresh
from bot.deps import deps_of

air_cli = AppGroup("air", help="Live air quality: Air4Thai readings and haze alerts.")


@air_cli.command("refresh")
def refresh_command() -> None:
    """Fetch Air4Thai once; prints the number of stations stored on the last line."""
    report = refresh(deps_of())
    click.echo(report.describe(), err=bool(report.error))
    click.echo(str(report.stored))
    if report.error:
        sys.exit(1)


@air_cli.command("alerts")
@click.option("--dry-run", is_flag=True, help="Show who would be alerted, per district; store and send nothing.")
def alerts_command(dry_run: bool) -> None:
    """Make and send the haze alerts that are due now (as the worker does every few minutes)."""
    report = alerts(deps_of(), dry_run=dry_run)
    click.echo(report.describe(dry_run))
