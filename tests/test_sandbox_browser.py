"""The practice sandbox's page in headless Chromium: the story a newcomer cadre practises.

`league-bot sandbox` runs as its own process; Selenium drives the page with the OS packages'
Chromium and ChromeDriver (installed by `scripts/os-packages test`, which `make test` runs):
Selenium Manager is never asked to download anything. Screenshots are kept in test-artifacts/:
the auction board, and the page at a phone's 390×844 and a laptop's 1280×800.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "test-artifacts"
WAIT = 20.0


@pytest.fixture
def sandbox_url(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LEAGUE_BOT_CONFIG", None)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--data", str(tmp_path / "data")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"sandbox ready: (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no ready line: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
        print(f"\nsandbox ready after {time.monotonic() - started:.1f} s")
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, process.stderr.read()


@pytest.fixture
def browser(tmp_path):
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run `scripts/os-packages test` (or `make test`) to install"
            " Chromium and ChromeDriver from the OS packages"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: install the test extra, `.venv/bin/pip install -e '.[test]'`")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1600,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The sandbox page, in the words a person would use."""

    def __init__(self, driver) -> None:  # noqa: ANN001
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        self.driver = driver
        self.By = By
        self.stale = StaleElementReferenceException

    def wait(self, predicate, what: str, timeout: float = WAIT):  # noqa: ANN001, ANN201
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = predicate()
            except self.stale:
                result = None
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; private chat shows: {self.text('private')[-600:]!r}")

    def panel(self, chat: str):  # noqa: ANN201
        return self.driver.find_element(self.By.CSS_SELECTOR, f'[data-chat="{chat}"]')

    def phone(self) -> bool:
        """At phone width the chats are tabs and the controls fold into one bar."""
        return self.driver.find_element(self.By.CSS_SELECTOR, ".tabs").is_displayed()

    def show(self, chat: str) -> None:
        if self.phone() and not self.panel(chat).is_displayed():
            self.driver.find_element(self.By.CSS_SELECTOR, f'.tabs [data-tab="{chat}"]').click()
            self.wait(lambda: self.panel(chat).is_displayed(), f"the {chat} tab")

    def controls(self, open_: bool) -> None:
        bar = self.driver.find_element(self.By.ID, "controls")
        if (bar.get_attribute("open") is not None) != open_:
            bar.find_element(self.By.CSS_SELECTOR, "summary").click()

    def horizontal_overflow(self) -> int:
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def text(self, chat: str) -> str:
        try:
            return self.panel(chat).find_element(self.By.CSS_SELECTOR, ".messages").text
        except self.stale:
            return ""

    def shows(self, chat: str, needle: str, timeout: float = WAIT) -> None:
        self.show(chat)
        self.wait(lambda: needle in self.text(chat), f"{needle!r} in the {chat} chat", timeout)

    def act(self, action, what: str) -> None:  # noqa: ANN001
        """Do `action` once it works: the page re-renders under us, so a found element may go stale."""

        def attempt() -> bool:
            action()
            return True

        self.wait(attempt, what)

    def send(self, chat: str, text: str) -> None:
        self.show(chat)

        def type_and_send() -> None:
            field = self.panel(chat).find_element(self.By.CSS_SELECTOR, ".composer input[type=text]")
            field.clear()
            field.send_keys(text)
            self.panel(chat).find_element(self.By.CSS_SELECTOR, ".composer .send").click()

        self.act(type_and_send, f"sending {text!r} in the {chat} chat")

    def tap(self, chat: str, label: str, *, exact: bool = True) -> None:
        """Press the newest button showing `label` in that chat (the page re-renders: retry)."""
        test = f"normalize-space()='{label}'" if exact else f"contains(normalize-space(), '{label}')"
        self.show(chat)

        def press() -> bool:
            buttons = self.panel(chat).find_elements(self.By.XPATH, f".//button[contains(@class, 'kb') and {test}]")
            if not buttons:
                return False
            buttons[-1].click()
            return True

        self.wait(press, f"a button {label!r} in the {chat} chat")

    def persona(self, kind: str, org: str | None = None) -> None:
        folded = self.phone()
        self.controls(True)
        self.driver.find_element(self.By.CSS_SELECTOR, f'input[name="persona"][value="{kind}"]').click()
        if org is not None:
            self.pick_org(org)
        self.wait(lambda: "当前" in self.driver.find_element(self.By.ID, "persona-now").text, "the persona")
        if folded:
            self.controls(False)

    def pick_org(self, org: str) -> None:
        from selenium.webdriver.support.ui import Select

        select = Select(self.driver.find_element(self.By.ID, "cadre-org"))
        value = next(o.get_attribute("value") for o in select.options if o.text.startswith(org + " · "))
        select.select_by_value(value)

    def persona_now(self) -> str:
        return self.driver.find_element(self.By.ID, "persona-now").get_attribute("textContent")

    def board_text(self) -> str:
        try:
            return self.panel("hub").find_element(self.By.CSS_SELECTOR, ".pinned").text
        except self.stale:
            return ""

    def claimed(self) -> int:
        match = re.search(r"已认领 (\d+)", self.board_message_text())
        return int(match.group(1)) if match else -1

    def board_message_text(self) -> str:
        try:
            pinned = self.panel("hub").find_elements(
                self.By.XPATH, ".//div[contains(@class,'msg')][.//div[contains(@class,'meta')][starts-with(., '📌')]]"
            )
            return pinned[-1].text if pinned else ""
        except self.stale:
            return ""

    def toast(self) -> str:
        element = self.driver.find_element(self.By.ID, "toast")
        return element.text if element.is_displayed() else ""


