#!/usr/bin/env python3
"""Independent reference values for the risk numerics in crates/risk/src/.

Computed with numpy (and scipy.stats for the moments, scipy.integrate for the Cornish-Fisher
expected shortfall) on the vendored real data in crates/market-data/data/. The printed values
are pasted into the unit tests of crates/risk/src/{var,stats,covariance}.rs as constants; rerun
this script when a test case changes.

    pip install numpy scipy && python3 scripts/risk_reference.py

Case: an equal-weight portfolio of the 20 stocks (weights 1/20, rebalanced daily), the last
504 daily simple returns of the data set (i.e. the last 505 closes), benchmark SPX.
Conventions (the same ones crates/risk documents):
- simple returns r_t = p_t / p_{t-1} - 1; portfolio return = sum_i w_i r_{i,t};
- historical VaR = -quantile(r, 1 - c) with numpy's default linear interpolation (type 7);
  ES = -mean(r[r <= quantile]); horizon h > 1 uses overlapping compounded h-day returns
  prod(1 + r_t..r_{t+h-1}) - 1, n - h + 1 of them;
- parametric: mu = mean, sigma = std(ddof=1), z = Phi^-1(1 - c),
  VaR = -(mu h + z sigma sqrt(h)), ES = -(mu h) + sigma sqrt(h) phi(z) / (1 - c);
- Cornish-Fisher: biased (population) sample skewness g1 = m3 / m2^1.5 and excess kurtosis
  g2 = m4 / m2^2 - 3 (scipy.stats.skew / kurtosis defaults, bias=True, fisher=True);
- Cornish-Fisher ES = the mean of the CF VaR quantile over the tail levels u in (0, 1 - c):
  (1 / (1 - c)) * integral_0^(1-c) -(mu h + sigma sqrt(h) z_cf(Phi^-1(u))) du, computed here by
  adaptive quadrature (scipy.integrate.quad), independently of the closed form in var.rs;
- covariance matrix = np.cov(ddof=1) of the holdings; correlation matrix = np.corrcoef;
- volatility = std(ddof=1) sqrt(252); rf per period = rf_annual / 252;
  Sharpe = mean(r - rf_p) / std(r - rf_p, ddof=1) sqrt(252);
  Sortino = mean(r - rf_p) / sqrt(mean(min(r - rf_p, 0)^2)) sqrt(252) (downside deviation over
  all n observations, target rf_p);
- max drawdown on the wealth index W_0 = 1, W_t = prod(1 + r); indices into W (0 = start);
- beta = cov(r, b, ddof=1) / var(b, ddof=1); correlation = Pearson.
"""

from pathlib import Path
from statistics import NormalDist

import numpy as np
import scipy.integrate
import scipy.special
import scipy.stats

DATA = Path(__file__).resolve().parent.parent / "crates" / "market-data" / "data"
LOOKBACK = 504
RF = 0.04


def load(name):
    rows = (DATA / name).read_text().strip().splitlines()
    header = rows[0].split(",")[1:]
    values = np.array([[float(x) for x in row.split(",")[1:]] for row in rows[1:]])
    return header, values


def historical(r, c, h):
    if h > 1:
        r = np.array([np.prod(1.0 + r[t : t + h]) - 1.0 for t in range(len(r) - h + 1)])
    q = np.quantile(r, 1.0 - c)  # method="linear", numpy's default
    return -q, -r[r <= q].mean()


def parametric(r, c, h):
    mu, sigma = r.mean(), r.std(ddof=1)
    z = NormalDist().inv_cdf(1.0 - c)
    var = -(mu * h + z * sigma * np.sqrt(h))
    es = -(mu * h) + sigma * np.sqrt(h) * NormalDist().pdf(z) / (1.0 - c)
    return var, es


def cornish_fisher(r, c, h):
    mu, sigma = r.mean(), r.std(ddof=1)
    s = scipy.stats.skew(r)  # bias=True
    k = scipy.stats.kurtosis(r)  # fisher=True, bias=True
    z = NormalDist().inv_cdf(1.0 - c)
    zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    return -(mu * h + zcf * sigma * np.sqrt(h)), s, k


