"""docs/settings.md, written from the ``Settings`` model: every variable, its default, its
meaning. ``python -m journeykit.foundation.settings_reference > docs/settings.md`` rewrites it;
tests/test_cli_settings.py fails when the file and the model disagree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretStr

from journeykit.foundation.settings import PROJECT_ROOT, Settings, variable

HEADER = """# Settings

Every setting is an environment variable (or a line of `.env` in the working directory), read
once per process into `journeykit.foundation.settings.Settings`, nested by concern:
`settings.<group>.<field>` is `JOURNEYKIT_<GROUP>__<FIELD>` (a double underscore between the
levels), e.g. `settings.database.url` is `JOURNEYKIT_DATABASE__URL`. Durations are in seconds
(`_seconds`), sizes in bytes (`_bytes`) or characters (`_chars`), rates per second
(`_per_second`); a dict is JSON
(`JOURNEYKIT_SENDING__QUIET_HOURS_BY_COUNTRY='{"FR": "20:00-10:00"}'`).
A bad value stops any `journeys` command with one line naming the variable;
`JOURNEYKIT_ENVIRONMENT=production` refuses placeholder secrets; a variable of the flat names
used before the nesting (`JOURNEYKIT_DATABASE_URL`, …) stops the process with its new name.
The sweep's schedule is not a setting: it is the `interval` of the `sweep` deployment in
`prefect.yaml` (60 s).

This file is written from the model: `python -m journeykit.foundation.settings_reference >
docs/settings.md`.
"""


def _default(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Path):
        try:
            return f"`<project>/{value.relative_to(PROJECT_ROOT).as_posix()}`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, dict):
        return f"`{json.dumps(value)}`"
    text = str(value).replace("|", "\\|")
    return f"`{text}`" if text else '`""`'


def _rows(model: BaseModel, path: list[str]) -> list[str]:
    rows = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows += _rows(value, [*path, name])
            continue
        kind = _type_name(field.annotation)
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{variable([*path, name])}` | {kind} | {_default(value)} | {description} |")
    return rows


def reference() -> str:
    """The text of docs/settings.md, from the fields' defaults (not the environment)."""
    groups: dict[str, list[str]] = {}
    for name, field in Settings.model_fields.items():
        value = field.get_default(call_default_factory=True)
        title = name if isinstance(value, BaseModel) else "(top level)"
        groups.setdefault(title, [])
        if isinstance(value, BaseModel):
            doc = (type(value).__doc__ or "").split("\n\n")[0].replace("\n", " ").strip()
            groups[title].append(doc)
            groups[title] += _rows(value, [name])
        else:
            groups[title] += _rows_top(name, value, field.description or "")
    out = [HEADER]
    for title, lines in groups.items():
        out.append(f"\n## `{title}`\n" if title != "(top level)" else "\n## Top level\n")
        text = [line for line in lines if not line.startswith("|")]
        if text:
            out.append(text[0] + "\n")
        out.append("\n| Variable | Type | Default | Meaning |\n|---|---|---|---|")
        out += [line for line in lines if line.startswith("|")]
    return "\n".join(out) + "\n"


def _rows_top(name: str, value: Any, description: str) -> list[str]:
    kind = _type_name(Settings.model_fields[name].annotation)
    return [f"| `{variable([name])}` | {kind} | {_default(value)} | {description} |"]


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    if "Literal" in text:
        return " or ".join(f"`{v}`" for v in get_args(annotation))
    return getattr(annotation, "__name__", None) or text


if __name__ == "__main__":
    print(reference(), end="")
