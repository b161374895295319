// The least a program trial can be: a Node program that reports one value through tunekit/report
// (the process executor's rows of `npm run bench -- executors`). It iterates trials(), so the same
// program runs once per trial (a process per trial) or takes trial after trial (reuse: true).
import { report, trials } from "tunekit/report"

for (const trial of trials()) report({ step: 1, value: (Number(trial.params.x) - 0.3) ** 2 })
