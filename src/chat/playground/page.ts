// The playground page: a channel with threads, buttons and an identity picker, in one self-contained
// HTML document (no build step, no external assets). Text is inserted with textContent only.
import { CSRF_HEADER } from '../../http/access.js';

const attribute = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** @param csrf the session's CSRF token, sent with every post (see http/access.ts) */
export function playgroundPage(csrf: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tacit playground</title>
<meta name="tacit-csrf" content="${attribute(csrf)}">
<style>
  :root { --bg:#f7f7f8; --panel:#fff; --line:#e3e3e8; --muted:#6b6b76; --accent:#3b5bdb; --bot:#7048e8; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:#1d1d24; background:var(--bg); display:flex; height:100vh; }
  aside { width:240px; background:#1f2233; color:#d7d9e5; padding:16px; display:flex; flex-direction:column; gap:14px; }
  aside h1 { font-size:18px; margin:0; color:#fff; }
  aside .hint { font-size:12px; color:#9aa0b8; overflow-wrap:anywhere; }
  aside .hint a { color:#c5cdfa; }
  aside label { font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:#9aa0b8; }
  aside select, aside button { width:100%; padding:8px; border-radius:6px; border:1px solid #3a3f58; background:#2a2e45; color:#fff; font:inherit; cursor:pointer; }
  aside button:hover { background:#343a58; }
  .channel { font-weight:600; color:#fff; }
  main { flex:1; display:flex; flex-direction:column; min-width:0; }
  header { padding:12px 20px; border-bottom:1px solid var(--line); background:var(--panel); font-weight:600; }
  #messages { flex:1; overflow-y:auto; padding:16px 20px; display:flex; flex-direction:column; gap:10px; }
  .msg { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; overflow-wrap:anywhere; }
  .msg.bot { border-left:3px solid var(--bot); }
  .msg.private { border-style:dashed; background:#f3f0ff; }
  .meta { font-size:12px; color:var(--muted); display:flex; gap:8px; align-items:center; }
  .meta .author { font-weight:600; color:#1d1d24; }
  .badge { background:var(--bot); color:#fff; border-radius:4px; padding:0 5px; font-size:10px; font-weight:700; }
  .text { white-space:pre-wrap; margin-top:4px; }
  .block-header { font-weight:700; font-size:15px; margin-top:4px; }
  .block-header::before { content:''; display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:8px; background:#adb5bd; }
  .block-header.danger::before { background:#e03131; } .block-header.warning::before { background:#f08c00; } .block-header.success::before { background:#2f9e44; }
  .fields { display:grid; grid-template-columns:repeat(2, minmax(0,1fr)); gap:4px 16px; margin-top:6px; }
  .fields b { display:block; font-size:11px; color:var(--muted); text-transform:uppercase; }
  .context { font-size:12px; color:var(--muted); margin-top:6px; }
  .actions { margin-top:8px; display:flex; gap:8px; }
  .actions button { padding:5px 12px; border-radius:6px; border:1px solid var(--line); background:#fff; cursor:pointer; font:inherit; }
  .actions button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
  .actions button.danger { background:#e03131; color:#fff; border-color:#e03131; }
  .thread { margin:8px 0 0 18px; padding-left:12px; border-left:2px solid var(--line); display:flex; flex-direction:column; gap:8px; }
  .thread .msg { background:#fbfbfd; }
  .file { margin-top:6px; border:1px solid var(--line); border-radius:6px; padding:6px 8px; background:#fafafa; }
  .file pre { max-height:240px; overflow:auto; font-size:12px; margin:6px 0 0; white-space:pre-wrap; }
  #dms .msg { margin-top:6px; font-size:13px; color:#1d1d24; }
  .reply-link { font-size:12px; color:var(--accent); cursor:pointer; background:none; border:none; padding:0; margin-top:6px; }
  form { display:flex; gap:8px; padding:12px 20px; border-top:1px solid var(--line); background:var(--panel); }
  form input { flex:1; padding:10px; border-radius:6px; border:1px solid var(--line); font:inherit; }
  form button { padding:10px 16px; border-radius:6px; border:0; background:var(--accent); color:#fff; font:inherit; cursor:pointer; }
  #replying { font-size:12px; color:var(--muted); padding:0 20px; background:var(--panel); }
  #toast { position:fixed; right:16px; bottom:80px; background:#1f2233; color:#fff; padding:10px 14px; border-radius:8px; max-width:360px; display:none; }
</style>
</head>
<body>
<aside>
  <h1>Tacit playground</h1>
  <div class="hint">A local team channel. Tacit is a bot; it stays quiet unless there is news.</div>
  <div><label for="who">You are</label><select id="who" data-testid="who"></select><div class="hint" id="who-title"></div></div>
  <div class="channel" id="channel-name"># incidents</div>
  <div><label>Direct messages</label><div id="dms" data-testid="dms"><div class="hint">None yet.</div></div></div>
  <div><label>Try it</label></div>
  <button id="fire" data-testid="send-sample-alert">Send sample alert (firing)</button>
  <button id="resolve" data-testid="resolve-sample-alert">Resolve sample alert</button>
  <div class="hint">Then, in the alert's thread, write <b>@tacit silence this for 30m</b> and approve it as alice. Silences go to the <a href="/playground/demo-alertmanager" target="_blank" data-testid="demo-alertmanager">demo Alertmanager</a> (nothing real is silenced).</div>
  <div class="hint">Mention <b>@tacit status</b> to ask what is going on, or run <b>/tacit connect grafana</b> to get a webhook for another source.</div>
</aside>
<main>
  <header id="title"># incidents</header>
  <div id="messages" data-testid="messages"></div>
  <div id="replying"></div>
  <form id="composer"><input id="text" data-testid="composer" autocomplete="off" placeholder="Message #incidents (mention @tacit to ask it something)"><button>Send</button></form>
</main>
<div id="toast" role="status"></div>
<script>
(() => {
  const state = { users: [], channel: null, messages: new Map(), threadId: null, privates: loadPrivates() };
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const me = () => $('who').value;

  // Answers to /tacit commands and to button clicks: shown only to the person, like an ephemeral
  // message. Kept in the page's state (and this tab's session storage), keyed by the message they
  // answer, so the live view's re-renders and a reload keep them in place.
  function loadPrivates() {
    try { const saved = JSON.parse(sessionStorage.getItem('tacit.playground.private') || '[]'); return Array.isArray(saved) ? saved : []; }
    catch { return []; }
  }
  function addPrivate(text, messageId) {
    state.privates.push({ id: 'p' + Date.now() + Math.random().toString(16).slice(2), userId: me(), text, messageId: messageId || null, at: new Date().toISOString() });
    if (state.privates.length > 200) state.privates.splice(0, state.privates.length - 200);
    try { sessionStorage.setItem('tacit.playground.private', JSON.stringify(state.privates)); } catch { /* storage full or off: the page state still has it */ }
    render();
    if (!messageId) $('messages').scrollTop = $('messages').scrollHeight;
  }
  const privatesFor = (messageId) => state.privates.filter((p) => p.userId === me() && p.messageId === messageId);
  function renderPrivate(p) {
    const box = el('div', 'msg private');
    box.dataset.testid = 'private-message';
    if (p.messageId) box.dataset.answers = p.messageId;
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', 'tacit'), el('span', 'badge', 'BOT'), el('span', '', 'only visible to you'), el('span', '', new Date(p.at).toLocaleTimeString()));
    box.append(meta, el('div', 'text', p.text));
    return box;
  }

  function toast(text) { const t = $('toast'); t.textContent = text; t.style.display = 'block'; clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.style.display = 'none'; }, 5000); }

  async function api(path, body) {
    const csrf = document.querySelector('meta[name="tacit-csrf"]').content;
    const res = await fetch(path, body ? { method: 'POST', headers: { 'content-type': 'application/json', '${CSRF_HEADER}': csrf }, body: JSON.stringify(body) } : {});
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  function upsert(m) {
    const old = state.messages.get(m.id);
    if (old && old.version >= m.version) return;
    state.messages.set(m.id, m);
    render();
  }

  // *bold* as in Slack's mrkdwn; everything else stays plain text (textContent only, never HTML).
  function rich(text) {
    const div = el('div', 'text');
    text.split(/(\\*[^*\\n]+\\*)/).forEach((part) => {
      if (/^\\*[^*\\n]+\\*$/.test(part)) div.append(el('b', '', part.slice(1, -1)));
      else if (part) div.append(document.createTextNode(part));
    });
    return div;
  }

  function renderMessage(m) {
    const box = el('div', 'msg' + (m.author.isBot ? ' bot' : ''));
    box.dataset.messageId = m.id;
    box.dataset.testid = m.threadId ? 'thread-message' : 'message';
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', m.author.name));
    if (m.author.isBot) meta.append(el('span', 'badge', 'BOT'));
    meta.append(el('span', '', new Date(m.createdAt).toLocaleTimeString()));
    if (m.editedAt) meta.append(el('span', 'edited', '(edited)'));
    box.append(meta);
    if (!m.blocks || m.blocks.length === 0) box.append(rich(m.text));
    for (const b of m.blocks || []) {
      if (b.kind === 'header') box.append(el('div', 'block-header ' + (b.tone || ''), b.text));
      else if (b.kind === 'section') box.append(rich(b.text));
      else if (b.kind === 'context') box.append(el('div', 'context', b.text));
      else if (b.kind === 'fields') {
        const g = el('div', 'fields');
        for (const f of b.fields) { const c = el('div'); c.append(el('b', '', f.label), el('span', '', f.value)); g.append(c); }
        box.append(g);
      } else if (b.kind === 'actions') {
        const a = el('div', 'actions');
        for (const btn of b.buttons) {
          const x = el('button', btn.style || '', btn.label);
          x.dataset.actionId = btn.actionId;
          x.onclick = async () => {
            try { const r = await api('/playground/api/actions', { userId: me(), messageId: m.id, actionId: btn.actionId, value: btn.value }); if (r.privateText) addPrivate(r.privateText, m.id); }
            catch (e) { toast('Failed: ' + e.message); }
          };
          a.append(x);
        }
        box.append(a);
      } else if (b.kind === 'file') {
        const f = el('details', 'file');
        f.dataset.testid = 'file';
        if (b.encoding === 'base64' && (b.contentType === 'image/png' || b.contentType === 'image/jpeg')) {
          const img = document.createElement('img');
          img.src = 'data:' + b.contentType + ';base64,' + b.content;
          img.alt = b.filename;
          img.style.maxWidth = '100%';
          f.open = true;
          f.append(el('summary', '', '📎 ' + b.filename), img);
        } else {
          f.append(el('summary', '', '📎 ' + b.filename + ' (' + b.content.length + ' chars)'), el('pre', '', b.content));
        }
        box.append(f);
      }
    }
    return box;
  }

  function render() {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    const sorted = [...state.messages.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const mine = sorted.filter((x) => x.channelId === 'playground:dm-' + me());
    $('dms').replaceChildren(...(mine.length ? mine.map(renderMessage) : [el('div', 'hint', 'None yet.')]));
    const all = sorted.filter((x) => state.channel && x.channelId === state.channel.id);
    // Answers to commands typed outside any thread sit in the channel, in time order.
    const loose = state.privates.filter((p) => p.userId === me() && (!p.messageId || !state.messages.has(p.messageId)));
    const flushLoose = (before) => {
      while (loose.length > 0 && (before === null || loose[0].at < before)) list.append(renderPrivate(loose.shift()));
    };
    for (const m of all.filter((x) => !x.threadId)) {
      flushLoose(m.createdAt);
      const node = renderMessage(m);
      const replies = all.filter((x) => x.threadId === m.id);
      const answers = privatesFor(m.id);
      if (replies.length > 0 || answers.length > 0) {
        const t = el('div', 'thread');
        t.dataset.threadOf = m.id;
        t.dataset.testid = 'thread';
        for (const r of replies) t.append(renderMessage(r), ...privatesFor(r.id).map(renderPrivate));
        t.append(...answers.map(renderPrivate));
        node.append(t);
      }
      const reply = el('button', 'reply-link', replies.length ? 'Reply in thread (' + replies.length + ')' : 'Reply in thread');
      reply.onclick = () => { state.threadId = m.id; $('replying').textContent = 'Replying in thread of ' + m.author.name + ' — press Esc to cancel'; $('text').focus(); };
      node.append(reply);
      list.append(node);
    }
    flushLoose(null);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  async function load() {
    const s = await api('/playground/api/state');
    state.users = s.users; state.channel = s.channel;
    $('who').replaceChildren(...s.users.map((u) => { const o = el('option', '', u.name + ' — ' + u.title); o.value = u.id; return o; }));
    const showTitle = () => { const u = state.users.find((x) => x.id === me()); $('who-title').textContent = u ? [u.approver ? 'approver' : 'not an approver', u.admin ? 'may change settings' : 'may read settings only'].join(' · ') : ''; };
    $('who').onchange = () => { showTitle(); render(); }; showTitle();
    $('channel-name').textContent = '# ' + s.channel.name; $('title').textContent = '# ' + s.channel.name;
    for (const m of s.messages) upsert(m);
    render();
  }

  const events = new EventSource('/playground/api/events');
  events.addEventListener('message', (e) => upsert(JSON.parse(e.data)));
  events.onopen = () => load().catch((e) => toast('Could not load: ' + e.message));

  $('composer').onsubmit = async (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    try {
      const r = await api('/playground/api/messages', { userId: me(), channelId: state.channel.id, text, threadId: state.threadId });
      $('text').value = '';
      if (r.command) addPrivate(r.privateText || 'Done.', state.threadId);
    }
    catch (err) { toast('Not sent: ' + err.message); }
  };
  $('text').onkeydown = (e) => { if (e.key === 'Escape') { state.threadId = null; $('replying').textContent = ''; } };
  const sample = (status) => api('/playground/api/sample-alert', { status }).then((r) => toast('Alertmanager webhook answered ' + r.webhookStatus)).catch((e) => toast('Failed: ' + e.message));
  $('fire').onclick = () => sample('firing');
  $('resolve').onclick = () => sample('resolved');
})();
</script>
</body>
</html>`;
}
