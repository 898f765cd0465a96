"""Keep credentials out of every text a run leaves behind: messages, logs, the sync log.

An upstream error body may echo the request's `Authorization` header, a proxy may
log a URL with the key in it, a body may be cut short in the middle of a token. So a
secret is hidden in every form it travels in: as is, URL-encoded, base64-encoded
(alone or as the `user:secret` of HTTP Basic, whatever the user part), and as a
prefix of at least `PREFIX_CHARS` characters (a truncated echo). Any
`Authorization:` value and any `Basic` / `Bearer` token is hidden too, known or not.

`Redactor` does it for a fixed set of secrets (`Redactor.from_config` takes a
config's `SecretStr` fields). A process-wide registry serves every other package:
`register_secret()` adds secrets (each connector config registers its own when it is
built) and `redact()` hides all of them in any text. `RedactingFilter` applies
`redact()` to log records. This module imports nothing from the project.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretBytes, SecretStr

MASK = "***"
#: a run of this many leading characters of a secret is hidden wherever it appears
PREFIX_CHARS = 20
#: shorter secrets are not registered: hiding them would garble ordinary text
MIN_SECRET_CHARS = 6
#: the tail after `user:` in a decoded base64 blob counts as a cut-off secret from here
_MIN_CUT_CHARS = 8

_AUTH_VALUE = re.compile(
    r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)"
    r"(?>(?:(basic|bearer|token|digest)\s+)?)(?!\*\*\*)[^\s\"',;}\]]+"
)
# a scheme and a token that looks like one (a digit, `+`, `/` or `=` in it, or 20 letters):
# "Basic auth failed" keeps its words
_SCHEME_TOKEN = re.compile(
    r"(?i)\b(basic|bearer)(\s+)"
    r"(?=[A-Za-z0-9._~+/-]*[0-9+/=]|[A-Za-z]{20})[A-Za-z0-9._~+/-]{8,}=*"
)
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:apikey|api_key|access_token|token|hapikey|key|password)=)[^&#\s\"']+"
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def _plain(secret: str | SecretStr | SecretBytes | bytes | None) -> str:
    if isinstance(secret, SecretStr | SecretBytes):
        secret = secret.get_secret_value()
    if isinstance(secret, bytes):
        secret = secret.decode("utf-8", "replace")
    return (secret or "").strip()


def _b64(raw: str) -> set[str]:
    data = raw.encode()
    out = set()
    for enc in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
        text = enc.decode()
        out |= {text, text.rstrip("=")}
    return out


def _percent(secret: str) -> set[str]:
    forms = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}
    return forms | lower


def encodings(secret: str) -> set[str]:
    """The literal forms `secret` travels in (its prefix and base64 blobs are matched
    separately, since they cannot be listed)."""
    forms = {secret, *_percent(secret), *_b64(secret), *_b64(f"anystring:{secret}")}
    return {f for f in forms if f}


def _decode_b64(run: str) -> str | None:
    body = run.rstrip("=")
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    padded = body + "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        return base64.b64decode(padded, altchars=altchars).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


class Redactor:
    """Hides the given secrets (in every encoding) and any credential-shaped header
    value or query parameter in a text."""

    def __init__(self, secrets: Iterable[str | SecretStr | SecretBytes | bytes | None] = ()):
        plain = {_plain(s) for s in secrets}
        self.secrets: tuple[str, ...] = tuple(
            sorted((s for s in plain if len(s) >= MIN_SECRET_CHARS), key=len, reverse=True)
        )
        forms = sorted({f for s in self.secrets for f in encodings(s)}, key=len, reverse=True)
        self._literal = re.compile("|".join(map(re.escape, forms))) if forms else None

    @classmethod
    def from_config(cls, config: BaseModel) -> Redactor:
        """A redactor for every `SecretStr` / `SecretBytes` field of a (pydantic) config."""
        return cls(secret_values(config))

    def __call__(self, text: str) -> str:
        return self.redact(text)

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def redact(self, text: str) -> str:
        """`text` with every known secret, and anything shaped like a credential, masked."""
        if not text:
            return text
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        for secret in self.secrets:
            text = _mask_prefixes(text, secret)
        if self.secrets:
            text = _BASE64_RUN.sub(self._base64_run, text)
        text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{_scheme(m.group(2))}{MASK}", text)
        text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{MASK}", text)

    def _base64_run(self, match: re.Match[str]) -> str:
        decoded = _decode_b64(match.group(0))
        if decoded and any(_carries(decoded, s) for s in self.secrets):
            return MASK
        return match.group(0)


def _scheme(word: str | None) -> str:
    return f"{word} " if word else ""


def _carries(decoded: str, secret: str) -> bool:
    """Whether a decoded base64 blob holds `secret`, whole or cut off (`user:secr...`)."""
    if secret[:PREFIX_CHARS] in decoded:
        return True
    tail = decoded.rsplit(":", 1)[-1]
    return len(tail) >= _MIN_CUT_CHARS and secret.startswith(tail)


def _mask_prefixes(text: str, secret: str) -> str:
    """Mask each run starting with the secret's first `PREFIX_CHARS` characters, as far
    as it goes on matching the secret."""
    head = secret[:PREFIX_CHARS]
    out, i = [], 0
    while (j := text.find(head, i)) >= 0:
        k, m = j + len(head), len(head)
        while k < len(text) and m < len(secret) and text[k] == secret[m]:
            k, m = k + 1, m + 1
        out += [text[i:j], MASK]
        i = k
    out.append(text[i:])
    return "".join(out)


def secret_values(config: BaseModel) -> list[str]:
    """The plain values of a pydantic model's `SecretStr` / `SecretBytes` fields."""
    values = (getattr(config, name, None) for name in type(config).model_fields)
    return [_plain(v) for v in values if isinstance(v, SecretStr | SecretBytes)]


