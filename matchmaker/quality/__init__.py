"""The quality of a round's proposals: how stable they are, and how they compare (issue 13)."""
