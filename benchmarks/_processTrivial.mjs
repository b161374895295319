// The least a program trial can be: a Node program that reports one value through tunekit/report
// (the process executor's row of `npm run bench -- executors`).
import { params, report } from "tunekit/report"

const { x } = params()
report({ step: 1, value: (x - 0.3) ** 2 })
