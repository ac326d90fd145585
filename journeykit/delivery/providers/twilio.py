"""SMS through Twilio's Messages API, with the official ``twilio`` SDK.

``send`` and ``send_many`` never raise for provider errors; ``find_sent`` is the witness used
to reconcile a send that timed out (Twilio has no idempotency key). ``send_many`` (a dispatch
round's SMS) goes through the SDK's async path (``messages.create_async``) on one event loop
with a pooled ``aiohttp`` session: about half the CPU per SMS of a thread per request in
flight over ``urllib3`` (no thread switching, a C HTTP parser).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
import requests
import urllib3
import uvloop
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from journeykit.delivery.providers.base import ProviderLookupError, SendResult, SmsMessage

if TYPE_CHECKING:
    from journeykit.foundation.settings import Settings

__all__ = ["ProviderLookupError", "TwilioSmsSender"]


class _RecordingHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, made lean, remembering each thread's last response (for its
    headers: ``TwilioRestException`` does not carry ``Retry-After``).

    Requests go straight to a ``urllib3`` pool (keep-alive, as many connections per host as
    requests in flight, the SDK's timeout) instead of through ``requests``, whose preparing,
    merging and per-request reading of ``os.environ`` cost ~1 ms of CPU per SMS. urllib3's
    errors are raised as the ``requests`` exceptions the SDK path raises (the same mapping as
    ``requests.adapters.HTTPAdapter.send``), so the sender classifies outcomes exactly as
    before. With a proxy in the environment, requests go through ``requests`` as before."""

    def __init__(self, timeout: float, base_url: str = "", connections: int = 16) -> None:
        super().__init__(timeout=timeout, pool_connections=True)
        self._local = threading.local()
        self.proxy = get_environ_proxies(base_url) if base_url else {}
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=max(connections, 1),
            ca_certs=bundle or requests.certs.where(),
        )
        self._auth: dict[tuple[str, str], str] = {}

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._local.last = None
        if self.proxy:
            response = super().request(
                method, url, params, data, headers, auth, timeout, allow_redirects
            )
        else:
            response = self._send(method, url, params, data, headers, auth, timeout)
        self._local.last = response
        return response

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None,
        data: dict[str, object] | None,
        headers: dict[str, str] | None,
        auth: tuple[str, str] | None,
        timeout: float | None,
    ) -> Response:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        if params:
            url += ("&" if "?" in url else "?") + _form(params)
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        body: bytes | None = None
        if data is not None:
            kind = sent.get("Content-Type", "")
            if kind in ("application/json", "application/scim+json"):
                body = json.dumps(data).encode()
            else:
                body = _form(data).encode()
                sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = self._basic(auth)
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request(
                {"method": method.upper(), "url": url, "params": params, "headers": headers}
            )
        try:
            answer = self._pool.request(
                method.upper(),
                url,
                body=body,
                headers=sent,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=urllib3.Retry(0, read=False, redirect=False),
                redirect=False,
            )
        except MaxRetryError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectTimeoutError) and not isinstance(
                reason, NewConnectionError
            ):
                raise requests.exceptions.ConnectTimeout(exc) from exc
            raise requests.exceptions.ConnectionError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except (ProtocolError, OSError, HTTPError) as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        response = Response(
            int(answer.status), answer.data.decode("utf-8", "replace"), answer.headers
        )
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(response.status_code, response)
        return response

    @property
    def last(self) -> Response | None:
        """This thread's last response, if the last request got one."""
        return getattr(self._local, "last", None)

    def _basic(self, auth: tuple[str, str]) -> str:
        return _basic_header(self._auth, auth)


