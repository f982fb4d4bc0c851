"""Triage accuracy on the labelled corpus of real failures (benchmarks/corpus/).

    python benchmarks/triage_accuracy.py                      # main corpus, then the held-out set
    python benchmarks/triage_accuracy.py --min-category 0.95 --min-remediation 0.95 \
        --min-culprit 0.90 --max-fingerprint-violations 0      # fail (exit 1) below a threshold

Every case is triaged through the real CLI contract, `patchit triage LOG --repo REPO --json`
(in-process through `patchit_provider.cli.main`, or with `--subprocess` through the installed
console script), and compared with its `label.json`:

- category, remediation: equal to the label's ids;
- culprit: the label's path and line; a label line of null means only the file is known (the
  path must match, any line is accepted); a label culprit of null requires a null culprit;
- fingerprints: cases with the same `cause` must share one fingerprint (a split is a violation)
  and different causes must not share one (each colliding pair of causes is a violation).

Without thresholds the exit status is 0: it is a measurement. Thresholds apply to the main
corpus, and to the held-out set too with `--heldout-thresholds`.

    python benchmarks/triage_accuracy.py --external            # benchmarks/external/{dev,heldout}
    python benchmarks/triage_accuracy.py --external --min-category 0.9 --min-remediation 0.95 \
        --min-culprit 0.95 --max-unknown 0.05                   # thresholds on the held-out part

    python benchmarks/triage_accuracy.py --external --part dev --half A    # cross-validation: misses of half A
    python benchmarks/triage_accuracy.py --external --part dev --half B --no-cases   # half B: aggregates only
    python benchmarks/triage_accuracy.py --external --part dev --batch 2     # one collection batch (rows batch=N)
    PATCHIT_LLM_URL=... PATCHIT_LLM_MODEL=... PATCHIT_LLM_API_KEY=... \
        python benchmarks/triage_accuracy.py --external --model-reading   # what the `read` stage adds

The external corpus (benchmarks/external/README.md) holds outputs posted in public trackers, with
no repository: each case is triaged without `--repo`. Its culprit is scored only where the label
has one: right when the paths match by suffix (either way, POSIX) and the line matches when the
label gives one. Per-case misses are printed for `dev` only; the frozen `heldout` part prints
aggregates only (it must never be used to write or tune a rule).
"""

from __future__ import annotations

import argparse
import hashlib
import contextlib
import io
import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
SETS = {"main": CORPUS / "cases", "heldout": CORPUS / "heldout"}
EXTERNAL = Path(__file__).resolve().parent / "external"
EXTERNAL_SETS = {"external/dev": EXTERNAL / "dev", "external/heldout": EXTERNAL / "heldout"}


@dataclass
class CaseResult:
    case: str
    label: dict
    got: dict
    error: str = ""

    def ok_category(self) -> bool:
        return self.got.get("category") == self.label["category"]

    def ok_remediation(self) -> bool:
        return self.got.get("remediation") == self.label["remediation"]

    def ok_culprit(self) -> bool:
        want, got = self.label.get("culprit"), self.got.get("culprit")
        if want is None or got is None:
            return want is None and got is None
        if want.get("path") != got.get("path"):
            return False
        return want.get("line") is None or want.get("line") == got.get("line")


