"""The quality of a round's proposals: how good, how stable, and how they compare (issue 13).

:mod:`matchmaker.quality.metrics` measures a solved round in the users' words (exchanges,
scores, budget use per Partnership, the spread across Partnerships, countries and organisation
types, visitors unmatched by reason): ``summary.json``'s ``match_quality``, the HTML report and
notebook 03 (docs/decisions.md §36). :mod:`matchmaker.quality.stability` finds blocking pairs.
"""
