'use strict';

// Browser front end of the chat actor. Everything that comes from the server
// (titles, messages, model names, error strings) is untrusted and is only ever
// rendered through textContent / text nodes, except a model's reply, which markdown.js
// renders as Markdown with its HTML escaped.

// One message object on the server holds 32 messages: a page costs it one read.
const PAGE_SIZE = 32;
const MAX_BACKOFF_MS = 30000;
const PING_INTERVAL_MS = 15000;
// A socket whose ping gets no answer this fast is dead (the actor was restarted under
// it: Theater keeps the old connection open but nothing answers); reconnect.
const PONG_TIMEOUT_MS = 5000;
const NETWORK_ERROR = 'Cannot reach the chat actor. Check that it is running, then try again.';

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
    els.loginError.textContent = err.status === 401 ? 'That is not the access token.' : err.message;
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

function clearBanner() {
  els.notices.replaceChildren();
}

function showError(message) {
  const close = h('button', { type: 'button', className: 'icon-btn', title: 'Dismiss', attrs: { 'aria-label': 'Dismiss error' } }, '✕');
  close.addEventListener('click', clearBanner);
  const notice = h(
    'div',
    { className: 'notice notice-error', dataset: { testid: 'error' }, attrs: { role: 'alert' } },
    h('span', { className: 'notice-text' }, String(message)),
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
    return;
  }
  const id = state.currentId;
  els.modelSelect.disabled = true;
  try {
    upsertChat(await api('PATCH', `/api/chat?id=${enc(id)}`, chosen));
  } catch (err) {
    showError(err.message);
  } finally {
    els.modelSelect.disabled = false;
    syncModelSelect(); // reverts the select if the PATCH failed
  }
}

/* ---------- chat list ---------- */

// The list comes a page at a time, newest chats first (a page is one record on the
// server); scrolling to its end loads the next one.
const chatNumber = (c) => Number(String(c.id).slice(1)) || 0;
const byNewest = (a, b) => chatNumber(b) - chatNumber(a);

async function loadChats() {
  const seq = ++state.chatsSeq;
  try {
    const data = await api('GET', '/api/chats');
    if (seq !== state.chatsSeq) return; // a newer load is on its way
    const fresh = data.chats || [];
    const local = new Map(state.chats.map((c) => [c.id, c]));
    // Keep a local copy that is newer than what this (possibly slow) response saw.
    const merged = fresh.map((c) => {
      const mine = local.get(c.id);
      return mine && (mine.updated_at || 0) > (c.updated_at || 0) ? mine : c;
    });
    // Older pages already loaded stay; the first page replaces what it covers.
    const oldest = fresh.length ? Math.min(...fresh.map(chatNumber)) : Infinity;
    const older = data.next ? state.chats.filter((c) => chatNumber(c) < oldest) : [];
    state.chats = merged.concat(older).sort(byNewest);
    if (!older.length) state.chatsNext = data.next || null;
    const current = state.chats.find((c) => c.id === state.currentId);
    if (current) state.currentChat = current;
    renderChatList();
    renderHeader();
    syncModelSelect();
  } catch (err) {
    showError(err.message);
  }
}

async function loadMoreChats() {
  const cursor = state.chatsNext;
  if (!cursor || state.chatsLoadingMore) return;
  state.chatsLoadingMore = true;
  try {
    const data = await api('GET', `/api/chats?before=${enc(cursor)}`);
    if (state.chatsNext !== cursor) return;
    const known = new Set(state.chats.map((c) => c.id));
    state.chats = state.chats.concat((data.chats || []).filter((c) => !known.has(c.id))).sort(byNewest);
    state.chatsNext = data.next || null;
    renderChatList();
  } catch (err) {
    showError(err.message);
  } finally {
    state.chatsLoadingMore = false;
  }
}

function maybeLoadMoreChats() {
  const nav = els.chatList.parentElement;
  if (nav && nav.scrollTop + nav.clientHeight >= nav.scrollHeight - 80) loadMoreChats();
}

function upsertChat(chat) {
  if (!chat || !chat.id) return;
  const i = state.chats.findIndex((c) => c.id === chat.id);
  if (i >= 0) state.chats[i] = chat;
  else state.chats.unshift(chat);
  state.chats.sort(byNewest);
  let versionsChanged = false;
  if (chat.id === state.currentId) {
    const before = state.currentChat && JSON.stringify(state.currentChat.tree || []);
    versionsChanged = before !== JSON.stringify(chat.tree || []);
    state.currentChat = chat;
  }
  renderChatList();
  renderHeader();
  syncModelSelect();
  // The "‹ k/N ›" of the messages shown follow the chat's tree.
  if (versionsChanged) renderMessages();
}

function renderChatList() {
  if (state.renamingId && !state.chats.some((c) => c.id === state.renamingId)) state.renamingId = null;
  const ids = new Set(state.chats.map((c) => c.id));
  for (const id of Array.from(chatItems.keys())) if (!ids.has(id)) chatItems.delete(id);
  if (!state.chats.length) {
    reconcile(els.chatList, [h('li', { className: 'chat-list-empty' }, 'No chats yet')]);
    return;
  }
  const nodes = state.chats.map((chat) => {
    let item = chatItems.get(chat.id);
    if (!item) {
      item = createChatItem(chat.id);
      chatItems.set(chat.id, item);
    }
    updateChatItem(item, chat);
    return item.li;
  });
  reconcile(els.chatList, nodes);
  // A short first page leaves nothing to scroll: load on until the list fills it.
  requestAnimationFrame(maybeLoadMoreChats);
}

