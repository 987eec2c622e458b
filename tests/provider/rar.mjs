// Rich Authorization Requests (RFC 9396) for the test provider: two types with validation,
// payment_initiation and account_information, and a grant policy that narrows what it must —
// so tests can see the granted details differ from the requested ones:
//   * payment_initiation: instructedAmount.amount above 100.00 is granted as 100.00;
//   * account_information: only the actions list_accounts and read_balances are granted; a
//     detail left with none is dropped.
// Clients may use only the types in their `authorization_details_types` (RAR_TYPES below).

export const RAR_TYPES = ['payment_initiation', 'account_information'];
const ACCOUNT_ACTIONS = ['list_accounts', 'read_balances', 'read_transactions'];
const GRANTED_ACCOUNT_ACTIONS = ['list_accounts', 'read_balances'];
const PAYMENT_LIMIT = 100;


function validatePayment(invalid, detail) {
  const amount = detail.instructedAmount;
  if (!amount || typeof amount !== 'object') throw invalid('payment_initiation needs instructedAmount {currency, amount}');
  if (!/^[A-Z]{3}$/.test(amount.currency ?? '')) throw invalid('instructedAmount.currency must be an ISO 4217 code');
  if (!/^\d+(\.\d{1,2})?$/.test(String(amount.amount ?? ''))) throw invalid('instructedAmount.amount must be a decimal amount such as 12.34');
  if (detail.creditorAccount !== undefined && !/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(detail.creditorAccount?.iban ?? '')) {
    throw invalid('creditorAccount.iban is not an IBAN');
  }
}

function validateAccounts(invalid, detail) {
  if (!Array.isArray(detail.actions) || !detail.actions.length) throw invalid('account_information needs actions');
  const unknown = detail.actions.filter((a) => !ACCOUNT_ACTIONS.includes(a));
  if (unknown.length) throw invalid(`unknown account_information actions: ${unknown.join(', ')}`);
}

/** The server's policy: what of the requested details a token gets. */
export function grantedDetails(details) {
  if (!Array.isArray(details)) return undefined;
  const out = [];
  for (const d of details) {
    if (d.type === 'payment_initiation') {
      const amount = Number(d.instructedAmount?.amount);
      out.push(amount > PAYMENT_LIMIT
        ? { ...d, instructedAmount: { ...d.instructedAmount, amount: PAYMENT_LIMIT.toFixed(2) } }
        : d);
    } else if (d.type === 'account_information') {
      const actions = (d.actions ?? []).filter((a) => GRANTED_ACCOUNT_ACTIONS.includes(a));
      if (actions.length) out.push({ ...d, actions });
    } else {
      out.push(d);
    }
  }
  return out.length ? out : undefined;
}

const parse = (s) => {
  try { return JSON.parse(s); } catch { return undefined; }
};

/** features.richAuthorizationRequests; `errors` is oidc-provider's (imported by server.mjs). */
export function rarFeature(errors) {
  const invalid = (message) => new errors.InvalidAuthorizationDetails(message);
  return {
    enabled: true,
    types: {
      payment_initiation: { validate: (ctx, detail) => validatePayment(invalid, detail) },
      account_information: { validate: (ctx, detail) => validateAccounts(invalid, detail) },
    },
    // What a code (or device code) remembers: the details requested at authorization.
    authorizationDetailsForGrantSource(ctx) {
      return parse(ctx.oidc.params.authorization_details);
    },
    // What a token gets: the policy applied to the grant source's details (code, CIBA request,
    // refresh token), or to those of the token request (client credentials).
    authorizationDetailsForAccessToken(ctx, token, source) {
      const details = source?.rar ?? parse(ctx.oidc.params.authorization_details);
      return grantedDetails(details);
    },
    authorizationDetailsForIntrospection(ctx, token) {
      return token.rar;
    },
  };
}
