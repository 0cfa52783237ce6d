"""Command line: ``matchmaker generate | validate | check | score | rank | solve | decide | resolve | step |
ec-draw | statement | ctq | export | report``.

Each sub-command is a thin wrapper: it parses arguments, calls one package function and
prints its result. Heavy imports are done inside the commands so ``--help`` is quick.

Exit codes: 0 success, 1 the round (its files, settings, ledger or outputs) breaks a rule,
2 bad usage (an option's value or path), 130 interrupted. One handler (:func:`main`) turns
the project's own errors into a message on stderr; anything else is a bug and keeps its
traceback, followed by a line asking to report it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from matchmaker.cli_checks import (
    MAX_SEED,
    SEP_HELP,
    SEP_METAVAR,
    check_paths,
    nonnegative_float,
    positive_float,
    positive_int,
    seed_int,
    separator,
)
from matchmaker.cli_errors import explain, say
from matchmaker.common.errors import RoundDataError, SettingsError, UsageError
from matchmaker.ledger.steps_options import exchange_commands

REPORT_TO = "the matchmaker maintainers"

# --- commands ----------------------------------------------------------------------------------

def _cmd_generate(args: argparse.Namespace) -> int:
    from matchmaker.generator.generate import generate_round

    kept = generate_round(Path(args.out), n_visitors=args.visitors, n_hosts=args.hosts, seed=args.seed,
                          budget_share=args.budget_share, force=args.force)
    print(f"wrote a round of {args.visitors} visitors and {args.hosts} hosts to {args.out}")
    ledgers = [p.name for p in kept if ".sqlite" in p.name]
    if ledgers:
        print(f"note: the ledger ({', '.join(ledgers)}) was left as it is: it holds the rounds of the earlier files, "
              "and the next `matchmaker solve` records its round after them; move it out of the folder first to "
              "start a new ledger")
    others = [p.name for p in kept if ".sqlite" not in p.name]
    if others:
        print(f"left as they were: {', '.join(others)}")
    return 0


def _load(args: argparse.Namespace):
    from matchmaker.inputs.loading import load_round

    return load_round(Path(args.round_dir), settings_file=args.settings)


def _cmd_validate(args: argparse.Namespace) -> int:
    from matchmaker.constraints import lock_problems, registration_refusals

    rnd = _load(args)
    locks = lock_problems(rnd)
    if locks:
        raise RoundDataError(rnd.warnings + locks)
    for p in rnd.warnings:
        print(p)
    refused = registration_refusals(rnd)
    print(f"{args.round_dir}: usable round: {rnd.n_visitors} visitors, {rnd.n_hosts} hosts, "
          f"{len(rnd.partnerships)} partnerships, {len(rnd.decisions)} decisions")
    if len(refused):
        print(f"{len(refused)} registration(s) cannot take part in any exchange:")
        print(refused.to_string(index=False))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from matchmaker.proposals.fairness import fairness_check
    from matchmaker.proposals.reading import read_proposals
    from matchmaker.proposals.validator import check_proposals_file

    rnd = _load(args)
    violations = check_proposals_file(rnd, Path(args.proposals))
    for v in violations:
        print(v)
    if violations:
        print(f"{args.proposals}: {len(violations)} rule(s) broken", file=sys.stderr)
        return 1
    print(f"{args.proposals}: valid: every rule of the scheme holds")
    for line in fairness_check(rnd, read_proposals(Path(args.proposals))):
        print(line)
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from matchmaker.pairs.catalogue import build_catalogue, write_catalogue

    rnd = _load(args)
    cat = build_catalogue(rnd)
    write_catalogue(rnd, cat, Path(args.out))
    print(cat.describe())
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from matchmaker.pairs.catalogue import ranked_counterparts

    rnd = _load(args)
    try:
        table = ranked_counterparts(rnd, args.org, role=args.role, top=args.top)
    except KeyError as exc:  # the organisation is not registered (in that role)
        raise UsageError(f"--org {args.org!r}: {exc.args[0]}") from None
    print(table)
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    """``solve`` (also ``round``): solve around the ledger's decisions, record the round; ``--no-record``: no ledger."""
    if not args.no_record:
        return _cmd_round(args)
    if args.ledger or args.name:
        raise UsageError(f"{'--ledger' if args.ledger else '--name'} and --no-record go against each other: "
                         "--no-record neither reads nor writes a ledger")
    from matchmaker.proposals.output_set import record_failure
    from matchmaker.run import run_round

    try:
        rnd = _load(args)
    except (RoundDataError, SettingsError):
        # an earlier result in --out must not look like this run's (docs/decisions.md §29)
        record_failure(args.out, "the round's files could not be loaded: `matchmaker validate` lists every problem",
                       {"round_dir": str(args.round_dir)})
        raise
    return run_round(rnd, Path(args.out), time_limit=args.time_limit, seed=args.seed,
                     verbose=not args.quiet, work_limit=args.work_limit, prove=args.prove or None)


