// RFC 7643 §4.2 and §8.7.1: the core Group schema.
import { defineAttribute } from './define-attribute.ts'
import type { SchemaDefinition } from './types.ts'
import { GROUP_SCHEMA } from './urns.ts'

export const GROUP_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    // RFC 7643 §4.2 calls displayName REQUIRED (§8.7.1 lists it as optional); we require it.
    defineAttribute('displayName', 'string', 'A human-readable name for the Group.', {
      required: true,
    }),
    defineAttribute('members', 'complex', 'A list of members of the Group.', {
      multiValued: true,
      subAttributes: [
        defineAttribute('value', 'string', 'Identifier of the member of this Group.', {
          mutability: 'immutable',
        }),
        defineAttribute('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', {
          mutability: 'immutable',
          referenceTypes: ['User', 'Group'],
        }),
        // Okta sends it on member add; kept as given, never trusted for identity.
        defineAttribute('display', 'string', 'A human-readable name for the member, primarily used for display purposes.', {
          mutability: 'immutable',
        }),
        defineAttribute('type', 'string', "A label indicating the type of resource, e.g., 'User' or 'Group'.", {
          mutability: 'immutable',
          canonicalValues: ['User', 'Group'],
        }),
      ],
    }),
  ],
}
