/**
 * True when a raw request path stays inside the SCIM prefix once every
 * encoding layer is peeled off: no `..` or `.` segments, no empty segments
 * (`//`), no backslashes, no NUL. Checked on the raw URL because HTTP
 * clients normalise such paths before sending, but attackers do not.
 */
export function isSafeScimPath(rawUrl: string): boolean {
  let path = rawUrl.split('?', 1)[0] ?? ''
  for (let layer = 0; layer < 4; layer++) {
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      return false
    }
    if (decoded === path) break
    path = decoded
  }
  if (/[\\\0]/.test(path) || path.includes('//')) return false
  return !path.split('/').some((segment) => segment === '..' || segment === '.')
}
