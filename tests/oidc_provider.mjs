// A real OpenID Connect provider for the tests (the npm package oidc-provider) on loopback:
// one client and one user with a groups claim. Its development login and consent pages stand in
// for the organisation's own: any password signs in the account named in the login field.
// Usage: node tests/oidc_provider.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET
import Provider from 'oidc-provider';

const [port, redirectUri, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const users = {
  noor: { sub: 'noor', email: 'noor@idp.test', email_verified: true, name: 'Noor van de Provider',
          groups: ['klachten-behandelaars', 'kantine'] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
    grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false, // the scopes' claims in the ID token itself
  findAccount: async (ctx, id) => (users[id] ? { accountId: id, claims: async () => users[id] } : undefined),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const server = provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
