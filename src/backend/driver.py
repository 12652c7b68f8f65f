"""objgraph-doctest's Python side: a warm interpreter that forks one process per page.

Embedded in the objgraph-doctest binary and run as `python -c <this> SOCKET PRELOAD...`.
Every process speaks JSON lines over its own connection only: nothing an example prints,
writes to fd 1/2 or spawns can reach the protocol. A page forked by the zygote gets its
connection with the "fork" request (a socket pair's end, SCM_RIGHTS); every other process
connects to the Unix socket SOCKET.

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

This file must parse, and run as far as its hello, on any Python from 2.7 on (no f-strings,
no newer syntax), so that an interpreter older than 3.9 is refused with a message saying so
(tests/interpreters.rs) instead of a SyntaxError.
"""

import array
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

# What the driver itself calls, captured before any example runs: an example may replace
# json.dumps, socket.socket.sendall or os.getpid, and must still get doctest's verdict.
_encode = json.JSONEncoder(ensure_ascii=False).encode
_decode = json.JSONDecoder().decode
_sendall = socket.socket.sendall
_recv = socket.socket.recv
_getpid = os.getpid
_monotonic = getattr(time, "monotonic", time.time)  # Python 2 has none; refused anyway
_perf_counter_ns = getattr(time, "perf_counter_ns", None)  # 3.7 on; older ones are refused
_exit = os._exit
_fork = os.fork
_kill = os.kill
_waitpid = os.waitpid
_select = select.select
_format_exc = traceback.format_exc
_format_exception = traceback.format_exception
# Lone surrogates cannot be encoded as UTF-8 (nor read by serde_json as escapes): they
# are sent as U+FFFD, the replacement documented in docs/processes.md.
_lone_surrogates = re.compile("[\ud800-\udfff]").sub

# The process that may use our sockets. A child that an example forks (and that returns
# into driver code) is not it: it exits quietly instead of speaking on our connection.
OWNER = [0]
# Our connections, closed in every forked child (see `forked_child`).
OUR_SOCKETS = []


def become_owner():
    OWNER[0] = _getpid()


def forked_child():
    """Runs in every child of os.fork(): our connections are not the child's to use."""
    for sock in OUR_SOCKETS:
        try:
            sock.close()
        except Exception:
            pass
    del OUR_SOCKETS[:]
    forget_result_log()


def forget_result_log():
    """A checkpoint, and any child an example forks, writes no results log."""
    RESULTS.address = None


def clean(value):
    """`value` with every string made encodable (lone surrogates replaced)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return _lone_surrogates("\ufffd", value)
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def encoded(message):
    """`message` as one JSON line."""
    # Lone surrogates are rare: `message` is walked for them only when encoding fails,
    # not once per example (the walk cost more than the encoding).
    try:
        return _encode(message).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        cleaned = clean(message)
        if isinstance(cleaned, dict) and cleaned.get("event") == "result":
            # Judging and --update must know that U+FFFD stands for what was printed.
            cleaned["lossy"] = True
        return _encode(cleaned).encode("utf-8") + b"\n"


def send(sock, message):
    if _getpid() != OWNER[0]:
        _exit(0)
    _sendall(sock, encoded(message))


class Results:
    """A stream's results on their way to objgraph-doctest. A forked page has a results
    log: a memfd that came with its connection, mapped into memory (see map_result_log).
    Each result is copied there at once, which takes no system call and wakes nobody, and
    sent on the connection in batches: when the stream ends or holds, when the page is to
    wait for more requests, past BATCH_BYTES, or once BATCH_SECONDS went by since the last
    send. Whatever happens to the page next (a crash, an example that never ends and is
    killed), the other end reads from the log what it was not sent. After each send the log
    starts again (what was sent stays readable in the socket after we are gone); a NUL byte
    ends what it holds. Without a log, each result is sent as it comes.

    One instance, made in the zygote (RESULTS): a stream makes no object gc would count, and
    the batch is a bytearray, which gc does not track. `address` is where a forked page's
    log is mapped (None: no log)."""

    # docs/processes.md says how much later a timeout is then seen: at most this.
    BATCH_SECONDS = 0.01
    BATCH_BYTES = 32 * 1024

    def __init__(self):
        self.sock = self.address = None
        self.pending = bytearray()
        self.used = 0
        self.sent_at = 0.0

    def start(self, sock):
        """A stream begins, on `sock`."""
        self.sock = sock
        del self.pending[:]
        self.used = 0
        self.sent_at = _monotonic()

    def add(self, result, now):
        """Queues `result`; sends the queue with `now` (True: the stream ends or holds)."""
        if _getpid() != OWNER[0]:
            _exit(0)
        data = encoded(result)
        if self.address is not None and self.used + len(data) + 1 > LOG_SIZE:
            self.flush()
        if self.address is None or len(data) + 1 > LOG_SIZE:
            # No log, or a result larger than it: it goes on its own (after what waits).
            self.flush()
            _sendall(self.sock, data)
            return
        _memmove(self.address + self.used, data + b"\0", len(data) + 1)
        self.used += len(data)
        self.pending += data
        if (
            now
            or len(self.pending) >= self.BATCH_BYTES
            or _monotonic() - self.sent_at >= self.BATCH_SECONDS
        ):
            self.flush()

    def flush(self):
        if not self.pending:
            return
        _sendall(self.sock, self.pending)
        del self.pending[:]
        self.sent_at = _monotonic()
        # Sent: the log starts again, so it never holds more than one batch.
        self.used = 0
        _memmove(self.address, b"\0", 1)


RESULTS = Results()

# The results log's size: a batch, and the result that overflows it, fit many times over.
LOG_SIZE = 1 << 20


def map_result_log(fd):
    """The results log (the memfd `fd`) mapped into memory: its address, or None when it
    cannot be. The descriptor is closed: written through memory, the log needs none, and an
    example that closes descriptors, or gets ours again for a file it opens, cannot make us
    write anywhere else."""
    try:
        if fd is None or _mmap is None:
            return None
        os.ftruncate(fd, LOG_SIZE)
        # PROT_READ | PROT_WRITE, MAP_SHARED
        address = _mmap(None, LOG_SIZE, 0x1 | 0x2, 0x01, fd, 0)
        if address is None or address == MAP_FAILED:
            return None
        return address
    except Exception:
        return None
    finally:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


class Lines:
    """JSON lines from a socket, with our own buffer so that select() tells the truth."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def has_line(self):
        return b"\n" in self.buffer

    def receive(self):
        return _recv(self.sock, 1 << 16)

    def read(self):
        """The next message, or None when the other end has gone."""
        if _getpid() != OWNER[0]:
            _exit(0)
        while b"\n" not in self.buffer:
            chunk = self.receive()
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return _decode(line.decode("utf-8"))

    def _fill(self, lines):
        """Reads until `lines` whole lines are buffered; False when the other end has gone."""
        while self.buffer.count(b"\n") < lines:
            chunk = self.receive()
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def skip(self, lines):
        """Drops the next `lines` lines; False when the other end has gone."""
        if not self._fill(lines):
            return False
        for _ in range(lines):
            self.buffer = self.buffer.partition(b"\n")[2]
        return True

    def read_after(self, lines):
        """The message after the next `lines` lines, which stay to be read; None when the
        other end has gone."""
        if _getpid() != OWNER[0]:
            _exit(0)
        if not self._fill(lines + 1):
            return None
        end = 0
        for _ in range(lines):
            end = self.buffer.index(b"\n", end) + 1
        stop = self.buffer.index(b"\n", end)
        line = self.buffer[end:stop]
        self.buffer = self.buffer[:end] + self.buffer[stop + 1 :]
        return _decode(line.decode("utf-8"))