function createChatItem(id) {
  const title = h('span', { className: 'chat-title', dataset: { testid: 'chat-title' } });
  const time = h('time', { className: 'chat-time' });
  const open = h('button', { type: 'button', className: 'chat-open' }, title, time);
  open.addEventListener('click', () => selectChat(id));
  const rename = h('button', { type: 'button', className: 'icon-btn', title: 'Rename', dataset: { testid: 'rename-chat' } }, '✎');
  rename.addEventListener('click', () => startRename(id));
  const del = h('button', { type: 'button', className: 'icon-btn icon-danger', title: 'Delete', dataset: { testid: 'delete-chat' } }, '✕');
  del.addEventListener('click', () => deleteChat(id));
  const li = h(
    'li',
    { className: 'chat-item', dataset: { testid: 'chat-item', chatId: id } },
    open,
    h('div', { className: 'chat-actions' }, rename, del),
  );
  return { li, open, title, time, rename, del, input: null };
}

function updateChatItem(item, chat) {
  const title = chat.title || 'Untitled chat';
  item.title.textContent = title;
  // A reply being written shows on its chat in the list too.
  const writing = state.running.has(chat.id);
  item.li.dataset.writing = writing ? '1' : '';
  // The list says when each chat was started (it is ordered that way).
  item.time.textContent = writing ? 'writing…' : shortTime(chat.created_at);
  if (chat.created_at) {
    item.time.dateTime = new Date(chat.created_at).toISOString();
    item.time.title = `Started ${fullFmt.format(new Date(chat.created_at))}`;
  }
  const active = chat.id === state.currentId;
  item.li.classList.toggle('active', active);
  if (active) item.open.setAttribute('aria-current', 'page');
  else item.open.removeAttribute('aria-current');
  item.rename.setAttribute('aria-label', `Rename chat: ${title}`);
  item.del.setAttribute('aria-label', `Delete chat: ${title}`);

  const renaming = state.renamingId === chat.id;
  if (renaming && !item.input) {
    item.input = createRenameInput(chat.id, title);
    item.open.replaceWith(item.input);
  } else if (!renaming && item.input) {
    const input = item.input;
    item.input = null;
    input.replaceWith(item.open);
  }
}

function createRenameInput(id, title) {
  const input = h('input', { type: 'text', className: 'rename-input', value: title, dataset: { testid: 'rename-input' } });
  input.setAttribute('aria-label', 'New chat title (Enter to save, Escape to cancel)');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      finishRename(id, input.value);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      finishRename(id, null);
    }
  });
  input.addEventListener('blur', () => finishRename(id, input.value));
  return input;
}

function startRename(id) {
  if (state.renamingId && state.renamingId !== id) finishRename(state.renamingId, null);
  state.renamingId = id;
  renderChatList();
  const item = chatItems.get(id);
  if (item && item.input) {
    item.input.focus();
    item.input.select();
  }
}

// value === null cancels.
async function finishRename(id, value) {
  if (state.renamingId !== id) return; // already finished (e.g. blur after Enter)
  state.renamingId = null;
  const chat = state.chats.find((c) => c.id === id);
  const title = value === null ? '' : value.trim();
  const item = chatItems.get(id);
  const hadFocus = item && item.input && document.activeElement === item.input;
  renderChatList();
  if (hadFocus && item) item.open.focus();
  if (!chat || !title || title === chat.title) return;

  const oldTitle = chat.title;
  upsertChat(Object.assign({}, chat, { title })); // optimistic
  try {
    upsertChat(await api('PATCH', `/api/chat?id=${enc(id)}`, { title }));
  } catch (err) {
    const now = state.chats.find((c) => c.id === id);
    if (now && now.title === title) upsertChat(Object.assign({}, now, { title: oldTitle }));
    showError(err.message);
  }
}

async function deleteChat(id) {
  const chat = state.chats.find((c) => c.id === id);
  const name = chat ? chat.title : id;
  if (!window.confirm(`Delete the chat “${name}”? This cannot be undone.`)) return;
  try {
    await api('DELETE', `/api/chat?id=${enc(id)}`);
  } catch (err) {
    if (err.status !== 404) {
      showError(err.message);
      return;
    }
  }
  state.chats = state.chats.filter((c) => c.id !== id);
  state.replyErrors.delete(id);
  if (state.currentId === id) closeChat('');
  renderChatList();
  loadChats();
}

/* ---------- opening / closing chats ---------- */

function resetConversation(id, chat) {
  state.epoch += 1;
  state.currentId = id;
  state.currentChat = chat;
  state.messages = [];
  state.hasMore = false;
  state.loadingEarlier = false;
  messageNodes.clear();
  setHash(id);
}

function closeChat(note) {
  resetConversation(null, null);
  state.loadingMessages = false;
  state.emptyNote = note || '';
  renderAll();
}

function selectChat(id) {
  if (id !== state.currentId) openChat(id);
}

async function openChat(id) {
  resetConversation(id, state.chats.find((c) => c.id === id) || null);
  state.loadingMessages = true;
  state.emptyNote = '';
  clearBanner();
  renderAll();
  const [, last] = await Promise.all([syncOpenChat(true), refreshGeneration(id)]);
  showLastFailure(id, last);
}

