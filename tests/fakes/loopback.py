"""The HTTP plumbing the fake provider APIs share: a threaded JSON server on loopback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RawBody(bytes):
    """An answer sent as these bytes, not as JSON (a provider's malformed answer)."""


class LoopbackJSONAPI:
    """Answers every POST with `self.answer(path, headers, body) -> (status, json|None)`
    or `(status, json|RawBody|None, extra headers)`; other methods with
    `self.answer_method(method, …)` (405 unless a fake defines it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path, headers, body):
        raise NotImplementedError

    def answer_method(self, method, path, headers, body):
        return 405, {"message": f"{method} not allowed"}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.respond("POST")

            def do_GET(self):
                self.respond("GET")

            def do_PUT(self):
                self.respond("PUT")

            def do_DELETE(self):
                self.respond("DELETE")

            def respond(self, method):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if method == "POST":
                    status, answer, *extra = fake.answer(self.path, self.headers, body)
                else:
                    status, answer, *extra = fake.answer_method(
                        method, self.path, self.headers, body
                    )
                if isinstance(answer, RawBody):
                    data = bytes(answer)
                else:
                    data = b"" if answer is None else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    for name, value in (extra[0] if extra else {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client died waiting (a killed worker): the call went through

            def log_message(self, *args):
                pass

        return Handler
