// Layers of percent-encoding peeled off before the path is judged. No identity provider encodes a SCIM path
// twice, let alone this often; a path still changing after that many layers is refused rather than judged on
// a half-decoded form that a later decoder could still turn into `..`.
const MAX_ENCODING_LAYERS = 4

// Anything a path needs to be looked at closer for: encoding, a segment starting with a dot, an empty segment, a backslash, NUL.
const UNUSUAL = /[%\\\0]|\/\.|\/\//

/**
 * True when a raw request path stays inside the SCIM prefix once every
 * encoding layer is peeled off: no `..` or `.` segments, no empty segments
 * (`//`), no backslashes, no NUL. Checked on the raw URL because HTTP
 * clients normalise such paths before sending, but attackers do not.
 */
export function isSafeScimPath(rawUrl: string): boolean {
  const queryAt = rawUrl.indexOf('?')
  let path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
  // The everyday path has nothing to peel or judge: no encoding, no dot segment, no empty segment.
  if (!UNUSUAL.test(path) && !path.startsWith('.')) return true
  // Without a `%` there is no encoding layer to peel (decodeURIComponent would return the path unchanged).
  for (let layer = 0; path.includes('%'); layer++) {
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      return false
    }
    if (decoded === path) break
    if (layer === MAX_ENCODING_LAYERS) return false
    path = decoded
  }
  if (/[\\\0]/.test(path) || path.includes('//')) return false
  return !path.split('/').some((segment) => segment === '..' || segment === '.')
}
