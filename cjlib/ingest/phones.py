"""What phone normalisation needs to know about a country, from libphonenumber's metadata."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Country:
    calling_code: str
    trunk_prefix: str


def country_info(region: str) -> Country:
    """Calling code and national (trunk) prefix of an ISO 3166 country ('GB' -> 44, '0')."""
    code = phonenumbers.country_code_for_region(region)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix if metadata else None) or ""
    return Country(str(code), trunk)
