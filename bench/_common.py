"""Shared setup for the benchmark scripts: a sandbox server process, floors, printed tables.

Every script talks only to 127.0.0.1 (a sandbox it starts) and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx

import warehouse.schema
from sandbox import BASE_PATH, DEFAULT_API_KEY
from stoq import StoqClient

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Scratch files (DuckDB files, generated records, profiles); BENCH_OUT moves them (the smoke
# tests point it at a temporary folder so they never share files with a run in progress).
OUT = Path(os.environ.get("BENCH_OUT") or BENCH / "out")
API_KEY = DEFAULT_API_KEY


class SandboxProcess:
    """`bench/_server.py` in a child process: the emulator served over loopback.

    Control goes through the sandbox's own `/_sandbox/` surface (log, mutate, reset), which is
    the same code as `shop.mutate(...)` / `shop.log` in-process.
    """

    def __init__(
        self,
        *,
        mature_days: float | None = None,
        open_fraction: float | None = None,
        max_seconds: float = 1800.0,
        start_timeout: float = 600.0,
        shops: int | None = None,
        **config: Any,
    ) -> None:
        cmd = [sys.executable, str(BENCH / "_server.py"), json.dumps(config)]
        if shops is not None:  # N shops on one port: `shops` lists them, `shop_log(name)`
            cmd += ["--shops", str(shops)]
        if mature_days is not None:
            cmd += ["--mature-days", str(mature_days)]
        if open_fraction is not None:
            cmd += ["--open-fraction", str(open_fraction)]
        cmd += ["--max-seconds", str(max_seconds)]
        self.config = config
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self._proc.stdout is not None
        # Seeding 200k orders takes a while; readline blocks until the server says where it is.
        started = time.monotonic()
        line = self._proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("sandbox server process exited before it started")
        info = json.loads(line)
        self.startup_s = time.monotonic() - started
        self.url: str = info["url"]
        self.base_url = self.url + BASE_PATH
        self.orders: int = info["orders"]
        self.aged: dict[str, int] = info.get("aged") or {}
        self.shops: dict[str, int] = info.get("shops") or {}  # name -> orders, with --shops
        self._control = httpx.Client(base_url=self.url + "/_sandbox", timeout=start_timeout)

    def log(self) -> list[dict[str, Any]]:
        """Every API request the server saw since start (or the last reset)."""
        return self._control.get("/log").json()["entries"]

    def shop_log(self, name: str) -> list[dict[str, Any]]:
        """Every API request shop `name` (of `--shops`) saw since start or its last reset."""
        return self._control.get(f"/shops/{name}/log").json()["entries"]

    def reset_shop(self, name: str) -> None:
        """Rebuild shop `name` (of `--shops`) from its seed: empty log, fresh rate window."""
        self._control.post(f"/shops/{name}/reset").raise_for_status()

    def mutate(self, **counts: int) -> dict[str, list[int]]:
        """Seeded drift, exactly `Shop.mutate` (new orders, payments, releases, ...)."""
        response = self._control.post("/mutate", json=counts)
        response.raise_for_status()
        return response.json()

    def cpu_seconds(self) -> float:
        """CPU seconds the server process used so far, user + sys (Linux /proc; NaN elsewhere)."""
        try:
            stat = Path(f"/proc/{self._proc.pid}/stat").read_text()
        except OSError:
            return float("nan")
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def reset(self) -> None:
        """Rebuild the shop from its seed: same data, empty log, fresh rate-limit window."""
        self._control.post("/reset").raise_for_status()

    def truth_orders(self) -> list[dict[str, Any]]:
        """Every order as the API renders it (not logged, not rate limited)."""
        return self._control.get("/truth/orders").json()["orders"]

    def truth_states(self) -> dict[int, str]:
        """Each order's true state, keyed as the warehouse keys it (shopify_order_id or id)."""
        return {int(o.get("shopify_order_id") or o["id"]): o["state"] for o in self.truth_orders()}

    def stop(self) -> None:
        """Close the child's stdin (it exits on EOF) and wait; kill it only if it hangs."""
        if getattr(self, "_control", None) is not None:
            self._control.close()
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class LogFigures:
    """What the server's request log says about one run."""

    requests: int
    ok: int
    rate_limited: int
    reads: int
    writes: int
    points: int
    first_ts: float | None
    last_ts: float | None

    @classmethod
    def of(cls, entries: Sequence[dict[str, Any]]) -> LogFigures:
        reads = sum(1 for e in entries if e["method"] in ("GET", "HEAD"))
        writes = len(entries) - reads
        ok = [e for e in entries if 200 <= e["status"] < 300]
        limited = sum(1 for e in entries if e["status"] == 429)
        # Points charged: a refused (429) request costs nothing (sandbox/ratelimit.py).
        charged = [e for e in entries if e["status"] != 429]
        points = sum(1 if e["method"] in ("GET", "HEAD") else 2 for e in charged)
        stamps = [e["ts"] for e in entries]
        return cls(
            len(entries),
            len(ok),
            limited,
            reads,
            writes,
            points,
            min(stamps, default=None),
            max(stamps, default=None),
        )


