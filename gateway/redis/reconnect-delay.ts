/** Reconnect delay: 50 ms, doubling, capped at 2 s, with jitter so a fleet does not reconnect in step. Never gives up. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2_000, 50 * 2 ** Math.min(attempt, 6))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}
