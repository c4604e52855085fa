"""A real Prometheus on 127.0.0.1 for the tests, scraping one target every second (and, when
given, evaluating rule files every second), with its query API; and the /metrics URL a
shadow-run announces on stderr ("shadow-run: metrics at http://HOST:PORT/metrics").

Stopped with SIGTERM (then killed after 10 s). The caller checks that /usr/bin/prometheus
exists (requirements.unavailable) before starting one."""
import json
import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics_url(lines, timeout_s=15):
    """The URL from the stderr lines a reader thread collects into `lines`, or None."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for line in list(lines):
            if "metrics at http://" in line:
                return line.split("metrics at ", 1)[1].strip()
        time.sleep(0.05)
    return None


class Prometheus:
    def __init__(self, workdir, target_url, job="shadow", rule_files=()):
        self.port = free_port()
        cfg = os.path.join(workdir, "prometheus.yml")
        rules = ("rule_files: [" + ", ".join(f"'{os.path.abspath(r)}'" for r in rule_files) + "]\n"
                 if rule_files else "")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" + rules +
                    f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
                    f"      - targets: ['{urllib.parse.urlparse(target_url).netloc}']\n")
        self.proc = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                                      f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.api = f"http://127.0.0.1:{self.port}/api/v1"

    def get(self, path, **params):
        """GET /api/v1/PATH?params as JSON; OSError while Prometheus is not up yet."""
        q = urllib.parse.urlencode(params, doseq=True)
        return json.loads(urllib.request.urlopen(f"{self.api}/{path}?{q}", timeout=5).read())

    def query(self, expr):
        """The instant query's result list ([] when it has no data)."""
        return self.get("query", query=expr)["data"]["result"]

    def wait_for(self, expr, timeout_s=30):
        """The first non-empty result of `expr` within timeout_s, else []."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                result = self.query(expr)
                if result:
                    return result
            except OSError:
                pass
            time.sleep(0.3)
        return []

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
