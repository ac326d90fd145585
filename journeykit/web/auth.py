"""API-key auth for store-to-Journeykit calls: ``X-Api-Key: <key>`` or
``Authorization: Bearer <key>`` (``JOURNEYKIT_WEB__API_KEY``)."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from journeykit.foundation.settings import PLACEHOLDER
from journeykit.web.state import WebState, get_state

api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="the API key")
bearer = HTTPBearer(auto_error=False, description="the API key as a bearer token")

UNAUTHORIZED: dict[int | str, dict[str, object]] = {
    401: {"description": "missing or wrong API key"}
}


def key_matches(state: WebState, given: str | None) -> bool:
    expected = state.settings.web.api_key.get_secret_value()
    if not given or not expected:
        return False
    if expected == PLACEHOLDER and state.settings.environment == "production":
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_api_key(
    request: Request,
    header_key: str | None = Depends(api_key_header),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    state: WebState = Depends(get_state),
) -> None:
    given = header_key or (credentials.credentials if credentials else None)
    if not key_matches(state, given):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key: send X-Api-Key or Authorization: Bearer",
            headers={"WWW-Authenticate": "Bearer"},
        )
