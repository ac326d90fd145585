"""Back-in-stock signups: ``POST /restock/signups`` (JSON with the API key from a store
backend, or the embeddable widget's form with its signed form token), the widget script
``GET /widget/restock.js`` and a demo page ``GET /widget/restock``. The consent wording the
shopper saw is stored with the signup (the widget's wording comes from our catalog)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from journeykit.messaging.phone import normalize_e164
from journeykit.web import csrf
from journeykit.web.auth import key_matches
from journeykit.web.i18n import pick_locale, supported, translator
from journeykit.web.pages import csrf_rejected, message, render
from journeykit.web.signup_confirmation import (
    ConfirmationInvalid,
    confirmation_key,
    product_title,
    read_confirmation,
    send_confirmation,
)
from journeykit.web.signup_limits import SignupLimits, allowed_origins, origin_of
from journeykit.web.state import WebState, get_state
from journeykit.web.store_events import accept_event

router = APIRouter(tags=["back in stock"])
STATIC = Path(__file__).resolve().parent.parent / "static"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
WIDGET_SALT = "journeykit.widget"
CORS = {"Access-Control-Allow-Origin": "*"}
# The catalog messages the widget shows (``restock.<name>``), in every language.
WIDGET_TEXTS = (
    "title",
    "email",
    "phone",
    "consent_email",
    "consent_sms",
    "submit",
    "done",
    "error",
)


# What the schema cannot say with properties alone: a channel needs its address, and a
# signup carries the consent wording (API key) or the widget's form token.
CONDITIONALLY_REQUIRED: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"channels": {"contains": {"const": "email"}}}},
            "then": {"required": ["email"]},
        },
        {
            "if": {"properties": {"channels": {"contains": {"const": "sms"}}}},
            "then": {"required": ["phone"]},
        },
        {"anyOf": [{"required": ["consent_wording"]}, {"required": ["form_token"]}]},
    ]
}


class SignupIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=CONDITIONALLY_REQUIRED)

    sku: str = Field(min_length=1, max_length=100)
    channels: list[Literal["email", "sms"]] = Field(min_length=1, max_length=2)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    locale: str = Field("en", max_length=10)
    customer_id: str | None = Field(None, max_length=100, description="API only")
    consent_wording: str | None = Field(None, max_length=2000, description="API: required")
    form_token: str | None = Field(None, max_length=500, description="widget only")

    @model_validator(mode="after")
    def contact_for_each_channel(self) -> SignupIn:
        self.email = (self.email or "").strip() or None
        self.phone = (self.phone or "").strip() or None
        if "email" in self.channels and not (self.email and EMAIL.match(self.email)):
            raise ValueError("email: a valid email address is needed for email alerts")
        if "sms" in self.channels:
            if not self.phone:
                raise ValueError("phone: a mobile number is needed for SMS alerts")
            self.phone = normalize_e164(self.phone)
        return self


def widget_token(state: WebState) -> str:
    return URLSafeTimedSerializer(state.secret, salt=WIDGET_SALT).dumps("restock")


def _widget_ok(state: WebState, token: str | None) -> bool:
    if not token:
        return False
    serializer = URLSafeTimedSerializer(state.secret, salt=WIDGET_SALT)
    try:
        serializer.loads(token, max_age=state.settings.web.widget_token_max_age_seconds)
    except BadSignature:
        return False
    return True


async def _read(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        data = json.loads(await request.body())
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data
    form = await request.form(max_files=0, max_fields=20)
    data = {k: v for k, v in form.items() if isinstance(v, str) and k != "channels"}
    data["channels"] = [v for v in form.getlist("channels") if isinstance(v, str)]
    return data


def _problem(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=CORS)


@router.post(
    "/restock/signups",
    status_code=202,
    responses={
        401: {"description": "no API key and no valid widget token"},
        422: {"description": "invalid signup (the field is named)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SignupIn.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": SignupIn.model_json_schema()},
            },
        }
    },
)
async def restock_signup(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """Sign a shopper up for a back-in-stock alert (JSON or form)."""
    try:
        signup = SignupIn.model_validate(await _read(request))
    except (ValueError, UnicodeDecodeError) as exc:
        detail: list[Any] = [{"loc": ["body"], "msg": str(exc)[:300], "type": "value_error"}]
        if isinstance(exc, ValidationError):
            detail = [
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False)
            ]
        return _problem(422, json.loads(json.dumps(detail, default=str)))
    by_api = key_matches(state, x_api_key)
    if not by_api and not _widget_ok(state, signup.form_token):
        return _problem(401, "send the API key (X-Api-Key) or the widget's form_token")
    origin = request.headers.get("origin")
    if (
        not by_api
        and origin is not None
        and origin_of(origin) not in allowed_origins(state.settings)
    ):
        return _problem(403, f"origin {origin[:200]!r} is not an allowed shop (web.shop_origins)")
    if by_api and not signup.consent_wording:
        return _problem(
            422,
            [
                {
                    "loc": ["body", "consent_wording"],
                    "msg": "required with the API: the exact consent text the shopper agreed to",
                    "type": "missing",
                }
            ],
        )
    locale = pick_locale(signup.locale)
    t = translator(locale)
    wording = (
        signup.consent_wording
        if by_api
        else "\n".join(t(f"restock.consent_{channel}") for channel in signup.channels)
    )
    ident = signup.customer_id if by_api and signup.customer_id else None
    ident = ident or (f"email:{signup.email}" if signup.email else f"phone:{signup.phone}")
    payload = {
        "type": "restock.signup",
        "customer": {"id": ident, "email": signup.email, "phone": signup.phone, "locale": locale},
        "sku": signup.sku,
        "channels": list(signup.channels),
        "consent_wording": wording,
        "source": "api" if by_api else "widget",
    }
    if not by_api:  # double opt-in: nothing is recorded until the shopper confirms
        return await _ask_to_confirm(state, request, payload, signup, t)
    answer = await run_in_threadpool(
        accept_event, state, payload, scope="restock", key=idempotency_key, source="widget"
    )
    return JSONResponse(answer.body, status_code=answer.status_code, headers=CORS)


async def _ask_to_confirm(
    state: WebState, request: Request, payload: dict[str, Any], signup: SignupIn, t: Any
) -> JSONResponse:
    """Rate-limit, then send each channel's confirmation (email link / text message link)."""
    limits: SignupLimits = request.app.state.signup_limits
    client = request.client.host if request.client else "unknown"
    addresses = [a for a in (signup.email, signup.phone) if a]
    hit = limits.check(addresses, client)
    if hit is not None:
        field = "phone" if hit == signup.phone or not signup.email else "email"
        kind = "rate_limited_client" if hit == "client" else "rate_limited_address"
        headers = {**CORS, "Retry-After": str(limits.retry_after_seconds(hit))}
        detail = [{"loc": ["body", field], "msg": t("restock.limited"), "type": kind}]
        return JSONResponse({"detail": detail}, status_code=429, headers=headers)
    sent = []
    for channel in signup.channels:  # each channel confirms its own signup and wording
        one = {**payload, "channels": [channel], "consent_wording": t(f"restock.consent_{channel}")}
        if await run_in_threadpool(send_confirmation, state, one, channel):
            sent.append(channel)
    if not sent:
        return _problem(503, "the confirmation could not be sent; please try again")
    body = {
        "status": "confirmation_sent",
        "channels": sent,
        "message": " ".join(
            t("restock.check_email" if c == "email" else "restock.check_phone") for c in sent
        ),
    }
    return JSONResponse(body, status_code=202, headers=CORS)


