"""Render message templates: sandboxed Jinja, strict about undefined names, localized.

Naming (others depend on it): template ``delay_apology/apology`` in locale ``ko`` is
``templates/delay_apology/apology.ko.email.html`` (extends ``_layouts/email.html`` and fills
the blocks ``subject``, ``preheader`` and ``body``), optionally
``apology.ko.email.txt`` (the plain-text part; otherwise it is made from the HTML), and
``apology.ko.sms.txt``. Locales fall back from ``ko-KR`` to ``ko`` to ``en``.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import css_inline
from jinja2 import FileSystemLoader, StrictUndefined, Template, select_autoescape

from journeykit.templating.errors import TemplateRenderError, render_error
from journeykit.templating.filters import FALLBACK_LOCALE, FILTERS
from journeykit.templating.sandbox import HardenedEnvironment, TemplateLimits
from journeykit.templating.slots import (
    Slot,
    SlotPlan,
    Unfreezable,
    shape_key,
    slot_plan,
    slot_value,
)
from journeykit.templating.sms_segments import SmsSegments, gsm_friendly, segments
from journeykit.templating.text_part import anchor_text, anchors, html_to_text

log = logging.getLogger(__name__)
_R = TypeVar("_R")

Channel = Literal["email", "text", "sms"]
SUFFIXES: dict[str, str] = {"email": "email.html", "text": "email.txt", "sms": "sms.txt"}
_NAME = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")

__all__ = ["RenderedEmail", "RenderedSms", "TemplateRenderError", "TemplateRenderer"]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str
    locale: str  # the locale of the template used (after fallback)


@dataclass(frozen=True)
class RenderedSms:
    body: str
    locale: str
    segments: SmsSegments


# The first messages of every shape are also rendered directly and compared byte for byte;
# a difference turns shapes off for that template (and the direct render is what is sent).
SHAPE_CHECKS = 2
MAX_SHAPES = 256  # shapes kept (all dropped when full: a group makes one per locale)
# A style sheet whose selectors could read an attribute value (``a[href^=...]``): no shapes.
_ATTRIBUTE_SELECTOR = re.compile(r"<style\b[^>]*>[^<]*\[", re.IGNORECASE)
# Where CSS inlining reads a value (a style sheet, a style attribute): no slot may be there.
_STYLES = re.compile(
    r"<style\b[^>]*>.*?</style\s*>|\bstyle\s*=\s*(?:\"[^\"]*\"|'[^']*')",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class _Plan:
    template: Template
    plan: SlotPlan | None
    shapes: int = 0
    fills: int = 0
    layouts: tuple[Template, ...] = ()  # the compiled layouts the plan was made from
    checked: float = 0.0  # when they were last compared with the environment's


@dataclass
class _Shape:
    """A message rendered with a sentinel in each slot: its parts (an email's subject,
    preheader, HTML and text; an SMS's body), and how to fill them."""

    template: Template
    sentinels: dict[Slot, str]
    pattern: re.Pattern[str]
    parts: tuple[str, ...]
    rendered_length: int  # the rendered page or body with the sentinels
    occurrences: dict[Slot, int]
    # an email's links holding a slot: (attributes, inner HTML, their text with sentinels)
    links: tuple[tuple[str, str, str], ...] = ()
    checked: int = 0

    def fill(self, values: dict[Slot, str]) -> tuple[str, ...] | None:
        """The parts with ``values`` in their slots; None when a link's text part would be
        written differently with them (a label equal to its target, a ``mailto:``)."""
        if not self.sentinels:
            return self.parts
        lookup = {self.sentinels[slot]: value for slot, value in values.items()}

        def put(match: re.Match[str]) -> str:
            return lookup[match.group(0)]

        for attributes, inner, text in self.links:
            filled = anchor_text(self.pattern.sub(put, attributes), self.pattern.sub(put, inner))
            if filled != self.pattern.sub(put, text):
                return None
        return tuple(self.pattern.sub(put, part) for part in self.parts)

    def length_with(self, values: dict[Slot, str]) -> int:
        return self.rendered_length + sum(
            n * (len(values[slot]) - len(self.sentinels[slot]))
            for slot, n in self.occurrences.items()
        )


def _sentinels(plan: SlotPlan) -> dict[Slot, str]:
    nonce = secrets.token_hex(8)
    return {slot: f"Jk{nonce}s{i}E" for i, slot in enumerate(plan.slots)}


def _with_sentinels(values: dict[str, Any], sentinels: dict[Slot, str]) -> dict[str, Any]:
    shaped = dict(values)
    for (name, attribute), sentinel in sentinels.items():
        if attribute is None:
            shaped[name] = sentinel
        else:
            shaped[name] = {**shaped[name], attribute: sentinel}
    return shaped


def _entity_safe(text: str, pattern: re.Pattern[str]) -> bool:
    """No slot directly after an unfinished ``&...`` (a value could complete an entity that
    the text part or the subject's decoding would read)."""
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 64) : match.start()]
        amp = before.rfind("&")
        if amp >= 0 and ";" not in before[amp:]:
            return False
    return True


