"""The benchmark ladder: named data sizes, how many sample customers make them, and how hard to
measure at each (repetitions, time budget, time limit)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cjlib.errors import CjError

# acme-motor's generator makes about 9.2 canonical events per customer (991,734 events from
# 107,500 customers); the events actually built are counted and reported, never assumed.
EVENTS_PER_CUSTOMER = 9.225


@dataclass(frozen=True)
class Size:
    """One rung of the ladder."""

    name: str
    customers: int
    warmups: int = 1  # untimed runs before the timed ones (the first one gives the answer)
    reps: int = 5  # timed runs (fewer when a run is slow, see budget_s)
    budget_s: float = 120.0  # timed runs of one entry stop adding repetitions past this
    timeout_s: float = 900.0  # a subprocess running longer is stopped and reported
    ingest_warmups: int = 1
    ingest_reps: int = 3
    # the timed ingest's warehouse becomes the cached one: stopping it early would only mean
    # building it again untimed
    ingest_timeout_s: float = 3600.0

    @property
    def nominal_events(self) -> int:
        return round(self.customers * EVENTS_PER_CUSTOMER)


LADDER: dict[str, Size] = {
    size.name: size
    for size in (
        Size("tiny", 400, warmups=0, reps=1, budget_s=10, timeout_s=300, ingest_warmups=0,
             ingest_reps=1),
        Size("1M", 108_400),
        Size("10M", 1_084_000, reps=3, budget_s=45, timeout_s=900, ingest_warmups=0,
             ingest_reps=1),
        # one run per entry (its answer is checked, then it is the timing): the whole ladder has
        # to fit in an hour on two cores
        Size("100M", 10_840_000, warmups=0, reps=1, budget_s=0, timeout_s=900,
             ingest_warmups=0, ingest_reps=1),
    )
}
DEFAULT_SIZES = ("1M", "10M", "100M")

_EVENTS = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def parse_sizes(text: str | None) -> list[Size]:
    """'1M,10M' -> ladder sizes; other event counts such as '3M' or '250k' are accepted too."""
    names = [t.strip() for t in (text or ",".join(DEFAULT_SIZES)).split(",") if t.strip()]
    if not names:
        raise CjError("no benchmark size given")
    sizes = []
    for name in names:
        if name in LADDER:
            sizes.append(LADDER[name])
            continue
        match = _EVENTS.match(name)
        if not match:
            raise CjError(
                f"benchmark size {name!r}: use one of {', '.join(LADDER)} or an event count "
                "such as 3M or 250k"
            )
        scale = {"": 1, "k": 1e3, "m": 1e6}[match.group(2).lower()]
        events = float(match.group(1)) * scale
        sizes.append(Size(name, max(1, round(events / EVENTS_PER_CUSTOMER))))
    return sizes