def _form(values: dict[str, object]) -> str:
    """``application/x-www-form-urlencoded`` as ``requests`` writes it: None left out, a list
    as repeated keys."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, v) for v in items if v is not None]
    return urlencode(pairs)


# The headers MessageList.create sends with its form
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}

# A pooled connection idle longer than this is not reused: a server that drops idle
# connections (uvicorn after 5 s) may close one just as a request goes out on it, and that
# request is then ambiguous (gone or not?) and must wait for reconcile. aiohttp keeps them 15 s.
KEEPALIVE_S = 2.0


class _AsyncHttpClient(AsyncHttpClient):
    """The SDK's async HTTP client over one pooled ``aiohttp`` session (created on the event
    loop that first uses it; no retries: a resend is the dispatcher's decision). Each task's
    last response is kept in a context variable (for ``Retry-After``, as the sync client
    keeps each thread's)."""

    def __init__(self, timeout: float, connections: int) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), is_async=True, timeout=timeout)
        self.connections = max(connections, 1)
        self._session: aiohttp.ClientSession | None = None
        self._auth: dict[tuple[str, str], str] = {}
        self.last: contextvars.ContextVar[Response | None] = contextvars.ContextVar(
            "twilio_last_response", default=None
        )

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.connections, keepalive_timeout=KEEPALIVE_S
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
                auto_decompress=False,
                trust_env=False,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.last.set(None)
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        if params:
            url += ("&" if "?" in url else "?") + _form(params)
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        body: bytes | None = None
        if data is not None:
            body = _form(data).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = _basic_header(self._auth, auth)
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request(
                {"method": method.upper(), "url": url, "params": params, "headers": headers}
            )
        async with self.session().request(
            method.upper(), url, data=body, headers=sent, allow_redirects=False
        ) as answer:
            text = (await answer.read()).decode("utf-8", "replace")
            response = Response(answer.status, text, answer.headers)
        self.last.set(response)
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(response.status_code, response)
        return response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _start_loop(owner: object, http: _AsyncHttpClient) -> asyncio.AbstractEventLoop:
    """An event loop running in its own daemon thread (callable from any thread, even one
    running a loop of its own), closed with its connections when ``owner`` is collected.
    libuv's loop (uvloop, as uvicorn uses at the door): its transports, timers and polling
    are C, where asyncio's are Python called for every request."""
    loop = uvloop.new_event_loop()
    threading.Thread(target=loop.run_forever, name="twilio-send-many", daemon=True).start()
    weakref.finalize(owner, _stop_loop, loop, http)
    return loop


def _stop_loop(loop: asyncio.AbstractEventLoop, http: _AsyncHttpClient) -> None:
    if loop.is_closed():
        return
    try:
        asyncio.run_coroutine_threadsafe(http.close(), loop).result(timeout=5)
    finally:
        loop.call_soon_threadsafe(loop.stop)


def _basic_header(cache: dict[tuple[str, str], str], auth: tuple[str, str]) -> str:
    header = cache.get(auth)
    if header is None:
        pair = f"{auth[0]}:{auth[1]}".encode("latin1")
        header = cache[auth] = "Basic " + base64.b64encode(pair).decode("ascii")
    return header


def _async_failure(exc: BaseException, timeout_s: float) -> SendResult:
    """What an ``aiohttp`` error says about an SMS, classified as the sync path's
    ``requests`` errors are: not connected (or no connection in time) -> surely not sent;
    no answer in time or the connection lost after sending -> ambiguous."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return SendResult("retry", error=f"connect timeout: {exc!r}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SendResult("retry", error=f"connection failed: {exc}")
    if isinstance(exc, TimeoutError):  # aiohttp's SocketTimeoutError is one
        return SendResult("ambiguous", error=f"no answer in {timeout_s} s: {exc!r}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return SendResult("ambiguous", error=f"connection lost: {exc!r}")
    return SendResult("ambiguous", error=f"unexpected answer: {exc!r}")


def _never_reached(exc: BaseException) -> bool:
    """Whether a connection error happened before anything was sent (refused, DNS...)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError | ConnectionRefusedError):
            return True
        stack.extend(a for a in e.args if isinstance(a, BaseException))
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        if e.__cause__ is not None:
            stack.append(e.__cause__)
    return False


