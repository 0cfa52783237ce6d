"""ClusterXchange matchmaker: optimisation-based batch matching of visitors and hosts.

The package follows the CP-SAT Primer's structure for optimisation apps:

* an *instance* (:class:`matchmaker.inputs.instance.Round`, validated data, built by
  :mod:`matchmaker.inputs.loading`),
* the scheme's *rules* (:mod:`matchmaker.constraints`, :mod:`matchmaker.rules.lump_sum`),
* *scores* (:mod:`matchmaker.scoring`),
* a *model* and *solution* (:mod:`matchmaker.solver`),
* an independent *validator* (:mod:`matchmaker.proposals.validator`) that is the specification
  of a valid round.
"""

__version__ = "0.1.0"
