// A real OpenID provider standing in for an organization's IdP in authgate's SSO tests:
// npm oidc-provider, configured "Entra-like" or "Okta-like", on an ephemeral port of 127.0.0.1.
//
//   IDP_FLAVOUR=entra|okta IDP_CLIENTS='[{client_id, client_secret?, redirect_uris, …}]'
//   [IDP_TENANTS='{"<tenant id>": ["domain", …]}'] node tests/peers/oidc_idp.mjs
//
// Okta-like: one authorization server at /oauth2/default (issuer http://127.0.0.1:<port>/
// oauth2/default) whose ID tokens carry email and email_verified, and a second one at
// /oauth2/other with the same signing keys but another issuer.
//
// Entra-like: one issuer per tenant at /<tenant id>/v2.0, ID tokens with tid and oid (sub is
// the login within its tenant, so two tenants may share a sub), no email_verified; every
// tenant signs with the same keys, as Entra ID does. The multi-tenant "organizations"
// metadata (/organizations/v2.0/.well-known/openid-configuration) has the issuer template
// http://127.0.0.1:<port>/{tenantid}/v2.0; its authorize endpoint sends the browser to the
// tenant of the login_hint's domain, and its token endpoint forwards to the tenant that
// issued the code.
//
// Standard output: `listening <url>`. Test hooks:
//   POST /_test/accounts {issuer, login, claims}   add an account to one issuer
//   POST /_test/rotate-keys                        sign with a new key (the old one stays published)
//   POST /_test/sign {issuer, claims, header?}      a JWS over any claims with the current key
//   GET  /_test/outcomes                            token grants, errors, JWKS fetches per issuer
//   GET  /_test/issued                              every code and token issued (canary checks)
import { generateKeyPairSync, randomBytes, randomUUID, createSign } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const flavour = process.env.IDP_FLAVOUR || 'okta';
const clients = JSON.parse(process.env.IDP_CLIENTS || '[]');
const tenantDomains = JSON.parse(process.env.IDP_TENANTS || '{}');
if (!['entra', 'okta'].includes(flavour) || !clients.length) {
  console.error('set IDP_FLAVOUR to entra or okta and IDP_CLIENTS to a JSON array of clients');
  process.exit(2);
}

const outcomes = { grants: {}, errors: {}, jwks: {} };
const count = (table, key) => { table[key] = (table[key] || 0) + 1; };
const issued = [];
const accounts = new Map(); // `${issuer}\n${login}` -> claims
const codeIssuer = new Map(); // authorization code -> issuer (for the organizations endpoint)
let keys = [];
let providers = new Map(); // mount path -> Provider
const handlers = new WeakMap(); // Provider -> its request handler
const server = createServer();

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function b64url(value) {
  return Buffer.from(value).toString('base64url');
}

function mounts() {
  if (flavour === 'okta') return ['/oauth2/default', '/oauth2/other'];
  return Object.keys(tenantDomains).map((tid) => `/${tid}/v2.0`);
}

function build(base) {
  const built = new Map();
  for (const mount of mounts()) {
    const issuer = `${base}${mount}`;
    const tid = flavour === 'entra' ? mount.split('/')[1] : undefined;
    const provider = new Provider(issuer, {
      clients,
      jwks: { keys },
      scopes: ['openid', 'email', 'profile', 'offline_access'],
      claims: flavour === 'entra'
        ? { openid: ['sub', 'tid', 'oid'], email: ['email'], profile: ['name', 'preferred_username'] }
        : { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
      conformIdTokenClaims: false,
      cookies: {
        keys: ['authgate-test-idp-cookie-key'],
        names: { session: `_s${built.size}`, interaction: `_i${built.size}`, resume: `_r${built.size}` },
      },
      pkce: { required: () => false },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Grant: 3600, Session: 3600 },
      async findAccount(_ctx, sub) {
        const claims = accounts.get(`${issuer}\n${sub}`);
        if (!claims) return undefined;
        return {
          accountId: sub,
          async claims() {
            return { ...claims, sub, ...(tid ? { tid } : {}) };
          },
        };
      },
    });
    provider.on('authorization_code.saved', (code) => {
      issued.push(code.jti);
      codeIssuer.set(code.jti, issuer);
    });
    provider.on('access_token.saved', (token) => issued.push(token.jti));
    provider.on('grant.success', (ctx) => count(outcomes.grants, ctx.oidc.params.grant_type));
    provider.on('grant.error', (_ctx, error) => count(outcomes.errors, error.error));
    handlers.set(provider, provider.callback());
    built.set(mount, provider);
  }
  return built;
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function publicJwks() {
  return {
    keys: keys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use })),
  };
}