def _cmd_round(args: argparse.Namespace) -> int:
    from matchmaker.ledger.carry_over import run_next_round

    result = run_next_round(Path(args.round_dir), Path(args.out), ledger_url=args.ledger, name=args.name,
                            time_limit=args.time_limit, seed=args.seed, settings_file=args.settings,
                            work_limit=args.work_limit, verbose=not args.quiet, prove=args.prove or None)
    print(result.describe())
    return result.exit_code


def _cmd_decide(args: argparse.Namespace) -> int:
    from matchmaker.ledger.workflow import decide_pair

    print(decide_pair(args.round_dir, args.visitor, args.host, args.decision, args.by, args.comment or "",
                      round_id=args.round, url=args.ledger, settings_file=args.settings))
    return 0


def _cmd_resolve(args: argparse.Namespace) -> int:
    from matchmaker.ledger.resolve_command import resolve_round

    rc, text = resolve_round(args.round_dir, args.out, args.partnership, ledger_url=args.ledger, name=args.name,
                             dry_run=args.dry_run, time_limit=args.time_limit, work_limit=args.work_limit,
                             seed=args.seed, settings_file=args.settings, verbose=not args.quiet,
                             prove=args.prove or None)
    print(text)
    return rc


def _cmd_exchange(args: argparse.Namespace) -> int:
    from matchmaker.ledger.steps_command import run_exchange_command

    print(run_exchange_command(args))
    return 0


def _cmd_ctq(args: argparse.Namespace) -> int:
    from matchmaker.building.ctq_command import ctq_command

    rc, text = ctq_command(args.round_dir, args.out, visitor=args.visitor, host=args.host, ledger_url=args.ledger,
                           round_id=args.round, force=args.force, settings_file=args.settings, by=args.by)
    print(text, file=sys.stderr if rc else sys.stdout)
    return rc


def _cmd_export(args: argparse.Namespace) -> int:
    from matchmaker.ledger.workflow import open_ledger
    from matchmaker.report.exports import export_partnership_lists

    try:
        ledger = open_ledger(args.round_dir, args.ledger)
        round_id = args.round if args.round is not None else ledger.latest_round_id()
        written = export_partnership_lists(round_id, Path(args.out), sep=args.sep, ledger=ledger, xlsx=args.xlsx)
    except ValueError as exc:  # the ledger's and the exporter's own refusals (LedgerError is one)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"round {round_id}: wrote {len(written)} match list(s) to {args.out}"
          + (" (CSV and .xlsx)" if args.xlsx else ""))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from matchmaker.report.html import write_report

    try:
        path = write_report(Path(args.out_dir), args.html, round_dir=args.round, title=args.title)
    except ValueError as exc:  # the output set does not fit its round (named by the message)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the round report to {path}")
    return 0


TIME_HELP = "wall-clock safety net, seconds > 0 (default: settings; unset: 8 x work limit + 30 s)"
WORK_HELP = ("deterministic solver budget in work units, about a second each on the reference machine (default: "
             "settings; 0: 45, or 3/4 of a time limit given); the same input, settings and seed give the same "
             "proposals on any machine, and from 45 units up more work never a worse total score")
SEED_HELP = f"solver seed, 0 to {MAX_SEED} (default: settings)"
PROVE_HELP = ("prove mode: after the usual work, search until the proposals are proven optimal, printing the best "
              "total, the bound and the nodes still open; no time limit unless --time-limit (or "
              "solver.time_limit_s) is given, which then stops the proof (default: solver.prove)")
LEDGER_HELP = "ledger URL (default: sqlite:///ROUND_DIR/ledger.sqlite, which git ignores)"


