"""Reading linted files and writing our output without ever crashing on them.

A linter meets whatever a repository holds: FIFOs and device files named on
the command line, file names that are not valid UTF-8, terminals that cannot
show a character of a message. None of these may end a run with a traceback.
"""
from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import sys

_ERRORS = "kerasmode-lint-output"


class SourceBytes(bytes):
    """A file's bytes and what the file was when they were read (device,
    inode, size, modification time), so that ``--fix`` writes only over the
    file it read."""

    identity: "tuple | None" = None


def identity_of(info: os.stat_result) -> tuple:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def read_source(path: str) -> bytes:
    """The bytes of the file at ``path`` (a ``SourceBytes`` that remembers
    the file's identity). Raises OSError, also for anything but a regular
    file: reading a FIFO would wait for a writer forever, and a device such
    as /dev/zero never ends."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can
    # refuse it; it changes nothing for regular files.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        data = SourceBytes(handle.read())
        after = os.fstat(handle.fileno())
    data.identity = identity_of(after)
    return data


def _replace_unencodable(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    if all(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        # A file name that is not valid in the file system's encoding comes
        # back from the OS as lone surrogates (PEP 383): print its original
        # bytes, so the path still names the file.
        return bytes(ord(c) - 0xDC00 for c in text), error.end
    return text.encode("ascii", "backslashreplace").decode("ascii"), error.end


def configure_output_streams() -> None:
    """Let stdout and stderr print any path or message: characters the
    stream's encoding lacks are escaped instead of raising UnicodeEncodeError."""
    try:
        codecs.lookup_error(_ERRORS)
    except LookupError:
        codecs.register_error(_ERRORS, _replace_unencodable)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # absent on replaced streams
        if reconfigure is not None:
            try:
                reconfigure(errors=_ERRORS)
            except (ValueError, OSError):  # a stream that cannot change now: leave it
                pass


# Control characters (C0, DEL, C1), line and paragraph separators and bidi
# overrides: printed raw, a file name with a newline could forge a finding
# line and a message could send terminal escapes. (The bytes of a file name
# that is not UTF-8 are printed as they are, so the name can be copied.)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: "re.Match[str]") -> str:
    char = match.group(0)
    return repr(char)[1:-1] if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character written as a Python escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text
