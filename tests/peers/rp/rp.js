// A relying party (panva's openid-client, OpenID-certified) signing in through Twofold in Twofold's tests.
// Usage: node rp.js PORT. Settings from the environment:
//   RP_ISSUER                    Twofold's issuer (its public URL + /oauth): discovery, keys, endpoints
//   RP_CLIENT_ID, RP_CLIENT_SECRET  the registered application (client_secret_basic; no secret: public, PKCE only)
//   RP_POST_LOGOUT_REDIRECT_URI  where /logout asks Twofold to send the browser back to
// The redirect URI is http://127.0.0.1:PORT/callback. Routes (one session per browser, a cookie):
//   GET  /login[?acr=&max_age=&prompt=]  to the authorization endpoint: PKCE S256, state, nonce
//   GET  /callback                        the code exchanged; openid-client checks iss (RFC 9207), state,
//                                         PKCE, and the ID token (signature, iss, aud, exp, nonce, auth_time
//                                         against max_age); answers {claims, tokens} or {error, ...} (400)
//   POST /refresh[?refresh_token=]        a refresh grant (the session's latest token by default)
//   GET  /logout[?post_logout_redirect_uri=]  to the end-session endpoint, with id_token_hint
//   GET  /logged-out                      where the browser lands after the logout
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as client from 'openid-client';

const env = process.env;
const port = Number(process.argv[2] ?? env.PORT);
const origin = `http://127.0.0.1:${port}`;
const redirectUri = `${origin}/callback`;
const secret = env.RP_CLIENT_SECRET || undefined;
const config = await client.discovery(
  new URL(env.RP_ISSUER),
  env.RP_CLIENT_ID,
  secret,
  secret ? client.ClientSecretBasic(secret) : client.None(),
  { execute: [client.allowInsecureRequests] }, // the served Twofold is on http://127.0.0.1
);
// Verify the ID token's signature with the provider's keys too, not only trust the TLS-less channel.
client.enableNonRepudiationChecks(config);

const sessions = new Map(); // cookie value -> { pending: Map(state -> checks), tokens }

function session(req, res) {
  const found = /(?:^|;\s*)rp_session=([\w-]+)/.exec(req.headers.cookie ?? '');
  if (found && sessions.has(found[1])) return sessions.get(found[1]);
  const id = randomBytes(16).toString('base64url');
  const fresh = { pending: new Map(), tokens: undefined };
  sessions.set(id, fresh);
  res.setHeader('set-cookie', `rp_session=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return fresh;
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function redirect(res, url) {
  res.writeHead(302, { location: url.href }).end();
}

function failure(error) {
  return {
    error: error.error ?? error.code ?? error.name, // the provider's OAuth error, or openid-client's check
    error_description: error.error_description,
    name: error.name,
    code: error.code,
    message: error.message,
  };
}

function tokensOf(response) {
  const { access_token, refresh_token, id_token, token_type, expires_in, scope } = response;
  return { access_token, refresh_token, id_token, token_type, expires_in, scope };
}

async function login(req, res, url, current) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  const maxAge = url.searchParams.get('max_age');
  if (url.searchParams.get('acr')) parameters.acr_values = url.searchParams.get('acr');
  if (maxAge) parameters.max_age = maxAge;
  if (url.searchParams.get('prompt')) parameters.prompt = url.searchParams.get('prompt');
  current.pending.set(state, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    maxAge: maxAge ? Number(maxAge) : undefined,
  });
  redirect(res, client.buildAuthorizationUrl(config, parameters));
}

async function callback(req, res, url, current) {
  const checks = current.pending.get(url.searchParams.get('state'));
  if (!checks) return answer(res, 400, { error: 'unknown_state' }); // not started in this browser
  current.pending.delete(checks.expectedState);
  const tokens = await client.authorizationCodeGrant(config, new URL(req.url, origin), checks);
  current.tokens = tokens;
  answer(res, 200, { claims: tokens.claims(), tokens: tokensOf(tokens) });
}

async function refresh(req, res, url, current) {
  const token = url.searchParams.get('refresh_token') ?? current.tokens?.refresh_token;
  if (!token) return answer(res, 400, { error: 'no_refresh_token' });
  const tokens = await client.refreshTokenGrant(config, token);
  current.tokens = { ...current.tokens, ...tokens };
  answer(res, 200, { claims: tokens.claims() ?? null, tokens: tokensOf(tokens) });
}

function logout(req, res, url, current) {
  const parameters = {
    post_logout_redirect_uri:
      url.searchParams.get('post_logout_redirect_uri') ?? env.RP_POST_LOGOUT_REDIRECT_URI,
    state: client.randomState(),
  };
  if (current.tokens?.id_token) parameters.id_token_hint = current.tokens.id_token;
  redirect(res, client.buildEndSessionUrl(config, parameters));
}

const routes = {
  'GET /login': login,
  'GET /callback': callback,
  'POST /refresh': refresh,
  'GET /logout': logout,
  'GET /logged-out': (req, res, url) => answer(res, 200, { logged_out: true, state: url.searchParams.get('state') }),
  'GET /health': (req, res) => answer(res, 200, { ok: true }),
};

createServer((req, res) => {
  const url = new URL(req.url, origin);
  const route = routes[`${req.method} ${url.pathname}`];
  if (!route) return answer(res, 404, { error: 'not_found' });
  Promise.resolve(route(req, res, url, session(req, res))).catch((error) => {
    if (!res.headersSent) answer(res, 400, failure(error));
  });
}).listen(port, '127.0.0.1', () => console.log(`relying party ${origin} for ${env.RP_ISSUER} ready`));
