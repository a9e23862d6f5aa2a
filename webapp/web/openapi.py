"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Kept by hand beside `api.py`; the tests check that it is a valid OpenAPI document, that it names
every route of the blueprint, and that the main answers conform to the schemas declared here.
"""

from __future__ import annotations

import copy
from typing import Any

from webapp.intake import MAX_LENGTH, RELATIONS, TYPE_LABELS
from webapp.registration import STAFF_CHANNELS

JSON = "application/json"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None, description: str = "",
         closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


MOMENT = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, with offset (+00:00)."}
MAYBE_MOMENT = _nullable(MOMENT)
TEXT = {"type": "string"}
MAYBE_TEXT = _nullable(TEXT)
FREE_OBJECT = {"type": "object", "additionalProperties": True}
COMPLAINT_STATUS = {"type": "string", "enum": ["running", "completed", "error"],
                    "description": "running: in behandeling; completed: afgesloten; error: wacht op herstel."}
TASK_STATE = {"type": "string", "enum": ["ready", "completed", "cancelled"]}

TASK_SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "organisation": {"type": "string", "description": "The organisation's slug."},
    "name": TEXT,
    "role": _nullable({"type": "string", "description": "The role that works this task."}),
    "state": TASK_STATE,
    "due_at": MAYBE_MOMENT,
    "overdue": {"type": "boolean", "description": "Open and past its due moment."},
    "complaint": _ref("ComplaintRef"),
    "claimed_by": _nullable(_ref("Person")),
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({
        "error": {"type": "string", "description": "What went wrong, in Dutch."},
        "errors": {"type": "array", "items": _ref("FieldError"),
                   "description": "Per field, for invalid input (422) or query parameters (400)."},
    }, required=["error"]),
    "FieldError": _obj({
        "field": {"type": "string", "description": "Dotted path of the field (`klager.email`); empty for the whole body."},
        "message": {"type": "string", "description": "In Dutch."},
    }),
    "Person": _obj({"id": {"type": "integer"}, "name": TEXT, "email": {"type": "string", "format": "email"}}),
    "ComplaintRef": _obj({"reference": {"type": "string", "examples": ["SAMEN-2026-0001"]}, "type": MAYBE_TEXT}),
    "TaskSummary": _obj(TASK_SUMMARY_PROPERTIES, description="An open task as the inbox lists it."),
    "TaskList": _obj({
        "items": {"type": "array", "items": _ref("TaskSummary")},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
        "pages": {"type": "integer", "minimum": 1},
    }),
    "TaskDetail": _obj({
        **TASK_SUMMARY_PROPERTIES,
        "bpmn_id": TEXT,
        "created_at": MOMENT,
        "completed_at": MAYBE_MOMENT,
        "completed_by": MAYBE_TEXT,
        "instructions": {"type": "string", "description": "What to do: an HTML fragment (values escaped); may be empty."},
        "form": _nullable(_obj({
            "name": {"type": "string", "description": "The form's file name."},
            "schema": {"type": "object", "description": "JSON Schema (2020-12) of `data` to complete the task with."},
            "ui_schema": {"type": "object", "description": "react-jsonschema-form UI schema."},
        })),
        "values": {**FREE_OBJECT, "description": "The form's current values: task data and the saved draft."},
        "data": _obj({
            "referentie": TEXT, "ontvangen_op": TEXT, "locatie": TEXT, "datum_gebeurtenis": TEXT,
            "omschrijving": TEXT,
            "klager": _obj({"naam": TEXT, "relatie": TEXT}, required=[]),
        }, required=[], description="A summary of the complaint, without contact details.", closed=False),
        "complaint": _obj({
            "reference": TEXT, "type": MAYBE_TEXT, "location": MAYBE_TEXT, "status": COMPLAINT_STATUS,
            "created_at": MOMENT,
            "lock_version": {"type": "integer", "minimum": 1,
                             "description": "Send it back with `complete` to refuse a stale update."},
        }),
        "can_complete": {"type": "boolean", "description": "Open, and the caller holds its role (not only auditor)."},
    }),
    "CompleteRequest": _obj({
        "data": {**FREE_OBJECT, "description": "The form's values; validated against the task's form schema."},
        "lock_version": {"type": "integer", "minimum": 1,
                         "description": "The complaint's lock_version as read; a different current value is a 409."},
    }, required=["data"]),
    "CompleteResult": _obj({
        "task": _obj({"id": {"type": "integer"}, "state": TASK_STATE, "completed_at": MAYBE_MOMENT,
                      "completed_by": MAYBE_TEXT}),
        "complaint": _obj({"reference": TEXT, "status": COMPLAINT_STATUS, "lock_version": {"type": "integer"},
                           "closed_at": MAYBE_MOMENT}),
        "next_tasks": {"type": "array", "items": _ref("TaskSummary"),
                       "description": "The complaint's open tasks after this step."},
    }),
    "ComplaintTask": _obj({
        "id": {"type": "integer"}, "name": TEXT, "bpmn_id": TEXT, "role": MAYBE_TEXT, "state": TASK_STATE,
        "due_at": MAYBE_MOMENT, "overdue": {"type": "boolean"}, "created_at": MOMENT,
        "completed_at": MAYBE_MOMENT, "completed_by": MAYBE_TEXT,
    }),
    "Message": _obj({
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["letter", "notification"]},
        "template": MAYBE_TEXT,
        "subject": TEXT,
        "recipient_kind": {"type": "string", "enum": ["address", "post", "role"],
                           "description": "address: e-mail to the complainant or another address; post: to be "
                                          "posted by hand; role: everyone holding `recipient_role`."},
        "recipient_role": MAYBE_TEXT,
        "status": {"type": "string", "enum": ["pending", "sent", "held", "failed"]},
        "created_at": MOMENT,
        "sent_at": MAYBE_MOMENT,
    }, description="A letter or notification; the address itself is not shown."),
    "TraceEvent": _obj({
        "occurred_at": MOMENT,
        "actor": {"type": "string", "description": "A user's e-mail address, or `system`."},
        "event_type": {"type": "string", "examples": ["complaint_received", "task_completed", "timer_fired"]},
        "label": {"type": "string", "description": "The event type in Dutch."},
        "bpmn_id": MAYBE_TEXT,
        "bpmn_name": MAYBE_TEXT,
        "data": FREE_OBJECT,
    }),
    "Complaint": _obj({
        "reference": TEXT,
        "organisation": _obj({"slug": TEXT, "name": TEXT}),
        "status": COMPLAINT_STATUS,
        "type": MAYBE_TEXT,
        "location": MAYBE_TEXT,
        "created_at": MOMENT,
        "closed_at": MAYBE_MOMENT,
        "lock_version": {"type": "integer"},
        "tasks": _obj({"open": {"type": "array", "items": _ref("ComplaintTask")},
                       "finished": {"type": "array", "items": _ref("ComplaintTask")}}),
        "messages": {"type": "array", "items": _ref("Message")},
        "trace": {"type": "array", "items": _ref("TraceEvent"), "description": "The audit trail, oldest first."},
    }),
    "ComplaintSubmission": _obj({
        "naam": {"type": "string", "maxLength": MAX_LENGTH["naam"]},
        "email": {"type": "string", "maxLength": MAX_LENGTH["email"],
                  "description": "E-mail address; `email` or `telefoon` is needed unless anonymous."},
        "telefoon": {"type": "string", "maxLength": MAX_LENGTH["telefoon"]},
        "relatie": {"type": "string", "enum": sorted(RELATIONS), "description": "Relation to the organisation."},
        "klager": _obj({"naam": TEXT, "email": TEXT, "telefoon": TEXT, "relatie": TEXT}, required=[],
                       description="The complainant, nested as in the process data; the flat fields win."),
        "anoniem": {"type": ["boolean", "string"], "description": "Anonymous; some organisations refuse "
                    "anonymous complaints (422 with the organisation's explanation)."},
        "soort": {"type": "string", "enum": sorted(TYPE_LABELS),
                  "description": "Which of the organisation's kinds; may be left out when it has only one."},
        "locatie": {"type": "string", "maxLength": MAX_LENGTH["locatie"]},
        "datum_gebeurtenis": {"type": "string", "maxLength": MAX_LENGTH["datum_gebeurtenis"],
                              "description": "2026-02-14 or 14-02-2026; not in the future."},
        "omschrijving": {"type": "string", "maxLength": MAX_LENGTH["omschrijving"]},
        "toestemming": {"type": ["boolean", "string"],
                        "description": "Consent to use the personal data for handling the complaint: must be true."},
    }, required=["omschrijving", "relatie", "toestemming"], closed=False,
        description="The fields of the organisation's public complaint form. The organisation's intake rules "
                    "decide what else is required; every problem comes back at once, per field (`\"\"` for "
                    "the form as a whole). Other fields are ignored."),
    "Registration": {"allOf": [_ref("ComplaintSubmission"), _obj({
        "kanaal": {"type": "string", "enum": list(STAFF_CHANNELS),
                   "description": "How it came in: telefoon, email, brief, mondeling or via_een_ander."},
        "ontvangen_op": {"type": "string", "format": "date-time",
                         "description": "When the organisation really received it, with offset "
                                        "(2026-03-02T14:30:00+01:00); not in the future. Every deadline counts "
                                        "from it."},
        "namens": {"type": "string", "maxLength": MAX_LENGTH["namens"],
                   "description": "On whose behalf the complainant complains."},
        "datum_kennisname": {"type": "string", "maxLength": MAX_LENGTH["datum_kennisname"],
                             "description": "When the complainant learnt of the event; the organisation's lapse "
                                            "term (M.O.S.: six months) counts from it when given."},
    }, required=["kanaal", "ontvangen_op"], closed=False)],
        "description": "A complaint received elsewhere, registered by staff: the public form's fields (judged "
                       "by the organisation's intake rules on the day of receipt) plus the channel and the "
                       "moment of receipt."},
    "RegistrationResult": _obj({
        "reference": TEXT, "status": COMPLAINT_STATUS, "type": TEXT, "received_at": MOMENT,
        "registered_late": {"type": "boolean",
                            "description": "Registered more than one working day after it was received."},
        "claimed_task_id": _nullable({"type": "integer", "description": "The registrant's own first task, "
                                      "claimed for them (Kwartier: the employee's conversation)."}),
    }),
    "SubmissionResult": _obj({"reference": TEXT, "status": COMPLAINT_STATUS,
                              "type": {"type": "string", "description": "klacht, compliment, suggestie or "
                                       "signaal (an anonymous report kept as a signal)."}}),
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
    if headers:
        response["headers"] = headers
    return response


RESPONSES: dict[str, Any] = {
    "BadRequest": _error("Malformed JSON, an invalid query parameter, or (session) a missing CSRF token."),
    "Unauthorized": _error("No valid token and no session.", {
        "WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer realm=\"klachtroute\"`"}}),
    "Forbidden": _error("Visible, but not yours to change: an auditor, or a role you do not hold."),
    "NotFound": _error("Does not exist, or is not yours to see (another organisation's objects are a 404)."),
    "Conflict": _error("The task is no longer open, or `lock_version` is stale: nothing was changed."),
    "PayloadTooLarge": _error("The body is too large."),
    "UnsupportedMediaType": _error("The body is not sent as application/json."),
    "Invalid": _error("Invalid input: `errors` lists each field with a Dutch message."),
    "ServerError": _error("Something failed on the server; no details are shown."),
}

PARAMETERS: dict[str, Any] = {
    "CsrfHeader": {"name": "X-CSRFToken", "in": "header", "required": False, "schema": {"type": "string"},
                   "description": "Required when authenticated by the session cookie (not with a token)."},
    "TaskId": {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}},
}


def _ok(description: str, schema: str, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": _ref(schema)}}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
             413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "Invalid", 500: "ServerError"}
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


PATHS: dict[str, Any] = {
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["meta"], "security": [],
        "responses": {"200": {"description": "The OpenAPI document.", "content": {JSON: {"schema": {"type": "object"}}}}},
    }},
    "/organisations/{org}/complaints": {"post": {
        "operationId": "submitComplaint", "tags": ["public"], "security": [],
        "summary": "Submit a complaint (public, no login)",
        "description": "The organisation's intake rules apply (for instance: no anonymous complaints). "
                       "The body is at most 64 KB.",
        "parameters": [{"name": "org", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "The organisation's slug, e.g. `samen-kinderopvang`."}],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("ComplaintSubmission")}}},
        "responses": {
            **_ok("Registered: the complaint's reference and status.", "SubmissionResult", "201"),
            **_errors(400, 404, 413, 415, 422, 500),
        },
    }},
    "/organisations/{org}/registrations": {"post": {
        "operationId": "registerComplaint", "tags": ["complaints"],
        "summary": "Register a complaint received by phone, email, letter, in person or through someone else",
        "description": "For staff with a role in the organisation (not auditors). The intake rules apply; the "
                       "moment of receipt becomes the procedure's `ontvangen_op`. The body is at most 256 KB.",
        "parameters": [{"name": "org", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"$ref": "#/components/parameters/CsrfHeader"}],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Registration")}}},
        "responses": {
            **_ok("Registered: the complaint's reference, moment of receipt and lateness.", "RegistrationResult",
                  "201"),
            **_errors(400, 401, 403, 404, 413, 415, 422, 500),
        },
    }},
    "/tasks": {"get": {
        "operationId": "listTasks", "tags": ["tasks"], "summary": "My open tasks, across my organisations",
        "description": "The tasks of the roles I hold, or claimed by me; an auditor sees all open tasks of "
                       "the organisation. Ordered by due moment, then id.",
        "parameters": [
            {"name": "organisation", "in": "query", "schema": {"type": "string"},
             "description": "Only this organisation (slug); 404 when you hold no role in it."},
            {"name": "role", "in": "query", "schema": {"type": "string"}},
            {"name": "overdue", "in": "query", "schema": {"type": "boolean"},
             "description": "true: only past their due moment; false: only not past it."},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1}},
            {"name": "page_size", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
        ],
        "responses": {**_ok("One page of tasks.", "TaskList"), **_errors(400, 401, 404, 500)},
    }},
    "/tasks/{task_id}": {"get": {
        "operationId": "getTask", "tags": ["tasks"], "summary": "A task with its form and instructions",
        "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        "responses": {**_ok("The task.", "TaskDetail"), **_errors(401, 404, 500)},
    }},
    "/tasks/{task_id}/complete": {"post": {
        "operationId": "completeTask", "tags": ["tasks"], "summary": "Complete a task with its form data",
        "parameters": [{"$ref": "#/components/parameters/TaskId"}, {"$ref": "#/components/parameters/CsrfHeader"}],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("CompleteRequest")}}},
        "responses": {**_ok("Completed: the complaint's new status and its open tasks.", "CompleteResult"),
                      **_errors(400, 401, 403, 404, 409, 413, 415, 422, 500)},
    }},
    "/complaints/{reference}": {"get": {
        "operationId": "getComplaint", "tags": ["complaints"],
        "summary": "A complaint with its tasks, letters and audit trail",
        "description": "For anyone holding a role (auditor included) in the complaint's organisation.",
        "parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "SAMEN-2026-0001"}],
        "responses": {**_ok("The complaint.", "Complaint"), **_errors(401, 404, 500)},
    }},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Klachtroute API",
        "version": "1.0.0",
        "description": "The complaint procedures of Klachtroute as JSON. Authenticate with a personal token "
                       "(`klachtroute tokens create EMAIL`) as `Authorization: Bearer <token>`, or from the "
                       "browser with the session cookie; a write with the session also needs the CSRF token "
                       "in the `X-CSRFToken` header. Errors are always JSON: `{\"error\": ...}`, with "
                       "`errors: [{field, message}]` for invalid input. Messages are in Dutch.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    "tags": [{"name": "public"}, {"name": "tasks"}, {"name": "complaints"}, {"name": "meta"}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token (kr_...); unknown or revoked: 401."},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                              "description": "The web application's login session. Writes also need the "
                                             "X-CSRFToken header."},
        },
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "parameters": PARAMETERS,
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may change it)."""
    return copy.deepcopy(DOCUMENT)
