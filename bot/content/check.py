"""`content check`: everything the loaders find, the intent contract, and what LINE would refuse."""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.loader import CONTENT_DIR, read_contents

# The English content is being written: until it lands, a missing English text falls back to
# Thai without failing the check. (Set to True by the commit that adds the English.)
REQUIRE_ENGLISH = True


def contract_intents(path: Path) -> tuple[list[str], str]:
    """The contract's intent ids: shared/contracts/intents.yaml beside the repo, else content/intents.yaml."""
    shared = path.resolve().parent.parent / "shared" / "contracts" / "intents.yaml"
    if shared.exists():
        raw = yaml.safe_load(shared.read_text(encoding="utf-8")) or {}
        return [str(k) for k in raw], str(shared)
    copy = path / "intents.yaml"
    if copy.exists():
        raw = yaml.safe_load(copy.read_text(encoding="utf-8")) or {}
        return [str(k) for k in (raw.get("intents") or [])], "content/intents.yaml"
    return [], ""


def check_content(path: Path | None = None) -> list[str]:
    """Every problem in content/, one line each: schema, sources, English, contract coverage, LINE limits, Flex."""
    path = Path(path) if path is not None else CONTENT_DIR
    contents, problems = read_contents(path, strict=True)
    if not REQUIRE_ENGLISH:
        problems = [p for p in problems if "missing English" not in p]
    intents, where = contract_intents(path)
    if not intents:
        problems.append("content/intents.yaml: missing; keep a copy of the contract's intent ids there")
    if contents is None:
        return problems
    content = contents.th
    copy = path / "intents.yaml"
    if where != "content/intents.yaml" and copy.exists():
        kept = set((yaml.safe_load(copy.read_text(encoding="utf-8")) or {}).get("intents") or [])
        if kept != set(intents):
            problems.append(f"content/intents.yaml: differs from {where}; update the copy")
    for intent in intents:
        if intent not in content.answers and intent not in content.flows:
            problems.append(f"content/answers.yaml: intent {intent!r} of the contract has no answer and is not "
                            "declared under flows")
    for intent in list(content.answers) + list(content.flows):
        if intents and intent not in intents:
            problems.append(f"content/answers.yaml: {intent!r} is not an intent of the contract ({where})")
    from bot.validate import check_rendering

    for view in (contents.th, contents.en):
        problems.extend(f"[{view.lang}] {x}" for x in check_rendering(view))
    return problems
