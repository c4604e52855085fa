"""Capture files as the tests read them: one message per line, "<local_receive_ns> <message>"
or plain JSONL, optionally gzip-compressed (told by the magic bytes, not the name). A numeric
first word of up to 19 digits followed by a space is the receive time, the rule
feed/capture_reader.h applies. Empty lines are skipped."""
import gzip


def capture_entries(path):
    """Yields (local_ns or None, message) per non-empty line."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            head, sep, rest = line.partition(" ")
            if sep and head.isdigit() and len(head) <= 19:
                yield int(head), rest
            else:
                yield None, line


def capture_messages(path):
    """Yields the messages alone."""
    for _, message in capture_entries(path):
        yield message
