// Who reads the change feed, for the lag metrics: the credential the gateway
// names in the signed identity (an access or admin credential's id, or
// `operator`), plus an optional `consumer` name when one credential serves
// several services that each keep their own cursor. Product services (access
// credentials) are tracked by default; admins only when they give a name, so
// the console or `scimgate events --follow` never show as a lagging consumer.
// Names are validated and the region tracks a bounded number of consumers.
import type { AdminCredentialKind } from '../../lib/admin-credential-kind.ts'
import { ScimError } from '../../lib/scim-error.ts'

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const MAX_CREDENTIAL_ID_LENGTH = 128

/** `credential` or `credential/name`; undefined when the read is not tracked. */
export function feedConsumerOf(credentialId: string, kind: AdminCredentialKind | undefined, name: string | undefined): string | undefined {
  if (name !== undefined && !NAME_PATTERN.test(name)) throw new ScimError(400, 'invalidValue', `consumer must match ${NAME_PATTERN.source}`)
  if (name === undefined && kind !== 'access') return undefined
  if (credentialId === '' || credentialId.length > MAX_CREDENTIAL_ID_LENGTH || /[^\x21-\x7e]/.test(credentialId)) return undefined
  return name === undefined ? credentialId : `${credentialId}/${name}`
}
