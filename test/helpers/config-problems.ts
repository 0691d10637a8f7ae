import { ConfigError } from '../../config/config-error.ts'

/** The problems a settings loader lists when it refuses to start; empty when `run` accepts the settings. */
export function problemsOf(run: () => unknown): readonly string[] {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}
