"""Sign-in under a guessing attack: how slow signed-in requests get while clients guess passwords.

The production shape (PostgreSQL, a private Redis holding the sign-in counters, gunicorn with 2
sync workers behind one trusted proxy hop) serves a signed-in user's `GET /api/v1/tickets` and
agent list page (`GET /agents`), alternately, while 6 clients guess passwords with
`POST /api/v1/session`. Each figure is the p50 latency of such a request under attack divided
by its p50 with no attack, measured in the same run, phases interleaved over rounds (the
machine is shared). Users have production-strength hashes.

Attacks:
- `one_address`: 6 clients from one address, guessing the known accounts and made-up ones;
- `one_account`: 6 clients, every guess from a new address (through the trusted proxy), all at
  one account;
- `spray`: every guess a new address and a new made-up email: no counter ever fills;
- `unthrottled_one_address`: `one_address` against the same stack with the limits lifted, to
  show what the policy saves;
- `control_cheapest_request`: 6 clients asking for `GET /` (a redirect): no attack at all, the
  floor that any 6 busy clients on this 2-core machine impose on the measured request.

    python -m bench.sign_in_attack [--rounds 2] [--samples 200]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path
from queue import Queue

from bench import dataset
from bench.measure import pct
from bench.run import code_version
from bench.stack import (
    Children,
    PrivateRedis,
    exit_on_sigterm,
    free_port,
    loadavg,
    tool,
    wait_http,
)
from web.auth import hash_password
from web.extensions import db
from workflow.domain.rules import Role
from workflow.people.accounts import save_user

PROJECT = Path(__file__).resolve().parent.parent
DATABASE = "agentdesk_bench_sign_in"
PASSWORD = "the-right-password"
ACCOUNTS = ("staff@bench.vn", "boss@bench.vn")
#: Seconds of guessing before the measured requests: the first failures (30 per address by
#: default) each cost a full password hash; after them the steady state is measured.
WARM_UP = 3.0
#: The signed-in requests measured: a light API read and the agent list page people see.
SIGNED_IN = {"api": "/api/v1/tickets?per_page=20", "page": "/agents"}
#: Limits lifted: the stack as it was before failed sign-ins were counted.
UNTHROTTLED = {"LOGIN_FAILURES_PER_ADDRESS": "1000000 per minute",
               "LOGIN_FAILURES_PER_ACCOUNT": "1000000 per minute"}


def request(port: int, method: str, path: str, headers: dict[str, str],
            body: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """One HTTP request on a new connection; the status and the response headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers={
            "Content-Type": "application/json", **headers})
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def session_cookie(port: int) -> str:
    """Sign in the measured user; its session cookie."""
    status, headers = request(port, "POST", "/api/v1/session", {"X-Forwarded-For": "10.0.0.1"},
                              {"email": ACCOUNTS[0], "password": PASSWORD})
    assert status == 200, status
    return headers["Set-Cookie"].split(";", 1)[0]


def signed_in_latencies(port: int, cookie: str, samples: int) -> dict[str, list[float]]:
    """Milliseconds of `samples` sequential signed-in requests of each kind, alternated."""
    times: dict[str, list[float]] = {kind: [] for kind in SIGNED_IN}
    for _ in range(samples):
        for kind, path in SIGNED_IN.items():
            started = time.perf_counter()
            status, _ = request(port, "GET", path,
                                {"Cookie": cookie, "X-Forwarded-For": "10.0.0.1"})
            times[kind].append((time.perf_counter() - started) * 1000)
            assert status == 200, status
    return times


Guess = Callable[[int], tuple[str, str | None]]  # n -> (email, forwarded address or None)

#: The control: 6 clients asking for the sign-in page's redirect (`GET /`, no password, no
#: database), the cheapest request the app answers: the floor any 6 busy clients impose here.
CONTROL = "control_cheapest_request"

GUESSES: dict[str, Guess] = {
    "one_address": lambda n: (ACCOUNTS[n % 2] if n % 3 else f"nobody{n}@bench.vn", None),
    "one_account": lambda n: (ACCOUNTS[1], f"198.18.{n // 250 % 250}.{n % 250 + 1}"),
    "spray": lambda n: (f"user{n}@bench.vn", f"198.19.{n // 250 % 250}.{n % 250 + 1}"),
}


