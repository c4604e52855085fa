#!/usr/bin/env python3
"""shadow-run's bad input (issue 11 findings 6, 7, 8 and the Redis password): every bad config
file, URL, symbol list or secret is refused before anything starts, with exit 2 and a message
naming the file, flag or key; nothing hangs; a password never comes from argv and never shows
in stdout, stderr or the artifacts.

    shadow_run_input_test.py SHADOW_RUN CONFIG
"""
import glob
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402

RUN = CONFIG = None
SHORT = ["--iterations", "1", "--duration", "0.5", "--warmup", "0"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShadowRunInputTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="shadow-input-")
        self.out = os.path.join(self.tmp, "art")

    def run_bad(self, *args, env=None, timeout=20):
        """Runs shadow-run expecting a refusal before the start: exit 2, no run directory."""
        r = subprocess.run([RUN, *args, "--out", self.out, *SHORT], capture_output=True, text=True,
                           timeout=timeout, env=env)
        self.assertEqual(r.returncode, 2, f"{args}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        self.assertFalse(os.path.exists(self.out), f"{args}: a refused run created {self.out}")
        self.assertTrue(r.stderr.startswith("shadow-run: "), r.stderr)
        return r.stderr

    # ---- finding 6: --config must be a regular file -------------------------------------------

    def test_config_that_is_not_a_regular_file_is_refused_at_once(self):
        fifo = os.path.join(self.tmp, "fifo.toml")
        os.mkfifo(fifo)
        cases = [(self.tmp, "is a directory"), ("/dev/zero", "is a character device"),
                 (fifo, "is a FIFO"), (os.path.join(self.tmp, "missing.toml"), "cannot open")]
        for path, what in cases:
            t0 = time.monotonic()
            err = self.run_bad("--config", path, timeout=10)  # a FIFO used to block forever
            self.assertLess(time.monotonic() - t0, 5, path)
            self.assertIn(f"{path}: config file: {what}", err)

    def test_config_over_the_size_limit_is_refused(self):
        big = os.path.join(self.tmp, "big.toml")
        with open(big, "w") as f:
            f.write("# padding\n" * 120_000)  # 1.2 MB of comments: valid TOML, too big
        err = self.run_bad("--config", big)
        self.assertIn("big.toml: config file: is 1200000 bytes, over the limit of 1 MiB", err)

    # ---- finding 7: no control characters from a URL reach the wire ----------------------------

    def test_url_with_cr_lf_is_refused_without_echoing_it(self):
        err = self.run_bad("--url", "ws://127.0.0.1:1/x\r\nX-Injected: 1")
        self.assertIn("--url (venue.url): has a control character (0x0d) at offset 18", err)
        self.assertNotIn("X-Injected", err)
        for url, what in [("ws://127.0.0.1:1/a b", "a space at offset 18"),
                          ("ws://exa mple.com/", "a space at offset 8"),
                          ("ws://h\x00st/", "a control character (0x00)"),
                          ("ws://h:99999/", "a bad port '99999'"),
                          ("ws://h_o$t/", "a bad host character '$'"),
                          ("ws://h/%zz", "a bad percent escape"),
                          ("http://h/", "is not ws://"),
                          ("ws://" + "a" * 2100, "2105 bytes (at most 2048)")]:
            if "\x00" in url:
                continue  # argv cannot carry a NUL; the C++ test covers it
            self.assertIn(what, self.run_bad("--url", url), url)

    def test_url_in_the_config_file_is_checked_the_same_way(self):
        cfg = os.path.join(self.tmp, "u.toml")
        with open(cfg, "w") as f:
            f.write('[venue]\nkind = "url"\nurl = "ws://127.0.0.1:1/\\r\\nHost: evil"\n')
        self.assertIn("u.toml:3: venue.url: has a control character (0x0d) at offset 17", self.run_bad("--config", cfg))
        with open(cfg, "w") as f:
            f.write('[venue]\nkind = "url"\nurl = "ws://127.0.0.1:1/a b"\n')
        self.assertIn("u.toml: venue.url (--url): URL has a space at offset 18", self.run_bad("--config", cfg))

    def test_user_info_in_a_venue_url_is_refused_without_echoing_it(self):
        err = self.run_bad("--url", "ws://trader:hunter2@127.0.0.1:1/v5/public/linear")
        self.assertIn("venue.url (--url): URL has user info (user:password@), not supported", err)
        self.assertNotIn("hunter2", err)

    # ---- finding 8: symbols and numbers are bad input (2), not a failure (1) -------------------

    def test_bad_symbol_lists_exit_2_naming_the_problem(self):
        many = ",".join(f"S{i}" for i in range(257))
        self.assertIn("--symbols (venue.symbols): item 1 has a control character (0x1b) at offset 3",
                      self.run_bad("--symbols", "BTC\x1b[2J"))
        err = self.run_bad("--symbols", "BTCUSDT,,ETHUSDT")
        self.assertIn("--symbols (venue.symbols): item 2 of the comma-separated list is empty", err)
        cfg = os.path.join(self.tmp, "s.toml")
        with open(cfg, "w") as f:
            f.write('[venue]\nsymbols = ["BTCUSDT", ""]\n')
        self.assertIn("s.toml:2: venue.symbols: item 2 is empty", self.run_bad("--config", cfg))
        for symbols, what in [
                              ("btcusdt", "'btcusdt': symbols are upper case, as the venues list them ('BTCUSDT')"),
                              ("BTC/USDT", "symbol 1 has a bad symbol character '/' at offset 3 (allowed: A-Z, 0-9, '-' and '_')"),
                              ("BTCUSDT,BTCUSDT", "'BTCUSDT' is listed twice"),
                              ("A" * 24, "symbol 1 is 24 bytes long, at most 23"),
                              (many, "257 symbols, at most 256")]:
            err = self.run_bad("--symbols", symbols)
            self.assertIn("venue.symbols (--symbols): " + what, err, symbols[:40])

    def test_numbers_out_of_range_or_overflowing_exit_2(self):
        for flag, value, what in [("--iterations", "4294967297", "[1, 1000000]"),
                                  ("--duration", "1e300", "[0.001, 1e7]"),
                                  ("--duration", "nan", "[0.001, 1e7]"),
                                  ("--warmup", "-1", "[0, 1e7]"),
                                  ("--rate", "inf", "[1, 1e7]"),
                                  ("--seed", "99999999999999999999", "[0, 9223372036854775807]"),
                                  ("--redis-ttl", "1.5", "a whole number")]:
            err = self.run_bad(flag, value)
            self.assertIn(flag, err)
            self.assertIn(what, err, f"{flag} {value}")

    def test_text_values_with_control_characters_are_refused_and_never_echoed_raw(self):
        for flag, value, what in [("--out", "/tmp/a\nb", "--out (run.out_dir): has a control character (0x0a) at offset 6"),
                                  ("--redis-channel", "c\r\nPUBLISH x y", "--redis-channel (export.redis_channel): has a control character (0x0d)"),
                                  ("--metrics-textfile", "m" * 5000, "--metrics-textfile (export.metrics_textfile): is 5000 bytes long, at most 4096"),
                                  ("--layout", "\x1b]0;owned\x07", "--layout (threads.layout): must be auto, split or fused, not '\\x1b]0;owned\\x07'"),
                                  ("--layout", "z" * 100000, "not '" + "z" * 64 + "... (100000 bytes)'"),
                                  ("--replay", "a.jsonl,b\tc.jsonl", "--replay (venue.replay): item 2 has a control character (0x09)"),
                                  ("--no-such-flag\x1b[2J", None, "unexpected argument --no-such-flag\\x1b[2J")]:
            err = self.run_bad(flag) if value is None else self.run_bad(flag, value)
            self.assertIn(what, err, flag)
            self.assertNotIn("\x1b", err)
            self.assertLess(len(err), 20000, "a huge value was echoed whole")

    def test_metrics_address_is_checked_before_the_start(self):
        # It used to reach the listener after the run directory existed: exit 1, raw text.
        self.assertIn("--metrics-addr (export.metrics_addr): has a control character (0x0d) at offset 1",
                      self.run_bad("--metrics-addr", "a\r\nb:9464"))
        for addr, what in [("a b:9464", "HOST has a space at offset 1 of the host"),
                           ("127.0.0.1:99999", "PORT must be a whole number in [0, 65535] (0: any free port), not '99999'"),
                           ("9464", "must be HOST:PORT (e.g. 127.0.0.1:9464), not '9464'")]:
            self.assertIn("export.metrics_addr (--metrics-addr): " + what, self.run_bad("--metrics-addr", addr), addr)

    def test_replay_pace_has_a_floor(self):
        # speed divides a capture's time offsets into int64 nanoseconds: 1e-300 overflowed it.
        self.assertIn("--speed (venue.speed): must be \"max\" or a number in [0.01, 1e6], not 1e-300",
                      self.run_bad("--speed", "1e-300"))

    # ---- secrets: the Redis password never comes from argv -------------------------------------

    def test_password_in_redis_url_is_refused_and_not_echoed(self):
        for url in ["redis://:hunter2@127.0.0.1:6379/0", "redis://admin:hunter2@127.0.0.1:6379/0",
                    "redis://hunter2@127.0.0.1:6379/0"]:
            err = self.run_bad("--redis-url", url)
            self.assertIn("export.redis_url (--redis-url): holds credentials", err)
            self.assertIn("SHADOW_REDIS_PASSWORD", err)
            self.assertNotIn("hunter2", err)

    def test_password_file_must_be_0600_and_ours(self):
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write("hunter2\n")
        os.chmod(pw, 0o644)
        err = self.run_bad("--redis-url", "redis://127.0.0.1:1/0", "--redis-password-file", pw)
        self.assertIn(f"export.redis_password_file: {pw}: mode 0644 lets others read it; allowed: 0600", err)
        self.assertNotIn("hunter2", err)
        err = self.run_bad("--redis-url", "redis://127.0.0.1:1/0", "--redis-password-file", "/dev/zero")
        self.assertIn("is a character device", err)
        os.chmod(pw, 0o600)
        err = self.run_bad("--redis-password-file", pw)
        self.assertIn("export.redis_password_file: set without export.redis_url", err)

    def start_redis(self, port, password):
        if not os.path.exists("/usr/bin/redis-server"):
            requirements.unavailable(self, "redis-server not installed")
        conf = os.path.join(self.tmp, "redis.conf")  # requirepass in a file: not in redis' argv either
        with open(conf, "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\nrequirepass {password}\n")
        p = subprocess.Popen(["/usr/bin/redis-server", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        env = dict(os.environ, REDISCLI_AUTH=password)
        for _ in range(100):
            r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True, env=env)
            if r.stdout.strip() == "PONG":
                return p, env
            time.sleep(0.05)
        p.kill()
        self.fail("redis-server did not start")

    def check_password_run(self, password, extra_args, env):
        port = int(extra_args[1].split(":")[2].split("/")[0])
        run = subprocess.Popen([RUN, "--config", CONFIG, "--out", self.out, "--iterations", "2", "--duration",
                                "1", "--warmup", "0.2", *extra_args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        try:
            time.sleep(0.5)
            with open(f"/proc/{run.pid}/cmdline", "rb") as f:
                self.assertNotIn(password.encode(), f.read(), "the password is in the process' argv")
            so, se = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        self.assertEqual(run.returncode, 0, so + se)
        self.assertNotIn("redis export failed", se)
        self.assertNotIn(password, so + se)
        for path in glob.glob(os.path.join(self.out, "*", "*")):
            with open(path, "rb") as f:
                self.assertNotIn(password.encode(), f.read(), path)
        return port

    def test_password_from_the_environment_or_a_0600_file_authenticates(self):
        password = "s3cret-" + str(os.getpid())
        port = free_port()
        redis, cli_env = self.start_redis(port, password)
        try:
            url = ["--redis-url", f"redis://127.0.0.1:{port}/0"]
            env = dict(os.environ, SHADOW_REDIS_PASSWORD=password)
            self.check_password_run(password, url, env)
            key = subprocess.run(["redis-cli", "-p", str(port), "GET", "shadow:latest:_all:ticks"],
                                 capture_output=True, text=True, env=cli_env).stdout.strip()
            self.assertTrue(key.isdigit() and int(key) > 0, key)

            pw = os.path.join(self.tmp, "pw")
            fd = os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, (password + "\n").encode())
            os.close(fd)
            self.assertEqual(stat.S_IMODE(os.stat(pw).st_mode), 0o600)
            env = {k: v for k, v in os.environ.items() if k != "SHADOW_REDIS_PASSWORD"}
            subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], capture_output=True, env=cli_env)
            self.check_password_run(password, url + ["--redis-password-file", pw], env)
            key = subprocess.run(["redis-cli", "-p", str(port), "GET", "shadow:latest:_all:ticks"],
                                 capture_output=True, text=True, env=cli_env).stdout.strip()
            self.assertTrue(key.isdigit() and int(key) > 0, key)
        finally:
            redis.kill()
            redis.wait()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    RUN, CONFIG = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main()