CMSG_CLOEXEC = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


class RequestsWithSockets(Lines):
    """The zygote's requests: each "fork" line comes with one end of a socket pair and,
    when it says "log", the page's results log after it (SCM_RIGHTS on its first byte),
    kept in `sockets` in arrival order. Linux hands over a message's descriptors with its
    bytes and never joins two messages' in one recvmsg, so the descriptors are taken in
    the order the fork lines are read. They are close-on-exec: a program an example runs
    gets none of them."""

    # Room for more descriptors than one recvmsg can bring (one per message).
    SPACE = None

    def __init__(self, sock):
        Lines.__init__(self, sock)
        self.sockets = []
        if RequestsWithSockets.SPACE is None:
            RequestsWithSockets.SPACE = socket.CMSG_SPACE(16 * array.array("i").itemsize)

    def receive(self):
        data, ancillary, _, _ = self.sock.recvmsg(1 << 16, self.SPACE, CMSG_CLOEXEC)
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                self.sockets.extend(fds)
        return data


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    OUR_SOCKETS.append(sock)
    return sock


def load_libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:
        return None


LIBC = load_libc()


def libc_mmap():
    """libc's mmap, ctypes' memmove and MAP_FAILED (the mmap module is not imported: it
    would be one more module in every page's sys.modules), or Nones."""
    try:
        import ctypes

        mmap = LIBC.mmap
        mmap.restype = ctypes.c_void_p
        mmap.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        )
        return mmap, ctypes.memmove, ctypes.c_void_p(-1).value
    except Exception:
        return None, None, None


_mmap, _memmove, MAP_FAILED = libc_mmap()


def die_with_parent(parent):
    """Ask Linux to kill this process when its parent dies (no orphans if the zygote dies).
    A parent that died before we asked sends nothing: then we are an orphan already (our
    parent is no longer `parent`), and go."""
    PR_SET_PDEATHSIG = 1
    try:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass
    if os.getppid() != parent:
        _exit(0)


def become_subreaper():
    """Orphans below this process are re-parented to it, not to init: whatever an example
    starts (a double-forked daemon, a new session) stays in our process tree."""
    PR_SET_CHILD_SUBREAPER = 36
    try:
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1)
    except Exception:
        pass


def children_of(parent):
    """The live children of `parent`, from /proc: the kernel's list of each of its threads'
    children when it keeps one (a few reads), else a walk of every process's stat."""
    children = listed_children(parent)
    if children is not None:
        return children
    children = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == parent:
            children.add(int(name))
    return children


