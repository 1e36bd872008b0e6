"""Shared pieces of the fuzzing workflow scripts (ci/nightly, ci/reproduce): locating targets and
binaries, running libFuzzer, crash signatures, atomic corpus writes."""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Where the fuzz targets, their corpus and their sanitizer binaries are. The defaults are syspin's
# own: the Fuzzers/ package (Sources/<target>, dicts/<target>.dict), Corpus/, and ci/fuzz-build's
# .build-fuzz. ci/nightly and ci/reproduce can point elsewhere with --fuzz-package, --corpus-root
# and --bin-dir (or SYSPIN_FUZZ_PACKAGE, SYSPIN_CORPUS_ROOT, SYSPIN_FUZZ_BIN_DIR), which is how
# ci/test-workflow runs them on its planted-crash fixture.
DEFAULT_FUZZ_PACKAGE = os.path.join(ROOT, "Fuzzers")
FUZZ_PACKAGE = DEFAULT_FUZZ_PACKAGE
CORPUS_ROOT = os.path.join(ROOT, "Corpus")
BIN_DIR = None
AFL_BIN_DIR = None
ENGINES = ("libfuzzer", "afl")


def add_location_args(parser):
    parser.add_argument("--fuzz-package", metavar="DIR", default=os.environ.get("SYSPIN_FUZZ_PACKAGE"),
                        help="fuzz package with targets.txt, Sources/<target> and dicts/ (default: Fuzzers/)")
    parser.add_argument("--corpus-root", metavar="DIR", default=os.environ.get("SYSPIN_CORPUS_ROOT"),
                        help="folder of <target>/ corpora (default: Corpus/)")
    parser.add_argument("--bin-dir", metavar="DIR", default=os.environ.get("SYSPIN_FUZZ_BIN_DIR"),
                        help="use the sanitizer binaries in DIR, not built (default: build with ci/fuzz-build "
                             "into .build-fuzz); required with another --fuzz-package")
    parser.add_argument("--afl-bin-dir", metavar="DIR", default=os.environ.get("SYSPIN_AFL_BIN_DIR"),
                        help="the AFL++ binaries (default: ci/fuzz-build --engine afl's .build-afl); "
                             "required for --engine afl|both with another --fuzz-package")


def configure(args):
    """Applies --fuzz-package/--corpus-root/--bin-dir; returns an error message or None."""
    global FUZZ_PACKAGE, CORPUS_ROOT, BIN_DIR, AFL_BIN_DIR
    if args.fuzz_package:
        FUZZ_PACKAGE = os.path.abspath(args.fuzz_package)
    if args.corpus_root:
        CORPUS_ROOT = os.path.abspath(args.corpus_root)
    if args.bin_dir:
        BIN_DIR = os.path.abspath(args.bin_dir)
    if args.afl_bin_dir:
        AFL_BIN_DIR = os.path.abspath(args.afl_bin_dir)
    if not os.path.isfile(os.path.join(FUZZ_PACKAGE, "targets.txt")):
        return f"{FUZZ_PACKAGE}: no targets.txt (the list of fuzz targets)"
    if not is_default_package() and not BIN_DIR:
        return "--bin-dir is required with --fuzz-package (only Fuzzers/ is built by ci/fuzz-build)"
    return None


def is_default_package():
    return os.path.realpath(FUZZ_PACKAGE) == os.path.realpath(DEFAULT_FUZZ_PACKAGE)


def location_args():
    """The --fuzz-package/--corpus-root/--bin-dir options in effect, to repeat in printed commands."""
    out = []
    if not is_default_package():
        out += ["--fuzz-package", FUZZ_PACKAGE]
    if os.path.realpath(CORPUS_ROOT) != os.path.realpath(os.path.join(ROOT, "Corpus")):
        out += ["--corpus-root", CORPUS_ROOT]
    if BIN_DIR:
        out += ["--bin-dir", BIN_DIR]
    if AFL_BIN_DIR:
        out += ["--afl-bin-dir", AFL_BIN_DIR]
    return out

