// RFC 7643 §4.1 and §8.7.1: the core User schema. The common attributes
// (`id`, `externalId`, `meta`) are not part of it (RFC 7643 §3.1): see
// common-attributes.ts.
import { defineAttribute, multiValuedSubAttributes } from './define-attribute.ts'
import type { SchemaDefinition } from './types.ts'
import { USER_SCHEMA } from './urns.ts'

const nameSubAttribute = (name: string, description: string) => defineAttribute(name, 'string', description)

export const USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    defineAttribute('userName', 'string', 'Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider\'s entire set of Users.', {
      required: true,
      uniqueness: 'server',
    }),
    defineAttribute('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        nameSubAttribute('formatted', "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
        nameSubAttribute('familyName', "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
        nameSubAttribute('givenName', "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
        nameSubAttribute('middleName', "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
        nameSubAttribute('honorificPrefix', "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
        nameSubAttribute('honorificSuffix', "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
      ],
    }),
    defineAttribute('displayName', 'string', 'The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known.'),
    defineAttribute('nickName', 'string', "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'."),
    defineAttribute('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", {
      referenceTypes: ['external'],
    }),
    defineAttribute('title', 'string', "The user's title, such as 'Vice President'."),
    defineAttribute('userType', 'string', "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
    defineAttribute('preferredLanguage', 'string', "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
    defineAttribute('locale', 'string', "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
    defineAttribute('timezone', 'string', "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    defineAttribute('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    // RFC 7643 §4.1.1: the cleartext password is never returned.
    defineAttribute('password', 'string', "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    defineAttribute('emails', 'complex', 'Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., \'bjensen@example.com\' instead of \'bjensen@EXAMPLE.COM\'. Canonical type values of \'work\', \'home\', and \'other\'.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('string', ['work', 'home', 'other'], 'Email addresses for the user.'),
    }),
    defineAttribute('phoneNumbers', 'complex', "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.", {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('string', ['work', 'home', 'mobile', 'fax', 'pager', 'other'], 'Phone number of the User.'),
    }),
    defineAttribute('ims', 'complex', 'Instant messaging addresses for the User.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'], 'Instant messaging address for the User.'),
    }),
    defineAttribute('photos', 'complex', 'URLs of photos of the User.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('reference', ['photo', 'thumbnail'], 'URL of a photo of the User.', {
        referenceTypes: ['external'],
      }),
    }),
    defineAttribute('addresses', 'complex', "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.", {
      multiValued: true,
      subAttributes: [
        defineAttribute('formatted', 'string', 'The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines.'),
        defineAttribute('streetAddress', 'string', 'The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines.'),
        defineAttribute('locality', 'string', 'The city or locality component.'),
        defineAttribute('region', 'string', 'The state or region component.'),
        defineAttribute('postalCode', 'string', 'The zip code or postal code component.'),
        defineAttribute('country', 'string', 'The country name component.'),
        defineAttribute('type', 'string', "A label indicating the attribute's function, e.g., 'work' or 'home'.", {
          canonicalValues: ['work', 'home', 'other'],
        }),
        // RFC 7643 §4.1.2 gives addresses a `primary` (the §8.7.1 listing omits it).
        defineAttribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address or primary email address."),
      ],
    }),
    // RFC 7643 §4.1.2: group membership is changed through the Group resource only.
    defineAttribute('groups', 'complex', 'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        defineAttribute('value', 'string', "The identifier of the User's group.", { mutability: 'readOnly' }),
        defineAttribute('$ref', 'reference', "The URI of the corresponding 'Group' resource to which the user belongs.", {
          mutability: 'readOnly',
          referenceTypes: ['User', 'Group'],
        }),
        defineAttribute('display', 'string', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
        defineAttribute('type', 'string', "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    }),
    defineAttribute('entitlements', 'complex', 'A list of entitlements for the User that represent a thing the User has.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('string', [], 'The value of an entitlement.'),
    }),
    defineAttribute('roles', 'complex', 'A list of roles for the User that collectively represent who the User is, e.g., \'Student\', \'Faculty\'.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('string', [], 'The value of a role.'),
    }),
    defineAttribute('x509Certificates', 'complex', 'A list of certificates issued to the User.', {
      multiValued: true,
      subAttributes: multiValuedSubAttributes('binary', [], 'The value of an X.509 certificate.'),
    }),
  ],
}