@dataclass
class Report:
    name: str
    results: list[CaseResult] = field(default_factory=list)

    def rate(self, check: str) -> float:
        if not self.results:
            return 0.0
        return sum(getattr(r, f"ok_{check}")() for r in self.results) / len(self.results)

    def fingerprint_violations(self) -> tuple[list[str], list[str]]:
        """(split causes, colliding pairs of causes), as readable lines."""
        by_cause: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for r in self.results:
            by_cause[r.label["cause"]][str(r.got.get("fingerprint"))].append(r.case)
        splits = [
            f"cause {cause}: {len(prints)} fingerprints "
            + "; ".join(f"{fp}={','.join(cases)}" for fp, cases in prints.items())
            for cause, prints in sorted(by_cause.items())
            if len(prints) > 1
        ]
        by_print: dict[str, set[str]] = defaultdict(set)
        for cause, prints in by_cause.items():
            for fp in prints:
                by_print[fp].add(cause)
        collisions = []
        for fp, causes in sorted(by_print.items()):
            ordered = sorted(causes)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    collisions.append(f"fingerprint {fp} shared by causes {a} and {b}")
        return splits, collisions

    def violations(self) -> int:
        splits, collisions = self.fingerprint_violations()
        return len(splits) + len(collisions)

    def misses(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for r in self.results:
            for check in ("category", "remediation", "culprit"):
                if not getattr(r, f"ok_{check}")():
                    want = r.label.get(check) if check != "culprit" else _culprit_text(r.label.get("culprit"))
                    got = r.got.get(check) if check != "culprit" else _culprit_text(r.got.get("culprit"))
                    rows.append((r.case, check, str(want), str(got), r.error or str(r.got.get("summary", ""))))
        return rows


def _culprit_text(culprit: dict | None) -> str:
    if not culprit:
        return "null"
    return f"{culprit.get('path')}:{culprit.get('line') if culprit.get('line') is not None else '*'}"


def triage_json(log: Path, repo: Path | None, use_subprocess: bool = False) -> tuple[dict, str]:
    """The `patchit triage --json` object for one case, and an error text when it failed."""
    argv = ["triage", str(log), *(["--repo", str(repo)] if repo is not None else []), "--json"]
    if use_subprocess:
        exe = shutil.which("patchit") or str(Path(sys.executable).with_name("patchit"))
        proc = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=300)
        out, code, err = proc.stdout, proc.returncode, proc.stderr
    else:
        from patchit_provider.cli import main

        buffer, errors = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(errors):
                code = main(argv)
        except Exception as exc:  # a crash is a miss on every figure, not the end of the run
            return {}, f"crash: {type(exc).__name__}: {exc}"
        out, err = buffer.getvalue(), errors.getvalue()
    if code != 0:
        return {}, f"exit {code}: {err.strip()[-300:]}"
    lines = [l for l in out.splitlines() if l.strip()]
    try:
        return json.loads(lines[-1]), ""
    except (IndexError, json.JSONDecodeError):
        return {}, f"no JSON object on stdout: {out[-300:]!r}"


def load_cases(directory: Path) -> list[tuple[str, Path, Path, dict]]:
    cases = []
    for label_path in sorted(directory.glob("*/label.json")):
        case_dir = label_path.parent
        cases.append((case_dir.name, case_dir / "log", case_dir / "repo", json.loads(label_path.read_text())))
    return cases


def evaluate(name: str, directory: Path, use_subprocess: bool = False) -> Report:
    report = Report(name)
    for case, log, repo, label in load_cases(directory):
        got, error = triage_json(log, repo, use_subprocess)
        report.results.append(CaseResult(case, label, got, error))
    return report


def composition(report: Report) -> str:
    engines = sorted({r.label.get("engine", "?") for r in report.results})
    counts = Counter((r.label["category"], r.label.get("engine", "?")) for r in report.results)
    categories = sorted({r.label["category"] for r in report.results})
    width = max([len(c) for c in categories] + [8])
    lines = [f"  {'category':<{width}} " + " ".join(f"{e:>8}" for e in engines) + "   total"]
    for cat in categories:
        row = [counts[(cat, e)] for e in engines]
        lines.append(f"  {cat:<{width}} " + " ".join(f"{n or '.':>8}" for n in row) + f"   {sum(row):>5}")
    lines.append(
        f"  {'total':<{width}} "
        + " ".join(f"{sum(counts[(c, e)] for c in categories):>8}" for e in engines)
        + f"   {len(report.results):>5}"
    )
    return "\n".join(lines)


