// The peer of authgate's token benchmarks: npm oidc-provider, everything in memory, listening
// on 127.0.0.1 only.
//
// * Client credentials: one service client (client_secret_basic) whose access tokens are JWTs
//   signed with Ed25519 (EdDSA), the same format authgate issues.
// * Authorization codes and userinfo: one confidential web app (client_secret_basic,
//   authorization_code and refresh_token, PKCE S256 required, RS256 ID tokens) configured as
//   authgate's registered apps are, and one person with the claims authgate releases.
//   POST /_bench/codes?count=N mints N authorization codes inside this process (one Grant and
//   one AuthorizationCode each, as after a sign-in and consent) and answers "code verifier"
//   lines; GET /_bench/app answers the app's client id, secret and redirect URI. These two
//   routes exist only for the benchmark.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… node bench/oidc_provider_server.mjs
import {
  createHash, generateKeyPairSync, randomBytes, randomUUID,
} from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PORT);
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
if (!port || !clientId || !clientSecret) {
  console.error('set PORT, CLIENT_ID and CLIENT_SECRET');
  process.exit(2);
}

// Client credentials issue tokens for a resource server (RFC 8707); the default resource
// makes every request name this one, and its settings make the token a signed JWT.
const RESOURCE = 'https://api.bench.invalid/';
const resourceServer = {
  scope: 'api',
  audience: 'authgate-bench',
  accessTokenTTL: 900,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'EdDSA' } },
};

const { privateKey } = generateKeyPairSync('ed25519');
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-ed25519', use: 'sig' };
// ID tokens of the web app are RS256 (oidc-provider's default, and authgate's for registered
// apps): a 2048-bit key, as authgate generates.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const rsaKey = { ...rsa.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };

const SCOPE = 'openid profile email offline_access';
const app = {
  client_id: 'bench-web-app',
  client_secret: randomBytes(32).toString('base64url'),
  redirect_uri: 'https://app.bench.invalid/callback',
};
const person = {
  sub: 'bench-person',
  name: 'Bench Person',
  preferred_username: 'person@bench.authgate.test',
  email: 'person@bench.authgate.test',
  email_verified: true,
};

// The in-memory adapter, with room for every code and token of a run: the default store
// keeps about 1,000 entries and would drop codes minted before the run.
const store = new LRU({ maxSize: 10_000_000 });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: app.client_id,
      client_secret: app.client_secret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [app.redirect_uri],
      scope: SCOPE,
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      require_auth_time: true,
    },
  ],
  jwks: { keys: [signingKey, rsaKey] },
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // authgate's claims per scope, in the ID token and at userinfo alike, and the claims its
  // ID tokens carry besides.
  claims: {
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  acrValues: ['urn:bench:acr:password'],
  findAccount: (_ctx, sub) => (sub === person.sub
    ? { accountId: sub, claims: () => ({ ...person }) }
    : undefined),
  pkce: { required: () => true },
  ttl: {
    ClientCredentials: resourceServer.accessTokenTTL,
    AccessToken: 900,
    AuthorizationCode: 60,
    Grant: 30 * 86400,
    IdToken: 900,
    RefreshToken: 30 * 86400,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new errors.InvalidTarget();
        return resourceServer;
      },
    },
  },
});

// What a sign-in and consent would leave behind: a Grant of the app's scopes and a code bound
// to the redirect URI and an S256 challenge of a fresh verifier.
async function mintCodes(count) {
  const client = await provider.Client.find(app.client_id);
  const authTime = Math.floor(Date.now() / 1000);
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    // One Grant per code, as if each came from its own sign-in: the in-memory adapter keeps a
    // grant's tokens in one Map and scans it on every save, so a shared Grant would slow the
    // peer down code after code (a production adapter does not).
    const grant = new provider.Grant({ accountId: person.sub, clientId: app.client_id });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const verifier = randomBytes(32).toString('base64url');
    const code = new provider.AuthorizationCode({
      accountId: person.sub,
      grantId,
      client,
      redirectUri: app.redirect_uri,
      scope: SCOPE,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      authTime,
      acr: 'urn:bench:acr:password',
      amr: ['pwd'],
      sid: randomUUID(),
      // What the authorization endpoint asks of the ID token for this client (require_auth_time)
      // and what authgate's ID tokens carry besides (acr, amr).
      claims: { id_token: { auth_time: { essential: true }, acr: null, amr: null } },
      nonce: randomBytes(16).toString('base64url'),
      expiresWithSession: false,
    });
    lines.push(`${await code.save()} ${verifier}`);
  }
  return lines;
}

async function benchRoute(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/_bench/app') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...app, scope: SCOPE, sub: person.sub }));
    return;
  }
  const count = Number(url.searchParams.get('count'));
  if (req.method !== 'POST' || url.pathname !== '/_bench/codes' || !(count > 0 && count <= 1e6)) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('POST /_bench/codes?count=N (1 to 1,000,000) or GET /_bench/app\n');
    return;
  }
  const lines = await mintCodes(Math.floor(count));
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${lines.join('\n')}\n`);
}

const handle = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/_bench/')) {
    benchRoute(req, res).catch((error) => {
      console.error(error);
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${error}\n`);
    });
  } else {
    handle(req, res);
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
