"""Run mutmut's mutation operators on chosen lines of one file, one mutant at a time.

Usage (from a copy of the tree that the tests import, never the working tree):

    python .ci/mutate_lines.py FILE FIRST-LAST[,FIRST-LAST] "RUNNER"

A mutant is killed if RUNNER exits non-zero (mutmut 2.5 counts only exit code 1, so a
mutant that breaks collection shows as survived there; and its result cache crashed with
'Attribute Mutant.line is required' on this tree).  String mutations are skipped; the
file is restored after each mutant.  Prints one JSON line per mutant and a summary.
With MUT_SAMPLE=K (and MUT_SEED=S) only a seeded random sample of K of the line's mutants
is run (string mutants are drawn then skipped, so fewer may run).
"""
import json
import os
import random
import subprocess
import sys
import time

from mutmut import Context, list_mutations, mutate

path, ranges, runner = sys.argv[1], sys.argv[2], sys.argv[3]
lines_ok = set()
for r in ranges.split(","):
    a, b = map(int, r.split("-"))
    lines_ok.update(range(a - 1, b))  # mutmut line_number is 0-based
orig = open(path).read()
ids = [m for m in list_mutations(Context(source=orig, filename=path)) if m.line_number in lines_ok]
if os.environ.get("MUT_SAMPLE"):  # a seeded random sample of the mutants (loaded machines)
    k = int(os.environ["MUT_SAMPLE"])
    if k < len(ids):
        picked = sorted(random.Random(int(os.environ.get("MUT_SEED", "0"))).sample(range(len(ids)), k))
        ids = [ids[i] for i in picked]
res = []
for k, mid in enumerate(ids):
    ctx = Context(source=orig, mutation_id=mid, filename=path)
    mutated, n = mutate(ctx)
    old_l = orig.splitlines()[mid.line_number]
    new_l = mutated.splitlines()[mid.line_number] if mutated.count("\n") == orig.count("\n") else "<lines changed>"
    if "XX" in new_l and "XX" not in old_l:
        continue
    open(path, "w").write(mutated)
    t = time.time()
    try:
        rc = subprocess.run(runner, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=400).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    finally:
        open(path, "w").write(orig)
    status = "survived" if rc == 0 else "killed"
    res.append(dict(line=mid.line_number + 1, old=old_l.strip(), new=new_l.strip(), rc=rc, status=status))
    print(json.dumps(res[-1]), f"{time.time() - t:.0f}s", flush=True)
print("SUMMARY", sum(r["status"] == "killed" for r in res), "killed of", len(res), flush=True)
