"""The loopback Discord: a gateway websocket and the REST API v10 routes the bot uses.

Writes update the sandbox's world and dispatch the gateway events Discord would send (subject to
the session's intents). Every REST request is recorded and validated against Discord's OpenAPI
spec; violations are collected for tests to fail on.

Beyond the schema, the sandbox enforces the rules Discord documents that the OpenAPI description
does not carry, each with Discord's status and error code and a comment citing the section of the
developer docs (discord/discord-api-docs) it comes from: the bot's permissions computed from the
world's roles and channel overwrites, archived threads, the interaction deadlines, forum tags and
pins, the nonce window, the stricter body limits of `spec.STRICTER`, rate limits (off unless a test
or `:ratelimit` turns them on) and the invalid-request count behind Cloudflare bans.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias, TypedDict
from urllib.parse import unquote

import discord
from aiohttp import BodyPartReader, WSMsgType, web

from bot.sandbox.spec import OpenAPISpec, Operation, discord_errors, stricter_problems
from bot.sandbox.world import (
    FORUM,
    PINNED_FLAG,
    PUBLIC_THREAD,
    REQUIRE_TAG_FLAG,
    InteractionRecord,
    World,
    iso,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
ARRIVED = web.RequestKey("arrived", float)  # perf_counter when a REST request arrived
HEARTBEAT_MS = 41250

JSONObject: TypeAlias = dict[str, Any]  # a JSON object as Discord sends or receives it
Params: TypeAlias = dict[str, str]  # the matched operation's path parameters, unquoted


class UploadedFile(TypedDict):
    """One file part of a multipart/form-data request."""

    filename: str
    size: int
    content: bytes
    content_type: str | None


# An `op_<operationId>` method: (request, path parameters, parsed JSON body or None, uploaded files).
Handler: TypeAlias = Callable[[web.Request, Params, Any, list[UploadedFile]], Awaitable[web.StreamResponse]]

# Gateway intent a dispatch needs, as discord.py's Intents bits (None: always sent).
EVENT_INTENT: dict[str, int | None] = {
    "READY": None,
    "RESUMED": None,
    "INTERACTION_CREATE": None,
    "GUILD_CREATE": 1 << 0,
    "GUILD_ROLE_CREATE": 1 << 0,
    "CHANNEL_CREATE": 1 << 0,
    "CHANNEL_UPDATE": 1 << 0,
    "CHANNEL_DELETE": 1 << 0,
    "THREAD_CREATE": 1 << 0,
    "THREAD_UPDATE": 1 << 0,
    "THREAD_DELETE": 1 << 0,
    "CHANNEL_PINS_UPDATE": 1 << 0,
    "GUILD_ROLE_UPDATE": 1 << 0,
    "MESSAGE_CREATE": 1 << 9,
    "MESSAGE_UPDATE": 1 << 9,
    "MESSAGE_DELETE": 1 << 9,
    "MESSAGE_REACTION_ADD": 1 << 10,
    "GUILD_SCHEDULED_EVENT_CREATE": 1 << 16,
    "GUILD_SCHEDULED_EVENT_UPDATE": 1 << 16,
    "GUILD_SCHEDULED_EVENT_DELETE": 1 << 16,
}

ERROR_BODIES = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (10003, "Unknown Channel"),
    429: (0, "You are being rate limited."),
    500: (0, "500: Internal Server Error"),
}


def json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py only parses bodies whose content type is exactly application/json.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def error_response(
    status: int, code: int | None = None, message: str | None = None, errors: dict[str, Any] | None = None
) -> web.Response:
    default_code, default_message = ERROR_BODIES.get(status, (0, f"{status}"))
    body: dict[str, Any] = {"message": message or default_message, "code": default_code if code is None else code}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


# Discord's JSON error codes the sandbox answers with (topics/opcodes-and-status-codes.mdx, JSON).
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
CANNOT_EDIT_OTHERS = 50005
ARCHIVED_THREAD = 50083
THREAD_LOCKED = 160005
TAG_REQUIRED = 40067
NOT_IN_FORUM = 40058
MAX_PINS = 30003  # "Maximum number of pins reached for the channel (250)"
MAX_PINNED_THREADS = 30047  # "Maximum number of pinned threads in a forum channel has been reached"
UNKNOWN_INTERACTION = 10062
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027

PIN_LIMIT = 250  # pins per channel (30003)
FORUM_PINNED_LIMIT = 1  # pinned posts per forum (30047): one, shown at the top of the forum
# Interactions (interactions/receiving-and-responding.mdx, Interaction Callback): the initial
# response within 3 s of the event, else the token is invalidated (10062); tokens work 15 minutes.
INITIAL_RESPONSE_LIMIT = 3.0
TOKEN_LIFETIME = timedelta(minutes=15)
# Invalid requests (401, 403, 429 except `X-RateLimit-Scope: shared`): 10,000 per 10 minutes gets
# the IP banned by Cloudflare for a while (topics/rate-limits.mdx, Invalid Request Limit).
INVALID_LIMIT = 10_000
INVALID_WINDOW = timedelta(minutes=10)
INVALID_WARN_FRACTION = 0.8


@dataclass
class FailRule:
    method: str
    glob: str
    status: int
    remaining: int | None  # None: until cleared
    retry_after: float = 0.05  # for a 429: seconds the body's retry_after asks the client to wait
    global_: bool = False  # for a 429: the global limit rather than the route's

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.glob)


@dataclass
class RateLimits:
    """Rate limits the sandbox enforces when `SandboxServer.rate_limits` is set (off by default).

    Per route, as Discord does (topics/rate-limits.mdx): a bucket per method and route template and
    top-level resource (channel, guild, webhook/interaction token), `per_route` requests per
    `window` seconds, announced on every answer in `X-RateLimit-*` headers so a client can wait
    before it is refused; and a global limit of `global_per_second` requests (interaction
    endpoints are exempt). Windows run on the real clock, because clients wait in real time.
    """

    per_route: int = 5
    window: float = 1.0
    global_per_second: int = 50


@dataclass
class _Bucket:
    started: float
    count: int = 0


def rate_limited_response(retry_after: float, *, bucket: str, limit: int, scope: str) -> web.Response:
    """A 429 as Discord sends it (topics/rate-limits.mdx, Exceeding A Rate Limit): the body's
    retry_after and global, the `Retry-After` header, the bucket headers, and `Via` — without which
    discord.py takes a 429 for a Cloudflare ban and gives up at once."""
    is_global = scope == "global"
    response = json_response(
        {
            "message": "You are being rate limited." if scope != "shared" else "The resource is being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": is_global,
            "code": 0,
        },
        429,
    )
    response.headers.update(
        {
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
        }
    )
    if is_global:
        response.headers["X-RateLimit-Global"] = "true"
    else:
        response.headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
            }
        )
    return response


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any
    operation: str | None
    status: int = 0
    query: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "json": self.json}


@dataclass
class Session:
    id: str
    intents: int
    shard: tuple[int, int] = (0, 1)  # [shard_id, num_shards] from IDENTIFY
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))


def _shard_of_identify(raw: object) -> tuple[int, int] | None:
    """IDENTIFY's optional `shard`: [shard_id, num_shards], 0 <= shard_id < num_shards; None if invalid."""
    if raw is None:
        return (0, 1)
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, int) for x in raw)):
        return None
    shard_id, count = raw
    return (shard_id, count) if count >= 1 and 0 <= shard_id < count else None