def listed_children(parent):
    """The children of `parent` from /proc/PID/task/TID/children, or None when the kernel
    has no such file (CONFIG_PROC_CHILDREN) or `parent` is gone."""
    children = set()
    try:
        threads = os.listdir("/proc/%d/task" % parent)
        for thread in threads:
            with open("/proc/%d/task/%s/children" % (parent, thread), "rb") as file:
                children.update(int(pid) for pid in file.read().split())
    except (OSError, ValueError):
        return None
    return children


def descendants(root):
    """Every live process below `root` (children, their children, ...)."""
    found = set()
    pending = [root]
    while pending:
        for child in children_of(pending.pop()):
            if child not in found and child != root:
                found.add(child)
                pending.append(child)
    return found


def kill_tree(root):
    """SIGKILL `root` and everything below it, each stopped first so none can fork away."""
    stopped = set()
    for _ in range(100):
        fresh = (descendants(root) | {root}) - stopped
        if not fresh:
            break
        for pid in fresh:
            try:
                _kill(pid, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= fresh
    for pid in stopped:
        try:
            _kill(pid, signal.SIGKILL)
        except OSError:
            pass


def reap_children(sock, ours, keep=frozenset()):
    """Collect finished children and say how each of `ours` ended; kill the orphans that
    were re-parented here (we are a subreaper), which are nobody's to keep. Children in
    `keep` (a checkpoint's own, started by examples before it) are not orphans. `ours` maps
    each child's pid to the token it was started for (or None), which its report carries."""
    reaped = False
    while True:
        try:
            pid, status = _waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped = True
        if pid not in ours:
            continue
        token = ours.pop(pid)
        if os.WIFSIGNALED(status):
            ended = {"code": None, "signal": os.WTERMSIG(status)}
        else:
            ended = {"code": os.waitstatus_to_exitcode(status), "signal": None}
        message = {"event": "exited", "pid": pid}
        if token is not None:
            message["token"] = token
        message.update(ended)
        send(sock, message)
    if reaped:
        for orphan in children_of(_getpid()) - set(ours) - keep:
            kill_tree(orphan)


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
            "%s:" % exception[0].__qualname__,
            "%s.%s:" % (exception[0].__module__, exception[0].__qualname__),
        )
        for index, line in enumerate(formatted):
            if line.startswith(prefixes):
                formatted = formatted[index:]
                break
    exc_msg = "".join(formatted)
    kind = exception[0]
    type_name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        type_name = "%s.%s" % (kind.__module__, type_name)
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


class Aborted(Exception):
    """The example did something after which CPython's doctest stops the whole run."""


def run_example(request, globs, fakeout, name):
    """One example, as DocTestRunner.__run runs it (compiled as Sphinx's doctest builder
    compiles it when the request says "exec")."""
    if request.get("doctest_name"):
        filename = "<doctest %s>" % request["doctest_name"]
    else:
        filename = "<doctest %s[%d]>" % (name, request["index"])
    SOURCES[filename] = request["source"]
    mode = "exec" if request.get("mode") == "exec" else "single"
    fakeout.truncate(0)
    started = _perf_counter_ns()
    try:
        exec(compile(request["source"], filename, mode, 0, True), globs)
        exception = None
    except KeyboardInterrupt:
        raise Aborted(
            "the example raised KeyboardInterrupt, which doctest does not catch: "
            "CPython's doctest stops the run here"
        )
    except BaseException:
        kind, value, trace = sys.exc_info()
        # Our own frame is not the user's business: tracebacks start at the example.
        exception = (kind, value, trace.tb_next if trace is not None else None)
        kind = value = trace = None
    duration = _perf_counter_ns() - started
    try:
        got = fakeout.getvalue()
    except ValueError:
        # doctest reads its _SpoofOut whatever sys.stdout now is; a closed one raises there.
        raise Aborted(
            "the example closed sys.stdout (doctest's output capture): CPython's doctest "
            "stops the run here with ValueError: I/O operation on closed file"
        )
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
        # An exception's text is capped as output is: a message of hundreds of megabytes
        # would not fit in a message to objgraph-doctest.
        cap = fakeout.cap
        for key in ("message", "exc_msg", "traceback"):
            if len(formatted[key]) > cap:
                formatted[key] = formatted[key][:cap]
                result["truncated"] = True
                if key == "exc_msg":
                    result["exception_truncated"] = True
        result["exception"] = formatted
        result["got"] = got + formatted["traceback"]
        if len(result["got"]) > cap:
            result["got"] = result["got"][:cap]
            result["truncated"] = True
        outcome = pytest_outcome(exception[1]) if PYTEST_PAGE[0] else None
        if outcome is not None:
            result["pytest_outcome"] = outcome
        exception = formatted = outcome = None
    return result


# True in a page run by pytest's rules (the pytest profiles): set once by run_page.
PYTEST_PAGE = [False]


