-- Parsing and pseudonymisation helpers used by the mapping compiler (cjlib/ingest/compile.py).
-- Each macro takes a trimmed, non-missing text value and returns the parsed value or NULL.

CREATE OR REPLACE TEMP MACRO cj_local_to_utc(ts, tz) AS timezone('UTC', timezone(tz, ts));

-- ISO 8601 (YYYY-MM-DD[ T]HH:MM[:SS[.fff]] with an optional offset) only: with an offset (Z,
-- +01:00, -0500, +00) it is read as that instant, without one as local time in tz.
CREATE OR REPLACE TEMP MACRO cj_iso_utc(raw, tz) AS
    CASE WHEN NOT regexp_full_match(raw,
             '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?')
         THEN NULL
         WHEN regexp_matches(raw, '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') AND length(raw) > 10
         THEN timezone('UTC', try_cast(raw AS TIMESTAMPTZ))
         ELSE cj_local_to_utc(try_cast(raw AS TIMESTAMP), tz) END;

CREATE OR REPLACE TEMP MACRO cj_timestamp(raw, fmt, tz) AS
    coalesce(cj_local_to_utc(try_strptime(raw, fmt), tz), cj_iso_utc(raw, tz));

CREATE OR REPLACE TEMP MACRO cj_timestamp_offset(raw, fmt, tz) AS
    coalesce(timezone('UTC', try_strptime(raw, fmt)), cj_iso_utc(raw, tz));

CREATE OR REPLACE TEMP MACRO cj_number(raw, dec, thou) AS
    try_cast(replace(replace(replace(raw, ' ', ''), thou, ''), dec, '.') AS DOUBLE);

-- '£1,234.50', '€ 1.234,50', '-12.00', '(12.00)', '1234 EUR' -> number. Currency symbols, ISO codes
-- and spaces are dropped; anything else that is not a number makes it NULL.
CREATE OR REPLACE TEMP MACRO cj_money_core(raw) AS
    regexp_replace(raw, '[£€$¥\s]|[A-Z]{3}', '', 'g');

CREATE OR REPLACE TEMP MACRO cj_money(raw, dec, thou) AS
    CASE WHEN regexp_full_match(cj_money_core(raw), '\(-?[0-9][0-9,.]*\)')
         THEN -cj_number(regexp_replace(cj_money_core(raw), '[()-]', '', 'g'), dec, thou)
         WHEN regexp_full_match(cj_money_core(raw), '-?[0-9][0-9,.]*-?')
         THEN (CASE WHEN contains(cj_money_core(raw), '-') THEN -1 ELSE 1 END)
              * cj_number(replace(cj_money_core(raw), '-', ''), dec, thou)
    END;

CREATE OR REPLACE TEMP MACRO cj_bool(raw, trues, falses) AS
    CASE WHEN list_contains(trues, lower(raw)) THEN true
         WHEN list_contains(falses, lower(raw)) THEN false END;

-- '00:03:12', '03:12', '192', '192.5', '3m12s', '1h2m', '0 days 00:03:12' -> seconds
CREATE OR REPLACE TEMP MACRO cj_duration(raw) AS
    CASE
        WHEN regexp_full_match(raw, '([0-9]+ days? )?[0-9]+:[0-5]?[0-9]:[0-5]?[0-9](\.[0-9]+)?') THEN
            coalesce(try_cast(regexp_extract(raw, '([0-9]+) day', 1) AS DOUBLE), 0) * 86400
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 1) AS DOUBLE) * 3600
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 2) AS DOUBLE) * 60
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 3) AS DOUBLE)
        WHEN regexp_full_match(raw, '[0-9]+:[0-5]?[0-9]') THEN
            cast(split_part(raw, ':', 1) AS DOUBLE) * 60 + cast(split_part(raw, ':', 2) AS DOUBLE)
        WHEN regexp_full_match(raw, '[0-9]+(\.[0-9]+)?') THEN cast(raw AS DOUBLE)
        WHEN regexp_full_match(lower(raw), '([0-9]+h)? ?([0-9]+m)? ?([0-9]+s)?') AND raw <> '' THEN
            coalesce(try_cast(regexp_extract(lower(raw), '([0-9]+)h', 1) AS DOUBLE), 0) * 3600
            + coalesce(try_cast(regexp_extract(lower(raw), '([0-9]+)m', 1) AS DOUBLE), 0) * 60
            + coalesce(try_cast(regexp_extract(lower(raw), '([0-9]+)s', 1) AS DOUBLE), 0)
    END;

CREATE OR REPLACE TEMP MACRO cj_email(raw) AS
    CASE WHEN regexp_full_match(lower(trim(raw)), '[^@\s]+@[^@\s]+\.[^@\s]{2,}')
         THEN lower(trim(raw)) END;

CREATE OR REPLACE TEMP MACRO cj_phone_digits(raw) AS
    regexp_replace(replace(trim(raw), '(0)', ''), '[^0-9+]', '', 'g');

CREATE OR REPLACE TEMP MACRO cj_phone_e164(p, cc, trunk) AS
    CASE WHEN starts_with(p, '+') THEN '+' || replace(substr(p, 2), '+', '')
         WHEN starts_with(p, '00') THEN '+' || substr(p, 3)
         WHEN trunk <> '' AND starts_with(p, trunk) THEN '+' || cc || substr(p, length(trunk) + 1)
         ELSE '+' || cc || p END;

-- E.164 when 8 to 15 digits follow the '+', else NULL.
CREATE OR REPLACE TEMP MACRO cj_phone(raw, cc, trunk) AS
    CASE WHEN regexp_full_match(cj_phone_e164(cj_phone_digits(raw), cc, trunk), '\+[1-9][0-9]{7,14}')
              AND NOT regexp_matches(trim(raw), '[A-Za-z]')
         THEN cj_phone_e164(cj_phone_digits(raw), cc, trunk) END;

-- Salted SHA-256, first 32 hex digits (128 bits). The salt is always a bound parameter.
CREATE OR REPLACE TEMP MACRO cj_hash(salt, id_type, v) AS
    substr(sha256(salt || '|' || id_type || '|' || v), 1, 32);

-- A text cell that a spreadsheet would run as a formula (CSV injection).
CREATE OR REPLACE TEMP MACRO cj_is_formula(v) AS regexp_matches(v, '^[=+@-].*[(!|]');

-- Raw text kept for a rejected row, with email- and phone-like runs masked.
CREATE OR REPLACE TEMP MACRO cj_mask(t) AS
    regexp_replace(
        regexp_replace(t, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
        '(\+|\b0)[0-9][0-9 ().-]{6,}[0-9]', '<phone>', 'g');