@dataclass(frozen=True)
class Floor:
    """The least wall time a client could take for `requests` reads under the limit and latency.

    rate: a sliding window of `points` per `window` seconds admits `points` at once on a fresh
      window, and the k-th batch of `points` no earlier than (k-1) windows later; so `requests`
      one-point reads need `window * (ceil(requests / points) - 1)` seconds before the last one
      is sent, plus one round trip for its answer. This counts the opening burst in the
      client's favour.
    latency: page 1 alone (its meta says how many pages there are), then the rest at most
      `concurrency` at a time: `latency * (1 + ceil((requests - 1) / concurrency))`.
    combined: both at once, exactly: request i is sent no earlier than a round trip after
      request i - concurrency (a slot frees) and a window after request i - points (the server
      charges on arrival and forgets the charge `window` later); the last answer comes one round
      trip after the last send. It is at least the larger of the two above, and it is the floor
      the goal is measured against: no client with that many requests in flight can do better.
    steady: requests / (points / window), the figure often quoted; it ignores the burst.
    """

    rate: float
    latency: float
    combined: float
    steady: float

    @property
    def seconds(self) -> float:
        return max(self.combined, self.rate, self.latency)

    @property
    def bound(self) -> str:
        if self.rate >= self.latency:
            return "rate limit" if self.combined <= self.rate * 1.01 else "rate limit + latency"
        return "latency"


def floor_for(
    requests: int, *, points: int, window: float, latency_s: float, concurrency: int, cost: int = 1
) -> Floor:
    """The Floor of `requests` calls of `cost` points each (see Floor)."""
    per_window = max(1, points // cost)
    cycles = max(0, math.ceil(requests / per_window) - 1)
    rate = window * cycles + latency_s
    c = max(1, concurrency)
    lat = latency_s * (1 + math.ceil(max(0, requests - 1) / c))
    sends: list[float] = []
    for i in range(requests):
        t = 0.0 if i == 0 else sends[0] + latency_s  # page 1's meta first
        if i - 1 >= c:  # pages after the first share `c` slots
            t = max(t, sends[i - c] + latency_s)
        if i >= per_window:
            t = max(t, sends[i - per_window] + window)
        sends.append(t)
    combined = (sends[-1] + latency_s) if sends else 0.0
    steady = requests * cost * window / points
    return Floor(rate=rate, latency=lat, combined=combined, steady=steady)


def table(title: str, rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain fixed-width table."""
    body = [[_cell(c) for c in row] for row in rows]
    head = [str(h) for h in header]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = [title, line, "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)), line]
    for r in body:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    out.append(line)
    return "\n".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def ratio(value: float, floor: float) -> float:
    """value / floor, NaN when the floor is zero (no latency and no rate limit in the way)."""
    return value / floor if floor > 0 else float("nan")


def contender_row(name: str, result: dict[str, Any], floor_s: float) -> tuple[Any, ...]:
    """A contender's table row: name, wall, requests, 429s, rows, wall / floor, note (`result`
    holds `wall`, `log` (LogFigures), `rows` and `note`)."""
    log = result["log"]
    wall = result["wall"]
    return (name, wall, log.requests, log.rate_limited, result["rows"], ratio(wall, floor_s),
            result["note"])  # fmt: skip


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def environment() -> str:
    """One line saying when and where the figures were taken."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Other work on the box skews wall times; the 1-minute load average says how busy it was.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{now}  python {platform.python_version()}  {os.cpu_count()} cpu  "
        f"{platform.machine()}  load {load:.2f}  git {_git_head()}"
    )


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def out_dir() -> Path:
    """bench/out/ (gitignored), created on demand."""
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT


