"""Discord's own OpenAPI description (API v10): route matching and request-body validation.

Every REST request the bot sends to the sandbox is matched to an operation of the spec and its
JSON body is validated against the operation's `requestBody` schema (JSON Schema 2020-12). An
unknown path or method, or a body the schema rejects, is a *violation*; tests fail on any.

Discord says its spec may be imprecise; where a request that discord.py itself builds is rejected,
the exception goes in :data:`ALLOWED`, with the reason, and the validator is never loosened.

The other way round, where the spec is *looser* than Discord's documentation (message content,
embed totals, component and choice limits, forum tags, formats), :data:`STRICTER` holds the
documented rule, each citing its section of the Discord developer docs (discord/discord-api-docs).
Those checks are cheap and run on every request before it is answered: a body that breaks one is
refused with Discord's 400 (code 50035, with `errors` as Discord nests them) and is a violation.
The `format` keywords of the schema (`uri`, `date-time`) are checked too (:data:`FORMATS`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
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


# -- formats -----------------------------------------------------------------------------------------
# jsonschema checks `uri` only with the optional rfc3987 package and `date-time` only with
# rfc3339-validator; neither is a dependency, so the sandbox brings its own two checkers.
FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    """RFC 3339 with an offset (Discord's "ISO8601 timestamp"), e.g. 2026-11-28T11:00:00+00:00."""
    if not isinstance(value, str):
        return True  # the type keyword reports that
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))  # a real date (no 2026-02-30)
    return True


@FORMATS.checks("uri")
def is_uri(value: object) -> bool:
    """An absolute URI: a scheme and, for web links, a host (embed links, button URLs, images)."""
    if not isinstance(value, str):
        return True
    if any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    return bool(parts.netloc) if parts.scheme.lower() in ("http", "https") else bool(parts.netloc or parts.path)


# -- where the spec is looser than Discord ---------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One rule a request body breaks: where (a JSON path), Discord's error code and message."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def where(self) -> str:
        return ".".join(map(str, self.path)) or "(body)"


@dataclass(frozen=True)
class Override:
    """A documented rule the spec does not carry. `cites` is the discord-api-docs section."""

    name: str
    cites: str
    check: Callable[[str, Any], Iterator[Problem]]


# Operations whose body is (or carries) a message, and where the message sits in the body.
_MESSAGE_BODIES = frozenset(
    {
        "create_message",
        "update_message",
        "execute_webhook",
        "update_webhook_message",
        "update_original_webhook_message",
    }
)
CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
EMBEDS_LIMIT = 10
ACTION_ROWS_LIMIT = 5
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100
TAG_NAME_LIMIT = 20
TAGS_LIMIT = 20
APPLIED_TAGS_LIMIT = 5
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
IS_COMPONENTS_V2 = 1 << 15


def messages_in(operation_id: str, body: Any) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path, message-like object) for every message a request body sends or edits."""
    if not isinstance(body, dict):
        return
    if operation_id in _MESSAGE_BODIES:
        yield (), body
    elif operation_id == "create_interaction_response" and body.get("type") in (4, 7, 9):
        if isinstance(body.get("data"), dict):
            yield ("data",), body["data"]
    elif operation_id == "create_thread" and isinstance(body.get("message"), dict):
        yield ("message",), body["message"]


def _content(operation_id: str, body: Any) -> Iterator[Problem]:
    for path, message in messages_in(operation_id, body):
        content = message.get("content")
        if isinstance(content, str) and len(content) > CONTENT_LIMIT:
            yield Problem((*path, "content"), "BASE_TYPE_MAX_LENGTH", f"Must be {CONTENT_LIMIT} or fewer in length.")


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward the 6,000 of a message: title, description, field names
    and values, footer text, author name."""

    def text(value: Any) -> int:
        return len(value) if isinstance(value, str) else 0

    size = text(embed.get("title")) + text(embed.get("description"))
    for item in embed.get("fields") or []:
        if isinstance(item, dict):
            size += text(item.get("name")) + text(item.get("value"))
    size += text((embed.get("footer") or {}).get("text")) + text((embed.get("author") or {}).get("name"))
    return size


