"""Times the C++ rapidfuzz library (through its Python package) on the benchmark's pairs and
prints them next to criterion's medians of the same run, as ratios.

Usage: edit_distance_reference.py <target dir>
Reads <target>/bench/edit-pairs.json (written by the edit_distance bench) and
<target>/criterion/edit_distance/<impl>/<chars>/new/estimates.json.
"""
import json
import sys
import timeit
from pathlib import Path

from rapidfuzz.distance import Levenshtein


def reference_ns(a: str, b: str) -> float:
    """Median of 15 rounds, each timing enough calls to last about 0.2 s, in ns per call."""
    call = lambda: Levenshtein.normalized_distance(a, b)  # noqa: E731
    number, _ = timeit.Timer(call).autorange()
    number = max(1, number)
    rounds = sorted(timeit.repeat(call, number=number, repeat=15))
    return rounds[len(rounds) // 2] / number * 1e9


def criterion_ns(target: Path, implementation: str, chars: int):
    estimates = target / "criterion" / "edit_distance" / implementation / str(chars) / "new" / "estimates.json"
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["median"]["point_estimate"]


def main() -> None:
    target = Path(sys.argv[1])
    pairs = json.loads((target / "bench" / "edit-pairs.json").read_text())
    print("| chars | C++ rapidfuzz (reference) | autolearn | ratio | rapidfuzz-rs core | strsim | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for pair in pairs:
        a, b, chars = pair["a"], pair["b"], pair["chars"]
        expected = Levenshtein.normalized_distance(a, b)
        if abs(expected - pair["distance"]) > 1e-12:
            sys.exit(f"{chars} chars: the reference gives {expected}, autolearn {pair['distance']}")
        reference = reference_ns(a, b)
        ours = criterion_ns(target, "autolearn", chars)
        core = criterion_ns(target, "rapidfuzz_core", chars)
        textbook = criterion_ns(target, "strsim", chars)
        us = lambda ns: "–" if ns is None else f"{ns / 1000:,.1f} µs"  # noqa: E731
        ratio = lambda ns: "–" if ns is None else f"{ns / reference:.2f}x"  # noqa: E731
        print(f"| {chars:,} | {us(reference)} | {us(ours)} | {ratio(ours)} | {us(core)} | {us(textbook)} | {ratio(textbook)} |")


if __name__ == "__main__":
    main()
