"""SQL of the sample generator."""