def print_report(report: Report, show_composition: bool = True) -> None:
    n = len(report.results)
    causes = len({r.label["cause"] for r in report.results})
    print(f"== {report.name}: {n} cases, {causes} causes")
    if show_composition:
        print(composition(report))
    for check in ("category", "remediation", "culprit"):
        ok = sum(getattr(r, f"ok_{check}")() for r in report.results)
        print(f"  {check + ' accuracy':<22} {report.rate(check):6.1%}  ({ok}/{n})")
    splits, collisions = report.fingerprint_violations()
    print(
        f"  {'fingerprint violations':<22} {len(splits) + len(collisions):6d}  "
        f"({len(splits)} same-cause splits, {len(collisions)} different-cause collisions)"
    )
    for line in splits + collisions:
        print(f"    {line}")
    misses = report.misses()
    if misses:
        print(f"  misses ({len(misses)}):")
        widths = [max(len(row[i]) for row in misses) for i in range(4)]
        widths = [min(w, 44) for w in widths]
        header = ("case", "field", "expected", "got")
        print("    " + "  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  summary")
        for row in misses:
            print("    " + "  ".join(v[:w].ljust(w) for v, w in zip(row[:4], widths)) + "  " + row[4][:160])
    print()


def _suffix_match(want: str, got: str) -> bool:
    a = [p for p in want.replace("\\", "/").split("/") if p not in ("", ".")]
    b = [p for p in got.replace("\\", "/").split("/") if p not in ("", ".")]
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return long[-len(short) :] == short


@dataclass
class ExternalResult(CaseResult):
    def has_culprit(self) -> bool:
        return bool(self.label.get("culprit"))

    def ok_culprit(self) -> bool:
        want, got = self.label.get("culprit"), self.got.get("culprit")
        if not want:
            return True  # not scored (see has_culprit)
        if not got or not _suffix_match(str(want.get("path", "")), str(got.get("path", ""))):
            return False
        return want.get("line") is None or want.get("line") == got.get("line")

    def is_unknown(self) -> bool:
        return self.got.get("category", "unknown") == "unknown"


def dev_half(case: str) -> str:
    """The cross-validation half of a dev case, from its id alone: A when sha256(id) is even, else
    B. Rules are written from misses of A only; B measures whether they generalize."""
    return "A" if int(hashlib.sha256(case.encode()).hexdigest(), 16) % 2 == 0 else "B"


def model_reader():
    """The ModelReader of the model `patchit remediate` would ask (--llm-* / PATCHIT_LLM_*
    variables, else the Airflow connection), or exit when none is configured."""
    from patchit_provider.cli import _llm_config
    from patchit_provider.engine.settings import PatchitSettings

    found = _llm_config(argparse.Namespace(no_llm=False), PatchitSettings())
    if found is None:
        raise SystemExit("--model-reading: no model configured (PATCHIT_LLM_KIND / _URL / _MODEL / _API_KEY)")
    return found[0].reader()


# what became of each `unknown` the model read (--model-reading), by outcome
READINGS: Counter[str] = Counter()


def read_unknown(log: Path, got: dict, reader) -> dict:
    """`got` as the remediation's `read` stage would leave it: an `unknown` triage read by the model
    (the same checks; a failed or refused reading leaves it unknown)."""
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.llm.base import LLMAnswerError, LLMError
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.triage import triage

    if reader is None or got.get("category") != "unknown":
        return got
    event = FailureEvent(pipeline_id="benchmark", run_id="r", log_text=log.read_text(errors="replace"))
    evidence = collect_evidence(event, None, PatchitSettings())
    try:
        read = reader(evidence, triage(evidence))
    except LLMError as exc:  # the rule that refused it, without the case's text
        rule = str(exc).removeprefix("the reading was refused: ").split(":")[0][:70]
        READINGS[f"refused ({rule})" if isinstance(exc, LLMAnswerError) else "model failed"] += 1
        return got
    READINGS["applied" if read is not None else "the model answered unknown"] += 1
    return read.model_dump(mode="json") if read is not None else got


