-- Per touchpoint: volume, customers, duration, and survey satisfaction.
-- Touchpoint = {{by}} of an event, suffixed '/<attrs value>' when $attr_path is given and the
-- event has that attribute; survey events ($survey_event) are not touchpoints. Scope: $events /
-- $exclude (NULL = no restriction).
-- A survey (a $survey_event with a score) is linked to a touchpoint by its own label
-- (attrs.touchpoint, renamed through $label_from -> $label_to) when $link = 'attr', to the
-- customer's last touchpoint at or before it (ties: the touchpoint first; within $link_window
-- when given) when $link = 'last', and by its label when that names a touchpoint, else the last
-- touchpoint, when $link = 'auto'. Surveys linked to nothing are counted in the row with
-- touchpoint NULL.
WITH touches AS (
    SELECT customer_id, ts, event_id, duration_s,
           concat_ws('/', {{by}}, json_extract_string(attrs, $attr_path::VARCHAR)) AS touchpoint
    FROM events
    WHERE event <> $survey_event AND {{by}} IS NOT NULL
      AND ($events::VARCHAR[] IS NULL OR list_contains($events::VARCHAR[], event))
      AND ($exclude::VARCHAR[] IS NULL OR NOT list_contains($exclude::VARCHAR[], event))
),

surveys AS (
    SELECT customer_id, ts, event_id, score,
           json_extract_string(attrs, '$.touchpoint') AS label
    FROM events
    WHERE event = $survey_event AND score IS NOT NULL
),

renamed AS (
    SELECT customer_id, ts, event_id, score,
           coalesce(($label_to::VARCHAR[])[list_position($label_from::VARCHAR[], label)], label)
               AS own
    FROM surveys
),

labelled AS (
    SELECT customer_id, ts, event_id, score, own,
           own IN (SELECT DISTINCT touchpoint FROM touches) AS own_is_touchpoint
    FROM renamed
),

stream AS (
    SELECT customer_id, ts, 0 AS is_survey, event_id, touchpoint,
           NULL::DOUBLE AS score, NULL::VARCHAR AS own, NULL::BOOLEAN AS own_is_touchpoint
    FROM touches
    UNION ALL
    SELECT customer_id, ts, 1, event_id, NULL, score, own, own_is_touchpoint
    FROM labelled
),

last_touch AS (
    SELECT is_survey, ts, score, own, own_is_touchpoint,
           last_value(touchpoint IGNORE NULLS) OVER w AS last_tp,
           last_value(CASE WHEN is_survey = 0 THEN ts END IGNORE NULLS) OVER w AS last_tp_ts
    FROM stream
    WINDOW w AS (PARTITION BY customer_id ORDER BY ts, is_survey, event_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),

linked AS (
    SELECT score,
           CASE WHEN $link = 'attr' OR ($link = 'auto' AND own_is_touchpoint) THEN own
                WHEN $link_window::INTERVAL IS NULL
                     OR ts <= last_tp_ts + $link_window::INTERVAL THEN last_tp
           END AS touchpoint
    FROM last_touch
    WHERE is_survey = 1
),

volume AS (
    SELECT touchpoint, count(*) AS volume, count(DISTINCT customer_id) AS customers,
           count(duration_s) AS n_duration, avg(duration_s) AS mean_duration_s,
           median(duration_s) AS median_duration_s
    FROM touches
    GROUP BY touchpoint
),

satisfaction AS (
    SELECT touchpoint, count(*) AS surveys, avg(score) AS mean_score,
           var_samp(score) AS var_score
    FROM linked
    GROUP BY touchpoint
),

final AS (
    SELECT coalesce(v.touchpoint, s.touchpoint) AS touchpoint,
           coalesce(v.volume, 0) AS volume, coalesce(v.customers, 0) AS customers,
           coalesce(v.n_duration, 0) AS n_duration, v.mean_duration_s, v.median_duration_s,
           coalesce(s.surveys, 0) AS surveys, s.mean_score, s.var_score
    FROM volume v
    FULL OUTER JOIN satisfaction s ON s.touchpoint = v.touchpoint
)

SELECT * FROM final ORDER BY volume DESC, touchpoint NULLS LAST
