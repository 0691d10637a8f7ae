import t from 'tap'
import { createIdentityVerifier, generateIdentityKeyPair, importSigningKey, signIdentity } from '../../lib/internal-identity.ts'

const claims = { tenantId: 'acme', tokenId: 'tok_1', region: 'EU1', scopes: ['scim'] as const }

t.test('signing keys rotate by kid: a node trusting both keys accepts identities from either', async (t) => {
  const oldKey = await generateIdentityKeyPair('2026-01')
  const newKey = await generateIdentityKeyPair('2026-02')
  const verify = createIdentityVerifier({ keys: [oldKey.publicJwk, newKey.publicJwk] }, 'EU1')
  for (const key of [oldKey, newKey]) {
    const identity = await verify(await signIdentity(key.signingKey, claims, 60))
    t.match(identity, { tenantId: 'acme', tokenId: 'tok_1', region: 'EU1', scopes: ['scim'] })
  }
  const retired = createIdentityVerifier({ keys: [newKey.publicJwk] }, 'EU1')
  await t.rejects(retired(await signIdentity(oldKey.signingKey, claims, 60)), 'a retired key is refused')
})

t.test('identities are bound to region, issuer, lifetime and known scopes', async (t) => {
  const key = await generateIdentityKeyPair()
  const verify = createIdentityVerifier({ keys: [key.publicJwk] }, 'EU1')
  await t.rejects(verify(await signIdentity(key.signingKey, { ...claims, region: 'US1' }, 60)), 'another audience')
  await t.rejects(verify(await signIdentity(key.signingKey, claims, -30)), 'expired')
  await t.rejects(verify('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhY21lIn0.'), 'alg none')
  const reimported = await importSigningKey(key.privateJwk)
  t.equal((await verify(await signIdentity(reimported, claims, 60))).tenantId, 'acme', 'a private JWK loaded from settings signs the same')
})
