import type { Difference } from './bindings/Difference';

// Rich Authorization Requests (RFC 9396) in the form: the same rules tokendesk-core checks
// (flow/rar.rs) — a JSON array of objects, each with a non-empty string "type" — and the
// templates it offers, so the editor can say what is wrong before anything is saved.

export const RAR_TEMPLATES: Record<string, object> = {
  payment_initiation: {
    type: 'payment_initiation',
    actions: ['initiate', 'status', 'cancel'],
    locations: [],
    instructedAmount: { currency: 'EUR', amount: '12.34' },
    creditorName: 'Merchant A',
    creditorAccount: { iban: 'DE02100100109307118603' },
    remittanceInformationUnstructured: 'Ref Number Merchant',
  },
  account_information: {
    type: 'account_information',
    actions: ['list_accounts', 'read_balances', 'read_transactions'],
    locations: [],
  },
};

/** A detail of a type: the template for the open-banking types, else `{"type": …}`. */
export function templateFor(type: string): object {
  return RAR_TEMPLATES[type] ?? { type };
}

export interface DetailsCheck {
  /** What is wrong, or null when the text is valid (or empty). */
  error: string | null;
  /** The types asked for, in order. */
  types: string[];
}

const ARRAY_FIELDS = ['locations', 'actions', 'datatypes', 'privileges'];

export function checkDetails(text: string): DetailsCheck {
  if (text.trim() === '') return { error: null, types: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `The authorization details are not JSON (${(e as Error).message}).`, types: [] };
  }
  if (!Array.isArray(value))
    return { error: 'The authorization details are a JSON array of objects: [{"type": "…", …}].', types: [] };
  const types: string[] = [];
  for (const [i, item] of value.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return { error: `Authorization detail ${i + 1} is not a JSON object.`, types };
    const t = (item as Record<string, unknown>).type;
    if (t === undefined) return { error: `Authorization detail ${i + 1} has no "type" (RFC 9396 §2 requires one).`, types };
    if (typeof t !== 'string' || t.trim() === '')
      return { error: `Authorization detail ${i + 1}'s "type" is not a non-empty string.`, types };
    for (const f of ARRAY_FIELDS) {
      const v = (item as Record<string, unknown>)[f];
      if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '')))
        return { error: `Authorization detail ${i + 1}'s "${f}" is an array of strings (RFC 9396 §2.2).`, types };
    }
    types.push(t);
  }
  return { error: null, types };
}

/** The text with one more detail of `type` appended (a new array when the text is empty). */
export function addDetail(text: string, type: string): string {
  let list: unknown[] = [];
  if (text.trim() !== '') {
    try {
      const v = JSON.parse(text);
      if (Array.isArray(v)) list = v;
      else return text;
    } catch {
      return text;
    }
  }
  return JSON.stringify([...list, templateFor(type)], null, 2);
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** For people, as the core and the command line say it. */
export function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'dropped_type':
      return `${d.detail_type}: asked for, not granted (dropped)`;
    case 'added_type':
      return `${d.detail_type}: granted, but not asked for`;
    case 'changed':
      return `${d.detail_type}: ${d.path} asked ${show(d.requested)}, granted ${show(d.granted)}`;
    case 'missing':
      return `${d.detail_type}: ${d.path} asked for, missing from the grant`;
    case 'none_granted':
      return 'the provider sent no authorization_details back: what it granted is not said';
  }
}
