"""Foundations: clock, configuration, i18n, parsing and formatting, the callback codec.

Imports only the standard library and third-party packages; everything else builds on it.
"""
