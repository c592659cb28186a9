"""A loopback server that speaks Twilio's Messages API (the request and answer shapes of its
documentation), for tests and benchmarks: every accepted SMS is kept; some numbers get the
errors a real account meets.

    +33600000429…  → 429, code 20429 (too many requests)
    +33600000400…  → 400, code 21211 (invalid 'To' number)
    +33600000500…  → 500 (outage)
"""

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from sms.encoding import count

ERRORS = {
    "+33600000429": (429, 20429, "Too Many Requests"),
    "+33600000400": (400, 21211, "The 'To' number is not a valid phone number."),
    "+33600000500": (500, 20500, "Internal Server Error"),
}


class TwilioSimulator:
    def __init__(self, *, auth_token: str, account_sid: str = "AC" + "0" * 32, keep: bool = True):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.keep = keep
        self.received = []
        self.requests = 0
        self.connections = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        simulator = self
        expected_auth = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with simulator._lock:
                    simulator.connections += 1

            def reply(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with simulator._lock:
                    simulator.requests += 1
                if self.path != path:
                    return self.reply(404, {"code": 20404, "message": "Not Found", "status": 404})
                if self.headers.get("Authorization") != expected_auth:
                    return self.reply(
                        401, {"code": 20003, "message": "Authenticate", "status": 401}
                    )
                to = form.get("To", "")
                if not to or "Body" not in form:
                    return self.reply(
                        400,
                        {
                            "code": 21604,
                            "message": "A 'To' and a 'Body' are required.",
                            "status": 400,
                        },
                    )
                for prefix, (status, code, message) in ERRORS.items():
                    if to.startswith(prefix):
                        return self.reply(
                            status, {"code": code, "message": message, "status": status}
                        )
                sid = f"SM{next(simulator._ids):032x}"
                if simulator.keep:
                    with simulator._lock:
                        simulator.received.append(form)
                return self.reply(
                    201,
                    {
                        "sid": sid,
                        "account_sid": simulator.account_sid,
                        "to": to,
                        "from": form.get("From"),
                        "body": form["Body"],
                        "status": "queued",
                        "num_segments": str(count(form["Body"]).segments),
                        "error_code": None,
                        "error_message": None,
                    },
                )

        return Handler
