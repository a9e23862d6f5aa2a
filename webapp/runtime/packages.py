"""A procedure package: one version of an organisation's whole procedure as a set of text files.

    organisation.yaml          settings: name, reference prefix, roles, lanes, locations, intake,
                               deadlines, retention, closing days, reporting, the complainant's page
    <process_file>.bpmn        the diagram, and the called processes it names
    forms/<name>.json          JSON Schema and UI schema of each task form
    letters/<name>.txt         letters and notification texts (letters/_portal.txt: the paragraph
                               with the complainant's link)
    scenarios/<name>.yaml      the scenarios the gate runs

A package is stored in the database with its version (`diagram_versions.files`, the diagrams in
their own columns) and read from there at run time. The repository's `bpmn/`, `forms/` and
`handlers/letters/` are templates only: `read_template` turns one into a package, for
`klachtroute load` and for new organisations. `read_folder`/`write_folder` are the package's
own folder layout, for `klachtroute package export/import`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from lxml import etree

from handlers.letters import LETTERS_ROOT

from .errors import ConfigError

SETTINGS = "organisation.yaml"
FORMS = "forms/"
LETTERS = "letters/"
SCENARIOS = "scenarios/"
PORTAL_LETTER = "_portal"
# Letters the application sends itself, not a diagram (webapp.runtime.measures).
CODE_LETTERS = ("maatregel_gerealiseerd",)
FORMS_ROOT = Path(__file__).resolve().parents[2] / "forms"

MAX_FILES = 1_000
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
_NAME = re.compile(r"^(?:(?:forms|letters|scenarios)/)?[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)?$")
_SUFFIXES = {FORMS: (".json",), LETTERS: (".txt",), SCENARIOS: (".yaml", ".yml")}
_SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


class PackageError(ConfigError):
    """A package that cannot be read: the message names the file."""


class NotUtf8Error(PackageError):
    def __init__(self, path: Path, exc: UnicodeDecodeError) -> None:
        super().__init__(f"{path}: geen UTF-8-tekst (byte 0x{exc.object[exc.start]:02X})")
        self.path, self.byte = path, exc.object[exc.start]


def check_name(name: str) -> None:
    """A file name a package may hold: no absolute paths, no `..`, only the known folders."""
    if not _NAME.match(name) or ".." in name:
        raise PackageError(f"{name}: geen toegestane bestandsnaam in een procedurepakket")
    folder = name.split("/", 1)[0] + "/" if "/" in name else ""
    if folder and not name.endswith(_SUFFIXES[folder]):
        raise PackageError(f"{name}: in {folder} horen alleen {', '.join(_SUFFIXES[folder])}-bestanden")
    if not folder and not (name == SETTINGS or name.endswith(".bpmn")):
        raise PackageError(f"{name}: naast {SETTINGS} staan alleen .bpmn-bestanden; "
                           "formulieren, brieven en scenario's horen in hun map")
    if folder == FORMS and name.count("/") > 1:
        raise PackageError(f"{name}: formulieren staan direct in forms/")


def check_files(files: Mapping[str, str]) -> None:
    """Names, counts and sizes within bounds (an uploaded package is untrusted)."""
    if len(files) > MAX_FILES:
        raise PackageError(f"het pakket heeft {len(files)} bestanden; de grens is {MAX_FILES}")
    total = 0
    for name, text in files.items():
        check_name(name)
        size = len(text.encode("utf-8"))
        if size > MAX_FILE_BYTES:
            raise PackageError(f"{name}: {size // 1024} KB; de grens is {MAX_FILE_BYTES // 1024 // 1024} MB")
        total += size
    if total > MAX_PACKAGE_BYTES:
        raise PackageError(f"het pakket is {total // 1024 // 1024} MB; de grens is {MAX_PACKAGE_BYTES // 1024 // 1024} MB")
    if SETTINGS not in files:
        raise PackageError(f"het pakket heeft geen {SETTINGS}")


class _NoAliasLoader(yaml.SafeLoader):
    """Settings and scenarios come from the browser and from imported folders: untrusted. YAML
    aliases (`*a`) let a few lines stand for an exponentially large document that every walk over
    it (validation, saving) would expand, so they are refused; no procedure needs them."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "verwijzingen (*...) zijn niet toegestaan",
                                              event.start_mark)
        return super().compose_node(parent, index)


