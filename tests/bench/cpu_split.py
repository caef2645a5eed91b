"""Where a workload's CPU time goes, by program: the CPU seconds of every process under the
given roots (a stack's lighttpd, PostgreSQL and Redis), read from /proc before and after a run.

snapshot OUT ROOT_PID...
    writes {pid: [program, cpu ticks]} for the roots and all their descendants to OUT.
pids ROOT_PID...
    prints the roots' and their descendants' pids, comma-separated (for perf record -p).
report BEFORE AFTER COUNT SECONDS CORES [CLIENT_CPU_S]
    prints, by program, CPU ms per unit of work (COUNT units in SECONDS), its share of the
    total, and how busy CORES cores were. Processes that started during the run count from 0.
"""
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    """(ppid, program, utime + stime ticks) of pid, or None when it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            raw = f.read()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces; the fields after it are fixed.
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    return int(rest[1]), comm, int(rest[11]) + int(rest[12])


def _program(comm):
    """A process's program: PostgreSQL's backends and helpers all count as postgres."""
    return "postgres" if comm.startswith("postgres") else comm


def _tree(roots):
    """{pid: (ppid, program, ticks)} of the roots and their descendants."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(d)
            if st is not None:
                procs[int(d)] = st
    want = {int(r) for r in roots if r}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in want and pid not in want:
                want.add(pid)
                grew = True
    return {p: procs[p] for p in want if p in procs}


def snapshot(out, roots):
    snap = {str(p): [_program(c), t] for p, (_, c, t) in _tree(roots).items()}
    with open(out, "w") as f:
        json.dump(snap, f)


def report(before, after, count, seconds, cores, client=None):
    with open(before) as f:
        b = json.load(f)
    with open(after) as f:
        a = json.load(f)
    count, seconds, cores = float(count), float(seconds), int(cores)
    by = {}
    for pid, (prog, ticks) in a.items():
        used = ticks - (b[pid][1] if pid in b else 0)
        if used > 0:
            by[prog] = by.get(prog, 0.0) + used / TICK
    if client is not None:
        by["the bench client"] = float(client)
    total = sum(by.values())
    if count <= 0 or total <= 0:
        print("  (no CPU time measured)")
        return
    for prog, s in sorted(by.items(), key=lambda kv: -kv[1]):
        print("  %-42s %8.3f ms %5.1f%%" % (prog, 1000 * s / count, 100 * s / total))
    print("  %-42s %8.3f ms  (%d cores %.0f%% busy)" % (
        "all", 1000 * total / count, cores, 100 * total / (seconds * cores)))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "pids":
        print(",".join(str(p) for p in sorted(_tree(sys.argv[2:]))))
    elif len(sys.argv) in (7, 8) and sys.argv[1] == "report":
        report(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
