"""The loopback Discord: a gateway websocket and the REST API v10 routes the bot uses.

Writes update the sandbox's world and dispatch the gateway events Discord would send (subject to
the session's intents). Every REST request is recorded and validated against Discord's OpenAPI
spec; violations are collected for tests to fail on.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypedDict
from urllib.parse import unquote

from aiohttp import BodyPartReader, WSMsgType, web

from bot.sandbox.spec import OpenAPISpec, Operation
from bot.sandbox.world import FORUM, PUBLIC_THREAD, InteractionRecord, World, iso

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


def error_response(status: int, code: int | None = None, message: str | None = None) -> web.Response:
    default_code, default_message = ERROR_BODIES.get(status, (0, f"{status}"))
    return json_response(
        {"message": message or default_message, "code": default_code if code is None else code}, status
    )


@dataclass
class FailRule:
    method: str
    glob: str
    status: int
    remaining: int | None  # None: until cleared

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.glob)


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
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))


class SandboxServer:
    def __init__(self, world: World, spec: OpenAPISpec | None = None) -> None:
        self.world = world
        self.spec = spec or OpenAPISpec.default()
        self.requests: list[RecordedRequest] = []
        self._violations: list[str] = []
        self._unchecked: list[tuple[Operation, RecordedRequest]] = []
        self._checked_bodies: dict[tuple[str, str], list[str]] = {}
        self.fail_rules: list[FailRule] = []
        self.sessions: dict[str, Session] = {}
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
                    session = Session(id=secrets.token_hex(8), intents=int(frame["d"].get("intents", 0)))
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
                    if session is not None:
                        await self._send(
                            session,
                            "GUILD_MEMBERS_CHUNK",
                            {
                                "guild_id": str(self.world.guild_id),
                                "members": list(self.world.members.values()),
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
        await self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": {**world.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "guilds": [{"id": str(world.guild_id), "unavailable": True}],
                "application": {"id": str(world.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
                "shard": [0, 1],
            },
        )
        await self._send(session, "GUILD_CREATE", world.guild_payload())

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
        """Send a gateway event to every session whose intents cover it."""
        needed = EVENT_INTENT.get(event)
        for session in list(self.sessions.values()):
            if needed is None or session.intents & needed:
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
        for rule in self.fail_rules:
            if rule.matches(request.method, path):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.fail_rules.remove(rule)
                record.status = rule.status
                return error_response(rule.status)
        handler: Handler | None = getattr(self, f"op_{op.operation_id}", None)
        if handler is None:
            self._violations.append(f"{request.method} {path}: the sandbox does not implement {op.operation_id}")
            record.status = 404
            return error_response(404, 0, "404: Not Found")
        params = {k: unquote(v) for k, v in op.params.items()}
        response = await handler(request, params, body, files)
        record.status = response.status
        return response

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
                "shards": 1,
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
        if record is None or record.token != params["interaction_token"]:
            return error_response(404, 10062, "Unknown interaction")
        if record.callback is not None:
            return error_response(400, 40060, "Interaction has already been acknowledged.")
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
        if record is None:
            return error_response(404, 10015, "Unknown Webhook")
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
            # The first follow-up after a deferral replaces the "thinking…" message.
            message = record.original
            self._apply_edit(message, body, iso(world.clock.now()))
            message["flags"] = int(message.get("flags") or 0) & ~128
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
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        self._apply_edit(record.original, body or {}, iso(self.world.clock.now()))
        record.original["flags"] = int(record.original.get("flags") or 0) & ~128
        if not int(record.original["flags"]) & 64:
            await self.dispatch("MESSAGE_UPDATE", record.original)
        self._notify(record)
        return json_response(record.original)

    async def op_get_original_webhook_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        return json_response(record.original)

    async def op_delete_original_webhook_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
        if record is None or record.original is None:
            return error_response(404, 10008, "Unknown Message")
        self._delete_message(record.original)
        record.original = None
        return web.Response(status=204)

    async def op_update_webhook_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        record = self._interaction_by_token(params["webhook_token"])
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
        return json_response(channel) if channel else error_response(404)

    async def op_update_channel(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        body = dict(body or {})  # the recorded request stays as sent
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
        for key in ("name", "topic", "applied_tags", "available_tags", "auto_archive_duration", "flags"):
            if key in body:
                channel[key] = body[key]
        if "thread_metadata" in channel:
            for key in ("archived", "locked", "auto_archive_duration"):
                if key in body:
                    channel["thread_metadata"][key] = body[key]
            await self.dispatch("THREAD_UPDATE", channel)
        else:
            await self.dispatch("CHANNEL_UPDATE", channel)
        return json_response(channel)

    async def op_delete_channel(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        del self.world.channels[int(channel["id"])]
        is_thread = "thread_metadata" in channel
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

    async def op_list_messages(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        limit = int(request.query.get("limit", 50))
        return json_response(list(reversed(self.world.messages.get(int(channel["id"]), [])))[:limit])

    async def op_get_message(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        return json_response(message) if message else error_response(404, 10008, "Unknown Message")

    async def op_create_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        channel = self._channel(params)
        if channel is None:
            return error_response(404)
        if channel["type"] in (FORUM, 2):
            return error_response(400, 50008, "Cannot send messages in a non-text channel")
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self.world.dms_closed:
            return error_response(403, 50007, "Cannot send messages to this user")
        body = body or {}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = self.world.nonces.get((int(channel["id"]), str(nonce)))
            if existing is not None:
                return json_response(existing)
        if files:
            body = {**body, "attachments": self._attachments(files)}
        message = self.world.new_message(int(channel["id"]), self.world.bot_user, body)
        if nonce is not None:
            self.world.nonces[(int(channel["id"]), str(nonce))] = message
        self.world.store_message(message)
        await self.dispatch("MESSAGE_CREATE", message)
        return json_response(message)

    async def op_update_message(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if message is None:
            return error_response(404, 10008, "Unknown Message")
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
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if message is None:
            return error_response(404, 10008, "Unknown Message")
        self._delete_message(message)
        await self.dispatch(
            "MESSAGE_DELETE",
            {"id": message["id"], "channel_id": message["channel_id"], "guild_id": str(self.world.guild_id)},
        )
        return web.Response(status=204)

    async def _pin(self, params: dict[str, str], pinned: bool) -> web.Response:
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if message is None:
            return error_response(404, 10008, "Unknown Message")
        message["pinned"] = pinned
        await self.dispatch(
            "CHANNEL_PINS_UPDATE", {"channel_id": params["channel_id"], "guild_id": str(self.world.guild_id)}
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
        message = self.world.find_message(int(params["channel_id"]), int(params["message_id"]))
        if message is None:
            return error_response(404, 10008, "Unknown Message")
        reactions = message.setdefault("reactions", [])
        emoji = params["emoji_name"]
        for reaction in reactions:
            if reaction["emoji"]["name"] == emoji:
                if not reaction["me"]:
                    reaction["count"] += 1
                    reaction["me"] = True
                break
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
            "guild_id": str(world.guild_id),
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
            "applied_tags": applied_tags or [],
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
        return thread

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
            thread = self._new_thread(parent, body["name"], archive, applied_tags=body.get("applied_tags"))
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            message = self.world.new_message(int(thread["id"]), self.world.bot_user, first)
            message["id"] = thread["id"]  # a forum post's starter message shares the thread's id
            self.world.store_message(message)
            await self.dispatch("MESSAGE_CREATE", message)
            return json_response({**thread, "message": message})
        if parent["type"] != 0:
            return error_response(400, 50024, "Cannot execute action on this channel type")
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
        body = body or {}
        thread = self._new_thread(
            parent, body["name"], int(body.get("auto_archive_duration") or 4320), thread_id=int(message["id"])
        )
        message["thread"] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    # -- scheduled events -------------------------------------------------------------------------
    async def op_create_guild_scheduled_event(
        self, request: web.Request, params: Params, body: JSONObject | None, files: list[UploadedFile]
    ) -> web.Response:
        world = self.world
        body = body or {}
        event_id = world.snowflake()
        event = {
            "id": str(event_id),
            "guild_id": str(world.guild_id),
            "channel_id": body.get("channel_id"),
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
        event.update({k: v for k, v in (body or {}).items()})
        await self.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return json_response(event)

    async def op_delete_guild_scheduled_event(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        event = self._event(params)
        if event is None:
            return error_response(404, 10070, "Unknown Guild Scheduled Event")
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
        payload = self.world.guild_payload()
        return json_response({k: v for k, v in payload.items() if k not in ("members", "channels", "threads")})

    async def op_list_guild_channels(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response([c for c in self.world.channels.values() if "thread_metadata" not in c])

    async def op_get_active_guild_threads(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        threads = [t for t in self.world.threads() if not t["thread_metadata"]["archived"]]
        return json_response({"threads": threads, "members": []})

    async def op_get_guild_member(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        member = self.world.members.get(int(params["user_id"])) if params["user_id"].isdigit() else None
        return json_response(member) if member else error_response(404, 10007, "Unknown Member")

    async def op_list_guild_roles(
        self, request: web.Request, params: Params, body: object, files: list[UploadedFile]
    ) -> web.Response:
        return json_response(list(self.world.roles.values()))


async def close_quietly(server: SandboxServer) -> None:
    with contextlib.suppress(Exception):
        await server.stop()