def load_yaml(text: str) -> object:
    """One YAML document, without aliases (see _NoAliasLoader)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml_all(text: str) -> list:
    return list(yaml.load_all(text, Loader=_NoAliasLoader))  # noqa: S506 - a SafeLoader subclass


def settings_of(files: Mapping[str, str]) -> dict:
    try:
        raw = load_yaml(files[SETTINGS])
    except KeyError:
        raise PackageError(f"het pakket heeft geen {SETTINGS}") from None
    except yaml.YAMLError as exc:
        raise PackageError(f"{SETTINGS}: geen geldige YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PackageError(f"{SETTINGS}: verwacht een lijst van instellingen (sleutel: waarde)")
    return raw


def diagram_names(settings: Mapping) -> list[str]:
    return [str(settings.get("process_file", "")), *map(str, settings.get("called_process_files") or [])]


def split(files: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(diagrams by file name, every other file)."""
    names = set(diagram_names(settings_of(files)))
    diagrams = {n: t for n, t in files.items() if n in names}
    return diagrams, {n: t for n, t in files.items() if n not in names}


def sha256(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def file_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[dict[str, str]]:
    """Which files of two packages differ: [{"file": ..., "change": added|removed|changed}], by name."""
    changes = [{"file": n, "change": "added"} for n in set(new) - set(old)]
    changes += [{"file": n, "change": "removed"} for n in set(old) - set(new)]
    changes += [{"file": n, "change": "changed"} for n in set(old) & set(new) if old[n] != new[n]]
    return sorted(changes, key=lambda c: c["file"])


def of(prefix: str, files: Mapping[str, str]) -> dict[str, str]:
    """The files in one folder, by their name inside it (`forms/x.json` -> `x.json`)."""
    return {n[len(prefix):]: t for n, t in files.items() if n.startswith(prefix)}


# -- identity ------------------------------------------------------------------------------------

_IDENTITY = ("slug", "name", "reference_prefix")


def with_identity(files: Mapping[str, str], **values: str) -> dict[str, str]:
    """The package with other top-level `slug`, `name` or `reference_prefix` lines in its settings
    (a copy for another organisation). Only those lines change: comments and layout stay."""
    text = files[SETTINGS]
    for key, value in values.items():
        if key not in _IDENTITY:
            raise ValueError(key)
        line = f"{key}: {_yaml_scalar(value)}"
        text, found = re.subn(rf"^{key}:.*$", line.replace("\\", r"\\"), text, count=1, flags=re.MULTILINE)
        if not found:
            text = f"{line}\n{text}"
    return {**files, SETTINGS: text}


def with_settings(files: Mapping[str, str], **changes: object) -> dict[str, str]:
    """The package with top-level settings replaced (`intake={...}`): organisation.yaml is
    written anew, so its comments are lost; for identity lines use `with_identity`."""
    settings = {**settings_of(files), **changes}
    text = yaml.safe_dump(settings, allow_unicode=True, sort_keys=False, width=100)
    return {**files, SETTINGS: text}


def _yaml_scalar(value: str) -> str:
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").strip()


# -- templates in the repository -----------------------------------------------------------------


def read_template(folder: Path, form_roots: Iterable[Path] = (), letters_root: Path = LETTERS_ROOT) -> dict[str, str]:
    """A package from a template folder (`bpmn/<slug>/`) with the forms its diagrams name and the
    letters: the shared ones, the organisation's own version of a shared one instead of it, the
    organisation's own (`letters/<slug>/...`) and its link paragraph as `letters/_portal.txt`."""
    settings_text = _read(folder / SETTINGS)
    files = {SETTINGS: settings_text}
    settings = settings_of(files)
    slug = str(settings.get("slug", folder.name))
    for name in diagram_names(settings):
        if name:
            files[name] = _read(folder / name)
    roots = [*form_roots, folder / "forms", folder.parent / "forms", FORMS_ROOT]
    for name in sorted(_form_names(files, settings, roots)):
        for root in roots:
            if (root / name).is_file():
                files[FORMS + name] = _read(root / name)
                break
    used = referenced_letters(files[n] for n in diagram_names(settings) if n in files) | set(CODE_LETTERS)
    files.update(_template_letters(letters_root, slug, used))
    for path in sorted((folder / "scenarios").glob("*.yaml")):
        files[SCENARIOS + path.name] = _read(path)
    return files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PackageError(f"{path}: bestaat niet") from exc
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(path, exc) from exc


def referenced_forms(diagrams: Iterable[str]) -> set[str]:
    """The form files user tasks name (`formJsonSchemaFilename`, `formUiSchemaFilename`), and the
    UI schema named after each schema by convention."""
    names: set[str] = set()
    for xml in diagrams:
        try:
            root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        for prop in root.iter(f"{{{_SPIFF}}}property"):
            if prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename") and prop.get("value"):
                names.add(prop.get("value"))
    return names | {n.replace("-schema.json", "-uischema.json") for n in names if n.endswith("-schema.json")}


def referenced_letters(diagrams: Iterable[str]) -> set[str]:
    """The letter templates the diagrams' send_letter tasks name as a literal."""
    found: set[str] = set()
    for xml in diagrams:
        found |= set(re.findall(r"id=\"template\"[^>]*value=\"'([^']+)'\"", xml))
    return found


def _form_names(files: Mapping[str, str], settings: Mapping, roots: list[Path]) -> set[str]:
    names = referenced_forms(files[n] for n in diagram_names(settings) if n in files)
    prefix = f"{settings.get('slug', '')}-"
    for root in roots:
        if root.is_dir():
            names |= {p.name for p in root.glob(f"{prefix}*.json")}
    return {n for n in names if "/" not in n and any((r / n).is_file() for r in roots)}


def _template_letters(root: Path, slug: str, used: set[str]) -> dict[str, str]:
    letters = {}
    for path in sorted(root.glob("*.txt")):
        if path.stem not in used:
            continue  # a shared letter this procedure never sends
        own = root / slug / path.name
        letters[f"{LETTERS}{path.stem}.txt"] = _read(own if own.is_file() else path)
    if (root / slug).is_dir():
        for path in sorted((root / slug).glob("*.txt")):
            letters[f"{LETTERS}{slug}/{path.name}"] = _read(path)
    portal = root / "_portal" / f"{slug}.txt"
    portal = portal if portal.is_file() else root / "_portal" / "default.txt"
    if portal.is_file():
        letters[f"{LETTERS}{PORTAL_LETTER}.txt"] = _read(portal)
    return letters


# -- the package's own folder layout (export and import) -----------------------------------------


def write_folder(files: Mapping[str, str], target: Path) -> list[Path]:
    """Write a package as a folder; refuses a folder that holds anything else already."""
    check_files(files)
    if target.exists() and any(target.iterdir()):
        raise PackageError(f"{target}: de map is niet leeg")
    written = []
    for name in sorted(files):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name].encode("utf-8"))  # bytes: no newline translation
        written.append(path)
    return written


def read_folder(source: Path) -> dict[str, str]:
    """A package folder as written by `write_folder` (or by hand): every file, byte for byte."""
    if not (source / SETTINGS).is_file():
        raise PackageError(f"{source}: geen procedurepakket (er staat geen {SETTINGS} in)")
    files: dict[str, str] = {}
    total = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        if any(part.startswith(".") for part in name.split("/")):
            continue  # .git, editor files
        check_name(name)
        size = path.stat().st_size
        total += size
        if size > MAX_FILE_BYTES or total > MAX_PACKAGE_BYTES or len(files) >= MAX_FILES:
            raise PackageError(f"{name}: het pakket wordt te groot (grenzen: {MAX_FILES} bestanden, "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB per bestand, "
                               f"{MAX_PACKAGE_BYTES // 1024 // 1024} MB samen)")
        try:
            files[name] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PackageError(f"{name}: geen UTF-8-tekst") from exc
    check_files(files)
    return files
