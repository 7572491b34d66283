"""Discord's own OpenAPI description (API v10): route matching and request-body validation.

Every REST request the bot sends to the sandbox is matched to an operation of the spec and its
JSON body is validated against the operation's `requestBody` schema (JSON Schema 2020-12). An
unknown path or method, or a body the schema rejects, is a *violation*; tests fail on any.

Discord says its spec may be imprecise; where a request that discord.py itself builds is rejected,
the exception goes in :data:`ALLOWED`, with the reason, and the validator is never loosened.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:dramawatch:discord-openapi"
METHODS = ("get", "put", "post", "patch", "delete")


def _drop_media_channel_type(body: Any) -> Any:
    """Remove channel type 16 (GUILD_MEDIA) from every `channel_types` list in a command payload."""
    if isinstance(body, list):
        return [_drop_media_channel_type(item) for item in body]
    if isinstance(body, dict):
        out = {k: _drop_media_channel_type(v) for k, v in body.items()}
        if isinstance(out.get("channel_types"), list):
            out["channel_types"] = [t for t in out["channel_types"] if t != 16]
        return out
    return body


SNOWFLAKE_KEYS = frozenset(
    {"id", "channel_id", "guild_id", "message_id", "users", "roles", "applied_tags", "recipient_id"}
)


def _snowflakes_as_strings(body: Any) -> Any:
    """Integer ids at snowflake keys → strings (the spec's SnowflakeType is a string)."""
    if isinstance(body, list):
        return [_snowflakes_as_strings(item) for item in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in SNOWFLAKE_KEYS and isinstance(value, int) and not isinstance(value, bool):
            out[key] = str(value)
        elif key in SNOWFLAKE_KEYS and isinstance(value, list):
            out[key] = [
                str(v) if isinstance(v, int) and not isinstance(v, bool) else _snowflakes_as_strings(v) for v in value
            ]
        else:
            out[key] = _snowflakes_as_strings(value)
    return out


def _null_entity_metadata(body: Any) -> Any:
    if isinstance(body, dict) and body.get("entity_type") in (1, 2) and "entity_metadata" not in body:
        return {**body, "entity_metadata": None}
    return body


@dataclass(frozen=True)
class Deviation:
    """A request discord.py builds that the spec rejects although Discord accepts it."""

    operations: frozenset[str]
    reason: str
    normalise: Callable[[Any], Any]


# The one explicit allow-list. Each entry rewrites only the known deviation before validation;
# the validator itself is never loosened. Keep it short, and say why for each.
ALLOWED: list[Deviation] = [
    Deviation(
        frozenset(
            {
                "bulk_set_application_commands",
                "bulk_set_guild_application_commands",
                "create_application_command",
                "create_guild_application_command",
                "update_application_command",
                "update_guild_application_command",
            }
        ),
        "discord.py lists channel type 16 (GUILD_MEDIA) in channel_types for ForumChannel options; Discord "
        "documents GUILD_MEDIA and accepts it, but the spec's ChannelTypes enum stops at 15.",
        _drop_media_channel_type,
    ),
    Deviation(
        frozenset(),  # every operation
        "discord.py sends some snowflakes as JSON integers (event channel_id, allowed_mentions users/roles, "
        "forum tag ids, attachment ids, DM recipient_id); Discord accepts integer snowflakes, the spec only strings.",
        _snowflakes_as_strings,
    ),
    Deviation(
        frozenset({"create_guild_scheduled_event", "update_guild_scheduled_event"}),
        "for a voice or stage event discord.py leaves out entity_metadata, which Discord documents as "
        "required only for external events; the spec requires the key (null allowed).",
        _null_entity_metadata,
    ),
]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    params: dict[str, str]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    operation_id: str
    literal_segments: int


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class OpenAPISpec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        routes: list[_Route] = []
        for template, item in document["paths"].items():
            for method in METHODS:
                op = item.get(method)
                if op is None:
                    continue
                literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
                routes.append(_Route(method.upper(), template, _compile(template), op["operationId"], literal))
        # Prefer the most literal template when two match (e.g. messages/@original over {message_id}).
        routes.sort(key=lambda r: -r.literal_segments)
        self._routes = routes
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[tuple[str, str, str], Draft202012Validator | None] = {}

    @classmethod
    @functools.cache
    def default(cls) -> OpenAPISpec:
        text = (resources.files("bot.sandbox") / "discord_openapi" / "openapi.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for `path` (without the /api/v10 prefix or query string), or None."""
        method = method.upper()
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return Operation(route.operation_id, method, route.template, found.groupdict())
        return None

    def path_exists(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self._routes)

    def _validator(self, op: Operation, content_type: str) -> Draft202012Validator | None:
        key = (op.template, op.method, content_type)
        if key not in self._validators:
            body = self.document["paths"][op.template][op.method.lower()].get("requestBody")
            content = (body or {}).get("content", {})
            if content_type not in content:
                self._validators[key] = None
            else:
                pointer = "/".join(
                    p.replace("~", "~0").replace("/", "~1")
                    for p in ("paths", op.template, op.method.lower(), "requestBody", "content", content_type, "schema")
                )
                self._validators[key] = Draft202012Validator(
                    {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self._registry
                )
        return self._validators[key]

    def accepts_body(self, op: Operation) -> bool:
        body = self.document["paths"][op.template][op.method.lower()].get("requestBody")
        return bool(body and body.get("content"))

    def validate(self, op: Operation, body: Any) -> list[str]:
        """Problems with a JSON request body for `op`; an empty list when it is valid."""
        if body is None:
            return []
        if not self.accepts_body(op):
            return [f"{op.operation_id} takes no request body"]
        validator = self._validator(op, "application/json")
        if validator is None:
            return [f"{op.operation_id} does not take a JSON body"]
        for deviation in ALLOWED:
            if not deviation.operations or op.operation_id in deviation.operations:
                body = deviation.normalise(body)
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = best_match(errors)
        where = "/".join(str(p) for p in best.absolute_path) or "(body)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return [f"{op.operation_id}: {where}: {_short(best.message)}{more}"]


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