def pytest_outcome(value):
    """What pytest's doctest runner does with an exception an example raised: an
    `_pytest.outcomes.OutcomeException` (pytest.skip, pytest.fail, pytest.xfail) is re-raised
    and ends the item with that outcome; anything else (unittest.SkipTest included) is an
    unexpected exception. pytest is looked up, never imported: a page that raised one has
    imported it already."""
    outcomes = sys.modules.get("_pytest.outcomes")
    kind = getattr(outcomes, "OutcomeException", None)
    if kind is None or not isinstance(value, kind):
        return None
    try:
        reason = str(getattr(value, "msg", None) or "")
    except Exception:
        reason = ""
    return {"kind": type(value).__name__.lower(), "reason": reason}


def pytest_getfixture(workdir):
    """The `getfixture` pytest puts in a text file's globals. Only `tmp_path` exists here
    (a fresh directory in the page's working directory); a conftest's fixtures do not."""

    def getfixture(name):
        if name == "tmp_path":
            import pathlib

            path = tempfile.mkdtemp(prefix="tmp_path-", dir=workdir)
            return pathlib.Path(path)
        raise LookupError(
            "fixture %r not found: objgraph-doctest provides only 'tmp_path' to getfixture; "
            "make what the page needs in the configuration's `setup` code" % (name,)
        )

    return getfixture


def evaluate_condition(request, fakeout):
    """A Sphinx :skipif: condition, as DocTestBuilder.skipped evaluates it: in a fresh
    namespace where the global setup ran, the global cleanup run after. What it prints is
    nobody's output."""
    context = {}
    try:
        if request.get("setup"):
            exec(request["setup"], context)
        value = bool(eval(request["expression"], context))
        if request.get("cleanup"):
            exec(request["cleanup"], context)
        answer = {"event": "evaluated", "value": value}
    except BaseException:
        kind, value, trace = sys.exc_info()
        # Our own frame is not the user's business, as for examples.
        trace = trace.tb_next if trace is not None else None
        answer = {"event": "evaluated", "error": "".join(_format_exception(kind, value, trace))}
        kind = value = trace = None
    context = None
    fakeout.truncate(0)
    return answer


def qualified_type_name(value):
    """The type's name as a traceback names it: module-qualified unless a builtin or the
    page's own (`__main__`)."""
    kind = type(value)
    name = getattr(kind, "__qualname__", kind.__name__)
    module = getattr(kind, "__module__", "builtins")
    if module in ("builtins", "__main__"):
        return name
    return "%s.%s" % (module, name)


def capped_repr(value, cap):
    """reprlib's repr (containers shortened, long strings cut), then cut at `cap`
    characters. A __repr__ that raises is described, not raised; one that never returns is
    ended by the deadline on the Rust side (this runs in a throwaway fork)."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxlevel = 3
    shortener.maxstring = shortener.maxother = shortener.maxlong = max(cap, 40)
    try:
        # reprlib shortens the builtin containers and strings; any other object's own
        # __repr__ is called as is (reprlib would hide what it raises).
        if hasattr(shortener, "repr_" + "_".join(type(value).__name__.split())):
            text = shortener.repr(value)
        else:
            text = repr(value)
    except BaseException as error:
        try:
            text = "<repr raised %s: %s>" % (type(error).__name__, error)
        except BaseException:
            text = "<repr raised %s>" % type(error).__name__
    if not isinstance(text, str):
        text = "<repr returned %s>" % type(text).__name__
    if len(text) > cap:
        return text[:cap], True
    return text, False


def look_up(expression, namespace):
    """`expression` (a name or dotted name, checked here) in `namespace`, then builtins."""
    parts = expression.split(".")
    if not all(part.isidentifier() for part in parts):
        raise ValueError("%r is not a name or dotted name" % expression)
    if parts[0] in namespace:
        value = namespace[parts[0]]
    else:
        import builtins

        if not hasattr(builtins, parts[0]):
            raise NameError("name %r is not defined" % parts[0])
        value = getattr(builtins, parts[0])
    for part in parts[1:]:
        value = getattr(value, part)
    return value


def draw_refs(value, draw, fakeout):
    """objgraph.show_refs or show_backrefs of `value` into draw["filename"]."""
    try:
        import objgraph
    except BaseException as error:
        return {
            "draw_error": "objgraph is not importable in this interpreter (%s: %s): "
            "install it where the page runs (`python -m pip install objgraph`)"
            % (type(error).__name__, error)
        }
    show = objgraph.show_refs if draw["kind"] == "refs" else objgraph.show_backrefs
    fakeout.truncate(0)
    try:
        # This frame and inspect_value's hold `value` too (frames are objects gc sees
        # before Python 3.11): they are ours, not the page's.
        ours = [id(sys._getframe()), id(sys._getframe(1))]
        show([value], filename=draw["filename"], max_depth=draw.get("max_depth") or 3,
             extra_ignore=ours)
        error = None
    except BaseException as raised:
        error = "objgraph raised %s: %s" % (type(raised).__name__, raised)
    output = fakeout.getvalue()
    fakeout.truncate(0)
    answer = {"draw_output": output}
    if error is None and os.path.isfile(draw["filename"]):
        answer["drawn"] = draw["filename"]
    else:
        answer["draw_error"] = error or (
            "objgraph made no image (%s): install graphviz's `dot` (scripts/setup does)"
            % (output.strip() or "it printed nothing")
        )
    return answer


def inspect_value(request, namespace, fakeout):
    """The answer to an "inspect" request: the value of a name at this point of the page
    (its type, refcount and a capped repr), and its references drawn when asked. It runs
    in a throwaway fork, so whatever a __repr__ or a property does is forgotten."""
    try:
        value = look_up(request["expression"], namespace)
    except BaseException as error:
        fakeout.truncate(0)
        return {
            "event": "inspected",
            "error": "".join(traceback.format_exception_only(type(error), error)).strip(),
        }
    # Our local `value` and getrefcount's argument: one more than `sys.getrefcount(NAME)`
    # in an example, which holds only the argument.
    refcount = sys.getrefcount(value) - 1
    text, truncated = capped_repr(value, request.get("repr_cap") or 200)
    answer = {
        "event": "inspected",
        "type": qualified_type_name(value),
        "refcount": refcount,
        "repr": text,
        "repr_truncated": truncated,
    }
    if request.get("draw"):
        answer.update(draw_refs(value, request["draw"], fakeout))
    fakeout.truncate(0)
    return answer


# pytest-doctestplus's IGNORE_WARNINGS and SHOW_WARNINGS: it runs such an example inside a
# `with` block of a context manager it defines in the page's globals under these names (its
# first example); so do we, the first time one is needed.
WARNING_CONTEXTS = {
    "ignore": (
        "_doctestplus_ignore_all_warnings",
        """