// A chat opened on a question whose reply failed since it was asked says why (the
// server keeps how its last replies ended), not only that no reply came.
function showLastFailure(chatId, g) {
  if (!g || (g.status !== 'failed' && g.status !== 'timed_out') || state.currentId !== chatId) return;
  const question = state.messages[state.messages.length - 1];
  if (!question || question.role !== 'user' || !(question.created_at <= g.finished_at)) return;
  if (isPending(chatId) || state.replyErrors.has(chatId)) return;
  state.replyErrors.set(chatId, failureText(g));
  renderMessages();
}

// Show a chat this tab has just created (it has no messages to fetch yet).
function showNewChat(chat) {
  resetConversation(chat.id, chat);
  state.loadingMessages = false;
  state.emptyNote = '';
  renderAll();
}

// (Re)load the open chat's metadata and latest messages.
async function syncOpenChat(opening) {
  const id = state.currentId;
  const epoch = state.epoch;
  if (!id) return;
  const [chatRes, msgRes] = await Promise.allSettled([
    api('GET', `/api/chat?id=${enc(id)}`),
    loadMessages(id),
  ]);
  if (epoch !== state.epoch) return;
  if (chatRes.status === 'fulfilled') upsertChat(chatRes.value);
  const failed = [chatRes, msgRes].find((r) => r.status === 'rejected');
  if (!failed) return;
  if (failed.reason.status === 404) {
    if (opening) {
      closeChat('');
      showError(failed.reason.message);
    } else {
      closeChat('This chat was deleted.');
    }
    return;
  }
  state.loadingMessages = false;
  renderMessages();
  showError(failed.reason.message);
}

async function createChat() {
  const chat = await api('POST', '/api/chats', selectedModel() || {});
  upsertChat(chat);
  showNewChat(chat);
  return chat;
}

async function newChat() {
  if (state.renamingId) finishRename(state.renamingId, null);
  els.newChat.disabled = true;
  try {
    await createChat();
    clearBanner();
    els.composer.focus();
  } catch (err) {
    showError(err.message);
  } finally {
    els.newChat.disabled = false;
  }
}

/* ---------- messages ---------- */

const lastMessageId = () => (state.messages.length ? state.messages[state.messages.length - 1].id : null);

async function loadMessages(chatId) {
  const epoch = state.epoch;
  const data = await api('GET', `/api/messages?chat=${enc(chatId)}&limit=${PAGE_SIZE}`);
  if (epoch !== state.epoch) return;
  const before = lastMessageId();
  mergeLatest(Array.isArray(data.messages) ? data.messages : [], Boolean(data.has_more));
  state.loadingMessages = false;
  const last = state.messages[state.messages.length - 1];
  if (last && last.role === 'assistant' && !isPending(chatId)) state.replyErrors.delete(chatId);
  renderMessages();
  if (lastMessageId() !== before) scrollToBottom();
}

// Merge a freshly fetched latest page into what is shown: keep earlier pages
// the user loaded, and keep local messages (e.g. a reply that arrived while
// this request was in flight) that continue the fetched branch.
function mergeLatest(fresh, hasMore) {
  const old = state.messages;
  let merged;
  const idx = fresh.length ? old.findIndex((m) => m.id === fresh[0].id) : -1;
  if (idx > 0) {
    merged = old.slice(0, idx).concat(fresh);
  } else {
    merged = fresh.slice();
    state.hasMore = hasMore;
  }
  const ids = new Set(merged.map((m) => m.id));
  for (;;) {
    const tail = merged.length ? merged[merged.length - 1].id : null;
    const next = old.find((m) => m.parent === tail && !ids.has(m.id));
    if (!next) break;
    merged.push(next);
    ids.add(next.id);
  }
  state.messages = merged;
}

function appendMessage(message) {
  if (!message || state.messages.some((m) => m.id === message.id)) return;
  state.messages.push(message);
  state.loadingMessages = false;
  renderMessages();
  scrollToBottom();
}

async function loadEarlier() {
  if (state.loadingEarlier || !state.messages.length || !state.currentId) return;
  const epoch = state.epoch;
  const chatId = state.currentId;
  const oldest = state.messages[0].id;
  state.loadingEarlier = true;
  renderLoadEarlier();
  try {
    const data = await api('GET', `/api/messages?chat=${enc(chatId)}&limit=${PAGE_SIZE}&before=${enc(oldest)}`);
    if (epoch !== state.epoch || !state.messages.length || state.messages[0].id !== oldest) return;
    const known = new Set(state.messages.map((m) => m.id));
    const older = (data.messages || []).filter((m) => !known.has(m.id));
    const conv = els.conversation;
    const prevHeight = conv.scrollHeight;
    const prevTop = conv.scrollTop;
    state.messages = older.concat(state.messages);
    state.hasMore = Boolean(data.has_more);
    renderMessages();
    conv.scrollTop = conv.scrollHeight - prevHeight + prevTop; // keep the view where it was
  } catch (err) {
    showError(err.message);
  } finally {
    state.loadingEarlier = false;
    renderLoadEarlier();
  }
}

