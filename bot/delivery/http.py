"""An aiohttp transport for python-telegram-bot.

httpx's connection pool scans every connection for every request, which caps one process
at a few hundred calls a second with the pool a fast sender needs; aiohttp's connector does
not. Same contract as PTB's HTTPXRequest: (status, body) or TimedOut / NetworkError.

It also keeps one unreadable update from stopping the bot: python-telegram-bot parses a
getUpdates answer as a whole (``Update.de_list``), so one update it cannot read (a poll without
``allows_revoting`` from an older self-hosted Bot API server, say) fails every poll, the offset
never moves and the same batch comes back forever. Each update is tried alone here; one that
fails is logged once (its id and the error, not its content, which may hold an invitation code)
and replaced by a bare ``{"update_id": N}``, which no handler takes, so the offset moves past it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from telegram import Update
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)


def readable_updates(body: bytes) -> bytes:
    """A getUpdates answer in which every update python-telegram-bot cannot parse is bare."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body  # not JSON at all: PTB reports that itself, and it does not loop
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
        return body
    updates: list[Any] = answer["result"]
    changed = False
    for index, item in enumerate(updates):
        try:
            Update.de_json(item, None)
        except Exception as error:  # whatever PTB trips on, the rest of the batch must go on
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                continue  # without an id nothing can be skipped; PTB will report the batch
            log.warning(
                "skipped update %d that could not be read (%s: %s)",
                update_id,
                error.__class__.__name__,
                str(error)[:200],
            )
            updates[index] = {"update_id": update_id}
            changed = True
    return json.dumps(answer).encode() if changed else body


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        pool_size: int = 64,
        read_timeout: float | None = 5.0,
        connect_timeout: float = 10.0,
        media_write_timeout: float = 60.0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        data: aiohttp.FormData | dict[str, str] | None = None
        total = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
                total = self._media_write_timeout + (read or 0)
            else:
                data = request_data.json_parameters
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                body = await response.read()
                if response.status == 200 and url.endswith("/getUpdates"):
                    body = readable_updates(body)
                return response.status, body
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
