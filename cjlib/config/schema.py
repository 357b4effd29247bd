"""The shape of client.yml, validated with pydantic (docs/client-yml.md is the user's guide)."""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KINDS = (
    "contacts",
    "quotes",
    "calls",
    "web",
    "email",
    "orders",
    "complaints",
    "payments",
    "surveys",
    "events",
)
Kind = Literal[
    "contacts",
    "quotes",
    "calls",
    "web",
    "email",
    "orders",
    "complaints",
    "payments",
    "surveys",
    "events",
]
PHASES = ("awareness", "consideration", "purchase", "retention", "advocacy")
IDENTIFIERS = ("email", "phone", "crm_id", "cookie_id", "account_no")
ValueType = Literal["text", "int", "number", "money", "bool", "timestamp", "date", "duration"]

# canonical field -> the type it is parsed as
FIELD_TYPES: dict[str, str] = {
    "ts": "timestamp",
    "event": "text",
    "channel": "text",
    "source": "text",
    "case_id": "text",
    "value": "money",
    "cost": "money",
    "duration_s": "duration",
    "outcome": "text",
    "score": "number",
    "segment": "text",
    "region": "text",
    **{ident: "identifier" for ident in IDENTIFIERS},
}

# kind -> (default event, default channel, default phase)
KIND_DEFAULTS: dict[str, tuple[str | None, str | None, str]] = {
    "contacts": ("contact_created", "crm", "awareness"),
    "quotes": ("quote", "web", "consideration"),
    "calls": ("call", "phone", "consideration"),
    "web": ("page_view", "web", "awareness"),
    "email": ("email", "email", "consideration"),
    "orders": ("purchase", "web", "purchase"),
    "complaints": ("complaint", "phone", "retention"),
    "payments": ("payment", "bank", "retention"),
    "surveys": ("survey", "survey", "advocacy"),
    "events": (None, None, "consideration"),
}

DEFAULT_NULLS = ["", "NA", "N/A", "n/a", "null", "NULL", "-"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")


def parse_window(text: str | int) -> int:
    """'30d', '20m', '1h', '45s' or a number of seconds -> seconds."""
    if isinstance(text, int):
        return text
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration; expected e.g. '30d', '12h', '20m', '45s'")
    number, unit = int(match.group(1)), match.group(2)
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """Where one canonical field comes from and how to parse it."""

    column: str | None = None
    value: Any = None
    type: ValueType | None = None
    format: str | None = None
    map: dict[str, Any] | None = None
    strict_map: bool = False
    true: list[str] | None = None
    false: list[str] | None = None
    tz: str | None = None
    optional: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, dict) and "map" in data and isinstance(data["map"], dict):
            data = {**data, "map": {str(k): v for k, v in data["map"].items()}}
        return data

    @model_validator(mode="after")
    def _column_or_value(self) -> FieldSpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' (a column of the export) or 'value'")
        if self.tz is not None:
            _check_zone(self.tz)
        return self


class ReadOptions(_Strict):
    """How to read the files of one source (CSV is sniffed where not given)."""

    format: Literal["csv", "xlsx", "parquet", "jsonl"] | None = None
    delimiter: str | None = None
    quote: str | None = None
    encoding: str = "utf-8"
    header: bool = True
    skip: int = 0
    decimal: str = "."
    thousands: str = ","
    sheet: str | None = None
    tz: str | None = None

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @model_validator(mode="after")
    def _separators(self) -> ReadOptions:
        if self.decimal == self.thousands:
            raise ValueError("decimal and thousands separators must differ")
        return self


class EventSpec(_Strict):
    """One event emitted from every row of a source (for rows that hold several process steps)."""

    event: str | FieldSpec
    ts: FieldSpec | None = None
    value: FieldSpec | None = None
    outcome: FieldSpec | None = None
    channel: FieldSpec | None = None
    optional: bool = False


class SourceConfig(_Strict):
    """One export of the client: files, kind, and the mapping of its columns."""

    name: str
    kind: Kind
    files: str
    read: ReadOptions = Field(default_factory=ReadOptions)
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    event: str | FieldSpec | None = None
    attrs: dict[str, FieldSpec] = Field(default_factory=dict)
    events: list[EventSpec] | None = Field(default=None, min_length=1, max_length=16)
    phase: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r}: use lower-case letters, digits and _ (e.g. 'crm_quotes')")
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        unknown = sorted(set(value) - set(FIELD_TYPES))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) {unknown}; known: {sorted(FIELD_TYPES)} "
                "(put other columns under 'attrs')"
            )
        return value

    @field_validator("attrs")
    @classmethod
    def _attr_names(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for key in value:
            if not _NAME.match(key):
                raise ValueError(f"attribute name {key!r}: use lower-case letters, digits and _")
        return value

    @field_validator("phase")
    @classmethod
    def _phase(cls, value: str | None) -> str | None:
        if value is not None and value not in PHASES:
            raise ValueError(f"phase {value!r} is not one of {list(PHASES)}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SourceConfig:
        if not any(ident in self.fields for ident in IDENTIFIERS):
            raise ValueError(
                f"maps no identifier; map at least one of {list(IDENTIFIERS)} "
                "so its rows can be tied to a customer"
            )
        if self.events:
            missing_ts = [e.event for e in self.events if e.ts is None and "ts" not in self.fields]
            if missing_ts:
                raise ValueError("every event needs a timestamp: map fields.ts or give each 'ts'")
        else:
            if "ts" not in self.fields:
                raise ValueError(
                    "maps no timestamp: add fields.ts (e.g. {column: Date, format: ...})"
                )
            has_event = self.event is not None or "event" in self.fields
            if not has_event and KIND_DEFAULTS[self.kind][0] is None:
                raise ValueError(f"kind {self.kind!r} has no default event name: set 'event'")
        return self


class Branding(_Strict):
    primary: str = "#1f3a5f"
    accent: str = "#e07a1f"
    logo: str | None = None


class ClientConfig(_Strict):
    """The whole client.yml."""

    client: str
    name: str
    timezone: str
    country: str
    currency: str
    gross_margin: float = Field(gt=0, le=1)
    salt_file: str = ".salt"
    branding: Branding = Field(default_factory=Branding)
    phases: dict[str, str] = Field(default_factory=dict)
    null_values: list[str] = Field(default_factory=lambda: list(DEFAULT_NULLS))
    max_future: str = "1d"
    sources: list[SourceConfig]

    @field_validator("client")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                f"{value!r}: use lower-case letters, digits and '-' (e.g. 'acme-motor')"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        import phonenumbers

        code = value.upper()
        if phonenumbers.country_code_for_region(code) == 0:
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (e.g. 'GB', 'NL')")
        return code

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.match(r"^[A-Z]{3}$", value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. 'GBP', 'EUR')")
        return value

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {event: phase for event, phase in value.items() if phase not in PHASES}
        if bad:
            raise ValueError(f"unknown phase(s) {bad}; phases are {list(PHASES)}")
        return value

    @field_validator("max_future")
    @classmethod
    def _max_future(cls, value: str) -> str:
        parse_window(value)
        return value

    @model_validator(mode="after")
    def _unique_sources(self) -> ClientConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {dupes}")
        if not self.sources:
            raise ValueError("no sources: list at least one export under 'sources'")
        return self


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone (e.g. 'Europe/London', 'UTC')"
        ) from None
    return value
