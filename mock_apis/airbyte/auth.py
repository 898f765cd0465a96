"""Client-credentials auth as Airbyte's `POST /applications/token` does it.

Tokens are HS256 JWTs signed with a key derived from the client secret, so they stay
valid across a restart of the fake (as the real server's do) and the SDK's process-wide
token cache never holds a token a restarted fake refuses. They expire after `ttl_s`
(the real server: 180 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from mock_apis.airbyte.problems import Problem, bad_request


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, client_id: str, client_secret: str, ttl_s: int = 180) -> None:
        self.client_id = client_id
        self.ttl_s = ttl_s
        self._client_secret = client_secret
        self._key = hashlib.sha256(b"fake-airbyte:" + client_secret.encode()).digest()

    def _sign(self, head_and_body: str) -> str:
        return _b64(hmac.new(self._key, head_and_body.encode(), hashlib.sha256).digest())

    def issue(self, content_type: str, raw: bytes) -> dict[str, Any]:
        """The token response for a client-credentials request: form-encoded (what the
        SDK sends) or JSON (what Airbyte's docs show)."""
        form = _token_form(content_type, raw)
        grant = form.get("grant_type") or form.get("grant-type") or "client_credentials"
        if grant != "client_credentials":
            raise bad_request(f"grant_type {grant!r} is not supported; use client_credentials")
        missing = [k for k in ("client_id", "client_secret") if not form.get(k)]
        if missing:
            raise bad_request(f"the token request lacks {', '.join(missing)}", fields=missing)
        same_id = hmac.compare_digest(str(form["client_id"]), self.client_id)
        same_secret = hmac.compare_digest(str(form["client_secret"]), self._client_secret)
        if not (same_id and same_secret):
            raise Problem("invalid-api-key", "Invalid client_id or client_secret.")
        now = int(time.time())
        head = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
        body = _b64(orjson.dumps({"sub": self.client_id, "iat": now, "exp": now + self.ttl_s}))
        token = f"{head}.{body}.{self._sign(f'{head}.{body}')}"
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl_s}

    def require(self, authorization: str | None) -> None:
        """Raise the API's 401 problem unless `authorization` is a valid, unexpired bearer."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                "invalid-api-key",
                "No bearer token in the Authorization header: get one from "
                "POST <server>/api/public/v1/applications/token and send "
                "'Authorization: Bearer <access_token>'.",
            )
        parts = token.strip().split(".")
        if len(parts) != 3 or not hmac.compare_digest(
            self._sign(f"{parts[0]}.{parts[1]}"), parts[2]
        ):
            raise Problem("invalid-api-key", "The API key in the Authorization header is invalid.")
        claims = orjson.loads(_unb64(parts[1]))
        if claims.get("exp", 0) <= time.time():
            raise Problem("invalid-api-key", "The access token has expired: request a new one.")


def _token_form(content_type: str, raw: bytes) -> dict[str, Any]:
    if "json" in content_type:
        try:
            body = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"the token request body is not valid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise bad_request("the token request body must be a JSON object")
        return body
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
