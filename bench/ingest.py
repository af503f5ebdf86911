"""Benchmark `shelfwise ingest` against the plain pandas path on a Brazilian sales export.

    python bench/ingest.py [--rows 10000000] [--keep] [--sizes 1000000,3000000] [--repeat 1] [--profile]

For each size (the `--sizes` ones, to show how memory scales, and `--rows`, the headline figure) the script
generates `bench/data/vendas_<rows>.csv` with DuckDB (one vectorised COPY), then runs, each in a fresh
subprocess:

1. shelfwise: `shelfwise ingest FILE -w <fresh workspace> --table sales` through the real CLI;
2. pandas: `pd.read_csv(path, sep=';', decimal=',', thousands='.', dtype=..., date_format=...)` then
   `duckdb.connect(file).execute("CREATE TABLE sales AS SELECT * FROM df")`.

Both warehouses are then checked for the same row count and the same totals. Figures go to stdout and to
`bench/results/ingest.json`. `--profile` also loads the headline file with every SQL statement of the load
timed (the connection is wrapped; nothing in src/ is changed) and reports where the time goes.

Peak RSS is the child's `ru_maxrss` from `wait4`. Linux carries the parent's high-water mark into a child at
exec (fork/vfork copy or borrow the parent's address space), so the parent stays small: it never imports
DuckDB or pandas; generation, checks and the profile run in their own subprocesses (`_worker`), and a child
peak not above the parent's own is flagged as unreliable.

The file: `;` delimiter, Portuguese headers, dd/mm/yyyy dates, decimal comma with `.` thousands in large
values (`1.234,56`, `1.500`), 13-digit EANs (a third of them with leading zeros), stores `001`..`050`,
S/N promotion flags, and (date, store, product) unique over 730 days x 50 stores x N products, so nothing
can be saved by aggregating.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
RESULTS = BENCH / "results" / "ingest.json"

DAYS = 730
STORES = 50
FIRST_DAY = "2024-01-01"
HEADER = ("Data", "Loja", "Código Produto", "Quantidade", "Valor", "Preço", "Promoção")

TARGET_ROWS_PER_SECOND = 1_000_000
TARGET_PEAK_MB = 2048
# "Not growing with file size": from the smallest to the largest file (10x the rows) the peak RSS may rise by
# at most this fraction; a streaming load is dominated by the interpreter, imports and DuckDB's fixed buffers.
FLAT_MEMORY_TOLERANCE = 0.25

PANDAS_SCRIPT = r"""
import json, sys, time
start = time.perf_counter()
import duckdb
import pandas as pd
imported = time.perf_counter()
path, database = sys.argv[1], sys.argv[2]
df = pd.read_csv(
    path, sep=";", decimal=",", thousands=".", dtype={"Loja": str, "Código Produto": str},
    parse_dates=["Data"], date_format="%d/%m/%Y", true_values=["S"], false_values=["N"],
)
read = time.perf_counter()
con = duckdb.connect(database)
con.execute("CREATE TABLE sales AS SELECT * FROM df")
con.close()
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "read_csv_s": read - imported, "duckdb_insert_s": done - read,
                  "dtypes": {k: str(v) for k, v in df.dtypes.items()}}))
