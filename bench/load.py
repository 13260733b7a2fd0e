"""Benchmark `newsbot load` against the parse-only floor.

For each N it generates N realistic records (bench.corpusgen, seeded; cached by
(N, seed) so re-runs skip generation), then measures, in the same run:

* the parse-only floor: read each file, split off its front matter and load it
  with PyYAML's ``yaml.CSafeLoader``, on one core, no database;
* a full load (``bot.core.loader.load_paths`` into a fresh store, default workers),
  in a subprocess, so its peak RSS is its own and not the generator's;
* a second load of the same folder into that store, nothing changed.

and prints stories/second, the load/floor ratio, peak RSS, and whether the
issue's targets are met (load ≥ 0.8x the floor; peak RSS < 300 MB at 100,000).

Usage::

    python -m bench.load                 # N = 10,000 and 100,000 (a few minutes)
    python -m bench.load --sizes 1000    # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

RATIO_TARGET = 0.8
RSS_TARGET_MB = 300
RSS_TARGET_AT = 100_000
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# -- the corpus, cached --------------------------------------------------------------------


def corpus_dir(n: int, seed: int, cache: Path) -> Path:
    """A folder of n generated records for this seed, generated once and then reused."""
    folder = cache / f"corpus-n{n}-seed{seed}"
    done = folder / ".complete"  # dot-files are not scanned as records
    if done.exists():
        return folder
    t0 = time.perf_counter()
    tmp = cache / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    # In a child process: the generator holds every record in memory, and a
    # parent's peak RSS is inherited by the load children it starts later.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.corpusgen",
            "--n",
            str(n),
            "--seed",
            str(seed),
            "--out",
            str(tmp),
            "--check",
            "0",
        ],
        check=True,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
    )
    (tmp / ".complete").write_text(f"{n} records, seed {seed}\n")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # only a finished folder ever has the cached name
    print(f"  generated {n:,} records into {folder} in {time.perf_counter() - t0:.1f}s")
    return folder


def record_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".md")


# -- the floor -------------------------------------------------------------------------------


def front_matter(text: str) -> str:
    """The YAML between the first two '---' lines (records are written by corpusgen)."""
    start = text.index("\n") + 1
    end = text.index("\n---\n", start - 1)
    return text[start : end + 1]


def parse_floor(files: list[Path]) -> float:
    """Seconds to read and YAML-load every file's front matter, on one core."""
    loader = yaml.CSafeLoader
    t0 = time.perf_counter()
    for p in files:
        with open(p, "rb") as fh:
            text = fh.read().decode("utf-8")
        data = yaml.load(front_matter(text), Loader=loader)
        if not isinstance(data, dict):
            raise SystemExit(f"{p}: generated record did not parse to a mapping")
    return time.perf_counter() - t0


def warm(files: list[Path]) -> None:
    """Read every file once so floor and load both start from the page cache."""
    for p in files:
        with open(p, "rb") as fh:
            fh.read()


# -- the load, in a child process --------------------------------------------------------------

CHILD = r"""
import asyncio, json, resource, sys, time

async def main(db, folder, workers):
    from bot.core.loader import load_paths
    from bot.core.store import open_store
    t0 = time.perf_counter()
    store = await open_store(db)
    try:
        report = await load_paths(store, [folder], workers=workers)
    finally:
        await store.close()
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "seconds": seconds,
        "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
        "duplicates": report.duplicates, "rejected": len(report.rejected),
        "rss_kb": peak_rss_kb(),
    }))

def peak_rss_kb():
    # VmHWM belongs to this process's own memory map. ru_maxrss would not do:
    # Linux carries the parent's peak into it across fork and exec.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if sys.argv[3] else None))
"""


class TreePeak(threading.Thread):
    """Samples the peak RSS (VmHWM) of a process's descendants: the parser workers."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.every = pid, every
        self.peaks: dict[int, int] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            for pid in self._descendants():
                kb = _vm_hwm_kb(pid)
                if kb:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def _descendants(self) -> list[int]:
        parent: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        # The name field may hold spaces; ppid is 2nd after ')'.
                        parent[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        found, frontier = [], [self.root]
        while frontier:
            pid = frontier.pop()
            kids = [c for c, pp in parent.items() if pp == pid]
            found.extend(kids)
            frontier.extend(kids)
        return found


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_load(db: Path, folder: Path, workers: int | None = None) -> dict[str, Any]:
    """One `load_paths` in a fresh interpreter; its figures plus the workers' peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(folder), str(workers or "")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        text=True,
    )
    sampler = TreePeak(proc.pid) if Path("/proc").is_dir() else None
    if sampler:
        sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if sampler:
        sampler.stopping.set()
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"load child failed ({proc.returncode}):\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = wall
    # RUSAGE_CHILDREN is the largest child so far, and includes what this process
    # held when it forked: a cross-check (an upper bound), not the figure itself.
    result["children_rss_kb"] = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    peaks = sampler.peaks if sampler else {}
    result["workers"] = len(peaks)
    result["worker_rss_kb"] = max(peaks.values(), default=0)
    result["worker_rss_sum_kb"] = sum(peaks.values())
    return result


