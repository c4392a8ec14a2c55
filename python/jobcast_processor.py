"""Write a jobcast processor in Python: one function, called once per file.

    from jobcast_processor import run

    def process(file, ctx):
        # file.path, file.name, file.size, file.type, file.index
        # ctx.progress(done, total), ctx.options, ctx.output_path, ctx.cancelled, ctx.log(msg)
        return {"any": "JSON-serialisable result"}

    run(process)

Put the script in jobcast's --processor-dir (named after the file: rows.py is the
processor `rows`). jobcast starts it once and sends it file after file, so whatever
the module loads at the top (a model, a database connection) is loaded once.

Run by hand, `python3 rows.py FILE...` processes the files given and prints each
result, which is a quick way to try a processor without the server.

Standard library only, Python 3.9 or newer. The line protocol it speaks with the
server is described in jobcast's README ("Processors in any language").
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any, Callable, Optional

__all__ = ["run", "File", "Context", "Cancelled", "PROTOCOL_VERSION"]

PROTOCOL_VERSION = 1

# Set by the server in every processor it starts; the server's side of the handshake.
_UNDER_JOBCAST = os.environ.get("JOBCAST_PROTOCOL") is not None


class Cancelled(Exception):
    """Raised by ctx.check_cancelled() once the file is cancelled or timed out."""


class File:
    """The file to process. `path` is where to read it; `name` is the client's name for it (data only)."""

    __slots__ = ("path", "name", "size", "type", "index")

    def __init__(self, path: str, name: str, size: int, type: str, index: int) -> None:
        self.path = path
        self.name = name
        self.size = size
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        return f"File(name={self.name!r}, size={self.size}, index={self.index}, path={self.path!r})"


