// The signed identity is made once per token and reused for most of its life
// (every signature carries a fresh jti, so an equal string means reuse).
import t from 'tap'
import { createIdentityIssuer } from '../../../gateway/identity/identity-issuer.ts'
import { generateIdentityKeyPair, type IdentityClaims } from '../../../lib/internal-identity.ts'

const claims: IdentityClaims = { tenantId: 'tenant-a', tokenId: 'tok-1', region: 'EU1', scopes: ['scim'], label: 'idp' }

t.test('one token gets the same signed identity until four fifths of its lifetime have passed', async (t) => {
  const { signingKey } = await generateIdentityKeyPair()
  let clock = 1_000_000
  const issuer = createIdentityIssuer(signingKey, 300, { now: () => clock })
  const first = await issuer.issue('digest-a', claims)
  t.equal(await issuer.issue('digest-a', { ...claims, scopes: ['scim'] }), first, 'reused for equal claims')
  clock += 239_000
  t.equal(await issuer.issue('digest-a', claims), first, 'still reused at 239 s of 300')
  clock += 2_000
  t.not(await issuer.issue('digest-a', claims), first, 'renewed past 240 s')
})

t.test('other claims or another token get an identity of their own', async (t) => {
  const { signingKey } = await generateIdentityKeyPair()
  const issuer = createIdentityIssuer(signingKey, 300)
  const first = await issuer.issue('digest-a', claims)
  t.not(await issuer.issue('digest-b', claims), first, 'another token')
  t.not(await issuer.issue('digest-a', { ...claims, scopes: ['scim', 'groups:access:write'] }), first, 'other scopes')
  t.not(await issuer.issue('digest-a', { ...claims, label: 'renamed' }), first, 'another label')
})
