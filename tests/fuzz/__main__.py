"""The long fuzz run: ``./dev fuzz`` or ``python -m tests.fuzz [options]``.

Draws cases with a random seed (printed, and accepted by ``--seed`` to replay a run), evaluates
them on every backend in worker subprocesses until the time or example budget is spent, and
prints each discrepancy as a minimal reproducer. Exit status 1 when a finding is not explained
by the ``KNOWN`` list of :mod:`tests.fuzz.known`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

from tests.fuzz.spec import Spec


def _cases(args: argparse.Namespace, seed: int) -> Iterator[Spec]:
    from tests.fuzz.generate import generate, targeted

    n = 0
    if args.targeted:
        for s in targeted():
            yield s
    batch = 0
    while args.examples is None or n < args.examples:
        size = 40 if args.examples is None else min(40, args.examples - n)
        groups = tuple(args.groups.split(",")) if args.groups else None
        for s in generate(size, seed=seed + batch, max_ops=args.max_ops, groups=groups):
            n += 1
            yield s
        batch += 1


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz.runner import Runner
    from tests.fuzz.worker import MODES

    p = argparse.ArgumentParser(prog="./dev fuzz", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="time budget (default 10)")
    p.add_argument("--examples", type=int, default=None, help="stop after this many cases")
    p.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    p.add_argument("--jobs", type=int, default=max(1, min(4, (os.cpu_count() or 2))),
                   help="worker processes in parallel")
    p.add_argument("--max-ops", type=int, default=4, help="ops per graph (default 4)")
    p.add_argument("--groups", default="", help="only these op families, comma-separated "
                   "(elemwise,reduce,shape,indexing,sort,creation,control,linalg,blas)")
    p.add_argument("--modes", default=",".join(MODES), help="backends to compare")
    p.add_argument("--targeted", action="store_true", help="also run the suite's targeted cases")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per case")
    p.add_argument("--report", default="", help="also write the findings as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(f"gnomon fuzz: seed {seed} (replay with --seed {seed}), {args.jobs} workers, "
          f"{args.minutes:g} min", flush=True)
    cache = tempfile.mkdtemp(prefix="gnomon-fuzz-cache-")

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    start = time.monotonic()
    runner = Runner(jobs=args.jobs, timeout=args.timeout, modes=tuple(args.modes.split(",")),
                    log=log, env={"GNOMON_CACHE_DIR": cache})
    try:
        runner.run(_cases(args, seed), deadline=start + 60 * args.minutes)
    except KeyboardInterrupt:
        print("interrupted; reporting what was found so far", file=sys.stderr)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(runner.report())
    print(f"seed {seed}; {(time.monotonic() - start) / 60:.1f} min")
    if args.report:
        with open(args.report, "w") as f:
            json.dump([{"backend": x.backend, "kind": x.kind, "detail": x.detail,
                        "known": x.known, "count": x.count, "ops": x.spec.ops(),
                        "original_ops": x.original_ops, "reproducer": x.report()}
                       for x in runner.findings.values()], f, indent=1)
    return 1 if runner.unknown() else 0


if __name__ == "__main__":
    sys.exit(main())
