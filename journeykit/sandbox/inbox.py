"""The sandbox inbox: an HTML page of everything accepted, one page per message, and JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from journeykit.sandbox.shared import SandboxContext, get_context

router = APIRouter(tags=["inbox"])

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,  # also makes the email HTML safe inside the iframe's srcdoc attribute
)


@router.get("/", response_class=HTMLResponse)
def inbox_page(limit: int = 200, ctx: SandboxContext = Depends(get_context)) -> HTMLResponse:
    """All stored messages, newest first."""
    messages = ctx.store.messages(newest_first=True)[:limit]
    html = _env.get_template("inbox.html").render(messages=messages, count=ctx.store.count())
    return HTMLResponse(html)


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message_page(message_id: str, ctx: SandboxContext = Depends(get_context)) -> HTMLResponse:
    """One message: an email's HTML in a sandboxed iframe, text part and headers; an SMS with
    its segment count."""
    m = ctx.store.get(message_id)
    if m is None:
        raise HTTPException(404, f"No message {message_id}")
    html = _env.get_template("message.html").render(m=m, count=ctx.store.count())
    return HTMLResponse(html)


@router.get("/api/messages")
def api_messages(
    provider: str | None = None,
    to: str | None = None,
    ctx: SandboxContext = Depends(get_context),
) -> list[dict[str, object]]:
    """Stored messages as JSON, newest first, optionally filtered by provider and recipient."""
    return [m.to_json() for m in ctx.store.messages(provider, to, newest_first=True)]


@router.delete("/api/messages", status_code=204)
def api_clear(ctx: SandboxContext = Depends(get_context)) -> None:
    """Forget every stored message."""
    ctx.store.clear()