function createMessageNode(m) {
  const role = m.role === 'assistant' || m.role === 'user' ? m.role : 'other';
  const node = h('article', {
    className: `msg msg-${role}`,
    dataset: { testid: 'message', role: String(m.role), messageId: String(m.id) },
  });
  const who = role === 'user' ? 'You' : role === 'assistant' ? 'Assistant' : String(m.role);
  const text = String(m.content == null ? '' : m.content);
  // A reply is shown as Markdown (markdown.js: HTML in it stays text); the rest as text.
  const markdown = role === 'assistant' && typeof window.renderMarkdown === 'function';
  node.append(
    h('span', { className: 'sr-only' }, `${who}: `),
    h('div', { className: 'bubble' }, h('div', { className: `msg-content${markdown ? ' msg-markdown' : ''}`, dataset: { testid: 'message-content' } }, markdown ? window.renderMarkdown(text) : text)),
  );
  const meta = h('div', { className: 'msg-meta' });
  if (role === 'assistant' && (m.model || m.provider)) {
    const model = h('span', { className: 'msg-model', dataset: { provider: m.provider || '', model: m.model || '' } }, modelLabel(m.provider, m.model));
    model.title = modelKey(m.provider || '?', m.model || '?');
    meta.append(model);
  }
  if (m.created_at) {
    const when = h('time', { className: 'msg-time', dateTime: new Date(m.created_at).toISOString() }, timeFmt.format(new Date(m.created_at)));
    when.title = fullFmt.format(new Date(m.created_at));
    meta.append(when);
  }
  const usage = usageText(m.usage);
  if (usage) {
    const el = h('span', { className: 'msg-usage', dataset: { testid: 'message-usage' } }, usage);
    el.title = 'Tokens read and written for this reply, and what they cost at the catalog\'s prices';
    meta.append(el);
  }
  // Versions (‹ 2/3 ›) and actions depend on the chat's tree: filled by renderBranchControls.
  meta.append(h('span', { className: 'msg-branch' }));
  node.append(meta);
  if (typeof m.omitted === 'number' && m.omitted > 0) {
    const n = m.omitted;
    node.append(h('p', { className: 'msg-omitted', dataset: { testid: 'omitted' } },
      `${numberFmt.format(n)} earlier ${n === 1 ? 'message was' : 'messages were'} not sent to the model, to fit its context window.`));
  }
  return node;
}

// Model names arrive with /api/providers, possibly after messages were drawn.
function refreshModelLabels() {
  for (const node of messageNodes.values()) {
    const el = node.querySelector('.msg-model');
    if (el) el.textContent = modelLabel(el.dataset.provider, el.dataset.model);
  }
}

function emptyStateNode() {
  if (!cache.empty) cache.empty = h('div', { className: 'empty-state', dataset: { testid: 'empty-state' } });
  let text;
  if (state.currentId && state.loadingMessages) text = 'Loading messages…';
  else if (state.currentId) text = 'No messages yet. Say hello below to start the conversation.';
  else text = `${state.emptyNote ? state.emptyNote + ' ' : ''}No chat selected. Pick a chat from the list, or type a message below to start a new one.`;
  if (cache.empty.textContent !== text) cache.empty.textContent = text;
  return cache.empty;
}

function thinkingNode() {
  if (!cache.thinking) {
    const stop = h('button', { type: 'button', className: 'btn btn-small btn-stop', dataset: { testid: 'stop' } }, 'Stop');
    stop.addEventListener('click', () => stopReply(state.currentId));
    cache.thinking = h(
      'div',
      { className: 'msg msg-assistant msg-thinking', dataset: { testid: 'thinking' }, attrs: { 'aria-live': 'polite' } },
      h('div', { className: 'bubble' }, 'Writing a reply', h('span', { className: 'dots', attrs: { 'aria-hidden': 'true' } }, '…'), ' ', stop),
    );
  }
  return cache.thinking;
}

function unansweredNode() {
  if (!cache.unanswered) {
    const ask = h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'ask-reply' } }, 'Get a reply');
    ask.addEventListener('click', () => requestReply(state.currentId));
    cache.unanswered = h(
      'div',
      { className: 'notice reply-waiting', dataset: { testid: 'unanswered' } },
      h('span', { className: 'notice-text' }, 'No reply to this message yet.'),
      ask,
    );
  }
  return cache.unanswered;
}
function replyErrorNode(chatId, message) {
  const key = `${chatId}\n${message}`;
  if (cache.replyError && cache.replyError.key === key) return cache.replyError.node;
  const retry = h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'retry' } }, 'Retry');
  retry.addEventListener('click', () => requestReply(chatId));
  const node = h(
    'div',
    { className: 'notice notice-error reply-error', dataset: { testid: 'error' }, attrs: { role: 'alert' } },
    h('span', { className: 'notice-text' }, h('strong', {}, 'No reply. '), message),
    retry,
  );
  cache.replyError = { key, node };
  return node;
}

function renderMessages() {
  const nodes = [];
  const live = new Set();
  for (const m of state.messages) {
    let node = messageNodes.get(m.id);
    if (!node) {
      node = createMessageNode(m);
      messageNodes.set(m.id, node);
    }
    live.add(m.id);
    renderBranchControls(node, m);
    nodes.push(node);
  }
  for (const id of Array.from(messageNodes.keys())) if (!live.has(id)) messageNodes.delete(id);

  const pending = isPending(state.currentId);
  if (!state.messages.length && !pending) nodes.push(emptyStateNode());
  if (pending) nodes.push(thinkingNode());
  const error = state.currentId && !pending ? state.replyErrors.get(state.currentId) : null;
  if (error) nodes.push(replyErrorNode(state.currentId, error));
  // A question left without an answer (a reply stopped, or lost when the server went
  // down, or one that failed in another tab) can still get one.
  const last = state.messages[state.messages.length - 1];
  if (last && last.role === 'user' && !pending && !error && !state.sending) nodes.push(unansweredNode());
  reconcile(els.messages, nodes);
  renderLoadEarlier();
  updateComposer();
}