# -- report -------------------------------------------------------------------------------------


def mb(kb: int) -> float:
    return kb / 1024


def verdict(ok: bool) -> str:
    return "target met" if ok else "NOT met"


def bench_size(n: int, seed: int, cache: Path, repeat: int, workers: int | None) -> bool:
    print(f"\nN = {n:,} (seed {seed})")
    folder = corpus_dir(n, seed, cache)
    files = record_files(folder)
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    print(f"  corpus: {len(files):,} files, {size_mb:.1f} MB, {folder}")
    warm(files)

    floor = min(parse_floor(files) for _ in range(repeat))
    floor_rate = len(files) / floor
    print(f"  parse-only floor (CSafeLoader, 1 core): {floor:7.2f}s  {floor_rate:9,.0f} stories/s")

    ok = True
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-db-") as tmp:
        best: dict[str, Any] | None = None
        for i in range(repeat):
            db = Path(tmp) / f"load{i}.db"
            got = run_load(db, folder, workers)
            if got["rejected"] or got["added"] + got["duplicates"] != len(files):
                raise SystemExit(f"load did not store every record: {got}")
            if best is None or got["seconds"] < best["seconds"]:
                best, best_db = got, db
        assert best is not None
        rate = len(files) / best["seconds"]
        ratio = rate / floor_rate
        print(
            f"  newsbot load (fresh store):            {best['seconds']:7.2f}s  "
            f"{rate:9,.0f} stories/s"
            f"  = {ratio:.2f}x floor  ({best['added']:,} added, {best['duplicates']} duplicate"
            f" URLs; {best['wall']:.1f}s with interpreter start)"
        )
        print(
            f"  peak RSS: load process {mb(best['rss_kb']):.0f} MB (VmHWM; getrusage of children "
            f"{mb(best['children_rss_kb']):.0f} MB); "
            f"{best['workers']} helper processes (forkserver, parsers), largest "
            f"{mb(best['worker_rss_kb']):.0f} MB, together {mb(best['worker_rss_sum_kb']):.0f} MB "
            "(sampled)"
        )
        again = run_load(best_db, folder, workers)
        if again["unchanged"] != len(files) or again["added"] or again["updated"]:
            raise SystemExit(f"reload changed something: {again}")
        re_rate = len(files) / again["seconds"]
        print(
            f"  reload, nothing changed:               {again['seconds']:7.2f}s  "
            f"{re_rate:9,.0f} stories/s"
            f"  = {re_rate / floor_rate:.2f}x floor  (peak RSS {mb(again['rss_kb']):.0f} MB)"
        )
        ok_ratio = ratio >= RATIO_TARGET
        ok = ok_ratio
        print(
            f"  throughput >= {RATIO_TARGET}x single-core parse-only: {ratio:.2f}x "
            f"-> {verdict(ok_ratio)}"
        )
        if n >= RSS_TARGET_AT:
            ok_rss = mb(best["rss_kb"]) < RSS_TARGET_MB
            ok = ok and ok_rss
            print(
                f"  peak RSS < {RSS_TARGET_MB} MB at {n:,}: {mb(best['rss_kb']):.0f} MB "
                f"-> {verdict(ok_rss)}"
            )
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes", default="10000,100000", help="comma-separated N (default 10000,100000)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parser processes for the load (default: the loader's own default)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is kept")
    ap.add_argument(
        "--cache",
        default=str(Path(tempfile.gettempdir()) / "newsbot-bench-load"),
        help="where generated corpora are kept between runs",
    )
    args = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(
        f"newsbot load benchmark: python {sys.version.split()[0]}, PyYAML {yaml.__version__}, "
        f"{os.cpu_count()} cores, workers: {args.workers or 'default'}"
    )
    results = [bench_size(n, args.seed, cache, max(1, args.repeat), args.workers) for n in sizes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
