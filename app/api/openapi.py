"""The OpenAPI 3.1 description of ``/api/v1``: one document, built from plain dicts.

:func:`openapi_document` is what ``/api/v1/openapi.json`` serves and what the reference
page (``/api/v1/docs``) renders; :data:`SCHEMAS` are its components, and the views
validate request bodies against the same schemas, so the document and the checks
cannot drift apart. :data:`PROBLEM_TYPES` lists every problem the API answers with
(RFC 9457); each is a fragment of the reference page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.staff.inbox.services import MAX_TEXT_LENGTH
from app.submissions.models import SubmissionStatus

API_VERSION = "1.0.0"
PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Longest title or detail of a rejection problem.
MAX_PROBLEM_TITLE = 200
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class ProblemType:
    """A kind of error: its fragment on the reference page, HTTP status and German title."""

    slug: str
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        ProblemType("bad-request", 400, "Ungültige Anfrage", "Ein Parameter ist ungültig (etwa der Cursor)."),
        ProblemType(
            "unauthorized",
            401,
            "Nicht angemeldet",
            "Kein, ein unbekanntes, abgelaufenes oder gesperrtes Token.",
        ),
        ProblemType("forbidden", 403, "Kein Zugriff", "Die Anfrage ist nicht erlaubt."),
        ProblemType(
            "not-found",
            404,
            "Nicht gefunden",
            "Die Ressource gibt es nicht – oder sie liegt außerhalb des Bereichs dieses Clients.",
        ),
        ProblemType(
            "method-not-allowed", 405, "Methode nicht erlaubt", "Die Adresse kennt diese Methode nicht."
        ),
        ProblemType(
            "not-acceptable", 406, "Nicht lieferbar", "Die Antwort gibt es nicht im verlangten Format."
        ),
        ProblemType(
            "conflict",
            409,
            "Konflikt",
            "Der Status des Antrags erlaubt den Schritt nicht, oder jemand hat ihn gleichzeitig geändert.",
        ),
        ProblemType(
            "precondition-failed",
            412,
            "Version veraltet",
            "If-Match nennt nicht die aktuelle Version (ETag) des Antrags.",
        ),
        ProblemType("payload-too-large", 413, "Anfrage zu groß", "Der Anfrageinhalt ist zu groß."),
        ProblemType(
            "unsupported-media-type",
            415,
            "Format nicht unterstützt",
            "Der Anfrageinhalt muss JSON sein (Content-Type: application/json).",
        ),
        ProblemType(
            "validation-failed",
            422,
            "Ungültige Angaben",
            "Der Anfrageinhalt passt nicht zum Schema; `errors` nennt jede Stelle (JSON Pointer).",
        ),
        ProblemType(
            "too-many-requests", 429, "Zu viele Anfragen", "Bitte warten Sie und versuchen Sie es erneut."
        ),
        ProblemType("server-error", 500, "Interner Fehler", "Ein Fehler im Portal; er wurde protokolliert."),
    )
}
PROBLEM_BY_STATUS = {problem.status: problem for problem in PROBLEM_TYPES.values()}

_STATUSES = [status.value for status in SubmissionStatus]
_DATE_TIME = {"type": "string", "format": "date-time"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 der Bytes, hexadezimal"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "Ein Fehler nach RFC 9457 (application/problem+json).",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Bei ungültigen Angaben: jede Stelle mit ihrem Fehler.",
                "items": {
                    "type": "object",
                    "required": ["pointer", "detail"],
                    "properties": {
                        "pointer": {"type": "string", "description": "JSON Pointer in den Anfrageinhalt"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    },
    "Status": {
        "type": "string",
        "enum": _STATUSES,
        "description": "received: eingegangen · in_progress: in Bearbeitung · waiting: wartet auf "
        "Rückmeldung · completed: abgeschlossen · rejected: abgelehnt",
    },
    "Service": {
        "type": "object",
        "required": ["slug", "title"],
        "properties": {"slug": {"type": "string"}, "title": {"type": "string"}},
    },
    "Office": {
        "type": "object",
        "required": ["id", "slug", "name"],
        "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}},
    },
    "File": {
        "type": "object",
        "description": "Eine gespeicherte Datei: Adresse zum Herunterladen, Typ, Größe und SHA-256.",
        "required": ["href", "media_type", "size", "sha256"],
        "properties": {
            "href": {"type": "string"},
            "filename": {"type": "string"},
            "media_type": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "sha256": _SHA256,
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "field", "filename", "media_type", "size", "sha256", "href"],
        "properties": {
            "id": {"type": "integer"},
            "field": {"type": "string", "description": "Name des Formularfelds"},
            "filename": {"type": "string"},
            "media_type": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "sha256": _SHA256,
            "href": {"type": "string"},
        },
    },
    "SubmissionSummary": {
        "type": "object",
        "required": ["reference", "status", "service", "office", "submitted_at", "version", "href"],
        "properties": {
            "reference": {"type": "string", "description": "Aktenzeichen, z. B. WER-2026-000123"},
            "status": _ref("Status"),
            "service": _ref("Service"),
            "office": _ref("Office"),
            "submitted_at": _DATE_TIME,
            "version": {"type": "integer", "description": "Version für If-Match (auch als ETag)"},
            "href": {"type": "string"},
        },
    },
    "Submission": {
        "type": "object",
        "required": [
            "reference",
            "status",
            "service",
            "office",
            "form_version",
            "locale",
            "submitted_at",
            "updated_at",
            "completed_at",
            "version",
            "submitter",
            "fee_total",
            "data",
            "data_file",
            "schema_href",
            "pdf",
            "attachments",
        ],
        "properties": {
            "reference": {"type": "string"},
            "status": _ref("Status"),
            "service": _ref("Service"),
            "office": _ref("Office"),
            "form_version": {"type": "string", "description": "Hash der Formulardefinition"},
            "locale": {"type": "string"},
            "submitted_at": _DATE_TIME,
            "updated_at": _DATE_TIME,
            "completed_at": {"type": ["string", "null"], "format": "date-time"},
            "version": {"type": "integer"},
            "submitter": {
                "type": "object",
                "required": ["name", "email"],
                "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
            },
            "fee_total": {
                "type": ["string", "null"],
                "description": 'Gebühr in Euro als Dezimalzahl, z. B. "25.00"',
            },
            "data": {
                "type": "object",
                "description": "Die Angaben (data.json) wie gespeichert; ihr Schema unter schema_href.",
            },
            "data_file": _ref("File"),
            "schema_href": {
                "type": "string",
                "description": "JSON Schema der Angaben, in der Fassung, mit der der Antrag gestellt wurde",
            },
            "pdf": {"oneOf": [_ref("File"), {"type": "null"}], "description": "null, solange es fehlt"},
            "attachments": {"type": "array", "items": _ref("Attachment")},
        },
    },
    "SubmissionList": {
        "type": "object",
        "required": ["items", "next_cursor", "has_more"],
        "properties": {
            "items": {"type": "array", "items": _ref("SubmissionSummary")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Zeigt hinter den letzten Antrag der Seite, auch auf der letzten Seite: als "
                "cursor= mitgeben für die nächste Seite oder, später, für die seither eingegangenen "
                "Anträge. null nur, wenn es noch gar keinen Antrag gibt.",
            },
            "has_more": {"type": "boolean", "description": "Ob jetzt schon weitere Anträge folgen"},
        },
    },
    "RejectRequest": {
        "type": "object",
        "required": ["problems"],
        "additionalProperties": False,
        "properties": {
            "problems": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_PROBLEMS,
                "items": {
                    "type": "object",
                    "required": ["title"],
                    "additionalProperties": False,
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": MAX_PROBLEM_TITLE},
                        "detail": {"type": "string", "maxLength": MAX_TEXT_LENGTH // MAX_PROBLEMS},
                    },
                },
            }
        },
    },
    "StatusRequest": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {
            "status": _ref("Status"),
            "message": {
                "type": "string",
                "maxLength": MAX_TEXT_LENGTH,
                "description": "An die antragstellende Person; nötig bei waiting und rejected.",
            },
        },
    },
    "MessageRequest": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH}},
    },
    "Message": {
        "type": "object",
        "required": ["id", "created_at", "text"],
        "properties": {"id": {"type": "integer"}, "created_at": _DATE_TIME, "text": {"type": "string"}},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref("Problem")}}}


RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _problem("Ungültiger Parameter"),
    "Unauthorized": {
        **_problem("Kein gültiges Token"),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "NotFound": _problem("Nicht gefunden (oder nicht im Bereich dieses Clients)"),
    "Conflict": _problem("Der Status erlaubt den Schritt nicht, oder der Antrag wurde gleichzeitig geändert"),
    "PreconditionFailed": _problem("If-Match nennt nicht die aktuelle Version"),
    "UnsupportedMediaType": _problem("Der Anfrageinhalt ist kein JSON"),
    "ValidationFailed": _problem("Der Anfrageinhalt passt nicht zum Schema"),
    "TooManyRequests": _problem("Zu viele Anfragen"),
}

_REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "Aktenzeichen des Antrags",
    "schema": {"type": "string", "minLength": 1, "maxLength": 32},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Die Version (ETag) des Antrags, die der Client kennt; sonst 412.",
    "schema": {"type": "string"},
}
_ETAG = {"ETag": {"description": "Version des Antrags", "schema": {"type": "string"}}}


def _errors(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "Conflict": "409",
        "PreconditionFailed": "412",
        "UnsupportedMediaType": "415",
        "ValidationFailed": "422",
        "TooManyRequests": "429",
    }
    return {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _submission_ok(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _ETAG,
        "content": {"application/json": {"schema": _ref("Submission")}},
    }


def _download(
    operation_id: str, summary: str, media_type: str, extra: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if media_type.endswith("json"):
        schema = {"type": "object"}
    elif "*" not in media_type:
        schema["contentMediaType"] = media_type
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["Anträge"],
            "parameters": [_REFERENCE, *(extra or [])],
            "responses": {
                "200": {
                    "description": "Die gespeicherten Bytes (Content-Disposition: attachment)",
                    "headers": {
                        "ETag": {"description": "SHA-256 der Bytes", "schema": {"type": "string"}},
                        "Content-Disposition": {"schema": {"type": "string"}},
                    },
                    "content": {media_type: {"schema": schema}},
                },
                "304": {"description": "Unverändert (If-None-Match)"},
                **_errors("Unauthorized", "NotFound", "TooManyRequests"),
            },
        }
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


PATHS: dict[str, dict[str, Any]] = {
    "/submissions": {
        "get": {
            "operationId": "listSubmissions",
            "summary": "Anträge auflisten",
            "description": "Die Anträge im Bereich des Clients, älteste zuerst, seitenweise. "
            "Solange has_more gilt, holt next_cursor die nächste Seite; wer neue Anträge abholt, "
            "merkt sich next_cursor der letzten Seite und fragt damit später wieder. Am "
            "zuverlässigsten: status=received abfragen und jeden abgeholten Antrag bestätigen "
            "(acknowledge) – was nicht bestätigt ist, bleibt in der Liste.",
            "tags": ["Anträge"],
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "description": "Nur Anträge in diesem Status, etwa received für neue",
                    "schema": _ref("Status"),
                },
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "description": "Nur Anträge, die zu oder nach dieser Zeit eingingen (RFC 3339, mit Zone)",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "description": "next_cursor der vorigen Seite",
                    "schema": {"type": "string", "maxLength": 200},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "Anträge je Seite",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                },
            ],
            "responses": {
                "200": {
                    "description": "Eine Seite",
                    "content": {"application/json": {"schema": _ref("SubmissionList")}},
                },
                **_errors("BadRequest", "Unauthorized", "TooManyRequests"),
            },
        }
    },
    "/submissions/{reference}": {
        "get": {
            "operationId": "getSubmission",
            "summary": "Einen Antrag abrufen",
            "description": "Metadaten, Angaben (data), PDF und Anlagen mit SHA-256 und Adressen.",
            "tags": ["Anträge"],
            "parameters": [_REFERENCE],
            "responses": {
                "200": _submission_ok("Der Antrag"),
                **_errors("Unauthorized", "NotFound", "TooManyRequests"),
            },
        }
    },
    "/submissions/{reference}/pdf": _download("getSubmissionPdf", "Das PDF herunterladen", "application/pdf"),
    "/submissions/{reference}/data.json": _download(
        "getSubmissionData", "Die Angaben (data.json) herunterladen", "application/json"
    ),
    "/submissions/{reference}/schema.json": _download(
        "getSubmissionSchema",
        "Das JSON Schema der Angaben herunterladen (Fassung des Antrags)",
        "application/schema+json",
    ),
    "/submissions/{reference}/attachments/{attachment_id}": _download(
        "getSubmissionAttachment",
        "Eine Anlage herunterladen (im Typ, den ihr Inhalt hat)",
        "*/*",
        [
            {
                "name": "attachment_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        ],
    ),
    "/submissions/{reference}/acknowledge": {
        "post": {
            "operationId": "acknowledgeSubmission",
            "summary": "Eingang bestätigen",
            "description": "Ein eingegangener Antrag geht in Bearbeitung (wie accept-submission in "
            "FIT-Connect). Wiederholbar: ein Antrag in Bearbeitung bleibt, wie er ist.",
            "tags": ["Bearbeitung"],
            "parameters": [_REFERENCE, _IF_MATCH],
            "responses": {
                "200": _submission_ok("Der Antrag, jetzt in Bearbeitung"),
                **_errors("Unauthorized", "NotFound", "Conflict", "PreconditionFailed", "TooManyRequests"),
            },
        }
    },
    "/submissions/{reference}/reject": {
        "post": {
            "operationId": "rejectSubmission",
            "summary": "Antrag ablehnen",
            "description": "Lehnt den Antrag mit Gründen ab; die antragstellende Person erfährt sie "
            "auf der Statusseite und per E-Mail.",
            "tags": ["Bearbeitung"],
            "parameters": [_REFERENCE, _IF_MATCH],
            "requestBody": _json_body("RejectRequest"),
            "responses": {
                "200": _submission_ok("Der abgelehnte Antrag"),
                **_errors(
                    "Unauthorized",
                    "NotFound",
                    "Conflict",
                    "PreconditionFailed",
                    "UnsupportedMediaType",
                    "ValidationFailed",
                    "TooManyRequests",
                ),
            },
        }
    },
    "/submissions/{reference}/status": {
        "post": {
            "operationId": "updateSubmissionStatus",
            "summary": "Status ändern",
            "description": "Erlaubt: received → in_progress; in_progress → waiting, completed, rejected; "
            "waiting → in_progress. Eine Nachricht geht an die antragstellende Person.",
            "tags": ["Bearbeitung"],
            "parameters": [_REFERENCE, _IF_MATCH],
            "requestBody": _json_body("StatusRequest"),
            "responses": {
                "200": _submission_ok("Der Antrag im neuen Status"),
                **_errors(
                    "Unauthorized",
                    "NotFound",
                    "Conflict",
                    "PreconditionFailed",
                    "UnsupportedMediaType",
                    "ValidationFailed",
                    "TooManyRequests",
                ),
            },
        }
    },
    "/submissions/{reference}/messages": {
        "post": {
            "operationId": "postSubmissionMessage",
            "summary": "Nachricht an die antragstellende Person",
            "description": "Erscheint auf der Statusseite und wird per E-Mail gesendet.",
            "tags": ["Bearbeitung"],
            "parameters": [_REFERENCE, _IF_MATCH],
            "requestBody": _json_body("MessageRequest"),
            "responses": {
                "201": {
                    "description": "Die Nachricht",
                    "content": {"application/json": {"schema": _ref("Message")}},
                },
                **_errors(
                    "Unauthorized",
                    "NotFound",
                    "PreconditionFailed",
                    "UnsupportedMediaType",
                    "ValidationFailed",
                    "TooManyRequests",
                ),
            },
        }
    },
}


def openapi_document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document; ``server_url`` is the API's base (``/api/v1``)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kommunalportal – Schnittstelle für Fachverfahren",
            "version": API_VERSION,
            "description": "Anträge einer Kommune abholen und bearbeiten. Jeder Aufruf braucht ein "
            "Token (Authorization: Bearer …), das eine Administratorin der Kommune im "
            "Arbeitsbereich anlegt. Fehler sind application/problem+json (RFC 9457).",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "Anträge", "description": "Abrufen"},
            {"name": "Bearbeitung", "description": "Bestätigen, ablehnen, Status und Nachrichten"},
        ],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Token des API-Clients (kp_…), einmal bei der Anlage angezeigt",
                }
            },
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }


def request_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of request body ``name``; its references resolve inside it."""
    return {"$ref": f"#/components/schemas/{name}", "components": {"schemas": SCHEMAS}}


