"""The optimal review assignment: a pure function from numpy arrays to assignments.

Nothing here knows the database: portal.review.assignment builds an `Instance` from a
cycle, calls `solve()` and turns the `Solution` into rows. The benchmark
(bench/review_assignment.py) and the tests call `solve()` directly.

The instance
------------
N nominations, R reviewers.

    need[n]       reviews nomination n still wants (the wanted number minus the reviews it
                  keeps: started, submitted, and active assignments unless staff replace
                  unstarted ones)
    capacity[r]   reviews reviewer r may still take (load limit minus kept load)
    base_load[r]  reviews r keeps already (they count in the load)
    allowed[n,r]  the pair may be assigned now: no conflict of interest, not kept already,
                  not declined (one review per pair)
    match[n,r]    n's specialty is among r's specialties
    kept          the kept (n, r) pairs (they link reviewers in the review graph)

Hard constraints: a pair that is not allowed is never assigned (no arc), nobody exceeds
their capacity (arc capacities), a nomination gets at most `need` new reviews and a pair
at most one (unit arcs).

The objective (lexicographic)
-----------------------------
1. reach the wanted number of reviews per nomination: U = reviews missing, summed;
2. then match specialties: X = new assignments whose nomination's specialty is not among
   the reviewer's;
3. then even loads: Q = sum over reviewers of load^2 (kept load included), which for a
   fixed total is smallest when loads are as equal as the limits allow.

It is one min-cost flow (OR-Tools' SimpleMinCostFlow, an exact cost-scaling algorithm):

    source --need[n], 0--> n --1, M2 if not match[n,r] else 0--> r --unit arcs--> sink
                           n --need[n], M1 (one review missing)------------------> sink

Reviewer r's k-th new review flows through its own unit arc r -> sink of cost
2(base_load[r] + k) - 1, so r's arcs used cost (base+a)^2 - base^2 in total: the convex
cost of the load, made linear. The costs rise with k, so an optimal flow always uses r's
cheapest arcs first and its load term is exactly Q minus a constant. The source supplies
sum(need) units and the "missing" arcs n -> sink let every unit reach the sink, so the
flow is always feasible; the units that take them are the reviews nobody can give.

Why the weights make it lexicographic. Let T = sum(need). Any flow assigns at most T
reviews, so 0 <= Q' <= Qmax, where Q' is the sum of the unit arcs used and Qmax the sum of
the T dearest unit arcs; and 0 <= X <= Xmax, the number of non-matching allowed pairs (at
most T). With

    M2 = Qmax + 1            M1 = M2 * Xmax + Qmax + 1

take two flows S, S' with U(S) < U(S'). Then
    cost(S) - cost(S') <= -M1 + M2 * Xmax + Qmax = -1 < 0,
so no saving in matches or loads pays for one missing review. With U equal and
X(S) < X(S'): cost(S) - cost(S') <= -M2 + Qmax = -1 < 0. With U and X equal the load term
decides. The minimum-cost flow is integral (integer capacities), so it is an exact optimum
of the three goals in that order; no heuristic is involved. (HotCRP's autoassign uses a
min-cost flow too, with the load spread by costs per load step; here the three goals are
separated with proven weights instead of tuned ones.) For 5,000 x 200 x 3 with load
limits near 100 the total cost stays below 10^15, far from int64's limit; `weights()`
refuses an instance whose costs could overflow.

Connectivity (goal 4, a constraint added after the solve)
---------------------------------------------------------
Selection II calibrates reviewers against each other, which needs every reviewer linked to
every other through shared dossiers. After the solve we build the review graph (reviewers
with a review, linked through the nominations they share, kept pairs included). While it
has more than one component, we pin bridges and solve again around the pins. A bridge is
a nomination n of one component and a reviewer r of another, allowed, with spare load in
the current solution; we pin (n, r) and (n, a) for one of n's current reviewers a, so the
link r - a survives every later solve. n must have slack (an unfilled review, or a free
assignment besides a's): the current solution plus (n, r) minus that free assignment then
keeps every hard rule and gives as many reviews, so the next optimum gives at least as
many. Connecting never costs a wanted review. Bridges are taken cheapest first (a
matching specialty, then the lighter load), one per merge, like the edges of a minimum
spanning tree over the components (Kruskal): k components need k - 1 bridges, and since
pinned links are permanent the loop ends after at most k - 1 bridges (usually one round).

What it costs: goals 2 and 3 are then optimal *given the pins* rather than absolutely
(goal 1 is kept exactly, by the argument above). The solution reports the cost of the
unconstrained optimum beside its own (`Solution.free_cost`), so the preview says what
connecting took: at most one specialty mismatch per bridge, often none. Each round is one
more solve. When no bridge exists (nobody with spare load, or the components are kept
apart by conflicts) the components stay and are reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Rounds of the connectivity step before giving up: pinned links are permanent, so each
# round merges components for good; one round usually connects the graph.
MAX_ROUNDS = 8


class Cost(NamedTuple):
    """The objective, compared lexicographically (tuples compare that way)."""

    unfilled: int  # reviews missing, summed over nominations
    mismatched: int  # assignments (new ones) whose specialty does not match
    load_squares: int  # sum over reviewers of (total load)^2


@dataclass(frozen=True)
class Instance:
    need: IntArray
    capacity: IntArray
    base_load: IntArray
    allowed: BoolArray
    match: BoolArray
    kept: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __post_init__(self) -> None:
        n, r = self.allowed.shape
        if self.match.shape != (n, r) or self.need.shape != (n,) \
                or self.capacity.shape != (r,) or self.base_load.shape != (r,):
            raise ValueError("instance arrays disagree in shape")
        if (self.need < 0).any() or (self.capacity < 0).any() or (self.base_load < 0).any():
            raise ValueError("need, capacity and base load must not be negative")

    @property
    def nominations(self) -> int:
        return int(self.allowed.shape[0])

    @property
    def reviewers(self) -> int:
        return int(self.allowed.shape[1])

    @classmethod
    def build(cls, need: object, capacity: object, base_load: object, allowed: object,
              match: object, kept: object = None) -> Instance:
        """An instance from array-likes (lists in tests)."""
        allowed_a = np.asarray(allowed, dtype=bool)
        if allowed_a.ndim != 2:
            allowed_a = allowed_a.reshape(len(np.atleast_1d(np.asarray(need))), -1)
        kept_a = (np.zeros((0, 2), dtype=np.int64) if kept is None
                  else np.asarray(kept, dtype=np.int64).reshape(-1, 2))
        return cls(need=np.asarray(need, dtype=np.int64),
                   capacity=np.asarray(capacity, dtype=np.int64),
                   base_load=np.asarray(base_load, dtype=np.int64),
                   allowed=allowed_a, match=np.asarray(match, dtype=bool).reshape(
                       allowed_a.shape), kept=kept_a)


@dataclass(frozen=True)
class Solution:
    pairs: IntArray  # (M, 2) new assignments: (nomination index, reviewer index), pins included
    unfilled: IntArray  # (N,) reviews still missing per nomination
    load: IntArray  # (R,) total load per reviewer: kept + new
    cost: Cost
    free_cost: Cost  # the optimum without the connectivity step
    components: list[list[int]]  # reviewer indexes per component of the review graph
    pinned: IntArray  # (P, 2) the bridging assignments the connectivity step pinned
    rounds: int  # solves run
    seconds: float

    @property
    def connected(self) -> bool:
        return len(self.components) <= 1


class SolverFailed(RuntimeError):
    """OR-Tools did not report an optimal flow (never expected: the flow is feasible)."""


def cost_of(instance: Instance, pairs: IntArray) -> Cost:
    """The objective of a set of new assignments (the one both the solver and the tests'
    exhaustive search use)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    got = np.bincount(pairs[:, 0], minlength=instance.nominations)
    load = instance.base_load + np.bincount(pairs[:, 1], minlength=instance.reviewers)
    mismatched = int((~instance.match[pairs[:, 0], pairs[:, 1]]).sum()) if len(pairs) else 0
    return Cost(unfilled=int(np.maximum(instance.need - got, 0).sum()),
                mismatched=mismatched, load_squares=int((load * load).sum()))


