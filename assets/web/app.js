'use strict';

// Browser front end of the chat actor: the state, small helpers, the API client and
// access token, notices, the model picker, the header and the wiring; it starts the page
// (index.html loads it after chats.js, messages.js, settings.js, branches.js and
// live.js, whose functions it calls). Everything that comes from the server (titles,
// messages, model names, error strings) is untrusted and is only ever rendered through
// textContent / text nodes, except a model's reply, which markdown.js renders as
// Markdown with its HTML escaped.

// One message object on the server holds 32 messages: a page costs it one read.
const PAGE_SIZE = 32;
const MAX_BACKOFF_MS = 10000;
const PING_INTERVAL_MS = 15000;
// A socket whose ping gets no answer this fast is dead (the actor was restarted under
// it: Theater keeps the old connection open but nothing answers); reconnect.
const PONG_TIMEOUT_MS = 5000;
// The model last picked, kept in this browser for the next new chat.
const MODEL_KEY = 'theater-chat.model';
const NETWORK_ERROR = 'Cannot reach the chat actor. Check that it is running, then try again.';
// The largest request body the actor takes (src/http.rs MAX_BODY_BYTES; an import may
// be bigger): a longer message is refused here, at once, with the text kept.
const MAX_BODY_BYTES = 256 * 1024;

const state = {
  providers: [],
  defaultModel: null, // "provider/model" from /api/providers
  pickedModel: null, // model chosen while no chat is open (used for the next new chat)
  chats: [],
  chatsSeq: 0,
  chatsNext: null, // the `before` of the next page of the chat list
  chatsLoadingMore: false,
  currentId: null,
  currentChat: null,
  epoch: 0, // bumped whenever the open chat changes; stale responses are dropped
  messages: [],
  hasMore: false,
  loadingMessages: false,
  loadingEarlier: false,
  emptyNote: '',
  startingNew: false, // "New chat" was clicked: the empty conversation says how it starts
  sending: false,
  pendingReplies: new Set(), // chat ids with a /api/reply request in flight
  running: new Map(), // chat id -> id of the generation a worker is writing
  replyErrors: new Map(), // chat id -> error message of the last failed reply
  renamingId: null,
  editingId: null, // the question being edited
  compare: new Set(), // "provider/model" keys that answer too

  tokenRequired: false, // the server asks for its access token
};

const els = {};
const chatItems = new Map(); // chat id -> { li, open, title, time, rename, del, input }
const messageNodes = new Map(); // message id -> element (messages are immutable)
const cache = { empty: null, thinking: null, replyError: null, unanswered: null };
let busyCount = 0;

/* ---------- small helpers ---------- */

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) el.setAttribute(a, v);
    else el[key] = value;
  }
  el.append(...children); // strings become text nodes
  return el;
}

// Make `parent`'s children exactly `nodes`, moving only what is out of place so
// that focus and screen-reader state survive re-renders.
function reconcile(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

const enc = encodeURIComponent;
const modelKey = (provider, model) => `${provider}/${model}`;

function parseModelKey(value) {
  const i = value.indexOf('/');
  if (i <= 0) return null;
  return { provider: value.slice(0, i), model: value.slice(i + 1) };
}

function apiError(message, status, code) {
  const err = new Error(String(message));
  err.status = status;
  err.code = code || null;
  return err;
}

// While the actor restarts (to free memory) requests fail for a moment: reads are sent
// again, and so is any request the runtime refused without running it (a 5xx that is
// not the actor's JSON error). A write cut mid-way is not resent: it may have landed.
const RETRY_DELAYS_MS = [300, 1000, 2500];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, body) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await apiOnce(method, path, body);
    } catch (err) {
      // The server wants its access token: ask once, then send the request again.
      if (err.status === 401 && err.code === 'unauthorized' && path !== '/api/login' && attempt === 0) {
        await askForToken();
        continue;
      }
      const refused = err.code === 'runtime';
      const retry = attempt < RETRY_DELAYS_MS.length && (refused || (method === 'GET' && err.code === 'network'));
      if (!retry) throw err;
      await sleep(RETRY_DELAYS_MS[attempt]);
    }
  }
}

/* ---------- access token ---------- */

let tokenWaiters = null; // resolvers waiting for a successful login

function askForToken() {
  return new Promise((resolve) => {
    if (!tokenWaiters) {
      tokenWaiters = [];
      els.login.hidden = false;
      els.loginToken.value = '';
      els.loginError.textContent = '';
      els.loginToken.focus();
    }
    tokenWaiters.push(resolve);
  });
}

