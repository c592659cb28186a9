"""A loopback server that speaks Twilio's Messages API (the request and answer shapes of its
documentation), for tests and benchmarks: every accepted SMS is kept; some numbers get the
errors a real account meets.

    +33600000429…  → 429, code 20429 (too many requests)
    +33600000400…  → 400, code 21211 (invalid 'To' number)
    +33600000500…  → 500 (outage)

With `callbacks=True`, every accepted SMS that names a `StatusCallback` gets Twilio's status
callbacks, POSTed and signed (X-Twilio-Signature) like Twilio's, from a background thread:
"sent", then "delivered" — or "undelivered" with ErrorCode 30003 for +33600000303…, 30005 for
+33600000305…. `inbound()` POSTs an incoming SMS to a webhook URL the same way;
`callbacks_sent()` waits until the callbacks queued so far are delivered.
"""

import base64
import hashlib
import hmac
import itertools
import json
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

from sms.encoding import count

ERRORS = {
    "+33600000429": (429, 20429, "Too Many Requests"),
    "+33600000400": (400, 21211, "The 'To' number is not a valid phone number."),
    "+33600000500": (500, 20500, "Internal Server Error"),
}
UNDELIVERED = {"+33600000303": "30003", "+33600000305": "30005"}


class TwilioSimulator:
    def __init__(
        self,
        *,
        auth_token: str,
        account_sid: str = "AC" + "0" * 32,
        keep: bool = True,
        callbacks: bool = False,
        port: int = 0,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.keep = keep
        self.callbacks = callbacks
        self.callback_answers = []  # (url, form, HTTP status) of every callback POSTed
        self._callbacks = queue.Queue()
        self.received = []
        self.requests = 0
        self.connections = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # After this many accepted messages, every request gets 503 until `outage_after` is
        # set back to None (an outage at the provider's, as its status page would say).
        self.outage_after = None
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        if self.callbacks:
            threading.Thread(target=self._post_callbacks, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def signature(self, url: str, form: dict) -> str:
        """X-Twilio-Signature: HMAC-SHA1 of the URL then each parameter name and value, sorted
        by name, keyed with the auth token, in base64."""
        signed = url + "".join(name + form[name] for name in sorted(form))
        digest = hmac.new(self.auth_token.encode(), signed.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    def post(self, url: str, form: dict, signature: str | None = None) -> int:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not a webhook URL: {url}")
        request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
            url,
            data=urlencode(form).encode(),
            headers={
                "X-Twilio-Signature": signature or self.signature(url, form),
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.callback_answers.append((url, form, status))
        return status

    def inbound(self, url: str, *, sender: str, to: str, body: str) -> int:
        """A phone's SMS to one of the account's numbers, as Twilio POSTs it to the webhook."""
        sid = f"SM{next(self._ids):032x}"
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(count(body).segments),
        }
        return self.post(url, form)

    def callbacks_sent(self) -> None:
        self._callbacks.join()

    def _post_callbacks(self):
        while True:
            url, form = self._callbacks.get()
            # The network's answer takes a while (seconds, at Twilio): the sender has recorded
            # the sid by then.
            time.sleep(0.05)
            try:
                self.post(url, form)
            except OSError:
                self.callback_answers.append((url, form, None))
            finally:
                self._callbacks.task_done()

    def _queue_callbacks(self, sid: str, form: dict) -> None:
        url = form.get("StatusCallback")
        if not (self.callbacks and url):
            return
        common = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": form.get("From", ""),
            "To": form["To"],
            "ApiVersion": "2010-04-01",
        }
        self._callbacks.put((url, {**common, "MessageStatus": "sent", "SmsStatus": "sent"}))
        code = next((c for prefix, c in UNDELIVERED.items() if form["To"].startswith(prefix)), None)
        final = {"MessageStatus": "undelivered", "ErrorCode": code} if code else {
            "MessageStatus": "delivered"
        }  # fmt: skip
        self._callbacks.put((url, {**common, **final, "SmsStatus": final["MessageStatus"]}))

    def _handler(self):
        simulator = self
        expected_auth = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API
            # The headers and the body are two writes: with Nagle's algorithm the body waits for
            # the client's delayed ACK (40 ms), and every client would look like 22 requests/s.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # The status line and headers, then the body, are two writes: without this,
                # Nagle's algorithm holds the body until the client's delayed ACK (40 ms a
                # request on Linux), which is not how Twilio's API answers.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
                if (
                    simulator.outage_after is not None
                    and len(simulator.received) >= simulator.outage_after
                ):
                    return self.reply(
                        503, {"code": 20503, "message": "Service Unavailable", "status": 503}
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
                simulator._queue_callbacks(sid, form)
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
