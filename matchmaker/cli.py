"""Command line: ``matchmaker generate | validate | check | score | rank | solve``.

Each sub-command is a thin wrapper: it parses arguments, calls one package function and
prints its result. Heavy imports are done inside the commands so ``--help`` is quick.
Exit codes: 0 success, 1 the input or proposals break a rule, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_generate(args) -> int:
    from .generator import generate_round

    generate_round(
        Path(args.out), n_visitors=args.visitors, n_hosts=args.hosts, seed=args.seed,
        budget_share=args.budget_share,
    )
    print(f"wrote a round of {args.visitors} visitors and {args.hosts} hosts to {args.out}")
    return 0


def _load(args):
    from .errors import RoundDataError, SettingsError
    from .loading import load_round

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
    from .constraints import registration_refusals

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
    from .validator import check_proposals_file

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
    from .catalogue import build_catalogue, write_catalogue

    rnd = _load(args)
    if rnd is None:
        return 1
    cat = build_catalogue(rnd)
    write_catalogue(rnd, cat, Path(args.out))
    print(cat.describe())
    return 0


def _cmd_rank(args) -> int:
    from .catalogue import ranked_counterparts

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


def _cmd_solve(args) -> int:
    from .run import run_round

    rnd = _load(args)
    if rnd is None:
        return 1
    return run_round(rnd, Path(args.out), time_limit=args.time_limit, seed=args.seed, verbose=not args.quiet)


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
    v.add_argument("--time-limit", type=float, default=None, help="seconds (default: settings)")
    v.add_argument("--seed", type=int, default=None, help="solver seed (default: settings)")
    v.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
