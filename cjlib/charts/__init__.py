"""Charts: pure functions from a DataFrame (or a Result) to an altair chart, one registered theme."""
