# %% [markdown]
# # Process pain points and complaint drivers
#
# Where the service itself lets customers down: steps that often fail, cases that take too long,
# and the touchpoints customers rate worst, with the complaints that follow.

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
step_started = "id_check_started"  # a step customers start ...
step_completed = "id_check_completed"  # ... and should complete
case_opened = "payout_requested"  # a case that should be closed quickly ...
case_closed = "payout_paid"  # ... by this event
complaint = "complaint_opened"  # the outcome that may follow a slow case
complaint_case = ["complaint_opened", "complaint_resolved"]  # the steps of a complaint

# %%
from cjlib import report

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## A step that fails
#
# Of the customers who start this step, the share who never complete it, with a range.

# %%
report.show(j.process(started=step_started, completed=step_completed))

# %% [markdown]
# ## Slow cases and complaints
#
# Cases grouped by how long they took to close, and for each group the share of customers who
# complained afterwards: if the share climbs with the wait, the wait is driving complaints.

# %%
report.show(j.process(start=case_opened, end=case_closed, outcome=complaint))

# %% [markdown]
# ## How complaints are handled
#
# The steps a complaint goes through and the time between them.

# %%
report.show(j.process(case_events=complaint_case))

# %% [markdown]
# ## Touchpoints ranked as pain points
#
# For each touchpoint: how many customers meet it, how long it takes, and how they rate it. The
# worst-rated touchpoints with the most customers come first.

# %%
report.show(j.touchpoints(), rows=15)
