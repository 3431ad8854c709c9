// The open chat's messages: pages of history, rendering, sending, and following the
// replies being written.
// Part of the page's script: app.js holds the state, helpers and wiring these use
// (every file is loaded before app.js, which starts the page). Everything from the
// server is untrusted and only ever rendered as text.
'use strict';

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
  else if (state.startingNew) text = 'A new chat: type your first message below to start it.';
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
    h('span', { className: 'notice-text' }, h('strong', {}, 'No reply. '), sentence(message)),
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
