// A certified OpenID relying party (npm openid-client v6) driven by the authgate tests.
//
//   node tests/peers/openid_rp.mjs
//
// Reads JSON lines on stdin, one command each: {"id": n, "op": "...", ...arguments}, and
// answers each with one JSON line {"id": n, "ok": true, "result": …} or {"id": n, "ok":
// false, "error": {name, code, message, error, error_description, status, cause}}. Commands
// run concurrently (a device poll may wait while the person signs in), so answers may come
// out of order. The browser part of a flow (sign-in and consent pages) is played by the test.
//
// Every client ("rp", a name chosen by the test) is configured by `discover`; http issuers
// are accepted through allowInsecureRequests (the tests run on 127.0.0.1 only), and ID tokens
// from the token endpoint have their signatures checked against the JWKS
// (enableNonRepudiationChecks) besides openid-client's claim checks (iss, aud, azp, exp, iat,
// nonce, auth_time with max_age). openid-client does not check at_hash in the code flow, so
// this driver does, with the hash of the ID token's alg (OpenID Connect Core §3.1.3.6).
//
// Commands:
//   discover {rp, issuer, client_id, client_secret?, auth?, metadata?}  → server metadata
//     auth: client_secret_basic (default with a secret) | client_secret_post | none
//   authorization_url {rp, redirect_uri, scope, params?, par?}
//     → {url, state, nonce, code_verifier} (PKCE S256, fresh state and nonce; par: true
//       pushes the request first, RFC 9126)
//   code_grant {rp, callback_url, code_verifier, state, nonce, max_age?}
//     → {tokens, claims, at_hash_checked}
//   refresh {rp, refresh_token, params?} → {tokens, claims}
//   userinfo {rp, access_token, sub} → the UserInfo response
//   end_session_url {rp, params} → {url}
//   device_start {rp, scope} → the device authorization response
//   device_poll {rp, response} → {tokens, claims}
//   client_credentials {rp, scope?} → {tokens}
//   revoke {rp, token, hint?} → {}
//   introspect {rp, token} → the introspection response
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';

import * as client from 'openid-client';

const configs = new Map();
const HASHES = { RS256: 'sha256', ES256: 'sha256', PS256: 'sha256', EdDSA: 'sha512', Ed25519: 'sha512' };

function config(rp) {
  const found = configs.get(rp);
  if (!found) throw new Error(`no client named ${rp}: run discover first`);
  return found;
}

function authentication(auth, secret) {
  if (auth === 'none') return client.None();
  if (auth === 'client_secret_post') return client.ClientSecretPost(secret);
  if (auth === 'client_secret_basic' || auth === undefined) return client.ClientSecretBasic(secret);
  throw new Error(`unknown client authentication ${auth}`);
}

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

// OpenID Connect Core §3.1.3.8: at_hash is the left half of the access token's hash with the
// hash of the ID token's alg (SHA-512 for EdDSA over Ed25519).
function checkAtHash(tokens) {
  if (!tokens.id_token) return false;
  const header = decodeSegment(tokens.id_token.split('.')[0]);
  const claims = decodeSegment(tokens.id_token.split('.')[1]);
  if (claims.at_hash === undefined) return false;
  const digest = HASHES[header.alg];
  if (!digest) throw new Error(`no at_hash hash for alg ${header.alg}`);
  const full = createHash(digest).update(tokens.access_token, 'ascii').digest();
  const expected = full.subarray(0, full.length / 2).toString('base64url');
  if (claims.at_hash !== expected) {
    const error = new Error('the ID token at_hash does not match the access token');
    error.code = 'AT_HASH_MISMATCH';
    throw error;
  }
  return true;
}

function tokenResult(tokens) {
  const plain = Object.fromEntries(
    Object.entries(tokens).filter(([, value]) => typeof value !== 'function'),
  );
  return { tokens: plain, claims: tokens.id_token ? tokens.claims() : null };
}

