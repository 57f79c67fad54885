#!/usr/bin/env python3
"""Mutation testing for nncl: does the test suite fail when the code is wrong?

Generates mutants with universalmutator (PyPI: `pip install universalmutator`) of the library's arithmetic
and checking code, builds each one in a scratch copy of the tree, runs the test suite on it, and reports
which mutants the suite kills and which survive. A surviving mutant is either a hole in the tests (write
the test that kills it) or equivalent to the original (list it in equivalent.txt with the reason).

  python3 tests/mutation/run.py [--mutants N] [--seed S] [--budget-minutes M] [--out DIR] [FOLDER...]
  python3 tests/mutation/run.py --smoke     # the fixed mutants of smoke.txt, each must be killed (CI)
  python3 tests/mutation/run.py --rerun R.json [...]   # earlier survivors again, after new tests
  python3 tests/mutation/run.py --merge R.json [...] --out DIR   # one report of several runs

FOLDER defaults to the areas below; mutants are spread evenly over them. The scratch tree and its build
live in $NNCL_MUTATION_DIR (default /tmp/nncl-mutation); the report goes to --out (default that folder):
report.md and report.json. Run it on a quiet machine: it builds and tests once per mutant. With
NNCL_MUTATION_LOCK=FILE every build and test run takes `flock FILE`, so it queues behind other work.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
AREAS = ["src/cpu", "kernels", "src/train.c", "src/train_eval.c", "src/model.c", "src/model_io.c", "src/data", "src/io", "src/check"]
COPY_IGNORE = shutil.ignore_patterns(".git", "build", "build-*", "device-pack", "__pycache__")


LOCK = os.environ.get("NNCL_MUTATION_LOCK")  # a flock file shared with other builds on the machine


def sh(cmd, cwd, timeout, lock=True):
    """Runs cmd (under `flock $NNCL_MUTATION_LOCK` when set); returns (exit code or 'timeout', seconds,
    output tail)."""
    outer = timeout
    if LOCK and lock:  # the time limit starts once the lock is held: waiting for it is not the mutant's fault
        cmd = ["flock", LOCK, "timeout", "-k", "10", str(int(timeout))] + cmd
        outer = None
    t0 = time.time()
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=outer,
                           text=True, errors="replace")
        if LOCK and lock and p.returncode in (124, 137):
            return "timeout", time.time() - t0, p.stdout[-3000:]
        return p.returncode, time.time() - t0, p.stdout[-3000:]
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return "timeout", time.time() - t0, out[-3000:]
    finally:
        reap()


SCRATCH = None  # $NNCL_MUTATION_DIR, set by main(): reap() kills only what runs from there


def reap():
    """Kills what a timed-out suite left behind: `timeout` kills ctest, but not the test binaries ctest started
    nor Criterion's workers, and a mutant that loops for ever (a kernel's loop index that never grows) keeps
    both cores busy, and the lock's file open, until it is killed. Every process whose executable lies in the
    scratch folder is one of ours."""
    if not SCRATCH:
        return
    scratch = os.path.abspath(SCRATCH)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe.startswith(scratch + os.sep):
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


def source_files(areas):
    files = []
    for a in areas:
        path = os.path.join(REPO, a)
        if os.path.isfile(path):
            files.append(a)
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".cl")):
                files.append(os.path.join(a, name))
    return files


def is_code_line(line):
    s = line.strip()
    return bool(s) and not s.startswith(("//", "/*", "*", "#")) and s not in ("{", "}")


def generate(scratch, rel):
    """Mutants of one file as (line number, original line, mutated line); universalmutator writes whole
    files, of which only the changed line is kept."""
    # one folder per version of the file: mutants of an older version would each differ from this one on
    # every line that changed since, and only those of a changed line would pass as one-line mutants
    digest = hashlib.sha1(open(os.path.join(REPO, rel), "rb").read()).hexdigest()[:12]
    out_dir = os.path.join(scratch, "mutants", rel.replace("/", "__") + "." + digest)
    if not os.path.isdir(out_dir) or not os.listdir(out_dir):
        os.makedirs(out_dir, exist_ok=True)
        src = os.path.join(REPO, rel)
        # universalmutator picks rules by extension; OpenCL C is C for its purposes
        tmp = os.path.join(out_dir, "original.c")
        shutil.copy(src, tmp)
        code, _, log = sh(["mutate", tmp, "c", "--noCheck", "--mutantDir", out_dir], out_dir, 600, lock=False)
        if code != 0:
            sys.exit(f"mutate failed on {rel}:\n{log}")
    original = open(os.path.join(REPO, rel)).read().split("\n")
    mutants = []
    for name in sorted(os.listdir(out_dir)):
        if ".mutant." not in name:
            continue
        lines = open(os.path.join(out_dir, name), errors="replace").read().split("\n")
        if len(lines) != len(original):
            continue  # an inserted or deleted line: keep the one-line replacements, the plausible bugs
        diff = [i for i, (a, b) in enumerate(zip(original, lines)) if a != b]
        if len(diff) == 1 and is_code_line(original[diff[0]]):
            i = diff[0]
            mutants.append({"file": rel, "line": i + 1, "original": original[i], "mutant": lines[i]})
    return mutants


class SyntaxFilter:
    """Drops C mutants that cannot compile before they cost a build: each is written into a scratch copy of
    the tree and checked with `cc -fsyntax-only` (a file whose original does not pass that check, or an
    OpenCL kernel, is not filtered: its non-compiling mutants are then found by the build, or by the
    runtime kernel build failing the tests)."""

    def __init__(self, scratch):
        self.tree = os.path.join(scratch, "syntax-tree")
        if os.path.isdir(self.tree):
            shutil.rmtree(self.tree)
        shutil.copytree(REPO, self.tree, ignore=COPY_IGNORE)
        self.usable = {}

    def _check(self, rel):
        cmd = ["cc", "-std=c11", "-fsyntax-only", "-fopenmp", "-DNNCL_USE_OPENCL=1", "-DCL_TARGET_OPENCL_VERSION=120",
               "-DNNCL_CLBLAST_VERSION=\"x\"", "-I", os.path.join(self.tree, "include"), "-I",
               os.path.join(self.tree, "src"), os.path.join(self.tree, rel)]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def _check_cl(self, rel):
        """An OpenCL kernel file after the prelude, with the host's build options, through clang's OpenCL C."""
        src = os.path.join(self.tree, rel)
        both = os.path.join(self.tree, "syntax-check.cl")
        with open(both, "w") as f:
            f.write(open(os.path.join(self.tree, "kernels", "common.cl")).read() + "\n" + open(src).read())
        acts = ["IDENTITY", "SIGMOID", "TANH", "RELU", "LEAKY_RELU", "ELU"]
        defs = [f"-DNNCL_ACT_{a}={i}" for i, a in enumerate(acts)] + ["-DNNCL_SUM_GROUP=256"]
        cmd = ["clang", "-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "-fsyntax-only"] + defs
        try:
            return subprocess.run(cmd + [both], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        except FileNotFoundError:
            return True  # no clang: the runtime build decides

    def compiles(self, m):
        rel = m["file"]
        if rel.endswith(".cl"):
            check = self._check_cl
        elif rel.endswith(".c"):
            check = self._check
        else:
            return True
        if rel not in self.usable:
            self.usable[rel] = check(rel)
        if not self.usable[rel]:
            return True
        path = os.path.join(self.tree, rel)
        text = open(path).read().split("\n")
        line = m["line"] - 1
        if line >= len(text) or text[line] != m["original"]:  # a report from an older tree: find the line
            hits = [i for i, t in enumerate(text) if t == m["original"]]
            if len(hits) != 1:
                return True
            line = hits[0]
        mutated = list(text)
        mutated[line] = m["mutant"]
        open(path, "w").write("\n".join(mutated))
        try:
            return check(rel)
        finally:
            open(path, "w").write("\n".join(text))


def mutant_id(m):
    return hashlib.sha1(f"{m['file']}\0{m['original'].strip()}\0{m['mutant'].strip()}".encode()).hexdigest()[:10]


def load_equivalent():
    """equivalent.txt: `id  file:line  reason`, one per line; # comments."""
    eq = {}
    path = os.path.join(HERE, "equivalent.txt")
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                parts = line.split(None, 2)
                eq[parts[0]] = parts[2] if len(parts) > 2 else ""
    return eq


