"""objgraph-doctest's Python side: a warm interpreter that forks one process per page.

Embedded in the objgraph-doctest binary and run as `python -c <this> SOCKET PRELOAD...`.
Every process connects to the Unix socket SOCKET and speaks JSON lines over that connection
only: nothing an example prints, writes to fd 1/2 or spawns can reach the protocol.

Roles:
- zygote: imports the PRELOAD modules once, then forks a page process per "fork" request.
- page: runs one page's examples, one "run" request at a time, exactly as doctest's
  DocTestRunner.__run runs an example (compile in 'single' mode as <doctest NAME[i]>,
  sys.stdout captured, displayhook reset, exception formatted as doctest formats it).
  Judging the output is not done here: the engine in Rust does it.

The page process must leave no objects of its own behind between examples:
objgraph.show_growth() and gc.get_objects() see everything. Results are sent as bytes and
nothing is kept but the sources of earlier examples (strings, which gc does not track) for
tracebacks.
"""

import doctest
import gc
import json
import linecache
import os
import re
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
import traceback


def send(sock, message):
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "backslashreplace")
    sock.sendall(data + b"\n")


class Lines:
    """JSON lines from a socket, with our own buffer so that select() tells the truth."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def has_line(self):
        return b"\n" in self.buffer

    def read(self):
        """The next message, or None when the other end has gone."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def load_libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:
        return None


LIBC = load_libc()


def die_with_parent():
    """Ask Linux to kill this process when its parent dies (no orphans if the zygote dies)."""
    PR_SET_PDEATHSIG = 1
    try:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


class CappedOutput(doctest._SpoofOut):
    """doctest's _SpoofOut, keeping at most `cap` characters of an example's output."""

    cap = 8 * 1024 * 1024
    truncated = False

    def write(self, text):
        if not isinstance(text, str):
            return super().write(text)
        room = self.cap - self.tell()
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        if text:
            super().write(text)
        return len(text)

    def truncate(self, size=None):
        self.truncated = False
        self.seek(0)
        return super().truncate(size)


SOURCES = {}
DOCTEST_FILENAME = re.compile(r"<doctest (?P<name>.+)\[(?P<examplenum>\d+)\]>$")
ORIGINAL_GETLINES = linecache.getlines


def patched_getlines(filename, module_globals=None):
    """doctest's linecache patch: tracebacks show the lines of examples."""
    match = DOCTEST_FILENAME.match(filename)
    if match and filename in SOURCES:
        return SOURCES[filename].splitlines(keepends=True)
    return ORIGINAL_GETLINES(filename, module_globals)


def format_exception(exception):
    """What DocTestRunner.__run compares (exc_msg) and appends to got (the traceback)."""
    formatted = traceback.format_exception_only(*exception[:2])
    if issubclass(exception[0], SyntaxError):
        prefixes = (
            f"{exception[0].__qualname__}:",
            f"{exception[0].__module__}.{exception[0].__qualname__}:",
        )
        for index, line in enumerate(formatted):
            if line.startswith(prefixes):
                formatted = formatted[index:]
                break
    exc_msg = "".join(formatted)
    kind = exception[0]
    type_name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        type_name = f"{kind.__module__}.{type_name}"
    try:
        message = str(exception[1])
    except Exception:
        message = "<unprintable exception>"
    return {
        "type": type_name,
        "message": message,
        "exc_msg": exc_msg,
        "traceback": doctest._exception_traceback(exception),
    }


def run_example(request, globs, fakeout, name):
    """One example, as DocTestRunner.__run runs it."""
    filename = "<doctest %s[%d]>" % (name, request["index"])
    SOURCES[filename] = request["source"]
    fakeout.truncate(0)
    started = time.perf_counter_ns()
    try:
        exec(compile(request["source"], filename, "single", 0, True), globs)
        exception = None
    except KeyboardInterrupt:
        raise
    except BaseException:
        kind, value, trace = sys.exc_info()
        # Our own frame is not the user's business: tracebacks start at the example.
        exception = (kind, value, trace.tb_next if trace is not None else None)
        kind = value = trace = None
    duration = time.perf_counter_ns() - started
    got = fakeout.getvalue()
    truncated = fakeout.truncated
    fakeout.truncate(0)
    result = {
        "event": "result",
        "index": request["index"],
        "got": got,
        "truncated": truncated,
        "exception": None,
        "duration_ns": duration,
    }
    if exception is not None:
        formatted = format_exception(exception)
        result["exception"] = formatted
        result["got"] = got + formatted["traceback"]
        exception = formatted = None
    return result


def run_page(sock, reader, setup, socket_path):
    """The page process: fresh globals in a fresh directory, then examples on request."""
    workdir = setup["workdir"]
    os.chdir(workdir)
    tempfile.tempdir = workdir
    if setup.get("memory_limit"):
        import resource

        limit = setup["memory_limit"]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    CappedOutput.cap = setup.get("output_cap") or CappedOutput.cap
    globs = {"__name__": "__main__", "__file__": setup["path"]}
    name = setup["name"]
    fakeout = CappedOutput()
    real_stdout = sys.stdout
    sys.stdout = fakeout
    sys.displayhook = sys.__displayhook__
    linecache.getlines = patched_getlines
    try:
        if setup.get("setup_code"):
            exec(compile(setup["setup_code"], "<objgraph-doctest setup>", "exec"), globs)
    except BaseException:
        sys.stdout = real_stdout
        send(sock, {"event": "setup_error", "traceback": traceback.format_exc()})
        return
    send(sock, {"event": "ready"})
    setup = None
    while True:
        request = reader.read()
        if request is None or request["op"] == "exit":
            return
        if request["op"] == "run":
            result = run_example(request, globs, fakeout, name)
            request = None
            sys.stdout = real_stdout
            send(sock, result)
            sys.stdout = fakeout
            result = None
        elif request["op"] == "checkpoint":
            token = request["token"]
            request = None
            sys.stdout = real_stdout
            sock, reader, workdir = checkpoint(sock, reader, token, socket_path, workdir)
            sys.stdout = fakeout
            token = None


