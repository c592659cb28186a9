"""A small SMSC on loopback TCP speaking SMPP 3.4 PDUs (built and parsed with smpplib's PDU
classes), for the SMPP backend's tests: it binds transceivers, acks submit_sm with an id,
answers enquire_link and unbind, and refuses what a real SMSC refuses.

Destinations (E.164 digits) with a behaviour:
    33600000088…  → ESME_RTHROTTLED on every submit
    33600000011…  → ESME_RINVDSTADR (invalid destination)
    33600000008…  → ESME_RSYSERR (the SMSC is in trouble)
    33600000055…  → accepted, then a receipt stat:UNDELIV err:001
    33600000066…  → accepted, never answered with a receipt
`throttle_next(n)`: the next n submits are throttled, whatever their destination.
Every other accepted submit gets a DELIVRD receipt (deliver_sm, esm_class 0x04, with the
receipted_message_id and message_state TLVs) when `receipts` is on. `send_mo()` pushes an
inbound SMS to every bound session; `stop()` / `start()` take the SMSC away and back.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import smpplib.consts as c
from smpplib import smpp

THROTTLED = "33600000088"
INVALID = "33600000011"
SYSTEM_ERROR = "33600000008"
UNDELIVERABLE = "33600000055"
NO_RECEIPT = "33600000066"


class _Sequence:
    """What smpplib's PDU classes ask of a client: sequence numbers."""

    def __init__(self):
        self._numbers = itertools.count(1)
        self.sequence = 0

    def next_sequence(self):
        self.sequence = next(self._numbers)
        return self.sequence


@dataclass
class Submitted:
    source: str
    source_ton: int
    destination: str
    dest_ton: int
    esm_class: int
    data_coding: int
    short_message: bytes
    registered_delivery: int
    message_id: str


@dataclass
class Session:
    sock: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    bound: bool = False
    sequence: _Sequence = field(default_factory=_Sequence)

    def send(self, pdu) -> None:
        with self.lock:
            self.sock.sendall(pdu.generate())


