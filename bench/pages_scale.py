"""Every list page at two sizes in one run, renders taken in turn: how the pages scale.

usage (from the project root):  python -m bench.pages_scale [--factor 10] [--repeat 30] ...
Measures the databases `python -m bench.pages` seeds, at its size (50,000 agents, 100,000
tickets) and at `--factor` times it (500,000 agents, 1,000,000 tickets), seeding either if it
is missing and keeping both (seeding the larger takes ~5 min). Each page is rendered on one
database then the other, alternately, so the machine's load weighs on both alike; the
figures are the larger's p50 over the smaller's, and each deep page over its own first page.
Writes summary.md and results.jsonl to bench/out/pages-scale-<time>/.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench import dataset
from bench.pages import (
    DEEP_RATIO,
    LIST_P50_MS,
    PROJECT,
    PageSpec,
    Recorder,
    World,
    argument_parser,
    fetch,
    pages,
    percentile,
    reach,
    seed,
    seeded_before,
    seeded_world,
    sign_in,
)
from bench.run import code_version, fmt
from bench.stack import cpu_mloops, exit_on_sigterm, loadavg
from web.extensions import db


@dataclass
class Size:
    """One database measured: its options, app, world and signed-in clients."""

    args: argparse.Namespace
    app: Flask
    world: World
    clients: dict[str, FlaskClient]


def prepare(args: argparse.Namespace) -> Size:
    """The database of `args`, reused when an earlier run left it, else seeded (and kept)."""
    reused = seeded_before(args)
    url = (dataset.database_url(args.pg_admin_url, args.database) if reused
           else dataset.recreate_database(args.pg_admin_url, args.database))
    app = dataset.bench_app(url, None)
    if reused:
        world = seeded_world(dataset.libpq_url(url))
    else:
        print(f"== seeding {args.database}: {args.agents} agents, {args.tickets} tickets",
              flush=True)
        world = seed(app, dataset.libpq_url(url), args,
                     lambda name, s: print(f"  seed {name:22s} {s:7.1f} s", flush=True))
    clients = {user: sign_in(app, email) for user, email in world.emails.items()}
    return Size(args, app, world, clients)


def render(client: FlaskClient, path: str) -> float:
    """One render of `path` in ms (body read whole); a page that is not 200 stops the run."""
    started = time.perf_counter()
    status, _size = fetch(client, path)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return 1000 * (time.perf_counter() - started)


def measure(sizes: tuple[Size, Size], specs: tuple[PageSpec, PageSpec],
            args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """Warm both pages up, then time them in turn (which goes first alternates)."""
    paths = [reach(size.clients[spec.user], spec) for size, spec in zip(sizes, specs,
                                                                        strict=True)]
    clients = [size.clients[spec.user] for size, spec in zip(sizes, specs, strict=True)]
    for _ in range(args.warmup):
        for client, path in zip(clients, paths, strict=True):
            render(client, path)
    samples: tuple[list[float], list[float]] = ([], [])
    for turn in range(args.repeat):
        order = (0, 1) if turn % 2 == 0 else (1, 0)
        for side in order:
            samples[side].append(render(clients[side], paths[side]))
    return samples


def options(base: argparse.Namespace, factor: int) -> tuple[argparse.Namespace,
                                                             argparse.Namespace]:
    """The bench.pages options of the smaller and the larger database."""
    larger = argparse.Namespace(**vars(base))
    larger.agents, larger.tickets = base.agents * factor, base.tickets * factor
    larger.database = f"{base.database}_{factor}x"
    return base, larger


def report(rows: list[dict[str, Any]], sizes: tuple[Size, Size], env: dict[str, Any]) -> str:
    """The markdown summary: each page at both sizes, the ratios, the deep pages."""
    small, large = (f"{s.args.agents:,} agents / {s.args.tickets:,} tickets" for s in sizes)
    lines = [f"## List pages at two sizes, rendered in turn (`python -m bench.pages_scale "
             f"{' '.join(sys.argv[1:])}`)".replace("  ", " "), "",
             f"smaller: {small}; larger: {large}", "",
             "| page | as | p50 ms smaller | p50 ms larger | larger / smaller | p95 smaller "
             "| p95 larger |", "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['label']} | {row['user']} | {fmt(row['p50'][0])} "
                     f"| {fmt(row['p50'][1])} | {row['p50'][1] / row['p50'][0]:.2f} "
                     f"| {fmt(row['p95'][0])} | {fmt(row['p95'][1])} |")
    first = {(row["path"], side): row["p50"][side] for row in rows if not row["follow"]
             and "?page=" not in row["path"] for side in (0, 1)}
    lines += ["", "### Deep pages against their first page (same size, same run)"]
    for row in rows:
        if row["follow"] or "?page=" in row["path"]:
            base = row["path"].split("?page=")[0]
            for side, name in ((0, "smaller"), (1, "larger")):
                if (base, side) not in first:
                    continue
                ratio = row["p50"][side] / first[(base, side)]
                verdict = "within" if ratio <= DEEP_RATIO else "OVER"
                lines.append(f"- {row['label']}, {name}: {ratio:.2f}x ({verdict} {DEEP_RATIO}x)")
    worst = [max(row["p50"][side] for row in rows) for side in (0, 1)]
    ratios = [row["p50"][1] / row["p50"][0] for row in rows]
    lines += ["", "### Targets",
              f"- slowest list page p50: smaller {fmt(worst[0])} ms, larger {fmt(worst[1])} ms "
              f"(target {LIST_P50_MS:g} ms at the smaller size, "
              f"{DEEP_RATIO:g} x that at the larger: {fmt(LIST_P50_MS * DEEP_RATIO)} ms)",
              f"- larger / smaller p50: median {statistics.median(ratios):.2f}, "
              f"max {max(ratios):.2f}",
              "", f"env: load1 {env['load1_start']:.2f} -> {env['load1_end']:.2f}, cpu_mloops "
              f"{env['cpu_mloops']:.1f}; code {env['code']}", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[str, Path]:
    """Prepare both sizes, measure every list page in turn, report."""
    out = PROJECT / "bench" / "out" / f"pages-scale-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    record = Recorder(out / "results.jsonl")
    env: dict[str, Any] = {"code": code_version(), "load1_start": loadavg(),
                           "cpu_mloops": cpu_mloops()}
    smaller, larger = options(args, args.factor)
    sizes = (prepare(smaller), prepare(larger))
    try:
        rows = []
        pairs = zip(pages(smaller, sizes[0].world), pages(larger, sizes[1].world), strict=True)
        for specs in pairs:
            if "export" in specs[0].path:
                continue  # a download, not a list page (bench.pages times it)
            samples = measure(sizes, specs, args)
            row = {"label": specs[0].label, "user": specs[0].user, "path": specs[0].path,
                   "follow": specs[0].follow,
                   "p50": [statistics.median(s) for s in samples],
                   "p95": [percentile(s, 0.95) for s in samples]}
            rows.append(row)
            record("page", row["label"], **row, samples=[[round(v, 3) for v in s]
                                                         for s in samples])
            print(f"  {row['label']:38s} p50 {row['p50'][0]:7.1f} / {row['p50'][1]:7.1f} ms"
                  f"  x{row['p50'][1] / row['p50'][0]:.2f}", flush=True)
        env["load1_end"] = loadavg()
        text = report(rows, sizes, env)
        (out / "summary.md").write_text(text)
        return text, out
    finally:
        for size in sizes:
            with size.app.app_context():
                db.session.remove()
                db.engine.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """bench.pages' options, plus the factor between the two sizes."""
    parser = argument_parser("python -m bench.pages_scale", (__doc__ or "").splitlines()[0])
    parser.add_argument("--factor", type=int, default=10, help="the larger size over the smaller")
    args = parser.parse_args(argv)
    if args.factor < 2 or args.agents < 1 or args.tickets < 1 or args.repeat < 1:
        parser.error("--factor must be at least 2; --agents, --tickets, --repeat positive")
    return args


def main() -> None:
    """Run and print the summary."""
    exit_on_sigterm()
    started = time.perf_counter()
    text, out = run(parse_args())
    print(text)
    print(f"(results: {out.relative_to(PROJECT)}; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
