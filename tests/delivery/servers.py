"""Real servers on 127.0.0.1 for tests that deliver: an SMTP server and an HTTP receiver.

Both record what they receive and check nothing themselves, so a test makes its
own assertions. Both can be stopped and started again on the same port, to
play "the target is down, then back".

    smtp = SmtpRecorder().start()
    ...; smtp.stop(); ...; smtp.start()
    smtp.messages[0].message["Subject"]

    hook = HttpRecorder().start()
    hook.fail_next(2, status=500)
    hook.requests[0].json()

An ``HttpRecorder`` given an ``ssl.SSLContext`` speaks HTTPS and records the
server names (SNI) the clients asked for.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def attachments(self) -> dict[str, bytes]:
        """Attachment file name → decoded content."""
        files = {}
        for part in self.message.iter_attachments():
            content = part.get_content()
            files[part.get_filename() or ""] = content.encode() if isinstance(content, str) else content
        return files


class _RecordingHandler:
    def __init__(self, recorder: SmtpRecorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recorder._record(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


class SmtpRecorder:
    """An aiosmtpd server that keeps every message it accepts.

    With ``credentials`` it demands AUTH (LOGIN or PLAIN, without TLS, since
    the test has no certificate) and accepts only that user and password.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.credentials = credentials
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)

    def start(self) -> SmtpRecorder:
        if self._controller is None:
            # A controller's event loop is closed when it stops, so each start builds a new one.
            auth: dict[str, Any] = {}
            if self.credentials is not None:
                auth = {
                    "authenticator": self._authenticate,
                    "auth_required": True,
                    "auth_require_tls": False,
                }
            controller = Controller(_RecordingHandler(self), hostname=self.host, port=self.port, **auth)
            controller.start()
            self._controller = controller
        return self

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        expected = self.credentials
        given = auth_data if isinstance(auth_data, LoginPassword) else None
        ok = (
            expected is not None
            and given is not None
            and (given.login.decode(), given.password.decode()) == expected
        )
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """The messages once at least ``count`` have arrived (or whatever came within ``timeout``)."""
        wait_until(lambda: len(self.messages) >= count, timeout)
        return self.messages


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as the receiver got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Script:
    failures_left: int = 0
    failure_status: int = 500
    statuses: list[int] = field(default_factory=list)


class HttpRecorder:
    """A threaded WSGI server that records every request and answers 200 unless told otherwise."""

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.ssl_context = ssl_context
        self.server_names: list[str | None] = []
        if ssl_context is not None:
            ssl_context.sni_callback = self._record_server_name
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._script = _Script()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def _record_server_name(self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        with self._lock:
            self.server_names.append(name)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def running(self) -> bool:
        return self._server is not None

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (they are still recorded)."""
        with self._lock:
            self._script.failures_left = count
            self._script.failure_status = status

    def answer_with(self, statuses: Iterable[int]) -> None:
        """Answer the next requests with these statuses, in order, then 200 again."""
        with self._lock:
            self._script.statuses = list(statuses)

    def _status(self) -> int:
        if self._script.statuses:
            return self._script.statuses.pop(0)
        if self._script.failures_left > 0:
            self._script.failures_left -= 1
            return self._script.failure_status
        return 200

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            status = self._status()
            self._requests.append(
                ReceivedRequest(
                    method=request.method,
                    path=request.full_path.rstrip("?"),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=body,
                    answered=status,
                )
            )
        headers = {"Location": "http://127.0.0.1:9/elsewhere"} if 300 <= status < 400 else {}
        return Response(str(status), status=status, headers=headers)(environ, start_response)

    def start(self) -> HttpRecorder:
        if self._server is None:
            server = make_server(self.host, self.port, self._app, threaded=True, ssl_context=self.ssl_context)
            thread = threading.Thread(target=server.serve_forever, name="http-recorder", daemon=True)
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server, self._thread = None, None

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """The requests once at least ``count`` have arrived (or whatever came within ``timeout``)."""
        wait_until(lambda: len(self.requests) >= count, timeout)
        return self.requests
