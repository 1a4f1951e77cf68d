"""A run's simulated LRs as chunks: per-chunk summaries from one pass, any chunk again on demand.

The checks never need the whole ``(steps, groups)`` matrix at once. One pass over the simulation's chunks records,
per chunk and group, a few reductions (max, min, finite, rising pairs, ...); a check answers from them and looks
at the rows themselves only where a summary says something is there (a rise, a jump, the start of a zero tail),
re-simulating those chunks from their stored incoming LRs. A whole matrix (a plot, the exact-stepping fallback)
is read the same way, in slices.

Examples:
    >>> import numpy as np
    >>> cols = Columns.of_array(np.array([[1.0], [0.5], [0.8], [0.2]]), chunk=2)
    >>> cols.n, cols.chunks, cols.max(0, 4, 0), list(cols.rises(0, 4, 0))
    (4, 2, 1.0, [1])
    >>> cols.first(1, 4, 0, lambda x: x <= 0.5, cols.mn[:, 0] <= 0.5), cols.peak_at(0)
    (1, (1.0, 0))
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["JUMP_RATIO", "RISE_RTOL", "Columns", "Unsteady", "chunk_rows_for"]

#: A step counts as a rise when the LR grows by more than this relative amount (ignores float noise).
RISE_RTOL = 1e-9
#: ``lr-jump``: one step multiplies the LR by at least this ...
JUMP_RATIO = 2.0
#: chunks re-simulated for the checks that are kept at once
_CACHED_CHUNKS = 4


class Unsteady(Exception):
    """A chunk simulated again differs from the first pass (a schedule that is not a function of the step)."""


def _same_row(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def chunk_rows_for(groups: int, most: int = 1 << 16) -> int:
    """Rows per chunk: ``most`` for a few groups, fewer for many, so a chunk stays about 2 MiB.

    Examples:
        >>> chunk_rows_for(4), chunk_rows_for(256)
        (65536, 1024)
    """
    return int(min(most, max(1024, (1 << 18) // max(groups, 1))))


@dataclass
class _Summary:
    """Reductions of one chunk (each per group unless said)."""

    mx: np.ndarray  # max, NaN ignored (NaN when all NaN)
    mn: np.ndarray  # min, NaN ignored
    amax: np.ndarray  # max |x|, NaN ignored
    finite: np.ndarray  # every value finite
    nonneg: np.ndarray  # every value >= 0 (NaN is not)
    rise: np.ndarray  # some pair (i, i+1), i from the row before the chunk, rises by more than RISE_RTOL
    double: np.ndarray  # some pair at least doubles
    nfinite: np.ndarray  # finite values
    ffirst: np.ndarray  # first finite value (NaN when none)
    flast: np.ndarray  # last finite value


_UP = 1 + RISE_RTOL


class _Summarizer:
    """Chunk summaries, reduced in ``(groups, rows)`` layout (each group's values contiguous, the way they are
    reduced) in buffers kept from chunk to chunk: a fresh multi-MiB array per chunk costs its page faults every time
    (16 chunks of 65,536 x 4: 13 ms, against 340 ms reduced along the rows of fresh arrays)."""

    def __init__(self) -> None:
        self._shape: tuple[int, int] = (0, 0)
        self._t = self._tmp = np.empty((0, 0))
        self._cmp = np.empty((0, 0), dtype=bool)

    def _buffers(self, g: int, n: int) -> np.ndarray:
        if self._shape != (g, n):
            self._shape = (g, n)
            self._t = np.empty((g, n))
            self._tmp = np.empty((g, max(n - 1, 0)))
            self._cmp = np.empty((g, max(n - 1, 0)), dtype=bool)
        return self._t

    def _pairs(self, t: np.ndarray, lead: np.ndarray | None, factor: float, op: np.ufunc) -> np.ndarray:
        """Whether some pair (i, i + 1) of each group (the lead row's value first) has ``op(next, prev x factor)``."""
        tmp, cmp = self._tmp[: t.shape[0]], self._cmp[: t.shape[0]]
        np.multiply(t[:, :-1], factor, out=tmp)
        op(t[:, 1:], tmp, out=cmp)
        got = np.asarray(cmp.any(axis=1))
        if lead is not None:
            got |= op(t[:, 0], lead * factor)
        return got

    def __call__(self, x: np.ndarray, lead: np.ndarray | None) -> _Summary:
        n, g = x.shape
        t = self._buffers(g, n)
        if x.T.flags.c_contiguous:  # the kernel made the chunk group by group: read it in place
            t = x.T
        else:
            np.copyto(t, x.T)
        mx, mn = t.max(axis=1), t.min(axis=1)  # NaN propagates: finite extremes mean every value is finite
        with np.errstate(invalid="ignore", over="ignore"):
            rise = self._pairs(t, lead, _UP, np.greater)
            # a doubling pair also rises, unless a value is <= 0 or not finite (0 -> 0, inf -> inf): look only there
            maybe = rise | ~(mn > 0) | ~np.isfinite(mx)
            if lead is not None:
                maybe |= ~((lead > 0) & np.isfinite(lead))
            double = np.zeros(g, dtype=bool)
            if maybe.any():
                sub = np.flatnonzero(maybe)
                double[sub] = self._pairs(t[sub], None if lead is None else lead[sub], JUMP_RATIO, np.greater_equal)
        if np.isfinite(mx).all() and np.isfinite(mn).all():
            amax, nonneg = np.maximum(np.abs(mx), np.abs(mn)), np.asarray(mn >= 0, dtype=bool)
            first, last = t[:, 0].copy(), t[:, -1].copy()
            return _Summary(mx, mn, amax, np.ones(g, dtype=bool), nonneg, rise, double, np.full(g, n), first, last)
        return _partly_finite(x, t, rise, double)


def _partly_finite(x: np.ndarray, t: np.ndarray, rise: np.ndarray, double: np.ndarray) -> _Summary:
    """The summary of a chunk holding NaN or inf values (NaN ignored by the extremes)."""
    fin = np.isfinite(t)
    with np.errstate(invalid="ignore", over="ignore"):
        amax = np.fmax.reduce(np.abs(t), axis=1)
    first, last = _finite_ends(x, fin.T)
    nonneg = np.asarray((t >= 0).all(axis=1))
    mx, mn = np.fmax.reduce(t, axis=1), np.fmin.reduce(t, axis=1)
    return _Summary(mx, mn, amax, fin.all(axis=1), nonneg, rise, double, fin.sum(axis=1), first, last)


def _finite_ends(x: np.ndarray, fin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = x.shape[1]
    first, last = np.full(g, np.nan), np.full(g, np.nan)
    for k in range(g):
        v = x[fin[:, k], k]
        if v.size:
            first[k], last[k] = v[0], v[-1]
    return first, last


class Columns:
    """The simulated LRs of a run, ``n`` rows by ``groups`` columns, held as chunks.

    ``source(j)`` gives chunk ``j``'s rows (``bounds[j]`` to ``bounds[j + 1]``); the summaries come from one pass
    over them (``build``). Chunks looked at again are re-made by ``source`` and a few are kept; a re-made
    chunk whose first or last row differs from the first pass's raises ``Unsteady``.

    Per-chunk summaries (``(chunks, groups)`` arrays, named as in ``_Summary``): ``mx``, ``mn``, ``amax``,
    ``finite``, ``nonneg``, ``rise``, ``double``, ``nfinite``, ``ffirst``, ``flast``. What few callers need (the
    peak's position, whether every group equals group 0) is found by ``peak_at`` and ``all_same``.
    """

    mx: np.ndarray
    mn: np.ndarray
    amax: np.ndarray
    finite: np.ndarray
    nonneg: np.ndarray
    rise: np.ndarray
    double: np.ndarray
    nfinite: np.ndarray
    ffirst: np.ndarray
    flast: np.ndarray
    heads: np.ndarray
    tails: np.ndarray

    def __init__(self, groups: int, source: Callable[[int], np.ndarray]) -> None:
        self.groups = groups
        self._source = source
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.bounds = np.zeros(1, dtype=np.int64)
        self.n = self.chunks = 0

    # -- building

    def build(self, blocks: Iterable[np.ndarray], *, feed: Callable[[np.ndarray], None] | None = None) -> Columns:
        """Record every chunk's summary from ``blocks`` (chunk 0, 1, ... in order, none empty); ``feed`` sees each
        block too. Returns ``self``."""
        lead: np.ndarray | None = None
        summarize = _Summarizer()
        got: list[_Summary] = []
        heads, tails, sizes = [], [], [0]
        for x in blocks:
            got.append(summarize(x, lead))
            heads.append(x[0].copy())
            tails.append(x[-1].copy())
            sizes.append(x.shape[0])
            lead = tails[-1]
            if feed is not None:
                feed(x)
        self.bounds = np.cumsum(np.asarray(sizes, dtype=np.int64))
        self.n, self.chunks = int(self.bounds[-1]), len(got)
        shape = (self.chunks, self.groups)
        self.heads = np.asarray(heads).reshape(shape)  # the first row of every chunk
        self.tails = np.asarray(tails).reshape(shape)  # the last row (the lead row of the next chunk)
        for name in ("mx", "mn", "amax", "finite", "nonneg", "rise", "double", "nfinite", "ffirst", "flast"):
            setattr(self, name, np.asarray([getattr(s, name) for s in got]).reshape(shape))
        return self

    @classmethod
    def of_array(cls, lrs: np.ndarray, chunk: int = 0, *, feed: Callable[[np.ndarray], None] | None = None) -> Columns:
        """Columns over a whole matrix (read in slices of ``chunk`` rows)."""
        n, g = lrs.shape
        chunk = chunk or chunk_rows_for(g)
        starts = list(range(0, n, chunk))
        cols = cls(g, lambda j: lrs[starts[j] : starts[j] + chunk])
        return cols.build((lrs[a : a + chunk] for a in starts), feed=feed)

    # -- rows

    def chunk(self, j: int) -> np.ndarray:
        """Chunk ``j``'s rows (re-made by the source when not kept)."""
        got = self._cache.get(j)
        if got is None:
            got = np.asarray(self._source(j))
            if not (_same_row(got[0], self.heads[j]) and _same_row(got[-1], self.tails[j])):
                raise Unsteady(f"chunk {j} came out different when simulated again")
            self._cache[j] = got
            if len(self._cache) > _CACHED_CHUNKS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(j)
        return got

    def chunk_of(self, k: int) -> int:
        """The chunk holding row ``k``."""
        return int(np.searchsorted(self.bounds, k, side="right") - 1)

    def row(self, k: int) -> np.ndarray:
        """Row ``k`` (negative counts from the end)."""
        k = k + self.n if k < 0 else k
        if not 0 <= k < self.n:
            raise IndexError(f"row {k} of {self.n}")
        j = self.chunk_of(k)
        if k == self.bounds[j]:
            return np.asarray(self.heads[j])
        if k == self.bounds[j + 1] - 1:
            return np.asarray(self.tails[j])
        return np.asarray(self.chunk(j)[k - self.bounds[j]])

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows ``[a, b)`` as one array (for short ranges: a dense plan, a message's context)."""
        a, b = max(a, 0), min(b, self.n)
        if b <= a:
            return np.empty((0, self.groups))
        parts = [self.chunk(j)[max(a, s) - s : min(b, e) - s] for j, s, e in self._spans(a, b)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _spans(self, a: int, b: int) -> Iterator[tuple[int, int, int]]:
        """``(j, start, end)`` of the chunks overlapping rows ``[a, b)``."""
        if b <= a:
            return
        for j in range(self.chunk_of(a), self.chunk_of(b - 1) + 1):
            yield j, int(self.bounds[j]), int(self.bounds[j + 1])

    def windows(self, a: int, b: int, g: int | None, wanted: np.ndarray | None) -> Iterator[tuple[int, np.ndarray]]:
        """``(row0, x)`` for the chunks overlapping ``[a, b)`` with ``wanted[j]`` set (every one when ``None``):
        ``x`` is column ``g`` (the row max across groups when ``None``) over rows ``[max(a, start - 1), min(b,
        end))``, the row before a chunk coming from the stored tails (pairs across a chunk border belong to the later
        chunk)."""
        if b <= a:
            return
        for j in self._candidates(a, b, np.ones(self.chunks, dtype=bool) if wanted is None else wanted):
            s, e = int(self.bounds[j]), int(self.bounds[j + 1])
            x = self.chunk(j)[max(a, s) - s : min(b, e) - s]
            if a < s:
                x = np.concatenate([self.tails[j - 1][None, :], x])
            col = x[:, g] if g is not None else x.max(axis=1)
            yield max(a, s - 1), col

    # -- reductions over row ranges (whole chunks from the summaries, the two partial ends from their rows)

    def _reduce(self, a: int, b: int, g: int, whole: np.ndarray, part: Callable[[np.ndarray], float], op: str) -> float:
        vals = []
        for j, s, e in self._spans(a, b):
            if a <= s and e <= b:
                vals.append(float(whole[j, g]))
            else:
                vals.append(part(self.chunk(j)[max(a, s) - s : min(b, e) - s, g]))
        return float(getattr(np, op).reduce(vals)) if vals else float("nan")

    def max(self, a: int, b: int, g: int) -> float:
        """Max of column ``g`` over rows ``[a, b)``, NaN ignored."""
        return self._reduce(a, b, g, self.mx, lambda x: float(np.fmax.reduce(x)), "fmax")

    def min(self, a: int, b: int, g: int) -> float:
        """Min of column ``g`` over rows ``[a, b)``, NaN ignored."""
        return self._reduce(a, b, g, self.mn, lambda x: float(np.fmin.reduce(x)), "fmin")

    def all_finite(self, a: int, b: int, g: int) -> bool:
        """Every value of column ``g`` over rows ``[a, b)`` is finite."""
        return bool(self._reduce(a, b, g, self.finite, lambda x: float(np.isfinite(x).all()), "fmin"))

    # -- searches (only chunks whose summary says they may hold a match are read)

    def _candidates(self, a: int, b: int, may: np.ndarray) -> list[int]:
        """Chunks overlapping rows ``[a, b)`` with ``may[j]`` set."""
        if b <= a:
            return []
        ja, jb = self.chunk_of(a), self.chunk_of(b - 1)
        return (np.flatnonzero(may[ja : jb + 1]) + ja).tolist()

    def _hits(self, j: int, a: int, b: int, g: int, test: Callable[[np.ndarray], np.ndarray]) -> tuple[int, np.ndarray]:
        s, e = int(self.bounds[j]), int(self.bounds[j + 1])
        return max(a, s), np.flatnonzero(test(self.chunk(j)[max(a, s) - s : min(b, e) - s, g]))

    def first(self, a: int, b: int, g: int, test: Callable[[np.ndarray], np.ndarray], may: np.ndarray) -> int | None:
        """The first row of ``[a, b)`` where ``test`` holds for column ``g``, reading only chunks ``j`` with
        ``may[j]``."""
        for j in self._candidates(a, b, may):
            row0, hit = self._hits(j, a, b, g, test)
            if hit.size:
                return row0 + int(hit[0])
        return None

    def last(self, a: int, b: int, g: int, test: Callable[[np.ndarray], np.ndarray], may: np.ndarray) -> int | None:
        """The last row of ``[a, b)`` where ``test`` holds for column ``g``, reading only chunks ``j`` with
        ``may[j]``."""
        for j in reversed(self._candidates(a, b, may)):
            row0, hit = self._hits(j, a, b, g, test)
            if hit.size:
                return row0 + int(hit[-1])
        return None

    def first_at_least(self, a: int, b: int, g: int, v: float) -> int | None:
        """The first row of ``[a, b)`` where column ``g`` is ``>= v``."""
        return self.first(a, b, g, lambda x: x >= v, self.mx[:, g] >= v)

    def first_at_most(self, a: int, b: int, g: int, v: float) -> int | None:
        """The first row of ``[a, b)`` where column ``g`` is ``<= v``."""
        return self.first(a, b, g, lambda x: x <= v, self.mn[:, g] <= v)

    def last_above(self, a: int, b: int, g: int, v: float) -> int | None:
        """The last row of ``[a, b)`` where column ``g`` is ``> v``."""
        return self.last(a, b, g, lambda x: x > v, self.mx[:, g] > v)

    def peak_at(self, g: int) -> tuple[float, int] | None:
        """Column ``g``'s largest finite value and its position among the finite values (its first occurrence)."""
        nf = self.nfinite[:, g]
        if not nf.any():
            return None
        mx = np.where(nf > 0, self.mx[:, g], -np.inf)
        j = int(np.argmax(mx))  # the first chunk holding the peak
        x = self.chunk(j)[:, g]
        return float(mx[j]), int(nf[:j].sum()) + int(np.argmax(x[np.isfinite(x)]))

    def all_same(self) -> bool:
        """Every group equals group 0 at every row (rtol 1e-12, NaN equal to NaN): a pass over every chunk."""
        return self.groups < 2 or all(
            np.allclose(x, x[:, :1], rtol=1e-12, atol=0, equal_nan=True) for x in map(self.chunk, range(self.chunks))
        )

    def scale(self, g: int | None) -> float:
        """The magnitude float noise is judged against: max |LR| of column ``g`` (of every group when ``None``)."""
        x = self.amax if g is None else self.amax[:, g]
        m = float(np.fmax.reduce(x, axis=None)) if x.size else 0.0
        return m if np.isfinite(m) and m > 0 else 1e-300

    def rises(self, a: int, b: int, g: int | None) -> Iterator[int]:
        """Rows ``i`` in ``[a, b - 1)`` where column ``g`` (the row max when ``None``) rises from ``i`` to ``i + 1``
        beyond float noise, in order. Chunks whose summary shows no rising pair are skipped."""
        noise = self.scale(g) * 1e-14
        flag = np.asarray(self.rise.any(axis=1) if g is None else self.rise[:, g])
        for row0, x in self.windows(a, b, g, flag):
            with np.errstate(invalid="ignore"):
                hit = np.flatnonzero(x[1:] > x[:-1] * (1 + RISE_RTOL) + noise)
            yield from (row0 + hit).tolist()
