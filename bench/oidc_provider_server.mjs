// The peer of authgate's client-credentials benchmark: npm oidc-provider with one service
// client (client_secret_basic) whose access tokens are JWTs signed with Ed25519 (EdDSA), the
// same format authgate issues. Everything is in memory; it listens on 127.0.0.1 only.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… node bench/oidc_provider_server.mjs
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

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

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: { ClientCredentials: resourceServer.accessTokenTTL },
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

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
