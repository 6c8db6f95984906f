"""Run SIPp (Debian sip-tester 3.6.1) on 127.0.0.1 as a test peer and parse what it saw."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SIPP_BINARY = "sipp"
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "sipp"
STOCK_PCAP = Path("/usr/share/sip-tester/g711a.pcap")

# -key defaults per scenario: SIPp leaves an unset [key] as literal text (and fails to open a "[pcap]").
SCENARIO_KEYS: dict[str, dict[str, str]] = {
    "carrier_call.xml": {"pcap": str(STOCK_PCAP), "hold_ms": "3000", "caller": "0301234567"},
    "carrier_call_cancel.xml": {"cancel_ms": "0", "caller": "0301234567"},
    "carrier_call_rejected.xml": {"caller": "0301234567"},
    "operator_answer.xml": {"ring_ms": "0", "hangup_ms": "0", "play": "0", "pcap": str(STOCK_PCAP),
                            "codec": "PCMA", "pt": "8"},
    "registrar.xml": {"auth_user": "callbox", "auth_pass": "secret", "expires": "300"},
    "register_client.xml": {"user": "callbox", "expires": "300"},
}
REQUIRED_KEYS: dict[str, set[str]] = {"operator_answer.xml": {"rtp_port"}}

_handed_out: set[int] = set()


def free_udp_port(span: int = 1, host: str = "127.0.0.1") -> int:
    """A port p with p..p+span-1 free for UDP on host, not handed out before by this process."""
    for _ in range(500):
        port = random.randrange(20000, 60000 - span, 2)
        if any(p in _handed_out for p in range(port, port + span)):
            continue
        socks: list[socket.socket] = []
        try:
            for p in range(port, port + span):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((host, p))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        _handed_out.update(range(port, port + span))
        return port
    raise RuntimeError("no free UDP port found")


def udp_port_bound(port: int) -> bool:
    """Whether some socket is bound to this UDP port (Linux /proc/net/udp)."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(line.split()[1].endswith(suffix) for line in lines if len(line.split()) > 1):
            return True
    return False


@dataclass(frozen=True)
class SipMessage:
    """One SIP message from SIPp's -trace_msg log."""

    direction: str  # "sent" or "received"
    timestamp: str
    text: str

    @property
    def first_line(self) -> str:
        """The request or status line."""
        return self.text.split("\n", 1)[0].strip()

    @property
    def status(self) -> int | None:
        """The status code of a response, None for a request."""
        match = re.match(r"SIP/2\.0\s+(\d{3})", self.first_line)
        return int(match.group(1)) if match else None

    @property
    def method(self) -> str:
        """The request method, or for a response the CSeq method."""
        if self.status is None:
            return self.first_line.split(" ", 1)[0]
        return (self.header("CSeq") or " ").split()[-1]

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive name), or None."""
        head = self.text.split("\n\n", 1)[0]
        for line in head.splitlines()[1:]:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def body(self) -> str:
        """The message body (e.g. SDP)."""
        return self.text.split("\n\n", 1)[1] if "\n\n" in self.text else ""


_ENTRY = re.compile(r"^-{20,} (\S+ \S+)\n(.*?)\n", re.M)


def parse_message_log(text: str) -> list[SipMessage]:
    """Split a SIPp -trace_msg log into messages."""
    text = text.replace("\r\n", "\n")
    starts = list(_ENTRY.finditer(text))
    messages = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        kind = match.group(2)
        direction = "received" if "received" in kind else "sent" if "sent" in kind else kind
        body = text[match.end():end].strip("\n")
        if body:
            messages.append(SipMessage(direction, match.group(1), body + "\n"))
    return messages


def parse_stat_csv(text: str) -> dict[str, str]:
    """The last row of a SIPp -trace_stat CSV as column name -> value."""
    rows = [line.split(";") for line in text.splitlines() if line.strip()]
    return dict(zip(rows[0], rows[-1], strict=False)) if len(rows) >= 2 else {}


@dataclass
class SippResult:
    """How a SIPp run ended and what it exchanged."""

    returncode: int | None
    successful: int
    failed: int
    messages: list[SipMessage]
    logs: list[str]
    errors: str
    stderr: str
    timed_out: bool
    workdir: Path
    stats: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Exit code 0, no failed call and at least one successful call."""
        return self.returncode == 0 and self.failed == 0 and self.successful > 0

    @property
    def received(self) -> list[SipMessage]:
        """Messages SIPp received."""
        return [m for m in self.messages if m.direction == "received"]

    @property
    def sent(self) -> list[SipMessage]:
        """Messages SIPp sent."""
        return [m for m in self.messages if m.direction == "sent"]

    def response_codes(self, method: str | None = None, direction: str = "received") -> list[int]:
        """Status codes of responses in one direction (with retransmissions), optionally of one method."""
        return [m.status for m in self.messages if m.direction == direction and m.status is not None
                and (method is None or m.method == method)]

    def requests(self, direction: str = "received") -> list[str]:
        """Methods of the requests in one direction."""
        return [m.method for m in self.messages if m.direction == direction and m.status is None]

    def describe(self) -> str:
        """A summary for assertion messages."""
        flow = ", ".join(f"{'<' if m.direction == 'received' else '>'}{m.status or m.method}"
                         for m in self.messages)
        return (f"rc={self.returncode} ok={self.successful} failed={self.failed} timed_out={self.timed_out} "
                f"flow=[{flow}] logs={self.logs} errors={self.errors[-800:]!r} stderr={self.stderr[-800:]!r}")


