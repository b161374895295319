// Whether a process of this machine is alive: signal 0 tests it without touching it (EPERM: alive,
// another user's).
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Signals a process group (a program started in a group of its own, and its children); a group already gone is no error. */
export const signalGroup = (pid: number | undefined, signal: NodeJS.Signals): void => {
  try {
    if (pid !== undefined) process.kill(-pid, signal)
  } catch {
    // the group is gone already
  }
}
