"""What a password a person chooses must be (OWASP ASVS 2.1): at least 12 characters, at most
128, not one of the most common passwords (webapp/data/common_passwords.txt), not a common
password with digits or signs around it, and not the email address. Messages are Dutch."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
_DECORATION = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """A common password, also with digits or signs before or after it ('Welkom2026!')."""
    lowered = password.lower()
    core = lowered.strip(_DECORATION)
    common = common_passwords()
    return lowered in common or (len(core) >= 4 and core in common) or len(set(lowered)) <= 3


def problem(password: str, email: str = "", repeated: str | None = None) -> str | None:
    """Why this password will not do, in Dutch; None when it will."""
    if len(password) < MIN_LENGTH:
        return f"Kies een wachtwoord van minstens {MIN_LENGTH} tekens."
    if len(password) > MAX_LENGTH:
        return f"Kies een wachtwoord van hoogstens {MAX_LENGTH} tekens."
    if is_common(password):
        return "Dit wachtwoord wordt te vaak gebruikt en is makkelijk te raden. Kies een ander wachtwoord."
    local = email.split("@")[0].lower()
    if email and (password.lower() == email.lower() or (len(local) >= 4 and local in password.lower())):
        return "Uw wachtwoord mag uw e-mailadres niet bevatten."
    if repeated is not None and repeated != password:
        return "De twee wachtwoorden zijn niet gelijk."
    return None
