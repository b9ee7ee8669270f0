"""The reports in a real headless Chromium: no errors, no network, sortable, drill-down, narrow windows."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _open(browser: Any, url: str, width: int = 1280) -> tuple[Any, Any, list[str], list[str]]:
    """A fresh page with console errors and every request recorded."""
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(f"{msg.type}: {msg.text}") if msg.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"requestfailed: {req.url}"))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url, wait_until="load")
    return context, page, errors, requests


def png_stats(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct scanlines) of a PNG, with the stdlib only: a blank or single-colour
    screenshot has one distinct (filtered) scanline, a real page has hundreds."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8
            channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * channels
    assert len(raw) == stride * height
    rows = {raw[i * stride:(i + 1) * stride] for i in range(height)}
    return width, height, len(rows)


def _unique_colours(path: Path) -> int | None:
    try:
        from PIL import Image
    except ImportError:  # the stdlib scanline check above still runs
        return None
    with Image.open(path) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 24) or [])


def test_mini_report_renders_cleanly_sorts_and_drills_down(browser: Any, mini_run: Any, tmp_path: Path) -> None:
    url = mini_run.page.as_uri()
    context, page, errors, requests = _open(browser, url)
    try:
        leaderboard = page.locator("table.leaderboard").first
        assert leaderboard.is_visible()
        body = page.locator("main").inner_text()
        assert "Leaderboard: mini/v1" in body and "Safety not assessed in this run" in body
        assert "base" in leaderboard.inner_text() and "terse" in leaderboard.inner_text()
        assert "Paired comparison with the baseline" in body and "Holm" in body

        # Sorting: a metric header sorts best-first, a second click reverses; keyboard works too.
        def order() -> list[str]:
            return leaderboard.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.candidate)")

        def cell_values(key: str) -> list[float]:
            index = leaderboard.locator(f'button.sort[data-key="{key}"]').get_attribute("data-col")
            return leaderboard.locator("tbody tr").evaluate_all(
                f"rows => rows.map(r => parseFloat(r.cells[{index}].dataset.sort))")

        header = leaderboard.locator('button.sort[data-key="word_count"]')  # lower is better: ascending first
        header_cell = header.locator("xpath=ancestor::th[1]")
        assert header_cell.get_attribute("aria-sort") == "none"
        header.click()
        values = cell_values("word_count")
        assert values == sorted(values)
        assert header_cell.get_attribute("aria-sort") == "ascending"
        first_order = order()
        header.click()
        assert cell_values("word_count") == sorted(values, reverse=True)
        assert header_cell.get_attribute("aria-sort") == "descending"
        if len(set(values)) > 1:
            assert order() == list(reversed(first_order))
        by_name = leaderboard.locator("button.sort", has_text="Candidate")
        by_name.focus()
        page.keyboard.press("Enter")
        assert order() == sorted(order())
        page.keyboard.press("Enter")
        assert order() == sorted(order(), reverse=True)

        # Drill-down: open a case, its outputs and input become visible.
        case = page.locator("details.case").first
        assert not case.locator(".grid").is_visible()  # closed: the drill-down is hidden
        case.locator(":scope > summary").click()
        assert case.evaluate("d => d.open")
        grid = case.locator(".grid")
        assert grid.is_visible()
        cards = grid.locator("article.card")
        assert cards.count() == 2 and "word count" in cards.first.inner_text().lower()
        assert "I keep waking up at 3am" in case.inner_text()
        assert case.locator("table.case-scores").is_visible()

        page.locator("#safety").scroll_into_view_if_needed()
        shot = tmp_path / "mini-report.png"
        page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        width, height, distinct = png_stats(data)
        assert width == 1280 and height > 1500 and distinct > 200, (width, height, distinct)
        colours = _unique_colours(shot)
        assert colours is None or colours > 50
        leaderboard.screenshot(path=str(tmp_path / "leaderboard.png"))
        case.screenshot(path=str(tmp_path / "drill-down.png"))
        assert png_stats((tmp_path / "drill-down.png").read_bytes())[2] > 50

        assert errors == []
        assert requests == [url], requests  # nothing but the page itself: no CDN, fonts, images, favicon
    finally:
        context.close()


def test_rich_report_links_safety_misses_to_open_cases(browser: Any, synthetic_run: Any, tmp_path: Path) -> None:
    url = synthetic_run.page.as_uri()
    context, page, errors, requests = _open(browser, url)
    try:
        alert = page.locator("#safety-section .alert")
        assert alert.is_visible() and "risk miss" in alert.inner_text()
        link = alert.locator("table.misses a").first
        target = link.get_attribute("href")[1:]
        details = page.locator(f"details#{target}")
        assert not details.evaluate("d => d.open")
        link.click()
        page.wait_for_function("id => document.getElementById(id).open", arg=target)
        assert details.locator("article.card").first.is_visible()
        assert details.locator("mark.hl").count() > 0  # MI codes highlighted
        page.screenshot(path=str(tmp_path / "rich-case.png"))
        # "Open all" opens every case of a suite.
        suite = page.locator("section", has=page.locator("h2", has_text="Cases: discharge/v1"))
        suite.locator("button[data-expand=open]").click()
        assert suite.locator("details.case:not([open])").count() == 0
        assert suite.locator(".passage.gold").first.is_visible()
        assert page.locator("svg.chart").first.is_visible()  # the training curve
        assert errors == [] and requests == [url]
    finally:
        context.close()


@pytest.mark.parametrize("width", [390])
def test_narrow_window_scrolls_tables_not_the_page(browser: Any, synthetic_run: Any, width: int) -> None:
    context, page, errors, _ = _open(browser, synthetic_run.page.as_uri(), width=width)
    try:
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"page scrolls sideways by {overflow}px at {width}px"
        region = page.locator('.scroll[role="region"]').first
        assert region.get_attribute("tabindex") == "0"  # keyboard users can scroll wide tables
        assert errors == []
    finally:
        context.close()


def test_index_page_lists_runs_and_sorts(browser: Any, mini_run: Any) -> None:
    url = (mini_run.report_root / "index.html").as_uri()
    context, page, errors, requests = _open(browser, url)
    try:
        table = page.locator("table.runs")
        assert mini_run.run_id in table.inner_text()
        run_header = table.locator("button.sort", has_text="Run")
        run_header.click()
        assert run_header.locator("xpath=ancestor::th[1]").get_attribute("aria-sort") == "ascending"
        page.locator(f'a[href="{mini_run.run_id}/index.html"]').click()
        page.wait_for_load_state("load")
        assert page.url == mini_run.page.as_uri()
        assert errors == [] and requests == [url, mini_run.page.as_uri()]
    finally:
        context.close()
