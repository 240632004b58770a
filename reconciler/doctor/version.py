"""The server's version, from its public page ``/allversions``, against the advisories.

The page needs no token and is read as hostile: at most ``PAGE_CAP`` bytes, tags and
control characters dropped, one version number taken from a line that mentions
"version" (a line mentioning "SH Version" first).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
from dataclasses import dataclass

from reconciler.advisories import affected, parse_version
from reconciler.doctor.checks import Check
from reconciler.doctor.network import Target, Tls
from reconciler.errors import ShcfgError

VERSION_PATH = "/allversions"
PAGE_CAP = 64 * 1024
_BREAK = re.compile(r"<\s*/?\s*(?:br|p|div|tr|li|h\d|pre|table)\b[^>]{0,1000}>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,1000}>")
_AFTER_VERSION = re.compile("version", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """What ``GET /allversions`` answered (body capped)."""

    status: int
    content_type: str
    body: bytes


def fetch_page(target: Target, tls: Tls, timeout: float) -> Page:
    """``GET /allversions`` without the token; raises ``ShcfgError`` on no answer.

    A socket timeout bounds each read only, so a server dripping its page would hold
    doctor for hours: at ``timeout`` after connecting the socket is shut down.
    """
    conn: http.client.HTTPConnection
    cut = threading.Event()
    try:
        if target.scheme == "https":
            conn = http.client.HTTPSConnection(
                target.host, target.port, timeout=timeout, context=tls.context()
            )
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        timer = threading.Timer(timeout, _shut, (conn, cut))
        try:
            conn.connect()
            timer.start()
            conn.request("GET", VERSION_PATH, headers={"Accept": "text/plain, text/html, */*"})
            response = conn.getresponse()
            body = response.read(PAGE_CAP)
            if cut.is_set():  # what arrived before the cut is not the whole page
                raise OSError("cut at the deadline")
            content_type = response.getheader("Content-Type") or ""
            return Page(response.status, printable(content_type)[:100], body)
        finally:
            timer.cancel()
            conn.close()
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            raise ShcfgError(f"no whole answer within {timeout:g} s") from None
        raise ShcfgError(f"no answer ({exc.__class__.__name__})") from None


def _shut(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    """End a read that is still going at the deadline (the reader sees an error)."""
    cut.set()
    if conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)


def printable(text: str) -> str:
    """``text`` without control or other non-printable characters."""
    return "".join(c for c in text if c.isprintable())


def page_version(body: bytes) -> str | None:
    """The server version the page names (``"5.5.7"``), or None."""
    text = _BREAK.sub("\n", body[:PAGE_CAP].decode("utf-8", "replace"))
    text = _TAG.sub(" ", text)
    lines = [printable(line)[:200] for line in text.splitlines()]
    mentions = [line for line in lines if "version" in line.lower()]
    ordered = [line for line in mentions if "sh version" in line.lower()] + mentions
    for line in ordered:
        parsed = parse_version(_AFTER_VERSION.split(line, maxsplit=1)[-1])
        if parsed is not None:
            return ".".join(str(part) for part in parsed)
    return None


def check_version(page: Page | None, failure: str | None) -> Check:
    """An unknown version is a warning; so is a version an advisory affects."""
    unchecked = "the version could not be checked against published advisories"
    if page is None:
        return Check("version", "warn", f"version page not available: {failure}", unchecked)
    if page.status != 200:
        return Check(
            "version", "warn", f"version page not available (HTTP {page.status})", unchecked
        )
    version = page_version(page.body)
    if version is None:
        return Check("version", "warn", f"version unknown: {VERSION_PATH} names none", unchecked)
    advisories = affected(version)
    if not advisories:
        return Check("version", "ok", f"SimpleHelp {version}: no published advisory affects it")
    ids = ", ".join(a.id for a in advisories)
    newest = max((max(a.fixed, key=_key) for a in advisories), key=_key)
    sources = " ".join(dict.fromkeys(a.sources[0] for a in advisories))
    return Check(
        "version",
        "warn",
        f"SimpleHelp {version} is affected by {ids}",
        f"upgrade to {newest} or later; see {sources}",
    )


def _key(version: str) -> tuple[int, ...]:
    return parse_version(version) or (0,)
