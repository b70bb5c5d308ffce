"""Driving Debian's Chromium with Playwright for the workbench tests: launching it, keyboard-only
steps, the axe-core scan, screenshots, and a watch on dialogs and requests leaving the origin."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "tools" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """Debian's chromium (installed by `make setup`); Playwright's own browser download cannot
    work on these machines."""
    for candidate in (os.environ.get("COHORT_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise RuntimeError("Chromium is missing: run `make setup` (installs Debian's chromium package)")


async def launch(playwright: Playwright) -> Browser:
    # Chromium's sandbox cannot start as root (CI runs as root); the page is our own test site.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return await playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)


@dataclass
class Watch:
    """What a page did that it must not: open a dialog, or send a request to another origin."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        async def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "request",
            lambda request: None if request.url.startswith(self.origin) else self.foreign_requests.append(request.url),
        )


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now. axe is evaluated through
    the DevTools protocol, which the page's CSP does not govern (an injected <script> would be
    refused, rightly)."""
    await page.evaluate(AXE.read_text())
    result = await page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    violations = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


async def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus: proof it is reachable by keyboard."""
    target = page.locator(selector).first
    await page.locator("body").focus()
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


class Screenshots:
    """Each page at a laptop and a phone width, into `folder` (docs/workbench when regenerating
    the README's pictures, a temporary folder otherwise)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    async def take(self, page: Page, name: str) -> None:
        for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
            await page.set_viewport_size(size)
            path = self.folder / f"{name}-{label}.png"
            await page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
        await page.set_viewport_size(LAPTOP)