def guess_until(port: int, guess_name: str, client: int, clients: int, stop: Event,
                answers: Queue[dict[int, int]]) -> None:
    """One guessing client (its own process, so the measured client never waits for its
    interpreter): guess until `stop`, then report its answers' status codes.

    Requests are written as raw bytes on a new connection each: a guesser spends little CPU
    of its own on this shared 2-core machine, as one on another machine would."""
    codes = Counter[int]()
    for n in itertools.count(client, clients):
        if stop.is_set():
            break
        if guess_name == CONTROL:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
                connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while connection.recv(65536):
                    pass
            codes[0] += 1
            continue
        email, address = GUESSES[guess_name](n)
        body = json.dumps({"email": email, "password": f"guess-{n}"}).encode()
        head = (f"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Forwarded-For: {address or '203.0.113.66'}\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            connection.sendall(head.encode() + body)
            status = connection.recv(64)[9:12]
            while connection.recv(65536):
                pass
        codes[int(status or b"0")] += 1
    answers.put(dict(codes))


class Stack:
    """PostgreSQL, a private Redis and gunicorn (2 sync workers, one trusted proxy hop)."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args = args
        self.children = Children(out)
        self.redis = PrivateRedis(self.children, free_port(args.redis_port))
        self.url = dataset.recreate_database(args.admin_url, DATABASE)

    def start(self) -> None:
        """Start Redis, create the users with production-strength password hashes."""
        self.redis.start()
        app = dataset.bench_app(self.url, None)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            for email in ACCOUNTS:
                save_user(db.session(), email, Role.REQUESTER, hash_password(PASSWORD))
            db.session.remove()
            db.engine.dispose()

    def gunicorn(self, port: int, **settings: str) -> object:
        """gunicorn on `port` with `settings` added to the production environment."""
        env = {"PATH": f"{Path(tool('gunicorn')).parent}:/usr/bin:/bin",
               "DATABASE_URL": dataset.libpq_url(self.url), "REDIS_URL": self.redis.url,
               "SECRET_KEY": dataset.SECRET_KEY, "TRUSTED_PROXIES": "1", **settings}
        proc = self.children.spawn(
            [tool("gunicorn"), "--workers", "2", *self.args.gunicorn.split(),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "web:create_app()"],
            f"gunicorn-{port}.log", env=env, cwd=PROJECT)
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        return proc

    def stop(self) -> None:
        """Stop every process and drop the database."""
        self.children.stop_all()
        self.redis.stop()
        dataset.drop_database(self.args.admin_url, DATABASE)


def measure(port: int, cookie: str, samples: int, guess: str | None, clients: int,
            redis: PrivateRedis) -> dict[str, float]:
    """p50/p90 of signed-in requests, with or without an attack; the guessers' answers."""
    redis.cli("flushdb")  # every phase starts with empty sign-in counters
    stop, answers = multiprocessing.Event(), multiprocessing.Queue()
    guessers = [multiprocessing.Process(target=guess_until,
                                        args=(port, guess, n, clients, stop, answers))
                for n in range(clients if guess else 0)]
    for guesser in guessers:
        guesser.start()
    time.sleep(WARM_UP if guess else 0)  # the guessing reaches its steady state
    started = time.monotonic()
    times = signed_in_latencies(port, cookie, samples)
    elapsed = time.monotonic() - started + (WARM_UP if guess else 0)
    stop.set()
    codes = Counter[int]()
    for _ in guessers:
        codes.update(answers.get(timeout=120))
    for guesser in guessers:
        guesser.join()
    guesses = sum(codes.values())
    return {**{f"p50_{kind}": statistics.median(values) for kind, values in times.items()},
            **{f"p90_{kind}": pct(values, 90) for kind, values in times.items()},
            "guesses_per_s":
            guesses / elapsed if guesses else 0.0,
            "refused_429": codes[429] / guesses if guesses else 0.0, "load1": loadavg()}



def main() -> None:
    """Run the phases over rounds and print the ratios."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-port", type=int, default=6490)
    parser.add_argument("--port", type=int, default=8590)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--gunicorn", default="--worker-class sync",
                        help="gunicorn options besides --workers 2 (default: the Procfile's)")
    args = parser.parse_args()
    out = PROJECT / "bench" / "out" / f"sign-in-{time.strftime('%Y%m%d-%H%M%S')}"
    stack = Stack(args, out)
    results: dict[str, list[dict[str, float]]] = {}
    try:
        stack.start()
        port = free_port(args.port)
        open_port = free_port(port + 1, [port])
        stack.gunicorn(port)
        stack.gunicorn(open_port, **UNTHROTTLED)
        cookies = {port: session_cookie(port), open_port: session_cookie(open_port)}
        phases: list[tuple[str, int, str | None]] = [
            ("idle", port, None), (CONTROL, port, CONTROL),
            *((name, port, name) for name in GUESSES),
            ("unthrottled_idle", open_port, None),
            ("unthrottled_one_address", open_port, "one_address")]
        for _ in range(args.rounds):
            for name, target, guess in phases:
                results.setdefault(name, []).append(
                    measure(target, cookies[target], args.samples, guess, args.clients,
                            stack.redis))
    finally:
        stack.stop()
    report(results, out, args)


def report(results: dict[str, list[dict[str, float]]], out: Path, args: argparse.Namespace
           ) -> None:
    """Print and save the table: each attack's p50 over the idle p50 of its stack."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    lines = [f"sign-in under attack, code {code_version()}, {args.rounds} round(s) × "
             f"{args.samples} signed-in requests, {args.clients} guessing clients",
             "| phase | API read p50 / p90 ms | × idle | agent list page p50 / p90 ms | × idle "
             "| guesses/s | refused (429) | load1 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def median(rounds: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    for name, rounds in results.items():
        idle = results["unthrottled_idle" if name.startswith("unthrottled") else "idle"]
        cells = [f"{median(rounds, f'p50_{kind}'):.1f} / {median(rounds, f'p90_{kind}'):.1f} | "
                 f"{median(rounds, f'p50_{kind}') / median(idle, f'p50_{kind}'):.2f}"
                 for kind in SIGNED_IN]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {median(rounds, 'guesses_per_s'):.0f} | "
            f"{median(rounds, 'refused_429'):.1%} | {max(r['load1'] for r in rounds):.1f} |")
    text = "\n".join(lines)
    (out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