"""


# --------------------------------------------------------------------------------------------- worker side
# Everything that imports DuckDB or shelfwise runs here, in a subprocess of the (small) parent.


def generate(path: Path, rows: int) -> float:
    """Write the sales export with one DuckDB COPY; returns the seconds it took."""
    import duckdb

    products = math.ceil(rows / (DAYS * STORES))
    per_day = STORES * products
    # i -> (day, store, product) in export order (by date, then store, then product): keys are unique.
    # Pseudo-random but deterministic figures come from hash(i); per-product traits from hash(p).
    sql = f"""
    COPY (
      WITH base AS (
        SELECT i, i // {per_day} AS d, (i // {products}) % {STORES} AS s, i % {products} AS p,
               hash(i) AS h, hash(i % {products} + 7919) AS hp
        FROM range({rows}) t(i)
      ), figures AS (
        SELECT *,
          -- every 10th product is sold by weight (kg, 3 decimals); else units, rarely a bulk sale of thousands
          CASE WHEN p % 10 = 0 THEN (50 + h % 4950) / 1000.0
               WHEN h % 997 = 0 THEN 1000 + h % 4000
               ELSE 1 + h % 24 END AS qty,
          -- price in cents: most items R$ 1,99..R$ 79,99; every 17th product is expensive (up to R$ 4.999,00)
          CASE WHEN p % 17 = 0 THEN 10000 + hp % 490000 ELSE 199 + hp % 7800 END AS list_cents,
          (h // 7) % 7 = 0 AS promo
        FROM base
      ), priced AS (
        SELECT *, CASE WHEN promo THEN round(list_cents * 0.85) ELSE list_cents END AS cents FROM figures
      )
      SELECT
        strftime(DATE '{FIRST_DAY}' + CAST(d AS INTEGER), '%d/%m/%Y') AS "{HEADER[0]}",
        lpad(CAST(s + 1 AS VARCHAR), 3, '0') AS "{HEADER[1]}",
        CASE WHEN p % 3 = 0 THEN lpad(CAST(10000000 + (p * 7919) % 89999999 AS VARCHAR), 13, '0')
             ELSE CAST(7891000000000 + p * 104729 AS VARCHAR) END AS "{HEADER[2]}",
        CASE WHEN p % 10 = 0 THEN replace(printf('%.3f', qty), '.', ',')
             ELSE translate(format('{{:,}}', CAST(qty AS BIGINT)), ',', '.') END AS "{HEADER[3]}",
        translate(format('{{:,.2f}}', round(cents * qty) / 100), ',.', '.,') AS "{HEADER[4]}",
        translate(format('{{:,.2f}}', cents / 100), ',.', '.,') AS "{HEADER[5]}",
        CASE WHEN promo THEN 'S' ELSE 'N' END AS "{HEADER[6]}"
      FROM priced ORDER BY i
    ) TO '{path}' (FORMAT csv, DELIMITER ';', HEADER true)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(sql)
    con.close()
    return time.perf_counter() - started


def totals(database: Path, columns: list[str], quarantine: bool) -> dict[str, object]:
    """Row count and a few totals of `sales` (day, units, revenue, product columns), to compare contenders."""
    import duckdb

    day, units, revenue, product = columns
    with duckdb.connect(str(database), read_only=True) as con:
        rows, units_sum, revenue_sum, first, last, products = con.execute(
            f'SELECT count(*), round(sum("{units}"), 2), round(sum("{revenue}"), 2), CAST(min("{day}") AS DATE), '
            f'CAST(max("{day}") AS DATE), count(DISTINCT "{product}") FROM sales'
        ).fetchone()
        out = {"rows": rows, "sum_units": float(units_sum), "sum_revenue": float(revenue_sum),
               "first_day": str(first), "last_day": str(last), "distinct_products": products}
        if quarantine:
            out["quarantined"] = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    return out


class _TimedConnection:
    """A DuckDB connection that records the wall time of every statement it runs."""

    def __init__(self, con: object, log: list[tuple[float, str]]) -> None:
        self._con = con
        self._log = log

    def _timed(self, method: str, sql: str, *args: object) -> object:
        started = time.perf_counter()
        out = getattr(self._con, method)(sql, *args)
        self._log.append((time.perf_counter() - started, " ".join(sql.split())))
        return out

    def execute(self, sql: str, *args: object) -> object:
        return self._timed("execute", sql, *args)

    def executemany(self, sql: str, *args: object) -> object:
        return self._timed("executemany", sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def profile(csv: Path, workspace: Path) -> dict[str, object]:
    """Load `csv` in-process with every SQL statement timed (by wrapping the warehouse's connection)."""
    import duckdb

    from shelfwise.ingest import ingest_files
    from shelfwise.warehouse import core
    from shelfwise.workspace import init_workspace

    log: list[tuple[float, str]] = []
    real_connect = duckdb.connect

    class _Patched:
        def __getattr__(self, name: str) -> object:
            return getattr(duckdb, name)

        @staticmethod
        def connect(*args: object, **kwargs: object) -> _TimedConnection:
            return _TimedConnection(real_connect(*args, **kwargs), log)

    shutil.rmtree(workspace, ignore_errors=True)
    ws = init_workspace(workspace)
    core.duckdb = _Patched()  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        outcome = ingest_files(ws, [csv], table="sales")[0]
        total = time.perf_counter() - started
    finally:
        core.duckdb = duckdb
        shutil.rmtree(workspace, ignore_errors=True)
    return {
        "file": csv.name,
        "ingest_files_s": total,
        "sql_s": sum(s for s, _ in log),
        "statements": len(log),
        "outcome": {k: str(v) for k, v in vars(outcome).items()},
        "slowest": [{"seconds": s, "sql": q[:4000]} for s, q in sorted(log, key=lambda item: -item[0])[:15]],
    }


def worker(argv: list[str]) -> None:
    """`_worker generate PATH ROWS` | `_worker totals DB day,units,revenue,product [q]` | `_worker profile CSV WS`."""
    command, *rest = argv
    if command == "generate":
        out: object = generate(Path(rest[0]), int(rest[1]))
    elif command == "totals":
        out = totals(Path(rest[0]), rest[1].split(","), quarantine=len(rest) > 2)
    elif command == "profile":
        out = profile(Path(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(f"unknown worker command {command}")
    print(json.dumps(out, ensure_ascii=False))


# --------------------------------------------------------------------------------------------- parent side


def run_worker(*args: str) -> object:
    """Run a worker command in a subprocess; its JSON answer."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_worker", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def own_peak_mb() -> float:
    """This (parent) process's peak RSS."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(command: list[str], log: Path) -> dict[str, object]:
    """Run a command in a fresh process: wall seconds, its own peak RSS and CPU time, exit code, output."""
    load_before = os.getloadavg()[0]
    parent_peak = own_peak_mb()
    with log.with_suffix(".out").open("wb") as out, log.with_suffix(".err").open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # kilobytes on Linux
    return {
        "wall_s": wall,
        "peak_rss_mb": peak,
        "peak_reliable": peak > parent_peak,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit_code": process.returncode,
        "load_average_before": load_before,
        "stdout": log.with_suffix(".out").read_text(errors="replace"),
        "stderr": log.with_suffix(".err").read_text(errors="replace"),
    }


def shelfwise_command() -> list[str]:
    """The installed console script, run directly (not through a pyenv shim that would add a process)."""
    beside = Path(sys.executable).parent / "shelfwise"
    return [str(beside)] if beside.exists() else [shutil.which("shelfwise") or "shelfwise"]


def run_shelfwise(csv: Path, workspace: Path) -> dict[str, object]:
    """`shelfwise init` (not timed), then the timed `shelfwise ingest`, then what the warehouse holds."""
    shutil.rmtree(workspace, ignore_errors=True)
    subprocess.run([*shelfwise_command(), "init", str(workspace)], check=True, capture_output=True)
    result = measure([*shelfwise_command(), "ingest", str(csv), "-w", str(workspace), "--table", "sales"],
                     workspace.parent / f"{workspace.name}.log")
    if result["exit_code"] == 0:
        warehouse = next(workspace.glob("*.duckdb"))
        result["table"] = run_worker("totals", str(warehouse), "date,units,revenue,product_id", "q")
        result["db_bytes"] = warehouse.stat().st_size
    return result


def run_pandas(csv: Path, database: Path) -> dict[str, object]:
    """The plain pandas script in a fresh interpreter, then what its DuckDB file holds."""
    database.unlink(missing_ok=True)
    result = measure([sys.executable, "-c", PANDAS_SCRIPT, str(csv), str(database)],
                     database.parent / f"{database.stem}.log")
    if result["exit_code"] == 0:
        result["phases"] = json.loads(result["stdout"].strip().splitlines()[-1])
        result["table"] = run_worker("totals", str(database), ",".join((HEADER[0], HEADER[3], HEADER[4], HEADER[2])))
        result["db_bytes"] = database.stat().st_size
    return result


def best_of(runs: list[dict[str, object]], rows: int) -> dict[str, object]:
    """The fastest of repeated runs (all walls listed), as it goes to the JSON file."""
    ok = [r for r in runs if r["exit_code"] == 0] or runs
    best = min(ok, key=lambda r: r["wall_s"])
    keep = {k: best[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "peak_reliable", "exit_code",
                                 "load_average_before")}
    keep["rows_per_s"] = rows / best["wall_s"] if best["exit_code"] == 0 else None
    keep["rows_per_cpu_s"] = rows / best["cpu_s"] if best["exit_code"] == 0 and best["cpu_s"] else None
    keep["all_wall_s"] = [r["wall_s"] for r in runs]
    keep["all_peak_rss_mb"] = [r["peak_rss_mb"] for r in runs]
    for k in ("table", "phases", "db_bytes"):
        if k in best:
            keep[k] = best[k]
    if best["exit_code"] != 0:
        keep["stderr_tail"] = best["stderr"][-2000:]
    return keep


def bench_size(rows: int, keep: bool, repeat: int) -> dict[str, object]:
    """Generate (or reuse, with --keep) the file of `rows` rows and run both contenders on it."""
    csv = DATA / f"vendas_{rows}.csv"
    generated_s = None
    if not (keep and csv.exists()):
        print(f"generating {csv.name} ...", flush=True)
        generated_s = run_worker("generate", str(csv), str(rows))
    shelf_runs, pandas_runs = [], []
    for attempt in range(repeat):
        print(f"{rows:>12,} rows: shelfwise ingest ({attempt + 1}/{repeat}) ...", flush=True)
        shelf_runs.append(run_shelfwise(csv, DATA / f"ws_shelfwise_{rows}"))
        print(f"{rows:>12,} rows: pandas ({attempt + 1}/{repeat}) ...", flush=True)
        pandas_runs.append(run_pandas(csv, DATA / f"pandas_{rows}.duckdb"))
    shelf, pandas_run = best_of(shelf_runs, rows), best_of(pandas_runs, rows)
    entry: dict[str, object] = {
        "rows": rows,
        "file": str(csv.relative_to(BENCH.parent)),
        "file_bytes": csv.stat().st_size,
        "generate_s": generated_s,
        "shelfwise": shelf,
        "pandas": pandas_run,
    }
    both_ok = shelf["exit_code"] == 0 and pandas_run["exit_code"] == 0
    entry["pandas_over_shelfwise"] = pandas_run["wall_s"] / shelf["wall_s"] if both_ok else None
    if both_ok:
        a, b = shelf["table"], pandas_run["table"]
        entry["same_row_count"] = a["rows"] == b["rows"] == rows
        entry["same_totals"] = all(
            math.isclose(a[k], b[k], rel_tol=1e-9) for k in ("sum_units", "sum_revenue")
        ) and all(a[k] == b[k] for k in ("first_day", "last_day", "distinct_products"))
    if not keep:
        shutil.rmtree(DATA / f"ws_shelfwise_{rows}", ignore_errors=True)
        for leftover in (f"pandas_{rows}.duckdb", f"pandas_{rows}.out", f"pandas_{rows}.err",
                         f"ws_shelfwise_{rows}.out", f"ws_shelfwise_{rows}.err"):
            (DATA / leftover).unlink(missing_ok=True)
    return entry


def startup() -> dict[str, float]:
    """Fixed cost of each contender before it reads a byte: interpreter start and imports."""
    out = {}
    for name, command in (("shelfwise_version_s", [*shelfwise_command(), "--version"]),
                          ("python_import_pandas_duckdb_s", [sys.executable, "-c", "import pandas, duckdb"])):
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
        out[name] = min(walls)
    return out


def machine() -> dict[str, object]:
    """What the figures were measured on, and which source they measured."""
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False)
        return done.stdout.rstrip()

    return {
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "pandas": version("pandas"),
        "shelfwise": version("shelfwise"),
        "platform": platform.platform(),
        "git_head": git("rev-parse", "--short", "HEAD").strip(),
        "src_uncommitted_changes": git("status", "--porcelain", "--", "src").splitlines(),
    }


def targets(runs: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Pass/fail of each target of the issue, judged on the largest file (and on all sizes for memory)."""
    main = runs[-1]
    shelf = main["shelfwise"]
    peaks = [(r["rows"], r["shelfwise"]["peak_rss_mb"]) for r in runs]
    growth = peaks[-1][1] / peaks[0][1] - 1 if len(peaks) > 1 else None
    reliable = all(r["shelfwise"]["peak_reliable"] for r in runs)
    return {
        "rows_per_second_at_least_1M": {
            "value": shelf["rows_per_s"], "target": TARGET_ROWS_PER_SECOND,
            "pass": bool(shelf["rows_per_s"] and shelf["rows_per_s"] >= TARGET_ROWS_PER_SECOND),
        },
        "peak_memory_under_2GB": {
            "value_mb": max(p for _, p in peaks), "target_mb": TARGET_PEAK_MB,
            "pass": reliable and max(p for _, p in peaks) < TARGET_PEAK_MB,
        },
        "peak_memory_flat_with_file_size": {
            "peaks_mb_by_rows": {str(r): p for r, p in peaks}, "growth_smallest_to_largest": growth,
            "tolerance": FLAT_MEMORY_TOLERANCE,
            "pass": reliable and growth is not None and growth <= FLAT_MEMORY_TOLERANCE,
        },
        "faster_than_pandas": {
            "pandas_over_shelfwise": main["pandas_over_shelfwise"], "target": "> 1",
            "pass": bool(main["pandas_over_shelfwise"] and main["pandas_over_shelfwise"] > 1),
        },
        "same_rows_as_pandas": {"pass": all(r.get("same_row_count") and r.get("same_totals") for r in runs)},
    }


def print_table(runs: list[dict[str, object]], checks: dict[str, dict[str, object]]) -> None:
    """The figures as a readable table."""
    print()
    print(f"{'rows':>12} {'file MB':>8} {'contender':<10} {'wall s':>8} {'rows/s':>12} {'peak MB':>8} "
          f"{'cpu s':>7} {'load':>5}  check")
    for run in runs:
        for name in ("shelfwise", "pandas"):
            c = run[name]
            rate = f"{c['rows_per_s']:,.0f}" if c["rows_per_s"] else "failed"
            check = f"rows={c['table']['rows']:,}" if "table" in c else f"exit {c['exit_code']}"
            flag = "" if c["peak_reliable"] else "?"
            print(f"{run['rows']:>12,} {run['file_bytes'] / 2**20:>8.0f} {name:<10} {c['wall_s']:>8.2f} "
                  f"{rate:>12} {c['peak_rss_mb']:>7.0f}{flag or ' '} {c['cpu_s']:>7.1f} "
                  f"{c['load_average_before']:>5.1f}  {check}")
        ratio = run["pandas_over_shelfwise"]
        if ratio:
            print(f"{'':>22} pandas/shelfwise time = {ratio:.2f}x; same rows: {run.get('same_row_count')}; "
                  f"same totals: {run.get('same_totals')}")
    print()
    for name, check in checks.items():
        shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in check.items() if k != "pass"}
        print(f"  [{'PASS' if check['pass'] else 'FAIL'}] {name}: {shown}")


def print_profile(found: dict[str, object]) -> None:
    """The slowest statements of the profiled load."""
    print(f"\nprofile of one in-process load of {found['file']}: {found['ingest_files_s']:.2f} s in ingest_files, "
          f"{found['sql_s']:.2f} s in {found['statements']} SQL statements; slowest:")
    for item in found["slowest"][:8]:
        print(f"  {item['seconds']:7.2f} s  {item['sql'][:150]}")


def main() -> None:
    if sys.argv[1:2] == ["_worker"]:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the headline file")
    parser.add_argument("--sizes", default="1000000,3000000",
                        help="smaller sizes also measured, to see how memory scales (comma separated)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender and size; the fastest is kept")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) generated files and warehouses")
    parser.add_argument("--profile", action="store_true", help="also time every SQL statement of one load")
    args = parser.parse_args()

    sizes = sorted({int(s) for s in args.sizes.split(",") if s and int(s) < args.rows} | {args.rows})
    DATA.mkdir(parents=True, exist_ok=True)
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; figures will be noisy")
    overheads = startup()
    runs = []
    found = None
    try:
        for rows in sizes:
            runs.append(bench_size(rows, args.keep, args.repeat))
        if args.profile:
            print("profiling ...", flush=True)
            found = run_worker("profile", str(DATA / f"vendas_{args.rows}.csv"), str(DATA / "ws_profile"))
    finally:
        if not args.keep:
            for rows in sizes:
                (DATA / f"vendas_{rows}.csv").unlink(missing_ok=True)
    checks = targets(runs)
    report = {
        "command": "python bench/ingest.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "method": "each contender in a fresh subprocess, fastest of --repeat runs; wall time includes interpreter "
                  "start and imports; peak RSS is that process's ru_maxrss from wait4; the CSV is in the page "
                  "cache (just written); load_average_before shows whether other work shared the cores",
        "parent_peak_rss_mb": own_peak_mb(),
        "startup": overheads,
        "rows": args.rows,
        "file_bytes": runs[-1]["file_bytes"],
        "pandas_over_shelfwise": runs[-1]["pandas_over_shelfwise"],
        "runs": runs,
        "targets": checks,
    }
    if found is not None:
        report["profile"] = found
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(runs, checks)
    if found is not None:
        print_profile(found)
    print(f"\nstartup: {', '.join(f'{k} {v:.2f}' for k, v in overheads.items())}")
    print(f"written {RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
