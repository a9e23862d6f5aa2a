"""Dutch formatting for letters and screens."""

from __future__ import annotations

from datetime import date, datetime

from webapp import clock

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


# What a complainant sent in, by `soort`: a compliment, suggestion or signal is never called a klacht.
KIND_NOUNS = {"klacht": "Klacht", "compliment": "Compliment", "suggestie": "Suggestie", "signaal": "Signaal"}


def kind_noun(soort: object) -> str:
    """'Klacht', 'Compliment', 'Suggestie', 'Signaal'; 'Melding' for anything else."""
    return KIND_NOUNS.get(soort, "Melding") if isinstance(soort, str) else "Melding"


def long_date(value: str | date | datetime | None) -> str:
    """'2026-05-15' or an ISO moment -> '15 mei 2026' (a moment in Amsterdam time). Anything
    that is no date is returned unchanged, so a letter never fails on it."""
    if value is None or value == "":
        return ""
    moment: date
    if isinstance(value, datetime):
        moment = clock.to_local(value).date() if value.tzinfo else value.date()
    elif isinstance(value, date):
        moment = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        moment = clock.to_local(parsed).date() if parsed.tzinfo else parsed.date()
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


# Dutch plurals of the nouns shown with a count; anything else gets "-en" (werkdag -> werkdagen).
PLURALS = {"taak": "taken", "probleem": "problemen", "week": "weken", "werkdag": "werkdagen", "dag": "dagen",
           "klacht": "klachten", "maand": "maanden", "gebeurtenis": "gebeurtenissen", "melding": "meldingen",
           "brief": "brieven", "keer": "keer", "uur": "uur", "storing": "storingen", "scenario": "scenario's",
           "versie": "versies", "stap": "stappen", "bericht": "berichten", "gebruiker": "gebruikers",
           "complimenten": "complimenten", "compliment": "complimenten", "suggestie": "suggesties",
           "signaal": "signalen", "formulier": "formulieren", "fout": "fouten", "waarschuwing": "waarschuwingen",
           "element": "elementen", "regel": "regels", "jaar": "jaar", "minuut": "minuten"}


def meervoud(count: int, noun: str, plural: str | None = None) -> str:
    """'1 taak', '0 taken', '3 problemen', '1 week', '2 weken': the count with the right form."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural or PLURALS.get(noun) or noun + 'en'}"
