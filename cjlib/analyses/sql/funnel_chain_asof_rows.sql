-- The chain rows (funnel_chain_asof.sql's `chain`) of the attempts that filled a step in {{reach}}.
SELECT unit, entry_id, step, t_step, t_prev, event_id, value FROM {{reach}} WHERE reached
