"""Student's t: the quantile and the two-sided p-value, one home for both.

Computed by ``scipy.special.stdtrit`` / ``stdtr``, the functions ``scipy.stats.t.ppf`` and
``scipy.stats.t.sf`` call (identical values), without importing ``scipy.stats``: that import
costs about 0.5 s of CPU, and the live block estimate asks for its first quantile in the
middle of a session, on the dashboard's event loop.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=512)
def t_quantile(df: float, q: float = 0.975) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (cached).

    >>> round(t_quantile(4), 3)
    2.776
    """
    from scipy.special import stdtrit  # here: a command that never asks starts without scipy

    return float(stdtrit(df, q))


def t_two_sided_p(stat: float, df: float) -> float:
    """Two-sided p-value of a t statistic.

    >>> round(t_two_sided_p(2.776, 4), 3)
    0.05
    """
    from scipy.special import stdtr

    return float(2.0 * stdtr(df, -abs(stat)))