def _embeds(operation_id: str, body: Any) -> Iterator[Problem]:
    for path, message in messages_in(operation_id, body):
        embeds = message.get("embeds")
        if not isinstance(embeds, list):
            continue
        if len(embeds) > EMBEDS_LIMIT:
            yield Problem((*path, "embeds"), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_LIMIT} or fewer in length.")
        total = sum(embed_size(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL_LIMIT:
            yield Problem(
                (*path, "embeds"),
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT} (these embeds have {total} characters).",
            )


def _walk_components(components: Any) -> Iterator[dict[str, Any]]:
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        yield component
        yield from _walk_components(component.get("components"))
        for key in ("component", "accessory"):  # a label's input, a section's button
            if isinstance(component.get(key), dict):
                yield from _walk_components([component[key]])


def _components(operation_id: str, body: Any) -> Iterator[Problem]:
    for path, message in messages_in(operation_id, body):
        components = message.get("components")
        if not isinstance(components, list):
            continue
        if not int(message.get("flags") or 0) & IS_COMPONENTS_V2 and len(components) > ACTION_ROWS_LIMIT:
            yield Problem(
                (*path, "components"), "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_LIMIT} or fewer in length."
            )
        seen: set[str] = set()
        for component in _walk_components(components):
            custom_id = component.get("custom_id")
            if not isinstance(custom_id, str):
                continue
            if custom_id in seen:
                yield Problem(
                    (*path, "components"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    f"Component custom id cannot be duplicated ({custom_id!r}).",
                )
            seen.add(custom_id)
            if not 1 <= len(custom_id) <= 100:
                yield Problem((*path, "components"), "BASE_TYPE_BAD_LENGTH", "custom_id must be 1-100 in length.")


def _choice_problems(choices: Any, path: tuple[str | int, ...]) -> Iterator[Problem]:
    if not isinstance(choices, list):
        return
    if len(choices) > CHOICES_LIMIT:
        yield Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_LIMIT} or fewer in length.")
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_LIMIT:
            yield Problem(
                (*path, i, "name"), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {CHOICE_LIMIT} in length."
            )
        if isinstance(value, str) and len(value) > CHOICE_LIMIT:
            yield Problem((*path, i, "value"), "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICE_LIMIT} or fewer in length.")


def _choices(operation_id: str, body: Any) -> Iterator[Problem]:
    if operation_id == "create_interaction_response" and isinstance(body, dict) and body.get("type") == 8:
        yield from _choice_problems((body.get("data") or {}).get("choices"), ("data", "choices"))
    elif operation_id.startswith(("bulk_set_", "create_", "update_")) and "application_command" in operation_id:

        def options(items: Any, path: tuple[str | int, ...]) -> Iterator[Problem]:
            for i, option in enumerate(items if isinstance(items, list) else []):
                if isinstance(option, dict):
                    yield from _choice_problems(option.get("choices"), (*path, i, "choices"))
                    yield from options(option.get("options"), (*path, i, "options"))

        commands = body if isinstance(body, list) else [body]
        for i, command in enumerate(commands):
            if isinstance(command, dict):
                yield from options(command.get("options"), (i, "options"))


def _forum_tags(operation_id: str, body: Any) -> Iterator[Problem]:
    if not isinstance(body, dict):
        return
    if operation_id == "update_channel" and isinstance(body.get("available_tags"), list):
        tags = body["available_tags"]
        if len(tags) > TAGS_LIMIT:
            yield Problem(("available_tags",), "BASE_TYPE_MAX_LENGTH", f"Must be {TAGS_LIMIT} or fewer in length.")
        for i, tag in enumerate(tags):
            name = tag.get("name") if isinstance(tag, dict) else None
            if isinstance(name, str) and len(name) > TAG_NAME_LIMIT:
                yield Problem(
                    ("available_tags", i, "name"),
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {TAG_NAME_LIMIT} or fewer in length.",
                )
    if operation_id in ("update_channel", "create_thread") and isinstance(body.get("applied_tags"), list):
        if len(body["applied_tags"]) > APPLIED_TAGS_LIMIT:
            yield Problem(
                ("applied_tags",), "BASE_TYPE_MAX_LENGTH", f"Must be {APPLIED_TAGS_LIMIT} or fewer in length."
            )


def _archive_duration(operation_id: str, body: Any) -> Iterator[Problem]:
    if operation_id in ("create_thread", "create_thread_from_message", "update_channel") and isinstance(body, dict):
        duration = body.get("auto_archive_duration")
        if duration is not None and duration not in ARCHIVE_DURATIONS:
            yield Problem(("auto_archive_duration",), "BASE_TYPE_CHOICES", f"Value must be one of {ARCHIVE_DURATIONS}.")


_EMBED_URLS: tuple[tuple[str, ...], ...] = (
    ("url",),
    ("author", "url"),
    ("author", "icon_url"),
    ("footer", "icon_url"),
    ("image", "url"),
    ("thumbnail", "url"),
)


def _formats(operation_id: str, body: Any) -> Iterator[Problem]:
    if operation_id in ("create_guild_scheduled_event", "update_guild_scheduled_event") and isinstance(body, dict):
        for key in ("scheduled_start_time", "scheduled_end_time"):
            if body.get(key) is not None and not FORMATS.conforms(body[key], "date-time"):
                yield Problem((key,), "DATE_TIME_TYPE_PARSE", "Could not parse the timestamp (ISO8601 expected).")
    for path, message in messages_in(operation_id, body):
        for i, embed in enumerate(message.get("embeds") or []):
            if not isinstance(embed, dict):
                continue
            if embed.get("timestamp") is not None and not FORMATS.conforms(embed["timestamp"], "date-time"):
                yield Problem((*path, "embeds", i, "timestamp"), "DATE_TIME_TYPE_PARSE", "Could not parse timestamp.")
            for keys in _EMBED_URLS:
                value: Any = embed
                for key in keys:
                    value = value.get(key) if isinstance(value, dict) else None
                if value is not None and not FORMATS.conforms(value, "uri"):
                    yield Problem((*path, "embeds", i, *keys), "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        for component in _walk_components(message.get("components")):
            if component.get("type") == 2 and component.get("url") is not None:
                if not FORMATS.conforms(component["url"], "uri"):
                    yield Problem((*path, "components"), "URL_TYPE_INVALID_URL", "Not a well formed URL.")


# The one list of documented rules the spec lacks. Each cites where Discord documents it.
STRICTER: list[Override] = [
    Override(
        "message content at most 2,000 characters (the spec allows 4,000)",
        "resources/message.mdx, Create Message / Edit Message JSON params (content: up to 2000 characters); "
        "interactions/receiving-and-responding.mdx, Messages (interaction callback data)",
        _content,
    ),
    Override(
        "at most 10 embeds and 6,000 characters across all embeds of a message",
        "resources/message.mdx, Embed Object > Embed Limits (the combined sum … must not exceed 6000 characters)",
        _embeds,
    ),
    Override(
        "at most 5 action rows in a legacy message; custom_id 1-100 characters, unique within a message",
        "components/reference.mdx, Anatomy of a Component (custom_id … must be unique per component) and "
        "Legacy Message Component Behavior (up to 5 action rows as top-level components)",
        _components,
    ),
    Override(
        "at most 25 choices; a choice name 1-100 characters and a string value at most 100 (the spec allows 6,000)",
        "interactions/application-commands.mdx, Application Command Option Choice Structure; "
        "interactions/receiving-and-responding.mdx, Autocomplete (max 25 choices)",
        _choices,
    ),
    Override(
        "forum tags: at most 20 per forum, a name at most 20 characters (the spec allows 50), at most 5 applied",
        "resources/channel.mdx, Forum Tag Object (name 0-20 characters) and Modify Channel JSON params "
        "(available_tags limited to 20; applied_tags limited to 5)",
        _forum_tags,
    ),
    Override(
        "auto_archive_duration is one of 60, 1440, 4320, 10080",
        "resources/channel.mdx, Start Thread from Message / without Message / in Forum, Modify Channel (Thread)",
        _archive_duration,
    ),
    Override(
        "timestamps are ISO8601 date-times and links are URLs (format: date-time / uri, which the validator "
        "otherwise ignores)",
        "resources/guild-scheduled-event.mdx, Create Guild Scheduled Event (ISO8601 timestamp); "
        "resources/message.mdx, Embed Object (url, timestamp)",
        _formats,
    ),
]


def stricter_problems(operation_id: str, body: Any) -> list[Problem]:
    """Every documented rule of :data:`STRICTER` that a request body breaks (cheap; no schema walk)."""
    if body is None:
        return []
    return [problem for rule in STRICTER for problem in rule.check(operation_id, body)]


def discord_errors(problems: list[Problem]) -> dict[str, Any]:
    """Problems nested as Discord nests the `errors` of a 50035 Invalid Form Body."""
    errors: dict[str, Any] = {}
    for problem in problems:
        node = errors
        for key in problem.path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return errors


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
                    {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self._registry, format_checker=FORMATS
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
