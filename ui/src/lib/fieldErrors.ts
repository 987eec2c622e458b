// Maps the core's field errors (`name`, `endpoints.token`, `scopes[0]`, `headers[1]`) to the
// form controls that show them inline.

import type { FieldError } from './bindings/FieldError';

/**
 * The form control a field error belongs to: list items of scalar lists (`scopes[2]`) go to the
 * list's one input, rows of name/value lists (`headers[1]`, `headers[1].name`) to their row.
 */
export function fieldKey(field: string): string {
  const scalar = /^(scopes)\[\d+\]/.exec(field);
  if (scalar) return scalar[1];
  const row = /^([a-z_]+\[\d+\])(\.|$)/.exec(field);
  if (row) return row[1];
  return field;
}

export interface PlacedErrors {
  /** Messages per control key, several joined in order. */
  byField: Record<string, string>;
  /** Errors no control on the form shows; displayed above the form so none is lost. */
  other: FieldError[];
}

/**
 * Groups field errors by control. `known` says whether the form has a control for a key;
 * errors for unknown keys are kept in `other`.
 */
export function placeFieldErrors(
  fields: readonly FieldError[],
  known: (key: string) => boolean = () => true,
): PlacedErrors {
  const byField: Record<string, string> = {};
  const other: FieldError[] = [];
  for (const f of fields) {
    const key = fieldKey(f.field);
    if (!known(key)) {
      other.push(f);
      continue;
    }
    byField[key] = byField[key] ? `${byField[key]} ${f.message}` : f.message;
  }
  return { byField, other };
}
