"""A recording HTTP forward proxy, run by the test: each node's agent reaches the coordinator
through its own (``HTTP_PROXY``), so the test, not the agent, sees every byte that leaves the
node: method, URL, headers and body of each request, and the status of the answer."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from urllib.parse import urlsplit

import httpx

#: hop-by-hop headers a proxy does not forward (RFC 9110 7.6.1)
HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
       "transfer-encoding", "upgrade", "host", "content-length"}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One request that left the node, and the status it got."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


class RecordingProxy:
    """``http://127.0.0.1:<port>``: forwards plain-HTTP requests and records them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(trust_env=False, timeout=600)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                if not self.path.startswith("http://"):
                    self.send_error(400, "a forward proxy takes absolute http:// URLs only")
                    return
                try:
                    answer = proxy._client.request(
                        self.command, self.path, content=body, headers=headers
                    )
                    status, content = answer.status_code, answer.content
                    answer_headers = {
                        k: v for k, v in answer.headers.items() if k.lower() not in HOP
                    }
                except httpx.TransportError as e:
                    status, content, answer_headers = 502, str(e).encode(), {}
                with proxy._lock:
                    proxy.exchanges.append(
                        Exchange(self.command, self.path, dict(headers), body, status)
                    )
                self.send_response(status)
                for key, value in answer_headers.items():
                    if key.lower() != "content-encoding":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def do_CONNECT(self) -> None:  # a tunnel would hide the bytes: refused
                self.send_error(405, "this recording proxy does not tunnel")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def recorded(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()
