"""What a lab sees in place of an expert's id: a pseudonym of its own for that expert.

A keyed HMAC (SHA-256) of the lab and the expert under a platform secret
(`COHORT_PSEUDONYM_KEY`): stable for one lab, so a lab can tell its items came from the same
person; unlinkable across labs, so two labs cannot join their data on a person; and not
reversible without the key (operators map a pseudonym back through intake's record of those it
handed out). Standard library only: domain and application code may use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "xp_"


class LabView:
    """Expert ids as labs see them, under the platform's key; with no key, labs see none."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def of(self, lab_id: object, expert_ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        return tuple(p for p, _e in self.pairs(lab_id, expert_ids))

    def pairs(self, lab_id: object, expert_ids: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
        """(pseudonym, expert id) for each expert; none without a key."""
        if self._key is None:
            return []
        return [(lab_pseudonym(self._key, lab_id, e), e) for e in expert_ids]


def lab_pseudonym(key: bytes, lab_id: object, expert_id: str) -> str:
    """`expert_id` as lab `lab_id` sees it: 'xp_' and 26 base-32 characters (130 bits)."""
    digest = hmac.new(key, f"{lab_id}\x00{expert_id}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode().lower()[:26]
