"""One Mastodon API call: the token's account and scopes, the merged parameters, Mastodon-shaped errors.

Every endpoint is `async def handler(call: Call) -> Response | dict | list`, wrapped by `endpoint()`
which opens the session (a transaction for writes), authenticates, checks the scope and maps the
local rules' refusals to the statuses and bodies Mastodon clients expect (CLIENTS.md).
"""
from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from fedserver.api.responses import json_document
from fedserver.db import utcnow
from fedserver.ids import InvalidId, parse_id
from fedserver.local import oauth
from fedserver.local.errors import Invalid, LocalError, NotAllowed, NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.oauth import AccessToken
from fedserver.local.scopes import grants
from fedserver.site import Site

CORS = {"Access-Control-Allow-Origin": "*"}


class ApiError(Exception):
    """A refusal with a status and Mastodon's {"error": ...} body."""

    def __init__(self, status_code: int, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.extra = status_code, message, extra or {}


@dataclass
class Call:
    request: Request
    session: AsyncSession
    site: Site
    now: datetime
    params: dict[str, Any]
    token: AccessToken | None = None
    account: Account | None = None
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (Link ...)

    @property
    def me(self) -> Account:
        """The signed-in account; 401 for app-only tokens and anonymous calls that need one."""
        if self.account is None:
            raise ApiError(401, "This method requires an authenticated user")
        return self.account

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name, default)
        return None if value is None else str(value)

    def flag(self, name: str, default: bool = False) -> bool:
        """Mastodon's booleans: true/1/on/yes, in forms, query strings and JSON alike."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "on", "yes", "t")

    def ids(self, name: str) -> list[str]:
        """An array parameter: JSON list, or repeated `name[]` form/query fields."""
        value = self.params.get(name)
        if value is None:
            return []
        return [str(item) for item in (value if isinstance(value, list) else [value])]

    def path_id(self, name: str = "id") -> int:
        """An id from the path; anything that cannot be one of ours is simply not found."""
        try:
            return parse_id(str(self.request.path_params[name]), name)
        except InvalidId:
            raise ApiError(404, "Record not found") from None


Handler = Callable[[Call], Awaitable[Response | dict[str, Any] | list[Any]]]


def endpoint(*, scope: str | None = None, user: bool = False, write: bool = False,
             public: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler. scope: what the token must grant; user: a signed-in account is required;
    write: run in a transaction; public: anonymous calls are allowed."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            site: Site = request.app.state.site
            try:
                params = await _params(request)
                async with site.sessions() as session:
                    if write:
                        async with session.begin():
                            return await _call(handler, request, session, site, params, scope, user, public, write)
                    return await _call(handler, request, session, site, params, scope, user, public, write)
            except ApiError as exc:
                return _error(exc.status_code, exc.message, exc.extra)
            except oauth.OAuthError as exc:
                return _error(400, exc.code, {"error_description": str(exc)})
            except Invalid as exc:
                return _error(422, f"Validation failed: {exc}",
                              {"details": {exc.field: [{"error": exc.code, "description": str(exc)}]}})
            except NotFound as exc:
                return _error(404, str(exc) or "Record not found")
            except NotAllowed as exc:
                return _error(403, str(exc))
            except LocalError as exc:
                return _error(422, str(exc))
            finally:
                await request.close()  # uploads are spooled to temporary files: close them whatever happened

        return run

    return wrap


async def _call(handler: Handler, request: Request, session: AsyncSession, site: Site, params: dict[str, Any],
                scope: str | None, user: bool, public: bool, write: bool) -> Response:
    call = Call(request=request, session=session, site=site, now=utcnow(), params=params)
    token_text = _bearer(request)
    if token_text is not None:
        try:
            call.token, call.account = await oauth.authenticate(session, token_text, now=call.now, record=write)
        except NotFound:
            raise ApiError(401, "The access token is invalid") from None
        if not write and call.account is not None and oauth.use_is_due(call.token, call.now):
            await _record_use(site, call.token.id, call.account.id, call.now)
    elif not public:
        raise ApiError(401, "The access token is invalid")
    if call.token is not None and scope is not None and not grants(call.token.scopes.split(), scope):
        raise ApiError(403, "This action is outside the authorized scopes")
    if user and call.account is None:
        raise ApiError(401 if call.token is None else 422, "This method requires an authenticated user")
    result = await handler(call)
    if isinstance(result, Response):
        response = result
    else:
        response = json_document(result)
    response.headers.update({**CORS, **call.headers})
    return response


async def _record_use(site: Site, token_id: int, account_id: int, now: datetime) -> None:
    """A read call records the token's use in a short write transaction of its own: written inside the
    read, the update would be rolled back with it, and on SQLite a reading transaction cannot wait for
    the write lock (it fails at once with "database is locked" when a worker holds it)."""
    async with site.sessions() as session, session.begin():
        await oauth.record_use(session, token_id, account_id, now=now)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.query_params.get("access_token")  # streaming and a few clients pass it so


async def _params(request: Request) -> dict[str, Any]:
    """Query string, then the body (JSON or form) on top, as Rails merges them for Mastodon."""
    params: dict[str, Any] = _from_pairs(request.query_params.multi_items())
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.body()
            if body.strip():
                try:
                    loaded = json.loads(body)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    raise ApiError(400, "the body is not valid JSON") from None
                if not isinstance(loaded, dict):
                    raise ApiError(400, "the body must be a JSON object")
                params.update(loaded)
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form: FormData = await request.form(max_files=8, max_fields=1000)
            params.update(_from_pairs(form.multi_items()))
    return params


_NESTED_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def _from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Rails conventions Mastodon clients use: `a[]=1&a[]=2` becomes a list, `b[c]=x` a nested dict,
    `fields_attributes[0][name]=x` a dict of dicts; a key that fits none of them is kept as it is."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        match = _NESTED_KEY.match(key)
        path = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])] if match else []
        if not path or "" in path[:-1]:  # `a[][b]` (arrays of hashes) is not used by any client we know
            params[key] = value
            continue
        target: dict[str, Any] = params
        for name in path[:-2]:
            if not isinstance(target.get(name), dict):
                target[name] = {}
            target = target[name]
        parent, last = path[-2], path[-1]
        if last == "":
            if not isinstance(target.get(parent), list):
                target[parent] = []
            target[parent].append(value)
        else:
            if not isinstance(target.get(parent), dict):
                target[parent] = {}
            target[parent][last] = value
    return params


def _error(status_code: int, message: str, extra: dict[str, Any] | None = None) -> Response:
    return json_document({"error": message, **(extra or {})}, status_code=status_code, headers=dict(CORS))
