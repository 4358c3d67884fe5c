"""The IFBench reference verifiers (``../shared/oracles/ifbench``), loaded offline for differential
tests and benches; never imported by the package.

The reference cannot be imported as it stands here: ``instructions.py`` creates a ``.nltk_data``
folder next to itself (the shared folder is read-only) and ``instructions_util`` calls
``nltk.download`` at import (no network). So the package is copied, unmodified, into a temporary
directory, NLTK's downloader is replaced by a no-op that records what was asked for, NLTK is
pointed at crabkit's Punkt files and at an NLTK ``corpora/stopwords/english`` written from
crabkit's bundled copy of NLTK's English stop-word list (``src/crabkit/data/nltk_stopwords_english.txt``,
the list ``ratio:stop_words`` counts with), and langdetect is seeded 0. Whatever NLTK data is still
missing (``missing_data()``: the part-of-speech tagger) makes the reference raise ``LookupError`` for
the types that need it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ORACLE = SHARED / "oracles" / "ifbench"
DATA = SHARED / "data" / "ifbench"

_LOADED: dict[str, object] = {}
_ASKED: list[str] = []


def oracle_missing() -> str | None:
    """Why the reference cannot be run here, or None when it can."""
    if not (ORACLE / "instructions_registry.py").is_file():
        return f"reference IFBench code not present under {ORACLE} (see shared/oracles/README.md)"
    for mod in ("nltk", "langdetect", "absl", "emoji", "syllapy"):
        try:
            __import__(mod)
        except ImportError:
            return f"the IFBench reference needs {mod}, which is not installed (it is in the dev extra)"
    return None


def _immutabledict_stand_in() -> None:
    try:
        import immutabledict  # noqa: F401
    except ImportError:
        module = types.ModuleType("immutabledict")
        module.immutabledict = lambda value: types.MappingProxyType(dict(value))  # type: ignore[attr-defined]
        sys.modules["immutabledict"] = module


def _stopwords_root(tmp: Path) -> Path:
    """An NLTK data root under ``tmp`` holding ``corpora/stopwords/english``: crabkit's copy of the list."""
    from importlib.resources import files

    root = tmp / "nltk_data"
    corpus = root / "corpora" / "stopwords"
    corpus.mkdir(parents=True)
    words = (files("crabkit") / "data" / "nltk_stopwords_english.txt").read_text(encoding="utf-8")
    (corpus / "english").write_text(words, encoding="utf-8")
    return root


def load_reference():
    """``(instructions_registry, evaluation_lib)`` of the reference, importable offline."""
    if "registry" in _LOADED:
        return _LOADED["registry"], _LOADED["evaluation_lib"]
    _immutabledict_stand_in()
    tmp = Path(tempfile.mkdtemp(prefix="crabkit-ifbench-oracle-"))
    shutil.copytree(ORACLE, tmp / "ifbench")
    for path in (tmp / "ifbench").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    import nltk
    from langdetect import DetectorFactory

    from crabkit import text

    def _no_download(name: str, *args, **kwargs) -> bool:
        _ASKED.append(name)
        return False

    nltk.download = _no_download  # type: ignore[assignment]
    root = str(text.punkt_dir())
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    nltk.data.path.insert(0, str(_stopwords_root(tmp)))
    DetectorFactory.seed = 0
    sys.path.insert(0, str(tmp))
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.FATAL)
    except ImportError:  # pragma: no cover - absl is in the dev extra
        pass
    from ifbench import evaluation_lib, instructions_registry

    _LOADED["registry"] = instructions_registry
    _LOADED["evaluation_lib"] = evaluation_lib
    return instructions_registry, evaluation_lib


def reference_verdict(
    instruction_id: str, kwargs: dict, prompt: str, response: str
) -> tuple[bool, bool] | str:
    """``(strict, loose)`` of the reference for one instruction, or the exception it raised as text
    (a crash is a verdict to compare too). ``None`` kwargs are dropped first, as the reference's strict
    pass does (its loose pass then sees the cleaned kwargs)."""
    _, lib = load_reference()
    clean = {k: v for k, v in kwargs.items() if v is not None}
    table = {prompt: response}
    try:
        strict = lib.test_instruction_following_strict(
            lib.InputExample(
                key=0, instruction_id_list=[instruction_id], prompt=prompt, kwargs=[dict(clean)]
            ),
            table,
        ).follow_instruction_list[0]
        loose = lib.test_instruction_following_loose(
            lib.InputExample(
                key=0, instruction_id_list=[instruction_id], prompt=prompt, kwargs=[dict(clean)]
            ),
            table,
        ).follow_instruction_list[0]
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"[:200]
    return bool(strict), bool(loose)


def missing_data() -> list[str]:
    """The NLTK resources the reference asked to download at import (none could be)."""
    return list(_ASKED)


if __name__ == "__main__":
    reason = oracle_missing()
    if reason:
        sys.exit(reason)
    registry, _ = load_reference()
    print(len(registry.INSTRUCTION_DICT), "reference instruction types; NLTK data missing:", missing_data())
