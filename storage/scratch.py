"""Throwaway PostgreSQL databases for the test suite and the benchmarks: one per run, made
from a server URL and dropped after, so runs never see each other's rows."""

from __future__ import annotations

import uuid

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


async def create_database(base_url: str) -> str:
    """A new empty database on ``base_url``'s server; returns its URL."""
    name = f"fieldbot_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(base_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()
