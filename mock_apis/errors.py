"""One error type for both vendors, rendered in each vendor's shape, and the response
triple (status, headers, body) every layer of the app passes around."""

from __future__ import annotations

import hashlib
import itertools

import orjson

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
JSON = [(b"content-type", b"application/json; charset=utf-8")]

_counter = itertools.count(1)


class ApiError(Exception):
    """`code` is the MailChimp title or the HubSpot category; `message` says what and where."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _request_id() -> str:
    h = hashlib.md5(str(next(_counter)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def mailchimp_error(err: ApiError) -> Response:
    body = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": err.code,
        "status": err.status,
        "detail": err.message,
        "instance": _request_id(),
        **err.extra,
    }
    return (
        err.status,
        [(b"content-type", b"application/problem+json; charset=utf-8")],
        orjson.dumps(body),
    )


def hubspot_error(err: ApiError) -> Response:
    body = {
        "status": "error",
        "message": err.message,
        "correlationId": _request_id(),
        "category": err.code,
        **err.extra,
    }
    return err.status, [(b"content-type", b"application/json;charset=utf-8")], orjson.dumps(body)
