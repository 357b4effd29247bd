"""Charts: pure functions from a DataFrame or Result to an altair chart; one registered theme."""
