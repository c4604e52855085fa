"""What a Python test needs from the machine, and what happens when it is missing.

A missing module, tool or recorded sample is a failure with a clear message (exit 1), never a
silent skip: `make test` and CI must not go green while testing nothing. A developer without
../shared can opt into skipping with SHADOW_ALLOW_MISSING=1 (exit 77, which CTest reports as
skipped); CI never sets it.
"""
import os
import sys

ALLOW_ENV = "SHADOW_ALLOW_MISSING"
SYSTEM_PYTHON = "/usr/bin/python3"


def missing(what):
    """Ends the test: skipped (77) under SHADOW_ALLOW_MISSING=1, failed (1) otherwise."""
    if os.environ.get(ALLOW_ENV) == "1":
        print(f"SKIP ({ALLOW_ENV}=1): {what}", file=sys.stderr)
        sys.exit(77)
    print(f"FAIL: {what} (tools/install-deps installs the packages; set {ALLOW_ENV}=1 to skip "
          "instead)", file=sys.stderr)
    sys.exit(1)


def require_module(module, package):
    """Imports `module`; when this interpreter lacks it (CMake's Python may be a pyenv one without
    Debian's packages) the test re-runs itself with /usr/bin/python3 if that one has it. Returns
    the module."""
    try:
        return __import__(module)
    except ImportError:
        pass
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and \
            os.path.exists(SYSTEM_PYTHON) and \
            os.system(f"{SYSTEM_PYTHON} -c 'import {module}' 2>/dev/null") == 0:
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    missing(f"python module '{module}' not available (Debian package {package})")


def require_path(path, what):
    """Fails (or skips, see above) unless `path` exists."""
    if not os.path.exists(path):
        missing(f"{what} not found at {path}")


def unavailable(test_case, what):
    """The same for one unittest method: skipTest under SHADOW_ALLOW_MISSING=1, fail otherwise."""
    if os.environ.get(ALLOW_ENV) == "1":
        test_case.skipTest(f"({ALLOW_ENV}=1) {what}")
    test_case.fail(f"{what} (tools/install-deps installs the packages; set {ALLOW_ENV}=1 to skip "
                   "instead)")
