"""The review form behind a ``review`` action link: 5 stars, name, title, text and an
optional photo (JPEG/PNG/WebP by its first bytes, size-limited; it waits for the brand's
approval before ``GET /reviews/{id}/photo`` serves it). Submitting saves a ``Review`` and
records the ``reviewed`` action (the waiting enrollment thanks the customer), then invites
them to review the order's other products and browse the store."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, UploadFile

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Order, Product, Review
from journeykit.messaging.signed_links import LinkError
from journeykit.service.events import record_action
from journeykit.web import csrf, flash
from journeykit.web.action_link import LinkNotFound, LinkView, open_link
from journeykit.web.i18n import translator
from journeykit.web.link_pages import link_problem, view_locale
from journeykit.web.pages import csrf_rejected, invalid_link, render
from journeykit.web.photo_images import PhotoRejected, clean_photo
from journeykit.web.review_moderation import PHOTO_PENDING
from journeykit.web.state import WebState, move_on

# The first bytes of each accepted image type, and the extension it is saved with.
IMAGE_MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


def image_type(head: bytes) -> str | None:
    for magic, ext in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _scope(session: Session, view: LinkView) -> dict[int, tuple[Product, int]]:
    """The products this link may review, each with the order it came in: the order's own,
    and (P1 ask once) those of the other orders the ask covered (``review_products``)."""
    scope: dict[int, tuple[Product, int]] = {}
    if view.order is None:
        return scope
    for product in view.products:
        scope[product.id] = (product, view.order.id)  # type: ignore[index,assignment]
    extra = view.enrollment.data.get("review_products") or []
    numbers = {str(item.get("order")) for item in extra if isinstance(item, dict)}
    if not numbers:
        return scope
    orders = {
        o.number: o.id
        for o in session.exec(
            select(Order).where(
                col(Order.number).in_(numbers), Order.customer_id == view.customer.id
            )
        ).all()
    }
    for item in extra:
        order_id = orders.get(str(item.get("order")))
        extra_product = session.get(Product, item.get("id")) if order_id else None
        if extra_product is not None and extra_product.id not in scope:
            scope[extra_product.id] = (extra_product, order_id)  # type: ignore[index,assignment]
    return scope


def _product(scope: dict[int, tuple[Product, int]], wanted: Any) -> Product | None:
    for product, _order_id in scope.values():
        if str(product.id) == str(wanted):
            return product
    if scope and wanted in (None, ""):
        return next(iter(scope.values()))[0]
    return None


def _reviewed(session: Session, view: LinkView, scope: dict[int, tuple[Product, int]]) -> set[int]:
    order_ids = {order_id for _product, order_id in scope.values()}
    rows = session.exec(
        select(Review.product_id, Review.order_id).where(
            Review.customer_id == view.customer.id,
            col(Review.order_id).in_(order_ids),
        )
    ).all()
    return {pid for pid, oid in rows if pid in scope and scope[pid][1] == oid}


def show(
    state: WebState,
    request: Request,
    session: Session,
    view: LinkView,
    locale: str,
    errors: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The form; ``errors`` and ``values`` of a submission sent back (post, redirect, get)."""
    values = values or {}
    wanted = values.get("product_id") or request.query_params.get("product")
    scope = _scope(session, view)
    product = _product(scope, wanted)
    if product is None or view.order is None:
        return invalid_link(state, request, locale=locale)
    if product.id in _reviewed(session, view, scope):
        return thanks(state, request, session, view, locale, product, already=True)
    kept: dict[str, Any] = {
        k: values[k] for k in ("rating", "name", "title", "body") if k in values
    }
    return form_page(state, request, view, locale, product, kept, errors or [])


def form_page(
    state: WebState,
    request: Request,
    view: LinkView,
    locale: str,
    product: Product,
    values: dict[str, Any],
    errors: list[str],
) -> Response:
    t = translator(locale)
    return render(
        state,
        request,
        "review.html",
        locale=locale,
        title=t("review.title", product=product.title),
        product=product,
        errors=errors,
        values={"rating": 0, "name": view.customer.first_name, "title": "", "body": "", **values},
        action_url=str(request.url.path),
        photo_mb=state.settings.web.review_photo_max_bytes // 10**6,
    )


def thanks(
    state: WebState,
    request: Request,
    session: Session,
    view: LinkView,
    locale: str,
    product: Product,
    *,
    already: bool = False,
) -> Response:
    t = translator(locale)
    scope = _scope(session, view)
    done = _reviewed(session, view, scope)
    mine = set(scope)
    browse = session.exec(select(Product).where(Product.url != "").limit(20)).all()
    # Only http(s) links reach a page (events refuse others; rows stored before may not).
    browse = [p for p in browse if p.url.lower().startswith(("https://", "http://"))]
    return render(
        state,
        request,
        "review_thanks.html",
        locale=locale,
        title=t("review.thanks_title"),
        heading=t("review.thanks_title"),
        body=t("review.already" if already else "review.thanks", product=product.title),
        to_review=[p for p, _order_id in scope.values() if p.id not in done],
        browse=[p for p in browse if p.id not in mine][:6],
        action_url=str(request.url.path),
    )


