// The login form for the dashboard and playground: one password field, the TACIT_ADMIN_TOKEN.
import { escapeHtml } from './chart.js';

export function renderLogin(opts: { next: string; error?: string; disabled: boolean }): string {
  const body = opts.disabled
    ? '<p class="error" role="alert">Logging in is off: TACIT_ADMIN_TOKEN is not set. Set it, restart Tacit, and log in with it as the password.</p>'
    : `${opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${escapeHtml(opts.next)}">
  <label for="password">Admin token</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required autofocus data-testid="password">
  <button type="submit" data-testid="login">Log in</button>
</form>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tacit — log in</title>
<style>
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:#f6f7f9; color:#1d1f24; display:flex; min-height:100vh; align-items:center; justify-content:center; }
  main { background:#fff; border:1px solid #e3e5ea; border-radius:10px; padding:24px 28px; width:min(360px, 92vw); }
  h1 { margin:0 0 6px; font-size:20px; } p { color:#6b6f7b; margin:0 0 14px; }
  label { display:block; font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:#6b6f7b; margin-bottom:4px; }
  input[type=password] { width:100%; box-sizing:border-box; padding:9px; border:1px solid #cfd3dc; border-radius:6px; font:inherit; }
  button { margin-top:12px; width:100%; padding:9px; border:0; border-radius:6px; background:#3b5bdb; color:#fff; font:inherit; cursor:pointer; }
  .error { color:#c92a2a; }
</style>
</head>
<body><main>
<h1>Tacit</h1>
<p>Log in with the admin token (TACIT_ADMIN_TOKEN). The session lasts 12 hours.</p>
${body}
</main></body>
</html>
`;
}