class Sipp:
    """One sipp process on 127.0.0.1 with traces in a working directory; always bounded by -timeout."""

    def __init__(self, scenario: str | Path, remote: str | None = None, *, local_port: int | None = None,
                 media_port: int | None = None, keys: Mapping[str, object] | None = None, calls: int = 1,
                 rate: float | None = None, service: str | None = None, auth: tuple[str, str] | None = None,
                 timeout: float = 15.0, recv_timeout_ms: int | None = None, ip: str = "127.0.0.1",
                 workdir: Path | None = None, name: str | None = None,
                 extra_args: Sequence[str] = ()) -> None:
        path = Path(scenario)
        self.scenario = path if path.is_absolute() or path.exists() else SCENARIO_DIR / path
        if not self.scenario.is_file():
            raise FileNotFoundError(self.scenario)
        base = self.scenario.name
        self.keys = {k: str(v) for k, v in {**SCENARIO_KEYS.get(base, {}), **(keys or {})}.items()}
        if base == "operator_answer.xml" and keys:
            if "pcap" in keys and "play" not in keys:
                self.keys["play"] = "1"
            if "codec" in keys and "pt" not in keys:
                self.keys["pt"] = {"PCMA": "8", "PCMU": "0"}[str(keys["codec"])]
        missing = REQUIRED_KEYS.get(base, set()) - self.keys.keys()
        if missing:
            raise ValueError(f"{base} needs -key {', '.join(sorted(missing))}")
        self.ip, self.remote = ip, remote
        self.local_port = local_port or free_udp_port()
        self.media_port = media_port or free_udp_port(span=4)  # SIPp binds media_port and media_port + 2
        self.control_port = free_udp_port()
        self.name = name or self.scenario.stem
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"sipp-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.args = self._args(calls, rate, service, auth, recv_timeout_ms, extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self._timed_out = False

    def _file(self, kind: str) -> Path:
        """The path of one of this run's trace files."""
        return self.workdir / f"{self.name}_{kind}"

    def _args(self, calls: int, rate: float | None, service: str | None, auth: tuple[str, str] | None,
              recv_timeout_ms: int | None, extra_args: Sequence[str]) -> list[str]:
        """The sipp command line."""
        args = [SIPP_BINARY, "-sf", str(self.scenario), "-i", self.ip, "-mi", self.ip,
                "-p", str(self.local_port), "-mp", str(self.media_port), "-cp", str(self.control_port),
                "-m", str(calls), "-nostdin", "-aa", "-timeout", f"{self.timeout:g}s", "-timeout_error",
                "-trace_msg", "-message_file", str(self._file("messages.log")),
                "-trace_err", "-error_file", str(self._file("errors.log")),
                "-trace_stat", "-stf", str(self._file("stat.csv")), "-fd", "1",
                "-trace_screen", "-screen_file", str(self._file("screen.log")),
                "-trace_logs", "-log_file", str(self._file("logs.log"))]
        if rate is not None:
            args += ["-r", f"{rate:g}"]
        if service is not None:
            args += ["-s", service]
        if auth is not None:
            args += ["-au", auth[0], "-ap", auth[1]]
        if recv_timeout_ms is not None:
            args += ["-recv_timeout", str(recv_timeout_ms)]
        for key, value in self.keys.items():
            args += ["-key", key, value]
        args += list(extra_args)
        if self.remote:
            args.append(self.remote)
        return args

    @property
    def address(self) -> str:
        """This SIPp's SIP address as host:port."""
        return f"{self.ip}:{self.local_port}"

    def start(self, ready_timeout: float = 5.0) -> Sipp:
        """Start sipp and wait until its SIP port is bound."""
        with open(self._file("stderr.txt"), "wb") as err:
            self.proc = subprocess.Popen(self.args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while not udp_port_bound(self.local_port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sipp did not start: {self._read('stderr.txt')[-2000:]}")
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        """Stop sipp if it still runs (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=2.0)

    def wait_sync(self, timeout: float | None = None) -> SippResult:
        """Wait for sipp to end by itself (killed after timeout, default -timeout + 5 s); parse its traces."""
        assert self.proc is not None, "start() first"
        try:
            self.proc.wait(timeout=self.timeout + 5.0 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self._timed_out = True
            self.kill()
        return self.result()

    async def wait(self, timeout: float | None = None) -> SippResult:  # noqa: ASYNC109 (a bound, not a cancel)
        """Await sipp's end without blocking the event loop (killed after timeout) and parse its traces."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + (self.timeout + 5.0 if timeout is None else timeout)
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self._timed_out = True
                self.kill()
                break
            await asyncio.sleep(0.05)
        return self.result()

    def _read(self, kind: str) -> str:
        """The text of one trace file, empty if missing."""
        try:
            return self._file(kind).read_text(errors="replace")
        except OSError:
            return ""

    def result(self) -> SippResult:
        """Parse the traces written so far."""
        stats = parse_stat_csv(self._read("stat.csv"))
        successful, failed = int(stats.get("SuccessfulCall(C)", 0)), int(stats.get("FailedCall(C)", 0))
        if not stats:
            screen = self._read("screen.log")
            found = {k: re.search(rf"{k} call\s*\|\s*\d+\s*\|\s*(\d+)", screen)
                     for k in ("Successful", "Failed")}
            successful = int(found["Successful"].group(1)) if found["Successful"] else 0
            failed = int(found["Failed"].group(1)) if found["Failed"] else 0
        return SippResult(
            returncode=None if self.proc is None else self.proc.poll(), successful=successful, failed=failed,
            messages=parse_message_log(self._read("messages.log")), logs=self._read("logs.log").splitlines(),
            errors=self._read("errors.log"), stderr=self._read("stderr.txt"), timed_out=self._timed_out,
            workdir=self.workdir, stats=stats)

    def __enter__(self) -> Sipp:
        return self if self.proc is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()

    async def __aenter__(self) -> Sipp:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.kill()