async function submitToken(e) {
  e.preventDefault();
  try {
    await apiOnce('POST', '/api/login', { token: els.loginToken.value });
  } catch (err) {
    els.loginError.textContent = err.status === 401 ? 'That is not the access token.' : sentence(err.message);
    return;
  }
  els.login.hidden = true;
  const waiters = tokenWaiters || [];
  tokenWaiters = null;
  for (const resolve of waiters) resolve();
  // The socket could not be admitted without the token: connect it now.
  if (socket.ws && socket.ws.readyState === WebSocket.OPEN) socket.ws.close();
}

async function apiOnce(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
    const size = new Blob([init.body]).size;
    if (size > MAX_BODY_BYTES && path !== '/api/import') {
      throw apiError(
        `This is too long to send: ${Math.ceil(size / 1024)} KiB, and the chat takes ${MAX_BODY_BYTES / 1024} KiB at most. Shorten it or send it in parts.`,
        413,
        'payload_too_large',
      );
    }
  }
  let res;
  let text;
  try {
    res = await fetch(path, init);
    text = res.status === 204 ? '' : await res.text();
  } catch (_) {
    throw apiError(NETWORK_ERROR, 0, 'network');
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data && data.error;
    if (!e && res.status >= 500) throw apiError(NETWORK_ERROR, res.status, 'runtime');
    const message = (e && e.message) || `Request failed (HTTP ${res.status})`;
    throw apiError(message, res.status, e && e.code);
  }
  if (text && data === null) throw apiError('The chat actor sent an unreadable response.', res.status, 'bad_response');
  // The actor answers: a "cannot reach" notice is stale, and live updates can resume.
  clearNetworkNotice();
  reconnectNow();
  return data;
}

function setBusy(delta) {
  busyCount = Math.max(0, busyCount + delta);
  if (busyCount > 0) document.body.dataset.busy = '1';
  else delete document.body.dataset.busy;
}

const isPending = (chatId) => Boolean(chatId) && (state.pendingReplies.has(chatId) || state.running.has(chatId));
// While a reply is written, ask how it stands this often: it works without the socket,
// and each request lets the actor notice a generation past its deadline.
const GENERATION_POLL_MS = 3000;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function shortTime(ms) {
  if (!ms) return '';
  const date = new Date(ms);
  const diff = Date.now() - ms;
  if (Math.abs(diff) < 60 * 1000) return 'now';
  if (diff > 0 && diff < 60 * 60 * 1000) return `${Math.floor(diff / 60000)}m`;
  if (date.toDateString() === new Date().toDateString()) return timeFmt.format(date);
  if (diff > 0 && diff < 6 * 24 * 60 * 60 * 1000) return weekdayFmt.format(date);
  return dateFmt.format(date);
}

function hashChatId() {
  try {
    return decodeURIComponent(location.hash.slice(1)) || null;
  } catch (_) {
    return null;
  }
}

function setHash(id) {
  if (id) {
    if (hashChatId() !== id) location.hash = enc(id);
  } else if (location.hash) {
    history.replaceState(null, '', location.pathname + location.search);
  }
}

/* ---------- notices ---------- */

// Clears the notice only when it is the "cannot reach the actor" one.
function clearNetworkNotice() {
  if (els.notices && els.notices.textContent.includes(NETWORK_ERROR)) clearBanner();
}

function clearBanner() {
  els.notices.replaceChildren();
}