# --------------------------------------------------------------------------- registry
_lock = threading.Lock()
_registered: set[str] = set()
_current = Redactor()


def register_secret(*secrets: str | SecretStr | SecretBytes | bytes | None) -> None:
    """Add secrets to the process-wide set that `redact()` hides. Idempotent."""
    global _current
    new = {s for s in map(_plain, secrets) if len(s) >= MIN_SECRET_CHARS} - _registered
    if not new:
        return
    with _lock:
        _registered.update(new)
        _current = Redactor(_registered)


def register_config(config: BaseModel) -> None:
    """Register every secret field of a config."""
    register_secret(*secret_values(config))


def redact(text: Any) -> str:
    """`str(text)` with every registered secret (in every encoding) and anything shaped
    like a credential masked. Safe on any text: call it before printing or storing one."""
    return _current.redact(text if isinstance(text, str) else str(text))


def registered() -> int:
    """How many secrets the registry holds (tests, diagnostics)."""
    return len(_registered)


# --------------------------------------------------------------------------- logging
class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message, arguments and exception text. Attach it
    to a handler (every record through it) or to the logger a module logs on."""

    def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
        super().__init__(name)
        self._redactor = redactor

    def _redact(self, text: str) -> str:
        text = self._redactor.redact(text) if self._redactor else text
        return redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            message = str(record.msg)
        record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def install(*targets: logging.Logger | logging.Handler | str) -> RedactingFilter:
    """Add one `RedactingFilter` to each logger (by object or name) or handler; with no
    target, to every handler of the root logger. Adding it twice is a no-op."""
    chosen = targets or tuple(logging.getLogger().handlers)
    flt = RedactingFilter()
    for target in chosen:
        obj = logging.getLogger(target) if isinstance(target, str) else target
        if not any(isinstance(f, RedactingFilter) for f in obj.filters):
            obj.addFilter(flt)
    return flt
