"""The Procfile's worker process: periodic jobs (scheduled campaigns, and what other parts add).

Each part of the bot that needs background work declares a Job (bot/jobs.py: a name, how
often, and a function of the app's Deps and a stop event); `flask --app wsgi campaign worker` runs them all
in one loop, each at its own interval, until SIGTERM. A job that fails is logged and tried again
at its next turn; it never stops the others.
"""
from __future__ import annotations

import logging
import threading

from bot.air.service import alerts_job, refresh_job
from bot.campaigns.reminders import reminders_job
from bot.campaigns.service import worker_job
from bot.deps import Deps
from bot.jobs import Job

log = logging.getLogger(__name__)


def jobs_of(deps: Deps, poll: float) -> list[Job]:
    """Every job the worker runs; campaigns poll at `poll` seconds."""
    # Reminders first: a slot's campaign made in a round is sent in the same round.
    return [reminders_job(float(deps.config.get("REMINDER_POLL", 60.0))), worker_job(poll), refresh_job(), alerts_job()]


def run_jobs(deps: Deps, jobs: list[Job], stop: threading.Event, once: bool = False) -> None:
    """Run each job when due, until stop is set (or once: each job one time, errors raised)."""
    log.info("worker started: %s", ", ".join(f"{j.name} every {j.every:g} s" for j in jobs))
    while not stop.is_set():
        now = deps.monotonic()
        for job in jobs:
            if stop.is_set():
                break
            if job.next_at > now:
                continue
            job.next_at = now + job.every
            try:
                job.run(deps, stop)
            except Exception:
                if once:
                    raise
                log.exception("worker: %s failed; trying again in %g s", job.name, job.every)
        if once:
            break
        wait = min(j.next_at for j in jobs) - deps.monotonic()
        stop.wait(max(0.05, min(wait, 1.0)))
    log.info("worker stopped")
