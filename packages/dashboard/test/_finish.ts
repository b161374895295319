// Another process that writes to the study while a page watches: it runs one trial of study
// `argv[3]` in the SQLite file `argv[2]` to the end (Complete, value `argv[4]`) and prints when
// it committed, as JSON.
import { Storage } from "@tunekit/core"
import { Effect } from "effect"

const [file, study, value] = process.argv.slice(2)
const program = Effect.gen(function*() {
  const s = yield* Storage.Storage
  const info = yield* s.getStudy(study)
  // The parameters of the study's first trial, as a sampler of another worker would give.
  const [first] = yield* s.getTrials(info.id)
  const t = yield* s.createTrial(info.id, { state: "Running", worker: `other:${process.pid}`, params: first?.params ?? {}, distributions: first?.distributions ?? {} })
  yield* s.report(t.id, { step: 1, values: { val_loss: Number(value) } })
  const done = yield* s.finishTrial(t.id, { state: "Complete", values: [Number(value)] })
  return { number: done.number, at: Date.now() }
})
Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(Storage.layerSqlite(file))))).then(
  (r) => console.log(JSON.stringify(r)),
  (e) => {
    console.error(String(e))
    process.exit(1)
  }
)