def test_a_newcomer_practises_join_auction_crowd_and_check_in(sandbox_url, browser):
    started = time.monotonic()
    page = Page(browser)
    browser.get(sandbox_url)
    page.wait(
        lambda: len(browser.find_elements(page.By.CSS_SELECTOR, "#cadre-org option")) > 200,
        "the page to load the personas",
    )
    print(f"page usable after {time.monotonic() - started:.1f} s in the browser")

    # A new volunteer starts the bot and applies to join the health bureau's league committee.
    page.persona("volunteer")
    page.send("private", "/start")
    page.shows("private", "团县委的工作助手")
    page.send("private", "/join")
    page.shows("private", "您要加入哪个组织")
    page.send("private", "卫健")
    page.tap("private", "县卫健局团委")
    page.tap("private", "✅ 提交申请")
    page.shows("private", "等待管理员审批")

    # The organisation's admin approves it from their own private chat.
    page.persona("cadre", "县卫健局团委")
    page.shows("private", "申请加入")
    page.tap("private", "✅ 批准")
    page.shows("private", "已批准")
    page.persona("volunteer")
    page.shows("private", "申请已被批准")

    # The clock jumps to the auction's start: the live board is posted and pinned in the hub.
    page.wait(
        lambda: browser.find_elements(page.By.CSS_SELECTOR, '#events li[data-kind="auction_start"] button'),
        "the auction in the events",
    )
    page.act(
        lambda: browser.find_element(page.By.CSS_SELECTOR, '#events li[data-kind="auction_start"] button').click(),
        "the jump to the auction's start",
    )
    page.wait(lambda: "认领进行中" in page.board_text(), "the pinned live board")

    # The volunteer, now a cadre, browses from the board and claims a wish.
    page.tap("hub", "🔍 浏览并认领")
    page.tap("private", "认领 W", exact=False)
    page.wait(lambda: "认领成功" in page.toast(), "the claim's answer")
    page.shows("private", "释放", timeout=10)
    page.wait(lambda: page.claimed() >= 1, "the board counting the claim")
    before = page.claimed()

    # 40 cadres of other organisations join the race; the board's count rises within the limit.
    browser.find_element(page.By.ID, "crowd-size").clear()
    browser.find_element(page.By.ID, "crowd-size").send_keys("40")
    browser.find_element(page.By.ID, "crowd-pace").clear()
    browser.find_element(page.By.ID, "crowd-pace").send_keys("600")
    browser.find_element(page.By.ID, "crowd-start").click()
    page.wait(lambda: page.claimed() >= before + 10, "the board's count to rise", timeout=30)
    rate = page.panel("hub").find_element(page.By.CSS_SELECTOR, ".rate").text
    per_minute = int(re.search(r"(\d+)/20", rate).group(1))
    assert 0 < per_minute <= 20
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "auction-board.png"

    def shoot() -> None:
        board = page.panel("hub").find_elements(
            page.By.XPATH, ".//div[contains(@class,'msg')][.//div[contains(@class,'meta')][starts-with(., '📌')]]"
        )[-1]
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", board)
        page.panel("hub").screenshot(str(screenshot))

    page.act(shoot, "the board's screenshot")
    print(f"auction board screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000

    # At today's activity the volunteer sends 签到 in the organisation's group and gets a 👍.
    page.send("org", "签到")
    page.wait(
        lambda: any(
            element.text == "👍"
            for element in page.panel("org").find_elements(page.By.CSS_SELECTOR, ".msg.mine .reactions span")
        ),
        "the 👍 on the check-in",
    )
    print(f"browser story took {time.monotonic() - started:.1f} s")


def sized(browser, width: int, height: int) -> None:
    """The viewport of a phone (390×844, touch, its viewport meta honoured) or of a laptop."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )


def loaded(page: Page, browser, url: str) -> None:
    browser.get(url)
    page.wait(
        lambda: len(browser.find_elements(page.By.CSS_SELECTOR, "#cadre-org option")) > 200,
        "the page to load the personas",
    )


def shoot(page: Page, browser, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.act(lambda: browser.save_screenshot(str(path)), f"the screenshot {name}")
    print(f"screenshot: {path}")
    return path


def test_at_phone_width_the_controls_fold_and_the_chats_are_tabs(sandbox_url, browser):
    page = Page(browser)
    sized(browser, 390, 844)
    loaded(page, browser, sandbox_url)
    assert page.phone() and page.horizontal_overflow() == 0
    assert browser.find_element(page.By.ID, "controls").get_attribute("open") is None
    shown = [chat for chat in ("hub", "org", "private") if page.panel(chat).is_displayed()]
    assert shown == ["private"]
    # The folded bar still says who and when; opened, every control fits the width.
    assert "县团委管理员" in browser.find_element(page.By.ID, "controls-now").text
    page.controls(True)
    assert browser.find_element(page.By.ID, "jump-next").is_displayed() and page.horizontal_overflow() == 0
    page.controls(False)

    # The private chat: /newactivity up to its location step, answered with the private 📍 form.
    page.persona("cadre", "县卫健局团委")
    page.send("private", "/newactivity")
    page.shows("private", "请发送活动名称")
    page.send("private", "手机上练习的义诊")
    page.tap("private", "义诊")
    page.shows("private", "活动什么时候开始？")
    assert "按北京时间" in page.text("private")
    page.send("private", "明天 14:00")
    page.shows("private", "活动什么时候结束？")
    page.send("private", "17:00")
    page.shows("private", "活动地点在哪里？")
    page.send("private", "城关镇卫生院门口")
    page.shows("private", "要用位置签到吗？")
    form = page.panel("private").find_element(page.By.CSS_SELECTOR, ".location-form")
    assert not form.is_displayed()
    page.panel("private").find_element(page.By.CSS_SELECTOR, ".loc").click()
    assert form.is_displayed() and page.horizontal_overflow() == 0
    from selenium.webdriver.support.ui import Select

    page.act(lambda: Select(form.find_element(page.By.CSS_SELECTOR, ".loc-activity")).select_by_index(1), "a place")
    form.find_element(page.By.CSS_SELECTOR, ".loc-send").click()
    page.shows("private", "已记下位置")
    assert not form.is_displayed()
    shoot(page, browser, "sandbox-390x844.png")

    # The organisation's group: its 📍 form is hidden until asked for; 签到 gets a 👍.
    page.show("org")
    assert page.panel("org").find_element(page.By.CSS_SELECTOR, ".location-form").is_displayed() is False
    page.send("org", "签到")
    page.wait(
        lambda: any(
            e.text == "👍" for e in page.panel("org").find_elements(page.By.CSS_SELECTOR, ".msg.mine .reactions span")
        ),
        "the 👍 on the check-in",
    )
    # The county cadres' group: a message arrives, and the others' tabs do not show.
    page.send("hub", "手机上发的消息")
    page.shows("hub", "手机上发的消息")
    assert [chat for chat in ("hub", "org", "private") if page.panel(chat).is_displayed()] == ["hub"]
    assert page.horizontal_overflow() == 0


def test_at_laptop_width_three_chats_side_by_side_and_the_persona_follows_the_organisation(sandbox_url, browser):
    page = Page(browser)
    sized(browser, 1280, 800)
    loaded(page, browser, sandbox_url)
    assert not page.phone() and page.horizontal_overflow() == 0
    assert browser.find_element(page.By.ID, "controls").get_attribute("open") is not None
    panels = [page.panel(chat) for chat in ("hub", "org", "private")]
    assert all(panel.is_displayed() for panel in panels)
    lefts = [panel.location["x"] for panel in panels]
    assert lefts == sorted(lefts) and len({panel.location["y"] for panel in panels}) == 1
    bottom = max(panel.location["y"] + panel.size["height"] for panel in panels)
    assert bottom <= browser.execute_script("return window.innerHeight")  # every composer on screen

    # Choosing the organisation already shown, while another persona is on, switches to its cadre.
    page.persona("cadre", "县卫健局团委")
    cadre = page.persona_now()
    page.persona("volunteer")
    assert "新志愿者" in page.persona_now()
    page.pick_org("县卫健局团委")
    page.wait(lambda: page.persona_now() == cadre, "the organisation's cadre as the persona")
    assert browser.find_element(page.By.CSS_SELECTOR, 'input[name="persona"][value="cadre"]').is_selected()

    # Each chat is usable: the private chat answers, the group reacts, the hub shows the message.
    page.send("private", "/start")
    page.shows("private", "团县委的工作助手")
    assert not page.panel("org").find_element(page.By.CSS_SELECTOR, ".location-form").is_displayed()
    page.send("org", "签到")
    page.wait(
        lambda: any(
            e.text == "👍" for e in page.panel("org").find_elements(page.By.CSS_SELECTOR, ".msg.mine .reactions span")
        ),
        "the 👍 on the check-in",
    )
    page.send("hub", "电脑上发的消息")
    page.shows("hub", "电脑上发的消息")
    assert page.horizontal_overflow() == 0
    shoot(page, browser, "sandbox-1280x800.png")