def load_smoke():
    """smoke.txt: `file | original text | replacement` per line; each must be killed."""
    mutants = []
    for line in open(os.path.join(HERE, "smoke.txt")):
        if line.strip() and not line.startswith("#"):
            rel, old, new = [p.strip() for p in line.split(" | ")]
            text = open(os.path.join(REPO, rel)).read().split("\n")
            hits = [i for i, l in enumerate(text) if old in l]
            if len(hits) != 1:
                sys.exit(f"smoke.txt: '{old}' occurs {len(hits)} times in {rel}, must be once")
            i = hits[0]
            mutants.append({"file": rel, "line": i + 1, "original": text[i], "mutant": text[i].replace(old, new)})
    return mutants


def load_survivors(reports):
    """The surviving mutants of earlier reports, each placed on its line in the tree as it is now."""
    chosen, seen, equivalent = [], set(), load_equivalent()
    for path in reports:
        for r in json.load(open(path))["results"]:
            if r["verdict"] != "survived" or r["id"] in seen:
                continue
            seen.add(r["id"])
            if r["id"] in equivalent:  # its reason says no test can kill it; --merge counts it as equivalent
                print(f"equivalent (equivalent.txt): {r['id']} {r['file']}:{r['line']}; not run", flush=True)
                continue
            text = open(os.path.join(REPO, r["file"])).read().split("\n")
            line = r["line"]
            if line > len(text) or text[line - 1] != r["original"]:
                hits = [i + 1 for i, t in enumerate(text) if t == r["original"]]
                if len(hits) != 1:
                    print(f"gone: {r['id']} {r['file']}:{r['line']}: the line `{r['original'].strip()[:80]}` is "
                          f"{'no longer' if not hits else 'more than once'} in the file; left out", flush=True)
                    continue
                line = hits[0]
            chosen.append({"file": r["file"], "line": line, "original": r["original"], "mutant": r["mutant"]})
    return chosen


