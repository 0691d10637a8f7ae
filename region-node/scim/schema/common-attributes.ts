// RFC 7643 §3.1: the common attributes of every resource. They belong to no
// schema (so /Schemas does not list them, as in §8.7.1) but they live at the
// top level of a resource, so the resolver treats them as part of the core
// schema: `id`, `externalId`, `meta.lastModified` (optionally URN-qualified
// with the core URN) are valid filter and sort paths.
import { defineAttribute } from './define-attribute.ts'
import type { AttributeDefinition } from './types.ts'

const readOnly = { mutability: 'readOnly' } as const

export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  defineAttribute('id', 'string', 'A unique identifier for a SCIM resource as defined by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  // Identity providers' own key: caseExact, and not unique (docs/identity-providers.md#r4).
  defineAttribute('externalId', 'string', 'A String that is an identifier for the resource as defined by the provisioning client.', {
    caseExact: true,
  }),
  defineAttribute('meta', 'complex', 'A complex attribute containing resource metadata.', {
    ...readOnly,
    subAttributes: [
      defineAttribute('resourceType', 'string', 'The name of the resource type of the resource.', { ...readOnly, caseExact: true }),
      defineAttribute('created', 'dateTime', 'The DateTime that the resource was added to the service provider.', readOnly),
      defineAttribute('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated at the service provider.', readOnly),
      defineAttribute('location', 'reference', 'The URI of the resource being returned.', { ...readOnly, caseExact: true, referenceTypes: ['uri'] }),
      defineAttribute('version', 'string', 'The version of the resource being returned.', { ...readOnly, caseExact: true }),
    ],
  }),
]

/**
 * RFC 7643 §3: `schemas` is on every resource too. It is recomputed by ingest
 * and always returned by projection; it is listed here only so that paths
 * such as the RFC 7644 §3.4.2.2 example `schemas eq "urn:…:enterprise:2.0:User"` resolve.
 */
export const SCHEMAS_ATTRIBUTE: AttributeDefinition = defineAttribute('schemas', 'string', 'The schema URIs the resource conforms to.', {
  multiValued: true,
  required: true,
  mutability: 'readOnly',
  returned: 'always',
})
