"""Browser end-to-end fixtures: a real `agentdesk serve` and Debian's Chromium driven by Playwright.

Fixtures for test modules under tests/e2e:

- `live_server`: the base URL of `agentdesk serve` on a private copy of the demo data (one server
  per module and test process; users requester@demo.vn, approver@demo.vn, admin@demo.vn, password
  `demo`; embedded worker, no Redis).
- `browser`: headless /usr/bin/chromium, one per test process; `page`: a fresh context and page
  per test, locale vi-VN, whose `base_url` is the live server (so `page.goto("/login")` and
  `page.request.get("/api/v1/tickets")` work with relative paths).
- `screenshot(page, name, full_page=True)`: saves <name>.png in the test's output folder and
  returns its path (full_page=False for very long pages: it is much faster).
- `login(page, email, password)`: signs in through the form at /login.
- `api_login(page, email, password)`: signs in through the JSON API; the page's cookies follow.
- `viewport`: a laptop's and a phone's size (`VIEWPORTS`), one test each.
- `staff`: the demo requester, approver and admin in a browser context of their own.
- A test module may set `SERVER_ENV` (a dict) to add to or override its server's environment.

The demo users, `signed_in_page`, `expect_fits`, `employees_to_pick`, `wait_for_ticket` and the
other helpers live in `tests/support/browser.py`.

On failure a screenshot of the page, its console errors and the server log path are attached to
the report. Output folders live under pytest's base temporary directory:
<basetemp>/e2e-output/<module>/<test>/ (with -n, <basetemp> is .../popen-gwN).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import (
    APIResponse,
    Browser,
    ConsoleMessage,
    Page,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CHROMIUM_MISSING,
    api_login,
    login,
)
from tests.support.credential_links import staff  # noqa: F401  (the demo staff's own context)
from tests.support.processes import free_port, running, wait_for

_BESIDE_PYTHON = Path(sys.executable).parent / "agentdesk"
#: The `agentdesk` console script next to this interpreter (PATH may hold a slower shim).
AGENTDESK = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else "agentdesk"


#: Bounded waits: the server usually answers within 1-2 s; browser actions fail after 10 s.
SERVER_START_SECONDS = 30.0

PAGE_KEY = pytest.StashKey[Page]()
OUTPUT_KEY = pytest.StashKey[Path]()
PROBLEMS_KEY = pytest.StashKey[list[str]]()
SERVER_LOG_KEY = pytest.StashKey[Path]()

#: The log file of each live server, by base URL.
_SERVER_LOGS: dict[str, Path] = {}


# --- the server ----------------------------------------------------------------------------------


def server_env(database: Path, base_url: str = "http://127.0.0.1") -> dict[str, str]:
    """Environment of an agentdesk process on the SQLite file `database` (embedded worker)."""
    return {
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",  # empty means unset: `serve` runs the worker and relay in process
        "MAIL_SERVER": "",
        "SECRET_KEY": "e2e-tests",
        "BASE_URL": base_url,
        "PHONE_SYSTEM": "directory",
        "FORCE_HTTPS": "0",
        "SESSION_COOKIE_SECURE": "0",  # plain http on loopback
        "LOGIN_FAILURES_PER_ADDRESS": "1000 per minute",  # some tests fail to sign in on purpose
        "PROVISION_RETRY_SECONDS": "0.2",
        "RELAY_GRACE_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }


def log_tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    if not log.exists():
        return f"(no log at {log})"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def answers_health_check(base_url: str) -> bool:
    """Whether GET /healthz answers 200 (without any proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (WAL included) with the backup API."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated and filled by `agentdesk seed-demo`, once per test process."""
    database = tmp_path_factory.mktemp("e2e-demo") / "demo.db"
    result = subprocess.run(
        [AGENTDESK, "seed-demo"],
        env={**os.environ, **server_env(database)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`agentdesk seed-demo` exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}",
            pytrace=False,
        )
    return database


@pytest.fixture(scope="module")
def live_server(
    demo_database: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """`agentdesk serve` on a private copy of the demo data; yields its base URL."""
    folder = tmp_path_factory.mktemp(f"e2e-server-{request.path.stem}")
    database = folder / "e2e.db"
    copy_database(demo_database, database)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    command = [AGENTDESK, "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**server_env(database, base_url), **getattr(request.module, "SERVER_ENV", {})}
    with running(command, env, log) as process:

        def ready() -> bool:
            """Whether the server answers; fail at once if it has exited."""
            if process.poll() is not None:
                pytest.fail(
                    f"agentdesk serve exited with {process.returncode} (log {log}):\n"
                    f"{log_tail(log)}",
                    pytrace=False,
                )
            return answers_health_check(base_url)

        try:
            wait_for(ready, "GET /healthz", timeout=SERVER_START_SECONDS)
        except AssertionError:
            pytest.fail(
                f"agentdesk serve at {base_url} did not answer GET /healthz within "
                f"{SERVER_START_SECONDS:.0f}s (log {log}):\n{log_tail(log)}",
                pytrace=False,
            )
        _SERVER_LOGS[base_url] = log
        yield base_url
        _SERVER_LOGS.pop(base_url, None)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, one per test process; fails when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        yield chromium
        chromium.close()


def slug(name: str) -> str:
    """`name` made safe as a file name."""
    return re.sub(r"[^\w.-]+", "-", name).strip("-") or "unnamed"


def output_dir(item: pytest.Item, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder for a test's screenshots: <basetemp>/e2e-output/<module>/<test>."""
    return tmp_path_factory.getbasetemp() / "e2e-output" / item.path.stem / slug(item.name)


def save_screenshot(page: Page, path: Path, full_page: bool = True) -> Path:
    """Save a PNG of `page` (all of it, or the viewport) at `path`, print where, return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=full_page)
    print(f"screenshot of {page.url}: {path}")
    return path


@pytest.fixture
def page(
    browser: Browser,
    live_server: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Page]:
    """A page in a new browser context (vi-VN, Asia/Ho_Chi_Minh) whose base URL is the server."""
    context = browser.new_context(
        base_url=live_server,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    new_page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        """Keep the page's console errors and warnings for the failure report."""
        if message.type in {"error", "warning"}:
            problems.append(f"console.{message.type}: {message.text}")

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    item = request.node
    item.stash[PAGE_KEY] = new_page
    item.stash[PROBLEMS_KEY] = problems
    item.stash[OUTPUT_KEY] = output_dir(item, tmp_path_factory)
    if live_server in _SERVER_LOGS:
        item.stash[SERVER_LOG_KEY] = _SERVER_LOGS[live_server]
    yield new_page
    context.close()


@pytest.fixture
def screenshot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """`screenshot(page, name, full_page=True)` saves <name>.png in this test's output folder."""
    folder = output_dir(request.node, tmp_path_factory)

    def take(page: Page, name: str, full_page: bool = True) -> Path:
        """Save a screenshot of `page` as <name>.png; return its path."""
        path = save_screenshot(page, folder / f"{slug(name)}.png", full_page)
        request.node.user_properties.append(("screenshot", str(path)))
        return path

    return take


# --- signing in ----------------------------------------------------------------------------------


@pytest.fixture(name="login")
def login_fixture() -> Callable[[Page, str, str], None]:
    """`login(page, email, password)`: sign in through the /login form."""
    return login


@pytest.fixture(name="api_login")
def api_login_fixture() -> Callable[[Page, str, str], APIResponse]:
    """`api_login(page, email, password)`: sign in through the JSON API."""
    return api_login


# --- sizes, other users, the demo's staff ------------------------------------------------------

#: The sizes pages are tested at: an office laptop and a phone (CSS pixels).
VIEWPORTS = {"1366x768": {"width": 1366, "height": 768}, "390x844": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS.values()), ids=list(VIEWPORTS))
def viewport(page: Page, request: pytest.FixtureRequest) -> dict[str, int]:
    """Each size of `VIEWPORTS` in turn, already set on the test's page."""
    size: dict[str, int] = request.param
    page.set_viewport_size({"width": size["width"], "height": size["height"]})
    return size


# --- reporting -----------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure, attach a screenshot of the test's page, its console errors and the server log."""
    report = yield
    if not report.failed:
        return report
    lines: list[str] = []
    page = item.stash.get(PAGE_KEY, None)
    if page is not None and not page.is_closed():
        try:
            path = save_screenshot(
                page, item.stash[OUTPUT_KEY] / f"failure-{report.when}.png", full_page=False
            )
            lines.append(f"screenshot of {page.url}: {path}")
        except PlaywrightError as error:
            lines.append(f"no screenshot of {page.url}: {error}")
    problems: list[str] = item.stash.get(PROBLEMS_KEY, [])
    lines.extend(problems)
    log = item.stash.get(SERVER_LOG_KEY, None)
    if log is not None:
        lines.append(f"server log: {log}")
    if lines:
        report.sections.append(("browser end-to-end", "\n".join(lines)))
    return report