function renderLoadEarlier() {
  const show = Boolean(state.currentId && state.hasMore && state.messages.length);
  if (show && !els.loadEarlier.isConnected) els.conversation.insertBefore(els.loadEarlier, els.messages);
  else if (!show && els.loadEarlier.isConnected) els.loadEarlier.remove();
  els.loadEarlier.disabled = state.loadingEarlier;
  els.loadEarlier.textContent = state.loadingEarlier ? 'Loading…' : 'Load earlier messages';
}

// A conversation scrolled to its end stays there when what is shown changes size (a
// reply's Markdown laid out, the usage line or the settings appearing above it); one
// scrolled up to read stays where it is.
const BOTTOM_SLACK_PX = 48;
let atBottom = true;
function scrollToBottom() {
  atBottom = true;
  els.conversation.scrollTop = els.conversation.scrollHeight;
}
function keepBottomInView() {
  const conv = els.conversation;
  conv.addEventListener('scroll', () => {
    atBottom = conv.scrollHeight - conv.scrollTop - conv.clientHeight <= BOTTOM_SLACK_PX;
  }, { passive: true });
  if (typeof ResizeObserver !== 'function') return;
  const follow = new ResizeObserver(() => {
    if (atBottom) conv.scrollTop = conv.scrollHeight;
  });
  follow.observe(conv);
  follow.observe(els.messages);
}

/* ---------- sending ---------- */

async function sendMessage() {
  const raw = els.composer.value;
  const content = raw.trim();
  if (!content || state.sending || isPending(state.currentId)) return;
  state.sending = true;
  setBusy(1);
  updateComposer();
  els.composer.value = '';
  resizeComposer();
  let chatId = state.currentId;
  try {
    if (!chatId) chatId = (await createChat()).id;
    const res = await api('POST', `/api/messages?chat=${enc(chatId)}`, { content });
    state.replyErrors.delete(chatId);
    upsertChat(res.chat);
    if (state.currentId === chatId) appendMessage(res.message);
  } catch (err) {
    if (!els.composer.value) {
      els.composer.value = raw; // give the text back so nothing is lost
      resizeComposer();
    }
    showError(err.message);
    return;
  } finally {
    state.sending = false;
    setBusy(-1);
    updateComposer();
  }
  loadChats(); // the title may have been set from the first message
  await requestReply(chatId);
}

// Asks for a reply to the chat's last message; `extra` may name a reply to
// `regenerate`. With models picked under "Compare", each of them answers.
async function requestReply(chatId, extra = {}) {
  if (isPending(chatId)) return;
  state.pendingReplies.add(chatId);
  state.replyErrors.delete(chatId);
  setBusy(1);
  if (state.currentId === chatId) {
    renderMessages();
    scrollToBottom();
  }
  try {
    // 202 at once: the reply is written by a worker and arrives on the socket (or poll).
    const res = await api('POST', `/api/reply?chat=${enc(chatId)}`, Object.assign(replyModels(chatId), extra));
    if (res.chat) upsertChat(res.chat);
    const several = (res.generations || []).length > 1;
    if (res.message && state.currentId === chatId && !extra.regenerate && !several) appendMessage(res.message);
    else if (res.message && state.currentId === chatId) syncOpenChat(false);
    for (const g of res.generations || [res.generation]) applyGeneration(g);
  } catch (err) {
    if (err.code === 'generation_running') await refreshGeneration(chatId);
    else state.replyErrors.set(chatId, err.message);
  } finally {
    state.pendingReplies.delete(chatId);
    if (state.currentId === chatId) {
      renderMessages();
      scrollToBottom();
    }
    setBusy(-1);
  }
  loadChats();
}

// A generation's news, from the 202, the socket, a poll or Stop.
function failureText(g) {
  const wait = g.retry_after ? ` (the provider asks to wait ${g.retry_after} s)` : '';
  return `${g.message || 'The reply failed.'}${wait}`;
}
function applyGeneration(g) {
  if (!g || typeof g.chat !== 'string') return;
  const chatId = g.chat;
  if (g.status === 'running') {
    const ids = state.running.get(chatId) || new Set();
    ids.add(g.id);
    state.running.set(chatId, ids);
    schedulePoll();
  } else {
    const ids = state.running.get(chatId);
    if (!ids || !ids.has(g.id)) return; // an older or finished one
    ids.delete(g.id);
    if (!ids.size) state.running.delete(chatId);
    if (g.status === 'failed' || g.status === 'timed_out') state.replyErrors.set(chatId, failureText(g));
    if (g.status === 'done' || state.currentId === chatId) syncAfterGeneration(chatId);
  }
  renderChatList();
  if (state.currentId === chatId) {
    renderMessages();
    scrollToBottom();
  }
}

