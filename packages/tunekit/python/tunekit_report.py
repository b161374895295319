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

A program that iterates `trials()` can also be reused for trial after trial
(`Executor.layerProcess({ reuse: true })`, Ray Tune's `reuse_actors`): started once, it gets each
trial's params and TUNEKIT_* variables in a message on stdin. Started per trial, the same program
gets one trial, from its environment.

    from tunekit_report import report, trials

    for trial in trials():
        lr = float(trial.params["lr"])
        for epoch in range(1, 21):
            if not report(step=epoch, loss=train_one_epoch(lr)):
                break  # pruned: on to the next trial
"""
import json
import os
import sys

__all__ = ["Trial", "params", "report", "trials"]

# The variables that describe a trial: a reused program gets them per trial, in the message.
_TRIAL_VARS = ("TUNEKIT_PARAMS", "TUNEKIT_TRIAL", "TUNEKIT_STUDY", "TUNEKIT_CHECKPOINT_DIR", "TUNEKIT_RESUME_FROM", "TUNEKIT_RESTORE_DIR")

# Whether the current trial was told to stop: its later reports are not sent.
_stopped = False


def params():
    """The trial's params, from TUNEKIT_PARAMS (they come as --name=value arguments too)."""
    return json.loads(os.environ.get("TUNEKIT_PARAMS", "{}"))


def _write(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def report(step, **metrics):
    """Reports a step's metrics. Returns True to go on, False when the trial is pruned or stopped."""
    global _stopped
    if _stopped:
        return False
    line = {"step": step}
    line.update({k: float(v) for k, v in metrics.items()})
    _write(line)
    if os.environ.get("TUNEKIT_ACK") != "1":
        return True
    _stopped = sys.stdin.readline().strip() != "continue"
    return not _stopped


class Trial:
    """One trial of trials(): number, study, params, checkpoint_dir, resume_from, restore_dir."""

    def __init__(self, env):
        self.number = int(env.get("TUNEKIT_TRIAL", "0"))
        self.study = env.get("TUNEKIT_STUDY", "")
        self.params = json.loads(env.get("TUNEKIT_PARAMS", "{}"))
        self.checkpoint_dir = env.get("TUNEKIT_CHECKPOINT_DIR")
        resume = env.get("TUNEKIT_RESUME_FROM")
        self.resume_from = None if resume is None else int(resume)
        self.restore_dir = env.get("TUNEKIT_RESTORE_DIR")

    def __repr__(self):
        return "Trial(number=%d, params=%r)" % (self.number, self.params)


def trials():
    """The trials this program runs: one when started per trial, every trial tunekit hands it when reused.

    While a trial runs, params(), report and the TUNEKIT_* variables of os.environ are that trial's.
    When report returns False, end the trial (leave its loop, not this one): the next trial comes.
    """
    global _stopped
    if os.environ.get("TUNEKIT_REUSE") != "1":
        yield Trial(os.environ)
        return
    _write({"tunekit": "ready"})
    while True:
        line = sys.stdin.readline()
        if line == "":
            return
        # Anything else is a stop for a trial that ended before it was read.
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("tunekit") != "trial" or "env" not in message:
            continue
        for name in _TRIAL_VARS:
            if name in message["env"]:
                os.environ[name] = message["env"][name]
            else:
                os.environ.pop(name, None)
        _stopped = False
        trial = Trial(os.environ)
        yield trial
        _write({"tunekit": "done", "trial": trial.number})
