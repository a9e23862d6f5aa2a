"""Deadline kinds: the organisation's `deadlines` section matched to the timers of a diagram
that implement each kind (see the package's doc, "Deadline kinds")."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webapp.runtime.organisations import OrganisationConfig

from .labels import clean
from .model import DiagramModel

CALENDAR_CALL = re.compile(r"\b(working_days_after|weeks_after|months_after|days_after)\(\s*(\d+)(?:\s*\+[^,]*)?\s*,(.*)\)")
UNIT_FUNCTIONS = {"working_days": "working_days_after", "weeks": "weeks_after", "months": "months_after",
                  "days": "days_after"}

_STOPWORDS = {"binnen", "werkdagen", "werkdag", "weken", "week", "dagen", "maanden", "maand", "verstreken",
              "timer", "termijn", "naar", "door", "voor", "heeft", "wordt", "met", "van", "een", "het", "die",
              "ontvangst", "indiening", "uiterlijk", "klacht", "klager", "klantreactie"}


def _words(*texts: str) -> set[str]:
    words = set()
    for text in texts:
        for word in re.split(r"[^a-zà-ÿ]+", clean(text).lower().replace("_", " ")):
            if len(word) >= 4 and word not in _STOPWORDS:
                words.add(word[:7])
    return words


@dataclass(frozen=True)
class DeadlineKind:
    key: str
    label: str
    timers: frozenset[str]
    guarded: frozenset[str]
    measured_on: tuple[str, ...]  # "timer name (step)" for the page
    lapse: bool  # a vervaltermijn: the complaint ends when it passes


def _spec_call(spec: Mapping[str, Any]) -> tuple[str, int, bool] | None:
    for unit, function in UNIT_FUNCTIONS.items():
        if isinstance(spec.get(unit), int):
            return function, int(spec[unit]), bool(spec.get("statutory", False))
    return None


def _matches(expression: str, call: tuple[str, int, bool]) -> bool:
    match = CALENDAR_CALL.search(expression)
    if not match:
        return False
    function, number, rest = match.group(1), int(match.group(2)), match.group(3)
    statutory = bool(re.search(r"statutory\s*=\s*True", rest))
    return (function, number, statutory) == call


def deadline_kinds(config: OrganisationConfig, model: DiagramModel) -> list[DeadlineKind]:
    """The organisation's deadline kinds with the timers of this diagram that implement them."""
    timers = {t.id: t for t in model.timers()}
    claims: dict[str, set[str]] = {}
    explicit: set[str] = set()
    for key, spec in (config.deadlines or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        listed = spec.get("timer") or spec.get("timers")
        if listed:
            ids = [listed] if isinstance(listed, str) else list(listed)
            claims[key] = {t for t in ids if t in timers}
            explicit.add(key)
            continue
        call = _spec_call(spec)
        claims[key] = {tid for tid, t in timers.items()
                       if call and any(_matches(e, call) for e in model.timer_expressions(t))}
    # A timer claimed by several kinds (same function and number) goes to the closest kind.
    owners: dict[str, list[str]] = defaultdict(list)
    for key, ids in claims.items():
        if key not in explicit:
            for tid in ids:
                owners[tid].append(key)
    for tid, keys in owners.items():
        if len(keys) < 2:
            continue
        timer = timers[tid]
        passed, _ = model.branch(tid)
        timer_words = _words(tid, timer.name, model.name(timer.attached_to or ""),
                             *(model.name(p) for p in passed))
        scores = {}
        for key in keys:
            spec = config.deadlines.get(key) or {}
            scores[key] = len(_words(key, str(spec.get("label", ""))) & timer_words)
        best = max(scores.values())
        for key in keys:
            if scores[key] < best:
                claims[key].discard(tid)
    kinds = []
    for key, spec in (config.deadlines or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        ids = claims.get(key, set())
        guarded = frozenset(timers[t].attached_to for t in ids if timers[t].attached_to)
        kinds.append(DeadlineKind(
            key=key, label=str(spec.get("label") or key.replace("_", " ")), timers=frozenset(ids),
            guarded=guarded,
            measured_on=tuple(sorted(f"{timers[t].name} ({model.name(timers[t].attached_to or '')})" for t in ids)),
            lapse=bool(ids) and all(model.is_lapse_timer(timers[t]) for t in ids)))
    return kinds
