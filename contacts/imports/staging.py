"""Streaming an uploaded file's rows to PostgreSQL's COPY, for the fast import.

The rows come from contacts.imports.reader (same decoding, row numbers and blank-line rules as
every import); they leave as CSV for `COPY … (FORMAT csv)`: ord, row number, the cells, and
`orig`, the JSON of the cells of a row that the cell columns cannot hold as they are.
"""

import csv
import io
import json
import queue
import threading

from django.utils import translation


def csv_batches(rows, width: int, size: int):
    """(CSV bytes, row count) of `size` rows at a time: ord, row_no, the cells, orig.

    Small batches in fresh buffers, sent as bytes: a reused StringIO switches to 4 bytes per
    character, and large buffers alternating between two threads fragment the heap, which
    showed as a worker growing with the file.
    """
    buffer = io.StringIO()
    write = csv.writer(buffer).writerow
    blank = ("",) * width
    count = 0
    for ordinal, (row_number, cells) in enumerate(rows):
        if len(cells) == width:
            write((ordinal, row_number, *cells, ""))
        else:
            write((ordinal, row_number, *blank, json.dumps(cells, ensure_ascii=False)))
        count += 1
        if count == size:
            yield without_nul(buffer.getvalue(), width).encode(), count
            buffer = io.StringIO()
            write = csv.writer(buffer).writerow
            count = 0
    if count:
        yield without_nul(buffer.getvalue(), width).encode(), count


def without_nul(text: str, width: int) -> str:
    """Move rows holding NUL characters (rare) to their JSON form, which escapes them."""
    if "\x00" not in text:
        return text
    buffer = io.StringIO()
    write = csv.writer(buffer).writerow
    for ordinal, row_number, *cells, orig in csv.reader(io.StringIO(text)):
        if "\x00" in orig or any("\x00" in cell for cell in cells):
            original = json.loads(orig) if orig else cells
            write((ordinal, row_number, *("",) * width, json.dumps(original)))
        else:
            write((ordinal, row_number, *cells, orig))
    return buffer.getvalue()


def in_thread(iterator, depth: int = 2):
    """Run a producer in a thread: the file is decoded while PostgreSQL parses the last COPY.

    psycopg2 releases the GIL while it waits for the server, so both cores work.
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()
    # Translations are per thread: a reader error must speak the account's language.
    language = translation.get_language()

    def offer(item) -> bool:
        """Queue `item`, unless the consumer has gone (then nobody would ever take it)."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            translation.activate(language)
            for item in iterator:
                if not offer(item):
                    return
            offer(done)
        except BaseException as error:  # noqa: BLE001 - handed over to the consumer
            offer(error)
        finally:
            iterator.close()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The consumer failed or stopped early: let the producer end and close the file.
        stop.set()
        thread.join()
