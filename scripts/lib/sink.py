"""What smtp-sink wrote, taken back to the message that crossed the wire.

smtp-sink (`-d`) stores each message with LF line ends, after its own
envelope lines (X-Client-Addr and friends) and a Received header of its own.
"""

ENVELOPE = (b"X-Client-Addr:", b"X-Client-Proto:", b"X-Helo-Args:", b"X-Mail-Args:", b"X-Rcpt-Args:")


def message_lines(path):
    """The stored message's lines, without smtp-sink's envelope lines and Received header."""
    lines = open(path, "rb").read().split(b"\n")
    while lines and lines[0].startswith(ENVELOPE):
        lines.pop(0)
    if lines and lines[0].startswith(b"Received: from"):
        lines.pop(0)
        while lines and lines[0][:1] in (b" ", b"\t"):
            lines.pop(0)
    return lines
