"""Validation of XES documents against the published IEEE 1849-2016 schema, kept with the tests
(tests/fixtures/standards/, see its README): the product writes XES, only the tests check it."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

XES_SCHEMA = Path(__file__).parent / "fixtures" / "standards" / "xes-ieee-1849.xsd"


def validate_xes(document: bytes, schema_path: Path = XES_SCHEMA) -> list[str]:
    """The schema errors of an XES document against IEEE 1849-2016 (empty when valid)."""
    if not schema_path.is_file():
        raise FileNotFoundError(f"the XES schema is missing: {schema_path}")
    # Parsed per call: an XMLSchema object's error log is not safe to share between threads.
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