class _Channel:
    """Protocol lines to the server, one JSON object per line, from any thread."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        data = (json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self._out.write(data)
            self._out.flush()


class Context:
    """What process() gets besides the file."""

    def __init__(self, channel: Optional[_Channel], options: dict, output_path: str, job_id: str, interval_s: float) -> None:
        self.options: dict = options
        """The job's `options` object, as uploaded."""
        self.output_path: str = output_path
        """Where to write an output file, if the processor makes one; it can then be downloaded."""
        self.job_id: str = job_id
        self._channel = channel
        self._cancel = threading.Event()
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._last_sent = 0.0
        self._pending: Optional[dict] = None
        self._timer: Optional[threading.Timer] = None
        self._open = True

    @property
    def cancelled(self) -> bool:
        """True once the job is cancelled, the server stops, or --file-timeout passes: return or raise soon."""
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raises Cancelled if the file was cancelled."""
        if self._cancel.is_set():
            raise Cancelled("the file was cancelled")

    def wait(self, seconds: float) -> bool:
        """Sleeps up to `seconds`, waking early on cancel; returns whether the file was cancelled."""
        return self._cancel.wait(seconds)

    def progress(self, done: float, total: Optional[float] = None) -> None:
        """Reports progress in any unit (give `total` so bars and ETAs can be drawn). Cheap to call often."""
        message = {"type": "progress", "done": done, "total": total}
        with self._lock:
            if not self._open:
                return
            now = time.monotonic()
            wait_s = self._last_sent + self._interval_s - now
            if wait_s <= 0:
                # The server keeps one value per --progress-interval; sending more would only
                # cost both sides time, so the rest wait here and only the latest is sent.
                self._cancel_timer()
                self._pending = None
                self._last_sent = now
                self._send(message)
                return
            self._pending = message
            if self._timer is None:
                self._timer = threading.Timer(wait_s, self._flush)
                self._timer.daemon = True
                self._timer.start()

    def log(self, message: str) -> None:
        """A line in the server log, tagged with the job and the file."""
        self._send({"type": "log", "message": str(message)})

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if not self._open or self._pending is None:
                return
            message, self._pending = self._pending, None
            self._last_sent = time.monotonic()
            self._send(message)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close(self) -> None:
        with self._lock:
            self._open = False
            self._pending = None
            self._cancel_timer()

    def _send(self, message: dict) -> None:
        if self._channel is not None:
            try:
                self._channel.send(message)
            except ValueError:
                # A NaN or an infinity in a progress value: not JSON, so not sent.
                pass
        elif message["type"] == "log":
            print(f"[log] {message['message']}", file=sys.stderr)
        else:
            total = message.get("total")
            print(f"[progress] {message['done']}" + (f" / {total}" if total is not None else ""), file=sys.stderr)


Processor = Callable[[File, Context], Any]


def run(process: Processor) -> None:
    """Serves files to `process` until the server closes stdin. Call it last in the script."""
    if not _UNDER_JOBCAST:
        _run_by_hand(process, sys.argv[1:])
        return
    _Server(process).serve()


class _Server:
    def __init__(self, process: Processor) -> None:
        self._process = process
        self._channel = _Channel(_PROTOCOL_OUT)
        self._requests: "queue.Queue[Optional[dict]]" = queue.Queue()
        self._current: Optional[Context] = None
        self._state_lock = threading.Lock()

    def serve(self) -> None:
        _die_with_parent()
        threading.Thread(target=self._read, name="jobcast-stdin", daemon=True).start()
        self._channel.send({"type": "ready", "protocol": PROTOCOL_VERSION})
        while True:
            request = self._requests.get()
            if request is None:
                return
            self._serve_one(request)

    def _serve_one(self, request: dict) -> None:
        f = request["file"]
        file = File(f["path"], f["name"], f["size"], f.get("type", ""), f["index"])
        interval_s = max(float(request.get("progressIntervalMs", 100)), 0.0) / 1000
        ctx = Context(self._channel, request.get("options") or {}, request["outputPath"], request.get("job", ""), interval_s)
        with self._state_lock:
            self._current = ctx
        answer = _call(self._process, file, ctx)
        ctx._close()
        # Cleared before answering: a cancel that crosses the answer must not touch the next file.
        with self._state_lock:
            self._current = None
        self._channel.send(answer)

    def _read(self) -> None:
        for raw in _PROTOCOL_IN:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "process":
                self._requests.put(message)
            elif kind == "cancel":
                with self._state_lock:
                    if self._current is not None:
                        self._current._cancel.set()
        # End of stdin: the server is stopping us, or is gone. Between files, return from
        # run() normally (atexit handlers and `finally` blocks run); in the middle of a file
        # nobody is left to answer to, so exit at once.
        with self._state_lock:
            busy = self._current is not None
        if busy:
            os._exit(1)
        self._requests.put(None)


def _call(process: Processor, file: File, ctx: Context) -> dict:
    """Runs process() and returns the line that ends the file."""
    try:
        result = process(file, ctx)
    except Cancelled as error:
        return {"type": "error", "message": str(error) or "cancelled"}
    except Exception as error:  # noqa: BLE001 - every failure of the user's code fails the file, not the process
        traceback.print_exc(file=sys.stderr)
        return {"type": "error", "message": f"{type(error).__name__}: {error}"}
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as error:
        return {"type": "error", "message": f"the result is not JSON-serialisable: {error}"}
    return {"type": "result", "result": result}


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this process when the server dies (a second line of defence)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - optional: stdin end-of-file and the server's watcher still apply
        return
    if os.getppid() == 1:
        # The server died before prctl took effect.
        os._exit(1)


def _run_by_hand(process: Processor, paths: list) -> None:
    if not paths:
        print("usage: python3 SCRIPT FILE... (or put the script in jobcast's --processor-dir)", file=sys.stderr)
        sys.exit(2)
    options = json.loads(os.environ.get("JOBCAST_OPTIONS", "{}"))
    code = 0
    for index, path in enumerate(paths):
        file = File(os.path.abspath(path), os.path.basename(path), os.path.getsize(path), "", index)
        ctx = Context(None, options, os.path.abspath(path) + ".out", "by-hand", 0.5)
        answer = _call(process, file, ctx)
        ctx._close()
        print(json.dumps({"file": path, **{k: v for k, v in answer.items() if k != "type"}}))
        code = code or (1 if answer["type"] == "error" else 0)
    sys.exit(code)


def _take_protocol_streams() -> "tuple[Any, Any]":
    """
    Keeps stdin and stdout for the protocol and gives the processor's code harmless ones:
    print() and C libraries writing to fd 1 go to stderr (the server log), and reading
    stdin reads nothing, so neither can corrupt the protocol.
    """
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return protocol_in, protocol_out


if _UNDER_JOBCAST:
    # At import, before the rest of the processor's module runs: a print() at its top
    # level already goes to stderr.
    _PROTOCOL_IN, _PROTOCOL_OUT = _take_protocol_streams()
