// The short-lived identity the gateway hands a region node after it has
// authenticated a provisioning token. Nodes trust nothing else.
import { SignJWT, jwtVerify, createLocalJWKSet, generateKeyPair, exportJWK, importJWK } from 'jose'
import type { JWK, JSONWebKeySet, CryptoKey } from 'jose'
import { randomUUID } from 'node:crypto'

export const IDENTITY_HEADER = 'x-scimgate-identity'
export const IDENTITY_ISSUER = 'scimgate-gateway'
export const IDENTITY_ALGORITHM = 'EdDSA'

/**
 * What a provisioning (or admin) credential may do on a node: `scim` provisions; `admin` is the admin API;
 * `groups:access:write` lets a provisioning token set a group's roles and scope through the access extension
 * (off unless the token was created with it: team admins may keep that to themselves).
 */
export const IDENTITY_SCOPES = ['scim', 'admin', 'groups:access:write'] as const
export type IdentityScope = (typeof IDENTITY_SCOPES)[number]
const KNOWN_SCOPES: ReadonlySet<string> = new Set<string>(IDENTITY_SCOPES)

export interface IdentityClaims {
  readonly tenantId: string
  readonly tokenId: string
  readonly region: string
  readonly scopes: readonly IdentityScope[]
  /** The token's label, for the event log's actor (absent for admin identities). */
  readonly label?: string
}

export interface VerifiedIdentity extends IdentityClaims {
  readonly expiresAt: number
}

export interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'IdentityError'
  }
}

export async function signIdentity(key: SigningKey, claims: IdentityClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ tid: claims.tokenId, scope: claims.scopes.join(' '), ...(claims.label === undefined ? {} : { lbl: claims.label }) })
    .setProtectedHeader({ alg: IDENTITY_ALGORITHM, kid: key.kid, typ: 'scimgate-identity+jwt' })
    .setIssuer(IDENTITY_ISSUER)
    .setSubject(claims.tenantId)
    .setAudience(claims.region)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .setJti(randomUUID())
    .sign(key.privateKey)
}

export type IdentityVerifier = (token: string) => Promise<VerifiedIdentity>

/** A verifier for one region; the key set may hold several keys so signing keys rotate by `kid`. */
export function createIdentityVerifier(keySet: JSONWebKeySet, region: string): IdentityVerifier {
  const keys = createLocalJWKSet(keySet)
  return async (token) => {
    let payload
    try {
      ;({ payload } = await jwtVerify(token, keys, {
        issuer: IDENTITY_ISSUER,
        audience: region,
        algorithms: [IDENTITY_ALGORITHM],
        typ: 'scimgate-identity+jwt',
        requiredClaims: ['sub', 'exp', 'tid'],
        clockTolerance: 5,
      }))
    } catch (error) {
      throw new IdentityError(error instanceof Error ? error.message : 'invalid identity')
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter((s) => KNOWN_SCOPES.has(s)) : []
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.tid !== 'string' || payload.exp === undefined) {
      throw new IdentityError('identity lacks tenant or token id')
    }
    return {
      tenantId: payload.sub,
      tokenId: payload.tid,
      region,
      scopes: scopes as IdentityScope[],
      ...(typeof payload.lbl === 'string' ? { label: payload.lbl } : {}),
      expiresAt: payload.exp * 1000,
    }
  }
}

export interface IdentityKeyPair {
  readonly signingKey: SigningKey
  readonly publicJwk: JWK
  readonly privateJwk: JWK
}

export async function generateIdentityKeyPair(kid: string = randomUUID()): Promise<IdentityKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(IDENTITY_ALGORITHM, { crv: 'Ed25519', extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: IDENTITY_ALGORITHM, use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: IDENTITY_ALGORITHM, use: 'sig' }
  return { signingKey: { kid, privateKey }, publicJwk, privateJwk }
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (typeof privateJwk.kid !== 'string' || privateJwk.kid === '') throw new IdentityError('signing key needs a kid')
  const privateKey = await importJWK(privateJwk, IDENTITY_ALGORITHM)
  if (privateKey instanceof Uint8Array) throw new IdentityError('signing key must be an asymmetric private key')
  return { kid: privateJwk.kid, privateKey }
}
