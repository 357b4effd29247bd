-- Parsing and pseudonymisation helpers used by the mapping compiler (cjlib/ingest/compile.py).
-- Each macro takes a trimmed, non-missing text value and returns the parsed value or NULL.

-- trim(v), which removes Unicode space separators from both ends, without copying the text when
-- there is nothing to remove: the only such character in ASCII is the space.
CREATE OR REPLACE TEMP MACRO cj_trim(v) AS
    CASE WHEN strlen(v) = length(v) AND NOT starts_with(v, ' ') AND NOT ends_with(v, ' ') THEN v
         ELSE trim(v) END;

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

-- The same from the core already computed (the compiler computes it once per value; a macro
-- argument is re-evaluated wherever the body names it).
CREATE OR REPLACE TEMP MACRO cj_money_of_core(core, dec, thou) AS
    CASE WHEN regexp_full_match(core, '\(-?[0-9][0-9,.]*\)')
         THEN -cj_number(regexp_replace(core, '[()-]', '', 'g'), dec, thou)
         WHEN regexp_full_match(core, '-?[0-9][0-9,.]*-?')
         THEN (CASE WHEN contains(core, '-') THEN -1 ELSE 1 END)
              * cj_number(replace(core, '-', ''), dec, thou)
    END;

CREATE OR REPLACE TEMP MACRO cj_money(raw, dec, thou) AS
    cj_money_of_core(cj_money_core(raw), dec, thou);

CREATE OR REPLACE TEMP MACRO cj_bool(raw, trues, falses) AS
    CASE WHEN list_contains(trues, lower(raw)) THEN true
         WHEN list_contains(falses, lower(raw)) THEN false END;

-- '00:03:12', '03:12', '192', '192.5', '3m12s', '1h2m', '0 days 00:03:12' -> seconds
CREATE OR REPLACE TEMP MACRO cj_duration(raw) AS
    CASE
        -- the common HH:MM:SS, with one pattern instead of five (the same sum as the next branch)
        WHEN regexp_full_match(raw, '[0-9]{2}:[0-5][0-9]:[0-5][0-9]') THEN
            0 * 86400 + cast(substr(raw, 1, 2) AS DOUBLE) * 3600
            + cast(substr(raw, 4, 2) AS DOUBLE) * 60 + cast(substr(raw, 7, 2) AS DOUBLE)
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

-- Email: `cj_email_of(lower(trim(raw)))`; phone: `cj_phone_of(raw, cj_phone_e164(
-- cj_phone_digits(raw), cc, trunk))`. The compiler computes the inner values once per value (in
-- separate steps); cj_email and cj_phone spell the whole thing out.
CREATE OR REPLACE TEMP MACRO cj_email_of(low) AS
    CASE WHEN regexp_full_match(low, '[^@\s]+@[^@\s]+\.[^@\s]{2,}') THEN low END;

CREATE OR REPLACE TEMP MACRO cj_email(raw) AS cj_email_of(lower(trim(raw)));

-- Digits and '+' only (trimming first would change nothing: the pattern drops spaces anyway).
CREATE OR REPLACE TEMP MACRO cj_phone_digits(raw) AS
    regexp_replace(replace(raw, '(0)', ''), '[^0-9+]', '', 'g');

CREATE OR REPLACE TEMP MACRO cj_phone_e164(p, cc, trunk) AS
    CASE WHEN starts_with(p, '+') THEN '+' || replace(substr(p, 2), '+', '')
         WHEN starts_with(p, '00') THEN '+' || substr(p, 3)
         WHEN trunk <> '' AND starts_with(p, trunk) THEN '+' || cc || substr(p, length(trunk) + 1)
         ELSE '+' || cc || p END;

-- E.164 when 8 to 15 digits follow the '+' and the raw text has no letter, else NULL.
CREATE OR REPLACE TEMP MACRO cj_phone_of(raw, e164) AS
    CASE WHEN regexp_full_match(e164, '\+[1-9][0-9]{7,14}') AND NOT regexp_matches(raw, '[A-Za-z]')
         THEN e164 END;

CREATE OR REPLACE TEMP MACRO cj_phone(raw, cc, trunk) AS
    cj_phone_of(raw, cj_phone_e164(cj_phone_digits(raw), cc, trunk));

-- Salted SHA-256, first 32 hex digits (128 bits). The salt is always a bound parameter.
CREATE OR REPLACE TEMP MACRO cj_hash(salt, id_type, v) AS
    substr(sha256(salt || '|' || id_type || '|' || v), 1, 32);

-- A text cell that a spreadsheet would run as a formula (CSV injection).
-- (The pattern only runs on text that starts with one of its first characters.)
CREATE OR REPLACE TEMP MACRO cj_is_formula(v) AS
    CASE WHEN starts_with(v, '=') OR starts_with(v, '+') OR starts_with(v, '@')
              OR starts_with(v, '-')
         THEN regexp_matches(v, '^[=+@-].*[(!|]')
         WHEN v IS NOT NULL THEN false END;

-- Raw text kept for a rejected row, with email- and phone-like runs masked.
CREATE OR REPLACE TEMP MACRO cj_mask(t) AS
    regexp_replace(
        regexp_replace(t, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
        '(\+|\b0)[0-9][0-9 ().-]{6,}[0-9]', '<phone>', 'g');

-- The names whose bits are set in a bit string (bit i: the (i+1)-th name), in the names' order.
CREATE OR REPLACE TEMP MACRO cj_set(mask, names) AS
    list_filter(names, lambda x, i: get_bit(mask, CAST(i - 1 AS INTEGER)) = 1);