function syncAfterGeneration(chatId) {
  loadChats();
  if (state.currentId === chatId && !state.loadingMessages) syncOpenChat(false);
}

// Where the chat's generation stands (after a reload, or a 409).
async function refreshGeneration(chatId) {
  try {
    const res = await api('GET', `/api/generation?chat=${enc(chatId)}`);
    if (res.generation && res.generation.status === 'running') applyGeneration(res.generation);
    return res.generation || null;
  } catch (_) {
    /* the chat view still works; the next poll or event will tell */
    return null;
  }
}

let pollTimer = null;
function schedulePoll() {
  if (pollTimer || !state.running.size) return;
  pollTimer = setTimeout(async () => {
    pollTimer = null;
    const all = [];
    for (const ids of state.running.values()) all.push(...ids);
    for (const id of all) {
      try {
        const res = await api('GET', `/api/generation?id=${enc(id)}`);
        applyGeneration(res.generation);
      } catch (err) {
        if (err.status === 404) {
          for (const [chat, ids] of state.running) {
            ids.delete(id);
            if (!ids.size) state.running.delete(chat);
          }
        }
      }
    }
    renderMessages();
    schedulePoll();
  }, GENERATION_POLL_MS);
}

async function stopReply(chatId) {
  if (!state.running.has(chatId)) return;
  try {
    const res = await api('POST', `/api/stop?chat=${enc(chatId)}`);
    for (const g of res.generations || [res.generation]) applyGeneration(g);
  } catch (err) {
    showError(err.message);
  }
}

function updateComposer() {
  const blocked = state.sending || isPending(state.currentId);
  els.send.disabled = blocked;
  els.form.setAttribute('aria-busy', blocked ? 'true' : 'false');
}

function resizeComposer() {
  const lines = els.composer.value.split('\n').length;
  els.composer.rows = Math.min(8, Math.max(1, lines));
}

/* ---------- usage, cost and per-chat settings ---------- */

const numberFmt = new Intl.NumberFormat();

// Dollars as a person reads them: cents when large, two significant digits when tiny.
function usd(cost) {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) return '';
  if (cost === 0) return '$0.00';
  if (cost >= 0.01) return `$${cost.toFixed(2)}`;
  if (cost < 0.000001) return '<$0.000001';
  return `$${Number(cost.toPrecision(2))}`;
}

function usageText(u) {
  if (!u || typeof u.input_tokens !== 'number') return '';
  const parts = [`${numberFmt.format(u.input_tokens)} in · ${numberFmt.format(u.output_tokens)} out`];
  const cost = usd(u.cost_usd);
  if (cost) parts.push(cost);
  return parts.join(' · ');
}

function renderUsage() {
  const u = state.currentChat && state.currentChat.usage;
  const spent = u && (u.input_tokens || u.output_tokens || u.unpriced_replies);
  els.chatUsage.hidden = !spent;
  if (!spent) return;
  // A total of $0 over replies without a price would be a guess: leave it out.
  const cost = u.cost_usd > 0 || !u.unpriced_replies ? `, ${usd(u.cost_usd)}` : '';
  let text = `This chat: ${numberFmt.format(u.input_tokens)} tokens in, ${numberFmt.format(u.output_tokens)} out${cost}`;
  if (u.unpriced_replies) {
    const n = u.unpriced_replies;
    text += ` (+ ${n} ${n === 1 ? 'reply' : 'replies'} with no known price)`;
  }
  els.chatUsage.textContent = text;
}

function modelFacts(provider, model) {
  const { p, m } = findModel(provider, model);
  const facts = [`${(p && p.name) || provider}: ${(m && m.name) || model}`];
  if (m && m.context_window) facts.push(`reads ${numberFmt.format(m.context_window)} tokens`);
  if (m && typeof m.input_price === 'number' && typeof m.output_price === 'number') {
    facts.push(`$${m.input_price} in / $${m.output_price} out per million tokens`);
  } else {
    facts.push('no known price');
  }
  return facts.join(' · ');
}

// The form shows the open chat's settings, with the ranges of its model.
function renderSettings() {
  const chat = state.currentChat;
  els.settingsToggle.disabled = !chat;
  if (!chat) {
    toggleSettings(false);
    return;
  }
  // Open on this chat: keep what the user is typing, update the model's facts.
  if (!els.settings.hidden) fillSettings(chat, els.settings.dataset.chat !== chat.id);
}

function fillSettings(chat, values = true) {
  const s = chat.settings || {};
  const { p, m } = findModel(chat.provider, chat.model);
  els.settings.dataset.chat = chat.id;
  els.settingsModel.textContent = modelFacts(chat.provider, chat.model);
  if (values) {
    els.settingsSystem.value = s.system || '';
    els.settingsTemperature.value = typeof s.temperature === 'number' ? String(s.temperature) : '';
    els.settingsMaxTokens.value = typeof s.max_tokens === 'number' ? String(s.max_tokens) : '';
  }
  els.settingsTemperature.max = String(p && typeof p.max_temperature === 'number' ? p.max_temperature : 2);
  if (m && m.max_output_tokens) els.settingsMaxTokens.max = String(m.max_output_tokens);
  else els.settingsMaxTokens.removeAttribute('max');
}

function toggleSettings(open) {
  const show = Boolean(open && state.currentChat);
  els.settings.hidden = !show;
  els.settingsToggle.setAttribute('aria-expanded', show ? 'true' : 'false');
  if (show) fillSettings(state.currentChat);
}

