/**
 * How a transformation's payload object becomes the bytes of a request, for the formats a
 * transformation may pick besides JSON. Both are the conventions receivers parse out of the box:
 *
 * - form data (`application/x-www-form-urlencoded`, also a GET's query string): nested objects
 *   and arrays flatten to bracketed keys, `a[b]=1&a[c][0]=x`, as PHP, Rails and the `qs` package
 *   read them; null is an empty value; the pairs go in the object's own order.
 * - XML (`application/xml`): an object whose only member holds an object is that
 *   element (`{ order: {...} }` is `<order>...</order>`); any other object goes inside `<payload>`.
 *   Each member is an element named by its key, an array repeats its element once per item, null
 *   is an empty element, and text is escaped. A key that cannot be an XML element name is refused
 *   rather than renamed, so what the receiver reads is always what the code wrote.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Form pairs of a payload object, flattened with bracketed keys. */
export function formPairs(payload: { [key: string]: Json }): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const walk = (prefix: string, value: Json) => {
    if (value === null) pairs.push([prefix, '']);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(`${prefix}[${i}]`, item));
    else if (typeof value === 'object') for (const [key, member] of Object.entries(value)) walk(`${prefix}[${key}]`, member);
    else pairs.push([prefix, String(value)]);
  };
  for (const [key, value] of Object.entries(payload)) walk(key, value);
  return pairs;
}

/** `application/x-www-form-urlencoded` text of a payload object (WHATWG URLSearchParams encoding). */
export function toFormData(payload: { [key: string]: Json }): string {
  return new URLSearchParams(formPairs(payload)).toString();
}

/** The URL with the payload's pairs added to its query (a GET carries its payload there). */
export function withQuery(url: string, payload: { [key: string]: Json }): string {
  const target = new URL(url);
  for (const [key, value] of formPairs(payload)) target.searchParams.append(key, value);
  return target.toString();
}

// XML 1.0's Name production (fifth edition) without the colon, which namespaces give a meaning:
// letters of any script, then also digits, `-`, `.` and combining marks; `xml` as a prefix is reserved.
const NAME_START = 'A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_START}0-9.\\-\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`, 'u');
// Characters XML 1.0 cannot carry at all, even escaped.
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** Thrown for a payload that has no faithful XML form; the message names the member. */
export class XmlShapeError extends Error {}

const escapeText = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** The XML document of a payload object; throws XmlShapeError for a key or text XML cannot hold. */
export function toXml(payload: { [key: string]: Json }): string {
  const keys = Object.keys(payload);
  const only = keys.length === 1 ? payload[keys[0]!] : undefined;
  const [root, body] = only !== null && typeof only === 'object' && !Array.isArray(only) ? [keys[0]!, only] : ['payload', payload];
  return `<?xml version="1.0" encoding="UTF-8"?>${element(root, body, root)}`;
}

function element(name: string, value: Json, path: string): string {
  if (!XML_NAME.test(name) || name.toLowerCase().startsWith('xml')) {
    throw new XmlShapeError(`${path}: "${name}" cannot be an XML element name`);
  }
  if (Array.isArray(value)) return value.map((item, i) => element(name, item, `${path}[${i}]`)).join('');
  if (value === null) return `<${name}/>`;
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value).map(([key, member]) => element(key, member, `${path}.${key}`)).join('')}</${name}>`;
  }
  const text = String(value);
  if (NOT_XML_CHAR.test(text)) throw new XmlShapeError(`${path}: holds a control character XML cannot carry`);
  return `<${name}>${escapeText(text)}</${name}>`;
}
