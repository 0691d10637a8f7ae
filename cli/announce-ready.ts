// A process started by `scimgate dev` (cli/dev/supervisor.ts) talks to it over
// the IPC channel the supervisor opened; run any other way, these are no-ops.
import type { ReadyMessage } from './dev/supervisor.ts'

/** Tells the supervisor where this process listens. */
export function announceReady(details: Omit<ReadyMessage, 'type'>): void {
  process.send?.({ type: 'ready', ...details } satisfies ReadyMessage)
}

/**
 * Supervised children run in their own process group (so a terminal's Ctrl-C reaches only the
 * supervisor, which stops them in order); if the supervisor dies without stopping them, they close
 * gracefully on their own instead of lingering.
 */
export function closeWithSupervisor(): void {
  if (process.send === undefined) return
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
}
