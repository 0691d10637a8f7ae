// scimgate's Group extension: what a group grants in the tenant. Set by team
// admins (admin API) and optionally by Entra ID; Okta cannot push it.
import { defineAttribute } from './define-attribute.ts'
import type { SchemaDefinition } from './types.ts'
import { GROUP_ACCESS_SCHEMA } from './urns.ts'

export const GROUP_ACCESS_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_ACCESS_SCHEMA,
  name: 'GroupAccess',
  description: 'Roles and scope granted to the members of a Group',
  attributes: [
    defineAttribute('roles', 'complex', 'Roles granted to every member of the Group.', {
      multiValued: true,
      subAttributes: [
        defineAttribute('value', 'string', 'The name of the role.', { required: true }),
        defineAttribute('display', 'string', 'A human-readable name, primarily used for display purposes.'),
        defineAttribute('type', 'string', "A label indicating the role's function."),
        defineAttribute('primary', 'boolean', "A Boolean value indicating the 'primary' role. The value 'true' MUST appear no more than once."),
      ],
    }),
    defineAttribute('scope', 'complex', 'The part of the tenant the roles apply to.', {
      subAttributes: [
        defineAttribute('type', 'string', "How `values` select the scope: 'Exact' names them one by one.", {
          canonicalValues: ['Exact'],
        }),
        defineAttribute('values', 'string', 'The scope values.', { multiValued: true }),
      ],
    }),
  ],
}
