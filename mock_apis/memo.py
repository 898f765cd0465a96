"""Derived views (pages, indexes) memoised per world version, shared by both APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_apis.world import World


class MemoizedViews:
    """Cache of views built from the world; cleared when the world's version moves.

    Subclasses say which keys are `_eager`: views that do not depend on a
    client's cursor, rebuilt at once by `rebuild` after an advance.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._memo: dict[Any, Any] = {}
        self._builders: dict[Any, Callable[[], Any]] = {}
        self._memo_version = -1

    def _eager(self, key: tuple) -> bool:
        raise NotImplementedError

    def _memoized(self, key: Any, build: Callable[[], Any]) -> Any:
        if self._memo_version != self.world.version:
            self._memo.clear()
            self._memo_version = self.world.version
        if key not in self._memo:
            self._memo[key] = build()
            if self._eager(key):
                self._builders[key] = build
        return self._memo[key]

    def rebuild(self) -> None:
        """Rebuild every derived view used so far for the current world version, so the
        first request after `advance` costs what any other does (a real API has no
        rebuild step a client would wait for)."""
        self._memo_version = self.world.version
        self._memo = {}
        for key, build in list(self._builders.items()):  # in first-use order: deps first
            if key not in self._memo:
                self._memo[key] = build()
