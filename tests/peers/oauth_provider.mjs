// A real OAuth 2.0 provider for authgate's connection tests: npm oidc-provider with one
// confidential client (authorization_code + refresh_token, PKCE, offline_access), rotating
// refresh tokens, short-lived opaque access tokens, token introspection (RFC 7662) and
// revocation (RFC 7009), and its development login and consent pages. Everything is in
// memory; it listens on an ephemeral port of 127.0.0.1 only.
//
//   CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… [ACCESS_TOKEN_TTL=60]
//   [TOKEN_AUTH=client_secret_basic|client_secret_post] node tests/peers/oauth_provider.mjs
//
// Standard output: `listening <url>`. Test hooks beside the provider's endpoints:
// GET /_test/outcomes counts the token requests per grant type and the errors refused;
// GET /_test/issued lists every code and token issued, for the tests' canary checks;
// POST /_test/revoke-grants revokes every grant, as a user removing the app's access would.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const accessTokenTTL = Number(process.env.ACCESS_TOKEN_TTL || 60);
const tokenAuth = process.env.TOKEN_AUTH || 'client_secret_basic';
if (!CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI) {
  console.error('set CLIENT_ID, CLIENT_SECRET and REDIRECT_URI');
  process.exit(2);
}

const outcomes = { grants: {}, errors: {} };
const count = (table, key) => { table[key] = (table[key] || 0) + 1; };
const grants = new Set();
const issued = [];
const server = createServer();

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: tokenAuth,
      },
    ],
    scopes: ['openid', 'offline_access', 'crm.read'],
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: { AccessToken: accessTokenTTL, RefreshToken: 24 * 3600, Grant: 24 * 3600 },
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
    },
  });
  provider.on('grant.saved', (grant) => grants.add(grant.jti));
  // Opaque codes and tokens are their jti.
  for (const kind of ['authorization_code', 'access_token', 'refresh_token']) {
    provider.on(`${kind}.saved`, (token) => issued.push(token.jti));
  }
  provider.on('grant.success', (ctx) => count(outcomes.grants, ctx.oidc.params.grant_type));
  provider.on('grant.error', (_ctx, error) => count(outcomes.errors, error.error));

  const handle = provider.callback();
  server.on('request', async (req, res) => {
    if (req.method === 'POST' && req.url === '/_test/revoke-grants') {
      for (const id of grants) {
        await Promise.all([
          provider.AccessToken.revokeByGrantId(id),
          provider.RefreshToken.revokeByGrantId(id),
          provider.Grant.adapter.destroy(id),
        ]);
      }
      const revoked = grants.size;
      grants.clear();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ revoked }));
      return;
    }
    if (req.method === 'GET' && ['/_test/issued', '/_test/outcomes'].includes(req.url)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/_test/issued' ? { issued } : outcomes));
      return;
    }
    handle(req, res);
  });
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
