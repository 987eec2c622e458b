// Software statements (RFC 7591 §2.3) for `--software-statement`: a registration must bring a
// JWT signed by the test "directory" (one RSA and one P-256 key, made fresh for each run, their
// private keys in the ready line), issued by DIRECTORY_ISSUER, with a software_id, not expired.
// A statement that fails is refused with invalid_software_statement, one that is missing with
// invalid_client_metadata, as RFC 7591 §3.2.2 says.
import crypto from 'node:crypto';

export const DIRECTORY_ISSUER = 'tokendesk-test-directory';

/** The directory's key pairs: `{ rsa, ec }`, each `{ publicKey, privatePem }`. */
export function directoryKeys() {
  const pair = (type) => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync(type, {
      ...(type === 'ec' ? { namedCurve: 'P-256' } : { modulusLength: 2048 }),
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { publicKey: crypto.createPublicKey(publicKey), privatePem: privateKey };
  };
  return { rsa: pair('rsa'), ec: pair('ec') };
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/**
 * Verifies `jwt` against the directory's keys (synchronously: oidc-provider's
 * extraClientMetadata.validator must be). Returns its claims, or throws `refuse(description)`.
 */
export function verifyStatement(jwt, keys, refuse) {
  const parts = typeof jwt === 'string' ? jwt.split('.') : [];
  if (parts.length !== 3) throw refuse('software_statement is not a signed JWT (compact JWS)');
  let header;
  let claims;
  try {
    header = b64json(parts[0]);
    claims = b64json(parts[1]);
  } catch {
    throw refuse('software_statement: its header or claims are not base64url JSON');
  }
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const verifiers = {
    RS256: () => crypto.verify('sha256', data, keys.rsa.publicKey, signature),
    PS256: () => crypto.verify('sha256', data, {
      key: keys.rsa.publicKey,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }, signature),
    ES256: () => crypto.verify('sha256', data, { key: keys.ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature),
  };
  const verify = verifiers[header.alg];
  if (!verify) throw refuse(`software_statement: alg ${JSON.stringify(header.alg)} is not accepted (RS256, PS256, ES256)`);
  if (!verify()) throw refuse('software_statement: the signature does not verify with the directory\'s keys');
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== DIRECTORY_ISSUER) throw refuse(`software_statement: iss ${JSON.stringify(claims.iss)} is not a trusted directory`);
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) throw refuse('software_statement: iat is missing or in the future');
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= now)) throw refuse('software_statement: expired');
  if (typeof claims.software_id !== 'string' || !claims.software_id) throw refuse('software_statement: no software_id');
  return claims;
}

/**
 * oidc-provider's `extraClientMetadata` for `--software-statement`: on registration, the
 * statement is required and verified, and its software_id is kept in the client's metadata.
 */
export function softwareStatementMetadata(keys, errors) {
  return {
    properties: ['software_statement', 'software_id'],
    validator(ctx, key, value, metadata) {
      if (key !== 'software_statement' || ctx?.oidc?.route !== 'registration') return;
      if (value === undefined) {
        throw new errors.InvalidClientMetadata('this server registers only clients with a software_statement');
      }
      const claims = verifyStatement(value, keys, (d) => new errors.InvalidSoftwareStatement(d));
      // RFC 7591 §2.3: the statement's values take precedence.
      metadata.software_id = claims.software_id;
    },
  };
}
