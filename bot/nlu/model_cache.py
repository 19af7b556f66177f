"""The matcher's learnt models kept on disk between starts, under a hash of what they came from.

Learning thousands of phrases takes seconds; reading the result back takes a fraction of one.
The file's name is a hash of every content file the models learn from and of the matcher's own
code, so an edited phrase or a new version of the bot is a new file and never a stale model.
NumPy's .npz with pickling refused, not pickle: the file is data (arrays, and the rest as JSON),
read back without running anything. A cache that cannot be read or written is only logged: the
matcher then learns at start-up as before.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CODE = ("bank.py", "classifier.py", "entities.py", "matcher.py", "normalize.py", "model_cache.py")
_ARRAY = "__array__"


def path_for(cache_dir: Path, content_dir: Path) -> Path:
    """Where the models learnt from content_dir by this code are kept."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    files = [here / name for name in CODE]
    files += sorted((content_dir / "nlu").glob("*.yaml")) + sorted((content_dir / "bank").glob("*.yaml"))
    files += [content_dir / "districts.yaml", content_dir / "answers.yaml"]
    for f in files:
        if f.exists():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    try:
        from importlib.metadata import version

        h.update(version("pythainlp").encode())  # its dictionary shapes the words
    except Exception:  # noqa: S110 (no version: the files alone decide)
        pass
    return Path(cache_dir) / f"matcher-{h.hexdigest()[:20]}.npz"


def _split(x: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    """x as JSON-able data, its arrays moved into `arrays` (and a placeholder left behind)."""
    if isinstance(x, np.ndarray):
        arrays[path] = x
        return {_ARRAY: path}
    if isinstance(x, dict):
        return {k: _split(v, f"{path}/{k}", arrays) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_split(v, f"{path}/{i}", arrays) for i, v in enumerate(x)]
    return x


def _join(x: Any, arrays: Any) -> Any:
    if isinstance(x, dict):
        if set(x) == {_ARRAY}:
            return np.asarray(arrays[x[_ARRAY]])
        return {k: _join(v, arrays) for k, v in x.items()}
    if isinstance(x, list):
        return [_join(v, arrays) for v in x]
    return x


def read(path: Path) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            data = _join(meta, z)
        return data if isinstance(data, dict) else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as e:
        log.warning("matcher cache %s unreadable (%s); learning again", path.name, type(e).__name__)
        return None


def write(path: Path, state: dict[str, Any]) -> None:
    """Write atomically (a worker reading it never sees half a file); drop older caches."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta = _split(state, "", arrays)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".matcher-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __meta__=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        os.replace(tmp, path)
        for old in path.parent.glob("matcher-*"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as e:
        log.warning("matcher cache not written to %s (%s): the next start learns again", path.parent, type(e).__name__)
