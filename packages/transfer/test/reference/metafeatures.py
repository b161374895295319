"""Reference meta-features for packages/transfer/test/metafeatures.test.ts, computed independently
of tunekit with numpy and scipy (Python 3.11, numpy 2, scipy 1.x):

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install numpy scipy
    # the data and tunekit's stratified 10-fold assignment (seed 0), dumped as JSON by the snippet
    # at the end of this file, then:
    /tmp/pyref/bin/python metafeatures.py meta-input.json

Skewness and kurtosis are scipy.stats.skew / kurtosis (biased, Fisher), averaged over the
non-constant features. The decision stump is a depth-1 CART tree (Gini, midpoint thresholds, the
first strictly best split in feature then threshold order, the majority class in each leaf) and
1-NN uses Euclidean distance (the first nearest training row on ties), both written here from
their definitions; accuracies are pooled over the ten test folds.
"""
import json
import sys

import numpy as np
from scipy import stats


def stump_predict(x, y, k, xt):
    n, d = x.shape
    counts = np.bincount(y, minlength=k).astype(float)
    impurity = 1.0
    for c in range(k):
        impurity -= (counts[c] / n) ** 2
    best = (-np.inf, -1, 0.0)
    for f in range(d):
        col = x[:, f]
        if col.min() == col.max():
            continue
        order = sorted(range(n), key=lambda i: col[i])
        left = np.zeros(k)
        for i in range(1, n):
            r = order[i - 1]
            left[y[r]] += 1
            v0, v1 = col[r], col[order[i]]
            if v0 == v1:
                continue
            nl, nr = i, n - i
            gl = sum(left[c] * left[c] for c in range(k))
            gr = sum((counts[c] - left[c]) * (counts[c] - left[c]) for c in range(k))
            child = (nl - gl / nl + nr - gr / nr) / n
            gain = impurity - child
            if gain > best[0]:
                t = v0 / 2 + v1 / 2
                if t == v1:
                    t = v0
                best = (gain, f, t)
    _, f, t = best
    def majority(mask):
        c = np.bincount(y[mask], minlength=k)
        return int(np.argmax(c))  # first of the largest
    lo, hi = majority(x[:, f] <= t), majority(x[:, f] > t)
    return np.where(xt[:, f] <= t, lo, hi)


def nn_predict(x, y, xt):
    out = []
    for q in xt:
        dist = np.zeros(len(x))
        for j in range(x.shape[1]):  # column by column, the order tunekit sums in
            dist += (x[:, j] - q[j]) ** 2
        out.append(y[int(np.argmin(dist))])  # argmin: the first of the smallest
    return np.array(out)


def describe(ds):
    x = np.array(ds["x"], dtype=float)
    y = np.array(ds["y"], dtype=int)
    fold = np.array(ds["fold"], dtype=int)
    k = ds["classes"]
    n, d = x.shape
    keep = [j for j in range(d) if x[:, j].var() > 0]
    p = np.bincount(y, minlength=k) / n
    stump = nn = 0
    for f in range(fold.max() + 1):
        tr, te = fold != f, fold == f
        stump += int((stump_predict(x[tr], y[tr], k, x[te]) == y[te]).sum())
        nn += int((nn_predict(x[tr], y[tr], x[te]) == y[te]).sum())
    return {
        "rows": n,
        "features": d,
        "logRows": float(np.log(n)),
        "logFeatures": float(np.log(d)),
        "featuresPerRow": d / n,
        "classes": k,
        "classEntropy": float(-(p[p > 0] * np.log2(p[p > 0])).sum()),
        "meanSkewness": float(np.mean(stats.skew(x[:, keep], axis=0))),
        "meanKurtosis": float(np.mean(stats.kurtosis(x[:, keep], axis=0))),
        "stumpAccuracy": stump / n,
        "nearestNeighbourAccuracy": nn / n,
    }


if __name__ == "__main__":
    data = json.load(open(sys.argv[1]))
    print(json.dumps({name: describe(ds) for name, ds in data.items()}, indent=2))

# The dump (run with `npx tsx --conditions=source dump.ts meta-input.json`):
#
#   import * as fs from "node:fs"
#   import { CrossValidation, Iris, Wine } from "@tunekit/datasets"
#   const out: Record<string, unknown> = {}
#   for (const [name, ds] of [["iris", Iris.load()], ["wine", Wine.load()]] as const) {
#     const assign = new Array(ds.y.length).fill(-1)
#     for (const f of CrossValidation.stratifiedKFold(ds.y, { k: 10, seed: 0 })) for (const i of f.test) assign[i] = f.index
#     out[name] = { x: ds.x, y: ds.y, fold: assign, classes: ds.classNames.length }
#   }
#   fs.writeFileSync(process.argv[2], JSON.stringify(out))