def _solve_limits(parser: argparse.ArgumentParser) -> None:
    """The solver's limits, as ``solve`` and ``round`` take them (checked again by the solve configuration)."""
    parser.add_argument("--time-limit", type=positive_float, default=None, help=TIME_HELP)
    parser.add_argument("--work-limit", type=nonnegative_float, default=None, help=WORK_HELP)
    parser.add_argument("--seed", type=seed_int, default=None, help=SEED_HELP)
    parser.add_argument("--prove", action="store_true", help=PROVE_HELP)
    parser.add_argument("--quiet", action="store_true")


RESOLVE_HELP = ("re-solve around the ledger's decisions: the whole round (Support Office), or with --partnership only "
                "what its decisions force; shows the pairs changed per partnership, then records")


def _resolve_options(rs: argparse.ArgumentParser) -> None:
    """The options of ``resolve`` (:func:`matchmaker.ledger.resolve_command.resolve_round`)."""
    rs.add_argument("--partnership", default=None, help="the deciding partnership: the others' pairs are kept")
    rs.add_argument("--out", default=None, help="output folder (default: out/resolved/<round>-round-<N>)")
    rs.add_argument("--ledger", default=None, help=LEDGER_HELP)
    rs.add_argument("--name", default=None, help="name of the recorded round (default: 'round N')")
    rs.add_argument("--dry-run", action="store_true", help="solve and show the changes, record nothing")
    _solve_limits(rs)


CTQ_HELP = "write Commitment to Quality drafts (.docx and .html) of the accepted or locked pairs"


def _ctq_options(q: argparse.ArgumentParser) -> None:
    """The options of ``ctq`` (:func:`matchmaker.building.ctq_command.ctq_command`)."""
    q.add_argument("--visitor", default=None, help="only the pair of this visitor (with --host)")
    q.add_argument("--host", default=None, help="only the pair of this host (with --visitor)")
    q.add_argument("--out", required=True, help="folder of the drafts (created if missing)")
    q.add_argument("--round", type=positive_int, default=None, help="round id in the ledger (default: the latest)")
    q.add_argument("--ledger", default=None, help=LEDGER_HELP)
    q.add_argument("--by", default=None, help="your name or e-mail: also records 'Commitment to Quality drafted'")
    q.add_argument("--force", action="store_true",
                   help="replace draft files that differ from the new drafts (people may have edited them)")


