"""`flask campaign …`: what the campaign office types to create, send and watch broadcasts."""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from bot import campaigns as cp
from bot.clock import bangkok_text
from bot.deps import deps_of
from bot.store.models import Campaign
from bot.worker import jobs_of, run_jobs

campaign_cli = AppGroup("campaign", help="Campaign broadcasts: create, send, watch, schedule.")


def _env(**overrides: Any) -> cp.SendEnv:
    return cp.SendEnv.from_deps(deps_of(), **overrides)


def _fail(e: Exception) -> None:
    raise click.ClickException(str(e))


@campaign_cli.command("create")
@click.option("--name", required=True, help="A name the office recognises it by.")
@click.option("--text", default="", help="The message (with --flex: the card's alt text, shown in notifications).")
@click.option("--text-en", default="", help="The message in English, for residents who chose English (optional).")
@click.option("--flex", "flex_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON file with one Flex container (bubble or carousel).")
@click.option("--audience", default="all", show_default=True,
              help="all | district:NAME | pledged | not_pledged | action:ID")
@click.option("--at", "at", default=None, help="When the worker sends it (ISO; Asia/Bangkok unless a zone is given). "
                                               "Without it the campaign waits for `campaign send ID`.")
@click.option("--checkin", is_flag=True, help="The weekly check-in reminder, for the pledged audience.")
@click.option("--dry-run", is_flag=True, help="Validate and show the audience size and quota; store nothing.")
def create_command(name: str, text: str, text_en: str, flex_file: Path | None, audience: str, at: str | None,
                   checkin: bool, dry_run: bool) -> None:
    """Create a campaign; prints its id on the last line."""
    content = deps_of().content
    env = _env()
    try:
        flex = None
        if flex_file is not None:
            try:
                flex = json.loads(flex_file.read_text(encoding="utf-8"))
            except ValueError as e:
                raise cp.CampaignError(f"{flex_file} is not JSON: {e}") from None
        when = cp.parse_at(at) if at else None
        if when is not None and when < env.clock():
            click.echo(f"note: {bangkok_text(when)} is in the past; the worker sends it at its next round", err=True)
        with env.db.session() as s:
            c = cp.create_campaign(s, content, name=name, text=text, flex=flex, audience=audience, at=when,
                                   text_en=text_en or None, content_en=deps_of().contents.en,
                                   checkin=checkin, now=env.clock())
            if dry_run:
                size = cp.count_audience(s, c.audience)
                s.rollback()
                limit, used = cp.read_quota(env.line)
                plan = cp.Plan(size, limit, used)
                click.echo(f"dry run: {cp.describe_audience(content, c.audience)}; {plan.describe()}")
                if not plan.fits:
                    click.echo("this send would be refused: it exceeds the month's quota", err=True)
                click.echo("nothing was stored")
                return
            campaign_id = c.id
            audience_text = cp.describe_audience(content, c.audience)
            state = f"scheduled for {bangkok_text(c.scheduled_at)}" if c.scheduled_at else \
                "draft: send it with `flask --app wsgi campaign send ID`"
    except cp.CampaignError as e:
        _fail(e)
    click.echo(f"campaign {name!r} to {audience_text}: {state}")
    click.echo(str(campaign_id))


@campaign_cli.command("send")
@click.argument("campaign_id", type=int)
@click.option("--dry-run", is_flag=True, help="Show the audience still to receive it and the quota; send nothing.")
def send_command(campaign_id: int, dry_run: bool) -> None:
    """Send a campaign now, or resume one that was cut off; nobody receives it twice."""
    env = _env()
    content = deps_of().content
    try:
        if dry_run:
            plan = cp.plan_send(env, campaign_id)
            with env.db.session() as s:
                c = s.get(Campaign, campaign_id)
                assert c is not None  # plan_send found it
                click.echo(f"dry run: campaign {campaign_id} ({c.status}) to {cp.describe_audience(content, c.audience)}")
            click.echo(plan.describe())
            if not plan.fits:
                click.echo("this send would be refused: it exceeds the month's quota", err=True)
            return
        report = _send_with_bar(env, campaign_id)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; resume with: flask --app wsgi campaign send {campaign_id}", err=True)
        sys.exit(130)
    except cp.CampaignError as e:
        _fail(e)
    click.echo(report.describe())
    if report.status != "done":
        click.echo(f"resume with: flask --app wsgi campaign send {campaign_id}", err=True)
        sys.exit(1)


