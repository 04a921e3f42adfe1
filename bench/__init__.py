"""Benchmarks: fieldbot against the Bot API emulator, with python-telegram-bot's own
AIORateLimiter send loop as the peer, measured in the same run (`make bench`)."""
