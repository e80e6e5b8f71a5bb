// An OpenID Connect provider (panva's oidc-provider) playing Google or Microsoft in Twofold's tests.
// Usage: node provider.js PORT   (or PORT=...). Settings from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI  the one confidential client (client_secret_basic)
//   OIDC_ISSUER_PATH  e.g. /<tenant>/v2.0: issuer http://127.0.0.1:PORT<path>, so two instances differ
//   OIDC_TID          a Microsoft-like `tid` claim in every ID token
//   OIDC_PUBLIC_ORIGIN  e.g. http://127.0.0.1:PROXYPORT: the issuer's origin when a proxy in front of
//                     this provider is its public address (tests/peers/forging_proxy.py)
// The login form at /interaction/:uid has no password: the test chooses email, sub, amr and acr.
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(process.argv[2] ?? env.PORT);
const prefix = (env.OIDC_ISSUER_PATH ?? '').replace(/\/$/, '');
const issuer = `${env.OIDC_PUBLIC_ORIGIN || `http://127.0.0.1:${port}`}${prefix}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
const accounts = new Map(); // sub -> email, filled by the login form

const provider = new Provider(issuer, {
  clients: [{
    client_id: env.OIDC_CLIENT_ID ?? 'twofold',
    client_secret: env.OIDC_CLIENT_SECRET ?? 'twofold-secret',
    redirect_uris: [env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [key] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
  acrValues: ['urn:test:pwd', 'urn:test:mfa', 'http://schemas.microsoft.com/claims/multipleauthn'],
  // Overriding `claims` drops the defaults: amr, acr and auth_time must be listed to reach the ID token.
  claims: {
    openid: ['sub', 'amr', 'acr', 'auth_time', 'tid', 'hd'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false, // email in the ID token, as Google and Microsoft do
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    const { email, hd } = account;
    const tid = env.OIDC_TID ? { tid: env.OIDC_TID } : {};
    const workspace = hd ? { hd } : {}; // Google's hosted domain of a Workspace account
    return { accountId: sub, claims: async () => ({ sub, email, email_verified: true, name: email, ...tid, ...workspace }) };
  },
  async loadExistingGrant(ctx) { // no consent screen: openid email profile are always granted
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => { // Google and Microsoft clients always send a nonce; refuse without
  if (ctx.path === '/auth' && !ctx.query.nonce) {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'nonce is required' };
    return;
  }
  await next();
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginForm = (uid, hint) => `<!doctype html><title>Sign in</title>
<form method="post" action="${prefix}/interaction/${escape(uid)}">
<label>Email <input name="email" value="${escape(hint ?? '')}" required></label>
<label>Subject (optional) <input name="sub"></label>
<label>Method <select name="amr"><option value="pwd">password</option>
<option value="pwd mfa">password and MFA</option></select></label>
<label>acr (optional) <input name="acr"></label>
<label>Hosted domain (optional) <input name="hd"></label>
<button>Sign in</button></form>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginForm(uid, details.params.login_hint));
    return;
  }
  const form = await readForm(req);
  const email = form.get('email');
  const sub = form.get('sub') || createHash('sha256').update(email).digest('hex').slice(0, 21);
  accounts.set(sub, { email, hd: form.get('hd') || undefined });
  const login = { accountId: sub, amr: (form.get('amr') || 'pwd').split(/[\s,]+/), remember: false };
  if (form.get('acr')) login.acr = form.get('acr');
  await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

// Static clients are checked on first use: check now, so a bad setting stops the start with its reason.
await provider.Client.find(env.OIDC_CLIENT_ID ?? 'twofold');
const callback = provider.callback();
createServer((req, res) => {
  if (!req.url.startsWith(`${prefix}/`)) {
    res.writeHead(404).end();
    return;
  }
  const path = req.url.slice(prefix.length);
  const match = path.match(/^\/interaction\/([\w-]+)$/);
  if (match) {
    interaction(req, res, match[1]).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    });
    return;
  }
  req.originalUrl = req.url; // oidc-provider finds its mount path from originalUrl
  req.url = path;
  callback(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider ${issuer} ready`));