def _send_with_bar(env: cp.SendEnv, campaign_id: int) -> cp.SendReport:
    bar_state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        bar = bar_state.get("bar")
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=f"campaign {campaign_id}", file=sys.stderr,
                                    show_pos=True, show_percent=True)
            bar.__enter__()
            bar_state["bar"], bar_state["pos"] = bar, 0
        if done > bar_state["pos"]:
            bar.update(done - bar_state["pos"])
            bar_state["pos"] = done

    try:
        return cp.send_now(env, campaign_id, progress=progress)
    finally:
        if "bar" in bar_state:
            bar_state["bar"].__exit__(None, None, None)


@campaign_cli.command("list")
def list_command() -> None:
    """Campaigns, newest first, with their state and delivery so far."""
    content = deps_of().content
    with deps_of().db.session() as s:
        rows = cp.list_rows(s)
        if not rows:
            click.echo("no campaigns yet")
            return
        click.echo(f"{'id':>5}  {'status':<11} {'when (Bangkok)':<21} {'sent':>10}  {'audience':<28} name")
        for c, sent in rows:
            when = bangkok_text(c.scheduled_at or c.created_at)
            click.echo(f"{c.id:>5}  {c.status:<11} {when:<21} {sent:>10,}  "
                       f"{cp.describe_audience(content, c.audience):<28} {c.name}")


@campaign_cli.command("status")
@click.argument("campaign_id", type=int)
def status_command(campaign_id: int) -> None:
    """One campaign: sent, pending, failed, progress."""
    content = deps_of().content
    try:
        with deps_of().db.session() as s:
            p = cp.progress_of(s, campaign_id)
            c = p.campaign
            click.echo(f"campaign {c.id}: {c.name}")
            click.echo(f"  status:    {c.status}" + (f" (by {c.claimed_by}, last sign of life {bangkok_text(c.claimed_at)})"
                                                     if c.status == "sending" else ""))
            click.echo(f"  audience:  {cp.describe_audience(content, c.audience)}" + (" (weekly check-in)" if c.checkin else ""))
            click.echo(f"  scheduled: {bangkok_text(c.scheduled_at)}   started: {bangkok_text(c.started_at)}   "
                       f"finished: {bangkok_text(c.finished_at)}")
            click.echo(f"  sent:      {p.sent:,}")
            click.echo(f"  pending:   {p.pending:,}")
            click.echo(f"  failed:    {p.failed:,}")
            click.echo(f"  progress:  {p.percent:.1f}%")
            for f in p.failures:
                click.echo(f"    {f}")
            if c.last_error:
                click.echo(f"  note:      {c.last_error}")
    except cp.CampaignError as e:
        _fail(e)


@campaign_cli.command("cancel")
@click.argument("campaign_id", type=int)
def cancel_command(campaign_id: int) -> None:
    """Stop a draft, scheduled or interrupted campaign from being sent (what went out stays sent)."""
    try:
        with deps_of().db.session() as s:
            if not cp.cancel(s, campaign_id):
                raise cp.CampaignError(f"campaign {campaign_id} cannot be cancelled now (sending, done or unknown)")
    except cp.CampaignError as e:
        _fail(e)
    click.echo(f"campaign {campaign_id} cancelled")


@campaign_cli.command("worker")
@click.option("--poll", default=15.0, show_default=True, help="Seconds between looks for due campaigns.")
@click.option("--once", is_flag=True, help="One round, then exit (tests, cron).")
def worker_command(poll: float, once: bool) -> None:
    """The background worker: scheduled campaigns (and every other periodic job); safe to run several at once."""
    stop = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        # A dyno restart: finish the batches in flight, hand the campaign back, exit.
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    deps = deps_of()
    try:
        run_jobs(deps, jobs_of(deps, poll), stop, once=once)
    except KeyboardInterrupt:
        stop.set()
