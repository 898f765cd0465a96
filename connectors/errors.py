"""Typed errors: callers (CLI, DAG) decide by type, and every message is credential-free:
a message passes through `connectors.redact.redact` when the error is made."""

from __future__ import annotations

from typing import Any

from connectors.redact import redact


class ConnectorError(Exception):
    """Base class of every error the connectors raise on purpose."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class ConfigError(ConnectorError, ValueError):
    """The connector configuration is incomplete or inconsistent."""


class HttpError(ConnectorError):
    """An HTTP call failed for good (after retries where retrying made sense)."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.retry_after: float | None = None  # seconds the server asked to wait (429/503)


class AuthError(HttpError):
    """401/403: the credential is missing, wrong or lacks a scope. Never retried."""


class RateLimited(HttpError):
    """429 that outlived every retry."""


class ServerError(HttpError):
    """5xx, broken connection or unparseable body that outlived every retry."""


class Unreachable(HttpError):
    """Nothing answers at the base URL's host:port (connection refused) or its name does
    not resolve. Retried only briefly: a retry cannot fix a wrong URL or a stopped server.
    `host` and `port` say where, `reason` is "connection refused" or "name not known"."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        host: str = "",
        port: int | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message, url=url)
        self.host, self.port, self.reason = host, port, reason


class UnexpectedResponse(HttpError):
    """A 2xx body that is valid JSON but not shaped as the API documents. Not retried."""


class ClientError(HttpError):
    """Any other 4xx: the request itself is wrong (a bug, or an API change)."""


class SourceLocked(ConnectorError):
    """Another extract of the same source holds the lock file."""


class SyncFailed(ConnectorError):
    """One or more streams failed; `result` holds what did and did not load."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class LoadFailed(ConnectorError):
    """A DuckDB statement failed while loading a stream; its transaction was rolled back.

    `first_error` is the statement's own error (e.g. DuckDB's OutOfMemoryException), never
    the "Current transaction is aborted" that any later statement would report instead."""

    def __init__(self, message: str, *, stream: str, first_error: BaseException) -> None:
        super().__init__(message)
        self.stream = stream
        self.first_error = first_error
