"""The metric reporter for Python programs that tunekit runs as trials: one line of code per step.

    from tunekit_report import params, report

    lr = float(params()["lr"])
    for epoch in range(1, 21):
        loss = train_one_epoch(lr)
        if not report(step=epoch, loss=loss):
            break  # pruned: stop training

`report` writes the metric as a JSON line on stdout and, when tunekit asks for it (TUNEKIT_ACK=1),
waits for the decision on stdin, so the program stops at the step where it is pruned. No
dependency beyond the standard library.
"""
import json
import os
import sys

__all__ = ["params", "report"]


def params():
    """The trial's params, from TUNEKIT_PARAMS (they come as --name=value arguments too)."""
    return json.loads(os.environ.get("TUNEKIT_PARAMS", "{}"))


def report(step, **metrics):
    """Reports a step's metrics. Returns True to go on, False when the trial is pruned or stopped."""
    line = {"step": step}
    line.update({k: float(v) for k, v in metrics.items()})
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    if os.environ.get("TUNEKIT_ACK") != "1":
        return True
    answer = sys.stdin.readline()
    return answer.strip() == "continue"
