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
