"""Reference receiver for Callbox cloud sync: what a vendor's cloud must do, in the standard library.

It checks the bearer token, stores each record once per (device id, stream, seq) in one
transaction per batch, keeps the latest version of each call record, event, incident and
snapshot, and answers {"batch_key", "ack", "accepted", "duplicates"}: a batch sent again (its
answer was lost) changes nothing. The tests run it on 127.0.0.1; standalone:

    python appliance/cloud/receiver.py --db received.sqlite3 --port 8099 --token-file token.txt
        [--bind 127.0.0.1] [--cert cert.pem --key key.pem]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hmac
import json
import logging
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("callbox.receiver")
SCHEMA = "callbox-sync/1"
KINDS = {"event", "call", "incident", "snapshot"}
MAX_BODY = 8 << 20
TABLES = """
CREATE TABLE IF NOT EXISTS record (device TEXT, stream TEXT, seq INTEGER, kind TEXT, ref TEXT, at TEXT,
    data TEXT, batch_key TEXT, PRIMARY KEY (device, stream, seq));
CREATE TABLE IF NOT EXISTS latest (device TEXT, kind TEXT, ref TEXT, seq INTEGER, data TEXT,
    PRIMARY KEY (device, kind, ref));
CREATE TABLE IF NOT EXISTS batch (device TEXT, stream TEXT, batch_key TEXT, received_at REAL,
    accepted INTEGER, duplicates INTEGER);
"""


class Store:
    """The received records in SQLite, one writer at a time."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(TABLES)
        self.lock = threading.Lock()

    def apply(self, batch: dict[str, Any]) -> tuple[int, int]:
        """Store a batch's new records in one transaction; returns (accepted, duplicates)."""
        device, stream, key = batch["device_id"], batch["stream"], batch["batch_key"]
        accepted = 0
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for rec in batch["records"]:
                    data = json.dumps(rec["data"], separators=(",", ":"), ensure_ascii=False)
                    cur = self.conn.execute(
                        "INSERT OR IGNORE INTO record VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (device, stream, rec["seq"], rec["kind"], rec["ref"], rec["at"], data, key))
                    if cur.rowcount:
                        accepted += 1
                        self.conn.execute(
                            "INSERT INTO latest VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, kind, ref) DO UPDATE"
                            " SET seq = excluded.seq, data = excluded.data WHERE excluded.seq > latest.seq",
                            (device, rec["kind"], rec["ref"], rec["seq"], data))
                duplicates = len(batch["records"]) - accepted
                self.conn.execute("INSERT INTO batch VALUES (?, ?, ?, ?, ?, ?)",
                                  (device, stream, key, time.time(), accepted, duplicates))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return accepted, duplicates

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the store (tests and the stats page)."""
        with self.lock:
            return self.conn.execute(sql, args).fetchall()


@dataclasses.dataclass
class Faults:
    """Misbehaviour on demand, for tests: the failures a real cloud shows."""

    fail_next: int = 0  # answer 500 without storing
    lose_answer_next: int = 0  # store, then close the connection without answering
    delay_s: float = 0.0  # wait before storing
    on_request: Callable[[], None] | None = None  # called as a POST arrives
    on_batch: Callable[[dict[str, Any]], None] | None = None  # called with each well-formed batch


def check(batch: Any) -> str | None:
    """What is wrong with a batch's shape, or None."""
    if not isinstance(batch, dict) or batch.get("schema") != SCHEMA:
        return f"schema must be {SCHEMA}"
    for name in ("device_id", "stream", "batch_key"):
        if not isinstance(batch.get(name), str) or not batch[name]:
            return f"{name} must be a non-empty string"
    records = batch.get("records")
    if not isinstance(records, list) or not records:
        return "records must be a non-empty list"
    for rec in records:
        if not (isinstance(rec, dict) and isinstance(rec.get("seq"), int) and rec.get("kind") in KINDS
                and isinstance(rec.get("ref"), str) and isinstance(rec.get("at"), str)
                and isinstance(rec.get("data"), dict)):
            return "each record needs seq (integer), kind, ref, at and data"
    return None


class Handler(BaseHTTPRequestHandler):
    """POST a batch; GET /healthz."""

    server: Receiver
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Liveness, for load balancers."""
        self._answer(200, {"status": "ok"} if self.path == "/healthz" else {"error": "not found"})

    def do_POST(self) -> None:
        """Store one batch, exactly once in effect."""
        srv = self.server
        if srv.faults.on_request is not None:
            srv.faults.on_request()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._answer(413, {"error": f"batches above {MAX_BODY} bytes are refused"})
            return
        body = self.rfile.read(length)
        if not hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {srv.token}"):
            self._answer(401, {"error": "bad or missing bearer token"})
            return
        try:
            batch = json.loads(body)
        except ValueError:
            self._answer(400, {"error": "body is not JSON"})
            return
        problem = check(batch)
        if problem is None and self.headers.get("Idempotency-Key", batch["batch_key"]) != batch["batch_key"]:
            problem = "Idempotency-Key header differs from batch_key"
        if problem is not None:
            self._answer(400, {"error": problem})
            return
        self._store(batch)

    def _store(self, batch: dict[str, Any]) -> None:
        srv = self.server
        if srv.faults.on_batch is not None:
            srv.faults.on_batch(batch)
        with srv.faults_lock:
            fail = srv.faults.fail_next > 0
            srv.faults.fail_next -= fail
        if fail:
            self._answer(500, {"error": "injected failure"})
            return
        time.sleep(srv.faults.delay_s)
        accepted, duplicates = srv.store.apply(batch)
        with srv.faults_lock:
            lose = srv.faults.lose_answer_next > 0
            srv.faults.lose_answer_next -= lose
        if lose:
            self.close_connection = True  # committed, but the box never hears of it
            return
        self._answer(200, {"batch_key": batch["batch_key"], "ack": max(r["seq"] for r in batch["records"]),
                           "accepted": accepted, "duplicates": duplicates})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the box went away; it will send again
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Route the access log to logging."""
        log.debug("%s %s", self.address_string(), format % args)


class Receiver(ThreadingHTTPServer):
    """The HTTP(S) server around a Store."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, token: str, faults: Faults | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(address, Handler)
        self.store, self.token, self.faults = store, token, faults or Faults()
        self.faults_lock = threading.Lock()
        self._open: set[socket.socket] = set()
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection and remember it, so `stop` can cut kept-alive ones too."""
        conn, address = super().get_request()
        with self.faults_lock:
            self._open.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection as it closes."""
        with self.faults_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def start(self) -> threading.Thread:
        """Serve in a background thread."""
        thread = threading.Thread(target=self.serve_forever, name="receiver", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.shutdown()
        self.server_close()
        with self.faults_lock:
            live, self._open = list(self._open), set()
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def main(argv: list[str] | None = None) -> None:
    """Run the receiver until interrupted."""
    parser = argparse.ArgumentParser(description="Callbox cloud sync reference receiver")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    args = parser.parse_args(argv)
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = Receiver((args.bind, args.port), Store(args.db), args.token_file.read_text().strip(), tls=tls)
    log.info("receiving on %s:%d into %s", args.bind, server.server_address[1], args.db)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
