-- Journey phases (events.phase: awareness, consideration, purchase, retention, advocacy):
-- per customer, events ordered by (ts, event_id) with a phase form runs of the same phase; a
-- run is entered at its first event and left when the next run is entered. Dwell time = next
-- run's entry - this run's entry (seconds; median, 90th percentile, mean over left runs). A
-- customer's last run is still open (censored at the data end) and counts in open_runs only.
-- customers = customers ever in the phase; all_customers = customers with any phase.
WITH phased AS (
    SELECT customer_id, ts, event_id, phase,
           lag(phase) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS prev_phase
    FROM events
    WHERE phase IS NOT NULL
),

runs AS (
    SELECT customer_id, phase, ts AS t_enter,
           lead(ts) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS t_exit
    FROM phased
    WHERE prev_phase IS NULL OR prev_phase <> phase
),

final AS (
    SELECT phase,
           count(DISTINCT customer_id) AS customers,
           (SELECT count(DISTINCT customer_id) FROM phased) AS all_customers,
           count(*) AS runs,
           count(t_exit) AS left_runs,
           count(*) - count(t_exit) AS open_runs,
           median(epoch(t_exit - t_enter)) AS median_dwell_s,
           quantile_cont(epoch(t_exit - t_enter), 0.9) AS p90_dwell_s,
           avg(epoch(t_exit - t_enter)) AS mean_dwell_s
    FROM runs
    GROUP BY phase
)

SELECT * FROM final ORDER BY phase
