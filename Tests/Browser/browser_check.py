#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (on a pipe, stdlib only) and
reports what a shopper's browser saw on a page, as one JSON line.

    browser_check.py --url URL [--no-javascript] [--until TEXT] [--timeout S]
                     [--fill-and-submit FIELDS_JSON] [--expect-after-submit TEXT]
                     [--resume-when-waiting SALE_ADMIN_URL --admin-token TOKEN]

It opens URL and watches the page's HTML until it contains --until (or times out),
recording every distinct page state it passed through ("data-status" markers and whether
a checkout form was shown). With --fill-and-submit it then fills the form's fields and
clicks the submit button twice in a row, and waits for --expect-after-submit.
With --resume-when-waiting, the sale is expected to be paused: once the page shows the
waiting state, the script un-pauses it (PATCH {"paused": false} to SALE_ADMIN_URL), so the
waiting page is seen first however long the browser took to start.
The FlashSale test suite runs it against a spawned server (BrowserTests.swift).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no chromium on PATH (apt-get install chromium)")


class DevTools:
    """The DevTools protocol over --remote-debugging-pipe: NUL-separated JSON on fds 3/4."""

    def __init__(self):
        commands_read, self.commands = os.pipe()
        self.events, events_write = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="flashsale-chromium-")

        def wire():
            # Via high numbers, so neither end is overwritten by the other, and dup2 gives
            # descriptors that survive exec (Python opens pipes close-on-exec).
            high_read, high_write = os.dup(commands_read) + 100, os.dup(events_write) + 100
            os.dup2(commands_read, high_read)
            os.dup2(events_write, high_write)
            os.dup2(high_read, 3)
            os.dup2(high_write, 4)

        args = [find_chromium(), "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={self.profile}", "about:blank"]
        self.process = subprocess.Popen(args, preexec_fn=wire, close_fds=False,
                                        stdout=subprocess.DEVNULL, stderr=(None if os.environ.get("BROWSER_DEBUG") else subprocess.DEVNULL))
        os.close(commands_read)
        os.close(events_write)
        self.buffer = b""
        self.next_id = 0

    def send(self, method, params=None, session=None, timeout=15):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
        raise TimeoutError(method)

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.events, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def page_html(tools, session):
    root = tools.send("DOM.getDocument", {"depth": 0}, session)["root"]
    return tools.send("DOM.getOuterHTML", {"nodeId": root["nodeId"]}, session)["outerHTML"]


def resume(sale_admin_url, token):
    request = urllib.request.Request(
        sale_admin_url, data=b'{"paused": false}', method="PATCH",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise RuntimeError("resuming the sale answered %d" % response.status)


def watch(tools, session, until, timeout, seen, on_waiting=None):
    """Watches the page until `until` shows; `timeout` bounds a page that never changes,
    not the speed of the machine (each state change restarts it)."""
    deadline = time.time() + timeout
    html = ""
    while time.time() < deadline:
        try:
            html = page_html(tools, session)
        except RuntimeError:
            html = ""  # the document is being replaced
        before = len(seen)
        for status in re.findall(r'data-status="([a-z_]+)"', html):
            if status not in seen:
                seen.append(status)
        if 'id="checkout-form"' in html and "checkout_form" not in seen:
            seen.append("checkout_form")
        if len(seen) > before:
            deadline = time.time() + timeout
        if on_waiting and "waiting" in seen:
            on_waiting()
            on_waiting = None
        if until and until in html:
            return True, html
        time.sleep(0.2)
    return False, html


def fill_and_submit(tools, session, fields, timeout):
    """Fills the form's `fields` and clicks its button twice, once the document that
    `watch` saw holds them all: the page that just turned into the form may still be
    replacing its document, and a script run in the one going away finds no fields (seen
    in CI under the whole suite's load). Until then nothing is clicked, so the form is
    submitted by one evaluation only."""
    script = (
        "(function(fields){var b=document.getElementById('submit-button'),found=[];"
        "for (var name in fields){var el=document.querySelector('[name=\"'+name+'\"]');"
        "if(!el||!b)return JSON.stringify({ready:false});found.push([el,fields[name]]);}"
        "found.forEach(function(f){f[0].value=f[1];});b.click();var first=b.disabled;b.click();"
        "return JSON.stringify({ready:true,disabledAfterFirstClick:first});})(" + json.dumps(fields) + ")")
    deadline = time.time() + timeout
    while True:
        try:
            answer = tools.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session)
        except RuntimeError:
            answer = {}  # the execution context went away with its document
        value = answer.get("result", {}).get("value")
        submitted = json.loads(value) if value is not None else {"ready": False}
        if submitted["ready"]:
            return submitted
        if time.time() > deadline:
            raise RuntimeError("the checkout form's fields never appeared: %s" % json.dumps(answer)[:500])
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--no-javascript", action="store_true")
    parser.add_argument("--until", default='id="checkout-form"')
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--fill-and-submit")
    parser.add_argument("--expect-after-submit")
    parser.add_argument("--resume-when-waiting")
    parser.add_argument("--admin-token")
    args = parser.parse_args()

    tools = DevTools()
    result = {"seen": [], "reached": False}
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        if args.no_javascript:
            tools.send("Emulation.setScriptExecutionDisabled", {"value": True}, session)
        tools.send("Page.enable", {}, session)
        tools.send("Page.navigate", {"url": args.url}, session)
        on_waiting = None
        if args.resume_when_waiting:
            on_waiting = lambda: resume(args.resume_when_waiting, args.admin_token)
        result["reached"], html = watch(tools, session, args.until, args.timeout, result["seen"], on_waiting)
        result["refresh_tag"] = 'http-equiv="refresh"' in html
        if result["reached"] and args.fill_and_submit:
            result["submit"] = fill_and_submit(tools, session, json.loads(args.fill_and_submit), args.timeout)
            ok, html = watch(tools, session, args.expect_after_submit, args.timeout, result["seen"])
            result["after_submit"] = ok
            result["after_submit_html"] = html[-2000:]
        if not result["reached"]:
            result["html"] = html[-3000:]
    finally:
        tools.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