function sign(claims, header) {
  const [key] = keys;
  const protectedHeader = { alg: 'RS256', kid: key.kid, typ: 'JWT', ...(header || {}) };
  const input = `${b64url(JSON.stringify(protectedHeader))}.${b64url(JSON.stringify(claims))}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  const { kty, n, e, d, p, q, dp, dq, qi } = key;
  const signature = signer.sign({ key: { kty, n, e, d, p, q, dp, dq, qi }, format: 'jwk' });
  return `${input}.${signature.toString('base64url')}`;
}

async function organizations(req, res, base, path, query) {
  const template = `${base}/{tenantid}/v2.0`;
  if (path === '/organizations/v2.0/.well-known/openid-configuration') {
    json(res, 200, {
      issuer: template,
      authorization_endpoint: `${base}/organizations/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/organizations/oauth2/v2.0/token`,
      jwks_uri: `${base}/organizations/discovery/v2.0/keys`,
      response_types_supported: ['code'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile', 'offline_access'],
      code_challenge_methods_supported: ['S256'],
    });
    return true;
  }
  if (path === '/organizations/discovery/v2.0/keys') {
    count(outcomes.jwks, template);
    json(res, 200, publicJwks());
    return true;
  }
  if (path === '/organizations/oauth2/v2.0/authorize') {
    const hint = (query.get('login_hint') || '').split('@')[1] || '';
    const tid = Object.keys(tenantDomains).find((t) => tenantDomains[t].includes(hint))
      || Object.keys(tenantDomains)[0];
    res.writeHead(302, { location: `${base}/${tid}/v2.0/auth?${query}` });
    res.end();
    return true;
  }
  if (path === '/organizations/oauth2/v2.0/token' && req.method === 'POST') {
    const body = await readBody(req);
    const code = new URLSearchParams(body).get('code') || '';
    const issuer = codeIssuer.get(code) || `${base}/${Object.keys(tenantDomains)[0]}/v2.0`;
    const headers = { 'content-type': req.headers['content-type'] || '' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const answer = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') || '' });
    res.end(await answer.text());
    return true;
  }
  return false;
}

server.listen(0, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  keys = [newKey()];
  providers = build(base);

  server.on('request', async (req, res) => {
    const url = new URL(req.url, base);
    const path = url.pathname;
    try {
      if (path === '/_test/accounts' && req.method === 'POST') {
        const { issuer, login, claims } = JSON.parse(await readBody(req));
        accounts.set(`${issuer}\n${login}`, claims);
        json(res, 200, { ok: true });
        return;
      }
      if (path === '/_test/rotate-keys' && req.method === 'POST') {
        keys = [newKey(), ...keys];
        providers = build(base);
        json(res, 200, { kid: keys[0].kid });
        return;
      }
      if (path === '/_test/sign' && req.method === 'POST') {
        const { claims, header } = JSON.parse(await readBody(req));
        json(res, 200, { token: sign(claims, header) });
        return;
      }
      if (path === '/_test/outcomes') {
        json(res, 200, outcomes);
        return;
      }
      if (path === '/_test/issued') {
        json(res, 200, { issued });
        return;
      }
      if (flavour === 'entra' && await organizations(req, res, base, path, url.searchParams)) {
        return;
      }
      for (const [mount, provider] of providers) {
        if (path === mount || path.startsWith(`${mount}/`)) {
          if (path === `${mount}/jwks`) count(outcomes.jwks, `${base}${mount}`);
          req.originalUrl = req.url;
          req.url = req.url.slice(mount.length) || '/';
          handlers.get(provider)(req, res);
          return;
        }
      }
      json(res, 404, { error: 'not_found' });
    } catch (error) {
      json(res, 500, { error: 'server_error', error_description: String(error) });
    }
  });
  console.log(`listening ${base}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    // Keep-alive connections of clients (authgate's egress pool) must not hold up the exit.
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
