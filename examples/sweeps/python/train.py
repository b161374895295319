"""Logistic regression by minibatch gradient descent, tuned by a tunekit sweep.

Standard library only. The sweep passes the parameters as --name=value arguments (W&B's ${args})
and as JSON in TUNEKIT_PARAMS; tunekit_report (on PYTHONPATH in a sweep's trials) reads them and
reports one line per epoch, which the sweep answers: continue, or stop (early_terminate).

    tunekit sweep run examples/sweeps/python/sweep.yaml
"""
import math
import random

from tunekit_report import params, report

p = params()
lr = p["learning_rate"]
batch_size = p["batch_size"]
l2 = p["l2"]
optimizer = p["optimizer"]
momentum = optimizer["momentum"] if optimizer["name"] == "momentum" else 0.0

# Two overlapping Gaussian classes in 8 dimensions; the same data for every trial.
data_rng = random.Random(0)
DIM = 8
centre = [data_rng.gauss(0, 1) for _ in range(DIM)]


def sample(n):
    rows = []
    for _ in range(n):
        y = data_rng.random() < 0.5
        x = [data_rng.gauss(c if y else -c, 1.5) for c in centre]
        rows.append((x, 1.0 if y else 0.0))
    return rows


train, val = sample(400), sample(200)


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z > -30 else 0.0


def evaluate(w, b, rows):
    loss, right = 0.0, 0
    for x, y in rows:
        q = min(max(sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b), 1e-12), 1 - 1e-12)
        loss -= y * math.log(q) + (1 - y) * math.log(1 - q)
        right += (q > 0.5) == (y == 1.0)
    return loss / len(rows), right / len(rows)


w, b = [0.0] * DIM, 0.0
vw, vb = [0.0] * DIM, 0.0
order = random.Random(1)
for epoch in range(1, p["epochs"] + 1):
    order.shuffle(train)
    for start in range(0, len(train), batch_size):
        batch = train[start:start + batch_size]
        gw, gb = [l2 * wi for wi in w], 0.0
        for x, y in batch:
            err = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b) - y
            for i in range(DIM):
                gw[i] += err * x[i] / len(batch)
            gb += err / len(batch)
        vw = [momentum * v - lr * g for v, g in zip(vw, gw)]
        vb = momentum * vb - lr * gb
        w = [wi + v for wi, v in zip(w, vw)]
        b += vb
    val_loss, val_accuracy = evaluate(w, b, val)
    if not report(step=epoch, val_loss=val_loss, val_accuracy=val_accuracy):
        break  # stopped early by the sweep's early_terminate
