// RFC 7643 §4.3 and §8.7.1: the enterprise User extension.
import { defineAttribute } from './define-attribute.ts'
import type { SchemaDefinition } from './types.ts'
import { ENTERPRISE_USER_SCHEMA } from './urns.ts'

export const ENTERPRISE_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    defineAttribute('employeeNumber', 'string', 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.'),
    defineAttribute('costCenter', 'string', 'Identifies the name of a cost center.'),
    defineAttribute('organization', 'string', 'Identifies the name of an organization.'),
    defineAttribute('division', 'string', 'Identifies the name of a division.'),
    defineAttribute('department', 'string', 'Identifies the name of a department.'),
    defineAttribute('manager', 'complex', "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.", {
      subAttributes: [
        defineAttribute('value', 'string', "The id of the SCIM resource representing the User's manager."),
        defineAttribute('$ref', 'reference', "The URI of the SCIM resource representing the User's manager.", {
          referenceTypes: ['User'],
        }),
        // RFC 7643 §4.3: displayName of the manager is derived by the service provider.
        defineAttribute('displayName', 'string', "The displayName of the User's manager.", {
          mutability: 'readOnly',
        }),
      ],
    }),
  ],
}