def evaluate_external(
    name: str,
    directory: Path,
    use_subprocess: bool = False,
    half: str | None = None,
    batch: int | None = None,
    reader=None,
) -> list[ExternalResult]:
    results = []
    for label_path in sorted(directory.glob("*/label.json")):
        if half is not None and dev_half(label_path.parent.name) != half:
            continue
        label = json.loads(label_path.read_text())
        if batch is not None and label.get("batch", 1) != batch:
            continue
        got, error = triage_json(label_path.parent / "log", None, use_subprocess)
        got = read_unknown(label_path.parent / "log", got, reader)
        results.append(ExternalResult(label_path.parent.name, label, got, error))
    return results


def external_figures(results: list[ExternalResult]) -> dict[str, float | int]:
    n = len(results)
    scored = [r for r in results if r.has_culprit()]
    return {
        "cases": n,
        "category": sum(r.ok_category() for r in results) / n if n else 0.0,
        "remediation": sum(r.ok_remediation() for r in results) / n if n else 0.0,
        "culprit": sum(r.ok_culprit() for r in scored) / len(scored) if scored else 1.0,
        "culprit_cases": len(scored),
        "unknown": sum(r.is_unknown() for r in results) / n if n else 0.0,
    }


def _figure_line(label: str, results: list[ExternalResult], width: int) -> str:
    f = external_figures(results)
    return (
        f"  {label:<{width}} {f['cases']:>5}  {f['category']:8.1%} {f['remediation']:8.1%} "
        f"{f['culprit']:8.1%} ({f['culprit_cases']:>3}) {f['unknown']:8.1%}"
    )


def _label_value(result: ExternalResult, key: str) -> str:
    """A label field as text; cases collected before batches were numbered are batch 1, and a
    case without `uncertain` is one whose thread concluded (uncertain=False)."""
    default: object = {"batch": 1, "uncertain": False}.get(key, "?")
    return str(result.label.get(key, default))


def print_external(name: str, results: list[ExternalResult], show_cases: bool) -> None:
    print(f"== {name}: {len(results)} cases" + ("" if show_cases else " (aggregates only)"))
    groups = [("overall", results)]
    for key in ("batch", "uncertain", "engine", "category"):
        for value in sorted({_label_value(r, key) for r in results}):
            groups.append((f"{key}={value}", [r for r in results if _label_value(r, key) == value]))
    width = max(len(g[0]) for g in groups)
    print(f"  {'':<{width}} {'cases':>5}  {'category':>8} {'remed.':>8} {'culprit':>8} (n)   {'unknown':>8}")
    for label, group in groups:
        print(_figure_line(label, group, width))
    if show_cases:
        misses = []
        for r in results:
            for check in ("category", "remediation", "culprit"):
                if not getattr(r, f"ok_{check}")():
                    want = r.label.get(check) if check != "culprit" else _culprit_text(r.label.get("culprit"))
                    got = r.got.get(check) if check != "culprit" else _culprit_text(r.got.get("culprit"))
                    misses.append((r.case, check, str(want), str(got), r.error or str(r.got.get("summary", ""))))
        if misses:
            print(f"  misses ({len(misses)}):")
            for case, check, want, got, summary in misses:
                print(f"    {case[:56]:<56} {check:<11} {want[:40]:<40} {got[:40]:<40} {summary[:140]}")
    print()


def external_failures(name: str, results: list[ExternalResult], args: argparse.Namespace) -> list[str]:
    f = external_figures(results)
    failures = [
        f"{name}: {check} accuracy {f[check]:.1%} < {minimum:.0%}"
        for check, minimum in (
            ("category", args.min_category),
            ("remediation", args.min_remediation),
            ("culprit", args.min_culprit),
        )
        if minimum is not None and f[check] < minimum
    ]
    if args.max_unknown is not None and f["unknown"] > args.max_unknown:
        failures.append(f"{name}: unknown rate {f['unknown']:.1%} > {args.max_unknown:.0%}")
    return failures


