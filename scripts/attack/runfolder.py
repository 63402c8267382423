"""What both report builders of scripts/attack-suite.sh read from a run's folder."""

import json
import os
import re


class RunFolder:
    def __init__(self, work):
        self.work = work

    def read(self, name):
        path = os.path.join(self.work, name)
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def refusals(self):
        """The shield's refusals from the server's /metrics, as {"reason/detail": count}."""
        found = {}
        pattern = r'^flashsale_shield_refusals_total\{reason="([^"]*)",detail="([^"]*)"\} (\d+)'
        for match in re.finditer(pattern, self.read("metrics.txt"), re.M):
            found[f"{match.group(1)}/{match.group(2)}"] = int(match.group(3))
        return found

    def kernel_counters(self):
        """Deltas of the kernel's listen-queue counters between attack_start and attack_end
        (machine-wide; everything here is loopback traffic of this run)."""
        def parse(name):
            lines = self.read(name).splitlines()
            values = {}
            for header, row in zip(lines[0::2], lines[1::2]):
                for key, value in zip(header.split()[1:], row.split()[1:]):
                    values[key] = int(value)
            return values
        before, after = parse("netstat.attack_start"), parse("netstat.attack_end")
        keys = ("ListenOverflows", "ListenDrops", "TCPReqQFullDoCookies", "TCPReqQFullDrop", "SyncookiesSent")
        return {key: after[key] - before[key] for key in keys if key in before and key in after}

    def machine(self):
        """Load averages (1 min) when the attack started and ended: other work on the machine
        makes latencies noisy."""
        def load(name):
            text = self.read(name).split()
            return float(text[0]) if text else None
        return {"cpus": os.cpu_count(), "load_1m_at_start": load("loadavg.attack_start"),
                "load_1m_at_end": load("loadavg.attack_end")}


def emit(report, path=None):
    """Writes one report as a JSON line to `path`, or to standard output without one."""
    text = json.dumps(report)
    if path:
        with open(path, "w") as out:
            out.write(text + "\n")
    else:
        print(text)
