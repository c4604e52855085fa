"""A test peer script (tests/peers/*.py) as a child process on 127.0.0.1: started with the given
interpreter, its port read from the first line it prints ("<port>" or "<port> <more>"), stopped
with SIGINT (then killed after 5 s)."""
import signal
import subprocess


class PeerProcess:
    def __init__(self, python, script, *args):
        self.proc = subprocess.Popen([python, script, *args], stdout=subprocess.PIPE, text=True)
        self.first_line = self.proc.stdout.readline()
        words = self.first_line.split()
        if not words or not words[0].isdigit():
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{script} did not start: {self.first_line!r}")
        self.port = int(words[0])

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
