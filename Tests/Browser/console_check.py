#!/usr/bin/env python3
"""Drives headless Chromium through the operator's dashboard and reports what it saw, as
one JSON line.

    console_check.py --base URL --token TOKEN --sale ID [--screenshots DIR] [--timeout S]

It opens /admin (the sign-in page must show no sales data), signs in with the token
through the form, waits for the sale's card, then watches the card's figures change with
no reload while a crowd plays the sale (the test runs `flashsale crowd` beside it), takes
a screenshot, pauses the sale with its button, and, in a phone's viewport, checks that
the page fits the screen's width and takes another screenshot.
The FlashSale test suite runs it against a spawned server (BrowserTests.swift).
"""

import argparse
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_check import DevTools, page_html  # noqa: E402


def evaluate(tools, session, expression):
    reply = tools.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    return reply.get("result", {}).get("value")


def wait_for(tools, session, text, timeout):
    deadline = time.time() + timeout
    html = ""
    while time.time() < deadline:
        try:
            html = page_html(tools, session)
        except RuntimeError:
            html = ""  # the document is being replaced
        if text in html:
            return True, html
        time.sleep(0.2)
    return False, html


def screenshot(tools, session, folder, name):
    if not folder:
        return None
    os.makedirs(folder, exist_ok=True)
    data = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)["data"]
    path = os.path.join(folder, name)
    with open(path, "wb") as file:
        file.write(base64.b64decode(data))
    return path


FIGURES = ("(function(id){var c=document.getElementById('sale-'+id);if(!c)return null;var f={};"
           "c.querySelectorAll('[data-field]').forEach(function(e){f[e.dataset.field]=e.textContent;});"
           "f.live=document.getElementById('live').textContent;f.marker=window.__unreloaded===true;"
           "return JSON.stringify(f);})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--sale", required=True)
    parser.add_argument("--screenshots")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    tools = DevTools()
    result = {"screenshots": []}
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tools.send("Page.enable", {}, session)
        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        tools.send("Page.navigate", {"url": args.base + "/admin"}, session)
        ok, html = wait_for(tools, session, 'action="/admin/sign-in"', args.timeout)
        result["sign_in_page"] = ok
        result["sign_in_page_has_data"] = ("data-sale-id" in html) or (args.sale in html)

        evaluate(tools, session, "document.querySelector('input[name=token]').value=%s;"
                 "document.querySelector('#sign-in form').submit();true" % json.dumps(args.token))
        ok, html = wait_for(tools, session, 'data-sale-id="%s"' % args.sale, args.timeout)
        result["signed_in"] = ok
        if not ok:
            result["html"] = html[-2000:]
            return report(result, tools)
        # Marks this document: a reload would lose the mark.
        evaluate(tools, session, "window.__unreloaded=true")
        seen, first = [], None
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            figures = json.loads(evaluate(tools, session, FIGURES + "(%s)" % json.dumps(args.sale)) or "null")
            if figures:
                key = (figures.get("admitted"), figures.get("sold"), figures.get("reserved"), figures.get("waiting"))
                if first is None:
                    first = key
                if not seen or seen[-1]["key"] != list(key):
                    seen.append({"key": list(key), "live": figures.get("live"), "unreloaded": figures.get("marker")})
                if key != first and len(seen) >= 3 and figures.get("marker"):
                    break
            time.sleep(0.25)
        result["figures_seen"] = seen
        result["moved_without_reload"] = len(seen) >= 3 and all(s["unreloaded"] for s in seen)
        result["live_label"] = seen[-1]["live"] if seen else None
        result["screenshots"].append(screenshot(tools, session, args.screenshots, "dashboard-desktop.png"))

        clicked = evaluate(tools, session, "(function(id){var b=document.querySelector('#sale-'+id+' [data-action=pause]');"
                                           "if(!b)return false;b.click();return true;})(%s)" % json.dumps(args.sale))
        result["pause_clicked"] = bool(clicked)
        ok, html = wait_for(tools, session, '<span class="status status-paused" data-field="status">paused</span>', args.timeout)
        result["paused_shown"] = ok
        result["screenshots"].append(screenshot(tools, session, args.screenshots, "dashboard-paused.png"))

        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}, session)
        tools.send("Page.reload", {}, session)
        ok, _ = wait_for(tools, session, 'data-sale-id="%s"' % args.sale, args.timeout)
        time.sleep(0.5)
        widths = evaluate(tools, session, "JSON.stringify([document.documentElement.scrollWidth, window.innerWidth])")
        scroll, inner = json.loads(widths or "[0, 0]")
        result["phone_widths"] = [scroll, inner]
        result["phone_fits"] = ok and inner > 0 and scroll <= inner + 1
        result["screenshots"].append(screenshot(tools, session, args.screenshots, "dashboard-phone.png"))
    except Exception as error:  # noqa: BLE001 - reported, and the browser still closed
        result["error"] = repr(error)
    return report(result, tools)


def report(result, tools):
    tools.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
