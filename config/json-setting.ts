import { readFileSync } from 'node:fs'

/**
 * A JSON setting given inline (`NAME`) or as a file (`NAME_FILE`, for mounted
 * secrets). `given` says whether either was set; `value` is absent when the
 * file could not be read or the text is not JSON (the problem is recorded).
 */
export function readJsonSetting(env: Readonly<Record<string, string | undefined>>, name: string, problems: string[]): { given: boolean; value?: unknown } {
  let text = env[name]
  const file = env[`${name}_FILE`]
  if (text === undefined && file !== undefined) {
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file}: ${(error as Error).message}`)
      return { given: true }
    }
  }
  if (text === undefined) return { given: false }
  try {
    return { given: true, value: JSON.parse(text) as unknown }
  } catch {
    problems.push(`${name}: is not valid JSON`)
    return { given: true }
  }
}