class _doctestplus_ignore_all_warnings:
    def __init__(self):
        import warnings
        self._catcher = warnings.catch_warnings()

    def __enter__(self, *args, **kwargs):
        import warnings
        entered = self._catcher.__enter__(*args, **kwargs)
        warnings.simplefilter("ignore")
        return entered

    def __exit__(self, *details):
        return self._catcher.__exit__(*details)
""",
    ),
    "show": (
        "_doctestplus_show_all_warnings",
        """
class _doctestplus_show_all_warnings:
    def __init__(self):
        import warnings
        self._catcher = warnings.catch_warnings(record=True)

    def __enter__(self, *args, **kwargs):
        import warnings
        self.result = self._catcher.__enter__(*args, **kwargs)
        warnings.simplefilter("always")
        return self.result

    def __exit__(self, *details):
        self._catcher.__exit__(*details)
        for caught in self.result:
            print("%s: %s" % (caught._category_name, caught.message))
""",
    ),
}


def with_warnings_caught(request, globs):
    """The example's source inside the `with` block doctestplus wraps it in."""
    name, definition = WARNING_CONTEXTS[request["warnings"]]
    if name not in globs:
        exec(compile(definition, "<objgraph-doctest warnings>", "exec"), globs)
    import textwrap

    return "with %s():\n%s" % (name, textwrap.indent(request["source"], "    "))


IMPORTABLE = {}


def importable(module):
    """pytest-doctestplus's ModuleChecker.check: a module that can be found, or an installed
    distribution satisfying a requirement ("numpy>=1.15"); answers are kept per process."""
    if module not in IMPORTABLE:
        import importlib.util

        try:
            found = importlib.util.find_spec(module) is not None
        except Exception:
            # ImportError for doctestplus too; others (ValueError for "") stop its collection.
            found = False
        if not found:
            try:
                from importlib.metadata import distribution
                from packaging.requirements import Requirement

                requirement = Requirement(module)
                version = distribution(requirement.name).version
                found = requirement.specifier.contains(version, prereleases=True)
            except Exception:
                found = False
        IMPORTABLE[module] = found
    return IMPORTABLE[module]


def missing_requirement(request):
    """Why the example must not run: the first module it requires that is not importable."""
    for module in request.get("requires") or ():
        if not importable(module):
            return (
                "doctest-requires: %r is not importable (nor an installed distribution "
                "satisfying it)" % module
            )
    return None


PAGE_TMPDIR = ".tmp"


def make_private(path):
    """`path` (a directory of ours) is 0700 whatever the umask it was made under. Its mode
    is changed only when it is not that already: a working directory used again has it, and
    a chmod is a journalled write on most file systems."""
    if stat.S_IMODE(os.lstat(path).st_mode) != 0o700:
        os.chmod(path, 0o700)


def use_page_tmpdir(workdir):
    """The page's temporary directory is inside its working directory: what libraries put
    in the temp directory (objgraph's .dot files) is the page's, found and removed with it.
    A working directory used again for another page has it already, empty."""
    tmp = os.path.join(workdir, PAGE_TMPDIR)
    try:
        os.mkdir(tmp, 0o700)
    except FileExistsError:
        pass
    make_private(tmp)
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = tmp