def solve(instance: Instance, *, connect: bool = True) -> Solution:
    """The optimal new assignments of `instance` (see the module's docstring); with
    `connect`, then the bridging pins that keep the review graph connected."""
    started = time.perf_counter()
    pairs = _flow(instance)
    free_cost = cost_of(instance, pairs)
    pinned = np.zeros((0, 2), dtype=np.int64)
    rounds = 1
    components = _components(instance, pairs)
    while connect and len(components) > 1 and rounds <= MAX_ROUNDS:
        bridges = _bridges(instance, pinned, pairs)
        if not len(bridges):
            break
        pinned = np.concatenate([pinned, bridges])
        pairs = np.concatenate([pinned, _flow(_with_pins(instance, pinned))])
        rounds += 1
        components = _components(instance, pairs)
    got = np.bincount(pairs[:, 0], minlength=instance.nominations)
    load = instance.base_load + np.bincount(pairs[:, 1], minlength=instance.reviewers)
    return Solution(pairs=pairs, unfilled=np.maximum(instance.need - got, 0), load=load,
                    cost=cost_of(instance, pairs), free_cost=free_cost,
                    components=components, pinned=pinned, rounds=rounds,
                    seconds=time.perf_counter() - started)


def weights(instance: Instance) -> tuple[int, int]:
    """(M1, M2) of the module's docstring for this instance."""
    unit_costs, _ = _unit_arcs(instance, _live_pairs(instance))
    total = int(instance.need.sum())
    dearest = np.sort(unit_costs)[::-1][:total]
    q_max = int(dearest.sum())
    n_idx, r_idx = _live_pairs(instance)
    x_max = min(total, int((~instance.match[n_idx, r_idx]).sum()))
    m2 = q_max + 1
    m1 = m2 * x_max + q_max + 1
    if m1 * (total + 1) >= 2**62:  # the flow's total cost must fit in int64
        raise SolverFailed("the instance is too large for exact weights")
    return m1, m2


