"""The dashboard as a person uses it, in Debian's chromium (Playwright drives the real browser).

The real server process and a real ``docker-registry``: sign in with a token, see the empty state,
register the registry in the dashboard and configure the registry with exactly the snippet the page
shows, push an image and watch it appear Unhealthy, drill down to a CVE and its fixed version, then
raise alerts through the Kubernetes audit webhook while the Alerts page is open (they appear without
a reload) and acknowledge one. The same pages are shot at 1280 px and at phone width; the screenshots
are test artifacts under ``test-artifacts/dashboard/`` (``CG_ARTIFACTS`` moves them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cg_server import ServerProcess, cli, server_env, wait_for
from imagebuilder import OciLayout, build_image
from registry_server import HAVE_TOOLS, Notification, free_port, push, start_registry

from needs import missing

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT.parent / "shared" / "feeds"
EVENTS = ROOT / "tests" / "fixtures" / "rules" / "events"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CG_ARTIFACTS", ROOT / "test-artifacts")) / "dashboard"
AXE_VERSION = "4.14.1"
"""axe-core, the accessibility engine of Lighthouse and Playwright's own docs, from the npm registry."""
FIXTURE_CACHE = Path(os.environ.get("CG_FIXTURE_CACHE") or Path.home() / ".cache" / "containerguard-fixtures")
ALPINE_OS = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n'
APK_DB = (b"C:Q1abc=\nP:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\n"
          b"C:Q1def=\nP:libssl1.1\nV:1.1.1d-r0\nA:x86_64\no:openssl\n\n")

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        missing("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        missing("Debian's chromium is not installed (apt-get install -y chromium)")
    if not HAVE_TOOLS:
        missing("docker-registry and skopeo are needed")
    if not (FEEDS / "alpine").is_dir():
        missing(f"advisory feeds not found at {FEEDS}")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def axe() -> Path:
    """axe.min.js, installed once with npm into the fixture cache."""
    target = FIXTURE_CACHE / f"axe-core-{AXE_VERSION}"
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            missing("npm is needed to fetch axe-core (apt-get install -y npm)")
        result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(target),
                                 f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0 or not script.exists():
            missing(f"npm could not install axe-core: {result.stderr.strip()[-300:]}")
    return script


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def image_layout(root: Path) -> tuple[Path, str]:
    """An Alpine image whose libssl1.1 1.1.1d-r0 the shipped Alpine feed knows vulnerable."""
    image = build_image([{"etc/os-release": ALPINE_OS, "lib/apk/db/installed": APK_DB}])
    layout = OciLayout(root)
    layout.tag(layout.add_image(image), "1")
    layout.write()
    return root, image.manifest_digest


def test_dashboard_in_a_browser(tmp_path: Path, browser: Browser, axe: Path) -> None:
    env = server_env(tmp_path / "home", "")
    cli(env, "db", "import", "-q", str(FEEDS / "alpine"))
    admin = cli(env, "token", "create", "--role", "admin").strip()
    agent = cli(env, "token", "create", "--role", "agent").strip()
    server = ServerProcess(env, free_port(), tmp_path / "server.log", admin).start()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        _walk(page, server, agent, tmp_path, errors)
        _phone(browser, server, admin)
        _accessibility(browser, server, admin, axe)
    except BaseException:
        print(server.log.read_text()[-4000:])
        shot(page, "failure")
        raise
    finally:
        context.close()
        server.stop()
    assert not errors, errors


def _walk(page: Page, server: ServerProcess, agent: str, tmp_path: Path, errors: list[str]) -> None:
    # -- sign in: any page sends a stranger to the login form, and back after it -------------------
    page.goto(f"{server.url}/images")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("API token").fill("cg_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    assert errors == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
    errors.clear()  # the refused login's 401 is the one console error expected
    page.get_by_label("API token").fill(server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/images")

    # -- the overview of an empty center tells the next step ---------------------------------------
    page.goto(f"{server.url}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Register the registry")
    expect(page.locator("main a[href='/registries']").first).to_be_visible()
    shot(page, "01-overview-empty")

    # -- register the registry in the dashboard; configure it with the snippet shown ----------------
    port = free_port()
    host = f"127.0.0.1:{port}"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Registries").click()
    page.get_by_label("Name", exact=True).fill("local")
    page.get_by_label("URL", exact=True).fill(f"http://{host}")
    page.get_by_label(re.compile("^Insecure")).check()
    page.get_by_role("button", name="Register").click()
    snippet = yaml.safe_load(page.locator("#snippet").inner_text())
    endpoint = snippet["notifications"]["endpoints"][0]
    shot(page, "02-registry-registered")
    notify = [Notification(endpoint["url"], endpoint["headers"]["Authorization"][0])]

    layout, digest = image_layout(tmp_path / "layout")
    with start_registry(tmp_path / "registry", port=port, notifications=notify):
        push(f"oci:{layout}:1", f"{host}/shop/web:1")

        # -- the pushed image appears Unhealthy in the image list (a reload per poll) ---------------
        def listed_unhealthy() -> bool:
            page.goto(f"{server.url}/images")
            row = page.locator("tr", has_text="shop/web")
            return row.count() == 1 and "Unhealthy" in row.inner_text()

        wait_for("the pushed image to show Unhealthy", listed_unhealthy, timeout=90, interval=1)
        shot(page, "03-images")

    # -- drill down: image -> CVE with its fixed version ---------------------------------------------
    vulns = server.get(f"/api/v1/images/{digest}/vulnerabilities", limit=500)["items"]
    cve = next(v for v in vulns if v["name"] == "CVE-2019-1547")
    fixed = cve["additionalData"]["fixedVersion"]
    page.locator("tr", has_text="shop/web").get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text(digest[:19])
    shot(page, "04-image")
    page.get_by_role("link", name="CVE-2019-1547").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CVE-2019-1547")
    expect(page.locator("main")).to_contain_text(fixed)
    shot(page, "05-cve")

    # -- the overview now counts the unhealthy image -------------------------------------------------
    page.goto(f"{server.url}/")
    expect(page.locator("main")).to_contain_text("Unhealthy")
    shot(page, "06-overview")

    # -- alerts appear live while the page is open, then one is acknowledged ------------------------
    page.goto(f"{server.url}/alerts")
    page.evaluate("window.__stayed = true")
    body = (EVENTS / "audit_webhook_body.json").read_bytes()
    sent = httpx.post(f"{server.url}/api/v1/k8s/audit", content=body, timeout=30,
                      headers={"Authorization": f"Bearer {agent}", "Content-Type": "application/json"})
    assert sent.status_code == 200 and sent.json()["accepted"] > 0, sent.text
    expected = _alert_rules(server)
    first = page.locator("main table tbody tr a").first
    expect(first).to_be_visible(timeout=20_000)
    assert page.evaluate("window.__stayed") is True, "the alerts appeared without a reload"
    shot(page, "07-alerts-live")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(len(expected), timeout=20_000)
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("main")).to_contain_text(re.compile("acknowledged", re.IGNORECASE))
    shot(page, "08-alert-acknowledged")
    statuses = {a["status"] for a in server.get("/api/v1/alerts", limit=100)["items"]}
    assert "acknowledged" in statuses


def _alert_rules(server: ServerProcess) -> list[dict[str, Any]]:
    """The alerts the server raised for the audit body (waits for the engine)."""
    return wait_for("alerts from the audit webhook",
                    lambda: server.get("/api/v1/alerts", limit=100)["items"], timeout=20)


def _phone(browser: Browser, server: ServerProcess, admin: str) -> None:
    """The same pages at phone width: nothing needs horizontal page scrolling but wide tables."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/login")
        page.get_by_label("API token").fill(admin)
        page.get_by_role("button", name="Sign in").click()
        for path, name in (("/", "phone-overview"), ("/images", "phone-images"), ("/alerts", "phone-alerts")):
            page.goto(f"{server.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 390px"
            shot(page, name)
    finally:
        context.close()


AXE_PAGES = ("/login", "/", "/containers", "/recommendations", "/images", "/images/1", "/images/1/packages",
             "/alerts", "/alerts/1", "/registries", "/tokens")


def _accessibility(browser: Browser, server: ServerProcess, admin: str, axe: Path) -> None:
    """axe-core's WCAG 2 A/AA rules on every tab (with data in it): no serious or critical violation.
    The context bypasses the pages' CSP only so that the axe script can be injected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    try:
        for path in AXE_PAGES:
            if path != "/login" and "cg_session" not in {c["name"] for c in context.cookies()}:
                page.goto(f"{server.url}/login")
                page.get_by_label("API token").fill(admin)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{server.url}/")
            answer = page.goto(f"{server.url}{path}")
            assert answer is not None and answer.status == 200, (path, answer and answer.status)
            page.add_script_tag(path=str(axe))
            result = page.evaluate(AXE_RUN)
            if result:
                found[path] = result
        # The check can fail: an image without alt text and an unlabelled input are caught.
        page.evaluate("""() => { const m = document.querySelector("main");
            m.insertAdjacentHTML("beforeend", '<img src="/static/none.png"><input type="text">'); }""")
        caught = " ".join(page.evaluate(AXE_RUN))
        assert "image-alt" in caught and "label" in caught, caught
    finally:
        context.close()
    assert not found, found


AXE_RUN = """async () => {
    const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}});
    return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""
