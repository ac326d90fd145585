"""``GET /reviews/{id}/photo``: a review's photo, once the brand has approved it
(``journeys reviews approve ID``). Pending, rejected, missing or unknown: 404, never the
image. Served with the type its first bytes had at upload, ``nosniff``, and cached for an
hour (a photo rejected after approval may live that long in caches)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from journeykit.web.review_moderation import approved_photo
from journeykit.web.routes.review import image_type
from journeykit.web.state import WebState, get_state

router = APIRouter(tags=["customer pages"])
log = logging.getLogger(__name__)

SERVED_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}
NOT_FOUND_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _not_found(review_id: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"review {review_id} has no approved photo"},
        status_code=404,
        headers=NOT_FOUND_HEADERS,
    )


@router.get(
    "/reviews/{review_id}/photo",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        404: {"description": "no such review, no photo, or not approved"},
    },
)
async def review_photo(review_id: str, state: WebState = Depends(get_state)) -> Response:
    """The photo of review ``review_id`` if the brand approved it."""
    if not (review_id.isascii() and review_id.isdigit()) or len(review_id) > 18:
        return _not_found(review_id[:20])
    found = await run_in_threadpool(approved_photo, state.runtime.engine, int(review_id))
    if found is None:
        return _not_found(review_id)
    path, content_type = found
    try:
        data = await run_in_threadpool(path.read_bytes)
    except OSError as exc:
        log.warning("approved photo of review %s cannot be read: %s", review_id, exc)
        return _not_found(review_id)
    if image_type(data[:16]) is None:  # the file was replaced by something else
        log.warning("approved photo of review %s is not a JPEG/PNG/WebP any more", review_id)
        return _not_found(review_id)
    return Response(data, media_type=content_type, headers=SERVED_HEADERS)
