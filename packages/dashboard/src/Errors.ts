/**
 * The errors of the dashboard.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * The dashboard cannot start: bad options, or the address cannot be bound.
 *
 * @example
 * import { DashboardError } from "@tunekit/dashboard"
 * new DashboardError({ reason: "cannot listen on 127.0.0.1:8080: address already in use" }).message
 */
export class DashboardError extends Data.TaggedError("DashboardError")<{ readonly reason: string; readonly cause?: unknown }> {
  override get message() {
    return this.reason
  }
}