class _ReloadingEnvironment(HardenedEnvironment):
    """Checks whether a cached template's file changed at most once per
    ``reload_check_seconds`` (0: on every load, Jinja's own behaviour), instead of a ``stat``
    of the template and of its layout on every render."""

    def __init__(self, *, reload_check_seconds: float = 0.0, **options: Any) -> None:
        super().__init__(**options)
        self.reload_check_seconds = reload_check_seconds
        self._checked: dict[str, float] = {}

    def _load_template(self, name: str, globals: Any) -> Template:
        if self.reload_check_seconds > 0 and self.cache is not None and self.loader is not None:
            template = self.cache.get((weakref.ref(self.loader), name))
            checked = self._checked.get(name)
            now = time.monotonic()
            fresh = checked is not None and now - checked < self.reload_check_seconds
            if template is not None and fresh:
                if globals:
                    template.globals.update(globals)
                return template
            self._checked[name] = now
        return super()._load_template(name, globals)

    def checked_at(self, name: str) -> float | None:
        """When the file of template ``name`` was last checked for edits (monotonic), or
        None when every load checks it."""
        return self._checked.get(name) if self.reload_check_seconds > 0 else None


def locale_chain(locale: str | None) -> list[str]:
    """``ko-KR`` → ``["ko-KR", "ko", "en"]`` (``_`` is read as ``-``)."""
    tag = (locale or FALLBACK_LOCALE).strip().replace("_", "-") or FALLBACK_LOCALE
    chain = [tag, tag.split("-", 1)[0].lower(), FALLBACK_LOCALE]
    return list(dict.fromkeys(chain))


def _plain(fragment: str) -> str:
    """A rendered (escaped) block as one line of plain text, for subject and preheader."""
    return _SPACE.sub(" ", html.unescape(fragment)).strip()


