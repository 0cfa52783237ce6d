"""The command-line options of ``step``, ``ec-draw`` and ``statement`` (argparse only: quick to import).

:func:`exchange_commands` adds the three sub-commands to ``matchmaker``'s parser; the
commands themselves run in :func:`matchmaker.ledger.steps_command.run_exchange_command`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

#: The steps of an exchange, for ``--to``'s help (the rules are in :mod:`matchmaker.ledger.step_rules`).
STEP_HELP = ("the step: ctq_drafted, signed_by_host, signed_by_visitor, validated_by_partnership, "
             "validated_by_support_office, validated_by_ec, fa_signed, started, completed, reported or withdrawn")


def exchange_commands(round_cmd: Callable[..., argparse.ArgumentParser], func: Callable, share_type: Callable,
                      seed_type: Callable, ledger_help: str) -> None:
    """Add ``step``, ``ec-draw`` and ``statement`` with ``round_cmd`` (the CLI's round sub-command maker).

    ``func`` runs any of them; ``share_type``/``seed_type`` check ``--share`` and ``--seed``.
    """
    led = {"ledger": ("--ledger", "ledger")}
    st = round_cmd("step", "record a step of an exchange's validation chain (Commitment to Quality drafted, signed, "
                   "validated, Financial Agreement signed, started, completed, reported, or withdrawn)", func, led)
    st.add_argument("--visitor", required=True, help="the visitor's org_id")
    st.add_argument("--host", required=True, help="the host's org_id")
    st.add_argument("--to", required=True, help=STEP_HELP)
    st.add_argument("--by", required=True, help="who records it (a name or an e-mail address)")
    st.add_argument("--reason", default="", help="a comment; required with --to withdrawn")
    st.add_argument("--partnership", default=None, help="with validated_by_partnership: the validating Partnership")
    ec = round_cmd("ec-draw", "draw a share of the exchanges for validation by the European Commission (seeded and "
                   "recorded in the ledger, so anyone can re-run it)", func, led)
    ec.add_argument("--share", type=share_type, default=None, help="share drawn, e.g. 0.1 for 10 %% (required "
                    "unless --check)")
    ec.add_argument("--seed", type=seed_type, default=None, help="the draw's seed (required unless --check)")
    ec.add_argument("--check", default=None, metavar="DRAW",
                    help="re-run recorded draw number DRAW from its seed, share and candidates and say whether the "
                         "same exchanges come out (records nothing; without --share and --seed)")
    ec.add_argument("--by", default="Support Office", help="who draws (default: Support Office)")
    ec.add_argument("--not-by-partnership", action="store_true",
                    help="one draw over all exchanges instead of one per Partnership")
    sm = round_cmd("statement", "a Partnership's budget with the lump sums reserved, committed, paid and released",
                   func, {**led, "out": ("--out", "file")})
    sm.add_argument("--partnership", required=True, help="the paying Partnership's id")
    sm.add_argument("--out", default=None, help="also write the statement to this CSV file")
    for parser in (st, ec, sm):
        parser.add_argument("--ledger", default=None, help=ledger_help)
