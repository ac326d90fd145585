"""``journeys validate``'s check of the law labels in templates (``messaging/law.py``): a
transactional message must carry no ad label (it is not advertising, and a label there would
misdescribe it); a marketing template must not write one itself, since the composer adds the
label the *recipient's country* asks (a template is per language, not per country)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from journeykit.language.errors import Severity, SpecError, SpecErrors
from journeykit.language.loading import read_journey
from journeykit.language.nodes import SendNode
from journeykit.messaging.law import ad_labels_in

SUFFIXES = {"email": ("email.html", "email.txt"), "sms": ("sms.txt",)}


def template_files(templates_dir: Path, name: str, channel: str) -> list[Path]:
    folder, base = (templates_dir / name).parent, Path(name).name
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for suffix in SUFFIXES[channel]:
        found += [p for p in folder.glob(f"{base}.*.{suffix}") if p.is_file()]
    return sorted(found)


def label_errors(path: Path, category: str) -> list[SpecError]:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    errors = []
    severity: Severity
    for line, col, label in ad_labels_in(text):
        if category == "transactional":
            message = f"transactional template carries the ad label '{label}'"
            hint = "service messages (delay apology, backorder status) are not advertising"
            severity = "error"
        else:
            message = f"marketing template writes the ad label '{label}' itself"
            hint = "the composer adds the label the recipient's country asks (docs/sending.md)"
            severity = "warning"
        error = SpecError(str(path), line, col, message, hint, severity)
        errors.append(error.with_source(lines))
    return errors


def check_law_labels(journey_files: Iterable[Path], templates_dir: Path) -> list[SpecError]:
    """Label problems in the templates of every send node of the journeys."""
    errors: list[SpecError] = []
    seen: set[tuple[Path, str]] = set()
    for file in journey_files:
        try:
            journey = read_journey(file).journey
        except SpecErrors:
            continue  # the journey's own errors are reported by the other checks
        for node in journey.nodes:
            if not isinstance(node, SendNode):
                continue
            category = node.category or journey.category
            for path in template_files(templates_dir, node.template, node.channel):
                if (path, category) not in seen:
                    seen.add((path, category))
                    errors += label_errors(path, category)
    return errors