// The server's error strings start in lower case ("the provider failed (500): ..."), to
// read well after a prefix; shown on their own they start a sentence.
function sentence(text) {
  const s = String(text);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function showError(message) {
  const close = h('button', { type: 'button', className: 'icon-btn', title: 'Dismiss', attrs: { 'aria-label': 'Dismiss error' } }, '✕');
  close.addEventListener('click', clearBanner);
  const notice = h(
    'div',
    { className: 'notice notice-error', dataset: { testid: 'error' }, attrs: { role: 'alert' } },
    h('span', { className: 'notice-text' }, sentence(message)),
    close,
  );
  els.notices.replaceChildren(notice);
}

/* ---------- providers & model select ---------- */

function findModel(provider, model) {
  const p = state.providers.find((x) => x.id === provider);
  const m = p && (p.models || []).find((x) => x.id === model);
  return { p, m };
}

function modelLabel(provider, model) {
  const { m } = findModel(provider, model);
  return (m && m.name) || model || provider || '';
}

async function loadProviders() {
  try {
    const data = await api('GET', '/api/providers');
    state.providers = Array.isArray(data.providers) ? data.providers : [];
    const d = data.default;
    if (d && d.provider && d.model) state.defaultModel = modelKey(d.provider, d.model);
    buildModelOptions();
    const remembered = recallModel();
    const usable = Array.from(els.modelSelect.options).some((o) => o.value === remembered && !o.disabled);
    if (!state.pickedModel && usable) state.pickedModel = remembered;
    syncModelSelect();
    refreshModelLabels();
    renderCompare();
  } catch (err) {
    els.modelSelect.replaceChildren(h('option', { value: '' }, 'Models unavailable'));
    els.modelSelect.disabled = true;
    showError(`Could not load the model list: ${err.message}`);
  }
}

// A model as the picker lists it: its name, how much it reads, and its price.
function optionLabel(m) {
  const parts = [m.name || m.id];
  const n = m.context_window;
  if (n) parts.push(n >= 1e6 ? `${Math.round(n / 1e5) / 10}M` : `${Math.round(n / 1000)}K`);
  if (typeof m.input_price === 'number' && typeof m.output_price === 'number') {
    parts.push(m.input_price === 0 && m.output_price === 0 ? 'free' : `$${m.input_price}/$${m.output_price}`);
  }
  return parts.join(' · ');
}

function buildModelOptions() {
  const options = state.providers.map((p) => {
    const reason = p.available ? '' : p.unavailable_reason || 'This provider is not available.';
    const group = h('optgroup', { label: p.available ? p.name || p.id : `${p.name || p.id} (unavailable)` });
    if (reason) group.title = reason;
    for (const m of p.models || []) {
      const disabled = !p.available || m.available === false;
      const opt = h('option', { value: modelKey(p.id, m.id), disabled }, optionLabel(m));
      opt.title = disabled ? reason || m.unavailable_reason || 'This model is not available.' : modelFacts(p.id, m.id);
      group.append(opt);
    }
    return group;
  });
  els.modelSelect.replaceChildren(...options);
  els.modelSelect.disabled = options.length === 0;
}

// Select the open chat's model (or the model for the next new chat).
function syncModelSelect() {
  const sel = els.modelSelect;
  if (!state.providers.length) return;
  for (const extra of sel.querySelectorAll('option[data-extra]')) extra.remove();
  const chat = state.currentChat;
  const want = chat && chat.provider && chat.model
    ? modelKey(chat.provider, chat.model)
    : state.pickedModel || state.defaultModel;
  if (!want) return;
  if (!Array.from(sel.options).some((o) => o.value === want)) {
    sel.append(h('option', { value: want, dataset: { extra: '1' } }, `${want} (not offered)`));
  }
  sel.value = want;
  renderCompare(); // the chat's own model is not one to compare with
}

// Storage may be off (a private window, a policy): then nothing is remembered.
function rememberModel(value) {
  try {
    localStorage.setItem(MODEL_KEY, value);
  } catch (_) {
    /* nothing to remember it in */
  }
}

function recallModel() {
  try {
    return localStorage.getItem(MODEL_KEY);
  } catch (_) {
    return null;
  }
}

function selectedModel() {
  const opt = els.modelSelect.selectedOptions[0];
  if (!opt || opt.disabled || !state.providers.length) return null;
  return parseModelKey(opt.value);
}

async function changeModel() {
  const value = els.modelSelect.value;
  const chosen = parseModelKey(value);
  if (!chosen) return;
  if (!state.currentId) {
    state.pickedModel = value;
    rememberModel(value);
    renderCompare();
    return;
  }
  const id = state.currentId;
  els.modelSelect.disabled = true;
  try {
    upsertChat(await api('PATCH', `/api/chat?id=${enc(id)}`, chosen));
    rememberModel(value);
  } catch (err) {
    showError(err.message);
  } finally {
    els.modelSelect.disabled = false;
    syncModelSelect(); // reverts the select if the PATCH failed
  }
}

/* ---------- header ---------- */

function renderHeader() {
  const chat = state.currentChat;
  let title = 'New conversation';
  if (chat) title = chat.title || 'Untitled chat';
  else if (state.currentId) title = 'Loading…';
  els.heading.textContent = title;
  document.title = chat ? `${title} · Chat` : 'Chat';
  renderUsage();
  renderSettings();
  renderTree();
  if (typeof window.renderTransfer === 'function') window.renderTransfer(); // transfer.js
}

function renderAll() {
  renderChatList();
  renderHeader();
  syncModelSelect();
  renderMessages();
}

/* ---------- wiring ---------- */

function bindElements() {
  els.newChat = document.getElementById('new-chat');
  els.chatList = document.getElementById('chat-list');
  els.chatList.parentElement.addEventListener('scroll', maybeLoadMoreChats, { passive: true });
  els.connStatus = document.getElementById('conn-status');
  els.heading = document.getElementById('chat-heading');
  els.modelSelect = document.getElementById('model-select');
  els.notices = document.getElementById('notices');
  els.conversation = document.getElementById('conversation');
  els.messages = document.getElementById('messages');
  els.form = document.getElementById('composer-form');
  els.composer = document.getElementById('composer');
  els.send = document.getElementById('send');
  els.app = document.getElementById('app');
  els.chatsToggle = document.getElementById('chats-toggle');
  els.drawerBackdrop = document.getElementById('drawer-backdrop');
  els.login = document.getElementById('login');
  els.loginForm = document.getElementById('login-form');
  els.loginToken = document.getElementById('login-token');
  els.loginError = document.getElementById('login-error');
  els.settingsToggle = document.getElementById('settings-toggle');
  els.settings = document.getElementById('settings');
  els.settingsModel = document.getElementById('settings-model');
  els.settingsSystem = document.getElementById('settings-system');
  els.settingsTemperature = document.getElementById('settings-temperature');
  els.settingsMaxTokens = document.getElementById('settings-max-tokens');
  els.settingsClose = document.getElementById('settings-close');
  els.chatUsage = document.getElementById('chat-usage');
  els.treeToggle = document.getElementById('tree-toggle');
  els.treePanel = document.getElementById('tree');
  els.compareList = document.getElementById('compare-list');
  els.compareSummary = document.getElementById('compare-summary');
  els.loadEarlier = h('button', { type: 'button', className: 'btn btn-small load-earlier', dataset: { testid: 'load-earlier' } }, 'Load earlier messages');
}

/* ---------- the chat list as a drawer (narrow windows) ---------- */

function setDrawer(open) {
  els.app.dataset.drawer = open ? 'open' : 'closed';
  els.chatsToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
}

function bindEvents() {
  els.loginForm.addEventListener('submit', submitToken);
  els.chatsToggle.addEventListener('click', () => setDrawer(els.app.dataset.drawer !== 'open'));
  els.drawerBackdrop.addEventListener('click', () => setDrawer(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && els.app.dataset.drawer === 'open') setDrawer(false);
    // Alt+N: a new chat, from anywhere on the page.
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'n' || e.key === 'N' || e.code === 'KeyN')) {
      e.preventDefault();
      setDrawer(false);
      newChat();
    }
  });
  // Picking a chat or starting one closes the drawer.
  els.chatList.addEventListener('click', (e) => {
    if (e.target.closest('.chat-open')) setDrawer(false);
  });
  els.newChat.addEventListener('click', () => setDrawer(false));
  els.newChat.addEventListener('click', newChat);
  els.modelSelect.addEventListener('change', changeModel);
  els.settingsToggle.addEventListener('click', () => toggleSettings(els.settings.hidden));
  els.treeToggle.addEventListener('click', () => toggleTree(els.treePanel.hidden));
  els.settingsClose.addEventListener('click', () => toggleSettings(false));
  els.settings.addEventListener('submit', (e) => {
    e.preventDefault();
    saveSettings();
  });
  els.loadEarlier.addEventListener('click', loadEarlier);
  keepBottomInView();
  // Older messages come a page at a time as the conversation is scrolled to its top.
  els.conversation.addEventListener('scroll', () => {
    if (els.conversation.scrollTop < 120 && state.hasMore) loadEarlier();
  }, { passive: true });
  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    sendMessage();
  });
  els.composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  els.composer.addEventListener('input', resizeComposer);
  window.addEventListener('hashchange', () => {
    const id = hashChatId();
    if (id === state.currentId) return;
    if (id) openChat(id);
    else closeChat('');
  });
  // Without a socket, refresh when the user comes back to the tab, and try the socket.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !socketOpen()) {
      refreshAll();
      reconnectNow();
    }
  });
  window.addEventListener('online', reconnectNow);
  window.addEventListener('focus', reconnectNow);
  window.addEventListener('unhandledrejection', (e) => {
    const reason = e.reason;
    showError(reason && reason.message ? reason.message : 'Something went wrong.');
  });
}

async function init() {
  bindElements();
  bindEvents();
  renderAll();
  try {
    state.tokenRequired = Boolean((await api('GET', '/api/health')).token_required);
  } catch (_) {
    /* the loads below say what is wrong */
  }
  if (state.tokenRequired) await loadChats(); // asks for the token first, once
  await Promise.all([loadProviders(), loadChats()]);
  const id = hashChatId();
  if (id) await openChat(id);
  document.body.dataset.ready = '1';
  connectSocket();
  setInterval(renderChatList, 60 * 1000); // keep relative times fresh
}

init();