# Frames that say how a program stopped, not where the bug is (ClusterFuzz's stack_analyzer drops
# the same kinds): sanitizer and libFuzzer/AFL++ driver frames, the Swift runtime and standard
# library (`Swift runtime failure: …`, `_assertionFailure`, `fatalError`, `swift_*`, `$ss…`/`$sS…`
# mangled stdlib symbols, `Swift.…` demangled ones), libc's abort path, syspin's FuzzHarness.
# Dropped before taking the top frames of a signature, or every trap would merge into one crash.
# Matched as prefixes or whole names, so a user function such as `abortIfTruncated` stays.
RUNTIME_PREFIX = re.compile(
    r"^(__sanitizer|__asan|__lsan|__ubsan|__msan|__interceptor|__interception|__sancov|"
    r"fuzzer::|LLVMFuzzer|afl_|__afl|_afl|__cmplog|"
    r"Swift runtime failure|swift_|_swift_|swift::|\$ss\d|\$sS[A-Za-z]|Swift\.|\(extension in Swift\)|"
    r"__GI_|__libc|__pthread|__clone|"
    r"(_assertionFailure|_fatalErrorMessage|fatalError|preconditionFailure|assertionFailure|"
    r"abort|raise|gsignal|pthread_kill|start_thread|_start|main)(?=$|\(|\s))")
RUNTIME_ANYWHERE = re.compile(r"(FuzzHarness|libswiftCore|libc\.so|libFuzzer|afl-compiler-rt|libAFLDriver)")


def is_runtime_frame(fn):
    return bool(RUNTIME_PREFIX.match(fn) or RUNTIME_ANYWHERE.search(fn))


FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ in (.+?)(?: (/[^\s:]+)(?::(\d+))?(?::\d+)?)?$")
INVARIANT = re.compile(r"^(INV-[A-Z0-9-]+):")


# The environment of every fuzz run, replay and minimisation: no Swift backtracer (the sanitizer
# prints the stack), and pinned hash seeding so a Set or Dictionary iterates in the same order on
# every run and a reproducer behaves the same everywhere.
FUZZ_ENV = {"SWIFT_BACKTRACE": "enable=no", "SWIFT_DETERMINISTIC_HASHING": "1"}


def fuzz_env(**extra):
    return dict(os.environ, **FUZZ_ENV, **extra)


# ASan's options for a fuzzing run, never for a replay or a minimisation. malloc_context_size=0:
# ASan unwinds and stores no stack at each malloc and free. Those stacks only say, in a report,
# where the bad block was allocated and freed; every check is made as before. Unwinding them cost
# the pin targets 2-6 % of their CPU per exec (BENCHMARKS.md, paired runs). AFL++'s afl-fuzz
# gives its targets the same default. Whatever a run finds is replayed by run_input (nightly's
# triage) and ci/reproduce with full stacks, so their reports still name the allocation.
FUZZING_ASAN_OPTIONS = "malloc_context_size=0"


def fuzzing_env(asan_options="", **extra):
    """The environment of a fuzzing run: fuzz_env plus FUZZING_ASAN_OPTIONS (and asan_options)."""
    opts = ":".join(o for o in (FUZZING_ASAN_OPTIONS, asan_options) if o)
    return fuzz_env(ASAN_OPTIONS=opts, **extra)


# libFuzzer's proof that the binary is instrumented: "INITED cov: N ..." (a fork-mode parent prints
# no INITED line; its first progress line with cov: > 0 is the same proof).
PROGRESS_COV = re.compile(r"#\d+:?\s+(?:\w+\s+)?cov: (\d+)")


def coverage_started(log_text):
    """True when libFuzzer's output shows coverage instrumentation at work."""
    for line in log_text.splitlines():
        if "INITED" in line and "cov:" in line:
            return True
        m = PROGRESS_COV.search(line)
        if m and int(m.group(1)) > 0:
            return True
    return False


def started(log_text):
    """True when libFuzzer got as far as running inputs (an INITED or a progress line)."""
    return any("INITED" in line or PROGRESS_COV.search(line) for line in log_text.splitlines())


# Corpus/<target>/ layout (CONTRACT.md): the top level holds the merged corpus, regenerable by
# fuzzing and free for a merge or prune to rewrite; these subfolders are kept as they are:
# seeds/ (hand- and linker-made, loaded by name by tests and scenarios), regressions/ (inputs that
# once failed), scenarios/ (FuzzScenario's JSON scenarios with their expected output).
KEPT_SUBDIRS = ("seeds", "regressions", "scenarios")