def failed_thresholds(report: Report, args: argparse.Namespace) -> list[str]:
    failures = []
    for check, minimum in (
        ("category", args.min_category),
        ("remediation", args.min_remediation),
        ("culprit", args.min_culprit),
    ):
        if minimum is not None and report.rate(check) < minimum:
            failures.append(f"{report.name}: {check} accuracy {report.rate(check):.1%} < {minimum:.0%}")
    if args.max_fingerprint_violations is not None and report.violations() > args.max_fingerprint_violations:
        failures.append(
            f"{report.name}: {report.violations()} fingerprint violations > {args.max_fingerprint_violations}"
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["main", "heldout", "all"], default="all")
    parser.add_argument("--subprocess", action="store_true", help="run the installed `patchit` console script per case")
    parser.add_argument("--min-category", type=float)
    parser.add_argument("--min-remediation", type=float)
    parser.add_argument("--min-culprit", type=float)
    parser.add_argument("--max-fingerprint-violations", type=int)
    parser.add_argument(
        "--heldout-thresholds", action="store_true", help="apply the thresholds to the held-out set too"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the per-case results as JSON lines as well (not for the frozen part)"
    )
    parser.add_argument(
        "--external", action="store_true", help="score benchmarks/external/{dev,heldout} (thresholds apply to heldout)"
    )
    parser.add_argument(
        "--part", choices=["dev", "heldout", "both"], default="both", help="with --external: which part"
    )
    parser.add_argument(
        "--half",
        choices=["A", "B"],
        help="with --external --part dev: one cross-validation half "
        "(sha256 of the case id mod 2: A even, B odd); print B's aggregates only with --no-cases",
    )
    parser.add_argument(
        "--batch", type=int, help="with --external: only the cases of one collection batch (1: before 2026-12-02)"
    )
    parser.add_argument("--no-cases", action="store_true", help="print aggregates only, no per-case misses")
    parser.add_argument("--max-unknown", type=float, help="with --external: the highest acceptable rate of `unknown`")
    parser.add_argument(
        "--model-reading",
        action="store_true",
        help="with --external: read the cases triage leaves `unknown` with the configured model, as the "
        "remediation's `read` stage does (PATCHIT_LLM_* variables, as `patchit remediate`)",
    )
    args = parser.parse_args(argv)
    reader = model_reader() if args.model_reading else None

    failures: list[str] = []
    if args.external:
        for name, directory in EXTERNAL_SETS.items():
            if args.part != "both" and not name.endswith(args.part):
                continue
            frozen = name.endswith("heldout")
            half = None if frozen else args.half
            results = evaluate_external(name, directory, args.subprocess, half, args.batch, reader)
            print_external(
                name + (f" half {half}" if half else ""), results, show_cases=not frozen and not args.no_cases
            )
            if reader is not None:
                print("  model readings: " + (", ".join(f"{k} {v}" for k, v in sorted(READINGS.items())) or "none"))
                READINGS.clear()
            if args.json and not frozen and not args.no_cases:
                for r in results:
                    print(json.dumps({"set": name, "case": r.case, "label": r.label, "got": r.got, "error": r.error}))
            if frozen:
                failures += external_failures(name, results, args)
        for failure in failures:
            print(f"THRESHOLD NOT MET: {failure}")
        return 1 if failures else 0
    for name in ["main", "heldout"] if args.set == "all" else [args.set]:
        report = evaluate(name, SETS[name], args.subprocess)
        print_report(report)
        if args.json:
            for r in report.results:
                print(json.dumps({"set": name, "case": r.case, "label": r.label, "got": r.got, "error": r.error}))
        if name == "main" or args.heldout_thresholds:
            failures += failed_thresholds(report, args)
    for failure in failures:
        print(f"THRESHOLD NOT MET: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
