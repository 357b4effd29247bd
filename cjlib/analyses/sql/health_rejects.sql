-- Why rows were set aside: one line per feed, problem and column, with the first few example
-- rows (file:row) and a masked example. Rejects are stored masked; the masking is applied again
-- here (emails, phone-like digit runs) so an example can never show contact details.
WITH rejects_ AS (
    SELECT feed, source_file, source_row, "column", value, code, reason, raw
    FROM rejects
), masked AS (
    SELECT
        feed, source_file, source_row, "column", code, reason,
        regexp_replace(
            regexp_replace(coalesce(value, ''),
                '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
            '(\+|\b0)[0-9][0-9 ().-]{6,}[0-9]', '<phone>', 'g') AS value,
        regexp_replace(
            regexp_replace(coalesce(raw, ''),
                '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
            '(\+|\b0)[0-9][0-9 ().-]{6,}[0-9]', '<phone>', 'g') AS raw
    FROM rejects_
), reasons AS (
    SELECT
        feed, code, "column",
        count(*) AS rows,
        min(reason) AS reason,
        list(source_file || ':' || source_row ORDER BY source_file, source_row) AS locations,
        list(value ORDER BY source_file, source_row) AS values,
        list(raw ORDER BY source_file, source_row) AS raws
    FROM masked
    GROUP BY feed, code, "column"
), final AS (
    SELECT
        feed, code, "column", rows, reason,
        array_to_string(locations[1:$examples], ', ') AS example_rows,
        values[1] AS example_value,
        left(raws[1], $max_chars) AS example_raw
    FROM reasons
)
SELECT * FROM final
ORDER BY rows DESC, feed, code, "column"