class SmppServer:
    def __init__(self, *, system_id="sendethic", password="secret", receipts=True):  # noqa: S107
        self.system_id = system_id
        self.password = password
        self.receipts = receipts
        self.submitted: list[Submitted] = []
        self.binds = 0
        self.enquire_links = 0
        self.deliver_sm_resps: list[tuple[int, int]] = []  # (sequence, command_status)
        self.sessions: list[Session] = []
        self._throttle = 0
        # After this many accepted submits, the SMSC vanishes: the next submit gets no answer,
        # every session is cut and nothing listens any more (until start()).
        self.cut_after = None
        self._ids = itertools.count(0x1000)
        self._lock = threading.Lock()
        self._listener = None
        self.port = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self):
        """The SMSC goes away: no more connections, the open sessions cut."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not, and the
            # port would stay taken.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        for session in list(self.sessions):
            with contextlib.suppress(OSError):
                session.sock.shutdown(socket.SHUT_RDWR)
            session.sock.close()
        self.sessions.clear()

    def bound_session(self) -> Session:
        """The latest bound session (a closed one may linger in `sessions` for a moment)."""
        return [session for session in self.sessions if session.bound][-1]

    def throttle_next(self, count: int) -> None:
        with self._lock:
            self._throttle = count

    def _accept(self, listener):
        while True:
            try:
                sock, _address = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as SMSCs do
            session = Session(sock)
            self.sessions.append(session)
            threading.Thread(target=self._serve, args=(session,), daemon=True).start()

    def _read(self, sock) -> bytes | None:
        header = self._exact(sock, 4)
        if header is None:
            return None
        (length,) = struct.unpack(">L", header)
        rest = self._exact(sock, length - 4)
        return None if rest is None else header + rest

    @staticmethod
    def _exact(sock, size) -> bytes | None:
        data = b""
        while len(data) < size:
            try:
                chunk = sock.recv(size - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _serve(self, session: Session):
        while (raw := self._read(session.sock)) is not None:
            pdu = smpp.parse_pdu(raw, client=session.sequence, allow_unknown_opt_params=True)
            handler = getattr(self, f"_on_{pdu.command}", None)
            if handler is not None:
                try:
                    handler(session, pdu)
                except OSError:
                    break
        session.sock.close()
        if session in self.sessions:
            self.sessions.remove(session)

    def _answer(self, session, pdu, command, status=c.SMPP_ESME_ROK, **fields):
        answer = smpp.make_pdu(command, client=session.sequence, status=status, **fields)
        answer.sequence = pdu.sequence  # a property smpplib's constructor does not set
        session.send(answer)

    def _on_bind_transceiver(self, session, pdu):
        good = pdu.system_id == self.system_id.encode() and pdu.password == self.password.encode()
        if good:
            session.bound = True
            with self._lock:
                self.binds += 1
        self._answer(
            session,
            pdu,
            f"{pdu.command}_resp",
            status=c.SMPP_ESME_ROK if good else c.SMPP_ESME_RINVPASWD,
            system_id="SIMSMSC",
        )

    _on_bind_receiver = _on_bind_transceiver

    def _on_enquire_link(self, session, pdu):
        with self._lock:
            self.enquire_links += 1
        self._answer(session, pdu, "enquire_link_resp")

    def _on_unbind(self, session, pdu):
        self._answer(session, pdu, "unbind_resp")
        session.bound = False

    def _on_deliver_sm_resp(self, session, pdu):
        with self._lock:
            self.deliver_sm_resps.append((pdu.sequence, pdu.status))

    def _on_submit_sm(self, session, pdu):
        if not session.bound:
            return self._answer(session, pdu, "submit_sm_resp", status=c.SMPP_ESME_RINVBNDSTS)
        if self.cut_after is not None and len(self.submitted) >= self.cut_after:
            self.cut_after = None
            self.stop()
            return None
        destination = pdu.destination_addr.decode()
        with self._lock:
            throttled = self._throttle > 0
            self._throttle -= throttled
        status = c.SMPP_ESME_ROK
        if throttled or destination.startswith(THROTTLED):
            status = c.SMPP_ESME_RTHROTTLED
        elif destination.startswith(INVALID):
            status = c.SMPP_ESME_RINVDSTADR
        elif destination.startswith(SYSTEM_ERROR):
            status = c.SMPP_ESME_RSYSERR
        if status != c.SMPP_ESME_ROK:
            return self._answer(session, pdu, "submit_sm_resp", status=status)
        message_id = f"{next(self._ids):x}"
        with self._lock:
            self.submitted.append(
                Submitted(
                    source=pdu.source_addr.decode(),
                    source_ton=pdu.source_addr_ton or 0,
                    destination=destination,
                    dest_ton=pdu.dest_addr_ton or 0,
                    esm_class=pdu.esm_class or 0,
                    data_coding=pdu.data_coding or 0,
                    short_message=pdu.short_message or b"",
                    registered_delivery=pdu.registered_delivery or 0,
                    message_id=message_id,
                )
            )
        self._answer(session, pdu, "submit_sm_resp", message_id=message_id)
        if self.receipts and pdu.registered_delivery and not destination.startswith(NO_RECEIPT):
            stat, err = (
                ("UNDELIV", "001") if destination.startswith(UNDELIVERABLE) else ("DELIVRD", "000")
            )
            self.send_receipt(session, message_id, destination, stat, err)

    def send_receipt(self, session, message_id, destination, stat, err="000", tlvs=True):
        now = time.strftime("%y%m%d%H%M", time.gmtime())
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:{now} done date:{now} stat:{stat} err:{err} text:"
        )
        states = {name: number for number, name in enumerate(
            ["", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]
        )}  # fmt: skip
        fields = {}
        if tlvs:
            fields = {"receipted_message_id": message_id, "message_state": states[stat]}
        pdu = smpp.make_pdu(
            "deliver_sm",
            client=session.sequence,
            source_addr_ton=c.SMPP_TON_INTL,
            source_addr_npi=c.SMPP_NPI_ISDN,
            source_addr=destination,
            esm_class=0x04,
            short_message=text.encode(),
            **fields,
        )
        session.send(pdu)

    def send_mo(
        self, source: str, destination: str, short_message: bytes, data_coding=0, esm_class=0
    ):
        """An SMS from a phone (`source`, E.164 digits) to `destination`, on every bound
        session."""
        for session in list(self.sessions):
            if session.bound:
                pdu = smpp.make_pdu(
                    "deliver_sm",
                    client=session.sequence,
                    source_addr_ton=c.SMPP_TON_INTL,
                    source_addr_npi=c.SMPP_NPI_ISDN,
                    source_addr=source,
                    destination_addr=destination,
                    esm_class=esm_class,
                    data_coding=data_coding,
                    short_message=short_message,
                )
                session.send(pdu)

    def wait(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return False


def smpp_settings(settings, server: SmppServer) -> None:
    settings.SMS_BACKEND = "sms.backends.smpp.SmsBackend"
    settings.SMPP_HOST = "127.0.0.1"
    settings.SMPP_PORT = server.port
    settings.SMPP_SYSTEM_ID = server.system_id
    settings.SMPP_PASSWORD = server.password
    settings.SMPP_TIMEOUT = 2
