// Generated from tokendesk-core's grant registry (flow/mod.rs). Do not edit.
import type { GrantInfo } from './GrantInfo';

export const GRANTS: GrantInfo[] = [
  {
    "kind": "authorization_code",
    "label": "authorization code",
    "summary": "A user signs in in the browser (PKCE); refreshed with the refresh token.",
    "interactive": true,
    "sign_in": "browser",
    "signs": false
  },
  {
    "kind": "client_credentials",
    "label": "client credentials",
    "summary": "Machine to machine: the client's own credentials buy the token.",
    "interactive": false,
    "sign_in": "none",
    "signs": false
  },
  {
    "kind": "jwt_bearer",
    "label": "JWT bearer",
    "summary": "The client signs an assertion (RFC 7523): PSD2 payment exemptions, service accounts.",
    "interactive": false,
    "sign_in": "none",
    "signs": true
  },
  {
    "kind": "token_exchange",
    "label": "token exchange",
    "summary": "Trades another profile's access or ID token for one of this client (RFC 8693).",
    "interactive": false,
    "sign_in": "none",
    "signs": false
  },
  {
    "kind": "device_code",
    "label": "device code",
    "summary": "A user approves on another device with a code shown here (RFC 8628): no browser on this machine (SSH, a kiosk, a TV).",
    "interactive": true,
    "sign_in": "device",
    "signs": false
  },
  {
    "kind": "ciba",
    "label": "CIBA (decoupled)",
    "summary": "The user approves on their own device (the bank's app on a phone) a request this client sends for them (OpenID CIBA): poll or ping.",
    "interactive": true,
    "sign_in": "decoupled",
    "signs": false
  }
];
