"""Optuna on the problems of benchmarks/_problems.ts, for `npm run bench -- samplers --optuna`.

The same problems (written again here, define-by-run with the same parameter names), the same seeds
and budget, the same noise draws (murmur3's finalizer and Box-Muller, as `noiseOf` in _problems.ts)
and the same scoring: the best value so far, and for noisy problems the true value of the trial
with the best observed value. One JSON line per run on stdout:
{"problem", "sampler", "seed", "best_curve", "wall_s", "version"}.

    .venv-bench/latest/bin/python benchmarks/optuna/run.py --budget 100 --seeds 10 [--problems a,b] [--samplers tpe,gp]

Samplers: "tpe" is TPESampler(seed=seed) with Optuna's defaults; "gp" is GPSampler(seed=seed)
(Optuna 3.6 and later, with PyTorch), left out where this Optuna has none.
"""
import argparse
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def fmix(h):
    h &= 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def noise_of(seed, trial):
    u1 = (fmix(seed * 1000003 + trial * 2 + 1) + 1) / 4294967297
    u2 = fmix(seed * 1000003 + trial * 2 + 2) / 4294967296
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def box(trial, n, low, high):
    return [trial.suggest_float(f"x{i}", low, high) for i in range(n)]


def branin_f(x0, x1):
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [
    [v * 1e-4 for v in r]
    for r in [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
]
H6_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6_f(x):
    return -sum(H6_ALPHA[i] * math.exp(-sum(H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2 for j in range(6))) for i in range(4))


def branin(trial, noise):
    v = branin_f(trial.suggest_float("x0", -5, 10), trial.suggest_float("x1", 0, 15))
    return v, v


def hartmann6(trial, noise):
    v = hartmann6_f(box(trial, 6, 0, 1))
    return v, v


def rosenbrock4(trial, noise):
    x = box(trial, 4, -5, 10)
    v = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))
    return v, v


def ackley5(trial, noise):
    x = box(trial, 5, -32.768, 32.768)
    n = len(x)
    v = -20 * math.exp(-0.2 * math.sqrt(sum(a * a for a in x) / n)) - math.exp(sum(math.cos(2 * math.pi * a) for a in x) / n) + 20 + math.e
    return v, v


def styblinski8(trial, noise):
    v = sum((a**4 - 16 * a**2 + 5 * a) / 2 for a in box(trial, 8, -5, 5))
    return v, v


MIXED_B = {"sgd": -1.5, "adam": -3.0, "adamw": -2.7}
MIXED_C = {"sgd": 0.15, "adam": 0.02, "adamw": 0}


def mixed_nn(trial, noise):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 6)
    width = trial.suggest_categorical("width", [32, 64, 128, 256, 512])
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam", "adamw"])
    dropout = trial.suggest_float("dropout", 0, 0.6)
    v = (math.log10(lr) - MIXED_B[opt]) ** 2 * 0.8 + 0.05 * (layers - 3) ** 2 + (0.3 * (math.log2(width) - 7) ** 2) / 4 + 2 * (dropout - 0.25) ** 2 + MIXED_C[opt]
    return v, v


RASTRIGIN_SHIFT = [1.7, -2.3, 0.9, -1.1]


def rastrigin4(trial, noise):
    x = box(trial, 4, -5.12, 5.12)
    v = sum((a - s) ** 2 - 10 * math.cos(2 * math.pi * (a - s)) + 10 for a, s in zip(x, RASTRIGIN_SHIFT))
    return v, v


SCALINGS = ["none", "standard", "minmax"]
SCALING_PENALTY = {"svm": [0.03, 0, 0.01], "forest": [0, 0, 0], "mlp": [0.03, 0, 0.01]}


def model_families(trial, noise):
    model = trial.suggest_categorical("model", ["svm", "forest", "mlp"])
    if model == "svm":
        c = trial.suggest_float("model.svm.c", 1e-3, 1e3, log=True)
        gamma = trial.suggest_float("model.svm.gamma", 1e-4, 10, log=True)
        v = 0.1 + 0.04 * (math.log10(c) - 1.2) ** 2 + 0.05 * (math.log10(gamma) + 1.7) ** 2
    elif model == "forest":
        depth = trial.suggest_int("model.forest.depth", 2, 24)
        features = trial.suggest_float("model.forest.features", 0.05, 1)
        min_leaf = trial.suggest_int("model.forest.minLeaf", 1, 32, log=True)
        v = 0.06 + 8e-4 * (depth - 13) ** 2 + 0.3 * (features - 0.35) ** 2 + 0.01 * (math.log2(min_leaf) - 1) ** 2
    else:
        lr = trial.suggest_float("model.mlp.lr", 1e-5, 1e-1, log=True)
        width = trial.suggest_categorical("model.mlp.width", [16, 32, 64, 128, 256, 512])
        dropout = trial.suggest_float("model.mlp.dropout", 0, 0.7)
        v = 0.05 * (math.log10(lr) + 2.6) ** 2 + 0.02 * (math.log2(width) - 7) ** 2 + 0.4 * (dropout - 0.3) ** 2
    scaling = trial.suggest_categorical("scaling", SCALINGS)
    v += SCALING_PENALTY[model][SCALINGS.index(scaling)]
    return v, v


def noisy_hartmann6(trial, noise):
    t = hartmann6_f(box(trial, 6, 0, 1))
    return t + 0.1 * noise(), t


def branin_embedded12(trial, noise):
    x = box(trial, 12, 0, 1)
    v = branin_f(-5 + 15 * x[3], 15 * x[9])
    return v, v


PROBLEMS = {f.__name__: f for f in [branin, hartmann6, rosenbrock4, ackley5, styblinski8, mixed_nn, rastrigin4, model_families, noisy_hartmann6, branin_embedded12]}


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise ValueError(name)


def has_gp():
    if not hasattr(optuna.samplers, "GPSampler"):
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_once(problem, sampler_name, seed, budget):
    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler_name, seed))
    f = PROBLEMS[problem]
    curve = []
    best = {"observed": math.inf, "scored": math.inf}

    def objective(trial):
        observed, true = f(trial, lambda: noise_of(seed, trial.number))
        if observed < best["observed"]:
            best["observed"], best["scored"] = observed, true
        curve.append(best["scored"])
        return observed

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=budget)
    return curve, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--samplers", default="tpe,gp")
    args = ap.parse_args()
    samplers = [s for s in args.samplers.split(",") if s != "gp" or has_gp()]
    for problem in args.problems.split(","):
        if problem not in PROBLEMS:
            sys.exit(f"unknown problem {problem}; known: {', '.join(PROBLEMS)}")
        for s in samplers:
            for seed in range(args.seeds):
                curve, wall = run_once(problem, s, seed, args.budget)
                print(json.dumps({"problem": problem, "sampler": s, "seed": seed, "best_curve": curve, "wall_s": wall, "version": optuna.__version__}), flush=True)
                print(f"optuna {optuna.__version__} {s} {problem} seed {seed}: {curve[-1]:.6g} ({wall:.1f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