def prepare(scratch):
    tree, build = os.path.join(scratch, "tree"), os.path.join(scratch, "build")
    # Both afresh: copytree keeps the files' times, so a build left by an interrupted run (its last mutant
    # still compiled in, a kernel embedded at build time among them) would look newer than the restored
    # sources and be kept.
    for old in (tree, build):
        if os.path.isdir(old):
            shutil.rmtree(old)
    shutil.copytree(REPO, tree, ignore=COPY_IGNORE)
    os.makedirs(build, exist_ok=True)
    code, _, log = sh(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DNNCL_BUILD_BENCH=OFF"],
                      scratch, 600)
    if code == 0:
        code, _, log = sh(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], scratch, 1200)
    if code != 0:
        sys.exit(f"the unmutated tree does not build:\n{log}")
    code, secs, log = sh(["ctest", "--test-dir", build, "-j", "2"], scratch, 1800)
    if code != 0:
        sys.exit(f"the unmutated tree fails its tests; fix that first:\n{log}")
    return tree, build, secs


def run_one(m, tree, build, test_timeout):
    path = os.path.join(tree, m["file"])
    text = open(path).read().split("\n")
    assert text[m["line"] - 1] == m["original"]
    mutated = list(text)
    mutated[m["line"] - 1] = m["mutant"]
    open(path, "w").write("\n".join(mutated))
    try:
        code, _, log = sh(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], tree, 600)
        if code != 0:
            return "invalid", 0.0, "does not compile"
        code, secs, log = sh(["ctest", "--test-dir", build, "-j", "2", "--stop-on-failure"], tree, test_timeout)
        if code == "timeout":
            return "killed", secs, "test suite timed out"
        if code != 0:
            failed = re.findall(r"\d+ - (\S+) \(", log)
            return "killed", secs, "failed: " + ", ".join(failed[:4])
        return "survived", secs, ""
    finally:
        open(path, "w").write("\n".join(text))