def log(msg):
    print(f"[{os.path.basename(sys.argv[0])}] {msg}", flush=True)


def targets(package=None):
    """The fuzz package's targets.txt (Fuzzers/targets.txt: the one list), one name a line."""
    with open(os.path.join(package or FUZZ_PACKAGE, "targets.txt")) as f:
        return [n for n in (line.split("#", 1)[0].strip() for line in f) if n]


def fuzz_bin_dir(engine="libfuzzer"):
    given = AFL_BIN_DIR if engine == "afl" else BIN_DIR
    if given or not is_default_package():
        return given
    out = subprocess.run([os.path.join(ROOT, "ci", "fuzz-build"), "--engine", engine, "--show-bin-path"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def plain_bin_dir():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def write_atomic(path, data, tmp_dir=None, before_rename=None):
    """Writes `data` to `path` via a temporary file in the same folder and a rename: a reader or a
    killed run never sees a half-written file. `tmp_dir` (same file system) holds the temporary
    file instead, so that a run killed before the rename leaves nothing in `path`'s folder either;
    `before_rename(tmp)` is a test hook (ci/nightly's SYSPIN_NIGHTLY_TEST_KILL_DURING_MERGE)."""
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir or d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if before_rename:
            before_rename(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store_by_sha1(folder, data):
    """Stores `data` in `folder` named by its SHA-1 (CONTRACT corpus layout); returns the path."""
    path = os.path.join(folder, sha1(data))
    if not os.path.exists(path):
        write_atomic(path, data)
    return path


def top_frames(output, count=3):
    """The top `count` non-runtime frames of the first stack in `output`, each {function, file,
    line} (file and line when the symbolizer gave them)."""
    frames = []
    in_stack = False
    for line in output.splitlines():
        m = FRAME.match(line)
        if not m:
            if in_stack and frames:
                break
            continue
        in_stack = True
        fn = m.group(2).strip()
        if is_runtime_frame(fn):
            continue
        frames.append({"function": demangle_short(fn), "file": m.group(3), "line": int(m.group(4)) if m.group(4) else None})
        if len(frames) == count:
            break
    return frames


def crash_type(output):
    """What kind of failure: the invariant id when an invariant broke, else the sanitizer's or the
    Swift runtime's own words (heap-buffer-overflow, swift-runtime-failure, leak, timeout, …)."""
    for line in output.splitlines():
        m = INVARIANT.match(line.strip())
        if m:
            return m.group(1)
    m = re.search(r"ERROR: AddressSanitizer: ([\w-]+)", output)
    if m and m.group(1) != "SEGV":
        return m.group(1)
    for pat, name in (("LeakSanitizer", "leak"), ("Swift runtime failure", "swift-runtime-failure"),
                      ("timeout", "timeout"), ("out-of-memory", "oom"), ("AddressSanitizer: SEGV", "segv"),
                      ("deadly signal", "signal")):
        if pat in output:
            return name
    return "crash"


def signature(output):
    """A crash's signature from its output: the invariant id when an invariant broke, else the top
    three non-runtime frames of the first sanitizer stack, behind the kind of failure."""
    for line in output.splitlines():
        m = INVARIANT.match(line.strip())
        if m:
            return m.group(1)
    frames = [f["function"] for f in top_frames(output)]
    kind = "crash"
    for pat, name in (("LeakSanitizer", "leak"), ("timeout", "timeout"), ("out-of-memory", "oom"),
                      ("ERROR: AddressSanitizer", "asan"), ("deadly signal", "signal")):
        if pat in output:
            kind = name
            break
    return kind + ":" + ("|".join(frames) if frames else "no-frames")


def demangle_short(fn):
    # Keep mangled Swift names short but stable: the symbol up to its first space.
    return fn.split(" ")[0][:120]


def run_input(binary, path, extra_env=None, timeout=60):
    env = fuzz_env(ASAN_OPTIONS="dedup_token_length=3:detect_leaks=1", **(extra_env or {}))
    try:
        p = subprocess.run([binary, path], capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -9, f"timeout: still running after {timeout}s\n" + (e.stderr or b"").decode(errors="replace")
    return p.returncode, p.stdout + p.stderr
