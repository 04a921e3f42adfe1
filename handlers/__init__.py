"""Telegram edge: turn updates into domain calls and results into messages. No rules, no SQL."""
