/** The fields of a PATCH body that were sent; `undefined` means "leave as is", `null` means "clear". */
export function sentFields<T extends object>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<T>;
}
