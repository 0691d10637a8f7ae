import t from 'tap'
import { TOKEN_PATTERN, generateToken, parseToken } from '../../../gateway/tokens/token-format.ts'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

t.test('generated tokens have the documented shape and parse back', async (t) => {
  for (const region of ['EU1', 'us1', 'AP2', 'EU12']) {
    const token = generateToken(region)
    t.match(token, new RegExp(`^scg_${region.toLowerCase()}_[0-9A-Za-z]{38}$`))
    t.same(parseToken(token), { region: region.toUpperCase() })
    t.ok(TOKEN_PATTERN.test(token), 'secret scanners find it')
    t.ok(TOKEN_PATTERN.test(`Authorization: Bearer ${token}\n`), 'also inside text')
  }
})

t.test('random part carries at least 160 bits and is not repeated', async (t) => {
  const bits = 32 * Math.log2(62)
  t.ok(bits >= 160, `${bits.toFixed(1)} bits`)
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  for (let i = 0; i < 2000; i++) {
    const token = generateToken('EU1')
    const secret = token.slice('scg_eu1_'.length, 'scg_eu1_'.length + 32)
    seen.add(secret)
    for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  t.equal(seen.size, 2000)
  t.equal(counts.size, 62, 'every base62 character appears')
  const expected = (2000 * 32) / 62
  for (const [c, n] of counts) t.ok(Math.abs(n - expected) < expected * 0.3, `character ${c} roughly uniform (${n})`)
})

t.test('every single-character mutation is refused', async (t) => {
  const token = generateToken('EU1')
  let tried = 0
  for (let i = 0; i < token.length; i++) {
    for (const c of BASE62 + '_-') {
      if (c === token[i]) continue
      const mutated = token.slice(0, i) + c + token.slice(i + 1)
      tried++
      if (parseToken(mutated) !== undefined) t.fail(`mutation at ${i} to ${c} accepted`)
    }
  }
  t.ok(tried > 2000, `${tried} mutations refused`)
})

t.test('malformed input is refused', async (t) => {
  const token = generateToken('AP1')
  const cases: [string, string][] = [
    ['empty', ''],
    ['wrong prefix', `ghp_${token.slice(4)}`],
    ['upper-case prefix', `SCG_${token.slice(4)}`],
    ['missing a character', token.slice(0, -1)],
    ['one character too many', `${token}0`],
    ['upper-case region', token.replace('_ap1_', '_AP1_')],
    ['surrounding whitespace', ` ${token}`],
    ['trailing newline', `${token}\n`],
    ['non-base62', `${token.slice(0, 12)}+${token.slice(13)}`],
    ['huge', 'scg_eu1_'.padEnd(100_000, 'a')],
    ['transposed characters', token.slice(0, 10) + token[11] + token[10] + token.slice(12)],
  ]
  for (const [name, text] of cases) {
    if (text === token) continue // transposition of equal characters
    t.equal(parseToken(text), undefined, name)
  }
  t.equal(parseToken(42 as unknown as string), undefined, 'non-string')
})

t.test('generateToken refuses a bad region code', async (t) => {
  t.throws(() => generateToken('e'))
  t.throws(() => generateToken('eu_1'))
  t.throws(() => generateToken('1EU'))
})
