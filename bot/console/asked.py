"""What residents asked that the bot could not answer (viewer and up): the most frequent unmatched
texts, kept without any user id, with digits runs, emails and links masked. Senders and admins
mark a text reviewed, or send it to the content editors as a phrase for a topic: it is appended
to the review file (PHRASE_REVIEW_FILE, outside content/), which the editors merge by hand."""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.clock import bangkok_text
from bot.console.auth import requires, staff
from bot.console.web import audit, bp, deps, now
from bot.store import reports
from bot.store.models import AccountRole

SHOWN = 100
HEADER = ("# Phrases the campaign office sent from the console's \"What residents asked\" page.\n"
          "# text<TAB>intent: add each text under its intent in content/nlu/training.yaml, then run\n"
          "# flask --app wsgi content check and flask --app wsgi nlu eval content/nlu/eval.tsv.\n"
          "text\tintent\n")

_MASKS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(https?://|www\.)\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"[0-9๐-๙](?:[ \-]?[0-9๐-๙]){5,}"), "[number]"),  # phone and id numbers, not years
]


def masked(text: str) -> str:
    """The text with what could name or reach a person (emails, links, phone or id numbers) masked."""
    for rx, repl in _MASKS:
        text = rx.sub(repl, text)
    return text


def review_file() -> Path:
    configured = current_app.config.get("PHRASE_REVIEW_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "phrase-review.tsv"


def append_phrase(path: Path, text: str, intent: str) -> None:
    """One text<TAB>intent line, appended under a file lock (several workers may write)."""
    line = " ".join(text.split()).replace("\t", " ")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size == 0:
            os.write(fd, HEADER.encode("utf-8"))
        os.write(fd, f"{line}\t{intent}\n".encode())
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def topics() -> list[tuple[str, str]]:
    dp = deps()
    return [(i, dp.content.label_of(i) or i) for i in dp.matcher.intents if i != "out_of_scope"]


@bp.route("/asked")
def asked() -> ResponseReturnValue:
    """The most frequent texts the bot could not place, newest verdicts hidden unless asked for."""
    dp = deps()
    show_all = request.args.get("show") == "all"
    with dp.db.session() as s:
        groups = reports.unmatched_texts(s, dp.matcher.normalize)
        done = reports.reviews(s)
    rows = []
    for g in groups:
        review = done.get(g.key)
        if review is not None and not show_all:
            continue
        rows.append({"text": masked(g.text), "key": g.key, "count": g.count, "guess": g.guess,
                     "guess_label": dp.content.label_of(g.guess) if g.guess else None,
                     "last": bangkok_text(g.last_at), "review": review})
        if len(rows) >= SHOWN:
            break
    return render_template("console/asked.html", rows=rows, show_all=show_all, topics=topics(),
                           can_review=staff().can(AccountRole.SENDER), total=len(groups), reviewed=len(done),
                           review_file=str(review_file()))


@bp.route("/asked/review", methods=["POST"])
@requires(AccountRole.SENDER)
def asked_review() -> ResponseReturnValue:
    """Mark a text reviewed, or (with intent) send it to the editors as a phrase of that topic."""
    key = request.form.get("key", "")[:500]
    intent = request.form.get("intent") or None
    if intent is not None and intent not in dict(topics()):
        flash("Choose one of the topics.")
        return redirect(url_for("console.asked"))
    dp = deps()
    with dp.db.session() as s:
        groups = {g.key: g for g in reports.unmatched_texts(s, dp.matcher.normalize)}
        group = groups.get(key)
        if group is None:
            flash("That text is no longer in the list.")
            return redirect(url_for("console.asked"))
        if reports.add_review(s, key, intent, staff().id, now()):
            if intent:
                append_phrase(review_file(), masked(group.text), intent)
                audit(s, "phrase_added", target=intent, detail=f"review file {review_file().name}")
                flash(f"Added for the content editors as a phrase of “{dict(topics())[intent]}”.")
            else:
                audit(s, "text_reviewed")
                flash("Marked as reviewed.")
    return redirect(url_for("console.asked"))
