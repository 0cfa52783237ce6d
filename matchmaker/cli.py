"""Command line: ``matchmaker generate | validate | check | score | rank | solve | round | export | report``.

Each sub-command is a thin wrapper: it parses arguments, calls one package function and
prints its result. Heavy imports are done inside the commands so ``--help`` is quick.
Exit codes: 0 success, 1 the input or proposals break a rule, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _print_problems(exc, closing: str) -> int:
    """Print every problem of a RoundDataError, then ``closing``, to stderr; exit code 1."""
    for p in exc.problems:
        print(p, file=sys.stderr)
    print(closing, file=sys.stderr)
    return 1


def _cmd_generate(args) -> int:
    from matchmaker.generator.generate import generate_round

    generate_round(
        Path(args.out), n_visitors=args.visitors, n_hosts=args.hosts, seed=args.seed,
        budget_share=args.budget_share,
    )
    print(f"wrote a round of {args.visitors} visitors and {args.hosts} hosts to {args.out}")
    return 0


def _load(args):
    from matchmaker.common.errors import RoundDataError, SettingsError
    from matchmaker.inputs.loading import load_round

    try:
        return load_round(Path(args.round_dir), settings_file=getattr(args, "settings", None))
    except RoundDataError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        n = sum(p.severity == "error" for p in exc.problems)
        print(f"{args.round_dir}: {n} error(s); the round is not usable", file=sys.stderr)
        return None
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return None


def _cmd_validate(args) -> int:
    from matchmaker.constraints import registration_refusals

    rnd = _load(args)
    if rnd is None:
        return 1
    for p in rnd.warnings:
        print(p)
    refused = registration_refusals(rnd)
    print(f"{args.round_dir}: usable round: {rnd.n_visitors} visitors, {rnd.n_hosts} hosts, "
          f"{len(rnd.partnerships)} partnerships, {len(rnd.decisions)} decisions")
    if len(refused):
        print(f"{len(refused)} registration(s) cannot take part in any exchange:")
        print(refused.to_string(index=False))
    return 0


def _cmd_check(args) -> int:
    from matchmaker.proposals.validator import check_proposals_file

    rnd = _load(args)
    if rnd is None:
        return 1
    violations = check_proposals_file(rnd, Path(args.proposals))
    for v in violations:
        print(v)
    if violations:
        print(f"{args.proposals}: {len(violations)} rule(s) broken", file=sys.stderr)
        return 1
    print(f"{args.proposals}: valid: every rule of the scheme holds")
    return 0


def _cmd_score(args) -> int:
    from matchmaker.pairs.catalogue import build_catalogue, write_catalogue

    rnd = _load(args)
    if rnd is None:
        return 1
    cat = build_catalogue(rnd)
    write_catalogue(rnd, cat, Path(args.out))
    print(cat.describe())
    return 0


def _cmd_rank(args) -> int:
    from matchmaker.pairs.catalogue import ranked_counterparts

    rnd = _load(args)
    if rnd is None:
        return 1
    try:
        table = ranked_counterparts(rnd, args.org, role=args.role, top=args.top)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(table)
    return 0


TIME_HELP = "seconds (default: settings)"
WORK_HELP = ("deterministic solver budget in work units, about a second each on the reference machine "
             "(default: settings; 0: three quarters of the time limit); within it, the same input, settings "
             "and seed give the same proposals")
SEED_HELP = "solver seed (default: settings)"


def _solve_limits(parser: argparse.ArgumentParser) -> None:
    """The solver's limits, as ``solve`` and ``round`` take them (checked by the solve configuration)."""
    parser.add_argument("--time-limit", type=float, default=None, help=TIME_HELP)
    parser.add_argument("--work-limit", type=float, default=None, help=WORK_HELP)
    parser.add_argument("--seed", type=int, default=None, help=SEED_HELP)


