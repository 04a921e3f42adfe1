"""The emulator's HTTP side: ``/bot<token>/<method>`` as the real Bot API serves it."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from bot.emulator import control, methods
from bot.emulator.limits import Fault, FaultKind, LimitSettings, RateLimiter
from bot.emulator.world import SimUser, World

log = logging.getLogger(__name__)

JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "entities"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "user_id"}
FLOAT_FIELDS = {"timeout", "cache_time"}
NEW_MESSAGES = {"sendMessage", "sendDocument", "sendPhoto"}
LIMITED = {"sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageReplyMarkup"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def _convert(key: str, value: Any) -> Any:
    """Form fields arrive as strings; give them the types the JSON body would have had."""
    if not isinstance(value, str):
        return value
    try:
        if key in JSON_FIELDS:
            return json.loads(value)
        if key in INT_FIELDS:
            return int(value)
        if key in FLOAT_FIELDS:
            return float(value)
    except ValueError:  # JSONDecodeError is a ValueError too
        raise ApiError(400, f"Bad Request: can't parse {key}") from None
    return value


class BotApiEmulator:
    """A Bot API server on 127.0.0.1 with simulated people, limits and faults."""

    def __init__(
        self,
        token: str = "123456:EMULATOR",
        bot_username: str = "fieldbot_emulator_bot",
        limits: LimitSettings | None = None,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.world = World(bot_username)
        self.limits = RateLimiter(limits or LimitSettings(enabled=False))
        self.faults: list[Fault] = []
        self.rng = random.Random(seed)
        self.calls: Counter[str] = Counter()
        self.delivered: Counter[int] = Counter()  # successful sends per chat
        self.send_times: list[float] = []
        self.errors: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._next_user_id = 100_000_001

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        control.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None)
        if not sockets:
            raise RuntimeError("the emulator could not bind a port")
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- control ---------------------------------------------------------------------------
    def set_limits(self, settings: LimitSettings) -> None:
        self.limits.configure(settings)

    def add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def ban(self, seconds: int) -> None:
        self.limits.ban(seconds, time.monotonic())

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> SimUser:
        user = SimUser(self._next_user_id, first_name, last_name, username, language_code)
        self._next_user_id += 1
        return self.world.add_user(user)

    # -- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"]
        self.calls[method] += 1
        await self._latency()
        try:
            params = await self._params(request)
            result = await self._dispatch(method, params)
            body: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as exc:
            self.errors[exc.code] += 1
            body, status = exc.body(), exc.code
        await self._latency()
        return web.json_response(body, status=status)

    async def _latency(self) -> None:
        settings = self.limits.settings
        if settings.latency_max > 0:
            await asyncio.sleep(self.rng.uniform(settings.latency_min, settings.latency_max) / 2)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    raw[key] = {"filename": value.filename, "size": len(value.file.read())}
                elif isinstance(value, bytes | bytearray):
                    raw[key] = value.decode()
                else:
                    raw[key] = value
        return {key: _convert(key, value) for key, value in raw.items()}

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        handler = methods.HANDLERS.get(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        chat_id = params.get("chat_id")
        hold = await self._apply_faults(method, chat_id)
        if method in LIMITED:
            chat = self.world.chat(chat_id) if isinstance(chat_id, int) else None
            if chat is None:
                raise ApiError(400, "Bad Request: chat not found")
            user = self.world.users.get(chat.id)
            if user is not None and user.blocked_bot:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            violation = self.limits.check(chat.id, time.monotonic())
            if violation is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {violation.retry_after}",
                    retry_after=violation.retry_after,
                )
        result = await handler(self, params)
        if method in NEW_MESSAGES and isinstance(chat_id, int):
            self.delivered[chat_id] += 1
            self.send_times.append(time.monotonic())
        if hold:
            await asyncio.sleep(hold)  # delivered, but the answer comes too late for the client
        return result

    async def _apply_faults(self, method: str, chat_id: Any) -> float:
        """Raise the first matching injected fault; return how long to hold a delivered answer."""
        for fault in self.faults:
            if not fault.matches(method, chat_id if isinstance(chat_id, int) else None, self.rng):
                continue
            fault.times -= 1
            fault.hits += 1
            if fault.kind is FaultKind.FLOOD:
                self.ban(fault.retry_after)
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    retry_after=fault.retry_after,
                )
            if fault.kind is FaultKind.SERVER_ERROR:
                raise ApiError(502, "Bad Gateway")
            if fault.kind is FaultKind.FORBIDDEN:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if fault.kind is FaultKind.BAD_REQUEST:
                raise ApiError(400, "Bad Request: injected fault")
            if fault.kind is FaultKind.TIMEOUT:
                if fault.deliver:
                    return fault.delay
                await asyncio.sleep(fault.delay)
                raise ApiError(504, "Gateway Timeout")
        return 0.0

    def person(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> Any:
        from bot.emulator.people import Person

        return Person(self, self.add_user(first_name, last_name, username, language_code))
