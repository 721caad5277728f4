"""The optimal assignment (portal.review.solver), without a database.

Hard constraints: never a conflicted (not allowed) pair, never over a load limit, never
more than the wanted number per nomination, and the wanted number reached wherever the
pool can reach it (checked against an independent max-flow). Objective: on instances
small enough, the solver's cost equals an exhaustive search's.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from portal.review import solver
from portal.review.solver import Cost, Instance, cost_of, solve

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def check_hard_constraints(instance: Instance, solution: solver.Solution) -> None:
    pairs = solution.pairs
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs), "a pair assigned twice"
    if len(pairs):
        assert instance.allowed[pairs[:, 0], pairs[:, 1]].all(), "a conflicted pair"
    per_reviewer = np.bincount(pairs[:, 1], minlength=instance.reviewers)
    per_nomination = np.bincount(pairs[:, 0], minlength=instance.nominations)
    assert (per_reviewer <= instance.capacity).all(), "a load limit broken"
    assert (per_nomination <= instance.need).all(), "more reviews than wanted"


def max_assignable(instance: Instance) -> int:
    """The most reviews any assignment can give (scipy's max-flow, independent of the
    solver): source -> nomination (need) -> reviewer (1, allowed) -> sink (capacity)."""
    n, r = instance.nominations, instance.reviewers
    size = n + r + 2
    source, sink = 0, size - 1
    cap = np.zeros((size, size), dtype=np.int32)
    cap[source, 1:n + 1] = instance.need
    rows, cols = np.nonzero(instance.allowed)
    cap[rows + 1, cols + 1 + n] = 1
    cap[n + 1:n + r + 1, sink] = instance.capacity
    return int(maximum_flow(csr_matrix(cap), source, sink).flow_value)


def exhaustive_best(instance: Instance) -> Cost:
    """The lexicographically least cost over every assignment that keeps the hard rules
    (the same cost as `cost_of`, in plain Python for speed)."""
    r_count = instance.reviewers
    need = instance.need.tolist()
    capacity = instance.capacity.tolist()
    base = instance.base_load.tolist()
    match = instance.match.tolist()
    options = []
    for i in range(instance.nominations):
        allowed = [j for j in range(r_count) if instance.allowed[i, j]]
        options.append([c for k in range(min(need[i], len(allowed)) + 1)
                        for c in itertools.combinations(allowed, k)])
    best = None
    for choice in itertools.product(*options):
        added = [0] * r_count
        for reviewers in choice:
            for j in reviewers:
                added[j] += 1
        if any(a > c for a, c in zip(added, capacity, strict=True)):
            continue
        cost = Cost(
            unfilled=sum(need[i] - len(rs) for i, rs in enumerate(choice)),
            mismatched=sum(not match[i][j] for i, rs in enumerate(choice) for j in rs),
            load_squares=sum((b + a) ** 2 for b, a in zip(base, added, strict=True)))
        best = cost if best is None or cost < best else best
    assert best is not None  # the empty assignment always qualifies
    return best


@st.composite
def instances(draw: st.DrawFn, max_n: int = 7, max_r: int = 5, max_need: int = 3,
              max_cap: int = 5, min_need: int = 0) -> Instance:
    n = draw(st.integers(1, max_n))
    r = draw(st.integers(2, max_r))
    cells = st.lists(st.booleans(), min_size=n * r, max_size=n * r)
    # Mostly allowed (a conflict is the exception), so the solver has choices to make.
    mostly = st.lists(st.integers(0, 4).map(bool), min_size=n * r, max_size=n * r)
    allowed = np.array(draw(mostly), dtype=bool).reshape(n, r)
    match = np.array(draw(cells), dtype=bool).reshape(n, r)
    need = draw(st.lists(st.integers(min_need, max_need), min_size=n, max_size=n))
    capacity = draw(st.lists(st.integers(0, max_cap), min_size=r, max_size=r))
    base = draw(st.lists(st.integers(0, 3), min_size=r, max_size=r))
    return Instance.build(need, capacity, base, allowed, match)


# -- properties -----------------------------------------------------------------------------

@PROPERTY
@given(instances())
def test_never_breaks_a_conflict_a_limit_or_the_wanted_number_where_feasible(
        instance: Instance) -> None:
    for connect in (False, True):
        solution = solve(instance, connect=connect)
        check_hard_constraints(instance, solution)
        # Every review the pool can give is given: the shortfall is exactly what even the
        # best conceivable assignment leaves missing (zero whenever it is feasible).
        assert solution.cost.unfilled == int(instance.need.sum()) - max_assignable(instance)


@PROPERTY
@given(instances(max_n=4, max_r=4, max_need=2, max_cap=3, min_need=1))
def test_the_cost_equals_an_exhaustive_search(instance: Instance) -> None:
    solution = solve(instance, connect=False)
    assert cost_of(instance, solution.pairs) == exhaustive_best(instance)


# -- the objective, case by case ------------------------------------------------------------

def test_reaching_the_wanted_number_comes_before_specialty_and_even_loads() -> None:
    # Nomination 1 can only be reviewed by reviewer 0; reviewer 0 matches nomination 0 and
    # has room for one review. Giving 0 to its specialist would leave 1 without a review.
    instance = Instance.build(need=[1, 1], capacity=[1, 1], base_load=[0, 0],
                              allowed=[[True, True], [True, False]],
                              match=[[True, False], [False, False]])
    solution = solve(instance)
    assert sorted(map(tuple, solution.pairs.tolist())) == [(0, 1), (1, 0)]
    assert solution.cost == Cost(unfilled=0, mismatched=2, load_squares=2)


def test_specialty_comes_before_even_loads() -> None:
    # Both nominations match reviewer 0 only: the specialist takes both though reviewer 1
    # stays idle.
    instance = Instance.build(need=[1, 1], capacity=[5, 5], base_load=[0, 0],
                              allowed=[[True, True], [True, True]],
                              match=[[True, False], [True, False]])
    solution = solve(instance)
    assert solution.load.tolist() == [2, 0]
    assert solution.cost.mismatched == 0


def test_loads_are_even_counting_kept_reviews() -> None:
    # Six reviews to give, no specialties; reviewer 0 keeps 3 already: 1, 2 get 3 each.
    n = 6
    instance = Instance.build(need=[1] * n, capacity=[10, 10, 10], base_load=[3, 0, 0],
                              allowed=np.ones((n, 3), dtype=bool),
                              match=np.zeros((n, 3), dtype=bool))
    solution = solve(instance)
    assert solution.load.tolist() == [3, 3, 3]


def test_an_infeasible_nomination_is_reported_with_its_reason() -> None:
    # Nomination 0: everyone conflicted. Nomination 1: wants 3 of a pool of 2.
    # Nomination 2: its reviewers are full.
    instance = Instance.build(need=[1, 3, 1], capacity=[1, 1], base_load=[0, 0],
                              allowed=[[False, False], [True, True], [True, True]],
                              match=np.zeros((3, 2), dtype=bool))
    solution = solve(instance, connect=False)
    check_hard_constraints(instance, solution)
    short = solver.shortfalls(instance, solution, wanted=np.array([1, 3, 1]),
                              kept=np.zeros(3, dtype=np.int64))
    reasons = {s.nomination: s.reason for s in short}
    assert reasons[0] == solver.CONFLICTS
    assert reasons[1] == solver.POOL_TOO_SMALL
    assert reasons.get(2, solver.CAPACITY) == solver.CAPACITY
    assert solution.cost.unfilled == 3  # 2 reviewers with room for 1 each: 2 of 5 given
    assert sum(s.missing for s in short) == 3


# -- connectivity -----------------------------------------------------------------------------

def two_specialty_groups(n_per_group: int = 6) -> Instance:
    # Reviewers 0-2 are cardiologists, 3-5 radiologists; nominations half and half. The
    # optimum without the connectivity step keeps the groups apart.
    n = 2 * n_per_group
    match = np.zeros((n, 6), dtype=bool)
    match[:n_per_group, :3] = True
    match[n_per_group:, 3:] = True
    return Instance.build(need=[3] * n, capacity=[10] * 6, base_load=[0] * 6,
                          allowed=np.ones((n, 6), dtype=bool), match=match)


def test_the_review_graph_is_kept_connected() -> None:
    instance = two_specialty_groups()
    free = solve(instance, connect=False)
    assert len(free.components) == 2 and free.cost.mismatched == 0
    solution = solve(instance)
    check_hard_constraints(instance, solution)
    assert solution.connected
    assert len(solution.pinned) >= 1
    assert solution.cost.unfilled == 0
    # Connecting costs specialty matches, and only a few.
    assert 1 <= solution.cost.mismatched <= len(solution.pinned)
    assert solution.free_cost == free.cost


def test_components_are_reported_when_no_bridge_is_possible() -> None:
    # Each group of reviewers has a conflict with the other group's nominations.
    instance = two_specialty_groups(3)
    allowed = instance.match.copy()
    blocked = Instance.build(instance.need, instance.capacity, instance.base_load, allowed,
                             instance.match)
    solution = solve(blocked)
    check_hard_constraints(blocked, solution)
    assert sorted(sorted(c) for c in solution.components) == [[0, 1, 2], [3, 4, 5]]
    assert not solution.connected


def test_kept_pairs_link_reviewers() -> None:
    # A kept review of nomination 0 by reviewer 1 links reviewer 1 to reviewer 0's group.
    instance = Instance.build(need=[1, 1], capacity=[2, 2], base_load=[0, 1],
                              allowed=[[True, False], [False, True]],
                              match=[[True, False], [False, True]], kept=[[0, 1]])
    solution = solve(instance, connect=False)
    assert solution.connected