async def read_photo(form: FormData, limit: int) -> bytes | None:
    """The uploaded photo's first ``limit + 1`` bytes (enough to tell it is too large)."""
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(limit + 1)
    return None


def submit(
    state: WebState, request: Request, token: str, form: FormData, photo_data: bytes | None
) -> Response:
    with session_scope(state.runtime.engine) as session:
        try:
            view = open_link(session, state.secret, token, state.now())
        except (LinkError, LinkNotFound) as exc:
            return link_problem(state, request, exc, token=token)
        locale = view_locale(request, view)
        token_field = form.get(csrf.FIELD)
        rejected = csrf_rejected(state, request, token_field, locale=locale)
        if rejected is not None:
            return rejected
        scope = _scope(session, view)
        product = _product(scope, form.get("product_id"))
        if product is None or view.order is None:
            return invalid_link(state, request, locale=locale)
        if product.id in _reviewed(session, view, scope):
            return thanks(state, request, session, view, locale, product, already=True)
        values, errors, photo = _validate(state, form, photo_data, translator(locale))
        if errors:  # post, redirect, get: Back and reload work
            return flash.redirect_with_errors(
                state, request, errors, {**values, "product_id": product.id}
            )
        now = state.now()
        review = Review(
            customer_id=view.customer.id,  # type: ignore[arg-type]
            product_id=product.id,  # type: ignore[arg-type]
            order_id=scope[product.id][1],  # type: ignore[index]
            rating=values["rating"],
            name=values["name"],
            title=values["title"],
            body=values["body"],
            photo_path=_save_photo(state, photo) if photo else None,
            photo_status=PHOTO_PENDING if photo else None,  # shown once approved
            created_at=now,
        )
        if not _saved_once(session, review):
            if review.photo_path:
                Path(review.photo_path).unlink(missing_ok=True)
            return thanks(state, request, session, view, locale, product, already=True)
        ingested = record_action(
            session,
            now=now,
            customer_id=view.customer.id,  # type: ignore[arg-type]
            name="reviewed",
            key=f"{view.key}:reviewed",
            enrollment_id=view.enrollment.id,
            source="link",
            data={"product_id": product.id, "rating": values["rating"]},
        )
        session.flush()
        page = thanks(state, request, session, view, locale, product)
    move_on(state, ingested.routed.touched)
    return page


def _saved_once(session: Session, review: Review) -> bool:
    """Insert the review unless the same (customer, order, product) already has one: the
    unique index decides between concurrent submits, the losers answer "already received"."""
    try:
        with session.begin_nested():
            session.add(review)
    except IntegrityError:
        return False
    return True


def _validate(
    state: WebState, form: FormData, data: bytes | None, t: Any
) -> tuple[dict[str, Any], list[str], tuple[bytes, str] | None]:
    errors: list[str] = []
    raw = str(form.get("rating") or "")
    rating = int(raw) if raw in ("1", "2", "3", "4", "5") else 0
    body = str(form.get("body") or "").strip()
    values: dict[str, Any] = {
        "rating": rating,
        "name": str(form.get("name") or "").strip()[:100],
        "title": str(form.get("title") or "").strip()[:150],
        "body": body,
    }
    if not rating:
        errors.append(t("review.error_rating"))
    if not body or len(body) > 5000:
        errors.append(t("review.error_body"))
    photo = None
    if data:
        limit = state.settings.web.review_photo_max_bytes
        ext = image_type(data[:16])
        if len(data) > limit:
            errors.append(t("review.error_photo_size", mb=limit // 10**6))
        elif ext is None:
            errors.append(t("review.error_photo_type"))
        else:
            try:
                clean = clean_photo(
                    data,
                    max_side=state.settings.web.review_photo_max_side,
                    max_pixels=state.settings.web.review_photo_max_pixels,
                )
            except PhotoRejected as exc:
                key = (
                    "review.error_photo_pixels"
                    if exc.reason == "pixels"
                    else "review.error_photo_type"
                )
                errors.append(t(key))
            else:
                photo = (clean.data, clean.ext)
    return values, errors, photo


def _save_photo(state: WebState, photo: tuple[bytes, str]) -> str:
    data, ext = photo
    directory = state.settings.web.review_photos_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.{ext}"
    path.write_bytes(data)
    return str(path)