# --------------------------------------------------------------------------- reference page


@dataclass(frozen=True)
class ParameterRow:
    """A parameter as the reference page lists it."""

    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class ResponseRow:
    """A documented response: status, description, media types and the schema's name."""

    status: str
    description: str
    media_types: list[str]
    type: str


@dataclass(frozen=True)
class OperationView:
    """One operation of the document, flattened for the reference page."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[ParameterRow]
    body: str | None
    responses: list[ResponseRow]


@dataclass(frozen=True)
class PropertyRow:
    """A property of a schema as the reference page lists it."""

    name: str
    required: bool
    type: str
    description: str


def type_label(schema: dict[str, Any]) -> str:
    """A short human name of a schema: its component name, type, enum or alternatives."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " | ".join(type_label(option) for option in schema["oneOf"])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(str(item) for item in kind)
    if kind == "array":
        return f"array<{type_label(schema.get('items', {}))}>"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _response_rows(document: dict[str, Any], responses: dict[str, Any]) -> list[ResponseRow]:
    rows = []
    for status, response in responses.items():
        if "$ref" in response:
            response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        content = response.get("content", {})
        schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
        rows.append(
            ResponseRow(
                status=status,
                description=response.get("description", ""),
                media_types=list(content),
                type=type_label(schema) if schema else "",
            )
        )
    return rows


def reference_operations(document: dict[str, Any]) -> list[OperationView]:
    """Every operation of ``document``, in the document's order."""
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                OperationView(
                    id=operation["operationId"],
                    method=method.upper(),
                    path=document["servers"][0]["url"] + path,
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    parameters=[
                        ParameterRow(
                            name=parameter["name"],
                            location=parameter["in"],
                            required=bool(parameter.get("required")),
                            type=type_label(parameter.get("schema", {})),
                            description=parameter.get("description", ""),
                        )
                        for parameter in operation.get("parameters", [])
                    ],
                    body=type_label(body["schema"]) if body else None,
                    responses=_response_rows(document, operation["responses"]),
                )
            )
    return operations


def reference_schemas(document: dict[str, Any]) -> dict[str, tuple[str, list[PropertyRow]]]:
    """Each component schema: its description and its properties."""
    result = {}
    for name, schema in document["components"]["schemas"].items():
        required = set(schema.get("required", []))
        rows = [
            PropertyRow(
                name=key,
                required=key in required,
                type=type_label(value),
                description=value.get("description", ""),
            )
            for key, value in schema.get("properties", {}).items()
        ]
        result[name] = (schema.get("description", ""), rows)
    return result
