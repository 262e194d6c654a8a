"""FakeApiServer: the API double served over HTTP on 127.0.0.1, for the real client.

The same double as :class:`~gpukit.testing.FakeApi` (one routing, one store), behind a
threaded HTTP server so the official ``kubernetes`` client talks to it through its own
kubeconfig loading, authentication and connection pool. Nothing in the client is patched.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import yaml

from gpukit.testing._api import FakeApi, RecordedRequest
from gpukit.testing._routes import APPLY_PATCH, Reset, handle
from gpukit.testing._types import Obj

__all__ = ["FakeApiServer"]


class FakeApiServer(FakeApi):
    """The API double on 127.0.0.1 (ephemeral port), plain HTTP, one bearer token.

    Everything :class:`~gpukit.testing.FakeApi` offers (state, faults, request log), plus
    a kubeconfig or Configuration pointing at it; :meth:`stop` closes the socket and cuts
    open connections.

    >>> with FakeApiServer() as api:                        # doctest: +SKIP
    ...     api.add(gpu_node("gpu-1", "NVIDIA-H100-80GB-HBM3", gpus=8))
    ...     kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    """

    def __init__(
        self,
        objects: Iterable[Obj] = (),
        *,
        token: str = "gpukit-test-token",
        user: str = "gpukit-test",
    ) -> None:
        super().__init__(objects, token=token, user=user)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.port: int | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port or 0), _Handler)
        httpd.daemon_threads = True
        httpd.api = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"fake-apiserver-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open connections: clients then find the API unreachable."""
        if self._httpd is None:
            return
        super().stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeApiServer is not started; use it as a context manager")
        return f"http://127.0.0.1:{self.port}"

    # -- client configuration --------------------------------------------------------

    def kubeconfig(
        self,
        context: str = "gpukit-fake",
        namespace: str = "default",
        extra_contexts: Iterable[tuple[str, str]] = (),
    ) -> Obj:
        """A kubeconfig document pointing at this server, with a bearer token."""
        contexts = [(context, namespace), *extra_contexts]
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gpukit-fake", "cluster": {"server": self.url}}],
            "users": [{"name": self.user, "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": name,
                    "context": {"cluster": "gpukit-fake", "user": self.user, "namespace": ns},
                }
                for name, ns in contexts
            ],
            "current-context": context,
        }

    def write_kubeconfig(self, path: str | Path, **kwargs: Any) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(self.kubeconfig(**kwargs), sort_keys=False), encoding="utf-8"
        )
        return path

    def configuration(self) -> Any:
        """A kubernetes.client.Configuration for this server (needs the kubernetes package)."""
        from kubernetes import client

        config = client.Configuration(host=self.url)
        config.api_key = {"authorization": f"Bearer {self.token}"}
        return config


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gpukit-fake-apiserver/1"

    @property
    def api(self) -> FakeApiServer:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK stall every response by tens of milliseconds.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        with self.api._lock:
            self.api._connections.add(self.connection)
        try:
            super().handle()
        except (ConnectionError, OSError):
            pass
        finally:
            with self.api._lock:
                self.api._connections.discard(self.connection)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing ------------------------------------------------------------------

    def _send(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self._read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip() or None
        body: Any = None
        if raw:
            try:
                body = yaml.safe_load(raw) if content_type == APPLY_PATCH else json.loads(raw)
            except (ValueError, yaml.YAMLError) as exc:
                body = exc
        record = RecordedRequest(method, url.path, query, content_type, body)
        self.api.requests.append(record)
        authorized = self.headers.get("Authorization") == f"Bearer {self.api.token}"
        try:
            reply = handle(
                self.api, method, url.path, query, content_type, body, record, authorized=authorized
            )
            if reply.events is None:
                self._send(reply.code, reply.body or {})
            else:
                self._stream(reply.events)
        except Reset:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _stream(self, events: Iterator[Obj]) -> None:
        """A watch: one JSON event per line, chunked, ended cleanly when the stream ends."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            line = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.wfile.write(b"0\r\n\r\n")
