"""Reading the values of a submission: text without control characters, yes/no flags, dates
in ISO or Dutch notation, e-mail addresses and phone numbers; and the lapse term."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from handlers.working_days import add_months

from .rules import MAX_LENGTH

_TRUE = {"ja", "true", "on", "1", "yes", "waar"}
_FALSE = {"", "nee", "false", "off", "0", "no", "onwaar"}
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\\\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}")
_PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


class Invalid(Exception):
    """A submitted value of the wrong kind (a list for a name, "misschien" for a yes/no)."""


def clean(text: str) -> str:
    """Normalised line breaks, no control characters (PostgreSQL refuses NUL in text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid
    return clean(str(value))


def flag_value(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid


def parse_date(value: Any) -> date:
    """A date from a date, ISO (2026-02-14, what <input type=date> sends) or Dutch (14-02-2026)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_value(value)
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DUTCH_DATE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    else:
        raise Invalid
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid from None


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when that day does not exist)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    return date(year, month, min(day.day, last))


def lapsed(since: date, submitted: date, months: int) -> bool:
    """Whether the right to complain has lapsed: the term runs `months` months forward from the
    event (or from the day the complainant knew of it) and ends on the same day of the month
    (the month's last day when that day does not exist); a complaint submitted after that day
    is too late. An event on 28 February lapses after 28 August; one on 31 August after
    28 (or 29) February."""
    return add_months(since, months) < submitted



def plausible_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text))


def plausible_phone(text: str) -> bool:
    if not _PHONE_CHARS.fullmatch(text):
        return False
    digits = re.sub(r"\D", "", text)
    return 10 <= len(digits) <= 15



def too_long(name: str, text: str) -> str | None:
    limit = MAX_LENGTH[name]
    if len(text) > limit:
        return f"Gebruik hoogstens {limit} tekens (u gebruikte er {len(text)})."
    return None



__all__ = ["Invalid", "clean", "flag_value", "lapsed", "months_before", "parse_date", "plausible_email",
           "plausible_phone", "text_value", "too_long"]
