"""The scripted demo played against the built-in Bot API emulator."""

from bot.demo.main import run_demo

__all__ = ["run_demo"]