class TwilioSmsSender:
    """An ``SmsSender`` posting to ``{base_url}/2010-04-01/Accounts/{sid}/Messages.json``.
    ``from_number`` is an E.164 number, or a Messaging Service SID (``MG...``)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str,
        *,
        from_number: str,
        timeout_s: float = 10.0,
        connections: int = 16,
    ) -> None:
        self.from_number = from_number
        self.timeout_s = timeout_s
        self._http = _RecordingHttpClient(timeout_s, base_url, connections)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._client.api.base_url = base_url.rstrip("/")
        self.connections = max(connections, 1)
        # send_many: the SDK's async path, on this sender's own loop in its own thread,
        # unless a proxy is configured (aiohttp here ignores the environment's)
        self._async_http = _AsyncHttpClient(timeout_s, connections)
        self._async_client = Client(account_sid, auth_token, http_client=self._async_http)
        self._async_client.api.base_url = base_url.rstrip("/")
        self._async_version = self._async_client.api.v2010
        self._messages_uri = f"/Accounts/{account_sid}/Messages.json"
        self._loop: asyncio.AbstractEventLoop | None = None  # started by the first send_many
        self._loop_pid = 0  # the process that started it (a forked child starts its own)
        self._loop_lock = threading.Lock()
        self._before: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSmsSender:
        """A sender configured from ``settings.providers.twilio`` and ``.sending``."""
        return cls(
            settings.providers.twilio.account_sid,
            settings.providers.twilio.auth_token.get_secret_value(),
            settings.providers.twilio.base_url,
            from_number=settings.sending.sms_from,
            timeout_s=settings.providers.timeout_seconds,
            connections=settings.sending.concurrency,
        )

    def _options(self, message: SmsMessage) -> dict[str, Any]:
        options: dict[str, Any] = {"to": message.to, "body": message.body}
        if message.validity_period_s is not None:
            options["validity_period"] = message.validity_period_s
        if message.status_callback:
            options["status_callback"] = message.status_callback
        if self.from_number.startswith("MG"):  # a Messaging Service picks the number
            options["messaging_service_sid"] = self.from_number
        else:
            options["from_"] = self.from_number
        return options

    def send(self, message: SmsMessage) -> SendResult:
        """Send one SMS and classify the outcome."""
        try:
            created = self._client.messages.create(**self._options(message))
        except TwilioRestException as exc:
            return self._from_rest_error(exc, self._http.last)
        except requests.exceptions.ConnectTimeout as exc:
            return SendResult("retry", error=f"connect timeout: {exc}")
        except requests.exceptions.ReadTimeout as exc:
            return SendResult("ambiguous", error=f"no answer in {self.timeout_s} s: {exc}")
        except requests.exceptions.ConnectionError as exc:
            if _never_reached(exc):
                return SendResult("retry", error=f"connection failed: {exc}")
            return SendResult("ambiguous", error=f"connection lost: {exc}")
        except (requests.exceptions.RequestException, TwilioException) as exc:
            return SendResult("ambiguous", error=f"unexpected answer: {exc!r}")
        return SendResult("sent", provider_id=created.sid)

    def send_many(
        self,
        messages: Sequence[SmsMessage],
        *,
        before_request: Callable[[], None] | None = None,
        concurrency: int | None = None,
    ) -> list[SendResult]:
        """Send SMS, up to ``concurrency`` (default: the pool's connections) in flight, one
        request each, results in input order; ``before_request`` (the rate limiter, which
        may block) runs before each request, in a thread. Never raises for one message."""
        if not messages:
            return []
        if self._http.proxy:  # the environment's proxy: the sync path honours it
            results = []
            for message in messages:
                if before_request is not None:
                    before_request()
                results.append(self.send(message))
            return results
        limit = max(1, min(concurrency or self.connections, self.connections))
        with self._loop_lock:
            if self._loop is None or self._loop_pid != os.getpid():
                if self._loop is not None:  # forked: the parent's loop thread is not here
                    self._async_http = _AsyncHttpClient(self.timeout_s, self.connections)
                    self._async_client.http_client = self._async_http
                self._loop, self._loop_pid = _start_loop(self, self._async_http), os.getpid()
            if before_request is not None and self._before is None:
                self._before = ThreadPoolExecutor(self.connections, "twilio-before-send")
        work = self._send_all(messages, before_request, limit)
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _send_all(
        self,
        messages: Sequence[SmsMessage],
        before_request: Callable[[], None] | None,
        limit: int,
    ) -> list[SendResult]:
        gate = asyncio.Semaphore(limit)
        loop = asyncio.get_running_loop()

        async def one(message: SmsMessage) -> SendResult:
            async with gate:
                if before_request is not None:
                    await loop.run_in_executor(self._before, before_request)
                return await self._send_async(message)

        return list(await asyncio.gather(*(one(m) for m in messages)))

    def _create_form(self, message: SmsMessage) -> dict[str, object]:
        """The Messages API form ``messages.create`` writes for these options (its field
        names; unset fields left out)."""
        form: dict[str, object] = {"To": message.to}
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        if message.validity_period_s is not None:
            form["ValidityPeriod"] = message.validity_period_s
        if self.from_number.startswith("MG"):
            form["MessagingServiceSid"] = self.from_number
        else:
            form["From"] = self.from_number
        form["Body"] = message.body
        return form

    async def _send_async(self, message: SmsMessage) -> SendResult:
        """One create-message POST through the SDK's own layers below ``MessageList``
        (``Version.create_async``: the client's headers, auth and host, its non-2xx answer
        raised as ``TwilioRestException``, the JSON answer parsed), with the form written
        once here: the SDK's form building over its 26 optional fields and the
        ``MessageInstance`` it builds from the answer (only its SID is read) cost more CPU
        than the request itself."""
        try:
            created = await self._async_version.create_async(
                method="POST", uri=self._messages_uri, data=self._create_form(message), headers=FORM
            )
        except TwilioRestException as exc:
            return self._from_rest_error(exc, self._async_http.last.get())
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _async_failure(exc, self.timeout_s)
        except TwilioException as exc:
            return SendResult("ambiguous", error=f"unexpected answer: {exc!r}")
        except ValueError as exc:  # an answer that is not JSON
            return SendResult("ambiguous", error=f"unexpected answer: {exc!r}")
        sid = created.get("sid") if isinstance(created, dict) else None
        return SendResult("sent", provider_id=None if sid is None else str(sid))

    def _from_rest_error(self, exc: TwilioRestException, last: Response | None) -> SendResult:
        status = int(exc.status)
        code = str(exc.code) if exc.code is not None else str(status)
        text = exc.msg or f"HTTP {status}"
        if status == 429 or code == "20429":
            header = (last.headers or {}).get("Retry-After") if last is not None else None
            retry_after = float(header) if header else None
            return SendResult("retry", error_code=code, error=text, retry_after_s=retry_after)
        if status >= 500:
            return SendResult("retry", error_code=code, error=text)
        return SendResult("permanent", error_code=code, error=text)

    def find_sent(self, to: str, since: datetime, body: str) -> str | None:
        """The SID of a message with exactly this body sent to ``to`` at or after ``since``.

        Raises ``ProviderLookupError`` when Twilio cannot be asked (do not treat that as
        "not sent")."""
        since_utc = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        try:
            for m in self._client.messages.stream(
                to=to, date_sent_after=since_utc, page_size=100, limit=2000
            ):
                created = m.date_created or m.date_sent
                if m.body == body and (created is None or created >= since_utc):
                    return str(m.sid)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise ProviderLookupError(f"could not list messages to {to}: {exc}") from exc
        return None