// Empty fields go back to the model's defaults; the server checks the ranges and says
// them when a value is outside.
async function saveSettings() {
  const id = state.currentId;
  if (!id) return;
  const number = (input) => (input.value.trim() === '' ? null : Number(input.value));
  const body = {
    system: els.settingsSystem.value.trim() ? els.settingsSystem.value : null,
    temperature: number(els.settingsTemperature),
    max_tokens: number(els.settingsMaxTokens),
  };
  try {
    const chat = await api('PATCH', `/api/chat?id=${enc(id)}`, body);
    upsertChat(chat);
    if (id === state.currentId) fillSettings(chat);
    clearBanner();
    toggleSettings(false);
  } catch (err) {
    showError(`Settings not saved: ${err.message}`);
  }
}

/* ---------- branches: versions, edit, regenerate, compare, tree ---------- */

// Where a message is one of several versions: its siblings and its place among them.
function versionsOf(id) {
  const tree = (state.currentChat && state.currentChat.tree) || [];
  for (const point of tree) {
    const index = (point.children || []).findIndex((c) => c.id === id);
    if (index >= 0) return { siblings: point.children, index };
  }
  return null;
}

function renderBranchControls(node, m) {
  const slot = node.querySelector('.msg-branch');
  if (!slot) return;
  const versions = versionsOf(m.id);
  const pending = isPending(state.currentId);
  const key = `${versions ? `${versions.index}/${versions.siblings.length}` : ''}|${pending}|${state.editingId === m.id}`;
  if (slot.dataset.key === key) return;
  slot.dataset.key = key;
  const parts = [];
  if (versions) {
    const { siblings, index } = versions;
    const prev = h('button', { type: 'button', className: 'icon-btn', dataset: { testid: 'version-prev' }, disabled: pending || index === 0, attrs: { 'aria-label': 'Previous version' } }, '‹');
    const next = h('button', { type: 'button', className: 'icon-btn', dataset: { testid: 'version-next' }, disabled: pending || index === siblings.length - 1, attrs: { 'aria-label': 'Next version' } }, '›');
    prev.addEventListener('click', () => switchBranch(siblings[index - 1].id));
    next.addEventListener('click', () => switchBranch(siblings[index + 1].id));
    parts.push(h('span', { className: 'msg-versions', dataset: { testid: 'versions' } }, prev, `${index + 1}/${siblings.length}`, next));
  }
  if (m.role === 'user') {
    const edit = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'edit' }, disabled: pending }, 'Edit');
    edit.addEventListener('click', () => startEdit(node, m));
    parts.push(edit);
  } else if (m.role === 'assistant') {
    const again = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'regenerate' }, disabled: pending }, 'Regenerate');
    again.addEventListener('click', () => requestReply(state.currentId, { regenerate: m.id }));
    parts.push(again);
  }
  const fork = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'fork' }, disabled: pending }, 'Fork');
  fork.title = 'Continue in a new chat from here (the history is shared, not copied)';
  fork.addEventListener('click', () => forkFrom(m.id));
  parts.push(fork);
  slot.replaceChildren(...parts);
}

async function forkFrom(messageId) {
  const chatId = state.currentId;
  if (!chatId) return;
  try {
    const chat = await api('POST', `/api/fork?chat=${enc(chatId)}`, { message: messageId });
    upsertChat(chat);
    await openChat(chat.id);
  } catch (err) {
    showError(err.message);
  }
}

async function switchBranch(messageId) {
  const chatId = state.currentId;
  if (!chatId || isPending(chatId)) return;
  try {
    const res = await api('POST', `/api/branch?chat=${enc(chatId)}`, { message: messageId });
    upsertChat(res.chat);
    await syncOpenChat(false);
  } catch (err) {
    showError(err.message);
  }
}

// Editing a question writes a new version next to it and asks for a reply to it.
function startEdit(node, m) {
  if (state.editingId) return;
  state.editingId = m.id;
  const bubble = node.querySelector('.bubble');
  const box = h('textarea', { className: 'edit-box', dataset: { testid: 'edit-box' }, rows: 3 });
  box.value = String(m.content || '');
  const save = h('button', { type: 'submit', className: 'btn btn-primary btn-small', dataset: { testid: 'edit-save' } }, 'Save and ask');
  const cancel = h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'edit-cancel' } }, 'Cancel');
  const form = h('form', { className: 'edit-form' }, box, h('div', { className: 'edit-actions' }, cancel, save));
  const close = () => {
    form.remove();
    bubble.hidden = false;
    state.editingId = null;
    renderMessages();
  };
  cancel.addEventListener('click', close);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const content = box.value.trim();
    if (!content) return;
    const chatId = state.currentId;
    save.disabled = true;
    try {
      const res = await api('POST', `/api/edit?chat=${enc(chatId)}`, { message: m.id, content });
      close();
      upsertChat(res.chat);
      await syncOpenChat(false);
      await requestReply(chatId);
    } catch (err) {
      save.disabled = false;
      showError(err.message);
    }
  });
  bubble.hidden = true;
  bubble.after(form);
  renderMessages();
  box.focus();
}

