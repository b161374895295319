// A dashboard in this process on a SQLite file, for the tests: started on a free port in a scope of
// its own, stopped by `close`.
import { Checkpoint, Storage } from "@tunekit/core"
import { Effect, Exit, Layer, Scope } from "effect"
import { Dashboard } from "../src/index.js"

export interface Served {
  readonly running: Dashboard.Running
  /** The address without the token. */
  readonly base: string
  readonly close: () => Promise<void>
}

export const serve = async (file: string, options: Dashboard.Options = {}, checkpoints?: string): Promise<Served> => {
  const scope = await Effect.runPromise(Scope.make())
  try {
    const storage = Storage.layerSqlite(file, { readonly: !options.allowWrite })
    const layer = checkpoints === undefined ? storage : Layer.merge(storage, Checkpoint.layer({ directory: checkpoints, retention: false }))
    const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
    const running = await Effect.runPromise(Dashboard.start({ port: 0, ...options }).pipe(Effect.provide(context), Scope.extend(scope)))
    const host = running.host === "0.0.0.0" ? "127.0.0.1" : running.host
    return { running, base: `http://${host}:${running.port}`, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
}