def cornish_fisher_es(r, c, h):
    """Tail mean of the CF VaR quantile by numerical integration over u in (0, 1 - c).

    Returns the ES and quad's own estimate of its relative error. The integrand has an
    integrable singularity at u = 0 (Phi^-1(u) -> -inf); QAGS extrapolation handles it.
    """
    mu, sigma = r.mean(), r.std(ddof=1)
    s = scipy.stats.skew(r)
    k = scipy.stats.kurtosis(r)

    def var_at(u):
        z = scipy.special.ndtri(u)
        zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
        return -(mu * h + zcf * sigma * np.sqrt(h))

    alpha = 1.0 - c
    integral, abserr = scipy.integrate.quad(var_at, 0.0, alpha, epsabs=0.0, epsrel=1e-13, limit=1000)
    return integral / alpha, abserr / abs(integral)


def component_var(rets, w, c, h):
    mu = rets.mean(axis=0)
    cov = np.cov(rets, rowvar=False, ddof=1)
    sp = np.sqrt(w @ cov @ w)
    z = NormalDist().inv_cdf(1.0 - c)
    marginal = -(mu * h + z * np.sqrt(h) * (cov @ w) / sp)
    return marginal, w * marginal


def main():
    symbols, closes = load("sp500_20_stocks_daily_close.csv")
    _, spx = load("sp500_index_daily_close.csv")
    closes, spx = closes[-(LOOKBACK + 1) :], spx[-(LOOKBACK + 1) :, 0]
    rets = closes[1:] / closes[:-1] - 1.0
    bench = spx[1:] / spx[:-1] - 1.0
    w = np.full(len(symbols), 1.0 / len(symbols))
    r = rets @ w
    p = lambda name, v: print(f"{name} = {v if isinstance(v, (int, list)) else float(v)!r}")

    p("n", len(r))
    p("first_return", r[0])
    p("last_return", r[-1])
    for c in (0.95, 0.99):
        for h in (1, 10):
            var, es = historical(r, c, h)
            p(f"hist_var_{int(c * 100)}_{h}", var)
            p(f"hist_es_{int(c * 100)}_{h}", es)
            var, es = parametric(r, c, h)
            p(f"param_var_{int(c * 100)}_{h}", var)
            p(f"param_es_{int(c * 100)}_{h}", es)
            var, s, k = cornish_fisher(r, c, h)
            p(f"cf_var_{int(c * 100)}_{h}", var)
            es, err = cornish_fisher_es(r, c, h)
            p(f"cf_es_{int(c * 100)}_{h}", es)
            p(f"cf_es_{int(c * 100)}_{h}_quad_rel_err", err)
    p("skewness", scipy.stats.skew(r))
    p("excess_kurtosis", scipy.stats.kurtosis(r))

    p("volatility", r.std(ddof=1) * np.sqrt(252))
    for rf in (0.0, RF):
        ex = r - rf / 252
        p(f"sharpe_rf{rf}", ex.mean() / ex.std(ddof=1) * np.sqrt(252))
        dd = np.sqrt(np.mean(np.minimum(ex, 0.0) ** 2))
        p(f"sortino_rf{rf}", ex.mean() / dd * np.sqrt(252))

    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    running = np.maximum.accumulate(wealth)
    drawdown = 1.0 - wealth / running
    trough = int(np.argmax(drawdown))
    peak = int(np.argmax(wealth[: trough + 1]))
    p("max_drawdown", drawdown[trough])
    p("drawdown_peak", peak)
    p("drawdown_trough", trough)

    p("beta", np.cov(r, bench, ddof=1)[0, 1] / bench.var(ddof=1))
    p("correlation", np.corrcoef(r, bench)[0, 1])

    cov = np.cov(rets, rowvar=False, ddof=1)
    p("cov_0_0", cov[0, 0])
    p("cov_2_8", cov[2, 8])
    corr = np.corrcoef(rets, rowvar=False)
    p("corr_symbols_0_1_2_8_4_19", [symbols[0], symbols[1], symbols[2], symbols[8], symbols[4], symbols[19]])
    p("corr_0_1", corr[0, 1])
    p("corr_2_8", corr[2, 8])
    p("corr_4_19", corr[4, 19])

    marginal, component = component_var(rets, w, 0.99, 10)
    p("marginal_var_99_10_first3", marginal[:3].tolist())
    p("component_var_99_10_first3", component[:3].tolist())
    p("component_var_99_10_sum", component.sum())


if __name__ == "__main__":
    main()