def run_page(sock, reader, setup, socket_path):
    """The page process: fresh globals in a fresh directory, then examples on request."""
    workdir = os.path.abspath(setup["workdir"])
    # Private whatever the umask it was made under: examples' output lands here.
    make_private(workdir)
    os.chdir(workdir)
    use_page_tmpdir(workdir)
    if setup.get("memory_limit"):
        import resource

        limit = setup["memory_limit"]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    CappedOutput.cap = setup.get("output_cap") or CappedOutput.cap
    # In order, first: the profile's `pythonpath` and conftest directories, as pytest inserts them.
    sys.path[:0] = [entry for entry in setup.get("sys_path") or () if entry not in sys.path]
    if setup.get("pytest"):
        # pytest's DoctestTextfile: `__name__` and `getfixture`, no `__file__`.
        PYTEST_PAGE[0] = True
        globs = {"__name__": "__main__", "getfixture": pytest_getfixture(workdir)}
    else:
        globs = {"__name__": "__main__", "__file__": setup["path"]}
    group_globs = {}
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
        send(sock, {"event": "setup_error", "traceback": _format_exc()})
        return
    send(sock, {"event": "ready"})
    setup = None
    # From here on sys.stdout is the examples': doctest leaves it as an example rebinds it
    # (later output then goes there, not into the capture), and so do we.
    while True:
        request = reader.read()
        if request is None or request["op"] == "exit":
            return
        if request["op"] == "stream":
            count, watch = request["count"], request.get("watch_files")
            request = None
            ran = run_stream(sock, reader, count, watch, workdir, (globs, group_globs, fakeout, name))
            if not ran:
                return
        elif request["op"] == "evaluate":
            answer = evaluate_condition(request, fakeout)
            request = None
            send(sock, answer)
            answer = None
        elif request["op"] == "inspect":
            group = request.get("group")
            namespace = globs if group is None else group_globs.setdefault(group, {})
            answer = inspect_value(request, namespace, fakeout)
            request = namespace = None
            send(sock, answer)
            answer = None
        elif request["op"] == "checkpoint":
            token = request["token"]
            request = None
            sock, reader, workdir = checkpoint(sock, reader, token, socket_path, workdir)
            token = None


def run_request(request, globs, group_globs, fakeout, name):
    """One "run" request of a stream: its result (or "aborted") as a message."""
    # A Sphinx group runs in a namespace of its own, fresh and empty as the builder's
    # `ns = {}` (so `__name__` is builtins').
    group = request.get("group")
    if group is None:
        namespace = globs
    else:
        namespace = group_globs.setdefault(group, {})
    try:
        missing = missing_requirement(request)
        if missing is not None:
            return {
                "event": "result",
                "index": request["index"],
                "got": "",
                "truncated": False,
                "exception": None,
                "duration_ns": 0,
                "skipped": missing,
            }
        if request.get("warnings"):
            request["source"] = with_warnings_caught(request, namespace)
        return run_example(request, namespace, fakeout, name)
    except Aborted as aborted:
        return {"event": "aborted", "message": str(aborted)}


def surely_passed(request, result):
    """The engine sent the output that surely passes (`want`), and this is it."""
    want = request.get("want")
    return (
        want is not None
        and result.get("exception") is None
        and not result.get("truncated")
        and result.get("got") == want
    )


def run_stream(sock, reader, count, watch, workdir, page):
    """The `count` "run" lines that follow, in order, one result line each (see the Stream
    request in protocol.rs). The examples wait in the reader's buffer as bytes, which gc
    does not track: between examples the page holds no objects of ours but before.
    Returns False when our connection has gone."""
    if watch:
        FILES.start(workdir)
    results = RESULTS
    results.start(sock)
    while count:
        if not reader.has_line():
            # The next request is not here yet: the other end may be waiting for these
            # results before it writes more (it keeps a window of requests unanswered).
            results.flush()
        request = reader.read()
        if request is None:
            return False
        count -= 1
        result = run_request(request, *page)
        aborted = result["event"] == "aborted"
        changed = FILES.changed() if watch and not aborted else None
        if watch and not aborted:
            result["files_changed"] = changed
        hold = (
            count > 0
            and not aborted
            and (
                (request.get("hold") and not surely_passed(request, result))
                # pytest's outcome exceptions end the item: the rest may be skipped.
                or result.get("pytest_outcome") is not None
                # What it wrote is collected before the next example writes more.
                or (watch and changed is not False)
            )
        )
        if hold:
            result["held"] = True
        request = None
        results.add(result, now=hold or aborted or count == 0)
        result = None
        if aborted:
            return reader.skip(count)
        if hold:
            word = reader.read_after(count)
            if word is None:
                return False
            if changed:
                FILES.watch_new_directories()
            if word["op"] != "go_on":
                return reader.skip(count)
            word = None
    return True


