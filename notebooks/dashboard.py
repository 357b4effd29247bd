# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder; fixed by the run, never read from the URL
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
sales_steps = None  # funnel steps in order, e.g. ["quote_start", "quote", "purchase"]; None: usual
static_charts = False  # True in batch runs: plain HTML and SVG, no widgets (cj serve: live)

# %%
# The client-facing dashboard: `cj serve CLIENT` serves it with Voila from the client's latest
# run (code hidden). Every figure follows the filters in the header.
from cjlib.widgets import open_dashboard

d = open_dashboard(client, start=start, end=end, sales_steps=sales_steps,
                   static_charts=static_charts)
d.show_header()

# %% [markdown]
# ## What we found
#
# The findings that cleared their evidence bar, the largest money at stake first.

# %%
d.show("nuggets")

# %% [markdown]
# ## Funnel and drop-out hot-spots
#
# How customers move through the steps, where they drop out, and what the drop-outs cost.

# %%
d.show("funnel")

# %% [markdown]
# ## Follow-up speed
#
# How conversion depends on how quickly the first follow-up comes after a quote.

# %%
d.show("followup")

# %% [markdown]
# ## Channel journeys
#
# The paths customers take across channels, and how each path converts.

# %%
d.show("channels")

# %% [markdown]
# ## Process pain points
#
# Where customers wait, repeat steps or are least satisfied.

# %%
d.show("process")

# %% [markdown]
# ## Retention
#
# How many customers buy again, month by month after their first purchase.

# %%
d.show("retention")

# %% [markdown]
# ## Lifetime value
#
# What customers have spent so far, and what they are expected to spend.

# %%
d.show("clv")
d.show_footer()