def fresh_db(name: str) -> Path:
    """A path in bench/out/ with any earlier file (and its WAL) removed."""
    path = out_dir() / name
    for p in (path, path.with_suffix(path.suffix + ".wal")):
        p.unlink(missing_ok=True)
    return path


# -- what every sandbox benchmark does: flags, sandbox, client, warehouse, profile ------------


def arg_parser(doc: str | None) -> argparse.ArgumentParser:
    """The script's parser, its docstring as --help."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)


def add_sandbox_args(
    p: argparse.ArgumentParser,
    *,
    orders: int,
    latency_ms: int,
    points: int,
    window: float,
    per_page: bool = False,
) -> None:
    """The shop and rate-limit flags (defaults per script); --per-page only where it is asked."""
    p.add_argument("--orders", type=int, default=orders, help="orders in the shop")
    p.add_argument("--latency-ms", type=int, default=latency_ms, help="server latency per request")
    p.add_argument("--points", type=int, default=points, help="rate limit points per window")
    p.add_argument("--window", type=float, default=window, help="rate limit window, seconds")
    p.add_argument("--concurrency", type=int, default=4, help="client requests in flight")
    if per_page:
        p.add_argument("--per-page", type=int, default=100)
    p.add_argument("--seed", type=int, default=7, help="the sandbox's seed")


def per_page(args: argparse.Namespace) -> int:
    """--per-page where the script has it, else the client's default page of 100."""
    return getattr(args, "per_page", 100)


def sandbox_config(args: argparse.Namespace) -> dict[str, Any]:
    """The SandboxConfig fields the flags of add_sandbox_args set."""
    return {
        "orders": args.orders,
        "seed": args.seed,
        "latency_ms": args.latency_ms,
        "rate_limit_points": args.points,
        "rate_limit_window": args.window,
        "per_page_max": max(100, per_page(args)),
    }


def print_header(script: str, settings: str | None = None) -> None:
    """The `#` lines every output starts with: when and where, then the settings."""
    print(f"# {script}  {environment()}")
    if settings:
        print(f"# {settings}")


def stoq_client(server: SandboxProcess, args: argparse.Namespace) -> StoqClient:
    """Our client on the sandbox, budgeted at the sandbox's own limit."""
    return StoqClient(
        API_KEY,
        server.base_url,
        points_per_window=args.points,
        window_seconds=args.window,
        concurrency=args.concurrency,
        per_page=per_page(args),
    )


def fresh_warehouse(name: str) -> duckdb.DuckDBPyConnection:
    """A new DuckDB file in bench/out/ with the warehouse schema applied."""
    conn = duckdb.connect(str(fresh_db(name)))
    warehouse.schema.apply(conn)
    return conn


def walk_floor(args: argparse.Namespace) -> tuple[int, Floor]:
    """Pages of a full walk of --orders, and their Floor at the script's settings."""
    pages = math.ceil(args.orders / per_page(args))
    floor = floor_for(
        pages,
        points=args.points,
        window=args.window,
        latency_s=args.latency_ms / 1000,
        concurrency=args.concurrency,
    )
    return pages, floor


@dataclass
class Measured:
    """What `measure` took: wall seconds, and the profiler when one ran."""

    seconds: float = 0.0
    profiler: cProfile.Profile | None = None


@contextlib.contextmanager
def measure(profile: bool = False) -> Iterator[Measured]:
    """Time the block (perf_counter), under cProfile when `profile`."""
    took = Measured(profiler=cProfile.Profile() if profile else None)
    started = time.perf_counter()
    if took.profiler:
        took.profiler.enable()
    try:
        yield took
    finally:
        if took.profiler:
            took.profiler.disable()
        took.seconds = time.perf_counter() - started


def print_profile(took: Measured, name: str, sort: str, top: int, heading: str | None) -> None:
    """Save the profile to bench/out/<name>.prof and print its top functions (if one ran)."""
    if took.profiler is None:
        return
    path = out_dir() / f"{name}.prof"
    took.profiler.dump_stats(str(path))
    if heading:
        print(heading.format(path=path))
    pstats.Stats(took.profiler).sort_stats(sort).print_stats(top)
