// Signs OAuth 1.0a requests with the npm package oauth-1.0a, for the authgate tests.
//
// Reads one JSON object on stdin: {"requests": [request, …]}, each request
//   {method, url, consumer_key, consumer_secret | private_key_pem, signature_method
//    ("HMAC-SHA1" | "HMAC-SHA256" | "RSA-SHA1"), placement ("header" | "query" | "body"),
//    form: {name: value} (form-encoded body parameters, optional),
//    body: "raw non-form body" (signed with oauth_body_hash, optional)}
// and prints {"signed": [{url, authorization, body}, …]}: what to send, exactly as the
// package produced it.
import crypto from 'node:crypto';
import OAuth from 'oauth-1.0a';

const HASHES = { 'HMAC-SHA1': 'sha1', 'HMAC-SHA256': 'sha256', 'RSA-SHA1': 'sha1' };

function signer(request) {
  const method = request.signature_method;
  const digest = HASHES[method];
  if (!digest) throw new Error(`unsupported signature method ${method}`);
  const hash_function = method === 'RSA-SHA1'
    ? (base) => crypto.createSign('RSA-SHA1').update(base).sign(request.private_key_pem, 'base64')
    : (base, key) => crypto.createHmac(digest, key).update(base).digest('base64');
  return OAuth({
    consumer: { key: request.consumer_key, secret: request.consumer_secret || '' },
    signature_method: method,
    hash_function,
    // The body hash extension: the digest of the raw body, never keyed.
    body_hash_function: (body) => crypto.createHash(digest).update(body).digest('base64'),
  });
}

function sign(request) {
  const oauth = signer(request);
  const hasBody = typeof request.body === 'string';
  const encode = (pairs) => Object.entries(pairs)
    .map(([k, v]) => `${oauth.percentEncode(k)}=${oauth.percentEncode(v)}`).join('&');
  // Encoded before signing: the package merges the URL's query into the data it is given.
  const body = hasBody ? request.body : encode(request.form || {});
  const data = hasBody ? request.body : { ...(request.form || {}) };
  const authorized = oauth.authorize({
    url: request.url, method: request.method, data, includeBodyHash: hasBody,
  });
  // ...and the request's parameters into the protocol ones it returns: keep only oauth_*.
  const protocol = Object.fromEntries(
    Object.entries(authorized).filter(([k]) => k.startsWith('oauth_')));
  const out = { url: request.url, authorization: null, body };
  if (request.placement === 'query') {
    out.url += (request.url.includes('?') ? '&' : '?') + encode(protocol);
  } else if (request.placement === 'body') {
    out.body = [out.body, encode(protocol)].filter(Boolean).join('&');
  } else {
    out.authorization = oauth.toHeader(protocol).Authorization;
  }
  return out;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { requests } = JSON.parse(input);
  process.stdout.write(JSON.stringify({ signed: requests.map(sign) }) + '\n');
});