def _live_pairs(instance: Instance) -> tuple[IntArray, IntArray]:
    """Allowed pairs whose nomination still needs reviews and whose reviewer can take one."""
    live = instance.allowed & (instance.need > 0)[:, None] & (instance.capacity > 0)[None, :]
    n_idx, r_idx = np.nonzero(live)
    return n_idx.astype(np.int64), r_idx.astype(np.int64)


def _unit_arcs(instance: Instance,
               live: tuple[IntArray, IntArray]) -> tuple[IntArray, IntArray]:
    """Costs and reviewers of the unit arcs reviewer -> sink: r's k-th new review costs
    2 (base_load + k) - 1. No reviewer gets more arcs than pairs it could take."""
    degree = np.bincount(live[1], minlength=instance.reviewers)
    units = np.minimum(instance.capacity, degree)
    owners = np.repeat(np.arange(instance.reviewers, dtype=np.int64), units)
    # k = 1..units[r] for each reviewer, as one vector.
    starts = np.cumsum(units) - units
    k = np.arange(len(owners), dtype=np.int64) - np.repeat(starts, units) + 1
    return 2 * (instance.base_load[owners] + k) - 1, owners


def _flow(instance: Instance) -> IntArray:
    """One min-cost flow: the new (nomination, reviewer) pairs of the optimum."""
    n_count, r_count = instance.nominations, instance.reviewers
    if n_count == 0 or r_count == 0 or int(instance.need.sum()) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    live = _live_pairs(instance)
    n_idx, r_idx = live
    m1, m2 = weights(instance)
    unit_costs, owners = _unit_arcs(instance, live)
    source, sink = 0, n_count + r_count + 1
    wanting = np.nonzero(instance.need > 0)[0].astype(np.int64)

    def nom(i: IntArray) -> IntArray:
        return i + 1

    def rev(i: IntArray) -> IntArray:
        return i + 1 + n_count

    smcf = min_cost_flow.SimpleMinCostFlow()
    # 1. the pairs (first, so their arc indexes are 0..len-1)
    pair_costs = np.where(instance.match[n_idx, r_idx], 0, m2).astype(np.int64)
    _arcs(smcf, nom(n_idx), rev(r_idx), np.ones(len(n_idx), dtype=np.int64), pair_costs)
    # 2. source -> nomination, 3. nomination -> sink ("missing"), 4. reviewer -> sink
    need = instance.need[wanting]
    _arcs(smcf, np.zeros(len(wanting), dtype=np.int64), nom(wanting), need,
          np.zeros(len(wanting), dtype=np.int64))
    _arcs(smcf, nom(wanting), np.full(len(wanting), sink, dtype=np.int64), need,
          np.full(len(wanting), m1, dtype=np.int64))
    _arcs(smcf, rev(owners), np.full(len(owners), sink, dtype=np.int64),
          np.ones(len(owners), dtype=np.int64), unit_costs)
    total = int(instance.need.sum())
    smcf.set_node_supply(source, total)
    smcf.set_node_supply(sink, -total)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status}")
    if not len(n_idx):
        return np.zeros((0, 2), dtype=np.int64)
    flows = np.asarray(smcf.flows(np.arange(len(n_idx), dtype=np.int32)))
    chosen = flows > 0
    return np.stack([n_idx[chosen], r_idx[chosen]], axis=1)


