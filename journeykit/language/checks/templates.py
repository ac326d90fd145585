"""Checks on the templates a journey's send nodes use: the files exist (English required,
Korean and Japanese expected), parse, read only names the engine provides, use only the node's
``links.<action>``, fill the email blocks, and never ask for a carrier keyword by SMS."""

from __future__ import annotations

import re
from pathlib import Path

from journeykit.language.checks.sms_keywords import keyword_message, reserved_keywords
from journeykit.language.checks.template_scan import TemplateInfo, TemplateScanner
from journeykit.language.errors import Severity, SpecError, display_path, quoted_list, suggestion
from journeykit.language.loading import LoadedJourney
from journeykit.language.nodes import SendNode
from journeykit.language.scope import provided_names

REQUIRED_LOCALE = "en"
EXPECTED_LOCALES = ("ko", "ja")
SUFFIXES = {"email": "email.html", "sms": "sms.txt"}
TEXT_SUFFIX = "email.txt"
LAYOUT = "_layouts/email.html"
_NAME = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def template_errors(loaded: LoadedJourney, scanner: TemplateScanner) -> list[SpecError]:
    errors: list[SpecError] = []
    for index, node in enumerate(loaded.journey.nodes):
        if isinstance(node, SendNode):
            errors += _send_node(loaded, index, node, scanner)
    return errors


def _send_node(
    loaded: LoadedJourney, index: int, node: SendNode, scanner: TemplateScanner
) -> list[SpecError]:
    at = ("nodes", index, "template")
    name, root = node.template, scanner.templates_dir
    if not _NAME.match(name) or name.startswith("_") or "/_" in name:
        message = f"send node '{node.id}': '{name}' is not a template name"
        return [loaded.error(at, message, "write folder/name, e.g. delay_apology/apology")]
    suffix = SUFFIXES[node.channel]
    english = root / f"{name}.{REQUIRED_LOCALE}.{suffix}"
    if not english.is_file():
        message = f"send node '{node.id}' uses {node.channel} template '{name}', but "
        message += f"{display_path(english)} does not exist"
        close = suggestion(name, _template_names(root, suffix))
        hint = close.replace(" — did you mean", "did you mean") or f"create {display_path(english)}"
        return [loaded.error(at, message, hint)]
    errors = []
    for locale in EXPECTED_LOCALES:
        path = root / f"{name}.{locale}.{suffix}"
        if not path.is_file():
            message = f"{node.channel} template '{name}' has no {locale} version: "
            message += f"{display_path(path)} does not exist"
            hint = f"customers with locale {locale} get the English text until it is written"
            errors.append(loaded.error(at, message, hint, severity="warning"))
    for path in _locale_files(root, name, suffix) + _locale_files(root, name, TEXT_SUFFIX):
        relative = path.relative_to(root).as_posix()
        info = scanner.scan(relative)
        errors += info.errors
        errors += _names(info, loaded.journey.subject, scanner)
        errors += _links(info, node, scanner)
        if relative.endswith(SUFFIXES["email"]):
            errors += _email_blocks(info, scanner)
        if relative.endswith(SUFFIXES["sms"]):
            errors += _sms_keywords(info, scanner)
    return errors


def _locale_files(root: Path, name: str, suffix: str) -> list[Path]:
    folder, base = (root / name).parent, Path(name).name
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{base}.*.{suffix}"):
        locale = path.name[len(base) + 1 : -len(suffix) - 1]
        if _LOCALE.match(locale) and path.is_file():
            found.append(path)
    return sorted(found)


def _template_names(root: Path, suffix: str) -> list[str]:
    end = f".{REQUIRED_LOCALE}.{suffix}"
    if not root.is_dir():
        return []
    return [p.relative_to(root).as_posix()[: -len(end)] for p in root.rglob(f"*{end}")]


def _names(info: TemplateInfo, subject: str, scanner: TemplateScanner) -> list[SpecError]:
    provided = provided_names(subject)
    errors = []
    for name, (file, line) in info.names.items():
        if name in provided:
            continue
        article = "an" if subject[0] in "aeiou" else "a"
        message = f"the template uses '{name}', which {article} {subject} journey does not provide"
        hint = f"available names: {', '.join(sorted(provided))}"
        needle = rf"(?<![\w.]){re.escape(name)}\b"
        message += suggestion(name, provided)
        errors.append(scanner.error_at(file, line, message, hint, needle))
    return errors


def _links(info: TemplateInfo, node: SendNode, scanner: TemplateScanner) -> list[SpecError]:
    offered = [*node.actions, "unsubscribe"]
    errors = []
    for action, (file, line) in info.links.items():
        if action in offered:
            continue
        message = f"the template uses links.{action}, but send node '{node.id}' offers no "
        message += f"'{action}' action{suggestion(action, offered)}"
        hint = f"add {action} to its actions (now {quoted_list(node.actions) or 'none'})"
        needle = rf"links\s*(\.\s*|\[\s*['\"]){re.escape(action)}\b"
        errors.append(scanner.error_at(file, line, message, hint, needle))
    return errors


def _email_blocks(info: TemplateInfo, scanner: TemplateScanner) -> list[SpecError]:
    if not info.source or any(e.message.startswith("template syntax") for e in info.errors):
        return []
    errors = []
    if not info.parents:
        message = f"the email template does not extend the layout '{LAYOUT}'"
        hint = f'start it with {{% extends "{LAYOUT}" %}}'
        errors.append(scanner.error(info, 1, message, hint, "warning"))
    defined = set(info.blocks)
    for parent in info.parents[:-1]:
        defined |= set(scanner.scan(parent).blocks)
    required: tuple[tuple[str, Severity], ...] = (
        ("subject", "error"),
        ("body", "error"),
        ("preheader", "warning"),
    )
    for block, severity in required:
        if block not in defined:
            message = f"the email template has no '{block}' block"
            hint = f"add {{% block {block} %}}…{{% endblock %}}"
            errors.append(scanner.error(info, 1, message, hint, severity))
    if info.root_blocks:
        for block, line in info.blocks.items():
            if block not in info.root_blocks:
                message = f"block '{block}' is not in {info.parents[-1]}, so it never shows"
                message += suggestion(block, info.root_blocks)
                hint = f"the layout's blocks: {', '.join(sorted(info.root_blocks))}"
                errors.append(scanner.error(info, line, message, hint))
    return errors


def _sms_keywords(info: TemplateInfo, scanner: TemplateScanner) -> list[SpecError]:
    errors = []
    lines = info.source.splitlines()
    for use in reserved_keywords(info.source):
        message, hint = keyword_message(use.word)
        error = SpecError(str(info.path), use.line, use.col, message, hint)
        errors.append(error.with_source(lines))
    return errors