def main():
    # SIGTERM (a run stopped with kill) unwinds like Ctrl-C, so run_one's `finally` restores the mutated file
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("areas", nargs="*", default=AREAS)
    ap.add_argument("--mutants", type=int, default=48, help="how many to run, spread over the areas")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget-minutes", type=float, default=120)
    ap.add_argument("--out")
    ap.add_argument("--smoke", action="store_true", help="run smoke.txt's fixed mutants; fail unless all die")
    ap.add_argument("--rerun", nargs="+", metavar="REPORT",
                    help="run the survivors of these report.json files again on the tree as it is now (a mutant whose "
                         "line moved is found by its text; one whose line is gone is listed and left out)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the killed and invalid verdicts of --out's report.json from an interrupted run of the "
                         "same --seed and --mutants; run the others (its survivors again)")
    ap.add_argument("--merge", nargs="+", metavar="REPORT",
                    help="combine report.json files of earlier runs into one report (--out); every mutant is checked "
                         "again with the compile filter, so one that cannot compile counts as invalid, not killed")
    a = ap.parse_args()
    if a.merge:
        return merge(a)
    if not a.smoke and not shutil.which("mutate"):
        sys.exit("universalmutator is not installed: pip install universalmutator")
    global SCRATCH
    scratch = SCRATCH = os.environ.get("NNCL_MUTATION_DIR", "/tmp/nncl-mutation")
    os.makedirs(scratch, exist_ok=True)
    out = a.out or scratch
    os.makedirs(out, exist_ok=True)

    if a.smoke:
        chosen = load_smoke()
    elif a.rerun:
        chosen = load_survivors(a.rerun)
    else:
        rng = random.Random(a.seed)
        per_area = {}
        for area in a.areas:
            pool = []
            for rel in source_files([area]):
                pool += generate(scratch, rel)
            rng.shuffle(pool)
            per_area[area] = pool
        syntax = SyntaxFilter(scratch)
        chosen, i = [], 0
        while len(chosen) < a.mutants and any(per_area.values()):  # round-robin over the areas
            area = a.areas[i % len(a.areas)]
            while per_area[area]:
                m = per_area[area].pop()
                if syntax.compiles(m):
                    chosen.append(m)
                    break
            i += 1

    tree, build, base_secs = prepare(scratch)
    test_timeout = max(120, 3 * base_secs)
    equivalent = load_equivalent()
    deadline = time.time() + 60 * a.budget_minutes
    results = []
    meta = {"seed": a.seed, "areas": a.areas, "smoke": a.smoke, "mutants": a.mutants, "rerun": a.rerun}
    done = {}
    if a.resume and os.path.exists(os.path.join(out, "report.json")):
        old = json.load(open(os.path.join(out, "report.json")))
        if old.get("seed") != a.seed or old.get("mutants") != a.mutants:
            sys.exit(f"--resume: {out}/report.json is of --seed {old.get('seed')} --mutants {old.get('mutants')}")
        # a survivor runs again: the tests written since it survived may kill it now
        done = {r["id"]: r for r in old["results"] if r["verdict"] in ("killed", "invalid")}
    for n, m in enumerate(chosen, 1):
        m["id"] = mutant_id(m)
        if m["id"] in done:
            results.append(done[m["id"]])
            continue
        if time.time() > deadline:
            print(f"budget spent after {n - 1} mutants", flush=True)
            break
        verdict, secs, detail = run_one(m, tree, build, test_timeout)
        if verdict == "survived" and m["id"] in equivalent:
            verdict, detail = "equivalent", equivalent[m["id"]]
        m.update(verdict=verdict, seconds=round(secs, 1), detail=detail)
        results.append(m)
        print(f"[{n}/{len(chosen)}] {verdict:10s} {m['id']} {m['file']}:{m['line']}: {m['mutant'].strip()[:90]}"
              f"  {detail}", flush=True)
        # the report so far after every mutant: a run stopped by hand (or by the machine) keeps its results
        write_report(results, out, meta, quiet=True)

    write_report(results, out, meta)
    if a.smoke:
        survivors = [r for r in results if r["verdict"] != "killed"]
        for r in survivors:
            print(f"smoke mutant not killed ({r['verdict']}): {r['file']}:{r['line']}: {r['mutant'].strip()}")
        sys.exit(1 if survivors else 0)


def merge(a):
    scratch = os.environ.get("NNCL_MUTATION_DIR", "/tmp/nncl-mutation")
    os.makedirs(scratch, exist_ok=True)
    syntax, equivalent, results, seen = SyntaxFilter(scratch), load_equivalent(), [], set()
    for path in a.merge:
        for r in json.load(open(path))["results"]:
            if r["id"] in seen:
                continue
            seen.add(r["id"])
            if r["verdict"] != "invalid" and not syntax.compiles(r):
                r["verdict"], r["detail"] = "invalid", "does not compile (compile filter)"
            if r["verdict"] == "survived" and r["id"] in equivalent:
                r["verdict"], r["detail"] = "equivalent", equivalent[r["id"]]
            results.append(r)
    write_report(results, a.out or scratch, {"merged": a.merge})


def write_report(results, out, meta, quiet=False):
    os.makedirs(out, exist_ok=True)
    count = {v: sum(r["verdict"] == v for r in results) for v in ("killed", "survived", "equivalent", "invalid")}
    scored = count["killed"] + count["survived"]
    score = count["killed"] / scored if scored else 0.0
    summary = dict(meta, score=score, counts=count, results=results)
    with open(os.path.join(out, "report.json.tmp"), "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(os.path.join(out, "report.json.tmp"), os.path.join(out, "report.json"))
    with open(os.path.join(out, "report.md.tmp"), "w") as f:
        f.write(f"# Mutation report\n\nscore {100 * score:.1f}% = {count['killed']} killed / "
                f"({count['killed']} killed + {count['survived']} survived); {count['equivalent']} equivalent "
                f"(listed in tests/mutation/equivalent.txt), {count['invalid']} did not compile.\n\n")
        for r in results:
            if r["verdict"] in ("survived", "equivalent"):
                f.write(f"- {r['verdict']} `{r['id']}` {r['file']}:{r['line']}\n  - `{r['original'].strip()}`\n"
                        f"  - `{r['mutant'].strip()}`\n" + (f"  - {r['detail']}\n" if r["detail"] else ""))
    os.replace(os.path.join(out, "report.md.tmp"), os.path.join(out, "report.md"))
    if not quiet:
        print(f"score {100 * score:.1f}%: {count}; report in {out}/report.md")


if __name__ == "__main__":
    main()