def _arcs(smcf: min_cost_flow.SimpleMinCostFlow, tails: IntArray, heads: IntArray,
          capacities: IntArray, costs: IntArray) -> None:
    if len(tails):
        smcf.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32), heads.astype(np.int32), capacities.astype(np.int64),
            costs.astype(np.int64))


def _with_pins(instance: Instance, pinned: IntArray) -> Instance:
    """The instance around pinned pairs: they count as kept."""
    got = np.bincount(pinned[:, 0], minlength=instance.nominations)
    took = np.bincount(pinned[:, 1], minlength=instance.reviewers)
    allowed = instance.allowed.copy()
    allowed[pinned[:, 0], pinned[:, 1]] = False
    return replace(instance, need=np.maximum(instance.need - got, 0),
                   capacity=np.maximum(instance.capacity - took, 0),
                   base_load=instance.base_load + took, allowed=allowed,
                   kept=np.concatenate([instance.kept, pinned]))


def _labels(instance: Instance, pairs: IntArray) -> tuple[IntArray, IntArray]:
    """Component labels of the bipartite graph nominations + reviewers (kept and new
    pairs): (labels of nominations, labels of reviewers)."""
    n_count, r_count = instance.nominations, instance.reviewers
    edges = np.concatenate([instance.kept, pairs]) if len(pairs) else instance.kept
    size = n_count + r_count
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8),
                        (edges[:, 0], edges[:, 1] + n_count)), shape=(size, size))
    _count, labels = connected_components(graph, directed=False)
    labels = np.asarray(labels, dtype=np.int64)
    return labels[:n_count], labels[n_count:]


def _degree(instance: Instance, pairs: IntArray) -> IntArray:
    """Reviews per reviewer in the review graph (kept and new pairs of the instance)."""
    edges = np.concatenate([instance.kept, pairs]) if len(pairs) else instance.kept
    return np.bincount(edges[:, 1], minlength=instance.reviewers)


