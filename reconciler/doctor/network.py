"""URL, DNS, TCP and TLS checks, done with the standard library so each is precise.

None of them sends the token: they resolve, connect, shake hands and, to tell HTTP from
HTTPS, send ``HEAD /``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.client.transport import validate_base_url
from reconciler.doctor.checks import Check
from reconciler.errors import ShcfgError

CA_HINT = (
    "a self-signed or private-CA certificate needs --ca-bundle PATH (the CA's PEM file); "
    "--insecure skips the check but lets anyone on the path read the token"
)
HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH
_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})")


@dataclass(frozen=True)
class Target:
    """Where the server is: what the URL names, checked."""

    scheme: str
    host: str
    port: int
    base_url: str

    @property
    def with_other_scheme(self) -> str:
        other = "http" if self.scheme == "https" else "https"
        return f"{other}://{self._netloc}"

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Tls:
    """The TLS settings of the connection options."""

    ca_bundle: str | None
    insecure: bool

    def context(self) -> ssl.SSLContext:
        """Raises ``ShcfgError`` on a bad combination or an unreadable bundle."""
        if self.ca_bundle is not None and self.insecure:
            raise ShcfgError("--ca-bundle and --insecure cannot be combined")
        if self.insecure:
            return _unverified()
        if self.ca_bundle is not None:
            if not os.path.isfile(self.ca_bundle):
                raise ShcfgError(f"CA bundle not found: {self.ca_bundle}")
            try:
                return ssl.create_default_context(cafile=self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise ShcfgError(
                    f"CA bundle {self.ca_bundle}: cannot load it: {exc.__class__.__name__}"
                ) from None
        return ssl.create_default_context()


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def check_url(url: str | None) -> tuple[Check, Target | None]:
    """The URL has a scheme, a host and nothing else (it is never echoed: it may hold
    the token when a full API URL was pasted)."""
    if not url or not url.strip():
        return Check("url", "fail", "no server URL", "pass --url URL or set SIMPLEHELP_URL"), None
    text = url.strip()
    if "://" not in text:
        host = text.split("/", 1)[0].rsplit("@", 1)[-1]
        hint = f"did you mean https://{host}?" if host and host.isprintable() else None
        return Check("url", "fail", "the URL has no scheme (http:// or https://)", hint), None
    try:
        base = validate_base_url(text)
    except ShcfgError as exc:
        return Check("url", "fail", str(exc), "give only scheme://host[:port]"), None
    parts = urlsplit(base)
    default = 443 if parts.scheme == "https" else 80
    target = Target(parts.scheme, parts.hostname or "", parts.port or default, base)
    return Check("url", "ok", base), target


def check_dns(target: Target) -> Check:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return Check(
            "dns",
            "fail",
            f"{target.host} could not be resolved ({exc.__class__.__name__})",
            "check the host name in the URL and this machine's DNS settings",
        )
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return Check("dns", "ok", f"{target.host} -> {', '.join(addresses[:4])}")


def check_tcp(target: Target, timeout: float) -> Check:
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            pass
    except ConnectionRefusedError:
        detail = f"connection to port {target.port} refused"
    except TimeoutError:
        detail = f"no answer from port {target.port} within {timeout:g} s"
    except OSError as exc:
        detail = f"cannot connect to port {target.port} ({exc.__class__.__name__})"
    else:
        return Check("tcp", "ok", f"connected to {target.host} port {target.port}")
    return Check("tcp", "fail", detail, "check the port in the URL and that no firewall blocks it")


def check_tls(target: Target, tls: Tls, timeout: float) -> Check:
    """HTTPS: the handshake and the certificate. HTTP: that the port speaks plain HTTP."""
    if target.scheme == "http":
        return _check_plain(target, timeout)
    try:
        context = tls.context()
    except ShcfgError as exc:
        return Check("tls", "fail", str(exc), None)
    try:
        with (
            socket.create_connection((target.host, target.port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=target.host) as conn,
        ):
            version = conn.version() or "TLS"
    except ssl.SSLCertVerificationError as exc:
        message = exc.verify_message or "certificate verification failed"
        if exc.verify_code == HOSTNAME_MISMATCH:
            hint = "the certificate names another host: use that name in the URL"
        else:
            hint = CA_HINT
        return Check("tls", "fail", f"certificate not trusted: {message}", hint)
    except (ssl.SSLError, OSError) as exc:
        if _plain_http_status(target, timeout) is not None:
            return Check(
                "tls",
                "fail",
                "https:// against a plain-HTTP port: the server answered in plain HTTP",
                f"use {target.with_other_scheme}, or the port where the server serves HTTPS",
            )
        return Check("tls", "fail", f"TLS handshake failed ({exc.__class__.__name__})", None)
    detail = f"{version}, certificate verified"
    if tls.insecure:
        return Check("tls", "warn", f"{version}, certificate NOT verified (--insecure)", CA_HINT)
    return Check("tls", "ok", detail)


def _check_plain(target: Target, timeout: float) -> Check:
    status = _plain_http_status(target, timeout)
    # A TLS port may answer plain HTTP with a 400 ("plain HTTP request sent to HTTPS port").
    if status in (None, 400) and _speaks_tls(target, timeout):
        return Check(
            "tls",
            "fail",
            "http:// against an HTTPS port: the server expects TLS here",
            f"use {target.with_other_scheme}",
        )
    if status is None:
        return Check("tls", "fail", "the port answers neither plain HTTP nor TLS", None)
    if _loopback(target.host):
        return Check("tls", "ok", "not used: plain HTTP on a loopback address")
    return Check(
        "tls",
        "warn",
        "not used: plain HTTP, the token crosses the network unencrypted",
        "serve the API over HTTPS and use an https:// URL",
    )


def _loopback(host: str) -> bool:
    """Plain HTTP to this machine never crosses a network."""
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return host == "localhost"


def _plain_http_status(target: Target, timeout: float) -> int | None:
    """The status of a plain ``HEAD /``, or None when the answer is not HTTP."""
    request = f"HEAD / HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as conn:
            conn.sendall(request.encode("ascii", "replace"))
            head = conn.recv(64)
    except OSError:
        return None
    match = _STATUS_LINE.match(head)
    return int(match.group(1)) if match else None


def _speaks_tls(target: Target, timeout: float) -> bool:
    try:
        with (
            socket.create_connection((target.host, target.port), timeout=timeout) as raw,
            _unverified().wrap_socket(raw, server_hostname=target.host),
        ):
            return True
    except (ssl.SSLError, OSError):
        return False
