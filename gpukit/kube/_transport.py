"""The one call gpukit makes to a Kubernetes API, and its two implementations.

:class:`Cluster <gpukit.kube.Cluster>` sends every request through a :class:`Transport`:
an :class:`ApiRequest` (method, path, query, body) in, an :class:`ApiResponse` (HTTP status,
parsed JSON body; the body's lines for a watch) out. A transport never raises for an HTTP
status: turning a failure Status into a one-line error is the Cluster's job, the same for
every transport. It raises :class:`TransportError` only when no answer came.

- :class:`KubernetesTransport` rides the official ``kubernetes`` client's ApiClient
  (kubeconfig or in-cluster authentication, TLS, retries), imported only when used.
- :class:`MockTransport` answers from a function in the same process, for tests (httpx's
  MockTransport is the model): no socket, no kubernetes package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gpukit.errors import MissingExtraError

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "KubernetesTransport",
    "MockTransport",
    "Transport",
    "TransportError",
]

#: (connect, read) seconds for ordinary requests.
TIMEOUT = (5, 30)


def kubernetes_module() -> Any:
    """The kubernetes package, or MissingExtraError naming the extra that brings it."""
    try:
        import kubernetes
    except ImportError:
        raise MissingExtraError.for_module("kubernetes", "kube") from None
    return kubernetes


@dataclass(frozen=True)
class ApiRequest:
    """One call to the API: ``query`` pairs in order, ``body`` a JSON-ready value."""

    method: str
    path: str
    query: tuple[tuple[str, Any], ...] = ()
    body: Any = None
    content_type: str | None = None
    stream: bool = False
    timeout: tuple[float, float] = TIMEOUT

    def param(self, key: str) -> str | None:
        """The last value of query parameter ``key`` as text, or None."""
        values = [str(v) for k, v in self.query if k == key]
        return values[-1] if values else None


@dataclass(frozen=True)
class ApiResponse:
    """The answer: ``body`` is the parsed JSON ({} when empty, None when it was not JSON).

    For a streamed request that succeeded, ``lines`` yields the body line by line (bytes,
    without the newline) and may raise TransportError when the stream is cut; closing the
    iterator before its end drops the connection.
    """

    status: int
    body: Any = None
    reason: str = ""
    lines: Iterator[bytes] | None = field(default=None, compare=False)


class TransportError(Exception):
    """No answer came: ``cause`` in a few words; ``maybe_sent`` if the request may have arrived."""

    def __init__(self, cause: str, *, maybe_sent: bool) -> None:
        super().__init__(cause)
        self.cause = cause
        self.maybe_sent = maybe_sent


@runtime_checkable
class Transport(Protocol):
    """What Cluster needs from a connection: one call, the server's address, and close."""

    @property
    def server(self) -> str: ...

    def send(self, request: ApiRequest) -> ApiResponse: ...

    def close(self) -> None: ...


def parse_json(raw: bytes | str | None) -> Any:
    """Parsed JSON, {} for an empty body, None when the body is not JSON."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None


def short_cause(exc: BaseException) -> str:
    """A few words for why a connection failed, instead of urllib3's nested repr."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    for known, short in (
        ("Connection refused", "connection refused"),
        ("timed out", "connection timed out"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
        ("IncompleteRead", "connection closed mid-response"),
        ("RemoteDisconnected", "connection closed without a response"),
        ("Connection aborted", "connection closed without a response"),
        ("Connection broken", "connection closed mid-response"),
    ):
        if known in text:
            return short
    return text.rsplit(": ", 1)[-1].strip("'\")( ") or type(exc).__name__


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Non-blank lines of a chunked body, the last one even without its newline."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer


class KubernetesTransport:
    """Requests through the official client's ApiClient (its configuration, auth and TLS)."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        self.api_client.rest_client.pool_manager.clear()
        self.api_client.close()

    def _failed(self, exc: BaseException) -> TransportError:
        import urllib3

        # NewConnectionError subclasses ConnectTimeoutError: either way nothing was sent.
        never_sent = isinstance(
            getattr(exc, "reason", None) or exc, urllib3.exceptions.ConnectTimeoutError
        )
        return TransportError(short_cause(exc), maybe_sent=not never_sent)

    def send(self, request: ApiRequest) -> ApiResponse:
        kubernetes = kubernetes_module()
        import urllib3

        headers = {"Accept": "application/json"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        try:
            response, status, _ = self.api_client.call_api(
                request.path,
                request.method,
                query_params=list(request.query),
                header_params=headers,
                body=request.body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=request.timeout,
            )
        except kubernetes.client.exceptions.ApiException as exc:
            if not exc.status:  # TLS failures come as status 0, before anything was sent
                raise TransportError(short_cause(exc), maybe_sent=False) from None
            return ApiResponse(exc.status, parse_json(exc.body), str(exc.reason or ""))
        except urllib3.exceptions.HTTPError as exc:
            raise self._failed(exc) from None
        if request.stream:
            return ApiResponse(status, {}, lines=self._lines(response))
        try:
            raw = response.data
        except urllib3.exceptions.HTTPError as exc:
            raise self._failed(exc) from None
        finally:
            response.release_conn()
        return ApiResponse(status, parse_json(raw))

    @staticmethod
    def _lines(response: Any) -> Iterator[bytes]:
        import urllib3

        ended = False
        try:
            yield from split_lines(response.stream(2**16, decode_content=True))
            ended = True
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(short_cause(exc), maybe_sent=True) from None
        finally:
            if not ended:
                response.close()  # the stream was left mid-way: its connection is not reusable
            response.release_conn()


Handler = Callable[[ApiRequest], ApiResponse]


class MockTransport:
    """Answers each request with ``handler(request)``, in the same process.

    Bodies pass through JSON both ways, as on the wire, so the handler never shares objects
    with the caller. For a streamed request the handler may give ``body`` as a list of watch
    events instead of ``lines``. Raise TransportError in the handler (or in its ``lines``)
    to play a connection that fails.

    >>> def handler(request: ApiRequest) -> ApiResponse:
    ...     return ApiResponse(200, {"kind": "APIVersions", "versions": ["v1"]})
    >>> MockTransport(handler).send(ApiRequest("GET", "/api")).body["versions"]
    ['v1']
    """

    def __init__(self, handler: Handler, *, server: str = "http://gpukit.invalid") -> None:
        self.handler = handler
        self._server = server
        self.closed = False

    @property
    def server(self) -> str:
        return self._server

    def close(self) -> None:
        self.closed = True

    def send(self, request: ApiRequest) -> ApiResponse:
        if request.body is not None:
            request = _with_body(request, json.loads(json.dumps(request.body)))
        response = self.handler(request)
        if request.stream and 200 <= response.status < 300:
            if response.lines is None:
                events: Sequence[Any] = response.body or ()
                lines = iter([json.dumps(e).encode() for e in events])
                return ApiResponse(response.status, {}, response.reason, lines)
            return response
        body = response.body
        if body is not None:
            body = json.loads(json.dumps(body))
        return ApiResponse(response.status, body, response.reason)


def _with_body(request: ApiRequest, body: Any) -> ApiRequest:
    return ApiRequest(
        request.method,
        request.path,
        request.query,
        body,
        request.content_type,
        request.stream,
        request.timeout,
    )
