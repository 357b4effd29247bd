"""Analyses over a Journey. Each module holds one analysis; each query lives in sql/<name>.sql."""
