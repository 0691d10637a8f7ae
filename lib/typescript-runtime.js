// How this Node runs the TypeScript sources: itself (type stripping) or
// through tsx's loader. Plain JavaScript, so that bin/scimgate.js can ask
// before it can import any .ts file (Node 20 cannot).

/**
 * Node strips types itself when type stripping is on (`process.features.typescript`;
 * `--no-experimental-strip-types` turns it off) and prints no ExperimentalWarning
 * for it: from 22.18 and 24.3 (25+ too). 22.12–22.17 (behind a flag), 23 (a
 * warning) and 20 (none) use tsx's loader, a development dependency.
 * @param {string} [version] process.versions.node
 * @param {unknown} [typescript] process.features.typescript
 * @returns {boolean}
 */
export function stripsTypesNatively(version = process.versions.node, typescript = /** @type {{ typescript?: unknown }} */ (process.features).typescript) {
  if (typescript !== 'strip' && typescript !== 'transform') return false
  const [major = 0, minor = 0] = version.split('.').map(Number)
  if (major === 22) return minor >= 18
  if (major === 24) return minor >= 3
  return major >= 25
}

/** Arguments before a .ts entry point in `spawn(process.execPath, [...])` so that this Node runs it. */
export function typeScriptNodeArgs() {
  return stripsTypesNatively() ? [] : ['--import', 'tsx']
}