def _on_shard(guild_id: int, shard: tuple[int, int]) -> bool:
    return (guild_id >> 22) % shard[1] == shard[0]


class SandboxServer:
    def __init__(self, world: World, spec: OpenAPISpec | None = None) -> None:
        self.world = world
        self.spec = spec or OpenAPISpec.default()
        self.requests: list[RecordedRequest] = []
        self._violations: list[str] = []
        self._unchecked: list[tuple[Operation, RecordedRequest]] = []
        self._checked_bodies: dict[tuple[str, str], list[str]] = {}
        self.fail_rules: list[FailRule] = []
        self.rate_limits: RateLimits | None = None
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self._global: _Bucket = _Bucket(0.0)
        self.rate_limited = 0  # 429s the sandbox answered (its own limits and injected ones)
        self.invalid_limit = INVALID_LIMIT
        self._invalid: deque[datetime] = deque()
        self._invalid_warned = False
        self.warnings: list[str] = []  # e.g. the invalid-request count nearing Discord's ban limit
        self.sessions: dict[str, Session] = {}
        self.shard_count = 1  # what GET /gateway/bot recommends
        self.identifies = 0
        self.resumes = 0
        self.interaction_events: dict[int, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_get("/gateway", self.gateway)
        self.app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest)
        self.app.router.add_get("/attachments/{id}/{filename}", self.attachment)

    @property
    def violations(self) -> list[str]:
        """Every spec violation so far. Bodies are validated here, lazily, so validation (slow for
        big component payloads) never sits between the bot and its answer."""
        while self._unchecked:
            op, record = self._unchecked.pop(0)
            key = (op.operation_id, json.dumps(record.json, sort_keys=True))
            problems = self._checked_bodies.get(key)
            if problems is None:
                problems = self._checked_bodies[key] = self.spec.validate(op, record.json)
            self._violations.extend(f"{record.method} {record.path}: {p}" for p in problems)
        return self._violations

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # discord.py's connector has no connection limit: a burst of interactions opens hundreds of
        # connections at once. aiohttp's default listen backlog (128) would make the rest wait for TCP
        # SYN retransmits (1 s, 3 s, …), a delay Discord never adds.
        site = web.TCPSite(self._runner, host, port, backlog=4096)
        await site.start()
        addresses = self._runner.addresses  # (host, port, ...) of each bound socket
        assert addresses
        self.port = addresses[0][1]

    async def stop(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- gateway ------------------------------------------------------------------------------
    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": None, "t": None}))
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    shard = _shard_of_identify(frame["d"].get("shard"))
                    if shard is None:
                        # Discord: close code 4010, "Invalid shard" (docs/topics/Opcodes_and_Status_Codes.md).
                        await ws.close(code=4010, message=b"Invalid shard")
                        break
                    session = Session(id=secrets.token_hex(8), intents=int(frame["d"].get("intents", 0)), shard=shard)
                    self.sessions[session.id] = session
                    session.ws = ws
                    self.identifies += 1
                    await self._identify(session)
                elif op == 6:
                    data = frame["d"]
                    session = self.sessions.get(data.get("session_id"))
                    if session is None:
                        await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                        continue
                    session.ws = ws
                    self.resumes += 1
                    for item in list(session.backlog):
                        if item["s"] > int(data.get("seq") or 0):
                            await ws.send_str(json.dumps(item))
                    await self._send(session, "RESUMED", {})
                elif op == 8:  # request guild members: everything is in GUILD_CREATE already
                    nonce = frame["d"].get("nonce")
                    asked = frame["d"].get("guild_id")
                    wanted = int(asked) if str(asked or "").isdigit() else self.world.guild_id
                    if session is not None and wanted in self.world.guilds:
                        await self._send(
                            session,
                            "GUILD_MEMBERS_CHUNK",
                            {
                                "guild_id": str(wanted),
                                "members": list(self.world.guilds[wanted].members.values()),
                                "chunk_index": 0,
                                "chunk_count": 1,
                                "nonce": nonce,
                            },
                        )
        finally:
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _identify(self, session: Session) -> None:
        world = self.world
        # A session gets the guilds of its shard only (docs/topics/Gateway.md, "Sharding").
        guilds = [g for g in world.guilds if _on_shard(g, session.shard)]
        await self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": {**world.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
                "application": {"id": str(world.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
                "shard": list(session.shard),
            },
        )
        for guild in guilds:
            await self._send(session, "GUILD_CREATE", world.guild_payload(guild))

    async def _send(self, session: Session, event: str, data: Any) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.backlog.append(frame)
        ws = session.ws
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(json.dumps(frame))
            except ConnectionError:
                session.ws = None  # kept in the backlog; replayed on RESUME

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a gateway event to every session whose intents cover it, on the shard of its guild:
        a guild's events go to shard (guild_id >> 22) % num_shards, and events of no guild (DMs) to
        shard 0 (docs/topics/Gateway.md, "Sharding")."""
        needed = EVENT_INTENT.get(event)
        guild = data.get("guild_id") if isinstance(data, dict) else None
        for session in list(self.sessions.values()):
            if needed is not None and not session.intents & needed:
                continue
            if guild is not None and not _on_shard(int(guild), session.shard):
                continue
            if guild is None and session.shard[0] != 0:
                continue
            await self._send(session, event, data)

    async def force_reconnect(self) -> None:
        """Ask every connected client to reconnect and RESUME (gateway op 7)."""
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.send_str(json.dumps({"op": 7, "d": None, "s": None, "t": None}))

    async def drop_connections(self) -> None:
        """Close every socket abruptly; the client reconnects and RESUMEs."""
        for session in self.sessions.values():
            ws, session.ws = session.ws, None
            if ws is not None and not ws.closed:
                await ws.close(code=4000, message=b"sandbox dropped the connection")

    # -- REST ---------------------------------------------------------------------------------
    async def rest(self, request: web.Request) -> web.StreamResponse:
        request[ARRIVED] = time.perf_counter()
        raw_path = request.raw_path.split("?", 1)[0][len(API_PREFIX) :]
        path = unquote(raw_path)
        body: Any = None
        files: list[UploadedFile] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                # aiohttp types a part as possibly None or a nested multipart; discord.py sends neither.
                assert isinstance(part, BodyPartReader)
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename:
                    data = await part.read()
                    files.append(
                        {
                            "filename": part.filename,
                            "size": len(data),
                            "content": data,
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
        elif request.can_read_body:
            text = await request.text()
            if text:
                try:
                    body = json.loads(text)
                except json.JSONDecodeError:
                    self._violations.append(f"{request.method} {path}: body is not JSON")
        op = self.spec.match(request.method, raw_path)
        record = RecordedRequest(request.method, path, body, op.operation_id if op else None, query=dict(request.query))
        self.requests.append(record)
        if op is None:
            self._violations.append(f"{request.method} {path}: not a route of Discord's API (OpenAPI spec)")
            record.status = 404
            return error_response(404, 0, "404: Not Found")
        if body is not None:
            self._unchecked.append((op, record))
        await self.tick()  # threads idle past their auto-archive time are archived first
        params = {k: unquote(v) for k, v in op.params.items()}
        response: web.StreamResponse | None = self._rate_limit(op, params) or self._injected_fault(
            request.method, path, op, params
        )
        if response is None:
            problems = stricter_problems(op.operation_id, body)
            if problems:
                # Discord refuses these with 400 Invalid Form Body; a request the bot should never make.
                self._violations.extend(f"{request.method} {path}: {p.where()}: {p.message}" for p in problems)
                response = error_response(400, 50035, "Invalid Form Body", discord_errors(problems))
        if response is None:
            handler: Handler | None = getattr(self, f"op_{op.operation_id}", None)
            if handler is None:
                self._violations.append(f"{request.method} {path}: the sandbox does not implement {op.operation_id}")
                record.status = 404
                return error_response(404, 0, "404: Not Found")
            response = await handler(request, params, body, files)
            self._announce_bucket(op, params, response)
        record.status = response.status
        response.headers.setdefault("Via", "1.1 google")
        self._count_invalid(response)
        return response

    # -- faults, rate limits, invalid requests --------------------------------------------------
    def _injected_fault(self, method: str, path: str, op: Operation, params: Params) -> web.Response | None:
        for rule in self.fail_rules:
            if rule.matches(method, path):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.fail_rules.remove(rule)
                if rule.status == 429:
                    self.rate_limited += 1
                    scope = "global" if rule.global_ else "user"
                    bucket = self._bucket_hash(self._bucket_key(op, params))
                    return rate_limited_response(rule.retry_after, bucket=bucket, limit=1, scope=scope)
                return error_response(rule.status)
        return None

    @staticmethod
    def _bucket_key(op: Operation, params: Params) -> tuple[str, str, str]:
        # Top-level resources count separately (topics/rate-limits.mdx): channel, guild, webhook.
        major = params.get("channel_id") or params.get("guild_id") or ""
        if "webhook_id" in params or "interaction_id" in params:
            major = params.get("webhook_token") or params.get("interaction_token") or ""
        return op.method, op.template, major

    @staticmethod
    def _bucket_hash(key: tuple[str, str, str]) -> str:
        return hashlib.sha1(f"{key[0]} {key[1]}".encode()).hexdigest()[:16]

    def _rate_limit(self, op: Operation, params: Params) -> web.Response | None:
        limits = self.rate_limits
        if limits is None:
            return None
        now = time.monotonic()
        if not op.template.startswith(("/interactions/", "/webhooks/")):  # interaction endpoints: no global
            if now - self._global.started >= 1.0:
                self._global = _Bucket(now)
            self._global.count += 1
            if self._global.count > limits.global_per_second:
                self.rate_limited += 1
                return rate_limited_response(1.0 - (now - self._global.started), bucket="", limit=0, scope="global")
        key = self._bucket_key(op, params)
        bucket = self._buckets.get(key)
        if bucket is None or now - bucket.started >= limits.window:
            bucket = self._buckets[key] = _Bucket(now)
        if bucket.count >= limits.per_route:
            self.rate_limited += 1
            reset_after = max(limits.window - (now - bucket.started), 0.001)
            return rate_limited_response(
                reset_after, bucket=self._bucket_hash(key), limit=limits.per_route, scope="user"
            )
        bucket.count += 1
        return None

    def _announce_bucket(self, op: Operation, params: Params, response: web.StreamResponse) -> None:
        """The `X-RateLimit-*` headers of the request's bucket, so a client can wait before a 429."""
        limits = self.rate_limits
        if limits is None or not isinstance(response, web.Response):
            return
        key = self._bucket_key(op, params)
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        reset_after = max(limits.window - (time.monotonic() - bucket.started), 0.001)
        response.headers.update(
            {
                "X-RateLimit-Limit": str(limits.per_route),
                "X-RateLimit-Remaining": str(max(limits.per_route - bucket.count, 0)),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": self._bucket_hash(key),
            }
        )

    def _count_invalid(self, response: web.StreamResponse) -> None:
        """Count 401/403/429 answers (not shared-scope 429s) over the last 10 sandbox minutes; warn as
        Discord's Cloudflare limit nears, and make reaching it a violation."""
        status = response.status
        if status not in (401, 403, 429) or response.headers.get("X-RateLimit-Scope") == "shared":
            return
        now = self.world.clock.now()
        self._invalid.append(now)
        while self._invalid and now - self._invalid[0] > INVALID_WINDOW:
            self._invalid.popleft()
        count = len(self._invalid)
        warn_at = int(self.invalid_limit * INVALID_WARN_FRACTION)
        if count >= self.invalid_limit:
            if count == self.invalid_limit:
                self._violations.append(
                    f"{count} invalid requests (401/403/429) in 10 minutes: Discord bans the IP at "
                    f"{self.invalid_limit} (topics/rate-limits.mdx, Invalid Request Limit)"
                )
        elif count >= warn_at and not self._invalid_warned:
            self._invalid_warned = True
            text = (
                f"{count} invalid requests (401/403/429) in the last 10 minutes; Discord bans the IP "
                f"for a while at {self.invalid_limit}"
            )
            self.warnings.append(text)
            log.warning("sandbox: %s", text)
        if count < warn_at:
            self._invalid_warned = False

    @property
    def invalid_requests(self) -> int:
        """Invalid requests (401/403/429) counted in the current 10-minute window."""
        return len(self._invalid)

    # -- time: auto-archive -----------------------------------------------------------------------
    async def tick(self) -> None:
        """Archive the threads whose inactivity reached their auto_archive_duration (THREAD_UPDATE)."""
        for thread in self.world.archive_due():
            await self.dispatch("THREAD_UPDATE", thread)

    # -- helpers ------------------------------------------------------------------------------
    def _channel(self, params: dict[str, str]) -> dict[str, Any] | None:
        if not params["channel_id"].isdigit():
            return None
        channel_id = int(params["channel_id"])
        return self.world.channels.get(channel_id) or self.world.dms.get(channel_id)

    def _interaction_by_token(self, token: str) -> InteractionRecord | None:
        for record in self.world.interactions.values():
            if record.token == token:
                return record
        return None

    # -- permissions -------------------------------------------------------------------------------
    def _bot_permissions(self, channel: dict[str, Any] | None) -> discord.Permissions:
        return self.world.bot_permissions(int(channel["id"]) if channel is not None else None)

    def _refuse(self, channel: dict[str, Any] | None, *needed: str) -> web.Response | None:
        """Discord's 403 when the bot lacks a permission in `channel` (or the guild, for None):
        50001 Missing Access without View Channel, else 50013 Missing Permissions."""
        if channel is not None and channel.get("type") == 1:
            return None  # a DM: no guild permissions
        perms = self._bot_permissions(channel)
        if channel is not None and not perms.view_channel:
            log.debug("sandbox: the bot cannot see channel %s", channel.get("id"))
            return error_response(403, MISSING_ACCESS, "Missing Access")
        for name in needed:
            if not getattr(perms, name):
                log.debug("sandbox: the bot lacks %s in %s", name, channel.get("id") if channel else "the guild")
                return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
        return None

    def _archived(self, channel: dict[str, Any]) -> bool:
        return self.world.is_thread(channel) and bool(channel["thread_metadata"]["archived"])

    def _refuse_in_archived(self, channel: dict[str, Any]) -> web.Response | None:
        # No edits, reactions, pins or commands in an archived thread; only deleting messages
        # (topics/threads.mdx, Active & Archived Threads): 400, 50083.
        if self._archived(channel):
            return error_response(400, ARCHIVED_THREAD, "Thread is archived")
        return None

    # -- interaction tokens -----------------------------------------------------------------------
    def _age(self, record: InteractionRecord, arrived: float) -> float:
        """Seconds since the sandbox sent the interaction: real time, plus any sandbox-clock advance
        (so a test can make an answer late without waiting)."""
        real = max(arrived - record.sent_at, 0.0) if record.sent_at else 0.0
        moved = (self.world.clock.now() - record.created).total_seconds() if record.created else 0.0
        return real + max(moved, 0.0)

    def _refuse_token(self, record: InteractionRecord | None, arrived: float) -> web.Response | None:
        """Follow-ups and edits: a token the 3 s deadline invalidated is unknown (10015); after
        15 minutes it is refused as invalid (401, 50027), as Discord answers an expired token."""
        if record is None or record.invalidated:
            return error_response(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        if self._age(record, arrived) > TOKEN_LIFETIME.total_seconds():
            return error_response(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return None

    def _notify(self, record: InteractionRecord) -> None:
        event = self.interaction_events.get(record.id)
        if event is not None:
            event.set()

    def _attachments(self, files: list[UploadedFile]) -> list[JSONObject]:
        """Store uploaded files and describe them as Discord does (served back under /attachments/)."""
        described = []
        for f in files:
            attachment_id = self.world.snowflake()
            self.world.files[attachment_id] = f["content"]
            url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{f['filename']}"
            described.append(
                {
                    "id": str(attachment_id),
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.get("content_type") or "application/octet-stream",
                }
            )
        return described

    async def attachment(self, request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        data = self.world.files.get(int(raw)) if raw.isdigit() else None
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: dict[str, Any], now: str) -> None:
        cleared = {"content": "", "embeds": [], "components": [], "attachments": [], "flags": 0}
        for key, empty in cleared.items():
            if key in body:  # null clears a field, as on Discord
                message[key] = empty if body[key] is None else body[key]
        message["edited_timestamp"] = now

    # -- users, application, gateway -----------------------------------------------------------
    async def op_get_my_user(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response({**self.world.bot_user, "verified": True, "mfa_enabled": False, "flags": 0})

    async def op_get_my_oauth2_application(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(self.world.application_payload())

    async def op_get_gateway(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def op_get_bot_gateway(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
            }
        )

    # -- application commands -------------------------------------------------------------------
    def _store_commands(self, body: list[dict[str, Any]], guild_id: str | None) -> list[dict[str, Any]]:
        stored = []
        for command in body:
            stored.append(
                {
                    **command,
                    "id": str(self.world.snowflake()),
                    "application_id": str(self.world.app_id),
                    "version": str(self.world.snowflake()),
                    # Discord answers with the permission bits as a string, whatever form was sent.
                    "default_member_permissions": None
                    if command.get("default_member_permissions") is None
                    else str(command["default_member_permissions"]),
                    "type": command.get("type", 1),
                    **({"guild_id": guild_id} if guild_id else {}),
                }
            )
        return stored

    async def op_bulk_set_application_commands(
        self, request: web.Request, params: Params, body: list[JSONObject] | None, files: list[UploadedFile]
    ) -> web.Response:
        self.world.commands = self._store_commands(body or [], None)
        return json_response(self.world.commands)

    async def op_bulk_set_guild_application_commands(
        self, request: web.Request, params: Params, body: list[JSONObject] | None, files: list[UploadedFile]
    ) -> web.Response:
        self.world.commands = self._store_commands(body or [], params["guild_id"])
        return json_response(self.world.commands)

    async def op_list_application_commands(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(self.world.commands)

    async def op_list_guild_application_commands(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response([c for c in self.world.commands if c.get("guild_id") == params["guild_id"]])

    # -- interactions ---------------------------------------------------------------------------
    async def op_create_interaction_response(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        world = self.world
        record = world.interactions.get(int(params["interaction_id"])) if params["interaction_id"].isdigit() else None
        if record is None or record.token != params["interaction_token"] or record.invalidated:
            return error_response(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if record.callback is not None:
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        age = self._age(record, request[ARRIVED])
        if age > INITIAL_RESPONSE_LIMIT:
            # The initial response must come within 3 s of the event, else the token is invalidated
            # (interactions/receiving-and-responding.mdx, Interaction Callback): 10062 Unknown
            # interaction, and the member sees "This interaction failed". A bug in the bot.
            record.invalidated = True
            self._violations.append(
                f"POST /interactions/{record.id}/…/callback: the initial response came {age:.1f} s after the "
                f"interaction (Discord's limit is {INITIAL_RESPONSE_LIMIT:g} s); refused with 10062"
            )
            self._notify(record)
            return error_response(404, UNKNOWN_INTERACTION, "Unknown interaction")
        record.callback = body
        record.answered_at = request[ARRIVED]
        assert body is not None, "discord.py always sends an interaction callback body"
        kind = body.get("type")
        data = body.get("data") or {}
        if files:
            data = {**data, "attachments": self._attachments(files)}
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            if kind == 5:
                flags |= 128  # loading
            message = world.new_message(
                record.channel_id,
                world.bot_user,
                {**data, "flags": flags},
                type=20 if record.type == 2 else 19,
                webhook_id=str(world.app_id),
                application_id=str(world.app_id),
                interaction_metadata={"id": str(record.id), "type": record.type, "user": world.users[record.user_id]},
            )
            record.original = message
            if not flags & 64:
                world.store_message(message)
                await self.dispatch("MESSAGE_CREATE", message)
            resource["message"] = message
        elif kind == 7 and record.message_id is not None:
            edited = world.find_message(record.channel_id, record.message_id) or record.payload.get("message")
            if edited is not None:
                self._apply_edit(edited, data, iso(world.clock.now()))
                record.original = edited
                resource["message"] = edited
                if not int(edited.get("flags") or 0) & 64:
                    await self.dispatch("MESSAGE_UPDATE", edited)
        elif kind == 6 and record.message_id is not None:
            record.original = world.find_message(record.channel_id, record.message_id) or record.payload.get("message")
        self._notify(record)
        return json_response(
            {
                "interaction": {
                    "id": str(record.id),
                    "type": record.type,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
                },
                "resource": resource,
            }
        )

    async def op_execute_webhook(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        refused = self._refuse_token(record, request[ARRIVED])
        if refused is not None or record is None:
            return refused or error_response(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        world = self.world
        body = body or {}
        if files:
            body = {**body, "attachments": self._attachments(files)}
        if (
            (record.callback or {}).get("type") == 5
            and record.original is not None
            and not record.followups
            and int(record.original.get("flags") or 0) & 128
        ):
            # Right after a deferral the follow-up edits the "thinking…" message instead of making a
            # new one, and its ephemeral flag is ignored: the message keeps the visibility the defer
            # gave it (interactions/receiving-and-responding.mdx, Create Followup Message).
            message = record.original
            ephemeral = int(message.get("flags") or 0) & 64
            self._apply_edit(message, body, iso(world.clock.now()))
            message["flags"] = (int(message.get("flags") or 0) & ~(128 | 64)) | ephemeral
        else:
            message = world.new_message(
                record.channel_id, world.bot_user, body, webhook_id=str(world.app_id), application_id=str(world.app_id)
            )
            if not int(message["flags"]) & 64:
                world.store_message(message)
                await self.dispatch("MESSAGE_CREATE", message)
        record.followups.append(message)
        self._notify(record)
        return json_response(message)

    async def op_update_original_webhook_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        refused = self._refuse_token(record, request[ARRIVED])
        if refused is not None:
            return refused
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        ephemeral = int(record.original.get("flags") or 0) & 64  # an edit can't change who sees it
        self._apply_edit(record.original, body or {}, iso(self.world.clock.now()))
        record.original["flags"] = (int(record.original.get("flags") or 0) & ~(128 | 64)) | ephemeral
        if not int(record.original["flags"]) & 64:
            await self.dispatch("MESSAGE_UPDATE", record.original)
        self._notify(record)
        return json_response(record.original)

    async def op_get_original_webhook_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        refused = self._refuse_token(record, request[ARRIVED])
        if refused is not None:
            return refused
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        return json_response(record.original)

    async def op_delete_original_webhook_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        refused = self._refuse_token(record, request[ARRIVED])
        if refused is not None:
            return refused
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        self._delete_message(record.original)
        record.original = None
        return web.Response(status=204)

    async def op_update_webhook_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        refused = self._refuse_token(record, request[ARRIVED])
        if refused is not None:
            return refused
        target = None
        if record is not None:
            target = next((m for m in record.followups if m["id"] == params["message_id"]), None)
        if record is None or target is None:
            return error_response(404, 10008, "Unknown Message")
        self._apply_edit(target, body or {}, iso(self.world.clock.now()))
        self._notify(record)
        return json_response(target)

    # -- channels and messages --------------------------------------------------------------------
    async def op_get_channel(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        return self._refuse(channel) or json_response(channel)

    async def _thread_update(self, thread: dict[str, Any]) -> None:
        await self.dispatch("THREAD_UPDATE", thread)

    async def op_update_channel(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        body = dict(body or {})  # the recorded request stays as sent
        if self.world.is_thread(channel):
            refused = self._refuse_thread_edit(channel, body)
            if refused is not None:
                return refused
        else:
            # A guild channel's settings (its forum tags too) need Manage Channels (resources/channel.mdx,
            # Modify Channel, JSON Params (Guild channel)).
            refused = self._refuse(channel, "manage_channels")
            if refused is not None:
                return refused
        if "available_tags" in body:  # new tags get ids, and ids are strings, as on Discord
            body["available_tags"] = [
                {
                    "moderated": False,
                    "emoji_id": None,
                    "emoji_name": None,
                    **{k: v for k, v in tag.items() if k != "id"},
                    "id": str(tag.get("id") or self.world.snowflake()),
                }
                for tag in body["available_tags"]
            ]
        for key in ("name", "topic", "applied_tags", "available_tags", "flags"):
            if key in body and body[key] is not None:
                channel[key] = body[key]
        if "thread_metadata" in channel:
            meta = channel["thread_metadata"]
            if body.get("locked") is not None:
                meta["locked"] = bool(body["locked"])
            if body.get("auto_archive_duration") is not None:
                meta["auto_archive_duration"] = body["auto_archive_duration"]
                self.world.touch_thread(int(channel["id"]))  # changing it counts as activity
            if body.get("archived") is not None and bool(body["archived"]) != meta["archived"]:
                self.world.set_archived(channel, bool(body["archived"]))
            await self._thread_update(channel)
        else:
            await self.dispatch("CHANNEL_UPDATE", channel)
        return json_response(channel)

    def _refuse_thread_edit(self, thread: dict[str, Any], body: dict[str, Any]) -> web.Response | None:
        """Modify Channel on a thread (resources/channel.mdx, JSON Params (Thread); topics/threads.mdx,
        Editing & Deleting Threads): an archived thread only takes edits that unarchive it (50083);
        unarchiving an unlocked thread needs only to be able to talk there, a locked one Manage
        Threads; name, archive settings and tags need Manage Threads or to be the thread's creator;
        locking, slowmode and pinning need Manage Threads; a forum has one pinned post (30047)."""
        meta = thread["thread_metadata"]
        perms = self._bot_permissions(thread)
        owner = thread.get("owner_id") == self.world.bot_user["id"]
        unarchive = body.get("archived") is False
        if meta["archived"] and not unarchive:
            return error_response(400, ARCHIVED_THREAD, "Thread is archived")
        refused = self._refuse(thread)
        if refused is not None:
            return refused
        if unarchive and meta["archived"]:
            if meta["locked"] and not perms.manage_threads:
                return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
            if not (perms.send_messages_in_threads or perms.send_messages or perms.manage_threads):
                return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
        moderator_only = {"locked", "rate_limit_per_user", "invitable", "flags"} & {
            k for k, v in body.items() if v is not None
        }
        creator_or_moderator = {"name", "auto_archive_duration", "applied_tags"} & set(body)
        if body.get("archived") is True:
            creator_or_moderator.add("archived")
        if moderator_only and not perms.manage_threads:
            return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
        if creator_or_moderator and not (owner or perms.manage_threads):
            return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
        if meta["locked"] and not perms.manage_threads and not unarchive:
            return error_response(403, THREAD_LOCKED, "Thread is locked")
        flags = body.get("flags")
        if flags is not None and int(flags) & PINNED_FLAG and not int(thread.get("flags") or 0) & PINNED_FLAG:
            parent = self.world.channels.get(int(thread["parent_id"]))
            if parent is None or parent.get("type") != FORUM:
                return error_response(400, 50035, "Invalid Form Body")  # PINNED only in forum and media channels
            pinned = [
                t
                for t in self.world.threads()
                if t["parent_id"] == thread["parent_id"] and int(t.get("flags") or 0) & PINNED_FLAG
            ]
            if len(pinned) >= FORUM_PINNED_LIMIT:
                return error_response(
                    400, MAX_PINNED_THREADS, "Maximum number of pinned threads in a forum channel has been reached"
                )
        return None

    async def op_delete_channel(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        is_thread = "thread_metadata" in channel
        # Deleting a thread needs Manage Threads (topics/threads.mdx), a channel Manage Channels.
        refused = self._refuse(channel, "manage_threads" if is_thread else "manage_channels")
        if refused is not None:
            return refused
        del self.world.channels[int(channel["id"])]
        await self.dispatch(
            "THREAD_DELETE" if is_thread else "CHANNEL_DELETE",
            {
                "id": channel["id"],
                "guild_id": channel["guild_id"],
                "parent_id": channel.get("parent_id"),
                "type": channel["type"],
            }
            if is_thread
            else channel,
        )
        return json_response(channel)

    @staticmethod
    def _as_fetched(message: dict[str, Any]) -> dict[str, Any]:
        """A message as GET returns it: the nonce is only echoed in the create answer and in
        MESSAGE_CREATE (resources/message.mdx, Create Message, nonce), never in fetched history."""
        return {k: v for k, v in message.items() if k != "nonce"}

    async def op_list_messages(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        refused = self._refuse(channel)
        if refused is not None:
            return refused
        # Without Read Message History the list is empty (resources/message.mdx, Get Channel Messages).
        if channel.get("type") != 1 and not self._bot_permissions(channel).read_message_history:
            return json_response([])
        limit = max(1, min(int(request.query.get("limit", 50)), 100))
        messages = self.world.messages.get(int(channel["id"]), [])  # oldest first
        before, after, around = (request.query.get(k) for k in ("before", "after", "around"))
        if before is not None:
            picked = [m for m in messages if int(m["id"]) < int(before)][-limit:]
        elif after is not None:
            picked = [m for m in messages if int(m["id"]) > int(after)][:limit]
        elif around is not None:
            index = next((i for i, m in enumerate(messages) if int(m["id"]) >= int(around)), len(messages))
            picked = messages[max(index - limit // 2, 0) : max(index - limit // 2, 0) + limit]
        else:
            picked = messages[-limit:]
        return json_response([self._as_fetched(m) for m in reversed(picked)])  # newest first

    async def op_get_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        refused = self._refuse(channel, "read_message_history")
        if refused is not None:
            return refused
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        return json_response(self._as_fetched(message)) if message else error_response(404, 10008, "Unknown Message")

    async def _refuse_post_in_thread(self, thread: dict[str, Any]) -> web.Response | None:
        """Posting in a thread: Send Messages in Threads (Send Messages is not inherited: topics/
        permissions.mdx, Inherited Permissions (Threads)); a locked thread only with Manage Threads;
        posting unarchives an archived, unlocked thread (topics/threads.mdx, Active & Archived Threads)."""
        refused = self._refuse(thread, "send_messages_in_threads")
        if refused is not None:
            return refused
        meta = thread["thread_metadata"]
        if meta["locked"] and not self._bot_permissions(thread).manage_threads:
            return error_response(400, ARCHIVED_THREAD if meta["archived"] else THREAD_LOCKED, "Thread is locked")
        if meta["archived"]:
            self.world.set_archived(thread, False)
            await self._thread_update(thread)
        return None

    async def op_create_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        if channel["type"] == FORUM:
            return error_response(400, NOT_IN_FORUM, "Cannot send a message in a forum channel")
        if channel["type"] == 2:
            return error_response(400, 50008, "Cannot send messages in a non-text channel")
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self.world.dms_closed:
            return error_response(403, 50007, "Cannot send messages to this user")
        if self.world.is_thread(channel):
            refused = await self._refuse_post_in_thread(channel)
        else:
            # Create Message needs Send Messages in a guild channel (resources/message.mdx, Limitations).
            refused = self._refuse(channel, "send_messages")
        if refused is not None:
            return refused
        body = body or {}
        bot_id = int(self.world.bot_user["id"])
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Deduped only within a few minutes and per author, not per channel and not forever
            # (resources/message.mdx, Create Message, enforce_nonce); see world.NONCE_WINDOW.
            existing = self.world.recent_nonce(bot_id, str(nonce))
            if existing is not None:
                return json_response(existing)
        if files:
            body = {**body, "attachments": self._attachments(files)}
        message = self.world.new_message(int(channel["id"]), self.world.bot_user, body)
        if nonce is not None:
            self.world.remember_nonce(bot_id, str(nonce), message)
        self.world.store_message(message)
        await self.dispatch("MESSAGE_CREATE", message)
        return json_response(message)

    async def op_update_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if channel is None or message is None:
            return error_response(404, 10008, "Unknown Message")
        refused = self._refuse(channel) or self._refuse_in_archived(channel)
        if refused is not None:
            return refused
        # Only the author edits content, embeds and components (resources/message.mdx, Edit Message).
        if message["author"]["id"] != self.world.bot_user["id"] and set(body or {}) - {"flags"}:
            return error_response(403, CANNOT_EDIT_OTHERS, "Cannot edit a message authored by another user")
        self._apply_edit(message, body or {}, iso(self.world.clock.now()))
        await self.dispatch("MESSAGE_UPDATE", message)
        return json_response(message)

    def _delete_message(self, message: dict[str, Any]) -> None:
        messages = self.world.messages.get(int(message["channel_id"]), [])
        if message in messages:
            messages.remove(message)

    async def op_delete_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if channel is None or message is None:
            return error_response(404, 10008, "Unknown Message")
        # Another user's message needs Manage Messages (resources/message.mdx, Delete Message);
        # deleting is the one thing allowed in an archived thread.
        own = message["author"]["id"] == self.world.bot_user["id"]
        refused = self._refuse(channel, *(() if own else ("manage_messages",)))
        if refused is not None:
            return refused
        self._delete_message(message)
        await self.dispatch(
            "MESSAGE_DELETE",
            {"id": message["id"], "channel_id": message["channel_id"], "guild_id": channel["guild_id"]},
        )
        return web.Response(status=204)

    async def _pin(self, params: dict[str, str], pinned: bool) -> web.Response:
        channel = self._channel(params)
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if channel is None or message is None:
            return error_response(404, 10008, "Unknown Message")
        # Pinning needs Pin Messages since 23 Feb 2026; Manage Messages alone no longer does
        # (change-log "Permission Changes Going into Effect February 2026"; resources/message.mdx, Pin
        # Message). At most 250 pins per channel (30003).
        refused = self._refuse(channel, "pin_messages") or self._refuse_in_archived(channel)
        if refused is not None:
            return refused
        if pinned and not message.get("pinned"):
            count = sum(1 for m in self.world.messages.get(int(channel["id"]), []) if m.get("pinned"))
            if count >= PIN_LIMIT:
                return error_response(400, MAX_PINS, f"Maximum number of pins reached for the channel ({PIN_LIMIT})")
        message["pinned"] = pinned
        await self.dispatch(
            "CHANNEL_PINS_UPDATE", {"channel_id": params["channel_id"], "guild_id": channel["guild_id"]}
        )
        return web.Response(status=204)

    async def op_create_pin(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return await self._pin(params, True)

    async def op_deprecated_create_pin(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return await self._pin(params, True)

    async def op_delete_pin(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return await self._pin(params, False)

    async def op_deprecated_delete_pin(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return await self._pin(params, False)

    async def op_add_my_message_reaction(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if channel is None or message is None:
            return error_response(404, 10008, "Unknown Message")
        reactions = message.setdefault("reactions", [])
        emoji = params["emoji_name"]
        existing = next((r for r in reactions if r["emoji"]["name"] == emoji), None)
        # Read Message History, and Add Reactions for an emoji nobody reacted with yet (resources/
        # message.mdx, Create Reaction); no reactions in an archived thread.
        needed = ("read_message_history",) if existing else ("read_message_history", "add_reactions")
        refused = self._refuse(channel, *needed) or self._refuse_in_archived(channel)
        if refused is not None:
            return refused
        if existing is not None:
            if not existing["me"]:
                existing["count"] += 1
                existing["me"] = True
        else:
            reactions.append(
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": 1,
                    "me": True,
                    "count_details": {"burst": 0, "normal": 1},
                    "me_burst": False,
                    "burst_colors": [],
                }
            )
        return web.Response(status=204)

    # -- threads ----------------------------------------------------------------------------------
    def _new_thread(
        self,
        parent: dict[str, Any],
        name: str,
        archive: int,
        thread_id: int | None = None,
        applied_tags: list[str] | None = None,
    ) -> dict[str, Any]:
        world = self.world
        thread_id = thread_id or world.snowflake()
        thread = {
            "id": str(thread_id),
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": world.bot_user["id"],
            "name": name,
            "type": PUBLIC_THREAD,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": [str(t) for t in applied_tags or []],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": iso(world.clock.now()),
                "locked": False,
                "create_timestamp": iso(world.clock.now()),
            },
            "member": {
                "id": str(thread_id),
                "user_id": world.bot_user["id"],
                "join_timestamp": iso(world.clock.now()),
                "flags": 0,
            },
        }
        world.channels[thread_id] = thread
        world.messages.setdefault(thread_id, [])
        world.touch_thread(thread_id)
        return thread

    def _refuse_forum_post(self, forum: dict[str, Any], body: dict[str, Any]) -> web.Response | None:
        """A forum post needs Send Messages in the forum (Create Public Threads is ignored); a
        REQUIRE_TAG forum refuses a post without a tag (40067); tags must be the forum's own, and a
        moderated tag needs Manage Threads (resources/channel.mdx, Start Thread in Forum or Media
        Channel, Channel Flags, Forum Tag Object; topics/threads.mdx, Forums)."""
        refused = self._refuse(forum, "send_messages")
        if refused is not None:
            return refused
        applied = [str(t) for t in body.get("applied_tags") or []]
        if int(forum.get("flags") or 0) & REQUIRE_TAG_FLAG and not applied:
            return error_response(400, TAG_REQUIRED, "A tag is required to create a forum post in this channel")
        tags = {str(t["id"]): t for t in forum.get("available_tags") or []}
        unknown = [t for t in applied if t not in tags]
        if unknown:
            errors = {"applied_tags": {"_errors": [{"code": "INVALID_TAG", "message": f"Unknown tag(s) {unknown}"}]}}
            return error_response(400, 50035, "Invalid Form Body", errors)
        if any(tags[t].get("moderated") for t in applied) and not self._bot_permissions(forum).manage_threads:
            return error_response(403, MISSING_PERMISSIONS, "Missing Permissions")
        return None

    async def op_create_thread(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        parent = self._channel(params)
        if parent is None:
            return error_response(404)
        body = body or {}
        archive = int(body.get("auto_archive_duration") or 4320)
        if parent["type"] == FORUM:
            first = body.get("message")
            if not first:
                return error_response(400, 50035, "Invalid Form Body: message is required in a forum")
            refused = self._refuse_forum_post(parent, body)
            if refused is not None:
                return refused
            thread = self._new_thread(parent, body["name"], archive, applied_tags=body.get("applied_tags"))
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            message = self.world.new_message(int(thread["id"]), self.world.bot_user, first)
            message["id"] = thread["id"]  # a forum post's starter message shares the thread's id
            self.world.store_message(message)
            await self.dispatch("MESSAGE_CREATE", message)
            return json_response({**thread, "message": message})
        if parent["type"] != 0:
            return error_response(400, 50024, "Cannot execute action on this channel type")
        # Start Thread without Message: Create Public (type 11) or Private (12) Threads in the channel.
        private = int(body.get("type") or 12) == 12
        refused = self._refuse(parent, "create_private_threads" if private else "create_public_threads")
        if refused is not None:
            return refused
        thread = self._new_thread(parent, body["name"], archive)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    async def op_create_thread_from_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        parent = self._channel(params)
        if parent is None:
            return error_response(404)
        message = self.world.find_message(int(parent["id"]), int(params["message_id"]))
        if message is None:
            return error_response(404, 10008, "Unknown Message")
        refused = self._refuse(parent, "create_public_threads")
        if refused is not None:
            return refused
        body = body or {}
        thread = self._new_thread(
            parent, body["name"], int(body.get("auto_archive_duration") or 4320), thread_id=int(message["id"])
        )
        message["thread"] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    # -- scheduled events -------------------------------------------------------------------------
    def _refuse_event(
        self, entity_type: Any, channel_id: Any, *, creating: bool, creator: Any = None
    ) -> web.Response | None:
        """Guild Scheduled Event Permissions Requirements (resources/guild-scheduled-event.mdx): to
        create, Create Events — which bots need since 23 Feb 2026, Manage Events alone no longer
        lets them (change-log "Permission Changes Going into Effect February 2026") — in the event's
        channel for voice (plus View Channel, Connect) and stage (plus Manage Channels, Mute and
        Move Members) events, guild-wide for external ones; to edit or delete, Create Events or
        Manage Events for an event the bot created, else Manage Events."""
        channel = self.world.channels.get(int(channel_id)) if str(channel_id or "").isdigit() else None
        if entity_type in (1, 2) and channel is None:
            return error_response(400, 50035, "Invalid Form Body")
        perms = self._bot_permissions(channel if entity_type in (1, 2) else None)
        if creating:
            allowed = perms.create_events
        elif creator == self.world.bot_user["id"]:
            allowed = perms.create_events or perms.manage_events
        else:
            allowed = perms.manage_events
        if entity_type == 2:
            allowed = allowed and perms.view_channel and perms.connect
        elif entity_type == 1:
            allowed = allowed and perms.manage_channels and perms.mute_members and perms.move_members
        return None if allowed else error_response(403, MISSING_PERMISSIONS, "Missing Permissions")

    async def op_create_guild_scheduled_event(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        world = self.world
        body = body or {}
        refused = self._refuse_event(body.get("entity_type"), body.get("channel_id"), creating=True)
        if refused is not None:
            return refused
        event_id = world.snowflake()
        event = {
            "id": str(event_id),
            "guild_id": params["guild_id"],
            "channel_id": None if body.get("channel_id") is None else str(body["channel_id"]),
            "creator_id": world.bot_user["id"],
            "creator": world.bot_user,
            "name": body.get("name"),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": 1,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        world.events[event_id] = event
        await self.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event)
        return json_response(event)

    async def op_list_guild_scheduled_events(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(list(self.world.events.values()))

    def _event(self, params: dict[str, str]) -> dict[str, Any] | None:
        raw = params["guild_scheduled_event_id"]
        return self.world.events.get(int(raw)) if raw.isdigit() else None

    async def op_get_guild_scheduled_event(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        event = self._event(params)
        return json_response(event) if event else error_response(404, 10070, "Unknown Guild Scheduled Event")

    async def op_update_guild_scheduled_event(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        event = self._event(params)
        if event is None:
            return error_response(404, 10070, "Unknown Guild Scheduled Event")
        body = body or {}
        entity_type = body.get("entity_type", event.get("entity_type"))
        channel_id = body["channel_id"] if "channel_id" in body else event.get("channel_id")
        refused = self._refuse_event(entity_type, channel_id, creating=False, creator=event.get("creator_id"))
        if refused is not None:
            return refused
        event.update({k: v for k, v in body.items()})
        if event.get("channel_id") is not None:
            event["channel_id"] = str(event["channel_id"])
        await self.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return json_response(event)

    async def op_delete_guild_scheduled_event(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        event = self._event(params)
        if event is None:
            return error_response(404, 10070, "Unknown Guild Scheduled Event")
        refused = self._refuse_event(
            event.get("entity_type"), event.get("channel_id"), creating=False, creator=event.get("creator_id")
        )
        if refused is not None:
            return refused
        del self.world.events[int(event["id"])]
        await self.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event)
        return web.Response(status=204)

    async def op_get_user(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        raw = params["user_id"]
        user = self.world.users.get(int(raw)) if raw.isdigit() else None
        return json_response(user) if user else error_response(404, 10013, "Unknown User")

    # -- direct messages ----------------------------------------------------------------------------
    async def op_create_dm(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        recipient = str((body or {}).get("recipient_id", ""))
        user = self.world.users.get(int(recipient)) if recipient.isdigit() else None
        if user is None:
            return error_response(400, 50033, "Invalid Recipients")
        for channel in self.world.dms.values():
            if channel["recipients"][0]["id"] == user["id"]:
                return json_response(channel)
        channel_id = self.world.snowflake()
        channel = {"id": str(channel_id), "type": 1, "recipients": [user], "last_message_id": None, "flags": 0}
        self.world.dms[channel_id] = channel
        self.world.messages[channel_id] = []
        return json_response(channel)

    # -- guild --------------------------------------------------------------------------------------
    async def op_get_guild(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        guild = int(params["guild_id"]) if params["guild_id"].isdigit() else 0
        if guild not in self.world.guilds:
            return error_response(404, 10004, "Unknown Guild")
        payload = self.world.guild_payload(guild)
        return json_response({k: v for k, v in payload.items() if k not in ("members", "channels", "threads")})

    async def op_list_guild_channels(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(
            [
                c
                for c in self.world.channels.values()
                if "thread_metadata" not in c and c["guild_id"] == params["guild_id"]
            ]
        )

    async def op_get_active_guild_threads(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        threads = [
            t
            for t in self.world.threads()
            if not t["thread_metadata"]["archived"] and t["guild_id"] == params["guild_id"]
        ]
        return json_response({"threads": threads, "members": []})

    async def op_get_guild_member(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        guild = self.world.guilds.get(int(params["guild_id"])) if params["guild_id"].isdigit() else None
        members = guild.members if guild is not None else {}
        member = members.get(int(params["user_id"])) if params["user_id"].isdigit() else None
        return json_response(member) if member else error_response(404, 10007, "Unknown Member")

    async def op_list_guild_roles(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        guild = int(params["guild_id"]) if params["guild_id"].isdigit() else 0
        world = self.world
        return json_response(
            [r for rid, r in world.roles.items() if world.role_guild.get(rid, world.guild_id) == guild]
        )


async def close_quietly(server: SandboxServer) -> None:
    with contextlib.suppress(Exception):
        await server.stop()
