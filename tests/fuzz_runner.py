"""Runs the cases of tests/fuzz_cases.py one after the other in this one process (started by
tests/test_fuzz_cli.py, which watches it: a case that takes too long is a hang, and the runner is
restarted after it).

Usage: python tests/fuzz_runner.py CASES.json RESULTS.jsonl FIRST_CASE

Each case runs ``sim.cli.main(argv)`` in its own working folder, with stdout and stderr captured.
Anything that escapes ``main`` (it should catch everything) is recorded as a traceback. Memory is
bounded for the whole process (the address space it has after its imports, plus 3 GiB), and the
machine's memory limit is fixed at 4 GiB so that what is refused does not depend on the machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path

EXTRA_ADDRESS_SPACE = 3 * 2**30
FIXED_MEMORY_LIMIT = 4 * 2**30


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results = Path(sys.argv[2])
    first = int(sys.argv[3])
    from sim import cli, limits
    import sim.experiments.commands  # noqa: F401 - imported before the memory bound is set
    limits.memory_limit = lambda: (FIXED_MEMORY_LIMIT, "4.0 GiB (the fuzz suite's fixed limit)")
    vm = _address_space()
    if vm:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = vm + EXTRA_ADDRESS_SPACE
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    with results.open("a", encoding="utf-8") as log:
        for i in range(first, len(cases)):
            c = cases[i]
            log.write(json.dumps({"i": i, "event": "start"}) + "\n")
            log.flush()
            os.chdir(c["cwd"])
            out, err = io.StringIO(), io.StringIO()
            escaped, code = None, None
            t0 = time.monotonic()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main(c["argv"])
                except SystemExit as exc:                 # argparse's own errors (and --help)
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:  # noqa: BLE001 - exactly what the suite looks for
                    escaped = traceback.format_exc()
            log.write(json.dumps({"i": i, "event": "end", "code": code, "stdout": out.getvalue(),
                                  "stderr": err.getvalue(), "escaped": escaped,
                                  "seconds": time.monotonic() - t0}) + "\n")
            log.flush()


if __name__ == "__main__":
    main()