def build_parser() -> argparse.ArgumentParser:
    """The ``matchmaker`` parser; each sub-command's ``paths`` default names its path options and their kind."""
    p = argparse.ArgumentParser(prog="matchmaker", description="ClusterXchange batch matchmaker")
    sub = p.add_subparsers(dest="command", required=True)
    out = {"out": ("--out", "folder")}

    g = sub.add_parser("generate", help="write a realistic sample round directory")
    g.add_argument("--visitors", type=positive_int, required=True)
    g.add_argument("--hosts", type=positive_int, required=True)
    g.add_argument("--seed", type=seed_int, default=0)
    g.add_argument("--budget-share", type=positive_float, default=0.5,
                   help="share of visitors the partnerships' budgets can fund (default 0.5)")
    g.add_argument("--out", required=True, help="a new or empty folder")
    g.add_argument("--force", action="store_true",
                   help="write into a folder that is not empty: replace the round's files, leave the rest (a ledger, "
                        "results) as it is")
    g.set_defaults(func=_cmd_generate, paths=out)

    def round_cmd(name: str, help_: str, func: Callable, paths: dict | None = None,
                  aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help_, aliases=list(aliases))
        s.add_argument("round_dir", help="round directory (registrations.csv or .xlsx, partnerships.csv, ...)")
        s.add_argument("--settings", help="settings TOML overriding the round's settings.toml")
        s.set_defaults(func=func, paths={"settings": ("--settings", "input"), **(paths or {})})
        return s

    round_cmd("validate", "check every file and row of a round", _cmd_validate)
    c = round_cmd("check", "check a proposals file against every rule of the scheme", _cmd_check,
                  {"proposals": ("proposals file", "input")})
    c.add_argument("proposals")
    s = round_cmd("score", "write the catalogue of eligible pairs with scores", _cmd_score,
                  {"out": ("--out", "file")})
    s.add_argument("--out", required=True, help="catalogue file (.csv) in an existing folder")
    r = round_cmd("rank", "best counterparts of one organisation", _cmd_rank)
    r.add_argument("--org", required=True, help="org_id")
    r.add_argument("--role", choices=("visitor", "host"), default=None,
                   help="role of --org when it is registered in both")
    r.add_argument("--top", type=positive_int, default=10)
    v = round_cmd("solve", "solve the round around the ledger's decisions (the first time: none) and record it in "
                  "the ledger; write proposals.csv, unmatched.csv, summary.json ('round' is the same command)",
                  _cmd_solve, {**out, "ledger": ("--ledger", "ledger")}, aliases=("round",))
    v.add_argument("--out", required=True)
    v.add_argument("--ledger", default=None, help=LEDGER_HELP)
    v.add_argument("--name", default=None, help="name of the recorded round (default: 'round N')")
    v.add_argument("--no-record", action="store_true",
                   help="only write the output files: the ledger is neither read nor written (a trial run)")
    _solve_limits(v)
    d = round_cmd("decide", "record a decision on a pair in the ledger, as the review notebook does", _cmd_decide,
                  {"ledger": ("--ledger", "ledger")})
    d.add_argument("--visitor", required=True, help="the visitor's org_id")
    d.add_argument("--host", required=True, help="the host's org_id")
    d.add_argument("--decision", required=True, choices=("accept", "reject", "lock", "forbid", "reopen", "comment"),
                   help="forbid is the ledger's reject (never propose the pair again); reopen withdraws a decision")
    d.add_argument("--by", required=True, help="who decides (a name or an e-mail address)")
    d.add_argument("--comment", default="", help="a note kept with the decision")
    d.add_argument("--round", type=positive_int, default=None, help="round id in the ledger (default: the latest)")
    d.add_argument("--ledger", default=None, help=LEDGER_HELP)
    _resolve_options(round_cmd("resolve", RESOLVE_HELP, _cmd_resolve, {**out, "ledger": ("--ledger", "ledger")}))
    exchange_commands(round_cmd, _cmd_exchange, positive_float, seed_int, LEDGER_HELP)
    _ctq_options(round_cmd("ctq", CTQ_HELP, _cmd_ctq, {**out, "ledger": ("--ledger", "ledger")}))
    x = sub.add_parser("export", help="write injection-safe match lists (CSV per partnership and for the round)")
    x.add_argument("round_dir", help="round directory (its ledger.sqlite is used unless --ledger is given)")
    x.add_argument("--round", type=positive_int, default=None, help="round id in the ledger (default: the latest)")
    x.add_argument("--out", required=True, help="output folder")
    x.add_argument("--sep", type=separator, default=",", metavar=SEP_METAVAR, help=SEP_HELP)
    x.add_argument("--xlsx", action="store_true", help="also write .xlsx files")
    x.add_argument("--ledger", default=None, help=LEDGER_HELP)
    x.set_defaults(func=_cmd_export, paths={**out, "ledger": ("--ledger", "ledger")})
    rp = sub.add_parser("report", help="write a self-contained HTML round report (plots and tables)")
    rp.add_argument("out_dir", help="the solved round's output folder (proposals.csv, unmatched.csv, summary.json)")
    rp.add_argument("--round", default=None,
                    help="the round's data folder (default: the folder named in summary.json)")
    rp.add_argument("--html", default=None, help="report file (default: OUT_DIR/round_report.html)")
    rp.add_argument("--title", default=None, help="heading of the report")
    rp.set_defaults(func=_cmd_report, paths={"html": ("--html", "file in new folders")})
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``matchmaker ARGV``; return the exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)  # bad usage: argparse names the option and exits with 2
    try:
        check_paths(args)
        rc = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at exit
        return rc
    except BrokenPipeError:  # `matchmaker validate R | head`: the reader has gone (Python docs recipe)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        say("matchmaker: interrupted")
        return 130
    except Exception as exc:
        rc = explain(exc, args, argv)
        if rc is None:
            from matchmaker import __version__

            exc.add_note(f"This is a bug in matchmaker {__version__}, not a problem of your round: please report "
                         f"it to {REPORT_TO} with this traceback and the command line: "
                         f"matchmaker {shlex.join(argv)}")
            raise
        return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