// Models picked under "Compare" answer too, next to the chat's own model.
function replyModels(chatId) {
  const chat = state.chats.find((c) => c.id === chatId) || state.currentChat;
  if (!state.compare.size || !chat) return {};
  const own = modelKey(chat.provider, chat.model);
  const keys = [own].concat(Array.from(state.compare).filter((k) => k !== own)).slice(0, 3);
  if (keys.length < 2) return {};
  return { models: keys.map(parseModelKey) };
}

function renderCompare() {
  const options = [];
  for (const p of state.providers) {
    if (!p.available) continue;
    for (const m of p.models || []) {
      const key = modelKey(p.id, m.id);
      const box = h('input', { type: 'checkbox', value: key, checked: state.compare.has(key) });
      box.addEventListener('change', () => {
        if (box.checked && state.compare.size >= 2) {
          box.checked = false;
          showError('Compare asks at most two more models next to the chat\'s own.');
          return;
        }
        if (box.checked) state.compare.add(key);
        else state.compare.delete(key);
        renderCompareSummary();
      });
      options.push(h('label', { className: 'compare-option' }, box, ` ${p.name || p.id}: ${m.name || m.id}`));
    }
  }
  els.compareList.replaceChildren(...options);
  renderCompareSummary();
}

function renderCompareSummary() {
  const n = state.compare.size;
  els.compareSummary.textContent = n ? `Compare: +${n} model${n === 1 ? '' : 's'}` : 'Compare models';
}

function toggleTree(open) {
  const show = Boolean(open && state.currentChat);
  els.treePanel.hidden = !show;
  els.treeToggle.setAttribute('aria-expanded', show ? 'true' : 'false');
  renderTree();
}

function renderTree() {
  const chat = state.currentChat;
  els.treeToggle.disabled = !chat || !(chat.tree && chat.tree.length);
  if (els.treePanel.hidden) return;
  if (!chat || !chat.tree || !chat.tree.length || typeof window.drawChatTree !== 'function') {
    els.treePanel.replaceChildren(h('p', { className: 'muted' }, 'This conversation has one branch.'));
    return;
  }
  const svg = window.drawChatTree(chat.tree, chat.message_count, (id) => {
    toggleTree(false);
    switchBranch(id);
  });
  els.treePanel.replaceChildren(svg);
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

/* ---------- live updates (WebSocket) ---------- */

const socket = { ws: null, delay: 1000, retryTimer: null, pingTimer: null, pongTimer: null };
const changedChats = new Set();
let changeTimer = null;

function setConnStatus(kind, text) {
  els.connStatus.dataset.state = kind;
  els.connStatus.textContent = text;
}

function socketOpen() {
  return Boolean(socket.ws && socket.ws.readyState === WebSocket.OPEN);
}

async function connectSocket() {
  socket.retryTimer = null;
  let query = '';
  if (state.tokenRequired) {
    // The socket's connect handler sees no cookie: a single-use ticket admits it.
    try {
      const res = await api('GET', '/api/ws-ticket');
      query = `?ticket=${enc(res.ticket)}`;
    } catch (_) {
      scheduleReconnect();
      return;
    }
  }
  let ws;
  try {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws${query}`);
  } catch (_) {
    scheduleReconnect();
    return;
  }
  socket.ws = ws;
  setConnStatus('connecting', 'Connecting…');
  ws.addEventListener('open', () => {
    socket.delay = 1000;
    setConnStatus('live', 'Live updates on');
    socket.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'ping' }));
      clearTimeout(socket.pongTimer);
      socket.pongTimer = setTimeout(() => ws.close(), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
    // Back after an outage (a restart of the actor): a "cannot reach" notice is stale.
    if (els.notices.textContent.includes(NETWORK_ERROR)) clearBanner();
    refreshAll(); // catch up on anything missed while disconnected
  });
  ws.addEventListener('message', (e) => {
    clearTimeout(socket.pongTimer);
    handleSocketMessage(e.data);
  });
  ws.addEventListener('close', () => {
    clearInterval(socket.pingTimer);
    clearTimeout(socket.pongTimer);
    if (socket.ws === ws) socket.ws = null;
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (socket.retryTimer) return;
  const delay = socket.delay;
  socket.delay = Math.min(socket.delay * 2, MAX_BACKOFF_MS);
  setConnStatus('offline', `Live updates offline, retrying in ${Math.round(delay / 1000)}s`);
  socket.retryTimer = setTimeout(connectSocket, delay);
}

function handleSocketMessage(raw) {
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch (_) {
    return;
  }
  if (!msg) return;
  if (msg.type === 'generation') applyGeneration(msg.generation);
  if (msg.type !== 'changed') return;
  noteChange(typeof msg.chat === 'string' ? msg.chat : null);
}

// Coalesce bursts of events (a send produces several) into one refresh.
function noteChange(chatId) {
  changedChats.add(chatId);
  if (!changeTimer) changeTimer = setTimeout(flushChanges, 80);
}

function flushChanges() {
  changeTimer = null;
  const touchesCurrent = Boolean(state.currentId) && (changedChats.has(state.currentId) || changedChats.has(null));
  changedChats.clear();
  loadChats();
  if (touchesCurrent) syncOpenChat(false);
}

function refreshAll() {
  if (document.body.dataset.ready !== '1') return;
  loadChats();
  if (state.currentId && !state.loadingMessages) syncOpenChat(false);
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
  // Without a socket, refresh when the user comes back to the tab.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !socketOpen()) refreshAll();
  });
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