@router.get("/restock/confirm/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """The confirmation link: a page with one button (opening the link changes nothing, so
    a mail scanner that follows links signs nobody up)."""
    try:
        payload = read_confirmation(state, token[:4000])
    except ConfirmationInvalid:
        return _confirm_invalid(state, request)
    locale = pick_locale(str(payload["customer"].get("locale") or ""))
    t = translator(locale)
    product = product_title(state, str(payload["sku"]))
    return render(
        state,
        request,
        "restock_confirm.html",
        locale=locale,
        title=t("restock.confirm_title"),
        question=t("restock.confirm", product=product),
        action_url=str(request.url.path),
    )


@router.post("/restock/confirm/{token}", response_class=HTMLResponse)
async def confirm(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """Confirm: the signup is recorded (once, however often this is pressed)."""
    form = await request.form(max_files=0, max_fields=5)
    try:
        payload = read_confirmation(state, token[:4000])
    except ConfirmationInvalid:
        return _confirm_invalid(state, request)
    locale = pick_locale(str(payload["customer"].get("locale") or ""))
    rejected = csrf_rejected(state, request, form.get(csrf.FIELD), locale=locale)
    if rejected is not None:
        return rejected
    key = confirmation_key(token)
    answer = await run_in_threadpool(
        accept_event, state, payload, scope="restock", key=key, source="widget"
    )
    if answer.status_code >= 400:
        return _confirm_invalid(state, request, status_code=answer.status_code)
    product = product_title(state, str(payload["sku"]))
    return message(
        state,
        request,
        locale=locale,
        title_key="restock.confirmed_title",
        body_key="restock.confirmed",
        product=product,
    )


def _confirm_invalid(state: WebState, request: Request, status_code: int = 404) -> HTMLResponse:
    locale = pick_locale(accept_language=request.headers.get("accept-language"))
    return message(
        state,
        request,
        locale=locale,
        title_key="restock.confirm_invalid_title",
        body_key="restock.confirm_invalid",
        status_code=status_code,
    )


@router.get(
    "/widget/restock.js",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}},
)
def widget_script(
    state: WebState = Depends(get_state),
    locale: Annotated[str, Query(max_length=10)] = "en",
) -> Response:
    """The embeddable widget (a signed form token is built in; it is refreshed daily)."""
    config = {
        "endpoint": state.settings.web.public_base_url.rstrip("/") + "/restock/signups",
        "token": widget_token(state),
        "locale": pick_locale(locale),
        "texts": {
            code: {name: translator(code)(f"restock.{name}") for name in WIDGET_TEXTS}
            for code in supported()
        },
    }
    script = (STATIC / "restock.js").read_text(encoding="utf-8")
    body = script.replace("__CONFIG__", json.dumps(config, ensure_ascii=False))
    headers = {"Cache-Control": "public, max-age=3600", **CORS}
    return Response(body, media_type="application/javascript", headers=headers)


@router.get("/widget/restock", response_class=HTMLResponse)
def widget_demo(
    request: Request,
    state: WebState = Depends(get_state),
    sku: Annotated[str, Query(max_length=100)] = "DEMO-SKU",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """A demo page embedding the widget, as a store's product page would."""
    locale = pick_locale(lang, accept_language=request.headers.get("accept-language"))
    return render(
        state,
        request,
        "restock_demo.html",
        locale=locale,
        title=sku,
        product_title=sku,
        sku=sku,
        script_url="/widget/restock.js",
    )
