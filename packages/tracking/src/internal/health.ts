// The counters every tracker of this package keeps, and the one warning that reports them.
import { Effect } from "effect"
import type { Tracker } from "@tunekit/core"

export interface Counter {
  sent: number
  retried: number
  failed: number
  dropped: number
  lastError: string | undefined
}

export const counter = (): Counter => ({ sent: 0, retried: 0, failed: 0, dropped: 0, lastError: undefined })

export const snapshot = (tracker: string, c: Counter): Tracker.Health => ({
  tracker,
  sent: c.sent,
  retried: c.retried,
  failed: c.failed,
  dropped: c.dropped,
  ...(c.lastError === undefined ? {} : { lastError: c.lastError })
})

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e) ?? String(e))

/** A failure the tracker survives: counted, remembered, never raised. */
export const failed = (c: Counter, e: unknown): void => {
  c.failed++
  c.lastError = messageOf(e)
}

/** One warning at the end of a study when anything was lost; silence otherwise. */
export const report = (h: Tracker.Health, study: string): Effect.Effect<void> =>
  h.failed + h.dropped === 0
    ? Effect.void
    : Effect.logWarning(
      `tracker ${h.tracker}, study "${study}": ${h.failed} failed and ${h.dropped} dropped (${h.sent} sent, ${h.retried} retries)${
        h.lastError === undefined ? "" : `; last error: ${h.lastError}`
      }`
    )
