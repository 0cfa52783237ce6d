#!/usr/bin/env bash
# Set everything up and run the whole test-suite, as CI does (.ci/run calls this).
# Installs what the tests need on a fresh machine: the virtual environment, and with
# root rights Debian's chromium (browser test) and postgresql (ledger on PostgreSQL),
# started on loopback for the run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing ${need_apt[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test: not root, cannot install ${need_apt[*]}; the tests needing them will say so" >&2
  fi
fi

if command -v chromium >/dev/null 2>&1; then
  export MATCHMAKER_CHROMIUM="$(command -v chromium)"
fi
if [ -x scripts/start_postgres.sh ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pg_url=$(bash scripts/start_postgres.sh)
  export MATCHMAKER_TEST_PG_URL="$pg_url"
  trap 'bash scripts/start_postgres.sh --stop >/dev/null 2>&1 || true' EXIT
fi
if [ "${CI:-}" = "true" ]; then
  # In CI nothing may be skipped for want of a server or a browser.
  export MATCHMAKER_REQUIRE_PG=1 MATCHMAKER_REQUIRE_BROWSER=1
fi

echo "== lint (ruff, configured in pyproject.toml)"
.venv/bin/ruff check .

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "test: pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit $rc
