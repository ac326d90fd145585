"""The Journeykit web app: store events, provider webhooks, and the customer pages behind
the links in our messages. ``create_app(settings, runtime=None)``; ``journeys serve``.
``app_from_environment`` is the ASGI factory every uvicorn worker process calls
(``uvicorn --factory journeykit.web.app:app_from_environment --workers N``): each builds its
own app, runtime and connection pool from ``JOURNEYKIT_*``."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from journeykit.engine.runtime import Runtime
from journeykit.foundation.settings import Settings, get_settings
from journeykit.service.runtime_factory import build_runtime, worker_owner
from journeykit.web.busy_retry import BusyRetry
from journeykit.web.i18n import pick_locale
from journeykit.web.limits import BodyLimit
from journeykit.web.pages import message
from journeykit.web.routes import (
    actions,
    events,
    restock,
    review_photos,
    sendgrid,
    shopify,
    shortlinks,
    twilio,
    unsubscribe,
)
from journeykit.web.security_headers import SecurityHeaders
from journeykit.web.signup_limits import SignupLimits
from journeykit.web.state import Emitter, WebState, prefect_emitter

HERE = Path(__file__).parent
ROUTERS = (
    events,
    shopify,
    twilio,
    sendgrid,
    actions,
    shortlinks,
    restock,
    unsubscribe,
    review_photos,
)


def default_runtime(settings: Settings) -> Runtime:
    """A runtime from settings: the database, the system clock, the journeys directory,
    the project's registry."""
    return build_runtime(settings, owner=f"web:{worker_owner()}")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at this path (several routes may share a path)."""
    scope = {**request.scope, "method": "\x00"}
    methods: set[str] = set()
    routes = [*app.router.routes, *(r for m in ROUTERS for r in m.router.routes)]
    for route in routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= set(route_methods)
    return sorted(methods)


def api_docs_enabled(settings: Settings) -> bool:
    """``/docs`` and ``/openapi.json``: on outside production, off in production unless
    ``web.api_docs`` says so."""
    if settings.web.api_docs is not None:
        return settings.web.api_docs
    return settings.environment != "production"


def create_app(
    settings: Settings, runtime: Runtime | None = None, *, emit: Emitter | None = None
) -> FastAPI:
    """The app. ``emit`` replaces the Prefect emitter used when
    ``settings.web.event_delivery == "prefect"`` (tests pass a fake)."""
    docs = api_docs_enabled(settings)
    app = FastAPI(
        title="Journeykit",
        version="1.0",
        description="Store events, provider webhooks and customer action pages.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    if emit is None and settings.web.event_delivery == "prefect":
        emit = prefect_emitter
    app.state.web = WebState(
        settings=settings,
        runtime=runtime or default_runtime(settings),
        templates=Jinja2Templates(directory=str(HERE / "templates")),
        emit=emit,
    )
    app.state.signup_limits = SignupLimits(settings)
    app.add_middleware(BusyRetry)  # inside the body limit: it replays a bounded body
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.web.max_body_bytes,
        max_depth=settings.web.max_json_depth,
    )
    app.add_middleware(
        SecurityHeaders, content_security_policy=settings.web.content_security_policy
    )
    app.add_middleware(  # outermost: a plainly acceptable POST /events, held to the limits
        events.EventsFastPath,
        max_bytes=settings.web.max_body_bytes,
        max_depth=settings.web.max_json_depth,
    )
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 404 and wants_html:
            locale = pick_locale(accept_language=request.headers.get("accept-language"))
            return message(
                app.state.web,
                request,
                locale=locale,
                title_key="notfound.title",
                body_key="notfound",
                status_code=404,
            )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    return app


def app_from_environment() -> FastAPI:
    """The app from the settings in the environment (``JOURNEYKIT_*``): the ASGI factory of
    ``journeys serve --workers N``, called once in each worker process."""
    app = create_app(get_settings())
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Leave what startup built (imports, journeys, registry, templates: ~180,000 objects)
    out of the garbage collector's full passes, which otherwise walk all of it: ~50-140 ms
    each, a pause for every request in flight. Called once the app is built, before it
    serves; what requests allocate is collected as before."""
    gc.collect()
    gc.freeze()