def checkpoint(sock, reader, token, socket_path, workdir):
    """Fork here. The parent stays, paused, as the state before the next example: it keeps
    its connection and, on each "resume", forks a new runner from that state. The child goes
    on as the runner over a connection of its own. Returns the runner's connection and
    working directory.

    Files are not copied by fork, so the checkpoint keeps a copy of the working directory
    and each runner it starts gets that copy in a directory of its own.
    """
    snapshot = tempfile.mkdtemp(prefix="checkpoint-", dir=os.path.dirname(socket_path))
    copy_workdir(workdir, snapshot)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = workdir  # the page deleted its working directory
    relative_cwd = os.path.relpath(cwd, workdir) if cwd.startswith(workdir) else "."
    # Runners forked from here end as this process's children: reap them automatically.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    restore_into = None
    while True:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            die_with_parent()
            sock.close()
            if restore_into is not None:
                copy_workdir(snapshot, restore_into)
                workdir = restore_into
                try:
                    os.chdir(os.path.join(workdir, relative_cwd))
                except OSError:
                    os.chdir(workdir)
                tempfile.tempdir = workdir
            runner = connect(socket_path)
            send(runner, {"event": "hello", "role": "page", "token": token, "pid": os.getpid()})
            return runner, Lines(runner), workdir
        send(sock, {"event": "forked", "token": token, "pid": pid})
        while True:
            request = reader.read()
            if request is None or request["op"] == "exit":
                shutil.rmtree(snapshot, ignore_errors=True)
                os._exit(0)
            if request["op"] == "resume":
                token, restore_into = request["token"], request["workdir"]
                break


def copy_regular_file(source, target):
    """copytree's copy function for checkpoints: regular files only. Opening a FIFO the page
    made would block the checkpoint forever; sockets and devices cannot be copied either."""
    if stat.S_ISREG(os.lstat(source).st_mode):
        shutil.copy2(source, target)


def copy_workdir(source, target):
    """Copies a page's working directory for a checkpoint, never failing: a directory the
    page deleted (or changes while it is copied) leaves what could be copied."""
    try:
        shutil.copytree(
            source, target, symlinks=True, dirs_exist_ok=True, copy_function=copy_regular_file
        )
    except (OSError, shutil.Error):
        pass


def preload_modules(preload):
    preloaded, failed = [], {}
    for module in preload:
        try:
            __import__(module)
            preloaded.append(module)
        except BaseException as error:
            failed[module] = f"{type(error).__name__}: {error}"
    return preloaded, failed


def interpreter_hello(preloaded, failed):
    return {
        "event": "hello",
        "role": "zygote",
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "preloaded": preloaded,
        "preload_errors": failed,
        "fork": hasattr(os, "fork"),
    }


def serve_zygote(socket_path, preload):
    preloaded, failed = preload_modules(preload)
    gc.collect()
    sock = connect(socket_path)
    reader = Lines(sock)
    send(sock, interpreter_hello(preloaded, failed))
    while True:
        if not reader.has_line():
            ready, _, _ = select.select([sock], [], [], 0.05)
            reap_children(sock)
            if not ready:
                continue
        request = reader.read()
        if request is None or request["op"] == "exit":
            break
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                sock.close()
                become_page(socket_path, request["token"])
                os._exit(0)
            send(sock, {"event": "forked", "token": request["token"], "pid": pid})
    os._exit(0)


def reap_children(sock):
    """Collect finished page processes and say how each ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if os.WIFSIGNALED(status):
            ended = {"code": None, "signal": os.WTERMSIG(status)}
        else:
            ended = {"code": os.waitstatus_to_exitcode(status), "signal": None}
        send(sock, {"event": "exited", "pid": pid, **ended})


def become_page(socket_path, token):
    os.setpgid(0, 0)
    die_with_parent()
    sock = connect(socket_path)
    reader = Lines(sock)
    send(sock, {"event": "hello", "role": "page", "token": token, "pid": os.getpid()})
    setup = reader.read()
    if setup is None or setup.get("op") != "setup":
        return
    run_page(sock, reader, setup, socket_path)
    sys.stdout.flush()


def main():
    socket_path, mode = sys.argv[1], sys.argv[2]
    preload = [name for name in sys.argv[3:] if name]
    if mode == "zygote":
        serve_zygote(socket_path, preload)
    elif mode == "probe":
        # No fork: report what this interpreter is, then each page gets a fresh one.
        sock = connect(socket_path)
        send(sock, interpreter_hello(*preload_modules(preload)))
        sock.close()
    else:
        preload_modules(preload)
        become_page(socket_path, mode)


main()
