"""The one kind of refusal a service raises for a request it cannot carry out."""

from __future__ import annotations


class ServiceError(Exception):
    """``key`` and ``params`` explain the problem to the member, in their language."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
