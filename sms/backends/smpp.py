"""SMPP 3.4 through `smpplib`: one bind_transceiver session per batch (the engine opens one
backend per batch), one submit_sm per part (UDH concatenation, GSM-7 or UCS-2 data_coding as
sms.encoding counts the text), enquire_link when the session was idle, and the deliver_sm the
SMSC pushes on the same session (delivery receipts, inbound replies) handled as they come.

smpplib (python-smpplib, maintained, releases through 2025) is synchronous, as the engine's
backends are; aiosmpplib would need an event loop per batch for nothing.

Outcomes of submit_sm_resp's command_status:
- ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RX_T_APPN → RetryLater (the engine backs off)
- ESME_RINVDSTADR → PermanentFailure, the number suppressed; other permanent refusals (bad
  source address, message length, data coding…) → PermanentFailure, not suppressed
- ESME_RSYSERR, ESME_RINVBNDSTS, a lost connection, an unbind or a silent SMSC →
  ConnectionLost: the batch goes back to the queue and the task retries later

A deliver_sm is acknowledged (deliver_sm_resp) only once what it says is committed, so a worker
dying in between loses nothing: the SMSC delivers it again. A receipt for a message whose send
is not recorded yet (the SMSC may answer faster than the engine writes) is held until the next
send or the close, when it is; one still unknown then gets ESME_RX_T_APPN, so the SMSC retries.
Between batches no session is bound: `manage.py smpp_receiver` keeps a receiver bound for them.

Settings (sendethic/settings.py, from the environment): SMPP_HOST, SMPP_PORT (2775),
SMPP_SYSTEM_ID, SMPP_PASSWORD, SMPP_SYSTEM_TYPE (""), SMPP_TIMEOUT (seconds, 10),
SMPP_ENQUIRE_LINK_SECONDS (30).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import time
from datetime import UTC, datetime

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from smpplib import smpp

from campaigns.engine.channel import (
    BackendUnavailable,
    ConnectionLost,
    Outcome,
    PermanentFailure,
    RetryLater,
    Sent,
)
from sms import inbound, receipts
from sms.backends import smpp_wire as wire
from sms.models import SmsMessagePart

logger = logging.getLogger(__name__)

RETRY_LATER = {c.SMPP_ESME_RTHROTTLED, c.SMPP_ESME_RMSGQFUL, c.SMPP_ESME_RX_T_APPN}
CONNECTION_LOST = {c.SMPP_ESME_RSYSERR, c.SMPP_ESME_RINVBNDSTS}
DEAD_NUMBER = {c.SMPP_ESME_RINVDSTADR}
# A later part of a concatenated SMS refused for a moment is tried again at once (the earlier
# parts are already at the SMSC), after these pauses in seconds.
PART_RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0)
# ESME_RTHROTTLED says the session goes too fast, not only that this message must wait: after
# one, the session pauses before each submit, the pause doubling while the SMSC keeps
# throttling (up to the maximum) and gone after the first accepted submit.
THROTTLE_PAUSE_FIRST, THROTTLE_PAUSE_MAX = 0.05, 2.0

_Lost = (smpplib.exceptions.ConnectionError, OSError)


def _no_delay(client) -> None:
    """PDUs are small and often written back to back (a deliver_sm_resp, then the next
    submit_sm): Nagle's algorithm would hold the second until the SMSC's delayed ACK."""
    client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _required(name: str):
    value = getattr(settings, name, None)
    if value in (None, ""):
        raise ImproperlyConfigured(f"The SMPP backend needs the {name} setting.")
    return value


def address(value: str) -> tuple[int, int, str]:
    """(TON, NPI, digits) of an E.164 number or an alphanumeric sender."""
    if value.startswith("+"):
        return c.SMPP_TON_INTL, c.SMPP_NPI_ISDN, value[1:]
    if value.isdigit():  # a short code
        return c.SMPP_TON_NWSPEC, c.SMPP_NPI_ISDN, value
    return c.SMPP_TON_ALNUM, c.SMPP_NPI_UNK, value


def status_name(status: int) -> str:
    return f"0x{status:08X} {c.DESCRIPTIONS.get(status, 'unknown status')}"


def outcome_of(status: int, provider_id: str) -> Outcome:
    if status == c.SMPP_ESME_ROK:
        return Sent(provider_id)
    detail = f"SMPP {status_name(status)}"
    if status in RETRY_LATER:
        return RetryLater(detail)
    if status in CONNECTION_LOST:
        return ConnectionLost(detail)
    return PermanentFailure(detail, suppress=status in DEAD_NUMBER)


class SmsBackend:
    def __init__(self, host=None, port=None, system_id=None, password=None, system_type=None):
        self.host = host or _required("SMPP_HOST")
        self.port = int(port or _required("SMPP_PORT"))
        self.system_id = system_id or _required("SMPP_SYSTEM_ID")
        self.password = password if password is not None else _required("SMPP_PASSWORD")
        self.system_type = system_type if system_type is not None else settings.SMPP_SYSTEM_TYPE
        self.timeout = settings.SMPP_TIMEOUT
        self.enquire_link_every = settings.SMPP_ENQUIRE_LINK_SECONDS
        self.client = None
        self.held = []  # deliver_sm waiting for the previous send to be recorded
        self.last_activity = 0.0
        self.throttle_pause = 0.0

    def open(self) -> None:
        self.client = smpplib.client.Client(
            self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True
        )
        try:
            self.client.connect()
            _no_delay(self.client)
            self.client.bind_transceiver(
                system_id=self.system_id, password=self.password, system_type=self.system_type
            )
        except (*_Lost, smpplib.exceptions.PDUError) as error:
            self._drop()
            raise BackendUnavailable(f"SMPP bind to {self.host}:{self.port}: {error}") from error
        self.last_activity = time.monotonic()

    def close(self) -> None:
        if self.client is None:
            return
        try:
            # A round trip first: what the SMSC sent before its answer (the last message's
            # receipt, often) is read and handled on this session.
            self.enquire_link()
            self._handle_held(final=True)
            self.client.send_pdu(smpp.make_pdu("unbind", client=self.client))
            self._wait_for(self.client.sequence, "unbind_resp")
        except (*_Lost, smpplib.exceptions.PDUError, ConnectionLostError):
            pass
        self._drop()

    def _drop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client = None

    def send(self, sms) -> Outcome:
        try:
            self._handle_held(final=False)
            if time.monotonic() - self.last_activity > self.enquire_link_every:
                self.enquire_link()
            provider_ids = []
            reference = (sms.message_id or 0) % 256
            parts = wire.parts_of(sms.text, reference)
            for number, part in enumerate(parts, 1):
                status, provider_id = self._submit(sms, part)
                pauses = iter(PART_RETRY_PAUSES if number > 1 else ())
                while status in RETRY_LATER and (pause := next(pauses, None)) is not None:
                    time.sleep(pause)
                    status, provider_id = self._submit(sms, part)
                outcome = outcome_of(status, provider_id)
                if not isinstance(outcome, Sent):
                    if number > 1:
                        return _partial(outcome, number, len(parts))
                    return outcome
                provider_ids.append(provider_id)
        except (*_Lost, ConnectionLostError) as error:
            self._drop_quietly()
            return ConnectionLost(f"SMPP session lost: {error or type(error).__name__}")
        if len(provider_ids) > 1 and sms.message_id is not None:
            SmsMessagePart.objects.bulk_create(
                [
                    SmsMessagePart(message_id=sms.message_id, number=number, provider_id=pid)
                    for number, pid in enumerate(provider_ids, 1)
                ],
                # A message sent again (its worker died before recording it) names the parts
                # of its latest try: theirs are the receipts still to come.
                update_conflicts=True,
                unique_fields=["message", "number"],
                update_fields=["provider_id", "delivery"],
            )
        return Sent(provider_ids[0])

    def enquire_link(self) -> None:
        pdu = smpp.make_pdu("enquire_link", client=self.client)
        self.client.send_pdu(pdu)
        self._wait_for(pdu.sequence, "enquire_link_resp")

    def _submit(self, sms, part: wire.Part) -> tuple[int, str]:
        if self.throttle_pause:
            time.sleep(self.throttle_pause)
        status, message_id = self._submit_now(sms, part)
        if status == c.SMPP_ESME_RTHROTTLED:
            self.throttle_pause = min(
                THROTTLE_PAUSE_MAX, max(THROTTLE_PAUSE_FIRST, self.throttle_pause * 2)
            )
        elif status == c.SMPP_ESME_ROK:
            self.throttle_pause = 0.0
        return status, message_id

    def _submit_now(self, sms, part: wire.Part) -> tuple[int, str]:
        source_ton, source_npi, source = address(sms.sender or "")
        dest_ton, dest_npi, destination = address(sms.mobile)
        pdu = smpp.make_pdu(
            "submit_sm",
            client=self.client,
            source_addr_ton=source_ton if source else 0,
            source_addr_npi=source_npi if source else 0,
            source_addr=source,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination,
            esm_class=part.esm_class,
            data_coding=part.data_coding,
            registered_delivery=1,  # a receipt for every final outcome
            short_message=part.short_message,
        )
        self.client.send_pdu(pdu)
        response = self._wait_for(pdu.sequence, "submit_sm_resp")
        message_id = response.message_id or b""
        if isinstance(message_id, bytes):
            message_id = message_id.decode("ascii", errors="replace")
        return response.status, message_id

    def _wait_for(self, sequence: int, command: str):
        """Read PDUs until the answer to `sequence`, handling what the SMSC sends meanwhile."""
        while True:
            try:
                pdu = self.client.read_pdu()
            except TimeoutError as error:
                raise ConnectionLostError(f"no {command} within {self.timeout} s") from error
            self.last_activity = time.monotonic()
            if pdu.command == "deliver_sm":
                self.held.append(pdu)
            elif pdu.command == "enquire_link":
                answer = smpp.make_pdu("enquire_link_resp", client=self.client)
                answer.sequence = pdu.sequence
                self.client.send_pdu(answer)
            elif pdu.command == "unbind":
                raise ConnectionLostError("the SMSC unbound the session")
            elif pdu.sequence == sequence and pdu.command in (command, "generic_nack"):
                return pdu
            else:
                logger.info("SMPP: %s ignored while waiting for %s", pdu.command, command)

    def _handle_held(self, *, final: bool) -> None:
        """Answer the deliver_sm received so far, now that the sends before them are recorded.
        A receipt still unmatched is kept for later, or refused for a retry when `final`."""
        still_held = []
        for pdu in self.held:
            status = handle_deliver_sm(pdu, provider="smpp")
            if status == c.SMPP_ESME_RX_T_APPN and not final:
                still_held.append(pdu)
                continue
            self._respond(pdu, status)
        self.held = still_held

    def _respond(self, pdu, status: int) -> None:
        answer = smpp.make_pdu("deliver_sm_resp", client=self.client, status=status)
        answer.sequence = pdu.sequence
        self.client.send_pdu(answer)

    def _drop_quietly(self) -> None:
        try:
            self._drop()
        except OSError:
            self.client = None


class ConnectionLostError(Exception):
    """The session cannot go on (a timeout, an unbind from the SMSC)."""


def _partial(outcome: Outcome, number: int, total: int) -> Outcome:
    detail = f"part {number} of {total}: {outcome.detail}"
    if isinstance(outcome, PermanentFailure):
        return PermanentFailure(detail, suppress=outcome.suppress)
    return type(outcome)(detail)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""


def handle_deliver_sm(pdu, *, provider: str) -> int:
    """Write what one deliver_sm says (a delivery receipt or an inbound SMS). Returns the
    deliver_sm_resp status: ESME_ROK once written, ESME_RX_T_APPN when a receipt names no
    known message yet (the SMSC delivers it again later)."""
    short_message = pdu.short_message or b""
    esm_class = pdu.esm_class or 0
    if esm_class & wire.ESM_CLASS_TYPE_MASK == wire.ESM_CLASS_RECEIPT:
        fields = wire.parse_receipt_text(short_message.decode("latin-1", errors="replace"))
        provider_id = _text(getattr(pdu, "receipted_message_id", None)) or (
            fields.provider_id if fields else ""
        )
        state = getattr(pdu, "message_state", None)
        stat = wire.MESSAGE_STATES.get(state) if state else (fields.stat if fields else "")
        if not provider_id or stat not in wire.FINAL_DELIVERED | wire.FINAL_FAILED:
            return c.SMPP_ESME_ROK  # an intermediate state (ENROUTE, ACCEPTD): nothing to write
        err = fields.err if fields else ""
        delivered = stat in wire.FINAL_DELIVERED
        for candidate in _id_spellings(provider_id):
            message = receipts.receipt_apply(
                receipts.Receipt(
                    provider_id=candidate,
                    delivery="delivered" if delivered else "failed",
                    at=datetime.now(UTC),
                    code="" if delivered else f"{stat} err:{err}".strip(),
                    reason="" if delivered else wire.STAT_REASONS.get(stat, stat),
                )
            )
            if message is not None:
                return c.SMPP_ESME_ROK
        return c.SMPP_ESME_RX_T_APPN
    udh, data = wire.split_udh(short_message, esm_class)
    text = wire.decode_text(data, pdu.data_coding or 0)
    source, destination = _text(pdu.source_addr), _text(pdu.destination_addr)
    mobile = source if source.startswith("+") else f"+{source}"
    received_at = datetime.now(UTC)
    # deliver_sm carries no id for an inbound SMS: the same text from the same number to the
    # same address within the minute is one reply (an SMSC delivering again after a lost
    # deliver_sm_resp does so within seconds).
    part = wire.concatenation(udh)
    if part is not None and part.total > 1:
        # One part of a long SMS: kept until every part has come, then one reply.
        inbound.reply_part_received(
            provider=provider,
            mobile=mobile,
            to=destination,
            reference=part.reference,
            total=part.total,
            number=part.number,
            text=text,
            received_at=received_at,
        )
        return c.SMPP_ESME_ROK
    minute = received_at.strftime("%Y%m%d%H%M")
    digest = hashlib.sha256(f"{source}|{destination}|{udh.hex()}|{text}".encode()).hexdigest()
    inbound.reply_received(
        provider=provider,
        provider_id=f"{minute}:{digest[:40]}",
        mobile=mobile,
        to=destination,
        text=text,
        received_at=received_at,
    )
    return c.SMPP_ESME_ROK


def _id_spellings(provider_id: str) -> list[str]:
    """The id as written, then its other base: many SMSCs answer submit_sm with a hexadecimal
    id and write it in decimal in the receipt, or the other way round."""
    spellings = [provider_id]
    if provider_id.isdigit():
        spellings.append(f"{int(provider_id):x}")
        spellings.append(f"{int(provider_id):X}")
    with contextlib.suppress(ValueError):
        spellings.append(str(int(provider_id, 16)))
    return list(dict.fromkeys(spellings))


class Receiver:
    """A receiver session kept bound to the SMSC (`manage.py smpp_receiver`), for the receipts
    and replies that come while no batch is sending: each deliver_sm is written, then
    acknowledged; enquire_link keeps the session alive; a lost session is bound again after a
    pause that doubles up to a minute."""

    def __init__(self, stop=None, **backend_options):
        self.backend = SmsBackend(**backend_options)
        self.stop = stop  # a threading.Event, set to end the loop
        self.handled = 0

    def run(self) -> None:
        pause = 1.0
        while not self._stopping():
            try:
                self._bind()
            except (*_Lost, smpplib.exceptions.PDUError) as error:
                logger.warning("SMPP receiver: bind failed (%s), again in %.0f s", error, pause)
                self._wait(pause)
                pause = min(60.0, pause * 2)
                continue
            pause = 1.0
            try:
                self._listen()
            except (*_Lost, ConnectionLostError) as error:
                logger.warning("SMPP receiver: session lost (%s)", error)
            finally:
                self.backend._drop_quietly()

    def _bind(self) -> None:
        backend = self.backend
        backend.client = smpplib.client.Client(
            backend.host, backend.port, timeout=backend.timeout, allow_unknown_opt_params=True
        )
        backend.client.connect()
        _no_delay(backend.client)
        backend.client.bind_receiver(
            system_id=backend.system_id,
            password=backend.password,
            system_type=backend.system_type,
        )

    def _listen(self) -> None:
        client = self.backend.client
        # Short reads, so that a stop is seen quickly; an enquire_link after a quiet period.
        client._socket.settimeout(0.5)
        quiet_since = time.monotonic()
        while not self._stopping():
            try:
                pdu = client.read_pdu()
            except TimeoutError:
                if time.monotonic() - quiet_since > self.backend.enquire_link_every:
                    client._socket.settimeout(self.backend.timeout)
                    self.backend.enquire_link()
                    self._handle_held()
                    client._socket.settimeout(0.5)
                    quiet_since = time.monotonic()
                continue
            quiet_since = time.monotonic()
            if pdu.command == "deliver_sm":
                self.backend._respond(pdu, handle_deliver_sm(pdu, provider="smpp"))
                self.handled += 1
            elif pdu.command == "enquire_link":
                answer = smpp.make_pdu("enquire_link_resp", client=client)
                answer.sequence = pdu.sequence
                client.send_pdu(answer)
            elif pdu.command == "unbind":
                answer = smpp.make_pdu("unbind_resp", client=client)
                answer.sequence = pdu.sequence
                client.send_pdu(answer)
                raise ConnectionLostError("the SMSC unbound the session")

    def _handle_held(self) -> None:
        # deliver_sm read while waiting for an enquire_link_resp
        for pdu in self.backend.held:
            self.backend._respond(pdu, handle_deliver_sm(pdu, provider="smpp"))
            self.handled += 1
        self.backend.held = []

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _wait(self, seconds: float) -> None:
        if self.stop is not None:
            self.stop.wait(seconds)
        else:
            time.sleep(seconds)
