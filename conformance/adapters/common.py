"""Shared by the conformance adapters (see ../README.md, "Adapters").

An adapter runs one decoder with the runner's interface:

    ADAPTER INPUT.qohi OUTDIR     decode every frame to OUTDIR/NNNN.png; one
                                  `error: [frame N: ]CLASS: message` line on
                                  stderr per failure; exit 0 iff all decoded
    ADAPTER --describe            key=value lines about the decoder (present,
                                  strict, frames, max-width, ...); exit 77
                                  with a reason if it is not present
    ADAPTER --batch LIST          (adapters that say batch=1) every
                                  "INPUT<TAB>OUTDIR" line of LIST, leaving
                                  OUTDIR/.status and OUTDIR/.stderr

Programs come from the build tree QOHI_BUILD_DIR (set by conformance/run),
or from the variables each adapter names.
"""
import os
import shutil
import sys

NOT_PRESENT = 77
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("QOHI_BUILD_DIR", os.path.join(ROOT, "build")))


def not_present(reason):
    print(reason)
    sys.exit(NOT_PRESENT)


def describe(**keys):
    for key, value in keys.items():
        print("%s=%s" % (key.replace("_", "-"), value))
    sys.exit(0)


def find_program(env, names, folders=("/usr/bin",)):
    """$env, else the first of `names` in `folders` (the host's own), else on PATH."""
    if os.environ.get(env):
        return os.environ[env]
    for folder in folders:
        for name in names:
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK):
                return path
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def frame_png(outdir, index):
    return os.path.join(outdir, "%04d.png" % index)


def one_line(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-3:]) if lines else "(no message)"


def report_exit(returncode, what):
    """A line for a host that died of a signal; True if it did."""
    if returncode < 0 or returncode >= 128:
        print("crash: %s ended with status %d" % (what, returncode), file=sys.stderr)
        return True
    return False
