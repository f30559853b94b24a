"""In-memory DNC lookup at dialing rate: sorted numpy int64 arrays of E.164 digits, no objects.

A `DncSet` is one bulk list (a registry copy, a tenant's or a campaign's list) for one channel:
a sorted unique int64 array (10 M numbers = 80 MB) searched with `searchsorted`, O(log n) with a
tiny constant, optionally with a parallel array of expiry times. `DncIndex` holds the sets by
(scope, owner, channel) plus a small overlay of single additions and removals (agent
dispositions, SMS STOP, API), and answers `lookup` (the `DncHit`s for one number) and a vectorised
`blocked` for a batch of numbers. The database-backed store and its cross-node fan-out sit on top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from compliance.facts import DncHit
from config.vocabulary import Channel, DncChannel, DncScope

Keys = npt.NDArray[np.int64]
SetKey = tuple[DncScope, str | None, DncChannel]
NEVER = math.inf


def e164_key(phone_e164: str) -> int | None:
    """'+12015550123' → 12015550123 (E.164 digits never start with 0, so the int is lossless)."""
    digits = phone_e164[1:]
    if len(phone_e164) < 3 or phone_e164[0] != "+" or not (digits.isascii() and digits.isdigit()):
        return None
    if len(phone_e164) > 16 or phone_e164[1] == "0":
        return None
    return int(digits)


def key_e164(key: int) -> str:
    return f"+{key}"


@dataclass(frozen=True, eq=False)
class DncSet:
    """One bulk list: sorted unique digits, the channel it covers, and where it came from."""

    scope: DncScope
    channel: DncChannel
    digits: Keys
    owner: str | None = None
    registry: bool = False
    source: str = ""
    as_of: date | None = None
    expires_s: npt.NDArray[np.float64] | None = None  # aligned with digits; inf = never

    @staticmethod
    def build(
        digits: Iterable[int] | Keys,
        scope: DncScope,
        channel: DncChannel,
        **kw: object,
    ) -> DncSet:
        """Sort and deduplicate `digits` into a set (use `with_expiry` for expiring entries)."""
        arr = np.unique(np.asarray(list(digits) if not isinstance(digits, np.ndarray) else digits,
                                   dtype=np.int64))  # fmt: skip
        return DncSet(scope, channel, arr, **kw)  # type: ignore[arg-type]

    def find(self, key: int) -> int:
        """The index of `key`, or -1."""
        digits = self.digits
        i = int(digits.searchsorted(key))
        return i if i < digits.size and digits[i] == key else -1

    def __len__(self) -> int:
        return int(self.digits.size)

    def hit(self, index: int) -> DncHit:
        expires = None
        if self.expires_s is not None and math.isfinite(self.expires_s[index]):
            expires = datetime.fromtimestamp(float(self.expires_s[index]), UTC)
        return DncHit(self.scope, self.channel, self.registry, self.source, expires, self.owner)


@dataclass
class _Entry:
    scope: DncScope
    owner: str | None
    channel: DncChannel
    source: str
    expires_at: datetime | None


def _covers(channel: DncChannel, wanted: Channel) -> bool:
    if channel is DncChannel.ALL:
        return True
    return (channel is DncChannel.SMS) == (wanted is Channel.SMS)


@dataclass
class DncIndex:
    """Every DNC list an engine node consults, keyed by (scope, owner, channel)."""

    sets: dict[SetKey, DncSet] = field(default_factory=dict)
    _extra: dict[int, list[_Entry]] = field(default_factory=dict)
    _removed: set[tuple[int, DncScope, str | None, DncChannel]] = field(default_factory=set)

    def replace_set(self, dnc_set: DncSet) -> None:
        """Install a bulk list, replacing the previous copy of the same (scope, owner, channel)."""
        self.sets[(dnc_set.scope, dnc_set.owner, dnc_set.channel)] = dnc_set

    def add(
        self,
        phone_e164: str,
        scope: DncScope = DncScope.GLOBAL,
        channel: DncChannel = DncChannel.ALL,
        *,
        owner: str | None = None,
        source: str = "",
        expires_at: datetime | None = None,
    ) -> bool:
        """Add one entry (effective on the next lookup); False if the number is not E.164."""
        key = e164_key(phone_e164)
        if key is None:
            return False
        self._removed.discard((key, scope, owner, channel))
        self._extra.setdefault(key, []).append(_Entry(scope, owner, channel, source, expires_at))
        return True

    def set_entries(self, phone_e164: str, hits: Iterable[DncHit]) -> bool:
        """Replace a number's single entries with what the store holds now (bulk lists kept)."""
        key = e164_key(phone_e164)
        if key is None:
            return False
        entries = [_Entry(h.scope, h.owner, h.channel, h.source, h.expires_at) for h in hits]
        if entries:
            self._extra[key] = entries
        else:
            self._extra.pop(key, None)
        return True

    def clear_entries(self) -> None:
        """Forget every single entry (before reloading them all); bulk lists are kept."""
        self._extra.clear()

    def remove(
        self,
        phone_e164: str,
        scope: DncScope = DncScope.GLOBAL,
        channel: DncChannel = DncChannel.ALL,
        *,
        owner: str | None = None,
    ) -> bool:
        """Remove one entry from the overlay and mask it in the bulk list; True if it was there."""
        key = e164_key(phone_e164)
        if key is None:
            return False
        entries = self._extra.get(key, [])
        kept = [e for e in entries if (e.scope, e.owner, e.channel) != (scope, owner, channel)]
        found = len(kept) != len(entries)
        if kept:
            self._extra[key] = kept
        else:
            self._extra.pop(key, None)
        bulk = self.sets.get((scope, owner, channel))
        if bulk is not None and bulk.find(key) >= 0:
            self._removed.add((key, scope, owner, channel))
            found = True
        return found

    def lookup(
        self, phone_e164: str, *, tenant: str | None = None, campaign: str | None = None
    ) -> tuple[DncHit, ...]:
        """Every entry for the number in the global, this tenant's and this campaign's lists."""
        key = e164_key(phone_e164)
        if key is None:
            return ()
        hits: list[DncHit] = []
        removed = self._removed
        for (scope, owner, channel), dnc_set in self.sets.items():
            if owner is not None and owner != (tenant if scope is DncScope.TENANT else campaign):
                continue
            index = dnc_set.find(key)
            if index >= 0 and not (removed and (key, scope, owner, channel) in removed):
                hits.append(dnc_set.hit(index))
        for entry in self._extra.get(key, ()):
            if entry.owner is None or entry.owner == (
                tenant if entry.scope is DncScope.TENANT else campaign
            ):
                hits.append(DncHit(entry.scope, entry.channel, False, entry.source,
                                   entry.expires_at, entry.owner))  # fmt: skip
        return tuple(hits)

    def blocked(
        self,
        keys: Keys,
        channel: Channel,
        *,
        now: datetime,
        tenant: str | None = None,
        campaign: str | None = None,
        registry: bool = True,
    ) -> npt.NDArray[np.bool_]:
        """Vectorised: which of `keys` have an unexpired entry covering `channel` (batch scrub)."""
        out = np.zeros(keys.shape, dtype=bool)
        now_s = now.timestamp()
        for (scope, owner, set_channel), dnc_set in self.sets.items():
            if not _covers(set_channel, channel) or (dnc_set.registry and not registry):
                continue
            if owner is not None and owner != (tenant if scope is DncScope.TENANT else campaign):
                continue
            out |= _member(dnc_set, keys, now_s)
        touched = [*self._extra, *(r[0] for r in self._removed)]
        if touched:
            for i in np.flatnonzero(np.isin(keys, np.asarray(touched, dtype=np.int64))):
                hits = self.lookup(key_e164(int(keys[i])), tenant=tenant, campaign=campaign)
                out[i] = any(
                    h.covers(channel) and (h.expires_at is None or h.expires_at > now)
                    for h in hits
                    if registry or not h.registry
                )
        return out

    def registry_as_of(self) -> date | None:
        """The oldest as-of date among loaded registry copies (None: none loaded)."""
        dates = [s.as_of for s in self.sets.values() if s.registry and s.as_of is not None]
        return min(dates) if dates else None

    def __len__(self) -> int:
        return sum(len(s) for s in self.sets.values()) + len(self._extra)


def _member(dnc_set: DncSet, keys: Keys, now_s: float) -> npt.NDArray[np.bool_]:
    digits = dnc_set.digits
    if digits.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.minimum(digits.searchsorted(keys), digits.size - 1)
    found: npt.NDArray[np.bool_] = digits[pos] == keys
    if dnc_set.expires_s is not None:
        found &= dnc_set.expires_s[pos] > now_s
    return found
