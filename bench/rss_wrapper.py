"""Run a Python module or script in this interpreter; at exit, write its peak memory as JSON.

    python bench/rss_wrapper.py REPORT.json -m voiceguide render ...
    python bench/rss_wrapper.py REPORT.json some_script.py args...

REPORT.json gets getrusage(RUSAGE_SELF).ru_maxrss (this process: the work itself) and
getrusage(RUSAGE_CHILDREN).ru_maxrss (the largest of the children it waited for: ffmpeg
decoders, the speech worker), in KiB, and the CPU seconds of both. Standard library only.
"""

from __future__ import annotations

import json
import resource
import runpy
import sys


def main() -> int:
    report, rest = sys.argv[1], sys.argv[2:]
    code: object = 0
    try:
        if rest and rest[0] == "-m":
            sys.argv = [rest[1], *rest[2:]]
            runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(rest)
            runpy.run_path(rest[0], run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
    finally:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(report, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "self_maxrss_kb": own.ru_maxrss,
                    "children_maxrss_kb": children.ru_maxrss,
                    "cpu_seconds": own.ru_utime + own.ru_stime,
                    "children_cpu_seconds": children.ru_utime + children.ru_stime,
                },
                out,
            )
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