class TemplateRenderer:
    """Compiled templates and resolved paths are cached: build one renderer and reuse it.
    With ``auto_reload`` an edited template file is recompiled (checked on every render, or
    at most once per ``reload_check_seconds``); a newly added locale file is seen after
    :meth:`clear_cache`."""

    def __init__(
        self,
        templates_dir: Path,
        *,
        auto_reload: bool = True,
        text_from_html: Callable[[str], str] = html_to_text,
        limits: TemplateLimits | None = None,
        reload_check_seconds: float = 0.0,
    ) -> None:
        self.templates_dir = Path(templates_dir).resolve()
        self.text_from_html = text_from_html
        self.env = _ReloadingEnvironment(
            reload_check_seconds=reload_check_seconds,
            limits=limits,
            loader=FileSystemLoader(self.templates_dir),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False),
            auto_reload=auto_reload,
            cache_size=2000,
            keep_trailing_newline=False,
        )
        self.env.filters.update(FILTERS)
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._paths: dict[tuple[str, str, str], tuple[Path, str] | None] = {}
        self._plans: dict[str, _Plan] = {}
        self._relative: dict[Path, str] = {}  # a resolved file's name for the loader
        # (template, locale, checked at, by which environment, for how long)
        self._loaded: dict[tuple[str, str, str], tuple[Template, str, float, Any, float]] = {}
        self._shapes: dict[tuple[Any, ...], _Shape] = {}

    def clear_cache(self) -> None:
        """Forget resolved paths and compiled templates (after adding or removing files)."""
        self._paths.clear()
        self._plans.clear()
        self._shapes.clear()
        self._relative.clear()
        self._loaded.clear()
        if self.env.cache is not None:
            self.env.cache.clear()

    def _resolve(self, name: str, channel: str, locale: str | None) -> tuple[Path, str] | None:
        key = (name, channel, locale or "")
        if key not in self._paths:
            if not _NAME.match(name) or name.startswith("_"):
                raise TemplateRenderError(f"bad template name {name!r}: write e.g. 'journey/step'")
            found = None
            for tag in locale_chain(locale):
                path = self.templates_dir / f"{name}.{tag}.{SUFFIXES[channel]}"
                if path.is_file():
                    found = (path, tag)
                    break
            self._paths[key] = found
        return self._paths[key]

    def template_path(self, name: str, channel: Channel, locale: str | None) -> Path | None:
        """The file used for ``name`` on ``channel`` (``email``, ``text`` for the plain-text
        override of an email, ``sms``) in ``locale`` after fallback; None when there is none."""
        found = self._resolve(name, channel, locale)
        return found[0] if found else None

    def _load(self, name: str, channel: str, locale: str | None) -> tuple[Template, str]:
        """The compiled template and its locale. Within ``reload_check_seconds`` of the
        environment's last check of that file, the one it would return, without asking it
        (its cache lookup, under a lock, cost more than the rest of an SMS render)."""
        key = (name, channel, locale or "")
        held = self._loaded.get(key)
        if held is not None and held[3] is self.env and time.monotonic() - held[2] < held[4]:
            return held[0], held[1]
        found = self._resolve(name, channel, locale)
        if found is None:
            tried = ", ".join(f"{name}.{tag}.{SUFFIXES[channel]}" for tag in locale_chain(locale))
            raise TemplateRenderError(f"no {channel} template {name!r} (looked for {tried})")
        path, tag = found
        relative = self._relative.get(path)
        if relative is None:
            relative = self._relative[path] = path.relative_to(self.templates_dir).as_posix()
        try:
            template = self.env.get_template(relative)
        except Exception as exc:
            raise render_error(exc, self.templates_dir, relative) from exc
        env = self.env
        checked = env.checked_at(relative) if isinstance(env, _ReloadingEnvironment) else None
        if checked is not None and isinstance(env, _ReloadingEnvironment):
            self._loaded[key] = (template, tag, checked, env, env.reload_check_seconds)
        return template, tag

    def _context(self, context: dict[str, Any], locale: str | None, tag: str) -> dict[str, Any]:
        """The reader's regional locale formats values when the template is in their language
        (``en-GB`` with an ``en`` template); a fallback template formats in its own locale."""
        requested = locale_chain(locale)[0]
        same_language = requested.split("-", 1)[0].lower() == tag.split("-", 1)[0].lower()
        return {**context, "locale": requested if same_language else tag}

    def render_email(
        self,
        name: str,
        locale: str | None,
        context: dict[str, Any],
        *,
        reuse_shape: bool = False,
    ) -> RenderedEmail:
        """The email ``name`` for ``context``. With ``reuse_shape`` (a send group: many
        recipients, one template and one subject) an email whose template only prints or
        tests the recipient's own values (``templating/slots.py``) is rendered, inlined and
        made into text once per shape, and each message fills in its values: the same bytes
        as a direct render (the first messages of each shape are compared with one)."""
        if reuse_shape:
            shaped = self._shaped_email(name, locale, context)
            if shaped is not None:
                return shaped
        template, tag = self._load(name, "email", locale)
        values = self._context(context, locale, tag)
        try:
            with self.env.render_scope():  # one time budget and output limit for all parts
                subject, preheader, page = self._email_parts(template, values)
        except Exception as exc:
            raise render_error(exc, self.templates_dir, template.name) from exc
        if not subject:
            raise TemplateRenderError("the email has an empty subject", template.filename, None)
        text_override = self._resolve(name, "text", tag)
        if text_override is not None and text_override[1] == tag:
            text = self._render_plain(self._load(name, "text", tag)[0], values)
        else:
            text = self.text_from_html(page)
        try:
            inlined = self._inliner.inline(page)
        except css_inline.InlineError as exc:
            raise TemplateRenderError(f"CSS inlining failed: {exc}", template.filename) from exc
        return RenderedEmail(subject, preheader, inlined, text, tag)

    def _shaped_email(
        self, name: str, locale: str | None, context: dict[str, Any]
    ) -> RenderedEmail | None:
        """The email from its shape, or None when it must be rendered directly."""
        template, tag = self._load(name, "email", locale)
        text_override = self._resolve(name, "text", tag)
        if text_override is not None and text_override[1] == tag:
            return None
        if self.text_from_html is not html_to_text:
            return None  # another converter may read the values in ways not followed here
        found = self._shape_for(template, tag, context, locale, self._make_email_shape)
        if found is None:
            return None
        shape, filled, planned = found
        if shape.length_with(filled) > self.env.limits.max_output // 2:
            return None
        parts = shape.fill(filled)
        if parts is None:
            return None
        subject, preheader, page, text = parts
        email = RenderedEmail(subject, preheader, page, text, tag)
        return self._checked(
            shape, planned, template, email, lambda: self.render_email(name, locale, context)
        )

    def _shape_for(
        self,
        template: Template,
        tag: str,
        context: dict[str, Any],
        locale: str | None,
        make: Callable[[Template, dict[str, Any], SlotPlan], _Shape | None],
    ) -> tuple[_Shape, dict[Slot, str], _Plan] | None:
        """The shape of ``template`` for this context and the recipient's values for its
        slots; None when the message must be rendered directly."""
        planned = self._plans.get(template.name or "")
        if planned is None or planned.template is not template or self._layouts_edited(planned):
            self._drop_shapes(template)
            try:
                plan = slot_plan(self.env, template.name or "")
                layouts = tuple(self.env.get_template(n) for n in plan.layouts) if plan else ()
            except Exception:  # the direct render reports it
                plan, layouts = None, ()
            planned = _Plan(template, plan, layouts=layouts, checked=time.monotonic())
            self._plans[template.name or ""] = planned
        if planned.plan is None:
            return None
        values = self._context(context, locale, tag)
        filled: dict[Slot, str] = {}
        for slot in planned.plan.slots:
            value = slot_value(values, slot)
            if value is None:
                return None
            filled[slot] = value
        if len(set(filled.values())) != len(filled):
            return None  # equal values: a link's label and target could be read as one
        try:
            key = (template.name, tag, shape_key(values, planned.plan))
        except Unfreezable:
            return None
        shape = self._shapes.get(key)
        if shape is None or shape.template is not template:
            if planned.shapes > 32 and planned.fills < 4 * planned.shapes:
                return None  # shapes that are not shared: not worth making
            shape = make(template, values, planned.plan)
            if shape is None:
                planned.plan = None
                return None
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[key] = shape
            planned.shapes += 1
        planned.fills += 1
        return shape, filled, planned

    def _layouts_edited(self, planned: _Plan) -> bool:
        """Whether a layout the plan was made from was recompiled since (an edited file:
        the environment is asked at most once per its reload window, as for templates)."""
        if not planned.layouts or planned.plan is None:
            return False
        now = time.monotonic()
        window = getattr(self.env, "reload_check_seconds", 0.0)
        if now - planned.checked < window:
            return False
        planned.checked = now
        try:
            current = [self.env.get_template(n) for n in planned.plan.layouts]
        except Exception:
            return True
        return any(a is not b for a, b in zip(current, planned.layouts, strict=True))

    def _drop_shapes(self, template: Template) -> None:
        for key, shape in list(self._shapes.items()):  # a copy: other threads may add
            if shape.template is template:
                self._shapes.pop(key, None)

    def _checked(
        self, shape: _Shape, planned: _Plan, template: Template, made: _R, direct: Callable[[], _R]
    ) -> _R:
        """``made`` from ``shape``; the first :data:`SHAPE_CHECKS` messages of each shape are
        also rendered directly and compared: on a difference the template's plan and shapes
        are dropped and the direct render is the answer."""
        if shape.checked >= SHAPE_CHECKS:
            return made
        shape.checked += 1
        rendered = direct()
        if rendered == made:
            return made
        log.warning("template %s: its shape differs from a direct render", template.name)
        planned.plan = None
        self._drop_shapes(template)
        return rendered

    def _make_email_shape(
        self, template: Template, values: dict[str, Any], plan: SlotPlan
    ) -> _Shape | None:
        sentinels = _sentinels(plan)
        pattern = re.compile("|".join(sentinels.values()) or "(?!)")
        try:
            with self.env.render_scope():
                subject, preheader, page = self._email_parts(
                    template, _with_sentinels(values, sentinels)
                )
            if not subject or _ATTRIBUTE_SELECTOR.search(page):
                return None
            if not all(_entity_safe(part, pattern) for part in (subject, preheader, page)):
                return None
            if any(pattern.search(style.group(0)) for style in _STYLES.finditer(page)):
                return None
            inlined = self._inliner.inline(page)
            text = self.text_from_html(page)
        except Exception:  # the direct render reports it
            return None
        occurrences = {slot: page.count(sentinel) for slot, sentinel in sentinels.items()}
        links = tuple(
            (attributes, inner, anchor_text(attributes, inner))
            for attributes, inner in anchors(page)
            if pattern.search(attributes) or pattern.search(inner)
        )
        parts = (subject, preheader, inlined, text)
        return _Shape(template, sentinels, pattern, parts, len(page), occurrences, links)

    def _make_sms_shape(
        self, template: Template, values: dict[str, Any], plan: SlotPlan
    ) -> _Shape | None:
        sentinels = _sentinels(plan)
        pattern = re.compile("|".join(sentinels.values()) or "(?!)")
        try:
            with self.env.render_scope(self.env.limits.max_sms):
                body = self._render_plain(template, _with_sentinels(values, sentinels))
        except Exception:  # the direct render reports it
            return None
        occurrences = {slot: body.count(sentinel) for slot, sentinel in sentinels.items()}
        return _Shape(template, sentinels, pattern, (body,), len(body), occurrences)

    def _shaped_sms(
        self, name: str, locale: str | None, context: dict[str, Any]
    ) -> RenderedSms | None:
        """The SMS from its shape (the body before its GSM-7 look-alikes are replaced and its
        segments counted, both done per message), or None to render it directly."""
        template, tag = self._load(name, "sms", locale)
        found = self._shape_for(template, tag, context, locale, self._make_sms_shape)
        if found is None:
            return None
        shape, filled, planned = found
        if shape.length_with(filled) > self.env.limits.max_sms // 2:
            return None
        parts = shape.fill(filled)
        if parts is None:
            return None
        body = gsm_friendly(parts[0])
        sms = RenderedSms(body, tag, segments(body))
        return self._checked(
            shape, planned, template, sms, lambda: self.render_sms(name, locale, context)
        )

    def render_sms(
        self,
        name: str,
        locale: str | None,
        context: dict[str, Any],
        *,
        reuse_shape: bool = False,
    ) -> RenderedSms:
        """The SMS ``name`` for ``context``; ``reuse_shape`` as for :meth:`render_email`."""
        if reuse_shape:
            shaped = self._shaped_sms(name, locale, context)
            if shaped is not None:
                return shaped
        template, tag = self._load(name, "sms", locale)
        with self.env.render_scope(self.env.limits.max_sms):
            body = self._render_plain(template, self._context(context, locale, tag))
        body = gsm_friendly(body)
        return RenderedSms(body, tag, segments(body))

    def _render_plain(self, template: Template, values: dict[str, Any]) -> str:
        try:
            rendered = template.render(values)
        except Exception as exc:
            raise render_error(exc, self.templates_dir, template.name) from exc
        lines = [line.rstrip() for line in rendered.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()

    def _email_parts(self, template: Template, values: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, preheader, page), in one template context: the two blocks first (a
        block this template does not fill is empty), then the whole page."""
        concat = self.env.concat
        context = template.new_context(values)
        try:
            subject, preheader = (
                _plain(concat(template.blocks[block](context))) if block in template.blocks else ""
                for block in ("subject", "preheader")
            )
            return subject, preheader, concat(template.root_render_func(context))
        except Exception:
            self.env.handle_exception()  # rewrites the traceback to template lines, re-raises
            raise