const operations = {
  async discover({ rp, issuer, client_id, client_secret, auth, metadata }) {
    const configured = await client.discovery(
      new URL(issuer),
      client_id,
      { ...(metadata || {}), ...(client_secret ? { client_secret } : {}) },
      authentication(auth, client_secret),
      { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
    );
    configs.set(rp, configured);
    return configured.serverMetadata();
  },

  async authorization_url({ rp, redirect_uri, scope, params, par }) {
    const configured = config(rp);
    const code_verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parameters = {
      redirect_uri,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(params || {}),
    };
    const url = par
      ? await client.buildAuthorizationUrlWithPAR(configured, parameters)
      : client.buildAuthorizationUrl(configured, parameters);
    return { url: url.href, state, nonce, code_verifier };
  },

  async code_grant({ rp, callback_url, code_verifier, state, nonce, max_age }) {
    const tokens = await client.authorizationCodeGrant(config(rp), new URL(callback_url), {
      pkceCodeVerifier: code_verifier,
      expectedState: state,
      expectedNonce: nonce ?? undefined,
      idTokenExpected: true,
      ...(max_age !== undefined ? { maxAge: max_age } : {}),
    });
    const at_hash_checked = checkAtHash(tokens);
    return { ...tokenResult(tokens), at_hash_checked };
  },

  async refresh({ rp, refresh_token, params }) {
    const tokens = await client.refreshTokenGrant(config(rp), refresh_token, params || {});
    checkAtHash(tokens);
    return tokenResult(tokens);
  },

  async userinfo({ rp, access_token, sub }) {
    return client.fetchUserInfo(config(rp), access_token, sub);
  },

  async end_session_url({ rp, params }) {
    return { url: client.buildEndSessionUrl(config(rp), params || {}).href };
  },

  async device_start({ rp, scope }) {
    return client.initiateDeviceAuthorization(config(rp), scope ? { scope } : {});
  },

  async device_poll({ rp, response }) {
    const tokens = await client.pollDeviceAuthorizationGrant(config(rp), response);
    return tokenResult(tokens);
  },

  async client_credentials({ rp, scope }) {
    const tokens = await client.clientCredentialsGrant(config(rp), scope ? { scope } : {});
    return { tokens: tokenResult(tokens).tokens };
  },

  async revoke({ rp, token, hint }) {
    await client.tokenRevocation(config(rp), token, hint ? { token_type_hint: hint } : {});
    return {};
  },

  async introspect({ rp, token }) {
    return client.tokenIntrospection(config(rp), token);
  },
};

function describe(error) {
  const described = {
    name: error?.name ?? 'Error',
    code: error?.code ?? null,
    message: String(error?.message ?? error),
    error: error?.error ?? null,
    error_description: error?.error_description ?? null,
    status: error?.status ?? null,
  };
  if (Array.isArray(error?.cause)) {
    // A 401 with WWW-Authenticate: its challenges carry the OAuth error (RFC 6750 §3).
    described.challenges = error.cause;
    const first = error.cause.find((challenge) => challenge.parameters?.error);
    described.error ??= first?.parameters.error ?? null;
    described.error_description ??= first?.parameters.error_description ?? null;
    described.response = error.response;
  } else if (error?.cause) {
    // openid-client wraps the cause (a protocol error from oauth4webapi) in a ClientError.
    described.cause = describe(error.cause);
  }
  return described;
}

// The body of a 401 answered with a bare challenge (Basic realm="…") still names the
// OAuth error (RFC 6749 §5.2); openid-client stops at the challenge, so read it here.
async function withBody(described) {
  const { response, ...rest } = described;
  if (!response || response.bodyUsed || rest.error) return rest;
  try {
    const body = await response.json();
    return { ...rest, error: body.error ?? null, error_description: body.error_description ?? null };
  } catch {
    return rest;
  }
}

function answer(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    answer({ id: null, ok: false, error: describe(error) });
    return;
  }
  const { id, op, ...args } = command;
  const operation = operations[op];
  if (!operation) {
    answer({ id, ok: false, error: describe(new Error(`unknown op ${op}`)) });
    return;
  }
  operation(args).then(
    (result) => answer({ id, ok: true, result: result ?? null }),
    async (error) => answer({ id, ok: false, error: await withBody(describe(error)) }),
  );
});
answer({ id: 0, ok: true, result: 'ready' });
