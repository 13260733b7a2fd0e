"""Run the hostile-input and fault suite (issue 7) and count its cases per family.

    python bench/faults.py                 # all seven families
    python bench/faults.py --family records --family secrets
    python bench/faults.py --json out.json -- -x   # extra pytest arguments after --

A case is one plain test, or one example a hypothesis property tried (every
phase: replayed, generated, shrunk). Prints, per family, e.g.::

    records: 412 cases (12 tests + 400 hypothesis examples from 2 properties), 412 passed

then the total and the wall time. Exit status: pytest's (0 when every case passed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Run as `python bench/faults.py`, this folder is first on sys.path, and its
# bench/discord.py would shadow the discord package: search the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# family → its test file; the file's FAMILY constant says the same (checked below).
FAMILIES: dict[str, str] = {
    "records": "tests/hostile/test_hostile_records.py",
    "questions": "tests/hostile/test_hostile_queries.py",
    "content": "tests/hostile/test_hostile_render.py",
    "crashes": "tests/core/test_crash.py",
    "concurrency": "tests/core/test_concurrency.py",
    "permissions": "tests/discord_app/test_permissions.py",
    "secrets": "tests/hostile/test_secrets.py",
}
_BY_FILE = {Path(f).name: fam for fam, f in FAMILIES.items()}
# One line per hypothesis phase in `item.hypothesis_statistics`:
# "- 200 passing, 0 failing, and 3 invalid test cases" (older: "… examples").
_PHASE = re.compile(r"(\d+) passing, (\d+) failing")


@dataclass
class Tally:
    tests: int = 0  # plain tests run
    tests_passed: int = 0
    properties: int = 0  # hypothesis tests run
    properties_passed: int = 0
    examples: int = 0  # examples those properties tried
    examples_passed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return self.tests + self.examples

    @property
    def passed(self) -> int:
        return self.tests_passed + self.examples_passed

    def line(self, name: str) -> str:
        parts = [f"{self.tests} tests"]
        if self.properties:
            parts.append(f"{self.examples} hypothesis examples from {self.properties} properties")
        text = f"{name}: {self.cases} cases ({' + '.join(parts)}), {self.passed} passed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        if self.failed:
            text += f", {len(self.failed)} tests FAILED"
        return text


def family_of(item: pytest.Item) -> str:
    declared = getattr(getattr(item, "module", None), "FAMILY", None)
    by_name = _BY_FILE.get(Path(str(item.fspath)).name, "other")
    if declared and declared != by_name and by_name != "other":
        raise pytest.UsageError(f"{item.fspath}: FAMILY={declared!r} but the file is {by_name!r}")
    return declared or by_name


def examples_in(statistics: str) -> tuple[int, int]:
    """(passing, failing) examples over all phases of one hypothesis run."""
    passing = failing = 0
    for p, f in _PHASE.findall(statistics):
        passing += int(p)
        failing += int(f)
    return passing, failing


class FaultCounter:
    """A pytest plugin: tallies outcomes per family, hypothesis examples included."""

    def __init__(self) -> None:
        self.family: dict[str, str] = {}
        self.is_property: dict[str, bool] = {}
        self.examples: dict[str, tuple[int, int]] = {}
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.family[item.nodeid] = family_of(item)
            self.is_property[item.nodeid] = bool(
                getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
            )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> Iterator[None]:
        yield
        if call.when == "call":
            stats = getattr(item, "hypothesis_statistics", None)
            if stats:
                self.examples[item.nodeid] = examples_in(stats)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        seen = self.outcome.get(report.nodeid)
        if report.failed:
            self.outcome[report.nodeid] = "failed"
        elif report.skipped and seen != "failed":
            self.outcome[report.nodeid] = "skipped"
        elif report.when == "call" and report.passed and seen is None:
            self.outcome[report.nodeid] = "passed"

    def tallies(self) -> dict[str, Tally]:
        out: dict[str, Tally] = {name: Tally() for name in FAMILIES}
        for nodeid, fam in self.family.items():
            outcome = self.outcome.get(nodeid)
            if outcome is None:
                continue  # deselected, or never ran (an earlier -x stop)
            t = out.setdefault(fam, Tally())
            if outcome == "skipped":
                t.skipped += 1
                continue
            ok = outcome == "passed"
            if not ok:
                t.failed.append(nodeid)
            if self.is_property[nodeid]:
                passing, failing = self.examples.get(nodeid, (0, 0))
                if passing + failing == 0:  # failed before any example ran: count the test
                    passing, failing = (1, 0) if ok else (0, 1)
                t.properties += 1
                t.properties_passed += ok
                t.examples += passing + failing
                t.examples_passed += passing
            else:
                t.tests += 1
                t.tests_passed += ok
        return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--family",
        action="append",
        choices=list(FAMILIES),
        help="run only this family (repeatable)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    families = args.family or list(FAMILIES)
    files = [FAMILIES[f] for f in families]
    counter = FaultCounter()
    started = time.perf_counter()
    code = pytest.main(
        ["-p", "no:cacheprovider", "-q", *files, *args.pytest_args], plugins=[counter]
    )
    seconds = time.perf_counter() - started

    tallies = counter.tallies()
    total = Tally()
    print()
    print("hostile suite (issue 7): cases tried and passed per family")
    for name in families:
        t = tallies[name]
        print("  " + t.line(name))
        for nodeid in t.failed:
            print(f"      FAILED {nodeid}")
        for attr in (
            "tests",
            "tests_passed",
            "properties",
            "properties_passed",
            "examples",
            "examples_passed",
            "skipped",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        total.failed += t.failed
    print(
        f"  total: {total.cases} cases ({total.tests} tests + {total.examples} hypothesis examples "
        f"from {total.properties} properties), {total.passed} passed"
        + (f", {len(total.failed)} tests FAILED" if total.failed else "")
        + f" — {seconds:.0f} s"
    )
    if args.json:
        report = {
            "families": {
                n: {**asdict(tallies[n]), "cases": tallies[n].cases, "passed": tallies[n].passed}
                for n in families
            },
            "total": {**asdict(total), "cases": total.cases, "passed": total.passed},
            "seconds": round(seconds, 1),
            "exit_code": int(code),
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
