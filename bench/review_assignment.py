"""The automatic review assignment (portal.review.solver) on random instances.

    .venv/bin/python bench/review_assignment.py [--sizes 500x20,5000x200] [--wanted 3]
        [--seed 2026] [--groups]

Each instance is drawn from a fixed seed: 12 specialties (one per nomination, one to three
per reviewer), nominations from N/5 institutions in 12 countries, every reviewer
conflicted with their own institution (one of the nominating ones), one in ten with a
whole country, and 1 % of the other pairs declared conflicts; load limits 1.25 x the
mean load for four reviewers in five and half that for the rest (capacity 1.125 x the
demand). `--groups` makes specialties disjoint groups of reviewers (the hard case for
connectivity: the optimum alone splits the review graph by specialty).

Prints per size: arcs, solve time (the first solve and in all, with the connectivity
rounds), reviews missing, load min / max / mean / stdev, the share of reviews matched by
specialty, the review graph's components and what connecting it cost. Goals: < 2 s for
500 x 20 x 3, < 30 s for 5,000 x 200 x 3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.review.solver import Instance, solve  # noqa: E402

SPECIALTIES = 12
COUNTRIES = 12


def make_instance(n: int, r: int, wanted: int, seed: int, groups: bool) -> Instance:
    rng = np.random.default_rng(seed)
    nomination_specialty = rng.integers(0, SPECIALTIES, n)
    reviewer_specialties = np.zeros((r, SPECIALTIES), dtype=bool)
    for j in range(r):
        if groups:
            reviewer_specialties[j, j % SPECIALTIES] = True
        else:
            count = int(rng.integers(1, 4))
            reviewer_specialties[j, rng.choice(SPECIALTIES, count, replace=False)] = True
    match = reviewer_specialties[:, nomination_specialty].T
    institutions = max(n // 5, 1)
    nomination_institution = rng.integers(0, institutions, n)
    nomination_country = nomination_institution % COUNTRIES
    reviewer_institution = rng.integers(0, institutions, r)
    reviewer_country = np.where(rng.random(r) < 0.1, rng.integers(0, COUNTRIES, r), -1)
    allowed = nomination_institution[:, None] != reviewer_institution[None, :]
    allowed &= nomination_country[:, None] != reviewer_country[None, :]
    allowed &= rng.random((n, r)) >= 0.01
    mean = n * wanted / r
    limits = np.where(rng.random(r) < 0.8, np.ceil(mean * 1.25), np.ceil(mean * 0.625))
    return Instance.build(np.full(n, wanted), limits.astype(np.int64), np.zeros(r), allowed,
                          match)


def run(n: int, r: int, wanted: int, seed: int, groups: bool) -> None:
    instance = make_instance(n, r, wanted, seed, groups)
    started = time.perf_counter()
    free = solve(instance, connect=False)
    first = time.perf_counter() - started
    solution = solve(instance)
    load = solution.load
    pairs = solution.pairs
    matched = float(instance.match[pairs[:, 0], pairs[:, 1]].mean()) if len(pairs) else 0.0
    print(f"{n} nominations x {r} reviewers x {wanted} reviews"
          f"{' (specialty groups)' if groups else ''}: "
          f"{int(instance.allowed.sum())} allowed pairs, "
          f"{int((~instance.allowed).sum())} conflicted")
    print(f"  solve: {first:.2f} s (one min-cost flow), {solution.seconds:.2f} s in all "
          f"({solution.rounds} solve{'s' if solution.rounds > 1 else ''}); goal "
          f"< {2 if n <= 500 else 30} s")
    print(f"  reviews: {len(pairs)} assigned, {solution.cost.unfilled} missing "
          f"(wanted {n * wanted})")
    print(f"  load: min {load.min()}, max {load.max()}, mean {load.mean():.1f}, "
          f"stdev {load.std():.2f}; limits {instance.capacity.min()}-"
          f"{instance.capacity.max()}; no limit broken: "
          f"{bool((load <= instance.capacity).all())}")
    print(f"  specialty match: {matched:.1%} of reviews")
    print(f"  review graph: {len(free.components)} component(s) before the connectivity "
          f"step, {len(solution.components)} after; {len(solution.pinned)} pinned "
          f"assignments, {solution.cost.mismatched - free.cost.mismatched} specialty "
          f"matches given up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500x20,5000x200")
    parser.add_argument("--wanted", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--groups", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for size in args.sizes.split(","):
        n, r = (int(x) for x in size.lower().split("x"))
        run(n, r, args.wanted, args.seed, args.groups)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