def _components(instance: Instance, pairs: IntArray) -> list[list[int]]:
    """Reviewers with a review in the graph, grouped by component, largest first."""
    _nom_labels, rev_labels = _labels(instance, pairs)
    groups: dict[int, list[int]] = {}
    for r in np.nonzero(_degree(instance, pairs) > 0)[0]:
        groups.setdefault(int(rev_labels[r]), []).append(int(r))
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _bridges(instance: Instance, pinned: IntArray, pairs: IntArray) -> IntArray:
    """Pins that join the review graph's components for good, without giving up a review.

    A bridge is a nomination n of one component (its reviewers are all in one) and a
    reviewer r of another, allowed, with spare load in the current solution S. We pin
    (n, r) and also (n, a) for a current reviewer a of n (unless kept already), so r and a
    stay linked whatever the next solve does. The nomination needs slack: an unfilled
    review, or a free assignment other than a's. Then S plus (n, r) minus that free
    assignment keeps every rule and gives as many reviews as S, so the next optimum gives
    at least as many: connecting never costs a wanted review. Bridges are taken cheapest
    first (a matching specialty, then the lighter load) like the edges of a minimum
    spanning tree over the components (Kruskal), each consuming the slack and spare load
    it uses.
    """
    n_count, r_count = instance.nominations, instance.reviewers
    nom_labels, rev_labels = _labels(instance, pairs)
    degree = _degree(instance, pairs)
    load = instance.base_load + np.bincount(pairs[:, 1], minlength=r_count)
    spare = instance.capacity - np.bincount(pairs[:, 1], minlength=r_count)
    pinned_set = {tuple(p) for p in pinned.tolist()}
    kept_set = {tuple(p) for p in instance.kept.tolist()}
    got = np.bincount(pairs[:, 0], minlength=n_count)
    unfilled = np.maximum(instance.need - got, 0)
    # An anchor per nomination: a kept reviewer if any (no pin needed), else a new one.
    anchor: dict[int, int] = {}
    for n, r in instance.kept.tolist() + pairs.tolist():
        anchor.setdefault(n, r)
    free = np.zeros(n_count, dtype=np.int64)  # new, unpinned assignments per nomination
    for n, r in pairs.tolist():
        if (n, r) not in pinned_set:
            free[n] += 1
    anchor_free = np.array([anchor.get(n) is not None and (n, anchor[n]) not in kept_set
                            and (n, anchor[n]) not in pinned_set for n in range(n_count)])
    slack = unfilled + free - anchor_free.astype(np.int64)
    has_anchor = np.array([n in anchor for n in range(n_count)], dtype=bool)
    assigned = np.zeros((n_count, r_count), dtype=bool)
    assigned[pairs[:, 0], pairs[:, 1]] = True
    if len(instance.kept):
        assigned[instance.kept[:, 0], instance.kept[:, 1]] = True
    candidates = (instance.allowed & ~assigned & (has_anchor & (slack > 0))[:, None]
                  & ((spare > 0) & (degree > 0))[None, :]
                  & (nom_labels[:, None] != rev_labels[None, :]))
    n_idx, r_idx = np.nonzero(candidates)
    if not len(n_idx):
        return np.zeros((0, 2), dtype=np.int64)
    mismatch = ~instance.match[n_idx, r_idx]
    order = np.lexsort((r_idx, n_idx, load[r_idx], mismatch))
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        parent[x] = root
        return root

    components = len(set(rev_labels[degree > 0].tolist()))
    chosen: set[tuple[int, int]] = set()
    merges = 0
    used_slack: dict[int, int] = {}
    used_spare: dict[int, int] = {}
    for k in order.tolist():
        n, r = int(n_idx[k]), int(r_idx[k])
        ra, rb = find(int(nom_labels[n])), find(int(rev_labels[r]))
        if ra == rb or used_slack.get(n, 0) >= slack[n] or used_spare.get(r, 0) >= spare[r]:
            continue
        parent[ra] = rb
        used_slack[n] = used_slack.get(n, 0) + 1
        used_spare[r] = used_spare.get(r, 0) + 1
        chosen.add((n, r))
        if anchor_free[n]:
            chosen.add((n, anchor[n]))
        merges += 1
        if merges == components - 1:
            break
    return np.array(sorted(chosen), dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class Shortfall:
    nomination: int
    missing: int
    reason: str  # one of REASONS


# Why a nomination cannot get its wanted reviews, from the most basic cause.
POOL_TOO_SMALL = "pool_too_small"  # fewer reviewers in the pool than reviews wanted
CONFLICTS = "conflicts"  # too few reviewers left once conflicts (and declines) are out
CAPACITY = "capacity"  # enough eligible reviewers, but their loads are full
REASONS = (POOL_TOO_SMALL, CONFLICTS, CAPACITY)


def shortfalls(instance: Instance, solution: Solution, *, wanted: IntArray,
               kept: IntArray) -> list[Shortfall]:
    """Each nomination left short of reviews, with the reason (pure: the arrays of the
    instance). `wanted[n]` is the wanted number, `kept[n]` the reviews it keeps."""
    pool = instance.reviewers
    eligible = instance.allowed.sum(axis=1) + kept
    out = []
    for n in np.nonzero(solution.unfilled > 0)[0]:
        if pool < wanted[n]:
            reason = POOL_TOO_SMALL
        elif eligible[n] < wanted[n]:
            reason = CONFLICTS
        else:
            reason = CAPACITY
        out.append(Shortfall(int(n), int(solution.unfilled[n]), reason))
    return out