class FileWatch:
    """Whether anything changed under the page's working directory, from inotify: one
    read() per example that changed nothing, instead of a scan of the folder tree. Every
    directory of the tree is watched (new ones when a change was seen); a change anywhere,
    by any process, is an event. Where inotify cannot be used, changed() says None (unknown)
    and the other end scans after every example."""

    # IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
    # IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF, and IN_DONT_FOLLOW (links are not followed).
    MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x02000000
    # IN_NONBLOCK | IN_CLOEXEC
    FLAGS = os.O_NONBLOCK | 0o2000000
    MAX_DEPTH = 8
    MAX_DIRECTORIES = 1000

    def __init__(self):
        self.fd = None
        self.root = None
        self.broken = False
        try:
            # Looked up now, in the zygote: never as an object made between two examples.
            self.init = LIBC.inotify_init1
            self.add = LIBC.inotify_add_watch
        except Exception:
            self.init = self.add = None

    def start(self, root):
        """Watches `root` (again, after a fork into another directory)."""
        if self.root == root and (self.fd is not None or self.broken):
            return
        self.stop()
        self.root, self.broken = root, False
        if self.init is None:
            self.broken = True
            return
        fd = self.init(self.FLAGS)
        if fd < 0:
            self.broken = True
            return
        self.fd = fd
        self.watch_new_directories()

    def stop(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = self.root = None

    def watch_new_directories(self):
        """Adds a watch for every directory of the tree (adding one twice is harmless)."""
        if self.fd is None:
            return
        watched = 0
        base_depth = self.root.rstrip(os.sep).count(os.sep)
        for directory, subdirectories, _ in os.walk(self.root):
            if self.add(self.fd, os.fsencode(directory), self.MASK) < 0:
                self.broken = True
                self.stop()
                return
            watched += 1
            if watched >= self.MAX_DIRECTORIES:
                self.broken = True
                self.stop()
                return
            depth = directory.count(os.sep) - base_depth
            subdirectories[:] = [
                name for name in subdirectories if name != "__pycache__" and depth < self.MAX_DEPTH
            ]

    def changed(self):
        """True when something changed since the last call, None when unknown."""
        if self.fd is None:
            return None
        seen = False
        while True:
            try:
                if not os.read(self.fd, 1 << 16):
                    break
                seen = True
            except BlockingIOError:
                break
            except OSError:
                self.stop()
                return None
        return seen


FILES = FileWatch()


def copy_regular_file(source, destination):
    """Copies regular files only: opening a FIFO an example made would block for good, and
    a device or socket is nothing to copy."""
    if stat.S_ISREG(os.lstat(source).st_mode):
        shutil.copy2(source, destination)


def copy_files(source, destination):
    """The files of a working directory (links kept as links), as far as they can be read;
    a directory the page deleted copies as nothing."""
    try:
        shutil.copytree(
            source,
            destination,
            symlinks=True,
            dirs_exist_ok=True,
            copy_function=copy_regular_file,
        )
    except (OSError, shutil.Error):
        pass


def checkpoint(sock, reader, token, socket_path, workdir):
    """Fork here. The parent stays, paused, as the state before the next example: it keeps
    its connection and, on each "resume", forks a new runner from that state. The child goes
    on as the runner over a connection of its own. Returns the runner's connection and
    working directory.

    Files are not copied by fork, so the checkpoint keeps a copy of the working directory
    and each runner it starts gets that copy in a directory of its own. The checkpoint
    reaps its runners and reports how each ended on its connection, as the zygote does.
    """
    # Its runners speak on connections of their own, and so does it: the log is the page's.
    forget_result_log()
    snapshot = tempfile.mkdtemp(prefix="checkpoint-", dir=os.path.dirname(socket_path))
    copy_files(workdir, snapshot)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = workdir  # the page deleted its working directory
    relative_cwd = os.path.relpath(cwd, workdir) if cwd.startswith(workdir) else "."
    restore_into = None
    runners = {}
    # What the examples started before this point is part of the page's state: all of it,
    # not only our children, for a grandchild whose parent exits after this (a daemon's
    # double fork still under way) is re-parented to us and is no orphan of a runner.
    before = frozenset(descendants(_getpid()))
    # The checkpoint reaps its runners itself, whatever SIGCHLD handling an example set up
    # (SIG_IGN would hide their exit statuses); runners get the page's handling back.
    page_sigchld = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:
        parent = _getpid()
        pid = _fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, page_sigchld)
            become_owner()
            die_with_parent(parent)
            become_subreaper()
            if restore_into is not None:
                copy_files(snapshot, restore_into)
                workdir = restore_into
                os.chmod(workdir, 0o700)
                try:
                    os.chdir(os.path.join(workdir, relative_cwd))
                except OSError:
                    os.chdir(workdir)
                use_page_tmpdir(workdir)
            runner = connect(socket_path)
            send(runner, page_hello(token))
            return runner, Lines(runner), workdir
        runners[pid] = None
        send(sock, {"event": "forked", "token": token, "pid": pid, "snapshot": snapshot})
        while True:
            if not reader.has_line():
                ready, _, _ = _select([sock], [], [], 0.05)
                reap_children(sock, runners, before)
                if not ready:
                    continue
            request = reader.read()
            if request is None or request["op"] == "exit":
                shutil.rmtree(snapshot, ignore_errors=True)
                for child in children_of(_getpid()):
                    kill_tree(child)
                _exit(0)
            if request["op"] == "resume":
                token, restore_into = request["token"], os.path.abspath(request["workdir"])
                break


def preload_modules(preload):
    preloaded, failed = [], {}
    for module in preload:
        try:
            __import__(module)
            preloaded.append(module)
        except BaseException as error:
            failed[module] = "%s: %s" % (type(error).__name__, error)
    return preloaded, failed


def numpy_installed():
    """Whether numpy can be found: pytest-doctestplus then compares FLOAT_CMP's numbers with
    numpy.isclose (it imports numpy; finding it imports nothing here)."""
    try:
        import importlib.util

        return importlib.util.find_spec("numpy") is not None
    except Exception:
        return False