def _cmd_solve(args) -> int:
    from matchmaker.common.errors import SettingsError
    from matchmaker.run import run_round

    rnd = _load(args)
    if rnd is None:
        return 1
    try:
        return run_round(rnd, Path(args.out), time_limit=args.time_limit, seed=args.seed, verbose=not args.quiet,
                         work_limit=args.work_limit)
    except SettingsError as exc:  # a limit out of range, named (matchmaker.solve.config.SolveConfig)
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _cmd_round(args) -> int:
    from matchmaker.common.errors import RoundDataError, SettingsError
    from matchmaker.ledger.carry_over import run_next_round
    from matchmaker.ledger.store import LedgerError

    try:
        result = run_next_round(Path(args.round_dir), Path(args.out), ledger_url=args.ledger, name=args.name,
                                time_limit=args.time_limit, seed=args.seed, settings_file=args.settings,
                                work_limit=args.work_limit, verbose=not args.quiet)
    except RoundDataError as exc:
        return _print_problems(exc, f"{args.round_dir}: the round cannot be run (see the problems above)")
    except (SettingsError, LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(result.describe())
    return result.exit_code


def _cmd_export(args) -> int:
    from matchmaker.ledger.store import Ledger, LedgerError
    from matchmaker.report.exports import export_partnership_lists

    try:
        ledger = Ledger(args.ledger) if args.ledger else Ledger.for_round_dir(args.round_dir)
        round_id = args.round if args.round is not None else ledger.latest_round_id()
        written = export_partnership_lists(round_id, Path(args.out), sep=args.sep, ledger=ledger, xlsx=args.xlsx)
    except (LedgerError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"round {round_id}: wrote {len(written)} match list(s) to {args.out}"
          + (" (CSV and .xlsx)" if args.xlsx else ""))
    return 0


def _cmd_report(args) -> int:
    from matchmaker.common.errors import RoundDataError
    from matchmaker.report.html import write_report

    try:
        path = write_report(Path(args.out_dir), args.html, round_dir=args.round, title=args.title)
    except RoundDataError as exc:
        return _print_problems(exc, f"{args.round}: the round's files are not usable (see the problems above)")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the round report to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="matchmaker", description="ClusterXchange batch matchmaker")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a realistic sample round directory")
    g.add_argument("--visitors", type=int, required=True)
    g.add_argument("--hosts", type=int, required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--budget-share", type=float, default=0.5,
                   help="share of visitors the partnerships' budgets can fund (default 0.5)")
    g.add_argument("--out", required=True)
    g.set_defaults(func=_cmd_generate)

    def round_cmd(name, help_, func):
        s = sub.add_parser(name, help=help_)
        s.add_argument("round_dir", help="round directory (registrations.csv or .xlsx, partnerships.csv, ...)")
        s.add_argument("--settings", help="settings TOML overriding the round's settings.toml")
        s.set_defaults(func=func)
        return s

    round_cmd("validate", "check every file and row of a round", _cmd_validate)
    c = round_cmd("check", "check a proposals file against every rule of the scheme", _cmd_check)
    c.add_argument("proposals")
    s = round_cmd("score", "write the catalogue of eligible pairs with scores", _cmd_score)
    s.add_argument("--out", required=True)
    r = round_cmd("rank", "best counterparts of one organisation", _cmd_rank)
    r.add_argument("--org", required=True, help="org_id")
    r.add_argument("--role", choices=("visitor", "host"), default=None,
                   help="role of --org when it is registered in both")
    r.add_argument("--top", type=int, default=10)
    v = round_cmd("solve", "solve the round and write proposals.csv, unmatched.csv, summary.json", _cmd_solve)
    v.add_argument("--out", required=True)
    _solve_limits(v)
    v.add_argument("--quiet", action="store_true")
    n = round_cmd("round", "solve the next round around the ledger's decisions and record it in the ledger", _cmd_round)
    n.add_argument("--out", required=True)
    n.add_argument("--ledger", default=None, help="ledger URL (default: sqlite:///ROUND_DIR/ledger.sqlite)")
    n.add_argument("--name", default=None, help="name of the recorded round (default: 'round N')")
    _solve_limits(n)
    n.add_argument("--quiet", action="store_true")
    x = sub.add_parser("export", help="write injection-safe match lists (CSV per partnership and for the round)")
    x.add_argument("round_dir", help="round directory (its ledger.sqlite is used unless --ledger is given)")
    x.add_argument("--round", type=int, default=None, help="round id in the ledger (default: the latest)")
    x.add_argument("--out", required=True, help="output folder")
    x.add_argument("--sep", choices=(",", ";"), default=",", help="separator (';' for continental Excel)")
    x.add_argument("--xlsx", action="store_true", help="also write .xlsx files")
    x.add_argument("--ledger", default=None, help="ledger URL (default: sqlite:///ROUND_DIR/ledger.sqlite)")
    x.set_defaults(func=_cmd_export)
    rp = sub.add_parser("report", help="write a self-contained HTML round report (plots and tables)")
    rp.add_argument("out_dir", help="the solved round's output folder (proposals.csv, unmatched.csv, summary.json)")
    rp.add_argument("--round", default=None,
                    help="the round's data folder (default: the folder named in summary.json)")
    rp.add_argument("--html", default=None, help="report file (default: OUT_DIR/round_report.html)")
    rp.add_argument("--title", default=None, help="heading of the report")
    rp.set_defaults(func=_cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
