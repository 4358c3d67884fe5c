"""What every ``crab`` command shares: the help layout, and one group of options for an LLM backend.

``crab generate`` (its LLM stage), ``crab eval ...`` (the model under test, and a judge) and
``crab pairs`` (a policy to sample) all name a backend the same way::

    --backend openai --base-url http://host:8000/v1 --model M --api-key-env OPENAI_API_KEY \\
        --header 'api-key: ...' --concurrency 16 --timeout 120 --retries 3

(``crab eval`` takes a second set with the prefix ``--judge-``.) ``backend_settings`` turns them into
``make_backend`` settings.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "BACKEND_CHOICES", "HelpFormatter", "add_backend_options", "backend_from_args", "backend_settings", "suites_arg",
]

BACKEND_CHOICES = ("openai", "local", "vllm", "scripted")


def suites_arg(value: str) -> dict[str, float]:
    """``--types`` (``crab generate``, ``crab pairs``): suite name -> weight, or an argparse error."""
    from crabkit.constraints.suites import parse_suites

    try:
        return parse_suites(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (examples keep their lines); every option's help ends
    with its default when it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text.lower()
            or default in (None, False, True, "", [], argparse.SUPPRESS)
            or action.option_strings == []
        ):
            return text
        return f"{text} (default: %(default)s)"


def add_backend_options(
    parser: argparse.ArgumentParser,
    *,
    prefix: str = "",
    what: str = "the model under test",
    title: str | None = None,
    aliases: dict[str, list[str]] | None = None,
    dests: dict[str, str] | None = None,
    extra_choices: tuple[str, ...] = (),
    script: bool = True,
) -> argparse._ArgumentGroup:
    """The backend option group (see the module docstring). ``prefix`` ("judge-") names a second
    backend; ``aliases`` adds older spellings per option ("backend": ["--llm"]); ``dests`` renames
    where values land (for commands whose config already uses other names)."""
    aliases = aliases or {}
    dests = dests or {}
    attr = prefix.replace("-", "_")
    g = parser.add_argument_group(title or f"LLM backend for {what}")

    def option(name: str, **kw: Any) -> None:
        flags = [f"--{prefix}{name}", *aliases.get(name, [])]
        g.add_argument(*flags, dest=dests.get(name, f"{attr}{name.replace('-', '_')}"), **kw)

    option("backend", choices=(*BACKEND_CHOICES, *extra_choices), default=None,
           help=f"backend for {what}: openai (any OpenAI-compatible server: vLLM, SGLang, llama.cpp, hosted), "
                "local (transformers in this process), vllm (in this process), scripted (canned answers)")
    option("base-url", action="append", default=None, metavar="URL",
           help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (repeatable: requests go round-robin)")
    option("model", default=None, help="model name (openai, vllm) or directory / Hub id / .gguf (local)")
    option("api-key-env", default=None, metavar="VAR",
           help="environment variable holding the API key; the key is never written anywhere "
                "(default: OPENAI_API_KEY)")
    option("header", action="append", default=None, metavar="'NAME: VALUE'",
           help="extra HTTP header on every request (repeatable), e.g. 'api-key: ...' for Azure")
    option("concurrency", type=int, default=None, metavar="N", help="requests in flight at once (default: 16)")
    option("timeout", type=float, default=None, metavar="SECONDS", help="seconds per request (default: 120)")
    option("retries", type=int, default=None, metavar="N",
           help="retries per request after 429, 5xx, timeouts and dropped connections (default: 3)")
    if script:
        option("script", default=None, metavar="FILE",
               help="scripted backend: JSON file, a list of answers or {prompt: answer}")
    return g


def _headers(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"{flag} {name.strip()!r}: expected 'NAME: VALUE'")
        out[name.strip()] = value.strip()
    return out


def backend_settings(args: argparse.Namespace, prefix: str = "") -> tuple[str | None, dict[str, Any]]:
    """``(backend name, make_backend settings)`` from the ``prefix`` options; ``(None, {})`` without
    a backend. Options that do not apply to the chosen backend are an error naming them."""
    attr = prefix.replace("-", "_")

    def get(name: str) -> Any:
        return getattr(args, f"{attr}{name}", None)

    kind = get("backend")
    if kind is None:
        return None, {}
    network = {"base_url": get("base_url"), "api_key_env": get("api_key_env"), "header": get("header"),
               "concurrency": get("concurrency"), "timeout": get("timeout"), "retries": get("retries")}  # fmt: skip
    if kind != "openai":
        given = [f"--{prefix}{k.replace('_', '-')}" for k, v in network.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply to --{prefix}backend openai")
    model = get("model") or ""
    if kind == "scripted":
        return kind, {"model": model or "scripted", "script": _load_script(get("script")), "default": ""}
    settings: dict[str, Any] = {"model": model}
    if kind == "openai":
        if network["base_url"]:
            settings["base_url"] = list(network["base_url"])
        for key, name in (("api_key_env", "api_key_env"), ("concurrency", "max_concurrency"),
                          ("timeout", "timeout_s"), ("retries", "max_retries")):  # fmt: skip
            if network[key] is not None:
                settings[name] = network[key]
        headers = _headers(network["header"], f"--{prefix}header")
        if headers:
            settings["headers"] = headers
    return kind, settings


def backend_from_args(args: argparse.Namespace, prefix: str = "", cache: Path | None = None, *,
                      dry_run: bool = False) -> Any:  # fmt: skip
    """The backend the ``prefix`` options describe (cached in ``cache`` when given; with ``dry_run``,
    a wrapper that counts requests and sends none); None without a backend."""
    from crabkit.llm import make_backend

    kind, settings = backend_settings(args, prefix)
    if kind is None:
        return None
    if dry_run:
        cache = cache if cache is not None and Path(cache).exists() else None
        return make_backend(kind, cache=cache or ":memory:", dry_run=True, **settings)
    return make_backend(kind, cache=cache, **settings)


def _load_script(path: str | None) -> Any:
    if not path:
        return {}
    try:
        script = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the script ({exc})") from exc
    if not isinstance(script, (list, dict)):
        raise ValueError(f"{path}: a script is a JSON list of answers or an object {{prompt: answer}}")  # noqa: TRY004
    return script


def api_key_note(args: argparse.Namespace, prefix: str = "") -> str:
    """Where the key comes from, for messages (never the key itself)."""
    var = getattr(args, f"{prefix.replace('-', '_')}api_key_env", None) or "OPENAI_API_KEY"
    return f"${var} is {'set' if os.environ.get(var) else 'not set'}"