def interpreter_hello(token, preloaded, failed):
    # Parsed and run by any Python from 2.7 on, so that an old one is told it is too old.
    implementation = getattr(sys, "implementation", None)
    return {
        "event": "hello",
        "role": "zygote",
        "token": token,
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "implementation": implementation.name if implementation else "cpython",
        "executable": sys.executable,
        "preloaded": preloaded,
        "preload_errors": failed,
        "fork": hasattr(os, "fork"),
        "numpy": numpy_installed(),
    }


def page_hello(token):
    return {"event": "hello", "role": "page", "token": token, "pid": _getpid()}


def serve_zygote(socket_path, token, preload):
    # Orphans of pages that ended come here, to be killed (see reap_children).
    become_subreaper()
    preloaded, failed = preload_modules(preload)
    gc.collect()
    sock = connect(socket_path)
    reader = RequestsWithSockets(sock)
    send(sock, interpreter_hello(token, preloaded, failed))
    # The pid of each page, with the token its fork request carried.
    pages = {}
    zygote = _getpid()
    while True:
        if not reader.has_line():
            ready, _, _ = _select([sock], [], [], 0.05)
            reap_children(sock, pages)
            if not ready:
                continue
        request = reader.read()
        if request is None or request["op"] == "exit":
            break
        if request["op"] == "fork":
            channel = reader.sockets.pop(0) if reader.sockets else None
            log = reader.sockets.pop(0) if request.get("log") and reader.sockets else None
            pid = _fork()
            if pid == 0:
                # The sockets of pages not forked yet are theirs, not this one's.
                for other in reader.sockets:
                    os.close(other)
                del reader.sockets[:]
                RESULTS.address = map_result_log(log)
                become_page(socket_path, request["token"], parent=zygote, channel=channel)
                _exit(0)
            for fd in (channel, log):
                if fd is not None:
                    os.close(fd)
            pages[pid] = request["token"]
    # Our end is gone (we exit with it): no page, and nothing a page started, stays behind.
    for child in children_of(_getpid()):
        kill_tree(child)
    _exit(0)


def become_page(socket_path, token, parent=None, channel=None):
    """A page process. Whatever goes wrong in here that is not an example's doing is sent
    as a traceback (and written to stderr, our log), never just an exit status.

    A page forked by the zygote speaks on `channel`, its end of the socket pair that came
    with the request; without one (and a page started by objgraph-doctest itself) it
    connects to SOCKET_PATH.

    A page forked by the zygote (pid `parent`) dies with it. One started by objgraph-doctest
    itself (no `parent`) does not: Linux ties PR_SET_PDEATHSIG to the parent *thread*, and the
    Rust thread that started it may end long before the page (an editor's thread pool);
    our end of the connection closing ends it instead, and the shutdown kills its tree."""
    become_owner()
    sock = None
    try:
        os.setpgid(0, 0)
        if parent is not None:
            die_with_parent(parent)
        become_subreaper()
        if channel is None:
            sock = connect(socket_path)
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=channel)
            OUR_SOCKETS.append(sock)
        reader = Lines(sock)
        send(sock, page_hello(token))
        setup = reader.read()
        if setup is None or setup.get("op") != "setup":
            return
        run_page(sock, reader, setup, socket_path)
    except BaseException:
        text = _format_exc()
        try:
            sys.__stderr__.write(text)
            sys.__stderr__.flush()
        except Exception:
            pass
        if sock is not None and _getpid() == OWNER[0]:
            try:
                send(sock, {"event": "driver_error", "traceback": text})
            except Exception:
                pass
        end_page_tree()
        _exit(70)
    end_page_tree()


def end_page_tree():
    """Everything the page's examples started ends with the page. objgraph-doctest kills the
    page's tree when it is done with it, but when objgraph-doctest itself is gone (SIGKILL)
    the page only sees its connection close: a page it started itself (--no-fork) has no
    zygote above it to kill its orphans, and they would outlive it for good."""
    if _getpid() != OWNER[0]:
        return
    for child in children_of(_getpid()):
        kill_tree(child)


def main():
    socket_path, mode = sys.argv[1], sys.argv[2]
    token = os.environ.pop("OBJGRAPH_DOCTEST_TOKEN", "")
    preload = [name for name in sys.argv[3:] if name]
    become_owner()
    if sys.version_info < (3, 9) or not hasattr(os, "register_at_fork"):
        # Too old to run pages (the Rust side refuses it): say what it is, and stop.
        sock = connect(socket_path)
        send(sock, interpreter_hello(token, [], {}))
        sock.close()
        return
    os.register_at_fork(after_in_child=forked_child)
    if mode == "zygote":
        serve_zygote(socket_path, token, preload)
    elif mode == "probe":
        # No fork: report what this interpreter is, then each page gets a fresh one.
        sock = connect(socket_path)
        send(sock, interpreter_hello(token, *preload_modules(preload)))
        sock.close()
    else:
        preload_modules(preload)
        become_page(socket_path, token)
        # Not a normal interpreter exit: that would wait for threads examples left running.
        _exit(0)


main()
